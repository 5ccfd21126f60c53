"""Names and paths (issue 15): hostile upload names never choose where a file is stored, and
``GET /api/hasil/{periode}/{nama}`` never serves anything outside the month's outputs folder,
whatever the path (traversal, encoded once or twice, absolute, backslashes, NUL) and whatever
was planted in ``outputs/`` (symbolic links to files and folders outside, a hard link, a FIFO,
the month folder itself a link)."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
from attack_support import multipart, raw_exchange, request_head, upload_head
from portal_support import PERIOD

CANONICAL = re.compile(r"^DLH_2025-10_\d{8}T\d{6}_[0-9a-f]{8}(-\d+)?(\.[a-z0-9]{1,5})?$")
SECRET = "RAHASIA-DI-LUAR-FOLDER-BULAN-7f3a"

NAMES = [
    b"../../x.xlsx",
    b"..\\..\\..\\windows\\x.xlsx",
    b"/etc/cron.d/x.xlsx",
    b"CON.xlsx",
    b"NUL",
    b"aux.XLSX",
    b"..",
    b".xlsx",
    b".hidden.xlsx",
    b"~$kunci.xlsx",
    ("a" * 5000 + ".xlsx").encode(),
    b"\xff\xfe laporan \x80\x81.xlsx",
    b"lapor\nan.xlsx",
    b"lapor\ran.xlsx",
    b"lapor\x00an.xlsx",
    b"laporan%0A%0D.xlsx",
    "laporan\u202exslx.exe".encode(),
    "Laporan RB \u00c9\u00e9 \u2014 Okt\u00f3ber.xlsx".encode(),
    b"<script>alert(1)</script>.xlsx",
    b'lap"oran.xlsx',
]


def _tree(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "_netguard" not in p.parts
    }


PAYLOAD = b"bukan buku kerja, hanya nama berkasnya yang diuji\n"
SAFE_STEM = re.compile(r"^[A-Za-z0-9 ._()-]{1,120}$")


@pytest.mark.parametrize("who", ["dlh", "ana"])
def test_hostile_upload_names_never_choose_the_place(portal_server, who):
    """Each name is uploaded raw (bytes as they are in the multipart header). A unit's upload
    is stored under the canonical name in the month folder (201, rejected as no workbook); the
    analyst's, whose unit cannot be recognised, is quarantined (422) under the name reduced to
    safe characters. Or 400 for a header that cannot be parsed. The name shown back has no path,
    no control character, at most 200 characters; nothing appears anywhere else in the data
    folder; every audit line stays one line."""
    root = portal_server.root
    client = portal_server.client(who)
    before = _tree(root)
    stored = set()
    for raw in NAMES:
        boundary, body = multipart(raw, PAYLOAD, fields={"periode": PERIOD})
        headers = upload_head(client, boundary, len(body), Connection="close")
        head = request_head("POST", "/api/kiriman", headers=headers)
        answer = raw_exchange(portal_server.url, head + body)
        expected = 201 if who == "dlh" else 422
        assert answer.status in (expected, 400), (raw[:40], answer.head, answer.body[:300])
        if answer.status == 400:
            continue
        got = json.loads(answer.body)
        if who == "dlh":
            assert CANONICAL.match(got["disimpan"]), got["disimpan"]
            place = f"inputs/{PERIOD}/{got['disimpan']}"
        else:
            assert SAFE_STEM.match(got["disimpan"]), got["disimpan"]
            assert not got["disimpan"].startswith((".", "~"))
            place = f"karantina/{got['disimpan']}"
        assert (root / place).read_bytes() == PAYLOAD
        shown = got["berkas"]
        assert 0 < len(shown) <= 200
        assert "/" not in shown and "\\" not in shown
        assert not any(unicodedata.category(c).startswith("C") for c in shown), shown
        stored.add(place)
    print(f"\n{who}: {len(NAMES)} hostile names, {len(stored)} stored safely, the rest 400")
    assert len(stored) >= len(NAMES) - 4  # most names are simply taken
    new = _tree(root) - before
    assert {n for n in new if not n.startswith(("portal.sqlite", "portal/umpan_balik/"))} == stored
    assert list((root / "portal" / "unggah").iterdir()) == []
    audit = portal_server.client("ana").get("/api/audit?batas=1000").json()["audit"]
    for entry in audit:
        assert "\n" not in entry["rincian"] and "\r" not in entry["rincian"]
        assert "\n" not in (entry["nama"] or "")


def test_a_sign_in_name_with_newlines_does_not_forge_audit_lines(portal_server):
    c = portal_server.client()
    forged = "x\n2025-10-01T00:00:00 ana masuk berhasil masuk"
    r = c.post("/api/masuk", json={"nama": forged, "sandi": "salah-sekali"})
    assert r.status_code == 401
    audit = portal_server.client("ana").get("/api/audit").json()["audit"]
    assert all("\n" not in (e["nama"] or "") + e["rincian"] for e in audit)


@pytest.fixture
def planted(portal_server, month_run, tmp_path):
    """Things planted in the month's outputs (and a whole month folder that is a link), removed
    afterwards: every one points at a file holding SECRET outside the month folder."""
    month = portal_server.root / "outputs" / PERIOD
    outside = tmp_path / "di_luar"
    outside.mkdir()
    secret = outside / "rahasia.xlsx"
    secret.write_text(SECRET)
    (outside / "laporan.html").write_text(SECRET)
    feedback = month / "umpan_balik" / f"DLH_{PERIOD}_umpan_balik.xlsx"
    aside = feedback.with_name(".asli-" + feedback.name)
    feedback.rename(aside)
    made = [
        (month / "tautan.xlsx", lambda p: p.symlink_to(secret)),
        (month / "tautan_relatif.xlsx", lambda p: p.symlink_to(os.path.relpath(secret, month))),
        (month / "folder_tautan", lambda p: p.symlink_to(outside, target_is_directory=True)),
        (month / "keras.xlsx", lambda p: os.link(secret, p)),
        (month / "pipa.xlsx", lambda p: os.mkfifo(p)),
        (feedback, lambda p: p.symlink_to(secret)),  # the unit's own feedback name
        (portal_server.root / "outputs" / "2025-09", lambda p: p.symlink_to(outside)),
    ]
    for path, make in made:
        make(path)
    try:
        yield secret
    finally:
        for path, _ in made:
            path.unlink(missing_ok=True)
        aside.rename(feedback)


TRAVERSALS = [
    "../../portal.sqlite",
    "..%2f..%2fportal.sqlite",
    "%2e%2e%2f%2e%2e%2fportal.sqlite",
    "%2e%2e/%2e%2e/portal.sqlite",
    "%252e%252e%252f%252e%252e%252fportal.sqlite",
    "..%252f..%252fportal.sqlite",
    "..\\..\\portal.sqlite",
    "..%5c..%5cportal.sqlite",
    "umpan_balik/../../../portal.sqlite",
    "umpan_balik/%2e%2e/%2e%2e/%2e%2e/portal.sqlite",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "C:\\Windows\\win.ini",
    "manifest.json%00.xlsx",
    "..",
    ".",
    "",
    ".rbpipe.lock",
    ".cache",
    "riwayat.sqlite",
    "../riwayat.sqlite",
    "tautan.xlsx",
    "tautan_relatif.xlsx",
    "folder_tautan/rahasia.xlsx",
    "folder_tautan/laporan.html",
    "keras.xlsx",
    "pipa.xlsx",
    "a/" * 2000 + "x.xlsx",
]


def _raw_get(server, client, path: str):
    cookie = client.http.cookies.get("rbpipe_sesi")
    return raw_exchange(
        server.url,
        request_head(
            "GET", path, headers={"Cookie": f"rbpipe_sesi={cookie}", "Connection": "close"}
        ),
    )


def test_nothing_outside_the_month_folder_is_ever_served(portal_server, planted):
    """Sent byte for byte (no client normalises the path): as the analyst, who may download
    every output of the month, each answer is a 404 (or uvicorn's 400 for a request it cannot
    parse) and never holds the secret or a database."""
    ana = portal_server.client("ana")
    for name in TRAVERSALS:
        for period in (PERIOD, "2025-09", "..", "%2e%2e", "2025-10%2f.."):
            answer = _raw_get(portal_server, ana, f"/api/hasil/{period}/{name}")
            assert answer.status in (404, 400, 405), (period, name, answer.head)
            assert SECRET.encode() not in answer.body
            assert b"SQLite format 3" not in answer.body
    print(f"\n{len(TRAVERSALS) * 5} crafted paths: none served")
    listing = ana.get(f"/api/hasil/{PERIOD}").json()["berkas"]
    for planted_name in ("tautan.xlsx", "tautan_relatif.xlsx", "keras.xlsx", "pipa.xlsx"):
        assert planted_name not in listing
    assert not any(n.startswith("folder_tautan") for n in listing)
    assert ana.get("/api/hasil/2025-09").json()["berkas"] == []


def test_a_link_under_the_units_own_feedback_name_is_not_served(portal_server, planted):
    dlh = portal_server.client("dlh")
    r = dlh.get(f"/api/hasil/{PERIOD}/umpan_balik/DLH_{PERIOD}_umpan_balik.xlsx")
    assert r.status_code == 404 and SECRET not in r.text


def test_static_files_do_not_traverse(portal_server):
    c = portal_server.client()
    for path in ("/static/..%2f..%2fportal.sqlite", "/static/../app.py", "/static/%2e%2e/app.py"):
        answer = raw_exchange(
            portal_server.url, request_head("GET", path, headers={"Connection": "close"})
        )
        assert answer.status in (404, 400), (path, answer.head)
        assert b"import" not in answer.body
    assert c.get("/static/app.css").status_code == 200


def test_real_outputs_are_still_served(portal_server, month_run):
    ana = portal_server.client("ana")
    names = ana.get(f"/api/hasil/{PERIOD}").json()["berkas"]
    workbook = next(n for n in names if n.endswith(".xlsx") and "/" not in n)
    r = ana.get(f"/api/hasil/{PERIOD}/{workbook}")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["content-disposition"] == f'attachment; filename="{workbook}"'
    dlh = portal_server.client("dlh")
    own = dlh.get(f"/api/hasil/{PERIOD}/umpan_balik/DLH_{PERIOD}_umpan_balik.xlsx")
    assert own.status_code == 200 and own.content[:2] == b"PK"
