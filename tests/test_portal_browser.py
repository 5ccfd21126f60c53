"""The portal in a real browser (Playwright driving Debian's Chromium), against the real
server: what a unit operator and an analyst do and see. Every request to a host other than
loopback is aborted and recorded; none may be attempted."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from portal_support import PASSWORD, PERIOD, browser_context, sign_in_page

pytestmark = pytest.mark.slow


def test_unit_signs_in_uploads_sees_the_cell_downloads_feedback_and_fixes(
    portal_server, flawed_and_fixed, tmp_path
):
    flawed, fixed = flawed_and_fixed
    with browser_context() as context:
        page = sign_in_page(context, portal_server.url, "bapenda")
        assert page.url.endswith("/unit")
        page.wait_for_selector("#info-batas:has-text('Batas pengiriman')")
        assert "Laporan Oktober 2025" in page.inner_text("#judul-bulan")

        page.set_input_files("#berkas", str(flawed))
        row = page.locator("#tabel-masalah tbody tr", has_text="RB Tematik!K5")
        row.wait_for(timeout=60_000)
        text = row.inner_text()
        assert "Kesalahan" in text and "120" in text and "RB-E105" in text
        # Received with an error to fix: one sentence with the count, in the warning colour.
        message = page.locator("#pesan-unggah")
        assert message.inner_text() == (
            "BAPENDA_2025-10.xlsx diterima, tetapi ada 1 kesalahan yang harus diperbaiki."
        )
        assert "waspada" in message.get_attribute("class").split()
        assert "waspada" in page.locator("#hasil-ringkas").get_attribute("class").split()

        with page.expect_download() as info:
            page.click("#tautan-umpan-balik")
        saved = tmp_path / "umpan_balik.xlsx"
        info.value.save_as(saved)
        wb = openpyxl.load_workbook(saved)
        assert wb["RB Tematik"]["K5"].value == 120
        assert wb["RB Tematik"]["K5"].comment is not None

        page.set_input_files("#berkas", str(fixed))
        page.wait_for_selector("#hasil-ringkas:has-text('tanpa masalah')", timeout=60_000)
        assert page.locator("#tabel-masalah tbody tr").count() == 0
        assert message.inner_text() == (f"{fixed.name} diterima tanpa masalah dan siap direkap.")
        assert "baik" in message.get_attribute("class").split()
        history = page.locator("#tabel-riwayat tbody tr")
        assert history.count() >= 2
        assert fixed.name in history.first.inner_text()
        assert page.console_errors == []
    assert context.outside == []


def test_analyst_sees_board_change_runs_month_and_downloads_regency_workbook(
    portal_server, demo_files, tmp_path
):
    from pipeline.registry import Period, load_registry
    from pipeline.template import template_bytes

    ana = portal_server.client("ana")
    board = ana.get(f"/api/papan?periode={PERIOD}").json()
    kode = next(u["kode"] for u in board["unit"] if u["status"] == "belum")
    registry = load_registry()
    blank = tmp_path / f"{kode}_{PERIOD}.xlsx"
    blank.write_bytes(template_bytes(registry.unit(kode), Period.parse(PERIOD), registry))
    with browser_context() as context:
        page = sign_in_page(context, portal_server.url, "ana")
        assert page.url.endswith("/papan")
        row = page.locator(f"#tabel-papan tbody tr[data-kode='{kode}']")
        row.wait_for()
        assert row.get_attribute("data-status") == "belum"
        assert page.locator("#tabel-papan tbody tr").count() == 51
        assert re.search(r" · diperbarui pukul \d{2}\.\d{2}$", page.inner_text("#info-papan"))

        # The unit's (still empty) template arrives from elsewhere; the board changes without
        # a reload: it is in, and rejected (no action plan).
        r = ana.upload(blank)
        assert r.status_code == 201 and r.json()["status"] == "rejected"
        page.wait_for_selector(
            f"#tabel-papan tbody tr[data-kode='{kode}'][data-status='ditolak']", timeout=20_000
        )

        page.select_option("#saring-status", "ditolak")
        shown = page.locator("#tabel-papan tbody tr")
        statuses = shown.evaluate_all("rows => rows.map(r => r.dataset.status)")
        assert statuses and set(statuses) == {"ditolak"}
        page.select_option("#saring-status", "")

        page.click("#tombol-rekap")
        page.wait_for_selector("#pesan-rekap:has-text('selesai')", timeout=600_000)
        link = page.locator(f"#daftar-hasil a:has-text('Konsolidasi_RB_{PERIOD}.xlsx')")
        link.wait_for()
        with page.expect_download() as info:
            link.click()
        saved = tmp_path / "regency.xlsx"
        info.value.save_as(saved)
        wb = openpyxl.load_workbook(saved, read_only=True)
        assert {"Ringkasan", "RB Umum", "RB Tematik"} <= set(wb.sheetnames)
        assert page.console_errors == []
    assert context.outside == []


def test_unit_cannot_reach_the_board_or_another_units_upload(portal_server, demo_files):
    other = portal_server.client("dlh").upload(demo_files / "DLH_2025-10.xlsx").json()
    with browser_context() as context:
        page = sign_in_page(context, portal_server.url, "dishub")
        response = page.goto(f"{portal_server.url}/papan")
        assert response.status == 403 and "Tidak berhak" in page.inner_text("main")
        for path in (f"/api/kiriman/{other['id']}", other["umpan_balik"], "/api/papan"):
            response = page.goto(f"{portal_server.url}{path}")
            assert response.status in (403, 404)
            assert "DLH" not in page.content()
    assert context.outside == []


def test_a_rejected_upload_says_why_in_red(portal_server, tmp_path):
    from pipeline.registry import Period, load_registry
    from pipeline.template import template_bytes

    registry = load_registry()
    blank = tmp_path / f"DINSOS_{PERIOD}.xlsx"
    blank.write_bytes(template_bytes(registry.unit("DINSOS"), Period.parse(PERIOD), registry))
    with browser_context() as context:
        page = sign_in_page(context, portal_server.url, "dinsos")
        page.set_input_files("#berkas", str(blank))
        message = page.locator("#pesan-unggah")
        page.wait_for_selector("#pesan-unggah:has-text('ditolak')", timeout=60_000)
        assert "galat" in message.get_attribute("class").split()
        first = page.locator("#tabel-masalah tbody tr.error").first.inner_text()
        reason = message.inner_text().removeprefix(f"{blank.name} ditolak dan tidak akan direkap: ")
        assert reason != message.inner_text() and reason.rstrip(".") in first
        assert "galat" in page.locator("#hasil-ringkas").get_attribute("class").split()
        assert page.console_errors == []
    assert context.outside == []


def test_sign_in_page_says_wrong_password_and_lockout(portal_server):
    with browser_context() as context:
        page = context.new_page()
        page.goto(f"{portal_server.url}/masuk")
        message = page.locator("#pesan-masuk")
        for attempt in range(5):
            page.fill("#nama", "kunci2")
            page.fill("#sandi", f"salah-{attempt}")
            page.click("button[type=submit]")
            page.wait_for_function(
                "n => document.querySelector('#pesan-masuk').textContent.includes(n)",
                arg="Nama pengguna atau kata sandi salah",
            )
            page.evaluate("document.querySelector('#pesan-masuk').textContent = ''")
        page.fill("#nama", "kunci2")
        page.fill("#sandi", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#pesan-masuk:has-text('dikunci')")
        assert "15" in message.inner_text() or "menit" in message.inner_text()
        assert page.url.endswith("/masuk")
    assert context.outside == []


def test_pages_fit_a_phone(portal_server):
    with browser_context(viewport=(360, 740), is_mobile=True, has_touch=True) as context:
        page = sign_in_page(context, portal_server.url, "pim")
        page.wait_for_selector("#tabel-papan tbody tr")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360
        assert page.locator("#tombol-rekap").count() == 0  # leadership: read-only
    assert context.outside == []


def test_workbook_from_the_instant_check_opens(portal_server, flawed_and_fixed):
    """The instant feedback is a valid workbook that says it is an instant check."""
    c = portal_server.client("bapenda")
    body = c.upload(flawed_and_fixed[0]).json()
    wb = openpyxl.load_workbook(io.BytesIO(c.get(body["umpan_balik"]).content))
    assert "Ringkasan" in wb.sheetnames and "Perbaikan" in wb.sheetnames
