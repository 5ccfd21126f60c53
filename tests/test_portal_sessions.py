"""Authentication and sessions under attack (issue 15), on servers of their own (the lockouts
and throttles they trigger must not touch other tests).

Clients are told apart by their address: each test connects from its own loopback address
(127.0.0.0/8 is all loopback), so "one client" and "many clients" are real TCP peers. Behind
the TLS proxy (``--https-di-depan``) the client is the address the proxy reports in
``X-Forwarded-For``, believed only from the proxy's own address (docs/decisions.md)."""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import RBPIPE
from portal_support import PASSWORD, PERIOD, add_accounts, make_data, start_server, stop_server
from test_portal_matrix import BODIES, app_routes

CLIENT_LIMIT = 20  # auth.CLIENT_FAILURES, the default the servers here keep
ACCOUNTS = {
    **{
        f"unit{i:02d}": ("unit", kode)
        for i, kode in enumerate(
            ["DLH", "DISHUB", "DINSOS", "BAPENDA", "DISPAR", "DPMD", "RSUD", "SETWAN"]
        )
    },
    "ana": ("analis", None),
    "pim": ("pimpinan", None),
    "korban": ("unit", "KESBANGPOL"),
    "tutup": ("unit", "SATPOLPP"),
    "tutup2": ("unit", "DKP"),
}


def _server(tmp_path_factory, name: str, *args: str):
    root, _ = make_data(tmp_path_factory.mktemp(name))
    add_accounts(root, ACCOUNTS)
    return start_server(root, args=args)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = _server(tmp_path_factory, "sesi")
    yield s
    out = stop_server(s)
    assert "Traceback" not in out, out
    assert s.network_attempts == []


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """A server behind the (imagined) TLS proxy on 127.0.0.1: ``--https-di-depan``."""
    s = _server(tmp_path_factory, "proksi", "--https-di-depan")
    yield s
    out = stop_server(s)
    assert "Traceback" not in out, out


def _sign_in(server, name, password=PASSWORD, *, source=None) -> httpx.Response:
    c = server.client(source=source)
    return c.post("/api/masuk", json={"nama": name, "sandi": password})


# --------------------------------------------------------------------------------------------
# Brute force
# --------------------------------------------------------------------------------------------


def test_guessing_across_many_accounts_from_one_client_is_throttled(server):
    """One client tries one wrong password on each of 40 names (real and invented): the
    accounts never reach their own lockout, the client's throttle stops it after 20."""
    c = server.client(source="127.0.0.11")
    real = [n for n in ACCOUNTS if n.startswith("unit") or n in ("ana", "pim")]
    names = [*real, *(f"tebakan{i}" for i in range(40))][:40]
    codes = [
        c.post("/api/masuk", json={"nama": n, "sandi": "Tebakan-123456"}).status_code for n in names
    ]
    assert codes[:CLIENT_LIMIT] == [401] * CLIENT_LIMIT
    assert codes[CLIENT_LIMIT:] == [429] * (40 - CLIENT_LIMIT)
    r = c.post("/api/masuk", json={"nama": "ana", "sandi": PASSWORD})
    assert r.status_code == 429 and "komputer ini" in r.json()["pesan"]  # the right one too
    # The accounts are not locked: the same right password from another client signs in.
    assert _sign_in(server, "ana", source="127.0.0.12").status_code == 200
    assert _sign_in(server, "unit00", source="127.0.0.12").status_code == 200


def test_guessing_one_account_from_many_clients_is_throttled(server):
    """40 clients, one wrong guess each, all at once, on one account: exactly 5 are judged
    (the attempt is counted before the password is checked), 35 answered 429; then the right
    password is refused too, from a client that never failed."""

    def guess(i: int) -> int:
        return _sign_in(server, "korban", f"Tebakan-{i:06d}", source=f"127.0.1.{i + 1}").status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(guess, range(40)))
    assert codes.count(401) == 5 and codes.count(429) == 35, sorted(codes)
    r = _sign_in(server, "korban", source="127.0.2.1")
    assert r.status_code == 429 and "dikunci" in r.json()["pesan"]
    # Those clients are not throttled for other accounts (one failure each).
    assert _sign_in(server, "unit01", source="127.0.1.7").status_code == 200
    audit = server.client("ana", source="127.0.2.2").get("/api/audit?batas=1000").json()["audit"]
    locked = [e for e in audit if e["aksi"] == "masuk.dikunci" and e["nama"] == "korban"]
    assert len(locked) >= 35 and len({e["alamat"] for e in locked}) >= 35


def test_a_client_cannot_escape_its_throttle_by_naming_itself(server):
    """Without --https-di-depan X-Forwarded-For is not believed (a client could write any
    address in it)."""
    c = server.client(source="127.0.0.13")
    codes = [
        c.post(
            "/api/masuk",
            json={"nama": f"palsu{i}", "sandi": "Tebakan-123456"},
            headers={"X-Forwarded-For": f"10.9.{i}.1"},
        ).status_code
        for i in range(CLIENT_LIMIT + 3)
    ]
    assert codes[-3:] == [429] * 3


def _raw_session(server, *, source=None, forwarded=None) -> tuple[httpx.Client, dict]:
    """An anonymous session on a server whose cookies are Secure (sent back by hand: the test
    talks plain HTTP to what a TLS proxy would forward)."""
    transport = httpx.HTTPTransport(local_address=source) if source else None
    http = httpx.Client(base_url=server.url, transport=transport)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    r = http.get("/api/sesi", headers=headers)
    cookie = r.headers["set-cookie"].split(";")[0]
    return http, {**headers, "Cookie": cookie, "X-CSRF-Token": r.json()["csrf"]}


def test_behind_the_proxy_the_forwarded_address_is_the_client(proxied):
    """From the proxy (127.0.0.1) X-Forwarded-For names the client: one office PC throttled
    does not throttle the others. From anywhere else the header is ignored."""
    http, headers = _raw_session(proxied, forwarded="10.1.2.3")
    for i in range(CLIENT_LIMIT):
        r = http.post(
            "/api/masuk", json={"nama": f"x{i}", "sandi": "Tebakan-1234"}, headers=headers
        )
        assert r.status_code == 401
    r = http.post("/api/masuk", json={"nama": "ana", "sandi": PASSWORD}, headers=headers)
    assert r.status_code == 429
    other_http, other = _raw_session(proxied, forwarded="10.1.2.4")
    r = other_http.post("/api/masuk", json={"nama": "ana", "sandi": PASSWORD}, headers=other)
    assert r.status_code == 200
    audit_head = {**other, "X-CSRF-Token": r.json()["csrf"]}
    audit_head["Cookie"] = r.headers["set-cookie"].split(";")[0]
    entries = other_http.get("/api/audit?batas=100", headers=audit_head).json()["audit"]
    assert {"10.1.2.3", "10.1.2.4"} <= {e["alamat"] for e in entries}
    # A peer that is not the proxy cannot name itself.
    spoof_http, spoof = _raw_session(proxied, source="127.0.0.77", forwarded="10.7.7.7")
    for i in range(CLIENT_LIMIT):
        spoof["X-Forwarded-For"] = f"10.7.7.{i}"
        spoof_http.post("/api/masuk", json={"nama": f"y{i}", "sandi": "Tebakan-12"}, headers=spoof)
    spoof["X-Forwarded-For"] = "10.8.8.8"
    r = spoof_http.post("/api/masuk", json={"nama": "ana", "sandi": PASSWORD}, headers=spoof)
    assert r.status_code == 429


# --------------------------------------------------------------------------------------------
# Sessions and cookies
# --------------------------------------------------------------------------------------------


def _cookie_attributes(set_cookie: str) -> tuple[str, set[str]]:
    first, *attrs = [p.strip() for p in set_cookie.split(";")]
    return first, {
        a.split("=")[0].lower() + ("=" + a.split("=", 1)[1].lower() if "=" in a else "")
        for a in attrs
    }


def test_every_cookie_is_httponly_samesite_and_secure_behind_tls(server, proxied):
    for srv, secure in ((server, False), (proxied, True)):
        http = httpx.Client(base_url=srv.url)
        seen = [http.get("/api/sesi").headers["set-cookie"]]
        cookie = seen[0].split(";")[0]
        csrf = http.get("/api/sesi", headers={"Cookie": cookie}).json()["csrf"]
        r = http.post(
            "/api/masuk",
            json={"nama": "unit02", "sandi": PASSWORD},
            headers={"Cookie": cookie, "X-CSRF-Token": csrf},
        )
        seen.append(r.headers["set-cookie"])
        cookie, csrf = r.headers["set-cookie"].split(";")[0], r.json()["csrf"]
        r = http.post("/api/keluar", headers={"Cookie": cookie, "X-CSRF-Token": csrf})
        seen.append(r.headers["set-cookie"])
        for header in seen:
            name_value, attrs = _cookie_attributes(header)
            assert name_value.startswith("rbpipe_sesi=")
            assert {"httponly", "samesite=lax", "path=/"} <= attrs, header
            assert ("secure" in attrs) is secure, header
            assert not any(a.startswith("domain") for a in attrs), header
        assert "max-age=0" in _cookie_attributes(seen[-1])[1] or "expires" in seen[-1].lower()


def _plant(client, session_id: str) -> None:
    """Make ``client`` carry exactly this session id (and no other)."""
    client.http.cookies.clear()
    client.http.cookies.set("rbpipe_sesi", session_id, domain="127.0.0.1", path="/")


def test_session_fixation_a_planted_id_dies_at_sign_in(server):
    attacker = server.client(source="127.0.0.21")
    planted = attacker.http.cookies.get("rbpipe_sesi")
    planted_csrf = attacker.csrf
    victim = server.client(source="127.0.0.22")
    _plant(victim, planted)
    victim.csrf = planted_csrf
    r = victim.post("/api/masuk", json={"nama": "unit03", "sandi": PASSWORD})
    assert r.status_code == 200
    assert victim.http.cookies.get("rbpipe_sesi") != planted
    assert r.json()["csrf"] != planted_csrf
    assert attacker.get("/api/sesi").json()["pengguna"] is None
    assert attacker.get("/api/kiriman").status_code == 401
    # The token the attacker knew is worthless in the victim's new session too.
    r = victim.post("/api/keluar", csrf=False, headers={"X-CSRF-Token": planted_csrf})
    assert r.status_code == 403


def test_sign_out_ends_the_session_on_the_server(server):
    c = server.client("unit04", source="127.0.0.23")
    stolen = c.http.cookies.get("rbpipe_sesi")
    assert c.post("/api/keluar").status_code == 200
    thief = server.client(source="127.0.0.24")
    _plant(thief, stolen)
    assert thief.get("/api/kiriman").status_code == 401
    assert thief.get("/api/sesi").json()["pengguna"] is None


def test_password_change_ends_every_session_and_rotates_this_one(server):
    first = server.client("unit05", source="127.0.0.25")
    second = server.client("unit05", source="127.0.0.26")
    old_id = first.http.cookies.get("rbpipe_sesi")
    new_password = "Sandi-Baru-Sekali-99"
    r = first.post("/api/sandi", json={"sandi_lama": PASSWORD, "sandi_baru": new_password})
    assert r.status_code == 200
    assert first.http.cookies.get("rbpipe_sesi") != old_id
    first.csrf = r.json()["csrf"]
    assert first.get("/api/kiriman").status_code == 200  # the new id works
    assert second.get("/api/kiriman").status_code == 401  # the other session ended
    replay = server.client(source="127.0.0.27")
    _plant(replay, old_id)
    assert replay.get("/api/kiriman").status_code == 401  # and the old id of this one too
    assert _sign_in(server, "unit05", source="127.0.0.28").status_code == 401
    assert _sign_in(server, "unit05", new_password, source="127.0.0.28").status_code == 200


def test_deactivation_ends_open_sessions_from_the_api_and_the_cli(server):
    ana = server.client("ana", source="127.0.0.29")
    open_sessions = [server.client("tutup", source=f"127.0.0.{30 + i}") for i in range(3)]
    assert all(s.get("/api/kiriman").status_code == 200 for s in open_sessions)
    assert ana.post("/api/akun/tutup/nonaktif").status_code == 200
    assert all(s.get("/api/kiriman").status_code == 401 for s in open_sessions)
    assert open_sessions[0].get("/unit").headers["location"] == "/masuk"
    assert _sign_in(server, "tutup", source="127.0.0.33").status_code == 401

    cli_victim = server.client("tutup2", source="127.0.0.34")
    assert cli_victim.get("/api/kiriman").status_code == 200
    done = subprocess.run(
        [str(RBPIPE), "akun", "nonaktif", "tutup2", "--data", str(server.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "dinonaktifkan" in done.stdout
    assert cli_victim.get("/api/kiriman").status_code == 401


# --------------------------------------------------------------------------------------------
# CSRF on every state change
# --------------------------------------------------------------------------------------------


def _post_routes() -> list[str]:
    return sorted(path for method, path in app_routes() if method == "POST")


def _concrete(path: str) -> str:
    return path.replace("{nama}", "unit06")


@pytest.mark.parametrize("path", _post_routes())
def test_csrf_missing_wrong_or_from_another_session_is_403(server, path):
    """As the analyst (allowed everything): no token, a wrong one, another live session's,
    and this session's token from before its sign-in. 403 every time, and nothing changed."""
    ana = server.client("ana", source="127.0.0.40")
    other = server.client("pim", source="127.0.0.41")
    anonymous = server.client(source="127.0.0.42")
    before = server.client("ana", source="127.0.0.43")
    stale = before.csrf
    before_anon = server.client(source="127.0.0.44")
    pre_token = before_anon.csrf
    before_anon.sign_in("unit07")
    audit_before = len(ana.get("/api/audit?batas=1000").json()["audit"])
    body = BODIES.get(path, {})
    if path == "/api/akun":
        body = {"json": {"nama": "csrf-korban", "peran": "analis"}}
    if path == "/api/rekap":
        body = {"json": {"periode": PERIOD}}
    if path == "/api/sandi":
        body = {"json": {"sandi_lama": PASSWORD, "sandi_baru": "Tidak-Boleh-Berlaku-1"}}
    if path == "/api/masuk":
        body = {"json": {"nama": "ana", "sandi": PASSWORD}}
    for token in (None, "salah", other.csrf, anonymous.csrf, stale + "x"):
        headers = {} if token is None else {"X-CSRF-Token": token}
        r = ana.post(_concrete(path), csrf=False, headers=headers, **body)
        assert r.status_code == 403, (path, token, r.text)
        assert "CSRF" in r.json()["pesan"]
    r = before_anon.post(_concrete(path), csrf=False, headers={"X-CSRF-Token": pre_token}, **body)
    assert r.status_code == 403
    # Nothing happened: no account, no run, no password change, still signed in.
    names = {a["nama"] for a in ana.get("/api/akun").json()["akun"]}
    assert "csrf-korban" not in names
    accounts = {a["nama"]: a for a in ana.get("/api/akun").json()["akun"]}
    assert accounts["unit06"]["aktif"] and not accounts["unit06"]["sandi_sementara"]
    assert ana.get("/api/kiriman").status_code == 200
    log = ana.get("/api/audit?batas=1000").json()["audit"]
    assert not any(e["aksi"].startswith(("rekap", "akun")) for e in log[: len(log) - audit_before])


def test_upload_with_a_wrong_form_token_stores_nothing(server):
    unit = server.client("unit00", source="127.0.0.45")
    other = server.client("unit01", source="127.0.0.46")
    month = server.root / "inputs" / PERIOD
    before = sorted(month.iterdir())
    content = (month / "DLH_2025-10.xlsx").read_bytes()
    for token in ("", "salah", other.csrf):
        r = unit.http.post(
            "/api/kiriman",
            files={"berkas": ("DLH_2025-10.xlsx", content)},
            data={"periode": PERIOD, "csrf": token},
        )
        assert r.status_code == 403, r.text
    assert sorted(month.iterdir()) == before
    assert list((server.root / "portal" / "unggah").iterdir()) == []


def test_sign_in_attempts_run_in_parallel_without_errors(server):
    """A burst of parallel sign-ins of different accounts from different clients: all 200
    (argon2 in threads; the attempt bookkeeping in SQLite transactions)."""
    names = ["unit00", "unit01", "unit02", "unit03", "unit04", "unit06", "unit07", "pim"]
    results: list[int] = []
    lock = threading.Lock()

    def go(i: int) -> None:
        code = _sign_in(server, names[i % len(names)], source=f"127.0.3.{i + 1}").status_code
        with lock:
            results.append(code)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 24
