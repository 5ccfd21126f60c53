"""WhatsApp links on the board (issue 16): for the analyst, one click-to-chat link per unit with
a number that needs a nudge (not sent, rejected, errors to fix), to that unit's own number with
that unit's own text; never for leadership, never anything of the kind for a unit account.
The registry with numbers is test data (tests/portal_support.py ``YEAR_PHONES``)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from portal_support import YEAR_PHONES, browser_context, run_month, sign_in_page

from pipeline.registry import load_registry
from pipeline.template import template_bytes

pytestmark = pytest.mark.slow
PERIOD = "2025-10"


def account(kode: str) -> str:
    return f"unit{int(kode.split('-')[1])}"


def parts(url: str) -> tuple[str, str]:
    """(number, text) of a ``https://wa.me/<number>?text=...`` link."""
    split = urlsplit(url)
    assert (split.scheme, split.netloc) == ("https", "wa.me"), url
    return split.path.strip("/"), parse_qs(split.query)["text"][0]


def others(registry, kode: str) -> list[str]:
    """Everything that names another unit: its code, name and number (both spellings)."""
    out = []
    for u in registry.units:
        if u.kode != kode:
            out += [u.kode, u.nama, *YEAR_PHONES.get(u.kode, ())]
    return out


@pytest.fixture(scope="module")
def nudged(year_server, tmp_path_factory):
    """Uploads that put units with a number into each state the board nudges: accepted with
    errors (the demo planted them), rejected (a file for the wrong month, and an empty
    template), and one unit that sends nothing. Returns {kode: upload answer}."""
    root = year_server.root
    october = year_server.plans[PERIOD]
    registry = load_registry(root / "inputs")
    folder = root / "inputs" / PERIOD
    answers = {}
    with_errors = sorted(
        {
            p.unit
            for p in october.planted
            if p.unit in YEAR_PHONES and p.cell and p.code.startswith("RB-E")
        }
    )
    for kode in with_errors:
        r = year_server.client(account(kode)).upload(folder / f"{kode}_{PERIOD}.xlsx")
        assert r.status_code == 201, r.text
        answers[kode] = r.json()
    wrong_month = next(f.name for f in october.files if f.unit == "UNIT-0004")
    assert wrong_month == "UNIT-0004_2025-09.xlsx"
    r = year_server.client("unit4").upload(folder / wrong_month)
    assert r.status_code == 201 and r.json()["status"] == "rejected", r.text
    answers["UNIT-0004"] = r.json()
    blank = tmp_path_factory.mktemp("kosong") / f"UNIT-0001_{PERIOD}.xlsx"
    blank.write_bytes(template_bytes(registry.unit("UNIT-0001"), october.period, registry))
    r = year_server.client("unit1").upload(blank)
    assert r.status_code == 201 and r.json()["status"] == "rejected", r.text
    answers["UNIT-0001"] = r.json()
    assert any(a["status"] == "accepted" and a["kesalahan"] for a in answers.values())
    return answers


def test_the_analysts_board_links_each_unit_to_its_own_number_with_its_own_text(
    year_server, nudged
):
    registry = load_registry(year_server.root / "inputs")
    board = year_server.client("ana").get(f"/api/papan?periode={PERIOD}").json()
    seen = {}
    for entry in board["unit"]:
        kode, link = entry["kode"], entry["whatsapp"]
        if kode not in YEAR_PHONES or entry["status"] == "diterima":
            assert link is None, entry
            continue
        number, text = parts(link["tautan"])
        assert number == YEAR_PHONES[kode][1]
        unit = registry.unit(kode)
        assert f"{unit.nama} ({kode})" in text and "Oktober 2025" in text
        assert not [word for word in others(registry, kode) if word in text], text
        seen[kode] = (entry["status"], link["jenis"], text)
    for kode, answer in nudged.items():
        status, kind, text = seen[kode]
        if answer["status"] == "rejected":
            assert (status, kind) == ("ditolak", "pengingat")
            reason = next(p["message"] for p in answer["masalah"] if p["severity"] == "error")
            assert f"Berkas {answer['berkas']} belum dapat direkap: {reason[:60]}" in text
        else:
            assert (status, kind) == ("ada_kesalahan", "hasil_periksa")
            first = next(p for p in answer["masalah"] if p["severity"] == "error")
            assert f"{answer['kesalahan']} kesalahan" in text and first["cell"] in text
            assert "unggah lagi di portal" in text
    assert seen["UNIT-0005"][:2] == ("belum", "pengingat")
    assert "belum kami terima" in seen["UNIT-0005"][2]


def test_leadership_gets_no_links_and_a_unit_gets_no_board(year_server, nudged):
    board = year_server.client("pim").get(f"/api/papan?periode={PERIOD}").json()
    assert board["unit"] and all("whatsapp" not in u for u in board["unit"])
    assert year_server.client("unit3").get(f"/api/papan?periode={PERIOD}").status_code == 403


def test_no_unit_account_receives_a_link_or_another_units_data(year_server, nudged):
    registry = load_registry(year_server.root / "inputs")
    for unit in registry.units:
        c = year_server.client(account(unit.kode))
        bodies = []
        for path in (
            "/api/sesi",
            f"/api/kiriman?periode={PERIOD}",
            f"/api/hasil/{PERIOD}",
            "/api/hasil/2025-09",
            f"/api/papan?periode={PERIOD}",
            "/unit",
            f"/unit?periode={PERIOD}",
        ):
            bodies.append(c.get(path).text)
        for item in c.get(f"/api/kiriman?periode={PERIOD}").json()["kiriman"]:
            bodies.append(c.get(f"/api/kiriman/{item['id']}").text)
        text = "\n".join(bodies)
        assert "wa.me" not in text and "whatsapp" not in text.lower()
        leaked = [word for word in others(registry, unit.kode) if word in text]
        assert not leaked, (unit.kode, leaked)


def test_the_board_page_shows_the_links_and_loads_nothing_from_elsewhere(year_server, nudged):
    board = year_server.client("ana").get(f"/api/papan?periode={PERIOD}").json()
    links = {u["kode"]: u["whatsapp"] for u in board["unit"]}
    with browser_context() as context:
        page = sign_in_page(context, year_server.url, "ana")
        page.wait_for_selector("#tabel-papan tbody tr[data-kode='UNIT-0005'] a.tombol-wa")
        assert page.locator("#kolom-wa").is_visible()
        for kode, link in links.items():
            anchor = page.locator(f"#tabel-papan tbody tr[data-kode='{kode}'] a.tombol-wa")
            if link is None:
                assert anchor.count() == 0, kode
                continue
            assert anchor.get_attribute("href") == link["tautan"]
            assert anchor.get_attribute("target") == "_blank"
            assert {"noopener", "noreferrer"} <= set(anchor.get_attribute("rel").split())
            label = {"pengingat": "Kirim pengingat", "hasil_periksa": "Kirim daftar kesalahan"}
            assert anchor.inner_text() == label[link["jenis"]]
        assert page.console_errors == []
        loaded = page.evaluate("performance.getEntries().map(e => e.name)")
        assert not [name for name in loaded if "wa.me" in name]

        lead = sign_in_page(context, year_server.url, "pim")
        lead.wait_for_selector("#tabel-papan tbody tr")
        assert lead.locator("#kolom-wa").count() == 0
        assert lead.locator("a[href*='wa.me']").count() == 0

        unit = sign_in_page(context, year_server.url, "unit3")
        unit.wait_for_selector("#tabel-riwayat tbody tr")
        assert unit.locator("a[href*='wa.me']").count() == 0
        assert "wa.me" not in unit.content()
    assert context.outside == []


def test_after_the_month_run_the_links_carry_the_runs_texts(year_server, nudged):
    """Once the run has seen a unit's latest upload, its link says what the run's e-mail and
    belum_mengirim.xlsx say: feedback (figures, rank, next month's deadline) or a reminder."""
    registry = load_registry(year_server.root / "inputs")
    run_month(year_server, PERIOD)
    board = year_server.client("ana").get(f"/api/papan?periode={PERIOD}").json()
    by_code = {u["kode"]: u for u in board["unit"]}
    for kode, answer in nudged.items():
        entry = by_code[kode]
        number, text = parts(entry["whatsapp"]["tautan"])
        assert number == YEAR_PHONES[kode][1]
        assert not [word for word in others(registry, kode) if word in text]
        if answer["status"] == "rejected":
            assert entry["whatsapp"]["jenis"] == "pengingat"
            assert re.search(r"Berkas \S+ belum dapat direkap", text)
        else:
            assert entry["whatsapp"]["jenis"] == "umpan_balik"
            assert "Peringkat" in text and "rencana aksi direkap" in text
