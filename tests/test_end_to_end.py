"""The real CLI over the demo month: what an analyst and the units get, checked against what
the demo generator planted (issues 2, 4, 5, 6, 7)."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import (
    FEEDBACK_FOLDER,
    LOG_FILE,
    MANIFEST_FILE,
    MANIFEST_FILE_KEYS,
    MANIFEST_UNIT_KEYS,
    PERIOD,
    REGENCY_SHEETS,
    REMINDERS_FILE,
    feedback_name,
    guarded_env,
    regency_workbook_name,
    report_name,
)

from pipeline import schema
from pipeline.cli import cli

MANIFEST_PROBLEM_KEYS = {"code", "severity", "unit", "file", "cell", "field", "value", "message"}
ERROR_FILL, WARNING_FILL = "FFFFC7CE", "FFFFEB9C"


def _reported(manifest) -> set[tuple]:
    return {(p["code"], p["file"], p["cell"]) for p in manifest["problems"]}


# --------------------------------------------------------------------------------------------
# The run itself
# --------------------------------------------------------------------------------------------


def test_run_completes_and_prints_where_the_outputs_are(demo_run):
    run = demo_run.run
    assert run.returncode == 0, run.stderr
    assert "Rekap Oktober 2025 selesai." in run.stdout
    assert regency_workbook_name(PERIOD) in run.stdout
    assert "Traceback" not in run.stderr
    assert report_name(PERIOD) in run.stdout
    for name in (
        regency_workbook_name(PERIOD),
        report_name(PERIOD),
        MANIFEST_FILE,
        REMINDERS_FILE,
        LOG_FILE,
    ):
        assert (demo_run.month / name).is_file(), name
    assert not [p.name for p in demo_run.month.rglob(".*tmp*")], "temporary files left behind"


def test_no_socket_is_opened_during_a_run(demo_run, tmp_path):
    assert demo_run.run.network_attempts == []
    # The guard itself works: the same environment refuses and records a real attempt.
    env, log = guarded_env(tmp_path)
    probe = "import socket; socket.socket().connect(('192.0.2.1', 80))"
    proc = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "network access refused" in proc.stderr
    assert "connect ('192.0.2.1', 80)" in log.read_text()


def test_inputs_are_never_modified(demo_run):
    assert demo_run.after == demo_run.before
    assert demo_run.before, "the demo wrote inputs"


def test_no_process_of_the_run_even_tries_to_write_under_inputs(demo_run, tmp_path):
    assert demo_run.run.returncode == 0
    assert demo_run.run.input_writes == []
    # The guard itself works: in the same environment a write, a rename and a touch are refused.
    inputs = tmp_path / "masukan"
    inputs.mkdir()
    (inputs / "a.xlsx").write_bytes(b"x")
    env, log = guarded_env(tmp_path, RBPIPE_READONLY_DIR=str(inputs))
    for probe in (
        f"open({str(inputs / 'a.xlsx')!r}, 'ab')",
        f"import os; os.rename({str(inputs / 'a.xlsx')!r}, {str(inputs / 'b.xlsx')!r})",
        f"import os; os.utime({str(inputs / 'a.xlsx')!r})",
        f"open({str(inputs / 'baru.tmp')!r}, 'w')",
        f"import shutil; shutil.rmtree({str(inputs)!r})",
    ):
        proc = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True
        )
        assert proc.returncode != 0 and "write under inputs refused" in proc.stderr, probe
    assert len(log.with_name("writes.log").read_text().splitlines()) == 5
    assert sorted(p.name for p in inputs.iterdir()) == ["a.xlsx"]
    # Reading stays allowed.
    proc = subprocess.run(
        [sys.executable, "-c", f"print(open({str(inputs / 'a.xlsx')!r}, 'rb').read())"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "b'x'" in proc.stdout


def test_one_great_expectations_run_per_suite(demo_run):
    info = demo_run.manifest["info"]
    assert info["gx_runs"] == 3  # rb_umum, rb_tematik, struktur — whatever the number of files


# --------------------------------------------------------------------------------------------
# Manifest: the contract, and agreement with the demo plan
# --------------------------------------------------------------------------------------------


def test_manifest_holds_the_contract_keys(demo_run):
    m = demo_run.manifest
    assert m["period"] == "2025-10"
    assert {"tool_version", "started", "finished", "totals", "outputs"} <= set(m)
    assert all(set(f) >= set(MANIFEST_FILE_KEYS) for f in m["files"])
    assert all(set(u) >= set(MANIFEST_UNIT_KEYS) for u in m["units"])
    assert all(set(p) >= MANIFEST_PROBLEM_KEYS for p in m["problems"])
    assert len(m["units"]) == 51
    assert regency_workbook_name(PERIOD) in m["outputs"]


def test_every_file_has_the_fate_the_demo_planned(demo_run):
    plan, m = demo_run.plan, demo_run.manifest
    files = {f["name"]: f for f in m["files"]}
    assert sorted(files) == sorted(f.name for f in plan.files)
    for demo_file in plan.files:
        got = files[demo_file.name]
        assert got["status"] == demo_file.expected_status, demo_file.name
        if demo_file.expected_status == "accepted":
            assert got["unit"] == demo_file.unit
            assert got["rows_consolidated"] == len(demo_file.rows), demo_file.name
            assert got["rows_skipped"] == len(demo_file.skipped), demo_file.name
    for ignored in plan.ignored:
        assert ignored not in files
    submitted = [u["kode"] for u in m["units"] if u["submitted"]]
    assert submitted == plan.submitting_units


def test_every_row_read_is_consolidated_or_skipped_with_a_reason(demo_run):
    m = demo_run.manifest
    for f in m["files"]:
        assert f["rows_read"] == f["rows_consolidated"] + f["rows_skipped"], f["name"]
        assert len(f["skipped"]) == f["rows_skipped"]
        assert all(s["reason"] for s in f["skipped"])
    totals = m["totals"]
    assert totals["rows_read"] == totals["rows_consolidated"] + totals["rows_skipped"]
    assert totals["rows_consolidated"] == sum(
        len(f.rows) for f in demo_run.plan.files if f.expected_status == "accepted"
    )


def test_every_planted_problem_is_reported_at_its_cell_with_its_code(demo_run):
    planted = {(p.code, p.file, p.cell) for p in demo_run.plan.planted}
    missing = planted - _reported(demo_run.manifest)
    assert not missing
    assert len(planted) > 20


def test_no_error_is_reported_on_a_row_the_demo_made_clean(demo_run):
    clean = {
        (f.name, sheet, row)
        for f in demo_run.plan.files
        if f.expected_status == "accepted"
        for sheet, row in f.clean_rows
    }
    wrong = [
        p
        for p in demo_run.manifest["problems"]
        if p["severity"] == "error" and (p["file"], p["sheet"], p["row"]) in clean
    ]
    assert wrong == []


# --------------------------------------------------------------------------------------------
# The regency workbook
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regency(demo_run):
    return openpyxl.load_workbook(demo_run.month / regency_workbook_name(PERIOD))


def test_regency_workbook_has_the_sheets_of_the_issue(regency):
    assert regency.sheetnames == REGENCY_SHEETS


@pytest.mark.parametrize("kind", schema.KINDS)
def test_consolidated_sheets_follow_the_contract(demo_run, regency, kind):
    ws = regency[schema.SHEETS[kind].name]
    header = [c.value for c in ws[1]]
    contract = ["Kode Unit", "Nama Unit", *schema.SHEETS[kind].headers, "Berkas", "Baris Asal"]
    assert header[: len(contract)] == contract
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    expected = sum(
        1
        for f in demo_run.plan.files
        if f.expected_status == "accepted"
        for sheet, _, kode in f.rows
        if kode.startswith(schema.SHEETS[kind].code_prefix)
    )
    assert len(rows) == expected
    col = header.index("Target TW IV")
    assert all(isinstance(r[col], int | float) for r in rows if r[col] is not None)
    assert sum(r[col] is not None for r in rows) > 0.9 * len(rows)


def test_every_expected_unit_is_in_the_submission_status(regency):
    ws = regency["Status Pengiriman"]
    texts = {c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)}
    from pipeline.registry import load_registry

    assert set(load_registry().codes) <= texts


# --------------------------------------------------------------------------------------------
# Feedback workbooks (issue 6)
# --------------------------------------------------------------------------------------------


def _feedback(demo_run, kode):
    return openpyxl.load_workbook(demo_run.month / FEEDBACK_FOLDER / feedback_name(kode, PERIOD))


def _fixes(book) -> list[dict]:
    ws = book["Perbaikan"]
    header_row = next(r for r in ws.iter_rows() if r[0].value == "No")
    headers = [c.value for c in header_row]
    return [
        {h: c for h, c in zip(headers, row, strict=False) if h}
        for row in ws.iter_rows(min_row=header_row[0].row + 1)
        if row[0].value is not None
    ]


def test_planted_problems_appear_in_the_units_feedback_highlighted_and_commented(demo_run):
    by_unit = itertools.groupby(
        sorted((p for p in demo_run.plan.planted if p.unit and p.cell), key=lambda p: p.unit),
        key=lambda p: p.unit,
    )
    checked = 0
    for unit, planted in by_unit:
        book = _feedback(demo_run, unit)
        fixes = _fixes(book)
        for p in planted:
            sheet, address = p.cell.rsplit("!", 1)
            row = next(
                r
                for r in fixes
                if r["Kode"].value == p.code
                and r["Lembar"].value == sheet
                and r["Sel"].value == address
            )
            target = row["Sel"].hyperlink.location
            target_sheet, target_cell = re.fullmatch(r"'(.+)'!([A-Z]+\d+)", target).groups()
            assert target_cell == address
            cell = book[target_sheet][target_cell]
            expected = ERROR_FILL if p.code.startswith("RB-E") else WARNING_FILL
            assert cell.fill.fgColor.rgb == expected, (unit, p.cell)
            assert p.code in cell.comment.text
            checked += 1
    assert checked > 20


def test_rejected_files_get_feedback_naming_the_reason(demo_run):
    m = demo_run.manifest
    rejected = [f for f in m["files"] if f["status"] == "rejected" and f["unit"]]
    assert rejected
    for f in rejected:
        book = _feedback(demo_run, f["unit"])
        text = "\n".join(
            str(c)
            for ws in book.worksheets
            for row in ws.iter_rows(values_only=True)
            for c in row
            if c
        )
        assert f["name"] in text and "Ditolak" in text
        assert "Yang perlu Anda kirim" in text


def test_no_feedback_workbook_shows_another_units_plans(demo_run):
    """For every pair of units A != B, no action-plan text unique to B appears in A's feedback."""
    import pandas as pd

    texts_by_unit: dict[str, set[str]] = {}
    for kind in schema.KINDS:
        df = pd.read_excel(
            demo_run.month / regency_workbook_name(PERIOD),
            sheet_name=schema.SHEETS[kind].name,
            engine="calamine",
        )
        for col in ("Indikator", "Rencana Aksi", "Output", "Data Dukung", "Kendala"):
            for unit, value in zip(df["Kode Unit"], df[col], strict=True):
                if isinstance(value, str) and len(value) >= 12:
                    texts_by_unit.setdefault(unit, set()).add(value)
    owners: dict[str, set[str]] = {}
    for unit, texts in texts_by_unit.items():
        for t in texts:
            owners.setdefault(t, set()).add(unit)
    folder = demo_run.month / FEEDBACK_FOLDER
    checked = 0
    for unit in texts_by_unit:
        book = openpyxl.load_workbook(folder / feedback_name(unit, PERIOD))
        seen = {
            str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value
        } | {
            c.comment.text
            for ws in book.worksheets
            for row in ws.iter_rows()
            for c in row
            if c.comment
        }
        foreign = {t for t in seen if t in owners and unit not in owners[t]}
        assert not foreign, (unit, sorted(foreign)[:3])
        assert texts_by_unit[unit] & seen, f"{unit}'s feedback shows none of its own plans"
        checked += 1
    assert checked >= 40


# --------------------------------------------------------------------------------------------
# rbpipe check (issue 4)
# --------------------------------------------------------------------------------------------


def _template_file(demo_run, clean: bool) -> Path:
    """A plain template submission from the demo month, with or without planted errors."""
    errors = {p.file for p in demo_run.plan.planted if p.code.startswith("RB-E")}
    for f in demo_run.plan.files:
        if (
            f.expected_status == "accepted"
            and re.fullmatch(r"[A-Z-]+_2025-10\.xlsx", f.name)
            and not f.messes
            and (f.name not in errors) == clean
        ):
            return demo_run.inputs / "2025-10" / f.name
    raise AssertionError("the demo month has no such file")


def test_check_passes_a_clean_template_file(demo_run):
    result = CliRunner().invoke(cli, ["check", str(_template_file(demo_run, clean=True))])
    assert result.exit_code == 0, result.output
    assert "Tidak ada kesalahan" in result.output


def test_check_fails_a_file_with_errors_and_prints_each_cell(demo_run):
    path = _template_file(demo_run, clean=False)
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1, result.output
    for p in demo_run.plan.planted:
        if p.file == path.name and p.cell:
            assert p.cell in result.output and p.code in result.output
