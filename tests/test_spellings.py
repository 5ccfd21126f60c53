"""However an Indonesian office spells it: month names, invisible characters, header notes.

A file is never rejected, a field never lost and a duplicate ``kode`` never missed because of how
a word was spelled or what invisible character came with a paste (``pipeline/spellings.py``).
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from conftest import rbpipe
from producers.content import PLANS

from pipeline import schema, spellings
from pipeline.ingest.identify import period_in_name
from pipeline.ingest.values import parse_period
from pipeline.registry import Period, load_registry
from pipeline.template import template_bytes

MONTHS = [
    ("Djanuari 2026", (2026, 1)),
    ("Pebruari 2025", (2025, 2)),
    ("Febuari 2025", (2025, 2)),
    ("Mrt 2025", (2025, 3)),
    ("Djuni 2025", (2025, 6)),
    ("Agst 2025", (2025, 8)),
    ("Agt. 2025", (2025, 8)),
    ("Sept 2025", (2025, 9)),
    ("Okt\u00a02025", (2025, 10)),
    ("\u200bOktober 2025", (2025, 10)),
    ("Nopember 2025", (2025, 11)),
    ("Nop 2025", (2025, 11)),
    ("Des 2025", (2025, 12)),
    ("December 2025", (2025, 12)),
]


@pytest.mark.parametrize(("text", "expected"), MONTHS)
def test_a_month_in_any_spelling_is_a_period(text, expected):
    assert parse_period(spellings.clean_text(text)) == expected
    assert period_in_name(f"DINKES {text}") == expected


def test_every_spelling_names_one_month():
    seen: dict[str, int] = {}
    for month, names in spellings.MONTH_SPELLINGS.items():
        for name in names:
            assert seen.setdefault(name, month) == month, name


@pytest.mark.parametrize(
    "variant",
    ["U-01", "u-01", " U-01 ", "U\u201301", "U\u221201", "U-01\u200b", "\ufeffU-01", "U -01"],
)
def test_codes_compare_without_case_spaces_invisibles_or_dash_variants(variant):
    assert spellings.code_key(variant) == spellings.code_key("U-01")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Target TW I (kumulatif)", "target_tw1"),
        ("Target TW I (s.d. Maret)", "target_tw1"),
        ("Realisasi TW I*", "realisasi_tw1"),
        ("Realisasi TW II *)", "realisasi_tw2"),
        ("Rencana\nAksi", "rencana_aksi"),
        ("Kode\u00a0RA", "kode"),
        ("\ufeffIndikator", "indikator"),
        ("Data Dukung (link/foto)", "data_dukung"),
        ("Kendala [jika ada]", "kendala"),
        ("Anggaran 1)", "anggaran"),
    ],
)
def test_a_header_with_a_note_or_an_odd_character_keeps_its_field(header, field):
    assert schema.match_header(spellings.clean_text(header)) == field


def test_a_pasted_report_is_identified_and_its_duplicate_code_found_by_the_real_cli(tmp_path):
    """Identity cells, headers and codes carrying no-break spaces, zero-width spaces, a BOM and
    an en dash, read through ``rbpipe check``: the file is DINKES's October report, every field
    is read and the duplicate code is reported on both rows."""
    registry = load_registry()
    unit = next(u for u in registry.units if u.kode == "DINKES")
    data = template_bytes(unit, Period(2025, 10), registry, plans=PLANS)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    del wb[schema.SHEET_META]  # only the cells the unit typed identify the file
    ident = wb[schema.SHEET_IDENTITAS]
    for row in ident.iter_rows(min_row=1, max_col=2):
        if row[0].value == "Kode Unit":
            row[1].value = "\u200bDINKES\u00a0"
        elif row[0].value and str(row[0].value).startswith("Periode"):
            row[1].value = "Okt\u00a02025\u200b"
    umum = wb["RB Umum"]
    header = schema.TEMPLATE_HEADER_ROW
    notes = {
        "kode": "Kode\u00a0RA",
        "target_tw1": "Target TW I (kumulatif)",
        "realisasi_tw1": "Realisasi TW I*",
        "rencana_aksi": "Rencana\nAksi",
        "indikator": "\ufeffIndikator",
    }
    for name, text in notes.items():
        umum.cell(header, schema.SHEETS["umum"].field_names.index(name) + 1, text)
    first = schema.TEMPLATE_FIRST_DATA_ROW
    umum.cell(first + 1, 1, "U\u201301\u200b")  # U-01 again, pasted from a word processor
    path = tmp_path / "laporan rb.xlsx"
    wb.save(path)

    run = rbpipe("check", "--json", path.name, cwd=tmp_path)
    report = json.loads(run.stdout)
    (f,) = report["berkas"]
    assert (f["unit"], f["periode"], f["status"]) == ("DINKES", "2025-10", "accepted")
    assert f["baris_direkap"] == len(PLANS["umum"]) + len(PLANS["tematik"])
    codes = [(p["code"], p["cell"]) for p in report["masalah"]]
    assert ("RB-E114", f"RB Umum!A{first}") in codes and (
        "RB-E114",
        f"RB Umum!A{first + 1}",
    ) in codes
    assert not any(c in ("RB-E010", "RB-E101", "RB-E005", "RB-E006") for c, _ in codes), codes
