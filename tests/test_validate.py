"""Validation: every rule of the code table fires at the cell it names, and only there.

Most cases share one validation of a hand-built month (October 2025: TW III closed, TW IV
running), each case on its own Excel row, so a test can say "row 12 of RB Tematik gets exactly
RB-E105 at H12" and thereby also prove that nothing else fires on it. Separate calls cover other
periods, settings, the run counter, GX's silence and broken suites.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import textwrap
from dataclasses import replace
from itertools import cycle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import schema
from pipeline import staged as staged_rows
from pipeline.errors import RunError
from pipeline.model import SheetLayout, Submission
from pipeline.problems import EXPECTATIONS_DIR, make_problem
from pipeline.registry import Period, load_registry
from pipeline.validate import (
    CELL_COLUMNS,
    _rule_frame,
    cell_fields,
    normalise_choices,
    suite_columns,
    suite_frame,
    validate,
)

OCTOBER = Period(2025, 10)
REGISTRY = load_registry()
FILE_DINKES = "DINKES_2025-10.xlsx"
FILE_DINSOS = "DINSOS_2025-10.xlsx"

# A plan that breaks no rule in October 2025: cumulative targets, on target in the closed
# quarter, running-quarter realisation not yet reported, budget within the ceiling.
CLEAN = {
    "tema": "Pengentasan Kemiskinan",
    "sasaran": "Birokrasi yang Bersih dan Akuntabel",
    "permasalahan": "Data penerima bansos belum padan",
    "indikator": "Persentase data terverifikasi",
    "rencana_aksi": "Verifikasi dan validasi data",
    "output": "Data terverifikasi",
    "satuan": "Persen",
    "target_tw1": 25.0,
    "target_tw2": 50.0,
    "target_tw3": 75.0,
    "target_tw4": 100.0,
    "realisasi_tw1": 25.0,
    "realisasi_tw2": 50.0,
    "realisasi_tw3": 75.0,
    "realisasi_tw4": None,
    "anggaran": 10_000_000.0,
    "realisasi_anggaran": 7_500_000.0,
    "penanggung_jawab": "Kepala Bidang Sosial",
    "data_dukung": "https://drive.example/bukti.pdf",
    "kendala": None,
    "tindak_lanjut": None,
}
EXPLAINED = {"kendala": "Anggaran terlambat cair", "tindak_lanjut": "Percepatan pencairan"}


def staged(*plans: dict, missing: tuple[str, ...] = ()) -> pd.DataFrame:
    """A staged-rows frame (docs/contracts.md) as ingest would hand it over.

    Each plan overrides ``CLEAN``; ``_kind`` (default tematik), ``_unit``, ``_file``, ``_row``
    and ``kode`` default to DINKES, its file, the next template row from 5 and ``T-<row>``. A str
    given for a number field is text that could not be parsed (it lands in ``_raw_<field>``).
    Fields in ``missing`` have no column in the sheet."""
    records, next_row = [], {}
    for plan in plans:
        kind = plan.get("_kind", "tematik")
        sheet = schema.SHEETS[kind]
        unit = plan.get("_unit", "DINKES")
        file = plan.get("_file", f"{unit}_2025-10.xlsx")
        row = plan.get("_row", next_row.get((file, kind), 5))
        next_row[(file, kind)] = row + 1
        values = {**CLEAN, "kode": f"{sheet.code_prefix}-{row:02d}", **plan}
        record = {"_unit": unit, "_file": file, "_sheet": sheet.name, "_kind": kind, "_row": row}
        for f in schema.FIELDS:
            carried = f.name in sheet.field_names and f.name not in missing
            record[f"_col_{f.name}"] = sheet.column_letter(f.name) if carried else None
            value = values.get(f.name) if carried else None
            if f.is_number:
                text = value if isinstance(value, str) else None
                record[f.name] = float("nan") if value is None or text else float(value)
                record[f"_raw_{f.name}"] = text
            else:
                record[f.name] = value
        records.append(record)
    return staged_rows.conform(pd.DataFrame.from_records(records))


def submission(name: str, unit: str | None, layouts=(), period: str | None = "2025-10"):
    return Submission(
        path=Path(name),
        name=name,
        sha256="0" * 64,
        size=1,
        modified=dt.datetime(2025, 11, 3, 9, 0),
        format="xlsx",
        unit=unit,
        period=period,
        layouts=list(layouts),
    )


def template_layout(kind: str, *, unknown=(), missing=()) -> SheetLayout:
    sheet = schema.SHEETS[kind]
    return SheetLayout(
        kind=kind,
        sheet=sheet.name,
        header_rows=(schema.TEMPLATE_HEADER_ROW,),
        first_data_row=schema.TEMPLATE_FIRST_DATA_ROW,
        columns={n: sheet.column_letter(n) for n in sheet.field_names if n not in missing},
        unknown_columns=tuple(unknown),
        missing_fields=tuple(missing),
    )


def problems_at(result, file: str, sheet: str, row: int) -> set[tuple[str, str | None]]:
    return {
        (p.code, p.cell)
        for p in result.problems
        if p.file == file and p.sheet == sheet and p.row == row
    }


# --------------------------------------------------------------------------------------------
# One October month, one validation
# --------------------------------------------------------------------------------------------

# (case, plan overrides, expected problems as (code, column letter) in RB Tematik)
TEMATIK_CASES = [
    ("clean plan", {}, set()),
    (
        "Persen targets above 100",
        {f"target_tw{q}": 120.0 for q in (1, 2, 3, 4)} | EXPLAINED,
        {("RB-E105", c) for c in "HIJK"},
    ),
    ("Persen annual target above 100", {"target_tw4": 150.0}, {("RB-E105", "K")}),
    (
        "Persen exactly 100 everywhere",
        {f"target_tw{q}": 100.0 for q in (1, 2, 3, 4)}
        | {f"realisasi_tw{q}": 100.0 for q in (1, 2, 3)},
        set(),
    ),
    ("satuan typed loosely is accepted", {"satuan": "  PERSEN "}, set()),
    ("satuan not in the list", {"satuan": "Persenan"}, {("RB-E102", "G")}),
    ("tema not in the list", {"tema": "Kemiskinan"}, {("RB-E102", "B")}),
    ("tema typed loosely is accepted", {"tema": "pengentasan   KEMISKINAN"}, set()),
    ("indikator empty", {"indikator": None}, {("RB-E101", "D")}),
    ("target empty", {"target_tw2": None}, {("RB-E101", "I")}),
    ("target not a number: RB-E103, not RB-E101", {"target_tw2": "lima puluh"}, {("RB-E103", "I")}),
    ("negative realisation", {"realisasi_tw1": -5.0}, {("RB-E104", "L")}),
    ("negative budget", {"anggaran": -1.0, "realisasi_anggaran": None}, {("RB-E104", "P")}),
    ("target decreases", {"target_tw3": 40.0, "realisasi_tw3": 50.0}, {("RB-E106", "J")}),
    (
        "target equal across quarters",
        {f"target_tw{q}": 100.0 for q in (1, 2, 3, 4)}
        | {f"realisasi_tw{q}": 100.0 for q in (1, 2, 3)},
        set(),
    ),
    (
        "target decreases after an empty quarter",
        {
            "target_tw2": None,
            "target_tw3": 20.0,
            "realisasi_tw1": 10.0,
            "realisasi_tw2": 15.0,
            "realisasi_tw3": 20.0,
        },
        {("RB-E101", "I"), ("RB-E106", "J")},
    ),
    ("realisation decreases", {"realisasi_tw3": 40.0} | EXPLAINED, {("RB-E107", "N")}),
    (
        "annual target zero",
        {f"target_tw{q}": 0.0 for q in (1, 2, 3, 4)} | {f"realisasi_tw{q}": 0.0 for q in (1, 2, 3)},
        {("RB-E108", "K")},
    ),
    ("closed-quarter realisation empty", {"realisasi_tw3": None}, {("RB-E109", "N")}),
    ("running-quarter realisation reported", {"realisasi_tw4": 90.0}, set()),
    ("budget realisation above budget", {"realisasi_anggaran": 12_000_000.0}, {("RB-E110", "Q")}),
    ("budget realisation equal to budget", {"realisasi_anggaran": 10_000_000.0}, set()),
    ("no budget at all", {"anggaran": None, "realisasi_anggaran": None}, set()),
    ("realisation without data dukung", {"data_dukung": None}, {("RB-E111", "S")}),
    (
        "no realisation, no data dukung needed",
        {"realisasi_tw1": 0.0, "realisasi_tw2": 0.0, "realisasi_tw3": 0.0, "data_dukung": None}
        | EXPLAINED,
        set(),
    ),
    ("behind target without kendala", {"realisasi_tw3": 60.0}, {("RB-E112", "T")}),
    ("behind target, explained", {"realisasi_tw3": 60.0} | EXPLAINED, set()),
    ("behind only in an earlier quarter: no kendala needed", {"realisasi_tw1": 20.0}, set()),
    ("kendala without tindak lanjut", {"kendala": "Server sering mati"}, {("RB-E113", "U")}),
    ("realisation above 150% of target", {"realisasi_tw1": 40.0}, {("RB-W101", "L")}),
    ("realisation exactly 150% of target", {"realisasi_tw1": 37.5}, set()),
    ("150% boundary despite float rounding", {"target_tw1": 0.41, "realisasi_tw1": 0.615}, set()),
    ("realisation against a zero target", {"target_tw1": 0.0, "realisasi_tw1": 5.0}, set()),
    ("target changed since last month", {"kode": "T-90", "target_tw2": 55.0}, {("RB-W102", "I")}),
    ("target unchanged since last month", {"kode": "T-91"}, set()),
    ("formula without a stored value (RB-E011 from ingest)", {"indikator": None}, set()),
    ("code used in both sheets", {"kode": "RA-01"}, {("RB-E114", "A")}),
]
UMUM_CASES = [
    ("clean plan", {}, set()),
    ("sasaran not in the list", {"sasaran": "Birokrasi Bersih"}, {("RB-E102", "B")}),
    ("sasaran typed loosely is accepted", {"sasaran": "birokrasi yang KAPABEL "}, set()),
    ("Persen realisation above 100", {"realisasi_tw4": 101.0}, {("RB-E105", "N")}),
    ("code used in both sheets", {"kode": "ra-01 "}, {("RB-E114", "A")}),
]
FIRST_ROW = 5


def _rows(cases, kind):
    return [{"_kind": kind, "_row": FIRST_ROW + i, **plan} for i, (_, plan, _) in enumerate(cases)]


CLEAN_UNITS = [u for u in REGISTRY.codes if u not in ("DINKES", "DINSOS")][:30]


@pytest.fixture(scope="module")
def october():
    """The month: DINKES (template layout, one unknown column) holding every case; DINSOS
    with a sheet that lacks the Indikator and Anggaran columns and DINKES's duplicated code;
    and 30 more units with clean files in the template layout."""
    dinsos_missing = ("indikator", "anggaran")
    rows = pd.concat(
        [
            staged(*_rows(TEMATIK_CASES, "tematik"), *_rows(UMUM_CASES, "umum")),
            staged(
                {"_unit": "DINSOS", "indikator": None, "kode": "RA-01", "realisasi_anggaran": None},
                missing=dinsos_missing,
            ),
            *(staged({"_unit": u, "_kind": k}) for u in CLEAN_UNITS for k in schema.KINDS),
        ],
        ignore_index=True,
    )
    previous = staged(
        {"kode": "T-90"},  # target_tw2 was 50, now 55
        {"kode": "T-91"},
        {"kode": "T-92", "target_tw2": 10.0},  # no longer submitted: nothing to compare
    )
    dinkes = submission(
        FILE_DINKES,
        "DINKES",
        [template_layout("umum"), template_layout("tematik", unknown=[("V", "Keterangan")])],
    )
    row = FIRST_ROW + [c for c, _, _ in TEMATIK_CASES].index(
        "formula without a stored value (RB-E011 from ingest)"
    )
    # As ingest raises it: located in the sheet, file filled in later (or not at all).
    dinkes.problems.append(
        make_problem("RB-E011", sheet="RB Tematik", row=row, column="D", field="indikator")
    )
    submissions = [
        dinkes,
        submission(FILE_DINSOS, "DINSOS", [template_layout("tematik", missing=dinsos_missing)]),
        *(
            submission(f"{u}_2025-10.xlsx", u, [template_layout(k) for k in schema.KINDS])
            for u in CLEAN_UNITS
        ),
    ]
    result = validate(rows, submissions, period=OCTOBER, registry=REGISTRY, previous=previous)
    return {"result": result, "rows": rows, "runs": result.suite_runs}


@pytest.mark.parametrize(
    "row, expected",
    [(FIRST_ROW + i, exp) for i, (_, _, exp) in enumerate(TEMATIK_CASES)],
    ids=[case for case, _, _ in TEMATIK_CASES],
)
def test_tematik_rule_fires_exactly_at_its_cell(october, row, expected):
    want = {(code, f"RB Tematik!{col}{row}") for code, col in expected}
    assert problems_at(october["result"], FILE_DINKES, "RB Tematik", row) == want


@pytest.mark.parametrize(
    "row, expected",
    [(FIRST_ROW + i, exp) for i, (_, _, exp) in enumerate(UMUM_CASES)],
    ids=[case for case, _, _ in UMUM_CASES],
)
def test_umum_rule_fires_exactly_at_its_cell(october, row, expected):
    want = {(code, f"RB Umum!{col}{row}") for code, col in expected}
    assert problems_at(october["result"], FILE_DINKES, "RB Umum", row) == want


def _one(result, code, cell):
    found = [p for p in result.problems if p.code == code and p.cell == cell]
    assert len(found) == 1, (code, cell, found)
    return found[0]


def test_persen_target_above_100_is_reported_with_message_value_and_hint(october):
    problem = _one(october["result"], "RB-E105", "RB Tematik!H6")
    assert problem.severity == "error"
    assert problem.unit == "DINKES" and problem.file == FILE_DINKES
    assert problem.field == "target_tw1" and problem.value == "120"
    assert (
        problem.message == "Target TW I bernilai 120, padahal satuannya Persen (paling besar 100)."
    )
    assert problem.hint.startswith("Untuk satuan Persen isi angka 0 sampai 100")


def test_values_are_reported_as_the_unit_wrote_them(october):
    result = october["result"]
    row = FIRST_ROW + [c for c, _, _ in TEMATIK_CASES].index("satuan not in the list")
    assert _one(result, "RB-E102", f"RB Tematik!G{row}").value == "Persenan"
    row = FIRST_ROW + [c for c, _, _ in TEMATIK_CASES].index(
        "target not a number: RB-E103, not RB-E101"
    )
    problem = _one(result, "RB-E103", f"RB Tematik!I{row}")
    assert problem.value == "lima puluh"
    assert '"lima puluh"' in problem.message


def test_messages_name_the_values_involved(october):
    result = october["result"]
    names = [c for c, _, _ in TEMATIK_CASES]
    row = FIRST_ROW + names.index("target changed since last month")
    warning = _one(result, "RB-W102", f"RB Tematik!I{row}")
    assert warning.severity == "warning"
    assert warning.message == "Target TW II berubah dari 50 (kiriman bulan lalu) menjadi 55."
    row = FIRST_ROW + names.index("target decreases")
    assert (
        "(40) lebih kecil dari target triwulan sebelumnya (50)"
        in _one(result, "RB-E106", f"RB Tematik!J{row}").message
    )
    row = FIRST_ROW + names.index("realisation above 150% of target")
    assert _one(result, "RB-W101", f"RB Tematik!L{row}").message.startswith(
        "Realisasi TW I (40) lebih dari 150% targetnya (25)"
    )
    row = FIRST_ROW + names.index("indikator empty")
    empty = _one(result, "RB-E101", f"RB Tematik!D{row}")
    assert empty.message == "Indikator wajib diisi, tetapi masih kosong."
    assert schema.FIELD_BY_NAME["indikator"].help in empty.hint


def test_duplicate_code_spans_both_sheets_of_a_unit_only(october):
    dup = [p for p in october["result"].problems if p.code == "RB-E114"]
    assert {(p.unit, p.cell) for p in dup} == {
        ("DINKES", f"RB Tematik!A{FIRST_ROW + len(TEMATIK_CASES) - 1}"),
        ("DINKES", f"RB Umum!A{FIRST_ROW + len(UMUM_CASES) - 1}"),
    }


def test_missing_column_gives_one_sheet_problem_not_one_per_row(october):
    result = october["result"]
    assert problems_at(result, FILE_DINSOS, "RB Tematik", FIRST_ROW) == set()
    structure = [p for p in result.problems if p.file == FILE_DINSOS]
    assert [(p.code, p.field, p.cell, p.row, p.value) for p in structure] == [
        ("RB-E010", "indikator", None, None, None)
    ]
    assert structure[0].message == "Kolom Indikator tidak ditemukan di lembar ini."


def test_unknown_column_is_a_warning_at_its_header_cell(october):
    unknown = [p for p in october["result"].problems if p.code == "RB-W010"]
    assert [(p.cell, p.value, p.field, p.severity) for p in unknown] == [
        ("RB Tematik!V4", "Keterangan", None, "warning")
    ]
    assert "Keterangan" in unknown[0].message


def test_choices_are_returned_in_the_reference_spelling(october):
    rows = october["result"].rows
    names = [c for c, _, _ in TEMATIK_CASES]
    tematik = rows[(rows["_kind"] == "tematik") & (rows["_unit"] == "DINKES")]
    by_row = tematik.set_index("_row")
    assert by_row.at[FIRST_ROW + names.index("satuan typed loosely is accepted"), "satuan"] == (
        "Persen"
    )
    assert by_row.at[FIRST_ROW + names.index("tema typed loosely is accepted"), "tema"] == (
        "Pengentasan Kemiskinan"
    )
    assert by_row.at[FIRST_ROW + names.index("satuan not in the list"), "satuan"] == "Persenan"
    assert len(rows) == len(october["rows"])
    assert list(rows["_row"]) == list(october["rows"]["_row"])


def test_input_rows_are_not_modified(october):
    # Staged as typed (stripped: the staged contract), not normalised to the list's "Persen".
    assert october["rows"].loc[4, "satuan"] == "PERSEN"
    assert october["result"].rows.loc[4, "satuan"] == "Persen"


def test_one_gx_run_per_suite_whatever_the_number_of_files(october):
    assert october["rows"]["_file"].nunique() == 2 + len(CLEAN_UNITS)
    assert october["result"].gx_runs == 3
    assert october["runs"] == {"rb_umum": 1, "rb_tematik": 1, "struktur": 1}
    assert october["result"].suite_versions == {
        "rb_umum": "2025.1",
        "rb_tematik": "2025.1",
        "struktur": "2025.1",
    }
    assert october["result"].gx_seconds > 0


def test_clean_files_get_no_problem(october):
    assert {p.unit for p in october["result"].problems} == {"DINKES", "DINSOS"}


# --------------------------------------------------------------------------------------------
# Every field of every sheet: the per-field rules land on that field's own cell
# --------------------------------------------------------------------------------------------

# (field, case, plan overrides for that field, the code expected at the field's cell or None)
FIELD_CASES = [
    *(
        (f.name, "empty", {f.name: None}, "RB-E101" if f.requirement == "always" else None)
        for f in schema.FIELDS
        if f.requirement in ("always", "optional")
    ),
    # October: TW I..III closed (their realisation is due), TW IV running.
    *((f"realisasi_tw{q}", "empty", {f"realisasi_tw{q}": None}, "RB-E109") for q in (1, 2, 3)),
    ("realisasi_tw4", "empty", {"realisasi_tw4": None}, None),
    *((name, "text", {name: "dua puluh"}, "RB-E103") for name in schema.NUMBER_FIELDS),
    *((name, "negative", {name: -1.0}, "RB-E104") for name in schema.NUMBER_FIELDS),
]
GROUPS = (schema.TARGET_FIELDS, schema.REALISASI_FIELDS, schema.BUDGET_FIELDS)
SWEEP = [
    (kind, field, case, plan, code)
    for kind in schema.KINDS
    for field, case, plan, code in FIELD_CASES
    if kind in schema.FIELD_BY_NAME[field].kinds
]


@pytest.fixture(scope="module")
def every_field():
    """One validation of a month where each case of :data:`SWEEP` is its own action plan."""
    plans = [
        {"_kind": kind, "_row": FIRST_ROW + i, "kode": f"K-{i}", **EXPLAINED, **plan}
        for i, (kind, _, _, plan, _) in enumerate(SWEEP)
    ]
    rows = staged(*plans)
    subs = [submission(FILE_DINKES, "DINKES", [template_layout(k) for k in schema.KINDS])]
    return validate(rows, subs, period=OCTOBER, registry=REGISTRY)


@pytest.mark.parametrize(
    "i, kind, field, code",
    [(i, kind, field, code) for i, (kind, field, _, _, code) in enumerate(SWEEP)],
    ids=[f"{kind}-{field}-{case}" for kind, field, case, _, _ in SWEEP],
)
def test_each_field_is_checked_at_its_own_cell(every_field, i, kind, field, code):
    sheet = schema.SHEETS[kind]
    row = FIRST_ROW + i
    cell = f"{sheet.name}!{sheet.column_letter(field)}{row}"
    found = problems_at(every_field, FILE_DINKES, sheet.name, row)
    at_cell = {c for c, where in found if where == cell}
    if code is None:
        assert found == set()
    else:
        assert code in at_cell
        assert "RB-E101" not in at_cell or code == "RB-E101"
        # A negative or unreadable number may also break the order of the values it goes with.
        related = next((group for group in GROUPS if field in group), (field,))
        assert {where for _, where in found} <= {
            f"{sheet.name}!{sheet.column_letter(f)}{row}" for f in related
        }


def test_the_frame_for_gx_holds_only_what_the_rules_name():
    rows = staged(*(dict(_kind="tematik") for _ in range(3)), dict(_kind="umum"))
    plans = _rule_frame(
        rows,
        closed=np.full(4, 3),
        running=np.full(4, 4),
        previous=None,
        threshold=150.0,
    )
    raw = json.loads((EXPECTATIONS_DIR / "rb_tematik.json").read_text(encoding="utf-8"))
    frame = suite_frame(plans, "tematik", suite_columns(raw))
    assert set(frame.columns) == {"_idx", "_rencana", "field", *suite_columns(raw)}
    cells = cell_fields("tematik")
    # One row per action plan, then one per (action plan, cell field).
    assert len(frame) == 3 * (1 + len(cells))
    assert frame["field"].isna().sum() == 3
    assert list(frame["_rencana"][:3]) == [0, 1, 2]
    assert list(frame["_idx"]) == list(range(len(frame)))
    # Every cell column can be asked for; plan columns stay empty on cell rows and the reverse.
    every = suite_frame(plans, "tematik", [*CELL_COLUMNS, "kendala"])
    assert set(CELL_COLUMNS) <= set(every.columns)
    assert every["kendala"][3:].isna().all() and every["isi"][:3].isna().all()


# --------------------------------------------------------------------------------------------
# Other months, settings and inputs
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_check():
    """What ``rbpipe check`` meets: no period given (each file has its own, or none), a
    deployment that raised the realisation threshold to 200%, and text columns built in pandas'
    ``str`` dtype (None becomes NaN there), conformed where staged rows are born."""
    registry = replace(REGISTRY, settings=replace(REGISTRY.settings, ambang_realisasi_persen=200))
    empty = {"realisasi_tw1": None, "realisasi_tw2": None, "realisasi_tw3": None}
    rows = staged(
        {"_file": "MEI.xlsx", **empty},
        {"_file": "MEI.xlsx", "realisasi_tw1": 45.0},
        {"_file": "MEI.xlsx", "realisasi_tw1": 60.0, "realisasi_tw2": 60.0},
        {"_file": "MEI.xlsx", "indikator": None, "satuan": "persen", "data_dukung": None},
        {"_file": "TANPA.xlsx", **empty},
        {"_file": "FEB.xlsx", **empty},
        {
            "_file": "FEB.xlsx",
            "realisasi_tw1": 10.0,
            "realisasi_tw2": 400.0,
            "realisasi_tw3": 400.0,
            "satuan": "Unit",
        },
    )
    text = [c for c in rows if c.startswith("_col_") or c in schema.TEXT_FIELDS]
    subs = [
        submission("MEI.xlsx", "DINKES", period="2025-05"),
        submission("TANPA.xlsx", None, period=None),
        submission("FEB.xlsx", "DINKES", period="2025-02"),
    ]
    rows = staged_rows.conform(rows.astype({c: "str" for c in text}))
    return validate(rows, subs, period=None, registry=registry)


def _found(result, file):
    return {(p.code, p.cell) for p in result.problems if p.file == file}


def test_without_period_a_file_of_may_has_tw1_closed_and_tw2_running(self_check):
    assert problems_at(self_check, "MEI.xlsx", "RB Tematik", 5) == {("RB-E109", "RB Tematik!L5")}


def test_without_any_period_nothing_is_due(self_check):
    assert _found(self_check, "TANPA.xlsx") == set()


def test_february_has_no_closed_quarter_and_checks_only_the_running_one(self_check):
    assert _found(self_check, "FEB.xlsx") == set()


def test_realisation_threshold_comes_from_the_settings(self_check):
    warnings = [p for p in self_check.problems if p.code == "RB-W101"]
    assert [p.cell for p in warnings] == ["RB Tematik!L7"]
    assert "lebih dari 200% targetnya" in warnings[0].message


def test_text_columns_in_pandas_string_dtype_behave_the_same(self_check):
    assert _found(self_check, "MEI.xlsx") == {
        ("RB-E109", "RB Tematik!L5"),
        ("RB-W101", "RB Tematik!L7"),
        ("RB-E101", "RB Tematik!D8"),
        ("RB-E111", "RB Tematik!S8"),
    }
    rows = self_check.rows
    assert rows.loc[3, "satuan"] == "Persen"
    assert rows.loc[3, "indikator"] is None


def test_validation_is_silent_and_opens_no_socket(capfd, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    capfd.readouterr()
    result = validate(staged({"indikator": None}), [], period=OCTOBER, registry=REGISTRY)
    assert [p.code for p in result.problems] == ["RB-E101"]
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_first_import_is_silent_offline_and_an_empty_month_is_fine():
    script = textwrap.dedent(
        """
        import logging, socket
        def refuse(*a, **k):
            raise AssertionError("network access attempted")
        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        logging.basicConfig(level=logging.INFO)
        from pipeline import staged
        from pipeline.registry import Period, load_registry
        from pipeline.validate import validate
        result = validate(staged.empty(), [], period=Period(2025, 10), registry=load_registry())
        print(result.gx_runs, len(result.problems), len(result.rows))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "3 0 0\n", "")


def test_warm_up_imports_once_for_every_thread_and_defers_what_rules_never_use():
    script = textwrap.dedent(
        """
        import sys, threading
        from pipeline import gx
        gx.warm_up()
        gx.warm_up()
        engines = []
        threads = [threading.Thread(target=lambda: engines.append(gx.engine())) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(len(engines), len({id(e) for e in engines}), gx.engine() is engines[0])
        print("scipy.stats._stats_py" in sys.modules, "altair.vegalite" in sys.modules)
        import scipy.stats
        from scipy.stats import entropy
        print(scipy.stats.norm.cdf(0.0), entropy([1, 1]) > 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["3 1 True", "False False", "0.5 True"]


# --------------------------------------------------------------------------------------------
# Broken suites stop the run
# --------------------------------------------------------------------------------------------


@pytest.fixture
def suites_copy(tmp_path):
    folder = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, folder)
    return folder


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    raw = json.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")


def _break_type(raw):
    raw["expectations"][0]["type"] = "expect_column_values_to_not_be_nul"


def _break_meta(raw):
    del raw["expectations"][0]["meta"]["saran"]


def _break_column(raw):
    # Alone in the suite, so the test does not pay for the other rules before the failure.
    raw["expectations"] = raw["expectations"][:1]
    raw["expectations"][0]["kwargs"]["column"] = "indikatorr"


def _break_parameter(raw):
    choice = next(e for e in raw["expectations"] if "value_set" in e["kwargs"])
    choice["kwargs"]["value_set"] = {"$PARAMETER": "satuann"}


@pytest.mark.parametrize(
    "change, words",
    [
        (_break_type, "tidak dikenali Great Expectations (expect_column_values_to_not_be_nul)"),
        (_break_meta, "meta belum lengkap (saran)"),
        (_break_column, "tidak dapat dijalankan"),
        (_break_parameter, "gagal dijalankan"),
    ],
    ids=["unknown type", "incomplete meta", "unknown column", "unknown parameter"],
)
def test_a_broken_suite_is_a_run_error_not_a_silent_pass(suites_copy, change, words):
    _edit(suites_copy, "rb_umum.json", change)
    rows = staged({"_kind": "umum"})
    with pytest.raises(RunError, match="rb_umum.json") as caught:
        validate(rows, [], period=OCTOBER, registry=REGISTRY, expectations_dir=suites_copy)
    assert words in str(caught.value)


# --------------------------------------------------------------------------------------------
# Choice normalisation (pure pandas)
# --------------------------------------------------------------------------------------------

REFERENCE_VALUES = [
    (f.name, v) for f in schema.FIELDS if f.choices for v in REGISTRY.reference(f.choices)
]


@settings(deadline=None)  # no timing assertions: the machine may be busy
@given(
    choice=st.sampled_from(REFERENCE_VALUES),
    upper=st.lists(st.booleans(), min_size=1),
    pads=st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=3, max_size=3),
)
def test_any_case_and_spacing_of_a_reference_value_is_normalised(choice, upper, pads):
    field, value = choice
    typed = "".join(c.upper() if up else c.lower() for c, up in zip(value, cycle(upper)))
    typed = pads[0] + typed.replace(" ", " " + pads[1]) + pads[2]
    rows = staged({"_kind": "umum" if field == "sasaran" else "tematik", field: typed})
    assert normalise_choices(rows, REGISTRY).loc[0, field] == value
