"""Feedback workbooks and the reminder list, read back as a unit operator's Excel would."""

from __future__ import annotations

import itertools
import re
import statistics
import subprocess
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
from conftest import REMINDERS_FILE, feedback_name, unknown_feedback_name
from factories import DINSOS_FILE, HOSTILE_TEXTS, PERIOD, make_run, unit_texts
from hypothesis import given
from hypothesis import strategies as st

from pipeline import schema
from pipeline.outputs import safe_file_part
from pipeline.problems import load_catalogue
from pipeline.publish.feedback import feedback_views, write_feedback_workbooks, write_reminders

ERROR_FILL = "FFFFC7CE"
WARNING_FILL = "FFFFEB9C"


@pytest.fixture(scope="module")
def run():
    return make_run(hostile=True)


@pytest.fixture(scope="module")
def folder(run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("umpan_balik")
    write_feedback_workbooks(out, run)
    return out


@pytest.fixture(scope="module")
def books(folder) -> dict[str, openpyxl.Workbook]:
    return {p.name: openpyxl.load_workbook(p) for p in sorted(folder.glob("*.xlsx"))}


def book_of(books, kode: str) -> openpyxl.Workbook:
    return books[feedback_name(kode, PERIOD)]


def fixes(book) -> list[dict]:
    ws = book["Perbaikan"]
    headers = [c.value for c in ws[5]]
    return [
        {h: c for h, c in zip(headers, row, strict=False) if h}
        for row in ws.iter_rows(min_row=6)
        if row[0].value is not None
    ]


def all_text(book) -> list[str]:
    """Every text a reader can reach: cell values, comments, hyperlink targets, sheet names."""
    out = list(book.sheetnames)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out.append(str(c.value))
                if c.comment is not None:
                    out.append(c.comment.text)
                if c.hyperlink is not None:
                    out += [c.hyperlink.target or "", c.hyperlink.location or ""]
    return out


def test_one_workbook_per_sender(folder):
    names = sorted(p.name for p in folder.glob("*.xlsx"))
    assert names == [
        *(feedback_name(k, PERIOD) for k in ("BAPPEDA", "DINKES", "DINSOS", "DISKOMINFO")),
        feedback_name("INSPEKTORAT", PERIOD),
        unknown_feedback_name("laporan-rb-final", PERIOD),
        unknown_feedback_name("scan-undangan", PERIOD),
    ]
    assert not list(folder.glob(".*")), "no temporary files left behind"


@pytest.mark.parametrize("kode", ["DINKES", "DINSOS", "INSPEKTORAT"])
def test_every_problem_is_listed_highlighted_commented_and_linked(run, books, kode):
    book = book_of(books, kode)
    listed = fixes(book)
    mine = [p for p in run.problems if p.unit == kode]
    assert len(listed) == len(mine)
    assert [r["Tingkat"].value for r in listed] == sorted(
        (r["Tingkat"].value for r in listed), key=["Kesalahan", "Peringatan"].index
    )
    for p in mine:
        row = next(r for r in listed if r["Kode"].value == p.code and r["Lembar"].value == p.sheet)
        assert row["Masalah"].value == p.message
        if not p.row:
            assert row["Sel"].value is None
            continue
        assert row["Sel"].value == f"{p.column}{p.row}"  # the address in the unit's own file
        accepted = next(s for s in run.submissions if s.unit == kode and s.accepted)
        kind = next(lo.kind for lo in accepted.layouts if lo.sheet == p.sheet)
        target = schema.SHEETS[kind].name
        assert row["Sel"].hyperlink.location == f"'{target}'!{p.column}{p.row}"
        cell = book[target][f"{p.column}{p.row}"]
        assert cell.fill.fgColor.rgb == (ERROR_FILL if p.is_error else WARNING_FILL)
        assert p.code in cell.comment.text and p.message in cell.comment.text


def test_drifted_layout_is_rendered_at_the_units_own_addresses(run, books):
    book = book_of(books, "DINSOS")
    rows = run.rows[run.rows["_file"] == DINSOS_FILE]
    for plan in rows.to_dict("records"):
        ws = book[schema.SHEETS[plan["_kind"]].name]
        assert ws[f"{plan['_col_kode']}{plan['_row']}"].value == plan["kode"]
        assert ws[f"{plan['_col_indikator']}{plan['_row']}"].value == plan["indikator"]
        anggaran = ws[f"{plan['_col_anggaran']}{plan['_row']}"].value
        assert anggaran == (None if plan["anggaran"] != plan["anggaran"] else plan["anggaran"])
    umum = book["RB Umum"]
    assert umum["B7"].value == "Kode RA" and umum["A7"].value == "No"  # header on their row 7
    assert umum["A7"].fill.fgColor.rgb == WARNING_FILL  # RB-W010, unknown column
    assert umum["M10"].value == "dua"  # the unparseable text, where they typed it
    assert "RB UMUM 2025" in umum["A1"].value


def test_template_layout_and_missing_sheet(run, books):
    dinkes = book_of(books, "DINKES")
    assert dinkes["RB Umum"]["A4"].value == "Kode RA"
    assert dinkes["RB Umum"]["A5"].value == "U-01"
    inspektorat = book_of(books, "INSPEKTORAT")
    assert "tidak ditemukan" in inspektorat["RB Umum"]["A1"].value
    listed = fixes(inspektorat)
    assert any(r["Kode"].value == "RB-E008" for r in listed)


def test_summary_verdict_metrics_and_rank(run, books):
    texts = all_text(book_of(books, "DINKES"))
    joined = "\n".join(texts)
    assert "2 kesalahan harus diperbaiki sebelum 5 Desember 2025" in joined
    assert "Peringkat 2 dari 4 unit" in joined
    units = run.metrics.units
    reported = units[units["submitted"]]
    median = statistics.median(reported["completion_rate"].dropna())
    ws = book_of(books, "DINKES")["Ringkasan"]
    row = next(r for r in ws.iter_rows() if r[0].value == "Tingkat Penyelesaian")
    assert row[1].value == pytest.approx(units.set_index("kode").loc["DINKES", "completion_rate"])
    assert row[2].value == pytest.approx(median)
    clean = "\n".join(all_text(book_of(books, "DISKOMINFO")))
    assert "sesuai semua aturan pemeriksaan. Terima kasih" in clean


def test_rejected_file_says_why_and_what_to_send(books):
    book = book_of(books, "BAPPEDA")
    assert book.sheetnames == ["Ringkasan", "Perbaikan", "Legenda"]
    text = "\n".join(all_text(book))
    assert "Ditolak" in text and "bukan Oktober 2025" in text
    assert "Yang perlu Anda kirim" in text and "BAPPEDA_2025-10.xlsx" in text
    assert "periode: 2025-09" in text


def test_unknown_sender_gets_its_own_workbook(books):
    book = books[unknown_feedback_name("laporan-rb-final", PERIOD)]
    text = "\n".join(all_text(book))
    assert "Pengirim tidak dikenali" in text
    assert "laporan rb (final).xlsx" in text and "tidak dapat dikenali" in text
    assert "<KODE UNIT>_2025-10.xlsx" in text


def test_feedback_stores_formula_like_text_as_text(books):
    book = book_of(books, "DINKES")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    found = {c.value: c.data_type for c in cells if isinstance(c.value, str)}
    for text in (*HOSTILE_TEXTS, "=SUM(A1:A9)"):
        assert found.get(text) == "s", text


def _xml_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def _identities(run) -> list[tuple[str, set[str]]]:
    """(feedback file name, texts of its sender) for every sender."""
    out = []
    for view in feedback_views(run):
        file = None if view.kode else view.submissions[0].name
        out.append((view.file_name, unit_texts(run, view.kode, file)))
    return out


def test_no_workbook_shows_another_senders_data(run, books, folder):
    """For every pair of senders A != B: no text of B that A does not share appears in A's
    workbook — not as a cell, comment, hyperlink or sheet name, and nowhere in its XML.

    Texts shorter than 4 characters (``No``, ``dua``), the template's own vocabulary and words
    of the public rule catalogue (its RB-E005 hint cites ``DINKES`` as an example code) are not
    another unit's data; substrings are checked from 6 characters on."""
    shared_vocabulary = {v for values in run.registry.references.values() for v in values}
    shared_vocabulary |= {sheet.name for sheet in schema.SHEETS.values()}
    rules = "\n".join(f"{r.title}\n{r.description}\n{r.hint}" for r in load_catalogue().values())
    identities = _identities(run)
    for (name_a, texts_a), (name_b, texts_b) in itertools.permutations(identities, 2):
        unique_b = {
            t
            for t in texts_b - texts_a - shared_vocabulary
            if len(t.strip()) >= 4 and not re.fullmatch(r"[\d.,]+", t.strip()) and t not in rules
        }
        assert unique_b, name_b
        reachable = all_text(books[name_a])
        values = set(reachable)
        xml = _xml_text(folder / name_a)
        for text in unique_b:
            assert text not in values, (name_a, text)
            if len(text.strip()) >= 6:
                assert not any(text in v for v in reachable), (name_a, text)
                assert escape(text) not in xml, (name_a, text)


def test_reminders_list_units_whose_report_is_missing(run, tmp_path):
    path = tmp_path / REMINDERS_FILE
    write_reminders(path, run)
    ws = openpyxl.load_workbook(path).active
    rows = {r[1].value: r for r in ws.iter_rows(min_row=6) if r[1].value}
    assert list(rows) == ["BAPPEDA", "KEC-NATAR"]
    assert rows["KEC-NATAR"][2].value == "Kecamatan Natar"
    assert rows["KEC-NATAR"][4].value == "Belum mengirim berkas"
    assert rows["BAPPEDA"][4].value.startswith("Berkas ditolak — BAPPEDA_2025-09.xlsx")


def test_feedback_bytes_are_reproducible(run, folder, tmp_path):
    write_feedback_workbooks(tmp_path, make_run(hostile=True))
    for path in folder.glob("*.xlsx"):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


@given(st.text(max_size=120))
def test_names_built_from_received_files_are_safe(text):
    part = safe_file_part(text)
    assert re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", part)
    assert len(part) <= 60


@pytest.mark.libreoffice
def test_libreoffice_renders_feedback_without_hash_marks(folder, tmp_path):
    path = folder / feedback_name("DINSOS", PERIOD)
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
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / path.with_suffix(".pdf").name), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "###" not in text
    assert "Daftar Perbaikan" in text and "Dinas Sosial" in text
