"""Finding the action-plan sheets, their header and their columns (pure, hand-built sheets)."""

import pytest

from pipeline import schema
from pipeline.ingest import parse_workbook
from pipeline.ingest.layout import (
    detect_layout,
    find_action_sheets,
    sheet_kind_by_name,
)
from pipeline.ingest.workbook import SheetData, WorkbookData

UMUM = schema.SHEETS["umum"]
TEMATIK = schema.SHEETS["tematik"]


def sheet(name, rows, **kw) -> SheetData:
    return SheetData(name=name, cells=[list(r) for r in rows], **kw)


def template_sheet(kind="umum", name=None, data=()):
    """The template's own layout: title, unit line, a note merged over the table, header row 4."""
    fields = schema.SHEETS[kind].fields
    width = len(fields)
    rows = [
        [schema.SHEETS[kind].title],
        ["Unit Kerja: Dinas Kesehatan (DINKES)    Periode: Oktober 2025"],
        ["Satu baris untuk satu rencana aksi. Target dan realisasi diisi kumulatif."],
        [f.header for f in fields],
        *data,
    ]
    merged = [(1, 1, 1, width), (2, 1, 2, width), (3, 1, 3, width)]
    return sheet(name or schema.SHEETS[kind].name, rows, merged=merged)


def two_row_header_sheet(name="RB UMUM 2025"):
    """A unit's own layout: title block, a No column, a two-row header with merged groups
    (TARGET (KUMULATIF) / REALISASI above TW I..TW IV, ANGGARAN above Pagu / Realisasi), the
    single-row fields merged vertically, a column-number row, data from row 9."""
    top = [
        "No", "Kode", "Sasaran Reformasi Birokrasi", "Indikator Kinerja", "RENAKSI", "Keluaran",
        "Sat.", "TARGET (KUMULATIF)", None, None, None, "REALISASI", None, None, None,
        "ANGGARAN", None, "PIC", "Bukti Dukung", "Hambatan", "RTL", "Keterangan",
    ]  # fmt: skip
    low = [None] * 7 + ["TW I", "TW II", "TW III", "TW IV"] * 2 + ["Pagu (Rp)", "Realisasi"]
    low += [None] * 5
    rows = [
        ["RENCANA AKSI REFORMASI BIROKRASI UMUM TAHUN 2025"],
        ["DINAS SOSIAL KABUPATEN LAMPUNG SELATAN"],
        [],
        [],
        [],
        top,
        low,
        list(range(1, 23)),
        [1, "U-01", "Birokrasi yang Kapabel", "x", "y", "z", "Dokumen", 1, 2, 3, 4],
    ]
    merged = [(1, 1, 1, 22), (2, 1, 2, 22), (6, 8, 6, 11), (6, 12, 6, 15), (6, 16, 6, 17)]
    merged += [(6, c, 7, c) for c in [*range(1, 8), *range(18, 23)]]
    return sheet(name, rows, merged=merged)


def test_template_layout():
    layout = detect_layout(template_sheet(), "umum")
    assert layout.header_rows == (4,)
    assert layout.first_data_row == 5
    assert layout.columns == {f.name: UMUM.column_letter(f.name) for f in UMUM.fields}
    assert layout.unknown_columns == ()
    assert layout.missing_fields == ()


def test_two_row_merged_header_with_title_block_and_column_numbers():
    layout = detect_layout(two_row_header_sheet(), "umum")
    assert layout.header_rows == (6, 7)
    assert layout.first_data_row == 9
    assert layout.columns == {
        "kode": "B", "sasaran": "C", "indikator": "D", "rencana_aksi": "E", "output": "F",
        "satuan": "G", "target_tw1": "H", "target_tw2": "I", "target_tw3": "J",
        "target_tw4": "K", "realisasi_tw1": "L", "realisasi_tw2": "M", "realisasi_tw3": "N",
        "realisasi_tw4": "O", "anggaran": "P", "realisasi_anggaran": "Q",
        "penanggung_jawab": "R", "data_dukung": "S", "kendala": "T", "tindak_lanjut": "U",
    }  # fmt: skip
    # The No column is a conventional row number: harmless, not reported.
    assert layout.unknown_columns == (("V", "Keterangan"),)
    assert layout.missing_fields == ()


def test_three_row_header_with_bare_quarter_numbers():
    rows = [
        ["Kode RA", "Tema", "Permasalahan", "Indikator", "Rencana Aksi", "Output", "Satuan",
         "CAPAIAN", None, None, None, None, None, None, None],
        [None] * 7 + ["Target", None, None, None, "Realisasi", None, None, None],
        [None] * 7 + ["I", "II", "III", "IV", "I", "II", "III", "IV"],
        ["T-01"],
    ]  # fmt: skip
    merged = [(1, 8, 1, 15), (2, 8, 2, 11), (2, 12, 2, 15)]
    merged += [(1, c, 3, c) for c in range(1, 8)]
    layout = detect_layout(sheet("Tematik", rows, merged=merged), "tematik")
    assert layout.header_rows == (1, 2, 3)
    assert layout.first_data_row == 4
    assert [layout.columns[f"target_tw{q}"] for q in (1, 2, 3, 4)] == ["H", "I", "J", "K"]
    assert [layout.columns[f"realisasi_tw{q}"] for q in (1, 2, 3, 4)] == ["L", "M", "N", "O"]
    assert set(layout.missing_fields) == {
        "anggaran", "realisasi_anggaran", "penanggung_jawab", "data_dukung", "kendala",
        "tindak_lanjut",
    }  # fmt: skip


def test_quarters_typed_as_numbers_under_a_merged_group():
    rows = [
        ["Kode RA", "Sasaran RB", "Indikator", "Rencana Aksi", "TARGET TW", None, None, None],
        [None, None, None, None, 1, 2, 3, 4],
        ["U-01", "Birokrasi yang Kapabel", "x", "y", 1, 2, 3, 4],
    ]
    merged = [(1, 5, 1, 8)] + [(1, c, 2, c) for c in range(1, 5)]
    layout = detect_layout(sheet("RB Umum", rows, merged=merged), "umum")
    assert layout.header_rows == (1, 2) and layout.first_data_row == 3
    assert [layout.columns[f"target_tw{q}"] for q in (1, 2, 3, 4)] == ["E", "F", "G", "H"]


def test_parent_written_once_over_unmerged_cells_reaches_its_quarters():
    rows = [
        ["Kode RA", "Sasaran RB", "Indikator", "Rencana Aksi", "Target", None, None, None],
        [None, None, None, None, "TW I", "TW II", "TW III", "TW IV"],
    ]
    layout = detect_layout(sheet("RB Umum", rows), "umum")
    assert [layout.columns[f"target_tw{q}"] for q in (1, 2, 3, 4)] == ["E", "F", "G", "H"]


def test_reordered_and_drifted_headers():
    headers = [
        "Target Tw.1", "Real. TW I", "Target TW-II", "Realisasi Triwulan II", "TARGET TW 3",
        "Capaian TW III", "target tw4", "REALISASI TW IV", "Penanggungjawab", "RENCANA AKSI",
        "Kode RA", "Sasaran", "Indikator", "Output", "Satuan", "Pagu Anggaran (Rp)",
        "Realisasi Anggaran (Rp)", "Data Dukung", "Kendala", "Tindak Lanjut",
    ]  # fmt: skip
    layout = detect_layout(sheet("RB Umum", [["Judul"], headers]), "umum")
    assert layout.header_rows == (2,)
    assert layout.columns["target_tw1"] == "A"
    assert layout.columns["realisasi_tw1"] == "B"
    assert layout.columns["realisasi_tw3"] == "F"
    assert layout.columns["penanggung_jawab"] == "I"
    assert layout.columns["rencana_aksi"] == "J"
    assert layout.columns["kode"] == "K"
    assert layout.missing_fields == ()
    # The columns dict follows the template's field order, whatever the sheet's order.
    assert list(layout.columns) == list(UMUM.field_names)


def test_units_row_under_the_header_belongs_to_it():
    headers = [f.header for f in UMUM.fields]
    units = [None] * len(headers)
    units[UMUM.field_names.index("anggaran")] = "(Rp)"
    layout = detect_layout(sheet("RB Umum", [headers, units, ["U-01"]]), "umum")
    assert layout.header_rows == (1, 2)
    assert layout.first_data_row == 3


def test_field_of_the_other_kind_is_an_unknown_column():
    headers = [f.header for f in UMUM.fields] + ["Tema"]
    layout = detect_layout(sheet("RB Umum", [headers]), "umum")
    assert layout.unknown_columns == ((schema.column_letter(len(headers)), "Tema"),)


def test_hidden_duplicate_column_yields_to_the_visible_one():
    headers = ["Kode RA", "Target TW I", "Target TW I", "Indikator", "Rencana Aksi", "Output"]
    layout = detect_layout(sheet("RB Umum", [headers], hidden_cols={2}), "umum")
    assert layout.columns["target_tw1"] == "C"
    assert layout.unknown_columns == (("B", "Target TW I"),)


def test_hidden_column_without_a_known_header_is_not_a_field():
    headers = ["Kode RA", "bantu", "Indikator", "Rencana Aksi", "Output", "Target TW I"]
    layout = detect_layout(sheet("RB Umum", [headers], hidden_cols={2}), "umum")
    assert "B" not in layout.columns.values()
    assert layout.unknown_columns == (("B", "bantu"),)


def test_no_header_in_the_first_rows():
    rows = [["catatan"]] * 25 + [[f.header for f in UMUM.fields]]
    assert detect_layout(sheet("RB Umum", rows), "umum") is None
    assert detect_layout(sheet("RB Umum", []), "umum") is None


@pytest.mark.parametrize(
    "name, kind",
    [
        ("RB Umum", "umum"),
        ("RB UMUM", "umum"),
        ("rb  umum ", "umum"),
        ("Umum", "umum"),
        ("RB UMUM 2025", "umum"),
        ("RA Umum", "umum"),
        ("RB Tematik", "tematik"),
        ("RB TEMATIK 2025", "tematik"),
        ("Tematik", "tematik"),
        ("Tematik (2)", "tematik"),
        ("Lap. RB Tematik Okt", "tematik"),
    ],
)
def test_sheet_names(name, kind):
    assert sheet_kind_by_name(name)[0] == kind


@pytest.mark.parametrize("name", ["Identitas", "Sheet1", "Rekap Umum dan Tematik", "Referensi"])
def test_not_action_sheet_names(name):
    assert sheet_kind_by_name(name) is None


def test_renamed_sheets_are_found_by_name():
    wb = WorkbookData(
        format="xlsx",
        sheets=[
            sheet("Identitas", [["Kode Unit", "DINKES"]]),
            two_row_header_sheet("RB UMUM 2025"),
            template_sheet("tematik", name="TEMATIK"),
        ],
    )
    found = find_action_sheets(wb)
    assert found["umum"][0].name == "RB UMUM 2025"
    assert found["tematik"][0].name == "TEMATIK"
    assert found["tematik"][1].header_rows == (4,)


def test_sheets_named_nothing_useful_are_found_by_their_header():
    wb = WorkbookData(
        format="xlsx",
        sheets=[
            template_sheet("tematik", name="Sheet1"),
            template_sheet("umum", name="Sheet2"),
            sheet("Sheet3", [["catatan"]]),
        ],
    )
    found = find_action_sheets(wb)
    assert found["umum"][0].name == "Sheet2"
    assert found["tematik"][0].name == "Sheet1"


def test_an_empty_sheet_named_for_a_kind_gives_way_to_a_copy_with_a_header():
    wb = WorkbookData(
        format="xlsx",
        sheets=[sheet("RB Umum", [["kosong"]]), template_sheet("umum", name="RB Umum (2)")],
    )
    assert find_action_sheets(wb)["umum"][0].name == "RB Umum (2)"


def test_visible_sheet_preferred_over_a_hidden_old_copy():
    old = template_sheet("umum", name="RB Umum lama")
    old.state = "hidden"
    wb = WorkbookData(format="xlsx", sheets=[old, template_sheet("umum", name="Umum")])
    assert find_action_sheets(wb)["umum"][0].name == "Umum"


def test_missing_sheet_and_missing_header_are_file_problems():
    wb = WorkbookData(
        format="xlsx",
        sheets=[sheet("Identitas", [["Kode Unit", "DINKES"]]), sheet("RB Umum", [["x"]])],
    )
    parsed = parse_workbook(wb)
    codes = {p.code: p for p in parsed.problems}
    assert set(codes) == {"RB-E008", "RB-E009"}
    assert "RB Tematik" in codes["RB-E008"].message
    assert "Identitas, RB Umum" in codes["RB-E008"].message
    assert codes["RB-E009"].sheet == "RB Umum"
    assert parsed.sheets == ()
