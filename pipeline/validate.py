"""Validation: the month's staged rows against the rule suites in ``expectations/``.

In: the staged rows (``docs/contracts.md``), the submissions (their sheet layouts), the period,
the registry and, optionally, last month's accepted rows. Out: a :class:`ValidationResult` with
the rows (choice values normalised to the reference spelling) and one :class:`Problem` per
failing cell, located in the unit's own file.

How it is split:

* pandas derives the helper columns the rules need; Great Expectations gives every verdict.
* One GX validation per suite per call, whatever the number of files: ``rb_umum`` and
  ``rb_tematik`` each over one frame holding every action plan of its sheet kind in the month,
  ``struktur`` over one row per header column of every accepted sheet (plus one per missing
  column).
* A sheet kind's frame (:func:`suite_frame`) is the union of two levels of rows:

  - **plan rows**, one per action plan, for the rules about a plan as a whole: annual target
    (RB-E108), budget (RB-E110), conditional fields (RB-E111..E113) and duplicate codes
    (RB-E114), with the plan helpers ``_ada_realisasi``, ``_tertinggal`` and ``_kode_kembar``;
  - **cell rows**, one per (action plan, field) for every field a per-field rule concerns
    (always-required fields and number fields: :func:`cell_fields`), with the columns
    :data:`CELL_COLUMNS`: ``field``; ``isi`` the value; ``angka`` the number; ``mentah`` text
    that is not a number; ``seri`` (``target`` / ``realisasi``); ``satuan`` the plan's Satuan
    (on targets and realisations only: budgets are in Rupiah); ``sebelumnya`` the latest filled
    earlier quarter of the same series; ``lalu`` last month's target; ``target`` and ``batas``
    the same quarter's target and the warning threshold over it; and the flags that select a
    family's cells: ``wajib`` (must hold a value: an always-required field whose column exists
    and holds no unreadable text, which is RB-E103's case), ``tutup`` (the same for the
    realisation of a closed quarter) and ``berjalan`` (a quarter already running).

  Each family (RB-E101..E107, E109, W101, W102) is then ONE expectation whose row condition
  selects its cells, instead of one expectation per field: 17 expectations per sheet kind
  instead of 65 (RB-E102 keeps one per reference list, on the choice cells). GX's cost per
  expectation is fixed (tens of milliseconds whatever the rows, half of it spent re-serialising
  row conditions), so this is most of the saving on a regency month. Row conditions are single
  comparisons on flags where they can be: every part costs again in each of the metrics GX
  computes per expectation, each of which also runs ``DataFrame.query`` (a filtered copy).
* A column belongs to one level and is empty on the other level's rows (NaN, False or a
  missing category), which every rule skips: value rules ignore missing values, pair rules use
  ``ignore_row_if: either_value_is_missing``, and each not-null rule's row condition requires
  a flag or value of its own level. So no level column is needed in any condition. (Keeping
  RB-E108 and RB-E110..E114 on cell rows instead would shrink the frame by the plan-level
  columns, at most about 30% of GX's time at 200,000 rows, for three more cell rows per plan.)
* The frame given to GX holds only ``_idx`` (its row number, the one column GX hands back for a
  failing row: GX's cost per failing row grows with the columns it returns), ``_rencana`` (the
  row's action plan in the staged rows), ``field`` and the columns the suite names
  (:func:`suite_columns`). GX's cost per row grows with the frame's width: it fingerprints the
  whole frame and copies it for every row condition; both cost most on Python objects, so text
  (and the mixed values of ``isi``) is categorical.
* :func:`_problems` is the one place where GX results become Problems: through ``_idx`` it finds
  the cell's field and action plan, then the unit, file, sheet, row, column letter and value in
  the staged rows.

The suites are hand-maintained JSON (the source of truth for codes, messages and hints;
``tests/test_suites.py`` cross-checks them against :mod:`pipeline.schema`). Each expectation's
``meta.field`` names the field whose cell is reported, or is ``{field}`` for a per-field family:
the cell's own field. ``pesan``/``saran`` may hold placeholders: ``{judul}`` the field's printed
header, ``{nilai}`` the value as the unit wrote it, ``{bantuan}`` the field's help text, and
``{<column>}`` any column of the validated row or of its action plan (``{angka}``,
``{anggaran}``). The Sasaran/Tema/Satuan lists are deployment data (``inputs/referensi.csv``),
passed to GX as ``{"$PARAMETER": "<list name>"}`` values.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from pipeline import model, schema, spellings
from pipeline import staged as staged_rows
from pipeline.errors import RunError
from pipeline.gx import build_suite, failing_rows, run_suite
from pipeline.plain import display_value, is_missing
from pipeline.problems import EXPECTATIONS_DIR, Problem, sort_problems
from pipeline.registry import Period, Registry

__all__ = [
    "SUITE_FILES",
    "cell_fields",
    "load_suite",
    "suite_columns",
    "suite_frame",
    "suite_versions",
    "validate",
]

ROW_SUITES = {kind: f"rb_{kind}.json" for kind in schema.KINDS}
STRUCTURE_SUITE = "struktur.json"
SUITE_FILES = (*ROW_SUITES.values(), STRUCTURE_SUITE)  # the order validate() runs them in
META_KEYS = ("code", "severity", "field", "pesan", "saran")

# The row number GX hands back for a failing row; everything else is read through it.
INDEX = "_idx"
# The action plan a row of a sheet kind's frame belongs to (position in the staged rows).
PLAN = "_rencana"
# ``meta.field`` of a per-field family: the reported field is the cell row's own ``field``.
CELL_FIELD = "{field}"
CELL_COLUMNS = (
    "field",
    "isi",
    "angka",
    "mentah",
    "seri",
    "satuan",
    "sebelumnya",
    "lalu",
    "target",
    "batas",
    "wajib",
    "tutup",
    "berjalan",
)
# The cumulative series a quarterly field belongs to (the ``seri`` of its cell rows).
SERIES = {
    **dict.fromkeys(schema.TARGET_FIELDS, "target"),
    **dict.fromkeys(schema.REALISASI_FIELDS, "realisasi"),
}

# When the period is unknown (``check`` on a file without one) no quarter counts as closed and
# every quarter counts as running: closed-quarter rules are skipped, the others still apply.
UNKNOWN_CLOSED, UNKNOWN_RUNNING = 0, 4
# A realisation exactly at the threshold is fine; the tolerance keeps float rounding
# (0.7 * 1.5 = 1.0499999...) from turning that boundary into a warning.
THRESHOLD_TOLERANCE = 1e-9

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def validate(
    rows: pd.DataFrame,
    submissions: list[model.Submission],
    *,
    period: Period | None,
    registry: Registry,
    previous: pd.DataFrame | None = None,
    expectations_dir: Path = EXPECTATIONS_DIR,
    files: set[str] | None = None,
    suite_pool: Executor | None = None,
) -> model.ValidationResult:
    """Check the month's staged rows and sheet layouts; never raises for bad data.

    ``period`` gives the closed and running quarter; when it is None each row takes the period
    of its submission (``Submission.period``), and rows without one skip the closed-quarter
    rules (RB-E109, RB-E112). ``previous`` (last month's accepted staged rows, may be None)
    feeds RB-W102, matched on unit, sheet kind and Kode RA. A cell ingest already reported
    (RB-E011: a formula whose value is unknown) gets no further problem. Raises
    :class:`RunError` only when a suite is broken or a rule cannot run.

    ``files``: the names of the files whose rows and sheets are checked (None: every file); the
    rows of all files are returned. Every rule reads one unit's rows (RB-E114 counts codes over
    a unit's report, which may be split over two files; RB-W102 compares with the unit's own
    last month), so a unit's problems are the same whichever other units are checked with it,
    as long as ``files`` holds all of its accepted files: the run cache
    (:mod:`pipeline.incremental`) checks only the units whose files changed, in one GX batch,
    and none at all (GX not even imported) when nothing changed.

    ``suite_pool`` (optional): an executor whose worker processes run the suites side by side
    (:func:`check_in_worker`, each worker loading and keeping the suite files itself). The
    portal's check of one file uses it: there GX's fixed cost per suite is nearly all the time.
    The month run does not: its rule frames are large, and two copies would not fit its memory
    budget at 5,000 units.
    """
    staged = normalise_choices(staged_rows.check(rows), registry)
    checked, submissions = staged, list(submissions)
    if files is not None:
        checked = staged[staged["_file"].isin(files).to_numpy(dtype=bool)].reset_index(drop=True)
        submissions = [s for s in submissions if s.name in files]
        if not files:
            return model.ValidationResult(
                rows=staged, problems=[], suite_versions=suite_versions(expectations_dir)
            )
    closed, running = _quarters(checked, submissions, period)
    plans = _rule_frame(
        checked,
        reports=_reports(checked, submissions),
        closed=closed,
        running=running,
        previous=previous,
        threshold=float(registry.settings.ambang_realisasi_persen),
    )
    parameters = {name: list(values) for name, values in registry.references.items()}

    start = time.perf_counter()
    problems: list[Problem] = []
    runs: Counter[str] = Counter()
    versions: dict[str, str] = {}
    if suite_pool is not None:
        jobs = [
            suite_pool.submit(
                check_in_worker, str(Path(expectations_dir) / name), plans, submissions, parameters
            )
            for name in SUITE_FILES
        ]
        gx_seconds = 0.0
        for job in jobs:
            found, seconds, name, versi, worker_runs = job.result()
            problems += found
            gx_seconds += seconds
            versions[name] = versi
            runs.update(worker_runs)
    else:
        # Every suite is checked before any runs: a broken file stops the run at once.
        suites = {name: load_suite(Path(expectations_dir) / name) for name in SUITE_FILES}
        gx_seconds = time.perf_counter() - start
        for suite in suites.values():
            found, seconds = _check(suite, plans, submissions, parameters, runs)
            problems += found
            gx_seconds += seconds
            versions[suite.name] = suite.versi
    known = _cells_reported_by_ingest(submissions)
    problems = [p for p in problems if (p.file, p.sheet, p.row, p.column) not in known]
    return model.ValidationResult(
        rows=staged,
        problems=sort_problems(problems),
        gx_runs=sum(runs.values()),
        suite_runs=dict(runs),
        gx_seconds=gx_seconds,
        suite_versions=versions,
    )


# Suites loaded by a worker process of a ``suite_pool``, by (path, mtime): kept for its life.
_WORKER_SUITES: dict[tuple[str, int], Suite] = {}


def check_in_worker(
    path: str,
    plans: pd.DataFrame,
    submissions: list[model.Submission],
    parameters: dict[str, Any],
) -> tuple[list[Problem], float, str, str, Counter[str]]:
    """One suite's check in a ``suite_pool`` worker: (problems, GX seconds, name, version, GX
    runs by suite name)."""
    suite = _worker_suite(path)
    runs: Counter[str] = Counter()
    found, seconds = _check(suite, plans, submissions, parameters, runs)
    return found, seconds, suite.name, suite.versi, runs


def _worker_suite(path: str) -> Suite:
    key = (path, Path(path).stat().st_mtime_ns)
    suite = _WORKER_SUITES.get(key)
    if suite is None:
        suite = _WORKER_SUITES[key] = load_suite(Path(path))
    return suite


def preload_suites(expectations_dir: Path = EXPECTATIONS_DIR) -> None:
    """Load every suite into this worker's cache (a ``suite_pool`` worker's initializer)."""
    for name in SUITE_FILES:
        _worker_suite(str(Path(expectations_dir) / name))


def _check(
    suite: Suite,
    plans: pd.DataFrame,
    submissions: list[model.Submission],
    parameters: dict[str, Any],
    runs: Counter[str],
) -> tuple[list[Problem], float]:
    """One suite's GX run over its frame, as Problems, and the seconds GX took. The frame is
    built here and dropped on return, so that one frame at a time is in memory."""
    kinds = {name: kind for kind, name in ROW_SUITES.items()}
    if suite.path.name in kinds:
        frame = suite_frame(plans, kinds[suite.path.name], suite_columns(suite.raw))
    else:
        frame = _structure_frame(submissions)
    start = time.perf_counter()
    result = run_suite(
        suite.gx_suite,
        frame,
        index_column=INDEX,
        parameters=parameters,
        source=suite.path.name,
        runs=runs,
    )
    seconds = time.perf_counter() - start
    return _problems(result, frame, plans), seconds


def _cells_reported_by_ingest(submissions: list[model.Submission]) -> set[tuple]:
    """(file, sheet, row, column) of every cell-level problem ingest raised: such a cell's value
    is unknown (it reads as empty), so "required field empty" there would only repeat it."""
    return {
        (p.file or sub.name, p.sheet, p.row, p.column)
        for sub in submissions
        for p in sub.problems
        if p.row and p.column
    }


@dataclass(frozen=True, kw_only=True)
class Suite:
    """A suite file, loaded and checked."""

    name: str
    path: Path
    versi: str
    katalog: dict[str, dict[str, Any]]  # code -> catalogue entry (judul, deskripsi, ...)
    raw: dict[str, Any]  # the file's JSON
    gx_suite: Any  # great_expectations.ExpectationSuite


def load_suite(path: Path) -> Suite:
    """Read a suite file and check it before GX sees it; a broken file is a RunError.

    Checks: valid JSON with ``name`` and ``meta.versi``; every expectation's ``meta`` has
    code, severity, field, pesan and saran; its code is in the suite's ``katalog`` with the
    same severity; and GX kept every expectation (it silently drops unknown types)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"Berkas aturan {path} tidak ditemukan.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"Berkas aturan {path} tidak dapat dibaca: {exc}.") from None
    meta = raw.get("meta") or {}
    katalog = meta.get("katalog") or {}
    if not raw.get("name") or not meta.get("versi") or not raw.get("expectations"):
        raise RunError(
            f"Berkas aturan {path.name} tidak lengkap: perlu name, meta.versi dan expectations."
        )
    for number, item in enumerate(raw["expectations"], start=1):
        own = item.get("meta") or {}
        missing = [key for key in META_KEYS if not own.get(key)]
        if missing:
            raise RunError(
                f"Berkas aturan {path.name}, aturan ke-{number}: meta belum lengkap "
                f"({', '.join(missing)})."
            )
        entry = katalog.get(own["code"])
        if entry is None or entry.get("severity") != own["severity"]:
            raise RunError(
                f"Berkas aturan {path.name}, aturan ke-{number}: kode {own['code']} tidak ada "
                "di katalog berkas itu atau tingkatnya berbeda."
            )
    gx_suite = build_suite(raw, source=path.name)
    return Suite(
        name=raw["name"],
        path=path,
        versi=str(meta["versi"]),
        katalog=katalog,
        raw=raw,
        gx_suite=gx_suite,
    )


def suite_versions(expectations_dir: Path = EXPECTATIONS_DIR) -> dict[str, str]:
    """``{suite name: meta.versi}`` of the suite files, read without GX (what
    ``ValidationResult.suite_versions`` holds after a GX run)."""
    out = {}
    for name in SUITE_FILES:
        path = Path(expectations_dir) / name
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            out[raw["name"]] = str(raw["meta"]["versi"])
        except (OSError, ValueError, KeyError, TypeError):
            load_suite(path)  # raises the RunError that says what is wrong with the file
            raise
    return out


def suite_columns(raw: dict[str, Any]) -> list[str]:
    """Every column a suite's expectations name (their ``column``/``column_A``/``column_B``/
    ``column_list`` and the columns of their row conditions), in first-use order."""
    names: dict[str, None] = {}

    def condition(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if "column" in node and isinstance(node["column"], dict):
            names.setdefault(node["column"]["name"])
        for part in node.get("conditions") or ():
            condition(part)

    for item in raw.get("expectations") or ():
        kwargs = item.get("kwargs") or {}
        for key in ("column", "column_A", "column_B"):
            if isinstance(kwargs.get(key), str):
                names.setdefault(kwargs[key])
        for name in kwargs.get("column_list") or ():
            names.setdefault(name)
        condition(kwargs.get("row_condition"))
    return list(names)


# --------------------------------------------------------------------------------------------
# Choice normalisation
# --------------------------------------------------------------------------------------------


def choice_key(value: object) -> str:
    """Case- and space-insensitive form of a choice value: ``" persen "`` -> ``"persen"``."""
    return " ".join(str(value).split()).casefold()


def normalise_choices(rows: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Rows with each choice field (sasaran, tema, satuan) spelt as in the registry's list when
    it matches case- and space-insensitively; anything else stays as typed (RB-E102)."""
    out = rows.copy()
    for f in schema.FIELDS:
        if f.choices is None:
            continue
        spelling = {choice_key(v): v for v in registry.reference(f.choices)}
        out[f.name] = _per_distinct(out[f.name], partial(_spelt, spelling))
    return out


def _spelt(spelling: dict[str, str], value: object) -> object:
    """``value`` as the list spells it, when it matches case- and space-insensitively."""
    return spelling.get(choice_key(value), value)


def _per_distinct(series: pd.Series, change: Callable[[Any], Any]) -> pd.Series:
    """``change`` applied to each distinct non-missing value once; missing values become None."""
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    changed = np.array([*map(change, uniques), None], dtype=object)
    return pd.Series(changed[codes], index=series.index, dtype=object)


# --------------------------------------------------------------------------------------------
# Plan-level helper columns (pandas)
# --------------------------------------------------------------------------------------------


def _quarters(
    rows: pd.DataFrame, submissions: list[model.Submission], period: Period | None
) -> tuple[np.ndarray, np.ndarray]:
    """Closed and running quarter of every row: from ``period``, else from the row's
    submission period, else unknown (no closed quarter, every quarter running)."""
    n = len(rows)
    if period is not None:
        return np.full(n, period.closed_quarter), np.full(n, period.running_quarter)
    by_file: dict[str, Period] = {}
    for sub in submissions:
        try:
            by_file[sub.name] = Period.parse(sub.period or "")
        except RunError:
            continue
    found = [by_file.get(name) for name in rows["_file"]]
    closed = [p.closed_quarter if p else UNKNOWN_CLOSED for p in found]
    running = [p.running_quarter if p else UNKNOWN_RUNNING for p in found]
    return np.array(closed, dtype=int), np.array(running, dtype=int)


def _code_key(series: pd.Series) -> pd.Series:
    """Kode RA compared without case, spaces, invisible characters and dash variants
    (``u-01``, ``U–01 `` are the same code; :func:`pipeline.spellings.code_key`)."""
    return _per_distinct(series, spellings.code_key)


def _reports(rows: pd.DataFrame, submissions: Iterable[model.Submission] = ()) -> pd.Series:
    """The report each row belongs to, the group in which RB-E114 counts codes: a unit's
    accepted rows of one month, whichever file they came from (a report may be split by sheet
    kind over two files, :mod:`pipeline.ingest`). In a run every file is of the run's month;
    ``check`` may meet one unit's files of several months. A file without a unit (never in a
    run: such a file is rejected) is a report of its own. One key per file, not per row."""
    period = {sub.name: sub.period or "" for sub in submissions}
    codes, files = pd.factorize(rows["_file"].to_numpy(dtype=object), use_na_sentinel=False)
    units = rows["_unit"].to_numpy(dtype=object)
    _, first = np.unique(codes, return_index=True)
    keys = [
        f"u\0{units[at]}\0{period.get(name, '')}" if not is_missing(units[at]) else f"f\0{name}"
        for name, at in zip(files, first, strict=True)
    ]
    return pd.Series(np.array(keys, dtype=object)[codes], index=rows.index, dtype=object)


def _rule_frame(
    staged: pd.DataFrame,
    *,
    reports: pd.Series | None = None,
    closed: np.ndarray,
    running: np.ndarray,
    previous: pd.DataFrame | None,
    threshold: float,
) -> pd.DataFrame:
    """The staged rows plus the plan-level helper columns (both kinds together, so that
    RB-E114 counts a code across RB Umum and RB Tematik of a unit's report, :func:`_reports`):
    closed and running quarter, whether
    any realisation is above 0, whether the closed quarter is behind target, how often the code
    occurs in the report and where (``_kode_di``, for RB-E114's message: not given to GX), the
    realisation threshold and last month's targets. Cell rows are built from it."""
    n = len(staged)
    realisasi = staged[list(schema.REALISASI_FIELDS)]
    behind = np.zeros(n, dtype=bool)
    for q in schema.QUARTERS:
        below = (staged[f"realisasi_tw{q}"] < staged[f"target_tw{q}"]).to_numpy(dtype=bool)
        behind |= (closed == q) & below
    key = _code_key(staged["kode"])
    if reports is None:
        reports = _reports(staged)
    repeats = staged.assign(_r=reports, _k=key).groupby(["_r", "_k"])["_k"].transform("size")
    places = _duplicate_places(staged, reports, key, repeats.to_numpy() > 1)
    last = _previous_targets(staged.assign(_k=key), previous)
    return staged.assign(
        _tw_tutup=closed,
        _tw_berjalan=running,
        _ada_realisasi=(realisasi > 0).any(axis=1).to_numpy(dtype=bool),
        _tertinggal=behind,
        _kode_kembar=repeats.astype(float),
        _kode_di=places,
        _ambang_persen=threshold,
        **{f"_target_lalu_tw{q}": last[f"target_tw{q}"].to_numpy(float) for q in schema.QUARTERS},
    )


MAX_PLACES = 5  # cells an RB-E114 message lists before "dan N lainnya"


def _duplicate_places(
    staged: pd.DataFrame, reports: pd.Series, key: pd.Series, duplicated: np.ndarray
) -> np.ndarray:
    """For each row whose code occurs more than once in its report, every cell holding that
    code (``RB Umum!A5, RB Tematik!A7``; each with its file when the report's copies are in
    several files, as in a report split by sheet kind); None elsewhere. Only duplicated rows
    are visited."""
    out = np.full(len(staged), None, dtype=object)
    at = np.flatnonzero(duplicated)
    if not len(at):
        return out
    rows = staged.iloc[at]
    cells = [
        (schema.cell_ref(sheet, col, row) or str(sheet), file)
        for sheet, col, row, file in zip(
            rows["_sheet"], rows["_col_kode"], rows["_row"], rows["_file"], strict=True
        )
    ]
    groups: dict[tuple[object, object], list[int]] = {}
    for i, group in enumerate(zip(reports.to_numpy()[at], key.to_numpy()[at], strict=True)):
        groups.setdefault(group, []).append(i)
    for members in groups.values():
        several = len({cells[i][1] for i in members}) > 1
        shown = [
            f"{cell} (berkas {file})" if several else cell
            for cell, file in (cells[i] for i in members[:MAX_PLACES])
        ]
        if len(members) > MAX_PLACES:
            shown.append(f"dan {len(members) - MAX_PLACES} lainnya")
        text = ", ".join(shown)
        for i in members:
            out[at[i]] = text
    return out


def _previous_targets(frame: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Last month's targets of each row's action plan (same unit, kind and Kode RA), NaN where
    there is none; the row order of ``frame`` is kept."""
    targets = list(schema.TARGET_FIELDS)
    keys = ["_unit", "_kind", "_k"]
    if previous is None or previous.empty:
        return pd.DataFrame(np.nan, index=frame.index, columns=targets)
    previous = previous.reset_index(drop=True)

    def column(name: str) -> pd.Series:
        return previous[name] if name in previous else pd.Series([None] * len(previous))

    before = pd.DataFrame(
        {
            "_unit": staged_rows.text(column("_unit")),
            "_kind": staged_rows.text(column("_kind")),
            "_k": _code_key(staged_rows.text(column("kode"))),
            **{t: pd.to_numeric(column(t), errors="coerce").astype(float) for t in targets},
        }
    )
    before = before.dropna(subset=["_k"]).drop_duplicates(subset=keys)
    return frame[keys].merge(before, on=keys, how="left")[targets].set_axis(frame.index)


# --------------------------------------------------------------------------------------------
# A sheet kind's frame for GX: plan rows and cell rows
# --------------------------------------------------------------------------------------------


def cell_fields(kind: str) -> tuple[schema.Field, ...]:
    """The fields of a sheet kind that get one cell row per action plan: those a per-field
    rule concerns (always-required fields and number fields)."""
    return tuple(f for f in schema.SHEETS[kind].fields if f.requirement == "always" or f.is_number)


def suite_frame(plans: pd.DataFrame, kind: str, columns: Iterable[str]) -> pd.DataFrame:
    """The frame a sheet kind's suite validates: first one row per action plan of ``kind`` in
    ``plans`` (:func:`_rule_frame`), then one row per (action plan, cell field) in field order.

    Columns: ``_idx`` (row number), ``_rencana`` (the action plan's position in ``plans``),
    ``field`` (None on plan rows), then each of ``columns`` that a level carries: a cell column
    (:data:`CELL_COLUMNS`) only on cell rows, any other column of ``plans`` only on plan rows;
    empty on the other level's rows (NaN, False or a missing category). Text (and the mixed
    values of ``isi``) is categorical: Python objects are what makes GX's fingerprint of the
    frame and its filtered copies expensive. A column neither level carries is left out, so GX
    reports the rule that names it as unable to run."""
    positions = np.flatnonzero((plans["_kind"] == kind).to_numpy(dtype=bool))
    fields = cell_fields(kind)
    size = len(positions) * (len(fields) + 1)
    cells = _cell_columns(plans, positions, fields)
    # int32: a month's frame stays far below 2**31 rows, and these two span every row.
    out: dict[str, Any] = {
        INDEX: np.arange(size, dtype=np.int32),
        PLAN: np.tile(positions, len(fields) + 1).astype(np.int32),
    }
    for name in ["field", *columns]:
        if name in out:
            continue
        if name in cells:
            out[name] = cells[name]()
        elif name in plans:
            out[name] = _plan_column(plans[name].to_numpy()[positions], size)
    # Not consolidated into 2-D blocks: that would copy the whole frame once more.
    return pd.DataFrame(out, copy=False)


def _plan_column(values: np.ndarray, size: int) -> Any:
    """A plan-level column over a whole frame of ``size`` rows: ``values`` on the plan rows,
    then empty (False, NaN, or a missing category: text becomes categorical)."""
    if values.dtype == object:
        every = np.full(size, None, dtype=object)
    else:
        every = np.zeros(size, dtype=bool) if values.dtype.kind == "b" else np.full(size, np.nan)
    every[: len(values)] = values
    return _categorical(every) if every.dtype == object else every


def _categorical(values: np.ndarray) -> pd.Categorical:
    """Object values as a categorical, categories in order of appearance (text and numbers
    together cannot be sorted); missing values stay missing."""
    codes, categories = pd.factorize(values)
    return pd.Categorical.from_codes(codes, pd.Index(categories, dtype=object))


def _cell_columns(
    plans: pd.DataFrame, positions: np.ndarray, fields: tuple[schema.Field, ...]
) -> dict[str, Callable[[], Any]]:
    """How to build each of the :data:`CELL_COLUMNS` over a sheet kind's whole frame: empty on
    its plan rows, then one block of rows per field (see the module docstring for what each
    column means). Built only when a suite names the column, straight into its final array."""
    n = len(positions)
    cache: dict[str, np.ndarray] = {}

    def plan(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = plans[name].to_numpy()[positions]
        return cache[name]

    def each(empty: Any, dtype: Any, value: Callable[[schema.Field], Any]) -> np.ndarray:
        """``empty`` on the plan rows, ``value(f)`` (an array or one value) on f's block."""
        every = np.full(n * (len(fields) + 1), empty, dtype=dtype)
        for block, f in enumerate(fields, start=1):
            every[block * n : (block + 1) * n] = value(f)
        return every

    def numbers(value: Callable[[schema.Field], Any]) -> Callable[[], np.ndarray]:
        return lambda: each(np.nan, float, value)

    def flags(value: Callable[[schema.Field], Any]) -> Callable[[], np.ndarray]:
        return lambda: each(False, bool, value)

    def values(value: Callable[[schema.Field], Any]) -> Callable[[], Any]:
        # Categorical, like plan-level text: cheaper for GX to copy and fingerprint than objects.
        return lambda: _categorical(each(None, object, value))

    def categories(names: list[str], code: Callable[[schema.Field], Any]) -> Callable[[], Any]:
        return lambda: pd.Categorical.from_codes(
            each(-1, np.int32, code), pd.Index(names, dtype=object)
        )

    def earlier(f: schema.Field) -> Any:
        """Latest filled value of the same series in the quarters before ``f``'s."""
        last: Any = np.nan
        for q in range(1, f.quarter or 1):
            value = plan(f"{SERIES[f.name]}_tw{q}").astype(float)
            last = np.where(np.isnan(value), last, value)
        return last

    def target(f: schema.Field) -> Any:
        realised = SERIES.get(f.name) == "realisasi"
        return plan(f"target_tw{f.quarter}").astype(float) if realised else np.nan

    def threshold() -> np.ndarray:
        return plan("_ambang_persen").astype(float) / 100 * (1 + THRESHOLD_TOLERANCE)

    def fillable(f: schema.Field) -> np.ndarray:
        """The cell's column exists and holds no unreadable text (that is RB-E103's case)."""
        present = pd.notna(plan(f"_col_{f.name}"))
        return present & pd.isna(plan(f"_raw_{f.name}")) if f.is_number else present

    def units() -> Any:
        # Satuan measures targets and realisations; budgets are in Rupiah.
        codes, names = pd.factorize(plan("satuan"))
        return categories(list(names), lambda f: codes if f.name in SERIES else -1)()

    series = sorted(set(SERIES.values()))
    return {
        "field": categories([f.name for f in fields], lambda f: fields.index(f)),
        "isi": values(lambda f: plan(f.name)),
        "angka": numbers(lambda f: plan(f.name) if f.is_number else np.nan),
        "mentah": values(lambda f: plan(f"_raw_{f.name}") if f.is_number else None),
        "seri": categories(
            series, lambda f: series.index(SERIES[f.name]) if f.name in SERIES else -1
        ),
        "satuan": units,
        "sebelumnya": numbers(earlier),
        "lalu": numbers(
            lambda f: (
                plan(f"_target_lalu_tw{f.quarter}") if SERIES.get(f.name) == "target" else np.nan
            )
        ),
        "target": numbers(target),
        "batas": numbers(lambda f: target(f) * threshold()),
        "wajib": flags(lambda f: fillable(f) if f.requirement == "always" else False),
        "tutup": flags(
            lambda f: (
                fillable(f) & (plan("_tw_tutup") >= f.quarter)
                if f.requirement == "closed_quarter"
                else False
            )
        ),
        "berjalan": flags(lambda f: plan("_tw_berjalan") >= f.quarter if f.quarter else False),
    }


# --------------------------------------------------------------------------------------------
# The structure frame (one row per header column)
# --------------------------------------------------------------------------------------------

STRUCTURE_FIELDS = [
    "_unit",
    "_file",
    "_sheet",
    "_row",
    "_kind",
    "judul",
    "_col_judul",
    "_field",
    "_wajib",
]


def _structure_frame(submissions: list[model.Submission]) -> pd.DataFrame:
    """One row per header column of every action-plan sheet of the accepted submissions, plus
    one per template field the sheet lacks.

    ``judul`` is the header text (the template's for a known field, as written for an unknown
    column, None for a missing one: messages then name the template's header through
    ``{judul}``), ``_col_judul`` its column letter (None when missing), ``_field`` the canonical
    field (None for an unknown column), ``_wajib`` whether the template requires the column
    (optional fields such as Anggaran may be left out). Located at the sheet's first header
    row, where a single-row or vertically merged header cell holds its text."""
    records = []
    for sub in submissions:
        if not sub.accepted:
            continue
        for layout in sub.layouts:
            where = {
                "_unit": sub.unit or "?",
                "_file": sub.name,
                "_sheet": layout.sheet,
                "_kind": layout.kind,
            }
            header_row = layout.header_rows[0] if layout.header_rows else None
            for name, letter in layout.columns.items():
                records.append({**where, "_row": header_row, "_col_judul": letter, **_known(name)})
            for letter, text in layout.unknown_columns:
                records.append(
                    {
                        **where,
                        "_row": header_row,
                        "_col_judul": letter,
                        "judul": text,
                        "_field": None,
                        "_wajib": False,
                    }
                )
            for name in layout.missing_fields:
                records.append(
                    {**where, "_row": None, "_col_judul": None, **_known(name), "judul": None}
                )
    frame = pd.DataFrame.from_records(records, columns=STRUCTURE_FIELDS)
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.assign(_wajib=frame["_wajib"].astype(bool), _idx=np.arange(len(frame)))


def _known(name: str) -> dict[str, Any]:
    field = schema.FIELD_BY_NAME[name]
    return {"judul": field.header, "_field": name, "_wajib": field.requirement != "optional"}


# --------------------------------------------------------------------------------------------
# GX results -> Problems (the one mapping)
# --------------------------------------------------------------------------------------------


def _problems(result: Any, frame: pd.DataFrame, plans: pd.DataFrame) -> list[Problem]:
    """Every failing row of every expectation in ``result`` as a located Problem.

    GX returns each failing row as its ``_idx`` in ``frame``. A value is looked up in that row
    and, when the row has none, in its action plan's row of ``plans`` (``_rencana``; the
    structure frame has no action plan). Only failing rows are read. The reported field is ``meta.field``, or the row's own
    ``field`` for a per-field family; its column letter is ``_col_<field>`` and its value
    ``_raw_<field>`` (the text as typed) or else ``<field>``. Unit, file, sheet and Excel row
    are looked up the same way. In the structure frame the reported field is the row's own
    ``_field``. Problems without a column (a missing column) carry no row either."""
    failing = {id(item): failing_rows(item, INDEX) for item in result.results}
    # Only the failing rows (and their action plans) are read, however large the frame.
    wanted = sorted({i for found in failing.values() for i in found})
    here = frame.iloc[wanted]
    there = plans.iloc[here[PLAN].to_numpy()] if PLAN in here else None
    at = {i: k for k, i in enumerate(wanted)}
    cache: dict[tuple[bool, str], list | None] = {}

    def values(own: bool, name: str) -> list | None:
        if (own, name) not in cache:
            table = here if own else there
            cache[own, name] = table[name].tolist() if table is not None and name in table else None
        return cache[own, name]

    def look(name: str, i: int) -> object:
        found = _present(values(True, name), at[i])
        return found if found is not None else _present(values(False, name), at[i])

    def look_text(name: str, i: int) -> str | None:
        found = look(name, i)
        return None if found is None else str(found)

    problems = []
    for item in result.results:
        meta = item.expectation_config.meta
        for i in failing[id(item)]:
            field = look_text("field", i) if meta["field"] == CELL_FIELD else meta["field"]
            column = look_text(f"_col_{field}", i)
            raw = look(f"_raw_{field}", i)
            value = raw if raw is not None else look(field or "", i)
            reported = look_text("_field", i) if "_field" in frame else field
            row = look("_row", i)

            def fill(text: str, *, i=i, value=value, reported=reported) -> str:
                return _fill(text, lambda name: look(name, i), field=reported, value=value)

            problems.append(
                Problem(
                    code=meta["code"],
                    severity=meta["severity"],
                    message=fill(meta["pesan"]),
                    hint=fill(meta["saran"]),
                    unit=look_text("_unit", i),
                    file=look_text("_file", i),
                    sheet=look_text("_sheet", i),
                    row=int(cast(float, row)) if column and row is not None else None,
                    column=column,
                    field=reported,
                    value=display_value(value),
                )
            )
    return problems


def _present(values: list | None, i: int) -> object:
    """``values[i]``, or None when there is no such column or the value is missing."""
    return None if values is None or is_missing(values[i]) else values[i]


def _fill(text: str, lookup: Callable[[str], object], *, field: str | None, value: object) -> str:
    """Replace the placeholders of a message or hint (see the module docstring)."""
    spec = schema.FIELD_BY_NAME.get(field or "")

    def one(match: re.Match) -> str:
        name = match.group(1)
        found = lookup(name)
        if found is not None:
            return display_value(found) or ""
        if name == "judul" and spec:
            return spec.header
        if name == "bantuan" and spec:
            return spec.help
        if name == "nilai":
            return display_value(value) or ""
        return ""

    return _PLACEHOLDER.sub(one, text)
