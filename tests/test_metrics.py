"""Completion metrics computed by hand on a small month and compared with compute_metrics.

The month (October 2025: running quarter 4, last closed quarter 3) has five expected units:

* A: 4 plans, one of each status; budgets with a blank realisation and a zero budget; its
  accepted file arrived late but an earlier (superseded) file arrived on time;
* B: 4 plans, three with errors (excluded from capaian+status, from anggaran, from nothing)
  and a warning; one tema outside the reference list; a target of 0; mtime just after the
  deadline;
* C: 1 plan; mtime late, but the arrival log says it came on the deadline day;
* D: did not submit (only a rejected file);
* E: 1 plan; mtime one second before the deadline ends.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import deliveries, metrics
from pipeline import staged as staged_rows
from pipeline.deliveries import parse_arrival, read_arrivals
from pipeline.errors import RunError
from pipeline.metrics import (
    INVALID_GROUP,
    STATUS_BELUM,
    STATUS_SELESAI,
    STATUS_SESUAI,
    STATUS_TERLAMBAT,
    compute_metrics,
    month_over_month,
)
from pipeline.model import Submission
from pipeline.problems import Problem, Rule
from pipeline.registry import MONTHS_ID, Period, Registry, Settings, Unit, load_registry
from pipeline.schema import FIELDS, NUMBER_FIELDS, SHEETS

OCTOBER = Period(2025, 10)
S1, S2, S3 = (
    "Birokrasi yang Bersih dan Akuntabel",
    "Birokrasi yang Kapabel",
    ("Pelayanan Publik yang Prima"),
)
KEMISKINAN, INVESTASI = "Pengentasan Kemiskinan", "Peningkatan Investasi"
NAN = math.nan


def rule(code: str, *metric_names: str) -> Rule:
    return Rule(
        code=code,
        severity="error" if code.startswith("RB-E") else "warning",
        title=code,
        description="",
        hint="",
        source="test",
        metrics=metric_names,
    )


CATALOGUE = {
    "RB-E107": rule("RB-E107", "capaian", "status"),
    "RB-E110": rule("RB-E110", "anggaran"),
    "RB-E108": rule("RB-E108"),
    "RB-E111": rule("RB-E111", "bukti"),
    "RB-W101": rule("RB-W101"),
}


def registry(codes=("A", "B", "C", "D", "E")) -> Registry:
    return Registry(
        units=tuple(Unit(kode=c, nama=f"Unit {c}", jenis="Dinas") for c in codes),
        references=load_registry().references,
        settings=Settings(batas_hari=5),
    )


def file_of(unit: str) -> str:
    return f"{unit}_2025-10.xlsx"


def plan(unit, kind, kode, row, group, targets, reals, **values) -> dict:
    """One staged row as ingest hands it over (docs/contracts.md "staged-rows")."""
    sheet = SHEETS[kind]
    out = {"_unit": unit, "_file": file_of(unit), "_sheet": sheet.name, "_kind": kind, "_row": row}
    for f in FIELDS:
        carried = f.name in sheet.field_names
        out[f"_col_{f.name}"] = sheet.column_letter(f.name) if carried else None
        out[f.name] = NAN if f.is_number else None
    for f in NUMBER_FIELDS:
        out[f"_raw_{f}"] = None
    out.update(kode=kode, indikator="Indikator", satuan="Dokumen", penanggung_jawab="Kabag")
    out["sasaran" if kind == "umum" else "tema"] = group
    for q in range(4):
        out[f"target_tw{q + 1}"] = float(targets[q])
        out[f"realisasi_tw{q + 1}"] = float(reals[q])
    out.update(values)
    return out


def staged(plans: list[dict]) -> pd.DataFrame:
    return staged_rows.conform(pd.DataFrame(plans))


MONTH_ROWS = [
    plan("A", "umum", "U-01", 5, S1, (25, 50, 75, 100), (25, 50, 80, 100),
         data_dukung="https://a/1", anggaran=1000.0, realisasi_anggaran=800.0),
    plan("A", "umum", "U-02", 6, S1, (10, 20, 30, 40), (10, 20, 30, NAN),
         anggaran=0.0, realisasi_anggaran=0.0),
    plan("A", "umum", "U-03", 7, S2, (1, 2, 3, 4), (1, 1, 2, 3), data_dukung="  dok.pdf "),
    plan("A", "tematik", "T-01", 5, KEMISKINAN, (5, 5, 5, 10), (NAN, NAN, NAN, NAN),
         anggaran=500.0),
    plan("B", "umum", "U-01", 5, S1, (1, 2, 3, 4), (1, 2, 3, 8), data_dukung="a"),
    plan("B", "umum", "U-02", 6, S3, (1, 1, 1, 1), (1, 1, 1, 1), data_dukung="y",
         anggaran=100.0, realisasi_anggaran=50.0),
    plan("B", "tematik", "T-01", 5, "Tidak Ada Tema", (2, 4, 6, 8), (2, 4, 6, 6),
         data_dukung="x", anggaran=200.0, realisasi_anggaran=300.0),
    plan("B", "tematik", "T-02", 6, INVESTASI, (0, 0, 0, 0), (0, 0, 0, 0), data_dukung="   "),
    plan("C", "umum", "U-01", 5, S1, (2, 4, 6, 8), (2, 4, 6, 7), data_dukung="c"),
    plan("E", "umum", "U-01", 5, S2, (2, 4, 6, 8), (2, 4, 6, 8), data_dukung="e"),
]  # fmt: skip


def problem(code, unit, kind, row, **more) -> Problem:
    return Problem(
        code=code,
        severity="error" if code.startswith("RB-E") else "warning",
        message="pesan",
        unit=unit,
        file=file_of(unit),
        sheet=SHEETS[kind].name,
        row=row,
        **more,
    )


MONTH_PROBLEMS = [
    problem("RB-E107", "B", "umum", 5, column="P", field="realisasi_tw4"),
    problem("RB-E110", "B", "tematik", 5, field="realisasi_anggaran"),
    problem("RB-W101", "B", "tematik", 5, field="realisasi_tw1"),
    problem("RB-E108", "B", "tematik", 6, field="target_tw4"),
    # Same row number, other sheet / other file: must not touch A's or B's rows.
    problem("RB-E107", "A", "umum", 99),
    Problem(code="RB-E107", severity="error", message="m", unit="A", file="lain.xlsx",
            sheet="RB Umum", row=5),
    # File level: counted for the unit, matched to no row.
    Problem(code="RB-W001", severity="warning", message="m", unit="A", file="A_lama.xlsx"),
    Problem(code="RB-E005", severity="error", message="m", unit="D", file="D_2025-10.xlsx"),
]  # fmt: skip


def submission(name, unit, modified, status="accepted", received=None) -> Submission:
    return Submission(
        path=Path(name),
        name=name,
        sha256="0" * 64,
        size=1,
        modified=modified,
        unit=unit,
        status=status,
        received=received,
    )


MONTH_SUBMISSIONS = [
    submission("A_lama.xlsx", "A", dt.datetime(2025, 11, 2, 9), status="superseded"),
    submission(file_of("A"), "A", dt.datetime(2025, 11, 7, 8)),
    submission(file_of("B"), "B", dt.datetime(2025, 11, 6, 0, 0, 0)),
    submission(file_of("C"), "C", dt.datetime(2025, 11, 10, 8)),
    submission("D_2025-10.xlsx", "D", dt.datetime(2025, 11, 1), status="rejected"),
    submission(file_of("E"), "E", dt.datetime(2025, 11, 5, 23, 59, 59)),
]
ARRIVALS = {"c_2025-10.XLSX": dt.datetime(2025, 11, 5, 16)}  # case differs from the file name


@pytest.fixture(scope="module")
def month():
    return compute_metrics(
        staged(MONTH_ROWS),
        MONTH_PROBLEMS,
        MONTH_SUBMISSIONS,
        period=OCTOBER,
        registry=registry(),
        arrivals=ARRIVALS,
        catalogue=CATALOGUE,
    )


def unit_row(month, kode) -> dict:
    return month.units.set_index("kode").loc[kode].to_dict()


def group_row(month, kind, group) -> dict:
    groups = month.groups
    return groups[(groups["kind"] == kind) & (groups["group"] == group)].iloc[0].to_dict()


def same(actual, expected) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return actual is not None and math.isnan(actual)
    return actual == pytest.approx(expected)


def assert_figures(actual, expected: dict) -> None:
    actual = actual if isinstance(actual, dict) else actual.as_dict()
    wrong = {k: (actual[k], v) for k, v in expected.items() if not same(actual[k], v)}
    assert not wrong, f"(actual, expected): {wrong}"


# --------------------------------------------------------------------------------------------
# Per action plan
# --------------------------------------------------------------------------------------------


def test_each_plan_gets_its_status_capaian_and_exclusions(month):
    p = month.plans
    assert p["status"].tolist()[:4] == [
        STATUS_SELESAI,
        STATUS_SESUAI,
        STATUS_TERLAMBAT,
        STATUS_BELUM,
    ]
    # B U-01: an error naming capaian and status removes both; it would be Selesai at 200%.
    b_u01 = p.iloc[4]
    assert pd.isna(b_u01["status"]) and math.isnan(b_u01["capaian_pct"])
    assert b_u01["_excl_status"] and b_u01["_excl_capaian"] and not b_u01["_excl_anggaran"]
    assert b_u01["realisasi_terakhir"] == 8.0
    # capaian_pct: 100/100, blank running quarter, 3/4, nothing reported, target 0
    assert_figures(
        dict(enumerate(p["capaian_pct"])),
        {0: 100.0, 1: NAN, 2: 75.0, 3: NAN, 6: 75.0, 7: NAN, 8: 87.5, 9: 100.0},
    )
    # capaian_tahunan_pct: latest realisation (TW III when TW IV is blank) / target TW IV
    assert_figures(dict(enumerate(p["capaian_tahunan_pct"])), {1: 75.0, 2: 75.0, 3: NAN, 7: NAN})
    assert p["_errors"].tolist() == [0, 0, 0, 0, 1, 0, 1, 1, 0, 0]
    assert p["_warnings"].tolist() == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    # The staged columns are kept untouched beside the new ones.
    assert p["_col_target_tw1"].iloc[0] == SHEETS["umum"].column_letter("target_tw1")
    assert p["data_dukung"].iloc[2] == "dok.pdf"  # as staged (stripped at the boundary)


def october_status(target3, real3, target4=100.0, real4=NAN) -> str | None:
    row = plan("A", "umum", "U-01", 5, S1, (10, 20, target3, target4), (10, 20, real3, real4))
    return metrics.plan_status(staged([row]), OCTOBER.running_quarter).iloc[0]


@pytest.mark.parametrize(
    "target3, real3, target4, real4, expected",
    [
        (30, 30, 100, 100, STATUS_SELESAI),  # annual target met in TW IV
        (30, 100, 100, NAN, STATUS_SELESAI),  # met already in TW III, TW IV blank
        (30, 20, 100, 120, STATUS_SELESAI),  # Selesai wins over a TW III behind target
        (30, 30, 100, NAN, STATUS_SESUAI),  # closed TW III met exactly
        (30, 45, 100, 50, STATUS_SESUAI),
        (30, 29.5, 100, NAN, STATUS_TERLAMBAT),  # closed TW III behind
        (30, NAN, 100, NAN, STATUS_BELUM),  # TW III due and blank
        (30, NAN, 100, 50, STATUS_BELUM),  # a running-quarter figure does not excuse it
        (0, 0, 0, 0, STATUS_SESUAI),  # target TW IV 0 never counts as Selesai
        (NAN, 25, 100, NAN, None),  # target TW III blank: undetermined
    ],
)
def test_status_in_october(target3, real3, target4, real4, expected):
    assert october_status(target3, real3, target4, real4) == expected or (
        expected is None and pd.isna(october_status(target3, real3, target4, real4))
    )


@pytest.mark.parametrize(
    "reals, expected",
    [
        ((12, NAN, NAN, NAN), STATUS_SELESAI),  # TW I realisation already reaches TW IV target
        ((5, NAN, NAN, NAN), STATUS_SESUAI),  # no quarter closed: nothing is late
        ((NAN, NAN, NAN, NAN), STATUS_SESUAI),  # nothing reported yet is not "due" in Q1
        ((0, NAN, NAN, NAN), STATUS_SESUAI),
    ],
)
def test_status_in_january(reals, expected):
    row = plan("A", "umum", "U-01", 5, S1, (3, 6, 9, 12), reals)
    assert metrics.plan_status(staged([row]), Period(2025, 1).running_quarter).iloc[0] == expected


def test_status_in_april_judges_the_first_quarter():
    rows = staged(
        [
            plan("A", "umum", "U-01", 5, S1, (3, 6, 9, 12), (2, NAN, NAN, NAN)),
            plan("A", "umum", "U-02", 6, S1, (3, 6, 9, 12), (NAN, 4, NAN, NAN)),
        ]
    )
    assert metrics.plan_status(rows, 2).tolist() == [STATUS_TERLAMBAT, STATUS_BELUM]


def test_an_undetermined_status_counts_as_excluded_from_completion():
    rows = staged([plan("A", "umum", "U-01", 5, S1, (1, 2, NAN, 4), (1, 2, 3, NAN))])
    result = compute_metrics(
        rows, [], [submission(file_of("A"), "A", dt.datetime(2025, 11, 1))],
        period=OCTOBER, registry=registry(("A",)), catalogue=CATALOGUE,
    )  # fmt: skip
    a = unit_row(result, "A")
    assert a["completion_excluded"] == 1 and math.isnan(a["completion_rate"])


def test_an_error_code_missing_from_the_catalogue_excludes_the_row_from_every_metric():
    rows = staged([plan("A", "umum", "U-01", 5, S1, (1, 2, 3, 4), (1, 2, 3, 4), anggaran=10.0)])
    unknown = [problem("RB-E999", "A", "umum", 5)]
    result = compute_metrics(
        rows, unknown, [], period=OCTOBER, registry=registry(("A",)), catalogue=CATALOGUE
    )
    flags = result.plans.iloc[0][["_excl_capaian", "_excl_status", "_excl_bukti", "_excl_anggaran"]]
    assert flags.tolist() == [True, True, True, True]


def test_warnings_never_exclude():
    rows = staged([plan("A", "umum", "U-01", 5, S1, (1, 2, 3, 4), (1, 2, 3, 4), anggaran=10.0)])
    warnings = [problem("RB-W101", "A", "umum", 5), problem("RB-W999", "A", "umum", 5)]
    result = compute_metrics(
        rows, warnings, [], period=OCTOBER, registry=registry(("A",)), catalogue=CATALOGUE
    )
    p = result.plans.iloc[0]
    assert p["status"] == STATUS_SELESAI and p["capaian_pct"] == 100.0 and p["_warnings"] == 2
    assert not p[["_excl_capaian", "_excl_status", "_excl_bukti", "_excl_anggaran"]].any()


def test_the_default_catalogue_is_the_projects_own():
    rows = staged([plan("A", "umum", "U-01", 5, S1, (1, 2, 3, 4), (1, 2, 3, 4))])
    result = compute_metrics(rows, [], [], period=OCTOBER, registry=registry(("A",)))
    assert result.plans["status"].iloc[0] == STATUS_SELESAI


# --------------------------------------------------------------------------------------------
# Per unit
# --------------------------------------------------------------------------------------------


def test_unit_figures_match_a_hand_count(month):
    assert_figures(
        unit_row(month, "A"),
        {
            "rows": 4,
            "n_selesai": 1,
            "n_sesuai": 1,
            "n_terlambat": 1,
            "n_belum": 1,
            "completion_rate": 2 / 4,
            "capaian_mean": (100 + 75) / 2,
            "capaian_median": 87.5,
            "capaian_n": 2,
            "evidence_completeness": 2 / 3,  # U-02 realised without data dukung; T-01 nothing
            "evidence_n": 3,
            "budget_absorption": 800 / 1500,  # U-02 (anggaran 0) left out; T-01 blank = 0
            "anggaran_total": 1500.0,
            "realisasi_anggaran_total": 800.0,
            "budget_n": 2,
            "data_quality": 1.0,
            "completion_excluded": 0,
            "capaian_excluded": 0,
            "evidence_excluded": 0,
            "budget_excluded": 0,
            "errors": 2,  # the two A problems that match no row still belong to A
            "warnings": 1,
            "rows_with_errors": 0,
        },
    )
    assert_figures(
        unit_row(month, "B"),
        {
            "rows": 4,
            "completion_rate": 3 / 3,  # U-01 excluded
            "completion_excluded": 1,
            "capaian_mean": (75 + 100) / 2,  # U-01 excluded, T-02 target 0
            "capaian_median": 87.5,
            "capaian_excluded": 1,
            "evidence_completeness": 3 / 3,  # T-02 realised nothing; "   " is no evidence
            "evidence_excluded": 0,
            "budget_absorption": 50 / 100,  # T-01 excluded by RB-E110
            "budget_excluded": 1,
            "data_quality": 1 / 4,
            "rows_with_errors": 3,
            "errors": 3,
            "warnings": 1,
        },
    )
    assert_figures(unit_row(month, "C"), {"completion_rate": 1.0, "capaian_mean": 87.5})
    assert_figures(unit_row(month, "E"), {"completion_rate": 1.0, "capaian_mean": 100.0})
    d = unit_row(month, "D")
    assert d["rows"] == 0 and d["errors"] == 1 and not d["submitted"] and pd.isna(d["on_time"])
    for key in metrics.METRIC_KEYS:
        assert math.isnan(d[key])


def test_reporting_and_on_time_per_unit(month):
    u = month.units.set_index("kode")
    assert u["submitted"].tolist() == [True, True, True, False, True]
    # A: accepted file late, superseded one on time; B: 00:00 on the 6th is late;
    # C: arrival log (matched ignoring case) beats the late mtime; E: 23:59:59 on the 5th.
    assert u["on_time"].tolist() == [True, False, True, pd.NA, True]
    assert u.loc["A", "file"] == file_of("A")
    assert u.loc["A", "received"] == pd.Timestamp(2025, 11, 7, 8)
    assert u.loc["A", "first_received"] == pd.Timestamp(2025, 11, 2, 9)
    assert u.loc["C", "received"] == pd.Timestamp(2025, 11, 5, 16)
    assert pd.isna(u.loc["D", "file"]) and pd.isna(u.loc["D", "received"])


def test_submission_received_is_used_when_the_log_does_not_name_the_file():
    subs = [
        submission(file_of("A"), "A", dt.datetime(2025, 12, 1), received=dt.datetime(2025, 11, 5))
    ]
    result = compute_metrics(
        staged([]), [], subs, period=OCTOBER, registry=registry(("A",)), catalogue=CATALOGUE
    )
    assert bool(result.units["on_time"].iloc[0])
    late = compute_metrics(
        staged([]), [], subs, period=OCTOBER, registry=registry(("A",)), catalogue=CATALOGUE,
        arrivals={file_of("A"): dt.datetime(2025, 11, 6, 7)},
    )  # fmt: skip
    assert not bool(late.units["on_time"].iloc[0])


def test_deadline_follows_the_settings():
    reg = Registry(units=(Unit(kode="A", nama="A"),), settings=Settings(batas_hari=10))
    subs = [submission(file_of("A"), "A", dt.datetime(2025, 11, 8))]
    result = compute_metrics(staged([]), [], subs, period=OCTOBER, registry=reg, catalogue={})
    assert bool(result.units["on_time"].iloc[0])
    assert deliveries.deadline_end(Period(2025, 12), 5) == dt.datetime(2026, 1, 6)


def test_units_are_ranked_by_completion_then_capaian_then_code(month):
    # E (1.0, 100) > B (1.0, 87.5) = C (1.0, 87.5) by code > A (0.5); D did not submit.
    assert month.units.set_index("kode")["rank"].tolist() == [4, 2, 3, pd.NA, 1]


def test_units_frame_follows_the_contract(month):
    contract = [
        "kode",
        "nama",
        "jenis",
        "submitted",
        "on_time",
        "file",
        "received",
        "rows",
        "errors",
        "warnings",
        "rows_with_errors",
        "n_selesai",
        "n_sesuai",
        "n_terlambat",
        "n_belum",
        "completion_rate",
        "capaian_mean",
        "capaian_median",
        "evidence_completeness",
        "budget_absorption",
        "data_quality",
        "anggaran_total",
        "realisasi_anggaran_total",
        "completion_excluded",
        "capaian_excluded",
        "evidence_excluded",
        "budget_excluded",
        "rank",
    ]
    assert set(contract) <= set(month.units.columns)
    assert list(month.units.columns) == list(metrics.UNIT_COLUMNS)
    assert month.units["kode"].tolist() == ["A", "B", "C", "D", "E"]  # registry order


# --------------------------------------------------------------------------------------------
# Per sasaran / tema
# --------------------------------------------------------------------------------------------


def test_groups_are_listed_in_reference_order_with_invalid_last(month):
    reference = load_registry().references
    umum = month.groups[month.groups["kind"] == "umum"]["group"].tolist()
    tematik = month.groups[month.groups["kind"] == "tematik"]["group"].tolist()
    assert umum == list(reference["sasaran"])  # every plan's sasaran is valid: no extra group
    assert tematik == [*reference["tema"], INVALID_GROUP]


def test_group_figures_match_a_hand_count(month):
    assert_figures(
        group_row(month, "umum", S1),
        {
            "plans": 4,  # A U-01, A U-02, B U-01, C U-01
            "units": 3,
            "reporting_rate": 3 / 5,
            "on_time_rate": 2 / 5,  # A and C; B was late
            "completion_rate": 3 / 3,
            "completion_excluded": 1,
            "capaian_mean": (100 + 87.5) / 2,
            "capaian_median": 93.75,
            "capaian_excluded": 1,
            "evidence_completeness": 3 / 4,
            "budget_absorption": 800 / 1000,
            "data_quality": 3 / 4,
            "errors": 1,
        },
    )
    assert_figures(
        group_row(month, "tematik", KEMISKINAN),
        {
            "plans": 1,
            "completion_rate": 0.0,
            "capaian_mean": NAN,
            "evidence_completeness": NAN,
            "budget_absorption": 0 / 500,
            "data_quality": 1.0,
            "on_time_rate": 1 / 5,
        },
    )
    assert_figures(
        group_row(month, "tematik", INVESTASI),
        {"plans": 1, "completion_rate": 1.0, "capaian_mean": NAN, "data_quality": 0.0},
    )
    assert_figures(
        group_row(month, "tematik", INVALID_GROUP),
        {"plans": 1, "units": 1, "budget_absorption": NAN, "budget_excluded": 1, "warnings": 1},
    )
    empty = group_row(month, "tematik", "Pengendalian Inflasi")
    assert empty["plans"] == 0 and empty["units"] == 0 and math.isnan(empty["completion_rate"])


# --------------------------------------------------------------------------------------------
# Regency
# --------------------------------------------------------------------------------------------


def test_regency_figures_are_pooled_over_every_plan(month):
    capaian = [100, 75, 75, 100, 87.5, 100]
    assert_figures(
        month.regency,
        {
            "units_expected": 5,
            "units_submitted": 4,
            "units_on_time": 3,
            "reporting_rate": 4 / 5,
            "on_time_rate": 3 / 5,
            "plans": 10,
            "completion_rate": 7 / 9,
            "completion_excluded": 1,
            "capaian_mean": sum(capaian) / 6,
            "capaian_median": (87.5 + 100) / 2,
            "capaian_excluded": 1,
            "evidence_completeness": 7 / 8,
            "evidence_excluded": 0,
            "budget_absorption": 850 / 1600,
            "budget_excluded": 1,
            "data_quality": 7 / 10,
            "errors": 6,
            "warnings": 2,
        },
    )
    assert month.regency.kode == "KABUPATEN"


def test_regency_figures_count_units_files_and_plans_once_for_every_publisher(month):
    assert_figures(
        month.regency,
        {
            "period": "2025-10",
            "units_late": 1,  # C
            "units_rejected": 1,  # D: its only file was rejected
            "units_missing": 0,
            "units_ranked": 4,
            "files": 6,
            "files_accepted": 4,
            "files_superseded": 1,
            "files_rejected": 1,
            "files_with_problems": 5,  # A, A_lama, lain, B, D
            "plans_counted": 9,
            "plans_done": 7,
            "plans_clean": 7,
            "rows_with_errors": 3,
        },
    )
    submitted = month.units[month.units["submitted"]]
    for metric in metrics.METRIC_KEYS:
        assert same(month.regency.unit_medians[metric], float(submitted[metric].median()))
    assert month.regency.change is None  # no history given
    assert month.changes.empty


def test_an_empty_month_gives_undefined_figures_not_errors():
    result = compute_metrics(
        staged_rows.empty(), [], [], period=OCTOBER, registry=registry(), catalogue=CATALOGUE
    )
    assert len(result.plans) == 0 and len(result.units) == 5
    assert result.regency.reporting_rate == 0.0
    assert math.isnan(result.regency.completion_rate)
    assert result.regency.units_missing == 5
    assert result.units["rank"].isna().all()


# --------------------------------------------------------------------------------------------
# Month over month
# --------------------------------------------------------------------------------------------


def trend_frame(records):
    columns = ["period", "kode", "nama", "submitted", "on_time", "reporting_rate",
               "on_time_rate", *metrics.METRIC_KEYS]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=columns)


def test_month_over_month_compares_with_the_previous_recorded_month():
    rec = lambda p, k, s, c: (p, k, k, s, s, None, None, c, 80.0, 80.0, 0.5, NAN, 1.0)  # noqa: E731
    trend = trend_frame(
        [
            rec("2025-08", "A", 1, 0.1),
            rec("2025-09", "A", 1, 0.4),  # the month before
            rec("2025-09", "B", 1, 0.9),
            rec("2025-11", "A", 1, 0.5),
            rec("2025-11", "B", 0, NAN),
            rec("2025-11", "C", 1, 1.0),  # new unit: nothing to compare with
            rec("2025-12", "A", 1, 0.0),  # later month: ignored
        ]
    )
    mom = month_over_month(trend, Period(2025, 11)).set_index("kode")
    assert mom.index.tolist() == ["A", "B", "C"]
    assert (mom["previous_period"] == "2025-09").all()  # October was not recorded
    assert mom.loc["A", "completion_rate_previous"] == 0.4
    assert mom.loc["A", "completion_rate_delta"] == pytest.approx(0.1)
    assert mom.loc["B", "submitted_delta"] == -1
    assert math.isnan(mom.loc["B", "completion_rate_delta"])
    assert math.isnan(mom.loc["C", "completion_rate_previous"])
    assert math.isnan(mom.loc["A", "budget_absorption_delta"])


def test_month_over_month_of_a_first_month_has_no_previous():
    trend = trend_frame([("2025-10", "A", "A", 1, 1, None, None, 0.5, 1, 1, 1, 1, 1)])
    mom = month_over_month(trend, OCTOBER)
    assert mom["previous_period"].tolist() == [None]
    assert math.isnan(mom["completion_rate_delta"].iloc[0])
    assert month_over_month(trend, Period(2026, 1)).empty


# --------------------------------------------------------------------------------------------
# Arrival log
# --------------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kedatangan.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_arrival_log_in_excel_csv_with_semicolons(tmp_path):
    path = write(
        tmp_path,
        "\ufeffBerkas;Diterima;Catatan\n"
        "DINKES_2025-10.xlsx;04/11/2025 14.30;lewat surel\n"
        "\n"
        "DINSOS_2025-10.xlsx;2025-11-06T08:15:00;\n"
        "KEC-NATAR_2025-10.xlsx;5 Nop 2025;\n",
    )
    assert read_arrivals(path) == {
        "DINKES_2025-10.xlsx": dt.datetime(2025, 11, 4, 14, 30),
        "DINSOS_2025-10.xlsx": dt.datetime(2025, 11, 6, 8, 15),
        "KEC-NATAR_2025-10.xlsx": dt.datetime(2025, 11, 5),
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("nama,waktu\nA.xlsx,2025-11-04\n", "'berkas', 'diterima'"),
        ("berkas,diterima\nA.xlsx,besok pagi\n", "baris 2: waktu diterima 'besok pagi'"),
        ("berkas,diterima\nA.xlsx,31/02/2025\n", "baris 2"),
        ("berkas,diterima\n,2025-11-04\n", "baris 2: nama berkas kosong"),
        ("berkas,diterima\nA.xlsx,2025-11-04\nA.xlsx,2025-11-05\n", "tercatat dua kali"),
    ],
)
def test_arrival_log_mistakes_are_explained_in_indonesian(tmp_path, text, message):
    with pytest.raises(RunError, match=message):
        read_arrivals(write(tmp_path, text))


def test_a_missing_arrival_log_is_a_run_error(tmp_path):
    with pytest.raises(RunError, match="tidak ditemukan"):
        read_arrivals(tmp_path / "tidak_ada.csv")


@given(
    moment=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    style=st.sampled_from(["iso", "slash", "dash_dot", "named", "abbrev"]),
)
def test_arrival_times_round_trip_in_every_accepted_spelling(moment, style):
    moment = moment.replace(second=0, microsecond=0)
    month = MONTHS_ID[moment.month - 1]
    text = {
        "iso": moment.strftime("%Y-%m-%d %H:%M"),
        "slash": moment.strftime("%d/%m/%Y %H:%M"),
        "dash_dot": f"{moment.day}-{moment.month}-{moment.year} {moment.hour}.{moment:%M}",
        "named": f"{moment.day} {month} {moment.year} pukul {moment:%H:%M}",
        "abbrev": f"{moment.day} {month[:3].upper()} {moment.year}, {moment:%H.%M}",
    }[style]
    assert parse_arrival(text) == moment
