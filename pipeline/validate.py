"""Validation: the month's staged rows against the rule suites in ``expectations/``.

In: the staged rows (``docs/contracts.md``), the submissions (their sheet layouts), the period,
the registry and, optionally, last month's accepted rows. Out: a :class:`ValidationResult` with
the rows (choice values normalised to the reference spelling) and one :class:`Problem` per
failing cell, located in the unit's own file.

How it is split:

* pandas derives the helper columns the rules need (``_tw_tutup`` closed quarter,
  ``_tertinggal`` behind target, ``_kode_kembar`` how often a code occurs in the unit, ...);
  Great Expectations gives every verdict.
* One GX validation per suite per call, whatever the number of files: ``rb_umum`` over all
  ``umum`` rows of the month, ``rb_tematik`` over all ``tematik`` rows, ``struktur`` over one
  row per header column of every accepted sheet (plus one per missing column).
* :func:`_problems` is the one place where GX results become Problems.

The suites are hand-maintained JSON (the source of truth for codes, messages and hints;
``tests/test_suites.py`` cross-checks them against :mod:`pipeline.schema`). Each expectation's
``meta`` names the field whose cell is reported; ``pesan``/``saran`` may hold placeholders:
``{judul}`` the field's printed header, ``{nilai}`` the value as the unit wrote it, ``{bantuan}``
the field's help text, and ``{<column>}`` any column of the validated frame (``{anggaran}``).
The Sasaran/Tema/Satuan lists are deployment data (``inputs/referensi.csv``), passed to GX as
``{"$PARAMETER": "<list name>"}`` values.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline import model, schema
from pipeline.errors import RunError
from pipeline.gx import RUNS, build_suite, run_suite
from pipeline.problems import EXPECTATIONS_DIR, Problem, display_value, sort_problems
from pipeline.registry import Period, Registry

__all__ = ["RUNS", "validate", "load_suite", "SUITE_FILES"]

ROW_SUITES = {kind: f"rb_{kind}.json" for kind in schema.KINDS}
STRUCTURE_SUITE = "struktur.json"
SUITE_FILES = (*ROW_SUITES.values(), STRUCTURE_SUITE)  # the order validate() runs them in
# Provenance GX returns with every failing row; ``_idx`` points back into the validated frame.
PROVENANCE = ["_unit", "_file", "_sheet", "_row", "_idx"]
META_KEYS = ("code", "severity", "field", "pesan", "saran")

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
) -> model.ValidationResult:
    """Check the month's staged rows and sheet layouts; never raises for bad data.

    ``period`` gives the closed and running quarter; when it is None each row takes the period
    of its submission (``Submission.period``), and rows without one skip the closed-quarter
    rules (RB-E109, RB-E112). ``previous`` (last month's accepted staged rows, may be None)
    feeds RB-W102, matched on unit, sheet kind and Kode RA. A cell ingest already reported
    (RB-E011: a formula whose value is unknown) gets no further problem. Raises
    :class:`RunError` only when a suite is broken or a rule cannot run.
    """
    staged = normalise_choices(conform(rows), registry)
    closed, running = _quarters(staged, submissions, period)
    frame = _rule_frame(
        staged,
        closed=closed,
        running=running,
        previous=conform(previous) if previous is not None else None,
        threshold=float(registry.settings.ambang_realisasi_persen),
    )
    structure = _structure_frame(submissions)
    parameters = {name: list(values) for name, values in registry.references.items()}

    start = time.perf_counter()
    # Every suite is checked before any runs: a broken file stops the run at once.
    suites = [load_suite(Path(expectations_dir) / name) for name in SUITE_FILES]
    frames = [*(_of_kind(frame, kind) for kind in schema.KINDS), structure]
    problems: list[Problem] = []
    for suite, data in zip(suites, frames, strict=True):
        result = run_suite(
            suite.gx_suite,
            data,
            index_columns=PROVENANCE,
            parameters=parameters,
            source=suite.path.name,
        )
        problems += _problems(result, data)
    known = _cells_reported_by_ingest(submissions)
    problems = [p for p in problems if (p.file, p.sheet, p.row, p.column) not in known]
    return model.ValidationResult(
        rows=staged,
        problems=sort_problems(problems),
        gx_runs=len(suites),
        gx_seconds=time.perf_counter() - start,
        suite_versions={suite.name: suite.versi for suite in suites},
    )


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


# --------------------------------------------------------------------------------------------
# Staged rows: conformed copy and choice normalisation
# --------------------------------------------------------------------------------------------


def conform(rows: pd.DataFrame | None) -> pd.DataFrame:
    """A copy of staged rows with every contract column present, a fresh RangeIndex, text as
    stripped str or None, numbers as float.

    A number field holding something that is not a number (a contract breach upstream) keeps
    that text in ``_raw_<field>`` so it is reported (RB-E103) rather than silently lost."""
    out = (rows if rows is not None else pd.DataFrame()).reset_index(drop=True).copy()
    n = len(out)

    def column(name: str) -> pd.Series:
        return out[name] if name in out else pd.Series([None] * n, dtype=object)

    for name in ("_unit", "_file", "_sheet", "_kind"):
        out[name] = _text(column(name))
    out["_row"] = pd.to_numeric(column("_row"), errors="coerce").fillna(0).astype(int)
    for f in schema.FIELDS:
        out[f"_col_{f.name}"] = _text(column(f"_col_{f.name}"))
        if f.is_number:
            given = column(f.name)
            number = pd.to_numeric(given, errors="coerce").astype(float)
            raw = _text(column(f"_raw_{f.name}"))
            unreadable = given.notna() & number.isna() & raw.isna()
            out[f"_raw_{f.name}"] = raw.where(~unreadable, _text(given))
            out[f.name] = number
        else:
            out[f.name] = _text(column(f.name))
    return out


def _text(series: pd.Series) -> pd.Series:
    """Stripped text, None for missing or blank cells (object dtype, so GX sees None)."""

    def one(value: object) -> str | None:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return None
        text = display_value(value) if isinstance(value, float) else str(value)
        text = (text or "").strip()
        return text or None

    return pd.Series([one(v) for v in series], index=series.index, dtype=object)


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
        out[f.name] = pd.Series(
            [spelling.get(choice_key(v), v) if v is not None else None for v in out[f.name]],
            index=out.index,
            dtype=object,
        )
    return out


# --------------------------------------------------------------------------------------------
# Helper columns (pandas) for the row suites
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
    """Kode RA compared without case and spaces (``u-01`` and ``U-01 `` are the same code)."""
    return pd.Series(
        ["".join(v.split()).casefold() if v is not None else None for v in series],
        index=series.index,
        dtype=object,
    )


def _last_before(frame: pd.DataFrame, fields: tuple[str, ...], q: int) -> pd.Series:
    """Per row, the last filled value among ``fields`` of quarters before ``q`` (NaN if none):
    cumulative values are compared with the latest earlier one, skipping empty quarters."""
    return frame[list(fields[: q - 1])].ffill(axis=1).iloc[:, -1]


def _rule_frame(
    staged: pd.DataFrame,
    *,
    closed: np.ndarray,
    running: np.ndarray,
    previous: pd.DataFrame | None,
    threshold: float,
) -> pd.DataFrame:
    """The staged rows plus the helper columns the row suites refer to (both kinds together,
    so that RB-E114 counts a code across RB Umum and RB Tematik)."""
    frame = staged.copy()
    n = len(frame)
    frame["_tw_tutup"] = closed
    frame["_tw_berjalan"] = running
    realisasi = frame[list(schema.REALISASI_FIELDS)]
    frame["_ada_realisasi"] = (realisasi > 0).any(axis=1).to_numpy(dtype=bool)
    behind = np.zeros(n, dtype=bool)
    for q in schema.QUARTERS:
        behind |= (closed == q) & (frame[f"realisasi_tw{q}"] < frame[f"target_tw{q}"]).to_numpy(
            dtype=bool
        )
    frame["_tertinggal"] = behind
    for q in schema.QUARTERS[1:]:
        frame[f"_target_sebelum_tw{q}"] = _last_before(frame, schema.TARGET_FIELDS, q)
        frame[f"_realisasi_sebelum_tw{q}"] = _last_before(frame, schema.REALISASI_FIELDS, q)
    frame["_ambang_persen"] = threshold
    for q in schema.QUARTERS:
        frame[f"_batas_realisasi_tw{q}"] = (
            frame[f"target_tw{q}"] * threshold / 100 * (1 + THRESHOLD_TOLERANCE)
        )
    key = _code_key(frame["kode"])
    # One accepted file per unit in a run; in ``check`` files of an unknown unit ("?") must not
    # be compared with each other, hence the file in the key.
    frame["_kode_kembar"] = (
        frame.assign(_k=key).groupby(["_unit", "_file", "_k"])["_k"].transform("size")
    ).astype(float)
    last = _previous_targets(frame.assign(_k=key), previous)
    for q in schema.QUARTERS:
        frame[f"_target_lalu_tw{q}"] = last[f"target_tw{q}"].to_numpy(dtype=float)
    return frame


def _of_kind(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The rows of one sheet kind, with ``_idx`` = their position (GX hands it back)."""
    rows = frame[frame["_kind"] == kind].reset_index(drop=True)
    return rows.assign(_idx=np.arange(len(rows)))


def _previous_targets(frame: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Last month's targets of each row's action plan (same unit, kind and Kode RA), NaN where
    there is none; the row order of ``frame`` is kept."""
    targets = list(schema.TARGET_FIELDS)
    keys = ["_unit", "_kind", "_k"]
    if previous is None or previous.empty:
        return pd.DataFrame(np.nan, index=frame.index, columns=targets)
    before = (
        previous.assign(_k=_code_key(previous["kode"]))
        .dropna(subset=["_k"])
        .drop_duplicates(subset=keys)[keys + targets]
    )
    return frame[keys].merge(before, on=keys, how="left")[targets].set_axis(frame.index)


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
    ``{judul}``), ``_col_judul`` its column letter (None when missing), ``_field`` the canonical field (None
    for an unknown column), ``_wajib`` whether the template requires the column (optional
    fields such as Anggaran may be left out). Located at the sheet's first header row, where a
    single-row or vertically merged header cell holds its text."""
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


def _problems(result: Any, frame: pd.DataFrame) -> list[Problem]:
    """Every failing row of every expectation in ``result`` as a located Problem.

    The expectation's ``meta.field`` is the field whose cell is reported: its column letter is
    ``_col_<field>`` and its value ``_raw_<field>`` (the text as typed) or else ``<field>``,
    both read from ``frame`` at the row GX returned as ``_idx``. Unit, file, sheet and Excel row
    come from GX's provenance columns. In the structure frame the reported field is the row's
    own ``_field``. Problems without a column (a missing column) carry no row either."""
    cache: dict[str, list | None] = {}

    def cell(name: str, i: int) -> object:
        if name not in cache:
            cache[name] = frame[name].tolist() if name in frame else None
        values = cache[name]
        if values is None:
            return None
        value = values[i]
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else value

    problems = []
    for item in result.results:
        meta = item.expectation_config.meta
        field = meta["field"]
        for record in item.result.get("unexpected_index_list") or []:
            i = int(record["_idx"])
            column = cell(f"_col_{field}", i)
            raw = cell(f"_raw_{field}", i)
            value = raw if raw is not None else cell(field, i)
            reported = cell("_field", i) if "_field" in frame else field

            def fill(text: str, *, i=i, value=value, reported=reported) -> str:
                return _fill(text, lambda name: cell(name, i), field=reported, value=value)

            problems.append(
                Problem(
                    code=meta["code"],
                    severity=meta["severity"],
                    message=fill(meta["pesan"]),
                    hint=fill(meta["saran"]),
                    unit=record["_unit"],
                    file=record["_file"],
                    sheet=record["_sheet"],
                    row=int(record["_row"]) if column and record["_row"] is not None else None,
                    column=column,
                    field=reported,
                    value=display_value(value),
                )
            )
    return problems


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
