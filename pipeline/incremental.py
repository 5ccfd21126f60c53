"""The run's use of the run cache (:mod:`pipeline.cache`): which files to validate again, and
which feedback workbooks are still current.

* :func:`validate_month` validates, in one GX batch, only the units whose problems are not in
  the cache under a key holding everything they depend on (:func:`report_key`: the unit's
  accepted files and the sheets of each that count), and takes the others' problems from the
  cache. The problems are then sorted exactly as a cold run
  sorts them (:func:`pipeline.problems.sort_problems`: by severity and position; problems of one
  file keep the order GX gave them, which does not depend on the other files in the batch).
* :class:`PlanBlocks` keeps, per unit and kind, the rendering of the unit's rows in the regency
  workbook's consolidated sheets (``RB Umum``, ``RB Tematik``), keyed by the unit's plan rows
  (:func:`plan_digests`), its name, its problems on rows and the code version: a re-run writes
  the renderings of unchanged units again instead of rendering them (the same bytes:
  :func:`pipeline.publish.styles.write_streamed_table` uses a rendering only when the column
  widths, formats and link count it was made with still hold).
* :func:`history_rows` is :func:`pipeline.history.plan_rows` (each plan row as the history
  stores it, JSON included) with each unit's rows kept under the digest of its plan rows.
* :func:`view_digest` is the fingerprint of everything a feedback workbook's renderer sees
  (:class:`pipeline.publish.feedback.UnitView`): its plan rows (hashed from the frame, type-aware,
  :func:`plan_digests`) and every other field of the view, with the code version. Equal
  fingerprints give equal bytes: rendering is a pure function of the view.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pipeline import cache as run_cache
from pipeline.cache import KIND_HISTORY_ROWS, KIND_PLAN_ROWS, KIND_PROBLEMS, RunCache, key_of
from pipeline.problems import EXPECTATIONS_DIR, Problem, sort_problems

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.model import RunResult, Submission, ValidationResult
    from pipeline.publish.styles import RenderedRows
    from pipeline.registry import Period, Registry


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def validate_month(
    rows: pd.DataFrame,
    submissions: list[Submission],
    *,
    period: Period,
    registry: Registry,
    previous: pd.DataFrame | None,
    cache: RunCache,
    expectations_dir: Path | None = None,
) -> ValidationResult:
    """:func:`pipeline.validate.validate` of the month, with the problems of units whose report
    is unchanged from ``cache`` (and the problems of the units checked now kept in it).
    ``expectations_dir``: other rule files than the default ones (their content is part of the
    cache key).

    The cache's grain is a unit's report (its accepted files together), not a file: RB-E114
    counts codes over the report, which may be split by sheet kind over two files, and which of
    a file's sheets count depends on the unit's other files (:func:`report_key`)."""
    from pipeline.validate import validate

    context = _context_key(period, registry, expectations_dir)
    previous_of = _previous_digests(previous)
    reports: dict[str, list[Submission]] = {}
    for s in submissions:
        if s.accepted:
            reports.setdefault(s.unit or "", []).append(s)
    keys = {
        unit: report_key(context, unit, subs, previous_of.get(unit, ""))
        for unit, subs in reports.items()
    }
    kept: dict[str, list[Problem]] = {}
    for unit, key in keys.items():
        value = cache.get(KIND_PROBLEMS, key)
        if isinstance(value, list) and all(isinstance(p, Problem) for p in value):
            kept[unit] = value
    changed = {unit for unit in keys if unit not in kept}
    files = {s.name for unit in changed for s in reports[unit]}
    result = validate(
        rows,
        submissions,
        period=period,
        registry=registry,
        previous=previous,
        files=files,
        expectations_dir=expectations_dir or EXPECTATIONS_DIR,
    )
    unit_of = {s.name: unit for unit, subs in reports.items() for s in subs}
    found: dict[str, list[Problem]] = {unit: [] for unit in changed}
    for p in result.problems:
        found.setdefault(unit_of.get(p.file or "", p.unit or ""), []).append(p)
    for unit in changed:
        cache.put(KIND_PROBLEMS, keys[unit], found[unit])
    cache.stats["berkas_diperiksa_gx"] += len(files)
    result.problems = sort_problems([p for ps in kept.values() for p in ps] + result.problems)
    return result


def _context_key(period: Period, registry: Registry, rules: Path | None = None) -> str:
    """What every file's problems depend on beside the file: the code (the default rule suites
    included), other rule files when given, the period, the reference lists and the settings."""
    return key_of(
        KIND_PROBLEMS,
        run_cache.code_version(),
        _rules_digest(rules) if rules else None,
        str(period),
        sorted((name, list(values)) for name, values in registry.references.items()),
        dataclasses.asdict(registry.settings),
    )


def _rules_digest(folder: Path) -> str:
    """SHA-256 of the rule files of ``folder`` (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def report_key(context: str, unit: str, subs: list[Submission], previous: str) -> str:
    """The key of one unit's problems: the context, the unit, each of its accepted files
    (name, content, and the sheets whose rows count: another file of the unit may supply a
    kind) and the digest of the unit's rows of the previous month."""
    files = sorted(
        (s.name, s.sha256, sorted((a.kind, a.sheet) for a in s.sheets if a.use == "used"))
        for s in subs
    )
    return key_of(context, unit, files, previous)


def _previous_digests(previous: pd.DataFrame | None) -> dict[str, str]:
    """Per unit, the digest of its rows in the previous month's snapshot (RB-W102 compares
    with them)."""
    if previous is None or previous.empty or "_unit" not in previous:
        return {}
    hashes = row_hashes(previous)
    head = repr([(str(c), str(t)) for c, t in previous.dtypes.items()]).encode()
    out = {}
    for unit, at in previous.groupby("_unit", sort=False, dropna=False).indices.items():
        out[str(unit)] = hashlib.sha256(head + hashes[at].tobytes()).hexdigest()
    return out


# --------------------------------------------------------------------------------------------
# Feedback workbooks
# --------------------------------------------------------------------------------------------


def row_hashes(frame: pd.DataFrame) -> Any:
    """One 64-bit hash per row of ``frame`` over every value *and its type*. pandas hashes an
    object column through its values' text, where ``"1.0"`` and ``1.0`` meet; a column whose
    present values are all text is exact that way (a missing value is None or NaN alike, and
    both are shown the same), any other object column has its values' type names hashed too."""
    import numpy as np
    import pandas as pd
    from pandas.api.types import infer_dtype

    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    mixed = []
    for name in frame.columns:
        if frame[name].dtype != object:
            continue
        values = frame[name].to_numpy()
        present = values[~pd.isna(values)]
        if len(present) and infer_dtype(present, skipna=False) != "string":
            mixed.append(name)
    if mixed:
        type_name = np.frompyfunc(lambda v: type(v).__name__, 1, 1)
        kinds = pd.DataFrame({c: type_name(frame[c].to_numpy()) for c in mixed})
        hashes = hashes ^ (pd.util.hash_pandas_object(kinds, index=False).to_numpy() * 31)
    return hashes


def plan_digests(plans: pd.DataFrame) -> dict[str, str]:
    """Per unit code, the digest of its rows of ``Metrics.plans`` (in frame order)."""
    if plans.empty:
        return {}
    hashes = row_hashes(plans)
    head = repr([(str(c), str(t)) for c, t in plans.dtypes.items()]).encode()
    return {
        str(unit): hashlib.sha256(head + hashes[at].tobytes()).hexdigest()
        for unit, at in plans.groupby("_unit", sort=False).indices.items()
    }


def view_digest(view: Any, plans: dict[str, str]) -> str:
    """The fingerprint of a feedback view (see the module docstring); ``plans`` is
    :func:`plan_digests` of the run."""
    fields = {f.name: getattr(view, f.name) for f in dataclasses.fields(view) if f.name != "plans"}
    digest = hashlib.sha256(run_cache.code_version().encode())
    digest.update(plans.get(view.kode or "", "").encode())
    digest.update(str(len(view.plans)).encode())
    for part in _fingerprint(fields):
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def _fingerprint(value: Any) -> Iterable[str]:
    """An unambiguous text walk of ``value``: type names with every leaf's ``repr``, dicts in
    their order, sets sorted, dataclasses field by field."""
    kind = type(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield f"<{kind.__name__}"
        for f in dataclasses.fields(value):
            yield f"{f.name}="
            yield from _fingerprint(getattr(value, f.name))
        yield ">"
    elif isinstance(value, dict):
        yield f"{{{kind.__name__}"
        for k, v in value.items():
            yield from _fingerprint(k)
            yield ":"
            yield from _fingerprint(v)
        yield "}"
    elif isinstance(value, list | tuple):
        yield f"[{kind.__name__}"
        for v in value:
            yield from _fingerprint(v)
            yield ","
        yield "]"
    elif isinstance(value, set | frozenset):
        yield f"({kind.__name__}"
        yield from sorted("".join(_fingerprint(v)) for v in value)
        yield ")"
    elif isinstance(value, str | int | float | bool | Path | dt.date | dt.time) or value is None:
        yield f"{kind.__name__}:{value!r};"
    else:
        yield f"{kind.__module__}.{kind.__qualname__}:{value!r};"


# --------------------------------------------------------------------------------------------
# The regency workbook's consolidated sheets
# --------------------------------------------------------------------------------------------


class PlanBlocks:
    """Each unit's rendered rows of the consolidated sheets, in the run cache (``rekap/``)."""

    def __init__(self, cache: RunCache, run: RunResult, plans: dict[str, str]) -> None:
        self._cache = cache
        self._plans = plans  # plan_digests of the run
        self._name_of = run.registry.name_of
        self._problems: dict[str, list[Problem]] = {}
        for p in run.problems:
            if p.row is not None and isinstance(p.unit, str):
                self._problems.setdefault(p.unit, []).append(p)
        self._version = run_cache.code_version()

    def key(self, kind: str, unit: str) -> str:
        """Everything a unit's rendered rows of ``kind`` depend on beside the column layout
        (checked when the rendering is used): its rows, name and problems, the code."""
        digest = hashlib.sha256()
        parts = [self._version, kind, unit, self._name_of(unit), self._plans.get(unit, "")]
        for part in _fingerprint([*parts, self._problems.get(unit, [])]):
            digest.update(part.encode("utf-8"))
        return digest.hexdigest()

    def get(self, key: str, *, rows: int) -> tuple[RenderedRows, list[float]] | None:
        """The rendering kept under ``key`` and its columns' widest values, when it is one of
        ``rows`` rows."""
        from pipeline.publish.styles import RenderedRows

        value = self._cache.get(KIND_PLAN_ROWS, key)
        if not isinstance(value, list) or len(value) != 2:
            return None
        contents, data = value
        rendered = RenderedRows.from_plain_data(data)
        if rendered is None or len(rendered.cells) != rows:
            return None
        if not isinstance(contents, list) or not all(type(c) in (int, float) for c in contents):
            return None
        return rendered, [float(c) for c in contents]

    def put(self, key: str, rendered: RenderedRows, contents: list[float] | None) -> None:
        if contents is not None:
            self._cache.put(KIND_PLAN_ROWS, key, [contents, rendered.to_plain_data()])


# --------------------------------------------------------------------------------------------
# The history's plan rows
# --------------------------------------------------------------------------------------------


def history_rows(plans: pd.DataFrame, cache: RunCache, digests: dict[str, str]) -> list[tuple]:
    """:func:`pipeline.history.plan_rows` of ``plans`` (in its order), each unit's rows taken
    from ``cache`` when its plan rows (``digests``: :func:`plan_digests` of ``plans``) are
    unchanged, the others made in one go and kept."""
    from pipeline.history import plan_rows

    if plans.empty or "_unit" not in plans:
        return plan_rows(plans)
    version = run_cache.code_version()
    out: list[tuple | None] = [None] * len(plans)
    missed: list[tuple[str | None, Any]] = []
    for unit, at in plans.groupby("_unit", sort=False, dropna=False).indices.items():
        key = None
        if isinstance(unit, str) and unit in digests:
            key = key_of(KIND_HISTORY_ROWS, version, unit, digests[unit])
            value = cache.get(KIND_HISTORY_ROWS, key)
            if isinstance(value, list) and _history_value(value, len(at)):
                for i, row in zip(at, value, strict=True):
                    out[i] = row
                continue
        missed.append((key, at))
    if missed:
        import numpy as np

        positions = np.concatenate([at for _, at in missed])
        made = plan_rows(plans.iloc[positions])
        start = 0
        for key, at in missed:
            rows = made[start : start + len(at)]
            start += len(at)
            for i, row in zip(at, rows, strict=True):
                out[i] = row
            if key is not None:
                cache.put(KIND_HISTORY_ROWS, key, rows)
    return cast(list[tuple], out)


def _history_value(value: object, count: int) -> bool:
    """True when a kept value is ``count`` history plan rows (tuples of seven plain values)."""
    return (
        isinstance(value, list)
        and len(value) == count
        and all(type(row) is tuple and len(row) == 7 for row in value)
    )
