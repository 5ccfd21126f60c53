"""The portal's JSON API against the real server: the unit's check loop, identity, limits,
sign-in, sessions, CSRF, access to objects, audit log."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from portal_support import PASSWORD, PERIOD


def test_health_and_anonymous_session(portal_server):
    c = portal_server.client()
    assert c.get("/api/sehat").json() == {"status": "ok"}
    s = c.get("/api/sesi").json()
    assert s["pengguna"] is None and len(s["csrf"]) >= 32
    assert s["bulan"]["periode"] == PERIOD and s["bulan"]["batas"] == "2025-11-05"


def test_cookie_flags_and_rotation_at_sign_in(portal_server):
    c = portal_server.client()
    before = c.http.cookies.get("rbpipe_sesi")
    r = c.post("/api/masuk", json={"nama": "dlh", "sandi": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    after = c.http.cookies.get("rbpipe_sesi")
    assert after and after != before
    assert r.json()["pengguna"] == {
        "nama": "dlh",
        "peran": "unit",
        "unit": "DLH",
        "sandi_sementara": False,
    }
    # The old (anonymous) session id is dead: it cannot be reused to act.
    old = portal_server.client()
    old.http.cookies.set("rbpipe_sesi", before)
    assert old.http.get("/api/sesi").json()["pengguna"] is None


def test_every_response_carries_the_csp(portal_server):
    c = portal_server.client()
    for path in ("/masuk", "/api/sehat", "/static/app.css"):
        assert c.get(path).headers["content-security-policy"].startswith("default-src 'self'")


def test_state_change_without_csrf_is_refused(portal_server):
    c = portal_server.client("dlh")
    r = c.post("/api/keluar", csrf=False)
    assert r.status_code == 403 and "CSRF" in r.json()["pesan"]
    r = c.post("/api/keluar", headers={"X-CSRF-Token": "salah"}, csrf=False)
    assert r.status_code == 403
    # Another session's token is not this session's token.
    other = portal_server.client("dishub")
    r = c.post("/api/keluar", headers={"X-CSRF-Token": other.csrf}, csrf=False)
    assert r.status_code == 403
    assert c.get("/api/kiriman").status_code == 200  # still signed in


def test_unit_uploads_flawed_then_fixed_workbook(portal_server, flawed_and_fixed):
    flawed, fixed = flawed_and_fixed
    c = portal_server.client("bapenda")
    r = c.upload(flawed)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["unit"] == "BAPENDA" and body["periode"] == PERIOD
    assert body["berkas"] == "BAPENDA_2025-10.xlsx" and body["status"] == "accepted"
    assert body["ada_kesalahan"] is True
    problem = next(p for p in body["masalah"] if p["code"] == "RB-E105")
    assert problem["cell"] == "RB Tematik!K5" and problem["value"] == "120"
    assert problem["severity"] == "error" and problem["hint"]
    assert problem["field"] == "target_tw4" and problem["kolom"] == "Target TW IV"
    stored = portal_server.root / "inputs" / PERIOD / body["disimpan"]
    assert stored.read_bytes() == flawed.read_bytes()
    assert body["disimpan"].startswith("BAPENDA_2025-10_") and body["disimpan"].endswith(
        "_" + body["sha256"][:8] + ".xlsx"
    )

    # The instant feedback workbook marks the same cell.
    r = c.get(body["umpan_balik"])
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb["RB Tematik"]["K5"].value == 120
    fixes = [[c.value for c in row] for row in wb["Perbaikan"].iter_rows()]
    assert any("K5" in str(v) for row in fixes for v in row if v)
    assert "pemeriksaan langsung" in str(wb["Ringkasan"]["A4"].value)

    r = c.upload(fixed)
    assert r.status_code == 201
    assert r.json()["masalah"] == [] and r.json()["ada_kesalahan"] is False
    listed = c.get(f"/api/kiriman?periode={PERIOD}").json()["kiriman"]
    assert [k["berkas"] for k in listed[:2]] == [fixed.name, flawed.name]


def test_workbook_of_another_unit_is_quarantined(portal_server, demo_files):
    c = portal_server.client("dlh")
    month = portal_server.root / "inputs" / PERIOD
    before = sorted(p.name for p in month.iterdir())
    r = c.upload(demo_files / "DISHUB_2025-10.xlsx", name="laporan_kami.xlsx")
    assert r.status_code == 422
    assert "DISHUB" in r.json()["pesan"] and r.json()["karantina"] is True
    assert sorted(p.name for p in month.iterdir()) == before
    assert (portal_server.root / "karantina" / r.json()["disimpan"]).is_file()
    assert c.get(r.json()["umpan_balik"]).status_code == 404


def test_upload_over_50_mib_is_refused_while_streaming(portal_server):
    c = portal_server.client("dlh")

    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="berkas"; filename="x.xlsx"\r\n\r\n'
        chunk = b"\0" * (1 << 20)
        for _ in range(52):
            yield chunk
        yield b"\r\n--b--\r\n"

    r = c.http.post(
        "/api/kiriman",
        content=body(),
        headers={"X-CSRF-Token": c.csrf, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 413 and "50 MiB" in r.json()["pesan"]
    staging = portal_server.root / "portal" / "unggah"
    assert [p for p in staging.rglob("*") if p.is_file()] == []


def test_declared_length_over_limit_is_refused_at_once(portal_server):
    """A body that declares 60 MiB is answered 413 before any of it is read."""
    import socket
    from urllib.parse import urlparse

    c = portal_server.client("dlh")
    url = urlparse(portal_server.url)
    cookie = c.http.cookies.get("rbpipe_sesi")
    head = (
        "POST /api/kiriman HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        f"Cookie: rbpipe_sesi={cookie}\r\n"
        f"X-CSRF-Token: {c.csrf}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {60 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"--b\r\n")
        answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413")


def test_non_workbook_is_stored_and_rejected_with_its_code(portal_server):
    c = portal_server.client("dishub")
    r = c.post(
        "/api/kiriman",
        files={"berkas": ("../../laporan.xlsx", b"%PDF-1.4 not a workbook\n")},
        data={"periode": PERIOD},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["berkas"] == "laporan.xlsx" and body["status"] == "rejected"
    assert [p["code"] for p in body["masalah"]] == ["RB-E001"]
    assert (portal_server.root / "inputs" / PERIOD / body["disimpan"]).is_file()


def test_lockout_after_five_failures_even_for_the_right_password(portal_server):
    c = portal_server.client()
    for i in range(5):
        r = c.post("/api/masuk", json={"nama": "kunci", "sandi": f"salah-{i}"})
        assert r.status_code == 401 and "salah" in r.json()["pesan"]
    r = c.post("/api/masuk", json={"nama": "kunci", "sandi": PASSWORD})
    assert r.status_code == 429 and "dikunci" in r.json()["pesan"]


def test_one_time_password_must_be_changed_first(portal_server):
    c = portal_server.client()
    r = c.post("/api/masuk", json={"nama": "baru", "sandi": portal_server.one_time["baru"]})
    assert r.status_code == 200 and r.json()["pengguna"]["sandi_sementara"] is True
    c.csrf = r.json()["csrf"]
    assert c.get("/api/kiriman").status_code == 403
    assert c.get("/unit").headers["location"] == "/sandi"
    weak = c.post(
        "/api/sandi", json={"sandi_lama": portal_server.one_time["baru"], "sandi_baru": "pendek"}
    )
    assert weak.status_code == 400 and "10 karakter" in weak.json()["pesan"]
    named = c.post(
        "/api/sandi",
        json={"sandi_lama": portal_server.one_time["baru"], "sandi_baru": "baru-baru-saja-1"},
    )
    assert named.status_code == 400 and "nama pengguna" in named.json()["pesan"]
    other = portal_server.client()
    other.post("/api/masuk", json={"nama": "baru", "sandi": portal_server.one_time["baru"]})
    ok = c.post(
        "/api/sandi",
        json={"sandi_lama": portal_server.one_time["baru"], "sandi_baru": "Sandi-Pilihan-77"},
    )
    assert ok.status_code == 200
    assert c.get("/api/kiriman").status_code == 200
    assert other.get("/api/kiriman").status_code == 401  # the other session ended


def test_unit_cannot_reach_another_units_objects(portal_server, demo_files):
    owner = portal_server.client("dlh")
    r = owner.upload(demo_files / "DLH_2025-10.xlsx")
    assert r.status_code == 201
    upload = r.json()
    intruder = portal_server.client("dishub")
    assert intruder.get(f"/api/kiriman/{upload['id']}").status_code == 404
    assert intruder.get(upload["umpan_balik"]).status_code == 404
    assert intruder.get("/api/papan").status_code == 403
    mine = intruder.get(f"/api/kiriman?periode={PERIOD}").json()["kiriman"]
    assert all(k["unit"] == "DISHUB" for k in mine)
    assert (
        intruder.get(f"/api/hasil/{PERIOD}/umpan_balik/DLH_{PERIOD}_umpan_balik.xlsx").status_code
        == 404
    )
    assert portal_server.client("pim").get(f"/api/kiriman/{upload['id']}").status_code == 200
    assert portal_server.client("pim").get(upload["umpan_balik"]).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "../riwayat.sqlite",
        "..%2Friwayat.sqlite",
        "/etc/passwd",
        "umpan_balik/../../riwayat.sqlite",
        ".rbpipe.lock",
    ],
)
def test_outputs_outside_the_month_are_never_served(portal_server, name):
    c = portal_server.client("ana")
    assert c.get(f"/api/hasil/{PERIOD}/{name}").status_code == 404


def test_audit_log_records_sign_in_upload_and_download(portal_server, demo_files):
    c = portal_server.client("dlh")
    body = c.upload(demo_files / "DLH_2025-10.xlsx").json()
    c.get(body["umpan_balik"])
    log = portal_server.client("ana").get("/api/audit").json()["audit"]
    actions = {(e["nama"], e["aksi"]) for e in log}
    assert {("dlh", "masuk"), ("dlh", "unggah"), ("dlh", "unduh")} <= actions
    assert any(e["aksi"] == "masuk.gagal" for e in log)
    assert json.dumps(log)  # plain JSON


def test_accounts_api_for_the_analyst(portal_server):
    ana = portal_server.client("ana")
    r = ana.post("/api/akun", json={"nama": "setwan", "peran": "unit", "unit": "SETWAN"})
    assert r.status_code == 201 and len(r.json()["sandi"]) >= 12
    names = {a["nama"]: a for a in ana.get("/api/akun").json()["akun"]}
    assert names["setwan"]["sandi_sementara"] is True
    s = portal_server.client()
    assert (
        s.post("/api/masuk", json={"nama": "setwan", "sandi": r.json()["sandi"]}).status_code == 200
    )
    assert ana.post("/api/akun/setwan/nonaktif").status_code == 200
    assert s.get("/api/sesi").json()["pengguna"] is None  # its session ended
