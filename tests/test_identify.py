"""Which unit sent a file and for which month: metadata, Identitas, file name, folder."""

import datetime as dt

import pytest

from pipeline import schema
from pipeline.ingest.identify import Clues, extract_clues, identify, period_in_name, unit_in_text
from pipeline.ingest.workbook import SheetData, WorkbookData
from pipeline.registry import Period, load_registry

OCT = Period(2025, 10)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def codes(ident):
    return [f.code for f in ident.findings]


@pytest.mark.parametrize(
    "name, unit",
    [
        ("Laporan RB Dinkes Oktober 2025.xls", "DINKES"),
        ("Dinas Sosial - RB 2025 (okt).xlsx", "DINSOS"),
        ("DINKES_2025-10.xlsx", "DINKES"),
        ("KEC-NATAR_2025-10.xlsx", "KEC-NATAR"),
        ("renaksi kec. natar okt.xlsx", "KEC-NATAR"),
        ("RB Kominfo 2025-10.xlsx", "DISKOMINFO"),
        ("Dukcapil okt 2025.ods", "DISDUKCAPIL"),
        ("Disketapang_2025-10.xlsx", "DISKETAPANG"),
        ("Kec Ketapang_2025-10.xlsx", "KEC-KETAPANG"),
        ("Ketapang_2025-10.xlsx", "KEC-KETAPANG"),
        ("RENCANA AKSI RB DINAS KESEHATAN KAB LAMPUNG SELATAN.xlsx", "DINKES"),
    ],
)
def test_unit_from_file_name(registry, name, unit):
    ident = identify(Clues(), name, registry, OCT)
    assert ident.unit == unit
    assert ident.identified_by["unit"] == "nama_berkas"
    assert codes(ident) == []


def test_disketapang_is_not_the_kecamatan_ketapang(registry):
    assert unit_in_text("Disketapang", registry) == {"DISKETAPANG"}
    assert unit_in_text("Dinas Ketahanan Pangan", registry) == {"DISKETAPANG"}
    assert unit_in_text("Kecamatan Ketapang", registry) == {"KEC-KETAPANG"}


def test_a_name_naming_two_units_is_no_answer(registry):
    ident = identify(Clues(), "Dinkes dan Dinsos okt.xlsx", registry, OCT)
    assert ident.unit is None
    assert codes(ident) == ["RB-E005"]
    assert "DINKES, DINSOS" in ident.findings[0].message


def test_unknown_unit_names_what_was_found(registry):
    clues = Clues(identitas={"kode_unit": "DINKESS", "periode": "2025-10"})
    ident = identify(clues, "laporan rb.xlsx", registry, OCT)
    assert ident.unit is None and ident.rejected
    assert codes(ident) == ["RB-E005"]
    assert "lembar Identitas menyebut 'DINKESS'" in ident.findings[0].message


def test_nothing_at_all_says_so(registry):
    ident = identify(Clues(), "laporan.xlsx", registry, OCT)
    assert codes(ident) == ["RB-E005"]
    assert "tidak ada Kode Unit" in ident.findings[0].message


@pytest.mark.parametrize(
    "identitas, unit",
    [
        ({"kode_unit": "DINKES"}, "DINKES"),
        ({"kode_unit": "dinkes "}, "DINKES"),
        ({"nama_unit": "Dinas Kesehatan"}, "DINKES"),
        ({"nama_unit": "Dinkes"}, "DINKES"),
        ({"nama_unit": "Kominfo"}, "DISKOMINFO"),
        ({"nama_unit": "Dukcapil"}, "DISDUKCAPIL"),
        ({"nama_unit": "Kec. Natar"}, "KEC-NATAR"),
        ({"nama_unit": "Dinas Kesehatan Kabupaten Lampung Selatan"}, "DINKES"),
        ({"kode_unit": "", "nama_unit": "Kecamatan Way Sulan"}, "KEC-WAY-SULAN"),
    ],
)
def test_unit_from_identitas(registry, identitas, unit):
    ident = identify(Clues(identitas=identitas), "laporan.xlsx", registry, OCT)
    assert ident.unit == unit
    assert ident.identified_by == {"unit": "identitas", "period": "folder"}
    assert ident.period == "2025-10"


def test_metadata_wins_over_identitas_and_file_name_with_a_warning(registry):
    clues = Clues(metadata={"kode_unit": "DINKES"}, identitas={"kode_unit": "DINSOS"})
    ident = identify(clues, "Dispar_2025-10.xlsx", registry, OCT)
    assert ident.unit == "DINKES"
    assert ident.identified_by["unit"] == "metadata"
    assert codes(ident) == ["RB-W002"]
    message = ident.findings[0].message
    assert "lembar Identitas menyebut 'DINSOS'" in message
    assert "nama berkas menyebut 'Dispar_2025-10.xlsx'" in message
    assert "yang dipakai DINKES menurut data templat" in message
    assert not ident.rejected


def test_mistyped_identitas_code_is_reported_when_the_file_name_decides(registry):
    clues = Clues(identitas={"kode_unit": "DNKS"})
    ident = identify(clues, "DINKES_2025-10.xlsx", registry, OCT)
    assert ident.unit == "DINKES"
    assert codes(ident) == ["RB-W002"]
    assert "'DNKS' (tidak dikenali)" in ident.findings[0].message


def test_agreeing_sources_give_no_warning(registry):
    clues = Clues(
        metadata={"kode_unit": "DINKES", "periode": "2025-10"},
        identitas={"kode_unit": "DINKES", "nama_unit": "Dinas Kesehatan", "periode": "2025-10"},
    )
    ident = identify(clues, "Laporan RB Dinkes Oktober 2025.xlsx", registry, OCT)
    assert (ident.unit, ident.period, codes(ident)) == ("DINKES", "2025-10", [])
    assert ident.identified_by == {"unit": "metadata", "period": "identitas"}


def test_wrong_month_names_the_month_found(registry):
    clues = Clues(identitas={"kode_unit": "DINKES", "periode": "2025-09"})
    ident = identify(clues, "x.xlsx", registry, OCT)
    assert codes(ident) == ["RB-E006"]
    assert ident.period == "2025-09"
    assert ident.findings[0].message == (
        "Berkas ini untuk periode September 2025 (menurut lembar Identitas), bukan Oktober 2025 "
        "yang sedang direkap."
    )


def test_wrong_month_from_file_name(registry):
    ident = identify(Clues(), "RB Kominfo sept 2025.xlsx", registry, OCT)
    assert codes(ident) == ["RB-E006"]
    assert "September 2025 (menurut nama berkas)" in ident.findings[0].message


def test_identitas_period_wins_over_stale_metadata(registry):
    # A unit reusing September's template updates Identitas; the metadata still says September.
    clues = Clues(
        metadata={"kode_unit": "DINKES", "periode": "2025-09"},
        identitas={"periode": "2025-10"},
    )
    ident = identify(clues, "DINKES_2025-10.xlsx", registry, OCT)
    assert ident.period == "2025-10"
    assert codes(ident) == ["RB-W002"]
    assert "data templat menyebut '2025-09'" in ident.findings[0].message


def test_month_without_year_in_file_name_takes_the_folder_year(registry):
    ident = identify(Clues(), "Dinsos okt.xlsx", registry, OCT)
    assert (ident.period, codes(ident)) == ("2025-10", [])


def test_no_period_anywhere_means_the_folder_month(registry):
    ident = identify(Clues(), "Dinsos.xlsx", registry, OCT)
    assert ident.period == "2025-10"
    assert ident.identified_by["period"] == "folder"


def test_without_a_month_to_check_any_month_is_accepted(registry):
    ident = identify(Clues(identitas={"periode": "2025-09"}), "Dinsos.xlsx", registry, None)
    assert (ident.period, codes(ident)) == ("2025-09", [])


@pytest.mark.parametrize(
    "stem, period",
    [
        ("DINKES_2025-10", (2025, 10)),
        ("DINKES_202510", (2025, 10)),
        ("Dinkes 10-2025", (2025, 10)),
        ("Dinkes 23-10-2025", (2025, 10)),
        ("Laporan RB Dinkes Oktober 2025", (2025, 10)),
        ("Dinas Sosial - RB 2025 (okt)", (2025, 10)),
        ("dinsos okt", (None, 10)),
        ("Dinkes TW 3 2025", None),
        ("Dinkes 2025", None),
        ("Dinas Pemberdayaan Masyarakat dan Desa", None),
    ],
)
def test_period_in_file_name(stem, period):
    assert period_in_name(stem) == period


def test_clues_from_metadata_and_identitas_sheets():
    meta = SheetData(
        name=schema.SHEET_META,
        state="veryHidden",
        cells=[["versi_template", "2025.1"], ["kode_unit", "DINKES"], ["periode", "2025-10"]],
    )
    identitas = SheetData(
        name="Identitas",
        cells=[
            ["IDENTITAS UNIT KERJA"],
            [],
            ["Kode Unit", "DINKES"],
            ["Nama Unit", "Dinas Kesehatan"],
            # Excel turns a typed 2025-10 into the date 1 October 2025.
            ["Periode (YYYY-MM)", dt.datetime(2025, 10, 1)],
            ["Tanggal Pengisian", dt.datetime(2025, 11, 3)],
        ],
    )
    clues = extract_clues(WorkbookData(format="xlsx", sheets=[identitas, meta]))
    assert clues.metadata == {
        "versi_template": "2025.1",
        "kode_unit": "DINKES",
        "periode": "2025-10",
    }
    assert clues.identitas == {
        "kode_unit": "DINKES",
        "nama_unit": "Dinas Kesehatan",
        "periode": "2025-10",
        "tanggal_pengisian": "2025-11-03",
    }


def test_identitas_labels_drift_and_sit_anywhere():
    identitas = SheetData(
        name="IDENTITAS ",
        cells=[
            [None, "Unit Kerja :", None, "Dinas Sosial"],
            [None, "Bulan", "Oktober 2025"],
        ],
    )
    clues = extract_clues(WorkbookData(format="xlsx", sheets=[identitas]))
    assert clues.identitas == {"nama_unit": "Dinas Sosial", "periode": "Oktober 2025"}
    assert clues.metadata == {}
