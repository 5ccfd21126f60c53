"""The template's single source of truth: fields, headers, synonyms, registry data."""

import pytest

from pipeline import schema
from pipeline.registry import Period, load_registry


def test_every_printed_header_maps_back_to_its_field():
    for f in schema.FIELDS:
        assert schema.match_header(f.header) == f.name


@pytest.mark.parametrize(
    "text, field",
    [
        ("Target Tw.1", "target_tw1"),
        ("TARGET TW-I", "target_tw1"),
        ("Target Triwulan III", "target_tw3"),
        ("Target (Kumulatif) TW IV", "target_tw4"),
        ("Real. TW I", "realisasi_tw1"),
        ("Realisasi Triwulan II", "realisasi_tw2"),
        ("RENCANA AKSI", "rencana_aksi"),
        ("Renaksi", "rencana_aksi"),
        ("PIC", "penanggung_jawab"),
        ("Penanggungjawab", "penanggung_jawab"),
        ("Bukti Dukung", "data_dukung"),
        ("Pagu", "anggaran"),
        ("Anggaran (Rp)", "anggaran"),
        ("Realisasi Anggaran (Rp)", "realisasi_anggaran"),
    ],
)
def test_header_drift_is_recognised(text, field):
    assert schema.match_header(text) == field


def test_kind_restricts_fields():
    assert schema.match_header("Tema", "umum") is None
    assert schema.match_header("Sasaran RB", "tematik") is None
    assert schema.match_header("Tema", "tematik") == "tema"


def test_sheet_fields_follow_domain_order():
    umum = schema.SHEETS["umum"].field_names
    tematik = schema.SHEETS["tematik"].field_names
    assert umum[:2] == ("kode", "sasaran") and "tema" not in umum
    assert tematik[:3] == ("kode", "tema", "permasalahan") and "sasaran" not in tematik
    assert umum[-3:] == tematik[-3:] == ("data_dukung", "kendala", "tindak_lanjut")


@pytest.mark.parametrize(
    "n, letters", [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (16384, "XFD")]
)
def test_column_letters_round_trip(n, letters):
    assert schema.column_letter(n) == letters
    assert schema.column_index(letters) == n


def test_default_registry_has_the_51_units_of_lampung_selatan():
    reg = load_registry()
    assert len(reg.units) == 51
    assert sum(u.kode.startswith("KEC-") for u in reg.units) == 17
    assert reg.unit("KEC-WAY-SULAN").nama == "Kecamatan Way Sulan"
    assert len(reg.reference("sasaran")) == 3
    assert len(reg.reference("tema")) == 5
    assert "Persen" in reg.reference("satuan")
    assert reg.settings.batas_hari == 5


@pytest.mark.parametrize(
    "text, running, closed, label",
    [
        ("2025-01", 1, 0, "Januari 2025"),
        ("2025-10", 4, 3, "Oktober 2025"),
        ("2025-06", 2, 1, "Juni 2025"),
    ],
)
def test_period_quarters(text, running, closed, label):
    p = Period.parse(text)
    assert (p.running_quarter, p.closed_quarter, p.label) == (running, closed, label)


def test_deadline_is_the_fifth_of_next_month():
    assert str(Period.parse("2025-12").deadline(5)) == "2026-01-05"
