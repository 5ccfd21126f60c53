"""The leadership report ``Laporan_RB_<YYYY-MM>.html``: written by every run, the manifest's
figures, self-contained, escaped, and opened in a real browser with the network blocked.

Two demo months (September, then October 2025) are run by the real CLI with a registry that
has e-mail addresses and WhatsApp numbers, so October's report compares with September and
lists target changes; the page is read as HTML (data attributes on every figure) and in
Debian's Chromium (Playwright), on a desk, on a 360 px phone and printed to PDF.
"""

from __future__ import annotations

import csv
import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from browser import chromium, open_page
from conftest import MANIFEST_FILE, MANIFEST_UNIT_KEYS, rbpipe, report_name
from factories import HOSTILE_TEXTS, make_run, with_contacts

from pipeline.locale_id import number
from pipeline.publish.report import render_report, report_view, style_hash
from pipeline.registry import load_registry

pytestmark = pytest.mark.slow
MONTHS = ("2025-09", "2025-10")
OCTOBER = "2025-10"
NO_PHONE = {"SETDA", "KEC-NATAR"}


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> Path:
    from pipeline.demo import generate_month
    from pipeline.registry import Period

    base = tmp_path_factory.mktemp("laporan")
    inputs, outputs = base / "inputs", base / "outputs"
    registry = load_registry()
    for p in MONTHS:
        generate_month(inputs / p, Period.parse(p), registry, seed=17)
    with (inputs / "unit_kerja.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kode", "nama", "jenis", "singkatan", "email", "telepon"])
        for i, u in enumerate(registry.units):
            phone = "" if u.kode in NO_PHONE else f"+62 812 {i:04d} {i:04d}"
            writer.writerow(
                [
                    u.kode,
                    u.nama,
                    u.jenis,
                    ";".join(u.singkatan),
                    f"{u.kode.lower()}@contoh.id",
                    phone,
                ]
            )
    for p in MONTHS:
        done = rbpipe(
            "run", "--period", p, "--inputs", str(inputs), "--outputs", str(outputs), cwd=base
        )
        assert done.returncode == 0, done.stderr
        assert done.network_attempts == []
    return outputs


def manifest(outputs: Path, period: str) -> dict:
    return json.loads((outputs / period / MANIFEST_FILE).read_text(encoding="utf-8"))


def report_path(outputs: Path, period: str) -> Path:
    return outputs / period / report_name(period)


class Figures(HTMLParser):
    """Every element carrying ``data-*`` attributes, and every link, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tagged: list[tuple[str, dict[str, str]]] = []
        self.links: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if any(k.startswith("data-") for k in attributes):
            self.tagged.append((tag, attributes))
        if "href" in attributes:
            self.links.append(attributes["href"])
        for key in ("src", "srcset", "poster", "data", "action", "xlink:href"):
            if key in attributes:
                self.sources.append(f"{tag} {key}={attributes[key]}")


def parse(path: Path) -> Figures:
    parser = Figures()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def value(text: str) -> float | None:
    return None if text == "" else float(text)


# --------------------------------------------------------------------------------------------
# Written, same figures as the manifest
# --------------------------------------------------------------------------------------------


def test_every_run_writes_the_report_and_lists_it(months):
    for p in MONTHS:
        assert report_path(months, p).is_file()
        assert report_name(p) in manifest(months, p)["outputs"]


def test_the_reports_figures_equal_the_manifests(months):
    m = manifest(months, OCTOBER)
    page = parse(report_path(months, OCTOBER))
    figures = {a["data-angka"]: value(a["data-nilai"]) for _, a in page.tagged if "data-angka" in a}
    shown_metrics = [k for k in MANIFEST_UNIT_KEYS[7:] if k != "capaian_median"]  # median: detail
    assert set(figures) == {"reporting_rate", "on_time_rate", *shown_metrics, "errors", "warnings"}
    for key, shown in figures.items():
        assert shown == m["regency"][key], key
    rows = {a["data-unit"]: a for tag, a in page.tagged if tag == "tr" and "data-unit" in a}
    assert list(rows) == [u["kode"] for u in m["units"]]
    for unit in m["units"]:
        row = rows[unit["kode"]]
        assert row["data-submitted"] == ("ya" if unit["submitted"] else "tidak")
        for key in ["rank", *MANIFEST_UNIT_KEYS[MANIFEST_UNIT_KEYS.index("rows") :]]:
            assert value(row[f"data-{key}"]) == unit[key], (unit["kode"], key)


def test_status_of_every_unit_follows_the_manifest(months):
    m = manifest(months, OCTOBER)
    page = parse(report_path(months, OCTOBER))
    status = {
        a["data-unit"]: a["data-status"]
        for tag, a in page.tagged
        if tag == "tr" and "data-status" in a
    }
    rejected = {f["unit"] for f in m["files"] if f["status"] == "rejected" and f["unit"]}
    for unit in m["units"]:
        expected = (
            ("tepat" if unit["on_time"] else "terlambat")
            if unit["submitted"]
            else ("ditolak" if unit["kode"] in rejected else "belum")
        )
        assert status[unit["kode"]] == expected, unit["kode"]
    bars = {
        a["data-kunci"]: value(a["data-nilai"])
        for tag, a in page.tagged
        if tag == "rect" and a.get("data-kunci") in ("tepat", "terlambat", "ditolak", "belum")
    }
    counts = {k: sum(1 for s in status.values() if s == k) for k in bars}
    assert bars == {k: float(n) for k, n in counts.items()}
    assert bars["tepat"] == m["regency"]["units_on_time"]
    assert bars["tepat"] + bars["terlambat"] == m["regency"]["units_submitted"]


def test_kpis_show_the_change_since_last_month(months):
    sep, octo = manifest(months, "2025-09")["regency"], manifest(months, OCTOBER)["regency"]
    html = report_path(months, OCTOBER).read_text(encoding="utf-8")
    for metric in ("reporting_rate", "completion_rate", "data_quality"):
        points = (octo[metric] - sep[metric]) * 100
        if abs(points) < 0.05:
            expected = "tetap dibanding September 2025"
        else:
            arrow = "▲" if points > 0 else "▼"
            expected = f"{arrow} {number(abs(points), 1)} poin dibanding September 2025"
        assert expected in html, metric
    first = report_path(months, "2025-09").read_text(encoding="utf-8")
    assert "belum ada data bulan sebelumnya" in first


def test_target_changes_since_last_month_are_listed(months):
    m = manifest(months, OCTOBER)
    changed = [p for p in m["problems"] if p["code"] == "RB-W102"]
    assert changed, "the demo's October changes some targets"
    html = report_path(months, OCTOBER).read_text(encoding="utf-8")
    units = {p["unit"] for p in changed}
    assert f"{len(changed)} sel target di {len(units)} unit berbeda" in html
    for p in changed[:30]:
        assert p["cell"] in html


def test_attention_list_has_every_unit_not_received_with_whatsapp_reminders(months):
    m = manifest(months, OCTOBER)
    page = parse(report_path(months, OCTOBER))
    html = report_path(months, OCTOBER).read_text(encoding="utf-8")
    section = html[html.index('<ul class="perhatian missing">') :]
    section = section[: section.index("</ul>")]
    listed = re.findall(r'<li data-unit="([^"]+)"', section)
    assert listed == [u["kode"] for u in m["units"] if not u["submitted"]]
    wa = [unquote(link) for link in page.links if link.startswith("https://wa.me/")]
    for kode in listed:
        mine = [link for link in wa if f"untuk {load_registry().unit(kode).nama} ({kode})" in link]
        if kode in NO_PHONE:
            assert mine == []
        else:
            assert mine and mine[0].split("?")[0].startswith("https://wa.me/62812")
            assert "laporan belum kami terima" in mine[0]


def test_the_page_asks_for_nothing_outside_itself(months):
    for p in MONTHS:
        path = report_path(months, p)
        page = parse(path)
        html = path.read_text(encoding="utf-8")
        assert page.sources == []
        assert not re.search(r"<script|@import|url\(|<link|<img|<iframe|<object|<embed", html, re.I)
        assert {link.split(":")[0] for link in page.links} <= {"https", "mailto"} | {
            link for link in page.links if link.startswith("#")
        }
        assert all(link.startswith(("https://wa.me/", "mailto:", "#")) for link in page.links)
        assert ' style="' not in html  # one <style> element, allowed by its hash
        css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
        assert f"style-src {style_hash(css)};" in unescape(html)
        assert "default-src 'none'" in html


# --------------------------------------------------------------------------------------------
# Untrusted unit text
# --------------------------------------------------------------------------------------------


def test_unit_text_is_escaped_everywhere():
    run = with_contacts(make_run(hostile=True))
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    plans = run.metrics.plans.copy()
    plans.loc[plans.index[0], "kendala"] = attack
    plans.loc[plans.index[0], "tindak_lanjut"] = "</style><style>body{display:none}</style>"
    run.metrics.plans = plans
    html = render_report(report_view(run))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert html.count("<style>") == 1 and html.count("</style>") == 1
    for text in HOSTILE_TEXTS:
        assert "<" not in text or text not in html


# --------------------------------------------------------------------------------------------
# In a real browser
# --------------------------------------------------------------------------------------------


def mediaboxes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_in_chromium_offline_charts_complete_and_a4_when_printed(months, tmp_path):
    path = report_path(months, OCTOBER)
    url = path.resolve().as_uri()
    m = manifest(months, OCTOBER)
    with chromium() as browser:
        with open_page(browser, url, only=lambda u: u == url) as opened:
            page = opened.page
            assert opened.refused == [], opened.refused
            assert set(opened.requests) == {url}
            assert [c for c in opened.console if c[0] in ("error", "pageerror", "warning")] == []
            charts = page.eval_on_selector_all(
                "svg.grafik",
                "els => els.map(e => [e.id, e.querySelectorAll('rect.batang').length])",
            )
            counts = dict(charts)
            completion = [u for u in m["units"] if u["completion_rate"] is not None]
            assert counts["grafik-status"] == 4
            assert counts["grafik-penyelesaian"] == len(completion)
            for kind in ("umum", "tematik"):
                rows = page.locator(f'tr[data-jenis="{kind}"]').count()
                assert counts[f"grafik-capaian-{kind}"] == rows > 0
            widths = page.eval_on_selector_all(
                "#grafik-penyelesaian rect.batang",
                "els => els.map(e => [e.dataset.kunci, e.getBBox().width])",
            )
            by_unit = {u["kode"]: u["completion_rate"] for u in completion}
            full = max(w for _, w in widths)
            for kode, width in widths:  # bar lengths follow the data
                assert width == pytest.approx(full * by_unit[kode], abs=0.6), kode
            pdf = page.pdf(format="A4")
            assert opened.refused == []
        assert pdf.startswith(b"%PDF")
        boxes = mediaboxes(pdf)
        assert len(boxes) >= 3
        assert all(abs(w - 595.3) < 1.5 and abs(h - 841.9) < 1.5 for w, h in boxes), boxes
        (tmp_path / "laporan.pdf").write_bytes(pdf)
        with open_page(browser, url, only=lambda u: u == url, viewport=(360, 740)) as phone:
            overflow = phone.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, "the page itself must not scroll sideways on a phone"
            assert phone.refused == [] and phone.console == []
