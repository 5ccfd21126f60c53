"""The regency workbook, read back with openpyxl (and the raw xlsx parts where openpyxl is blind:
charts, document properties)."""

from __future__ import annotations

import dataclasses
import random
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import REGENCY_SHEETS, regency_workbook_name
from factories import HOSTILE_TEXTS, PERIOD, make_run

from pipeline import schema
from pipeline.publish.regency import (
    consolidated_headers,
    write_regency_workbook,
)

# openpyxl does not read the data-bar extension xlsxwriter adds for Excel 2010+; it says so.
pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
ERROR_FILL = "FFFFC7CE"
WARNING_FILL = "FFFFEB9C"


@pytest.fixture(scope="module")
def run():
    return make_run(hostile=True)


@pytest.fixture(scope="module")
def path(run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("regency") / regency_workbook_name(run.period)
    write_regency_workbook(out, run)
    return out


@pytest.fixture(scope="module")
def book(path):
    return openpyxl.load_workbook(path)


def table_rows(ws, header_row: int) -> list[dict]:
    """The rows under ``header_row`` (1-based) as dicts keyed by header, until a blank first
    cell."""
    headers = [c.value for c in ws[header_row]]
    out = []
    for row in ws.iter_rows(min_row=header_row + 1):
        if all(c.value is None for c in row):
            break
        out.append({h: c for h, c in zip(headers, row, strict=False) if h})
    return out


def test_file_name_and_sheet_order(path, book):
    assert path.name == regency_workbook_name("2025-10")
    assert book.sheetnames == REGENCY_SHEETS
    assert not list(path.parent.glob(".*tmp-*")), "the temporary file must be renamed away"


@pytest.mark.parametrize("kind", schema.KINDS)
def test_consolidated_sheets_follow_the_contract(run, book, kind):
    ws = book[schema.SHEETS[kind].name]
    headers = [c.value for c in ws[1]]
    assert headers[: 2 + len(schema.SHEETS[kind].headers) + 2] == [
        "Kode Unit",
        "Nama Unit",
        *schema.SHEETS[kind].headers,
        "Berkas",
        "Baris Asal",
    ]
    assert tuple(headers) == consolidated_headers(kind)
    plans = run.metrics.plans[run.metrics.plans["_kind"] == kind]
    rows = table_rows(ws, 1)
    assert len(rows) == len(plans)
    seen = {(r["Kode Unit"].value, r["Berkas"].value, r["Baris Asal"].value) for r in rows}
    assert seen == set(zip(plans["_unit"], plans["_file"], plans["_row"], strict=True))
    for r in rows:
        assert r["Target TW IV"].data_type == "n"
        assert isinstance(r["Target TW IV"].value, int | float)
        assert r["Baris Asal"].data_type == "n"
        assert r["Nama Unit"].value == run.registry.name_of(r["Kode Unit"].value)


def test_consolidated_rows_are_in_registry_order(run, book):
    codes = [r["Kode Unit"].value for r in table_rows(book["RB Umum"], 1)]
    order = list(run.registry.codes)
    assert codes == sorted(codes, key=order.index)


def test_problem_cells_are_highlighted_in_the_consolidated_sheet(book):
    rows = table_rows(book["RB Umum"], 1)
    dinkes_u02 = next(
        r for r in rows if r["Kode Unit"].value == "DINKES" and r["Kode RA"].value == "U-02"
    )
    cell = dinkes_u02["Target TW IV"]
    assert cell.value == 120
    assert cell.fill.fgColor.rgb == ERROR_FILL
    assert "RB-E105" in cell.comment.text
    assert dinkes_u02["Status"].value == "Tidak Dihitung"
    tematik = table_rows(book["RB Tematik"], 1)
    dinkes_t01 = next(
        r for r in tematik if r["Kode Unit"].value == "DINKES" and r["Kode RA"].value == "T-01"
    )
    assert dinkes_t01["Realisasi TW III"].fill.fgColor.rgb == WARNING_FILL


def test_unparseable_number_leaves_the_cell_empty_and_says_why(book):
    rows = table_rows(book["RB Umum"], 1)
    dinsos_u02 = next(
        r for r in rows if r["Kode Unit"].value == "DINSOS" and r["Kode RA"].value == "U-02"
    )
    cell = dinsos_u02["Realisasi TW II"]
    assert cell.value is None
    assert "RB-E103" in cell.comment.text and cell.fill.fgColor.rgb == ERROR_FILL


def test_unit_text_that_looks_like_a_formula_is_stored_as_text(book):
    formulas = [
        f"{ws.title}!{c.coordinate}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []
    found = {
        c.value: c.data_type
        for ws in (book["RB Umum"], book["Masalah Validasi"])
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    for text in (*HOSTILE_TEXTS, "=SUM(A1:A9)"):
        assert found.get(text) == "s", text


def test_only_http_links_become_hyperlinks(run, book):
    links = {
        c.hyperlink.target
        for ws in (book["RB Umum"], book["RB Tematik"])
        for row in ws.iter_rows()
        for c in row
        if c.hyperlink is not None
    }
    assert "https://drive.dinkes.example.go.id/sop-puskesmas.pdf" in links
    assert all(re.match(r"https?://", link) for link in links)
    rows = table_rows(book["RB Tematik"], 1)
    too_long = next(
        r for r in rows if r["Kode Unit"].value == "DINKES" and r["Kode RA"].value == "T-02"
    )
    assert too_long["Data Dukung"].hyperlink is None
    assert too_long["Data Dukung"].value.startswith("https://rme.dinkes")


def test_status_sheet_lists_every_registry_unit(run, book):
    rows = {r["Kode Unit"].value: r for r in table_rows(book["Status Pengiriman"], 4)}
    assert list(rows) == list(run.registry.codes)
    assert rows["KEC-NATAR"]["Laporan Diterima"].value == "Tidak"
    assert rows["BAPPEDA"]["Berkas Ditolak"].value == "BAPPEDA_2025-09.xlsx"
    assert rows["DINSOS"]["Berkas Digantikan"].value == "DINSOS_2025-10_draft.xlsx"
    assert rows["DISKOMINFO"]["Tepat Waktu"].value == "Tidak"
    assert rows["DINKES"]["Tepat Waktu"].value == "Ya"
    assert rows["DINKES"]["Waktu Terima"].is_date


def test_units_sheet_sorted_by_rank_with_status_and_bars(run, book):
    ws = book["Capaian per Unit"]
    rows = table_rows(ws, 4)
    ranked = [r["Peringkat"].value for r in rows if r["Peringkat"].value is not None]
    assert ranked == sorted(ranked) == list(range(1, 5))
    by_code = {r["Kode Unit"].value: r for r in rows}
    assert by_code["DINSOS"]["Status"].value == "Baik"
    assert by_code["DISKOMINFO"]["Status"].value == "Perlu Perhatian"
    assert by_code["KEC-NATAR"]["Status"].value == "Belum Ada Laporan"
    rate = by_code["DINKES"]["Tingkat Penyelesaian"]
    expected = run.metrics.units.set_index("kode").loc["DINKES", "completion_rate"]
    assert rate.value == pytest.approx(expected) and rate.number_format.endswith("0.0%")
    capaian = by_code["DINKES"]["Rata-rata Capaian (%)"]
    assert capaian.value == pytest.approx(
        run.metrics.units.set_index("kode").loc["DINKES", "capaian_mean"]
    )
    assert "%" not in capaian.number_format
    rules = [r.type for cf in ws.conditional_formatting for r in cf.rules]
    assert rules.count("dataBar") == 2


def test_every_problem_is_listed(run, book):
    rows = table_rows(book["Masalah Validasi"], 4)
    assert len(rows) == len(run.problems)
    listed = {(r["Kode"].value, r["Berkas"].value, r["Sel"].value) for r in rows}
    for p in run.problems:
        assert (p.code, p.file, f"{p.column}{p.row}" if p.column else None) in listed
    first = rows[0]["Tingkat"].value
    assert first == "Kesalahan" and rows[-1]["Tingkat"].value == "Peringatan"


def test_trend_shows_both_months_and_the_change(run, book):
    ws = book["Tren"]
    headers = [c.value for c in ws[4]]
    assert headers[3:] == ["September 2025", "Oktober 2025", "Perubahan dari September 2025"]
    rows = table_rows(ws, 4)
    reporting = next(
        r
        for r in rows
        if r["Kode Unit"].value == "KABUPATEN" and r["Indikator"].value == "Tingkat Pelaporan"
    )
    now = run.metrics.regency.reporting_rate
    assert reporting["Oktober 2025"].value == pytest.approx(now)
    assert reporting["Perubahan dari September 2025"].value == pytest.approx(now - now * 0.8)


def test_info_sheet_has_hashes_versions_and_skipped_reasons(run, book):
    text = "\n".join(
        str(c.value) for row in book["Info Proses"].iter_rows() for c in row if c.value is not None
    )
    for s in run.submissions:
        assert s.sha256 in text
    assert "1.24.1" in text and "baris subtotal (JUMLAH)" in text
    assert "Versi aturan pemeriksaan: rb_umum" in text


def test_legend_lists_every_code_used(run, book):
    codes = {c.value for c in book["Legenda"]["A"] if isinstance(c.value, str)}
    assert {p.code for p in run.problems} <= codes


def test_summary_tiles_show_values_and_changes(run, book):
    ws = book["Ringkasan"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    assert "Tingkat Pelaporan" in cells and "Masalah Validasi" in cells
    values = [c for c in cells.values() if c.data_type == "n"]
    reporting = run.metrics.regency.reporting_rate
    assert any(c.value == pytest.approx(reporting) and "%" in c.number_format for c in values)
    assert any("dibanding September 2025" in c.number_format for c in values)


def test_charts_are_native_and_read_this_workbooks_cells(path):
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        refs = [ref for n in charts for ref in re.findall(r"<c:f>(.*?)</c:f>", z.read(n).decode())]
    assert len(charts) == 4
    kinds = set()
    with zipfile.ZipFile(path) as z:
        for n in charts:
            xml = z.read(n).decode()
            kinds |= set(re.findall(r"<c:(barChart|doughnutChart|lineChart)>", xml))
    assert kinds == {"barChart", "doughnutChart", "lineChart"}
    sheets = {re.match(r"'?(.*?)'?!", ref).group(1) for ref in refs}
    assert sheets <= set(REGENCY_SHEETS) and {"Capaian per Unit", "Tren", "Ringkasan"} <= sheets


def test_print_setup_and_frozen_header(book):
    for name in REGENCY_SHEETS:
        ws = book[name]
        assert ws.page_setup.paperSize == 9, name
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
    assert book["RB Umum"].print_title_rows == "$1:$1"
    assert book["RB Umum"].freeze_panes == "D2"
    assert book["Masalah Validasi"].freeze_panes == "C5"


def test_document_date_comes_from_the_period(book):
    created = book.properties.created
    assert (created.year, created.month, created.day) == (2025, 10, 31)


def test_identical_runs_give_identical_bytes(run, path, tmp_path):
    again = tmp_path / "again.xlsx"
    write_regency_workbook(again, make_run(hostile=True))
    assert again.read_bytes() == path.read_bytes()


def test_input_order_does_not_change_the_bytes(path, tmp_path):
    shuffled = make_run(hostile=True)
    rng = random.Random(7)
    rng.shuffle(shuffled.submissions)
    rng.shuffle(shuffled.problems)
    plans = shuffled.metrics.plans.sample(frac=1, random_state=3)
    shuffled.metrics = dataclasses.replace(shuffled.metrics, plans=plans)
    out = tmp_path / "shuffled.xlsx"
    write_regency_workbook(out, shuffled)
    assert out.read_bytes() == path.read_bytes()


def test_a_month_without_history_or_submissions_still_writes(tmp_path):
    run = make_run(history=False)
    out = tmp_path / "first.xlsx"
    write_regency_workbook(out, run)
    book = openpyxl.load_workbook(out)
    assert [c.value for c in book["Tren"][4]][3:] == ["Oktober 2025", "Perubahan"]
    texts = {c.value for row in book["Ringkasan"].iter_rows() for c in row}
    assert "belum ada data bulan sebelumnya" in texts

    empty = make_run(history=False)
    empty.submissions = []
    empty.problems = []
    plans = empty.metrics.plans.iloc[0:0]
    units = empty.metrics.units.assign(submitted=False, on_time=None, rank=None, rows=0)
    empty.metrics = dataclasses.replace(empty.metrics, plans=plans, units=units)
    write_regency_workbook(tmp_path / "empty.xlsx", empty)
    book = openpyxl.load_workbook(tmp_path / "empty.xlsx")
    assert [c.value for c in book["RB Umum"][1]] == list(consolidated_headers("umum"))
    assert book["RB Umum"].max_row == 1


@pytest.mark.libreoffice
def test_libreoffice_renders_without_hash_marks(path, tmp_path):
    """Open the workbook in LibreOffice, print it to PDF: no number is too wide for its column
    (a cell showing ``###``) and the period label is there."""
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = tmp_path / path.with_suffix(".pdf").name
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "###" not in text
    assert "Periode Oktober 2025" in text and "Tingkat Pelaporan" in text
    assert PERIOD.label in text
