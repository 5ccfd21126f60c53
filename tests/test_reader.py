"""The workbook reader: what a unit's file holds, in every format, and why a file is refused.

Fixtures are real producers' files: ``tests/fixtures/reader/sample.*`` (openpyxl, and
LibreOffice's .xlsx/.xls/.ods conversions of it, see ``builders.py``); hostile files are made at
test time by ``tests/fixtures/reader/hostile.py``; odd real-world files come from
``../shared/corpus/foreign``.
"""

import datetime as dt
import importlib.util
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import CORPUS, needs_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest import containers, ooxml, scan
from pipeline.ingest.limits import DEFAULT_LIMITS, Limits
from pipeline.ingest.reader import read_workbook
from pipeline.ingest.sniff import sniff, sniff_format
from pipeline.ingest.workbook import ReadFailure
from pipeline.problems import load_catalogue
from pipeline.schema import column_letter

FIXTURES = Path(__file__).parent / "fixtures" / "reader"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"reader_{name}", FIXTURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hostile = _load("hostile")
builders = _load("builders")


def failure_of(path: Path, limits: Limits = DEFAULT_LIMITS) -> ReadFailure:
    with pytest.raises(ReadFailure) as caught:
        read_workbook(path, limits)
    assert caught.value.code in load_catalogue(), caught.value.code
    return caught.value


# --------------------------------------------------------------------------------------------
# Values and metadata, the same in every format
# --------------------------------------------------------------------------------------------

SAMPLE_ROWS = [
    ["RENCANA AKSI RB UMUM"],
    [],
    ["Kode RA", "Rencana Aksi", "Satuan", "TARGET", None, "Anggaran (Rp)", "Catatan internal"],
    [None, None, None, "TW I", "TW II"],
    ["U-01", "Penyusunan SOP", "Persen", 0.75, 1, 1250000, "rahasia"],
    ["U-02", "Baris tersembunyi", "Dokumen", 2, 4, 2500000],
    ["U-03", dt.date(2025, 10, 23), True, 12.5, "Teks\tdengan tab"],
    ["U-04"],
]
SAMPLES = {
    "sample.xlsx": ("xlsx", "Openpyxl"),
    "sample.lo.xlsx": ("xlsx", "LibreOffice"),
    "sample.xls": ("xls", None),
    "sample.ods": ("ods", "LibreOffice"),
}


def expected_rows(name: str) -> list[list]:
    rows = [list(row) for row in SAMPLE_ROWS]
    if name == "sample.xlsx":
        rows[5] = rows[5][:5]  # openpyxl stores no result for =F5*2
    if name == "sample.ods":
        rows[6][2] = 1.0  # calamine reads an ODS boolean as its number
        rows[6][4] = "Teksdengan tab"  # and drops <text:tab/>
    return rows


@pytest.mark.parametrize("name", SAMPLES)
def test_every_format_gives_the_same_cells_at_the_same_coordinates(name):
    book = read_workbook(FIXTURES / name)
    fmt, producer = SAMPLES[name]
    assert book.format == fmt
    assert (producer is None and book.producer is None) or producer in book.producer
    sheet = book.sheet("RB Umum")
    assert sheet.cells == expected_rows(name)
    assert sheet.value(5, 4) == 0.75 and sheet.value(1, 1) == "RENCANA AKSI RB UMUM"


@pytest.mark.parametrize("name", SAMPLES)
def test_every_format_gives_merges_percent_cells_hidden_rows_and_columns(name):
    sheet = read_workbook(FIXTURES / name).sheet("RB Umum")
    assert sheet.merged == [(1, 1, 1, 6), (3, 4, 3, 5)]
    assert sheet.percent == {(5, 4), (5, 5)}
    assert sheet.hidden_rows == {6}
    assert sheet.hidden_cols == {7}


@pytest.mark.parametrize("name", SAMPLES)
def test_formulas_give_their_cached_value_an_error_or_are_flagged_without_one(name):
    sheet = read_workbook(FIXTURES / name).sheet("RB Umum")
    if name == "sample.xlsx":  # openpyxl writes formulas without results
        assert sheet.formulas_without_value == {(6, 6), (8, 4)}
        assert sheet.errors == {}
    else:
        assert sheet.value(6, 6) == 2500000
        assert sheet.errors == {(8, 4): "#DIV/0!"}
        assert sheet.formulas_without_value == set()
    assert sheet.value(8, 4) is None


@pytest.mark.parametrize("name", SAMPLES)
def test_sheet_visibility_is_kept(name):
    states = {s.name: s.state for s in read_workbook(FIXTURES / name).sheets}
    very_hidden = "veryHidden" if name == "sample.xlsx" else "hidden"  # LibreOffice has no
    assert states == {"RB Umum": "visible", "Referensi": "hidden", "_rbpipe_meta": very_hidden}


@pytest.mark.libreoffice
def test_committed_fixtures_match_a_fresh_libreoffice_conversion(tmp_path):
    source = builders.build_sample(tmp_path / "sample.xlsx")
    fresh = builders.convert(source, tmp_path)
    for name, path in {"sample.xlsx": source, **fresh}.items():
        new, committed = read_workbook(path), read_workbook(FIXTURES / name)
        assert [s.name for s in new.sheets] == [s.name for s in committed.sheets]
        for a, b in zip(new.sheets, committed.sheets, strict=True):
            assert (a.cells, a.merged, a.percent, a.errors) == (
                b.cells,
                b.merged,
                b.percent,
                b.errors,
            )
            assert (a.hidden_rows, a.hidden_cols, a.state) == (
                b.hidden_rows,
                b.hidden_cols,
                b.state,
            )


def test_the_format_comes_from_the_content_not_the_extension(tmp_path):
    as_xlsx = shutil.copy(FIXTURES / "sample.xls", tmp_path / "laporan.xlsx")
    as_pdf = shutil.copy(FIXTURES / "sample.ods", tmp_path / "laporan.pdf")
    no_ext = shutil.copy(FIXTURES / "sample.lo.xlsx", tmp_path / "laporan")
    assert read_workbook(as_xlsx).format == "xls"
    assert read_workbook(as_pdf).format == "ods"
    assert read_workbook(no_ext).sheet("RB Umum").value(5, 1) == "U-01"


def test_cells_start_at_a1_whatever_the_first_used_cell(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["C5"], wb.active["D7"] = "Kode RA", 3
    wb.save(tmp_path / "geser.xlsx")
    sheet = read_workbook(tmp_path / "geser.xlsx").sheets[0]
    assert sheet.value(5, 3) == "Kode RA" and sheet.value(7, 4) == 3
    assert sheet.cells[:4] == [[], [], [], []]


def test_a_percent_style_is_recognised_from_its_format_code(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    formats = {
        "A1": "0.00%",
        "B1": '0"%"',
        "C1": "[Red]0%;-0%",
        "D1": "0.0",
        "E1": '"%" 0',
        "F1": "0\\%",
    }
    for cell, code in formats.items():
        ws[cell] = 0.5
        ws[cell].number_format = code
    ws["G1"] = "50%"  # text, not a number: the parser reads the sign
    ws["G1"].number_format = "0%"
    wb.save(tmp_path / "format.xlsx")
    assert read_workbook(tmp_path / "format.xlsx").sheets[0].percent == {(1, 1), (1, 3)}


def test_macros_are_flagged_never_run(tmp_path):
    book = read_workbook(CORPUS / "issue3.xlsm") if CORPUS.is_dir() else None
    if book is not None:
        assert book.format == "xlsm" and book.has_macros
    assert not read_workbook(FIXTURES / "sample.xlsx").has_macros


# --------------------------------------------------------------------------------------------
# Files that are not (readable) workbooks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "RB-E001", "dokumen PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "RB-E001", "gambar PNG"),
        (b"", "RB-E001", "berkas kosong"),
        (b"Laporan RB bulan Oktober\nmohon maaf terlambat\n", "RB-E001", "berkas teks"),
        (b"Kode RA;Indikator;Target\nU-01;SOP;4\nU-02;SPBE;2\n", "RB-E012", "CSV"),
        (b"<html><body><table><tr><td>1</td></tr></table>", "RB-E012", "HTML"),
        (b"\x00\x01\x02\x03\x04\x05garbage\x00\x00\xff", "RB-E001", "biner"),
    ],
)
def test_non_workbooks_are_refused_naming_what_they_look_like(tmp_path, content, code, words):
    path = tmp_path / "laporan.xlsx"
    path.write_bytes(content)
    failure = failure_of(path)
    assert failure.code == code
    assert words in failure.message


def test_a_zip_without_workbook_parts_and_a_word_document_are_not_workbooks(tmp_path):
    with zipfile.ZipFile(tmp_path / "foto.xlsx", "w") as zf:
        zf.writestr("foto/kegiatan.jpg", b"\xff\xd8\xff")
    with zipfile.ZipFile(tmp_path / "surat.xlsx", "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
    assert "arsip ZIP tanpa lembar kerja" in failure_of(tmp_path / "foto.xlsx").message
    assert "dokumen Word" in failure_of(tmp_path / "surat.xlsx").message
    assert sniff_format(tmp_path / "surat.xlsx") is None


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_a_truncated_workbook_is_corrupt_not_foreign(tmp_path, keep):
    data = (FIXTURES / "sample.lo.xlsx").read_bytes()
    path = tmp_path / "terpotong.xlsx"
    path.write_bytes(data[: int(len(data) * keep)])
    assert failure_of(path).code == "RB-E003"


def test_a_truncated_xls_is_corrupt(tmp_path):
    data = (FIXTURES / "sample.xls").read_bytes()
    path = tmp_path / "terpotong.xls"
    path.write_bytes(data[:1500])
    assert failure_of(path).code == "RB-E003"


def test_a_corrupted_sheet_stream_is_corrupt(tmp_path):
    path = shutil.copy(FIXTURES / "sample.lo.xlsx", tmp_path / "rusak.xlsx")
    data = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + 10
    data[start : start + 40] = b"\x00" * 40
    Path(path).write_bytes(bytes(data))
    assert failure_of(path).code == "RB-E003"


def test_an_empty_workbook_is_empty(tmp_path):
    openpyxl.Workbook().save(tmp_path / "kosong.xlsx")
    failure = failure_of(tmp_path / "kosong.xlsx")
    assert failure.code == "RB-E004"


@needs_corpus
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("pass_protected.xlsx", "RB-E002"),  # OLE2 EncryptedPackage
        ("pass_protected.ods", "RB-E002"),  # encryption-data in the manifest
        ("issue_385.xls", "RB-E002"),  # BIFF FILEPASS
        ("any_sheets.xlsb", "RB-E012"),
        ("too_small.xls", "RB-E001"),
    ],
)
def test_protected_and_unsupported_files(name, code):
    failure = failure_of(CORPUS / name)
    assert failure.code == code
    if code == "RB-E012":
        assert "simpan ulang sebagai .xlsx" in failure.message


@needs_corpus
def test_sniff_names_formats_by_content():
    assert sniff_format(CORPUS / "pass_protected.xlsx") == "encrypted"
    assert sniff_format(CORPUS / "date.xlsb") == "xlsb"
    assert sniff_format(CORPUS / "vba.xlsm") == "xlsm" and sniff(CORPUS / "vba.xlsm").has_macros
    assert sniff_format(CORPUS / "date.ods") == "ods"
    assert sniff_format(CORPUS / "README.md") is None
    assert sniff_format(FIXTURES / "sample.xls") == "xls"


# --------------------------------------------------------------------------------------------
# Hostile files (issue 7): refused before the heavy read, with the limit named
# --------------------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path):
    path = hostile.zip_bomb(tmp_path / "bom.xlsx", gib=1)
    assert path.stat().st_size < 4 << 20
    failure = failure_of(path)
    assert failure.code == "RB-E007"
    assert "zip bomb" in failure.message and "sheet1.xml" in failure.message


def test_uncompressed_size_limit_is_named(tmp_path):
    path = hostile.million_rows(tmp_path / "besar.xlsx", rows=50_000)
    failure = failure_of(path, Limits(max_uncompressed_bytes=1 << 20))
    assert failure.code == "RB-E007" and "setelah diekstrak" in failure.message


@pytest.mark.parametrize("part", ["sharedStrings", "workbook"])
def test_entity_expansion_is_refused(tmp_path, part):
    failure = failure_of(hostile.billion_laughs(tmp_path / "lol.xlsx", part))
    assert failure.code == "RB-E007"
    assert "billion laughs" in failure.message


def test_entity_expansion_in_an_ods_is_refused(tmp_path):
    path = tmp_path / "lol.ods"
    with zipfile.ZipFile(FIXTURES / "sample.ods") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "content.xml":
                data = data.replace(b"?>", b"?>" + hostile.LAUGHS.encode(), 1)
                data = data.replace(b"<text:p>Persen</text:p>", b"<text:p>&lol9;</text:p>")
            dst.writestr(info, data)
    failure = failure_of(path)
    assert failure.code == "RB-E007" and "billion laughs" in failure.message


def test_a_value_in_xfd1048576_is_refused_before_calamine_allocates_for_it(tmp_path):
    failure = failure_of(hostile.far_cell(tmp_path / "jauh.xlsx"))
    assert failure.code == "RB-E007"
    assert "1.048.576 baris" in failure.message and "100.000" in failure.message


def test_a_declared_dimension_alone_is_not_trusted_nor_feared(tmp_path):
    sheet = hostile.sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "A1:XFD1048576")
    book = read_workbook(hostile.minimal_xlsx(tmp_path / "dimensi.xlsx", sheet))
    assert book.sheets[0].cells == [["Kode RA"]]


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (Limits(max_cols=20), "kolom"),
        (Limits(max_cells=1_000), "sel"),
    ],
)
def test_column_and_cell_limits_are_named(tmp_path, limits, words):
    cells = "".join(f'<c r="{c}40"><v>1</v></c>' for c in ("A", "Z"))
    path = hostile.minimal_xlsx(
        tmp_path / "lebar.xlsx", hostile.sheet_xml(f'<row r="40">{cells}</row>')
    )
    failure = failure_of(path, limits)
    assert failure.code == "RB-E007" and words in failure.message


def test_a_million_row_sheet_is_refused_naming_the_row_limit(tmp_path):
    path = hostile.million_rows(tmp_path / "sejuta.xlsx")
    assert path.stat().st_size < 8 << 20
    failure = failure_of(path)
    assert failure.code == "RB-E007"
    assert "100.001 baris" in failure.message and "batas 100.000 baris" in failure.message


def test_excels_longest_cell_is_read_whole_and_a_longer_one_refused(tmp_path):
    book = read_workbook(hostile.long_text(tmp_path / "panjang.xlsx", 32_767))
    assert book.sheets[0].value(1, 2) == "x" * 32_767
    failure = failure_of(hostile.long_text(tmp_path / "terlalu.xlsx", 40_000))
    assert failure.code == "RB-E007" and "40.000 karakter" in failure.message


def test_control_characters_are_removed_tab_and_line_breaks_kept(tmp_path):
    cells = read_workbook(hostile.control_characters(tmp_path / "kontrol.xlsx")).sheets[0].cells
    assert cells == [["Kode RA", "baris satu\nbaris dua\r", "kolom\tdua"]]


def test_too_many_zip_members_or_sheets_or_bytes(tmp_path):
    failure = failure_of(hostile.many_members(tmp_path / "banyak.xlsx", 10_001))
    assert failure.code == "RB-E007" and "10.000" in failure.message
    failure = failure_of(FIXTURES / "sample.lo.xlsx", Limits(max_sheets=2))
    assert failure.code == "RB-E007" and "jumlah lembar 3" in failure.message
    failure = failure_of(FIXTURES / "sample.xls", Limits(max_file_bytes=1_000))
    assert failure.code == "RB-E007" and "ukuran berkas" in failure.message


def test_xls_and_ods_used_ranges_are_checked_before_calamine(tmp_path):
    for name in ("sample.xls", "sample.ods"):
        failure = failure_of(FIXTURES / name, Limits(max_rows_per_sheet=6))
        assert failure.code == "RB-E007" and "batas 6 baris" in failure.message


# --------------------------------------------------------------------------------------------
# The two xlsx scans agree (property-based: the fast path must never see less than the parser)
# --------------------------------------------------------------------------------------------

_cell = st.tuples(
    st.integers(1, 60),  # row
    st.integers(1, 40),  # column
    st.sampled_from(["n", "s", "e", "f", "fv", "empty", "str"]),
    st.sampled_from([None, 0, 1, 2]),  # style index (1 is the percent style below)
)


def _sheet_from(cells, hidden_rows, hidden_cols) -> str:
    rows: dict[int, list] = {}
    for row, col, kind, style in cells:
        rows.setdefault(row, {})[col] = (kind, style)
    body = []
    for row in sorted(rows):
        hidden = ' hidden="1"' if row in hidden_rows else ""
        parts = []
        for col in sorted(rows[row]):
            kind, style = rows[row][col]
            ref = f"{column_letter(col)}{row}"
            s = f' s="{style}"' if style is not None else ""
            parts.append(
                {
                    "n": f'<c r="{ref}"{s}><v>{col}.5</v></c>',
                    "s": f'<c r="{ref}"{s} t="s"><v>0</v></c>',
                    "e": f'<c r="{ref}"{s} t="e"><v>#REF!</v></c>',
                    "f": f'<c r="{ref}"{s}><f>1+1</f></c>',
                    "fv": f'<c r="{ref}"{s}><f>1+1</f><v>2</v></c>',
                    "empty": f'<c r="{ref}"{s}/>',
                    "str": f'<c r="{ref}"{s} t="inlineStr"><is><t>teks</t></is></c>',
                }[kind]
            )
        body.append(f'<row r="{row}"{hidden}>{"".join(parts)}</row>')
    cols = "".join(f'<col min="{c}" max="{c}" hidden="1"/>' for c in sorted(hidden_cols))
    xml = hostile.sheet_xml("".join(body))
    return xml.replace("<sheetData>", f"<cols>{cols}</cols><sheetData>" if cols else "<sheetData>")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(_cell, max_size=40, unique_by=lambda c: (c[0], c[1])),
    hidden_rows=st.sets(st.integers(1, 60), max_size=4),
    hidden_cols=st.sets(st.integers(1, 40), max_size=4),
)
def test_fast_scan_and_streaming_scan_agree(cells, hidden_rows, hidden_cols):
    import io

    xml = _sheet_from(cells, hidden_rows, hidden_cols).encode()
    percent_styles = frozenset({1})
    fast = ooxml._fast_scan(xml, percent_styles)
    target = ooxml._SheetTarget("RB Umum", percent_styles, DEFAULT_LIMITS)
    slow = containers.stream_scan(io.BytesIO(xml), target)
    assert fast is not None
    scan.clip(fast)
    scan.clip(slow)
    assert (fast.percent, fast.errors, fast.formulas_without_value) == (
        slow.percent,
        slow.errors,
        slow.formulas_without_value,
    )
    assert (fast.hidden_rows, fast.hidden_cols) == (slow.hidden_rows, slow.hidden_cols)
    filled = [(r, c) for r, c, kind, _ in cells if kind != "empty"]
    assert (fast.n_rows, fast.n_cols) == (slow.n_rows, slow.n_cols)
    assert slow.n_rows == max((r for r, _ in filled), default=0)
    assert slow.n_cols == max((c for _, c in filled), default=0)
