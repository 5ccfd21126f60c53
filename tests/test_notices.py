"""Each unit's notice (e-mail text, WhatsApp text and link) says only that unit's own things."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import unquote, urlsplit

import openpyxl
import pytest
from factories import PERIOD, PHONES, UNIT_CODES, make_run, unit_texts, with_contacts

from pipeline import schema
from pipeline.deliver.notices import (
    KIND_FEEDBACK,
    KIND_REMINDER,
    body,
    notices_from_run,
    subject,
    whatsapp_text,
    whatsapp_url,
)
from pipeline.publish.feedback import write_reminders
from pipeline.registry import load_registry

# Every unit's words, nobody's data: the template's sheet names and reference lists.
TEMPLATE_WORDS = {sheet.name for sheet in schema.SHEETS.values()} | {
    value for values in load_registry().references.values() for value in values
}


@pytest.fixture(scope="module")
def run():
    return with_contacts(make_run(hostile=True))


@pytest.fixture(scope="module")
def notices(run):
    return {n.kode: n for n in notices_from_run(run)}


def texts_of(n) -> str:
    link = whatsapp_url(n) or ""
    return "\n".join([subject(n), body(n), whatsapp_text(n), unquote(link)])


def test_one_notice_per_registry_unit_feedback_or_reminder(notices, run):
    assert list(notices) == [u.kode for u in run.registry.units]
    kinds = {k: n.kind for k, n in notices.items()}
    assert kinds == {
        "DINKES": KIND_FEEDBACK,
        "DINSOS": KIND_FEEDBACK,
        "DISKOMINFO": KIND_FEEDBACK,
        "INSPEKTORAT": KIND_FEEDBACK,
        "BAPPEDA": KIND_REMINDER,  # its only file was for the wrong month
        "KEC-NATAR": KIND_REMINDER,  # sent nothing
    }


def test_feedback_says_status_errors_with_deadline_and_rank(notices, run):
    n = notices["DINKES"]
    text = body(n)
    units = run.metrics.units.set_index("kode")
    assert f"Peringkat: {int(units.loc['DINKES', 'rank'])} dari 4 unit" in text
    assert "tepat waktu (batas 5 November 2025)" in text
    assert "paling lambat 5 Desember 2025, pada laporan November 2025" in text
    errors = [p for p in run.problems if p.unit == "DINKES" and p.is_error]
    assert len(errors) == n.errors > 0
    for p in errors:
        assert f"{p.cell or p.file}: {p.message}" in text
    assert "lampiran DINKES_2025-10_umpan_balik.xlsx" in text
    assert subject(n) == (
        f"Umpan balik laporan RB Oktober 2025: Dinas Kesehatan (DINKES), {n.errors} kesalahan "
        "perlu diperbaiki"
    )


def test_a_late_clean_unit_is_told_so(notices):
    text = body(notices["DISKOMINFO"])
    assert "melewati batas waktu (batas 5 November 2025)" in text
    assert "Tidak ada kesalahan yang harus diperbaiki" in text


def test_reminders_say_why_a_rejected_file_was_not_counted(notices, run):
    bappeda, natar = notices["BAPPEDA"], notices["KEC-NATAR"]
    assert "belum kami terima. Batas pengiriman: 5 November 2025" in body(natar)
    assert natar.attachment is None and "lampiran" not in body(natar)
    reason = next(p.message for p in run.problems if p.file == "BAPPEDA_2025-09.xlsx")
    assert f"- BAPPEDA_2025-09.xlsx: {reason}" in body(bappeda)
    assert bappeda.attachment == "BAPPEDA_2025-10_umpan_balik.xlsx"
    assert "BAPPEDA_2025-09.xlsx belum dapat direkap" in whatsapp_text(bappeda)


def test_texts_do_not_change_with_the_clock(run):
    first = [texts_of(n) for n in notices_from_run(run)]
    again = [texts_of(n) for n in notices_from_run(dataclasses.replace(run, finished=None))]
    assert first == again


def test_whatsapp_links_go_to_the_units_own_number(notices):
    for kode, n in notices.items():
        link = whatsapp_url(n)
        if kode not in PHONES:
            assert link is None
            continue
        parts = urlsplit(link)
        assert parts.netloc == "wa.me" and parts.path == "/" + PHONES[kode]
        assert unquote(parts.query.removeprefix("text=")) == whatsapp_text(n)


def test_no_notice_mentions_another_units_code_name_or_data(notices, run):
    """ISOLATION: subject, body, WhatsApp text and link of each unit, against every text the
    other units put in the run (codes, names, files, sheets, cell texts, problem values)."""
    for kode, n in notices.items():
        mine = texts_of(n)
        for other in UNIT_CODES:
            if other == kode:
                continue
            assert not re.search(rf"(?<![\w-]){re.escape(other)}(?![\w-])", mine), (kode, other)
            for text in unit_texts(run, other):
                if len(text) >= 6 and text not in unit_texts(run, kode) | TEMPLATE_WORDS:
                    assert text not in mine, (kode, other, text)
        assert n.attachment in (None, f"{kode}_2025-10_umpan_balik.xlsx")


def test_reminder_list_carries_addresses_and_whatsapp_links(run, tmp_path):
    path = tmp_path / "belum_mengirim.xlsx"
    write_reminders(path, run)
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[5]]
    assert header[-2:] == ["Surel", "WhatsApp"]
    rows = {r[1].value: r for r in ws.iter_rows(min_row=6) if r[1].value}
    assert list(rows) == ["BAPPEDA", "KEC-NATAR"]
    natar = rows["KEC-NATAR"]
    assert natar[5].value == "kec-natar@lampungselatankab.go.id"
    assert natar[6].value == "Kirim pengingat ke +6281200000006"
    target = natar[6].hyperlink.target
    assert target.startswith("https://wa.me/6281200000006?text=")
    assert "Kecamatan Natar (KEC-NATAR)" in unquote(target)


def test_reminder_list_without_numbers_says_so(tmp_path):
    run = make_run()
    path = tmp_path / "belum_mengirim.xlsx"
    write_reminders(path, run)
    ws = openpyxl.load_workbook(path).active
    natar = next(r for r in ws.iter_rows(min_row=6) if r[1].value == "KEC-NATAR")
    assert natar[6].value == "nomor belum ada di daftar unit"
    assert natar[6].hyperlink is None


def test_the_portal_gets_each_units_link_before_and_after_the_run(run, tmp_path):
    from pipeline.deliver.notices import whatsapp_links
    from pipeline.publish.manifest import write_manifest

    before = whatsapp_links(tmp_path, run.period, run.registry)
    assert set(before) == set(PHONES)
    assert "laporan belum kami terima" in unquote(before["DINKES"])
    write_manifest(tmp_path / "2025-10" / "manifest.json", run)
    after = whatsapp_links(tmp_path, run.period, run.registry)
    notices = {n.kode: n for n in notices_from_run(run)}
    assert after == {k: whatsapp_url(n) for k, n in notices.items() if n.telepon}
    assert "Umpan balik laporan RB Oktober 2025" in unquote(after["DINKES"])


def test_an_upload_the_run_has_not_seen_gets_its_own_check_result(run):
    """The portal's board: a unit's latest upload, checked but not yet consolidated. Rejected:
    a reminder that says why; errors: the check's result (how many, the first, upload again);
    never figures, a rank or next month's deadline, which only a month run gives."""
    from pipeline.deliver.notices import KIND_CHECK, upload_notice

    registry = with_contacts(run).registry
    unit = registry.unit("DINKES")
    problems = [
        {"severity": "warning", "cell": "RB Umum!J7", "message": "Target berubah."},
        {"severity": "error", "cell": "RB Umum!H6", "message": "Satuan wajib diisi."},
        {"severity": "error", "cell": None, "message": "Lembar RB Tematik tidak ada."},
    ]
    checked = upload_notice(
        unit, PERIOD, registry.settings, file="dinkes.xlsx", accepted=True, warnings=1,
        problems=problems,
    )  # fmt: skip
    assert checked.kind == KIND_CHECK and checked.errors == 2 and checked.warnings == 1
    text = whatsapp_text(checked)
    assert text.startswith("Hasil pemeriksaan laporan RB Oktober 2025 untuk ")
    assert "(DINKES)" in text and "berkas dinkes.xlsx sudah masuk" in text
    assert (
        "2 kesalahan yang perlu diperbaiki, antara lain di RB Umum!H6: Satuan wajib diisi." in text
    )
    assert "batas pengiriman 5 November 2025" in text and "Peringkat" not in text
    assert "1. RB Umum!H6: Satuan wajib diisi." in body(checked)
    assert "2. dinkes.xlsx: Lembar RB Tematik tidak ada." in body(checked)
    assert subject(checked).endswith("DINKES), 2 kesalahan perlu diperbaiki")
    assert urlsplit(whatsapp_url(checked)).path == "/" + PHONES["DINKES"]

    rejected = upload_notice(
        unit, PERIOD, registry.settings, file="dinkes.xlsx", accepted=False, warnings=0,
        problems=problems[1:],
    )  # fmt: skip
    assert rejected.kind == KIND_REMINDER
    assert "Berkas dinkes.xlsx belum dapat direkap: Satuan wajib diisi." in whatsapp_text(rejected)

    clean = upload_notice(
        unit, PERIOD, registry.settings, file="dinkes.xlsx", accepted=True, warnings=0,
        problems=[],
    )  # fmt: skip
    assert clean.kind == KIND_FEEDBACK and clean.errors == 0
    for n in (checked, rejected, clean):
        assert not [c for c in UNIT_CODES if c != "DINKES" and c in texts_of(n)]
