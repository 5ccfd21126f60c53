"""The month picker speaks Indonesian whatever the browser's language: a list of the months
that have inputs, outputs or uploads (and the month open for reporting), labelled "Oktober
2025"; choosing one (with the keyboard too) updates the board and the unit page."""

from __future__ import annotations

import re

import pytest
from portal_support import browser_context, sign_in_page

pytestmark = pytest.mark.slow
MONTH = re.compile(
    r"(Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember)"
    r" \d{4}"
)


def picker(page) -> tuple[str, list[str]]:
    """(the chosen month's visible text, every option's text)."""
    chosen = page.locator("#periode option:checked").inner_text().strip()
    return chosen, [t.strip() for t in page.locator("#periode option").all_inner_texts()]


def test_the_board_picker_is_indonesian_and_switches_the_month(year_server):
    with browser_context(locale="en-US") as context:
        page = sign_in_page(context, year_server.url, "ana")
        page.wait_for_selector("#tabel-papan tbody tr")
        assert page.evaluate("navigator.language") == "en-US"
        assert page.locator("input[type=month]").count() == 0
        chosen, options = picker(page)
        assert chosen == "Oktober 2025"
        assert {"Oktober 2025", "September 2025"} <= set(options)
        assert all(MONTH.fullmatch(t) for t in options), options
        assert options.index("Oktober 2025") < options.index("September 2025")  # newest first

        # The keyboard alone: focus the picker, arrow down to the month before.
        page.focus("#periode")
        page.keyboard.press("ArrowDown")
        page.wait_for_selector("#info-papan:has-text('5 Oktober 2025')")  # September's deadline
        assert page.url.endswith("periode=2025-09")
        assert picker(page)[0] == "September 2025"
        page.wait_for_selector("#daftar-hasil a:has-text('Konsolidasi_RB_2025-09.xlsx')")
        assert "rekap terakhir" in page.inner_text("#info-papan")

        page.select_option("#periode", "2025-10")
        page.wait_for_selector("#info-papan:has-text('5 November 2025')")
        # The outputs list is fetched after the board's head: October has no run yet, so its
        # list says so, and no September file may remain in it.
        page.wait_for_selector("#daftar-hasil:has-text('Belum ada hasil rekap untuk bulan ini.')")
        assert page.locator("#daftar-hasil a:has-text('2025-09')").count() == 0

        # A link to a month opens on that month, its name in Indonesian.
        page.goto(f"{year_server.url}/papan?periode=2025-09")
        page.wait_for_selector("#info-papan:has-text('5 Oktober 2025')")
        assert picker(page)[0] == "September 2025"
        assert re.search(r"diperbarui pukul \d{2}\.\d{2}$", page.inner_text("#info-papan"))
        assert page.console_errors == []
    assert context.outside == []


def test_the_unit_page_picker_switches_the_month(year_server):
    official = year_server.root / "outputs" / "2025-09" / "umpan_balik"
    with browser_context(locale="en-US") as context:
        page = sign_in_page(context, year_server.url, "unit2")
        page.wait_for_selector("#info-batas:has-text('Batas pengiriman')")
        assert picker(page)[0] == "Oktober 2025"
        assert page.inner_text("#judul-bulan") == "Laporan Oktober 2025"
        page.select_option("#periode", "2025-09")
        page.wait_for_selector("#judul-bulan:has-text('Laporan September 2025')")
        link = page.locator("#tautan-templat")
        assert link.inner_text() == "Templat September 2025 (.xlsx)"
        assert link.get_attribute("href").endswith("periode=2025-09")
        if (official / "UNIT-0002_2025-09_umpan_balik.xlsx").exists():
            page.wait_for_selector("#umpan-balik-resmi a")
            assert "UNIT-0002_2025-09_umpan_balik.xlsx" in page.inner_text("#umpan-balik-resmi")
        assert page.console_errors == []
    assert context.outside == []
