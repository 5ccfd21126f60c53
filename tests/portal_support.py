"""Portal fixtures: a data folder holding a demo month, accounts, and the REAL server
(``rbpipe serve`` in a subprocess on a free loopback port, under the tests' network guard),
as datasette's ``test_cli_serve_server.py`` does. Clients talk to it over HTTP with httpx."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browser import CHROMIUM, CHROMIUM_ARGS
from conftest import RBPIPE, guarded_env, rbpipe

PERIOD = "2025-10"
PASSWORD = "Kata-Sandi-Uji-2025"

# name -> (role, unit); every account signs in with PASSWORD unless one-time.
ACCOUNTS = {
    "bapenda": ("unit", "BAPENDA"),
    "dlh": ("unit", "DLH"),
    "dinsos": ("unit", "DINSOS"),
    "dishub": ("unit", "DISHUB"),
    "ana": ("analis", None),
    "pim": ("pimpinan", None),
    "kunci": ("unit", "DISPAR"),  # the lockout test's own account
    "kunci2": ("unit", "DISPERKIM"),  # the browser's lockout test
    "baru": ("unit", "DPMD"),  # one-time password
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_data(base: Path, period: str = PERIOD, seed: int = 2025):
    """A data folder with a generated month in ``inputs/<period>/``; returns (root, plan)."""
    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    plan = generate_month(
        base / "inputs" / period, Period.parse(period), load_registry(), seed=seed
    )
    return base, plan


def add_accounts(root: Path, accounts: dict) -> dict[str, str]:
    """Create accounts; returns the one-time passwords of those marked one-time."""
    from pipeline.portal.auth import create_account
    from pipeline.portal.db import Database
    from pipeline.registry import load_registry

    db = Database(root / "portal.sqlite")
    codes = load_registry(root / "inputs").codes
    one_time = {}
    for name, (role, unit) in accounts.items():
        generated = create_account(
            db,
            name,
            role,
            unit=unit,
            password=None if name == "baru" else PASSWORD,
            known_units=codes,
        )
        if generated:
            one_time[name] = generated
    db.close()
    return one_time


@dataclass
class Server:
    url: str
    root: Path
    proc: subprocess.Popen
    net_log: Path
    one_time: dict

    def client(
        self, name: str | None = None, password: str = PASSWORD, *, source: str | None = None
    ) -> Client:
        c = Client(self.url, source=source)
        if name:
            c.sign_in(name, password)
        return c

    @property
    def network_attempts(self) -> list[str]:
        return self.net_log.read_text().splitlines() if self.net_log.exists() else []


class Client:
    """An httpx client that keeps the session cookie and the CSRF token like the pages do."""

    def __init__(self, url: str, *, source: str | None = None):
        """``source``: the loopback address to connect from (127.0.0.0/8), so that tests can
        be different clients to the server."""
        transport = httpx.HTTPTransport(local_address=source) if source else None
        self.http = httpx.Client(
            base_url=url, timeout=120, follow_redirects=False, transport=transport
        )
        self.csrf = self.http.get("/api/sesi").json()["csrf"]

    def sign_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        r = self.post("/api/masuk", json={"nama": name, "sandi": password})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf"]
        return r

    def get(self, path: str, **kw) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, *, csrf: bool = True, **kw) -> httpx.Response:
        headers = kw.pop("headers", {})
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.http.post(path, headers=headers, **kw)

    def upload(self, path: Path, *, name: str | None = None, period: str = PERIOD):
        with open(path, "rb") as fh:
            return self.post(
                "/api/kiriman",
                files={"berkas": (name or path.name, fh)},
                data={"periode": period},
            )


def start_server(
    root: Path, *, period: str = PERIOD, one_time=None, args: tuple[str, ...] = ()
) -> Server:
    """``rbpipe serve`` on ``root`` (``args``: more options, e.g. ``--setelan``)."""
    port = free_port()
    env, net_log = guarded_env(root)
    proc = subprocess.Popen(
        [
            str(RBPIPE),
            "serve",
            "--data",
            str(root),
            "--port",
            str(port),
            "--periode",
            period,
            *args,
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/sehat", timeout=2).status_code == 200:
                return Server(url, root, proc, net_log, one_time or {})
        time.sleep(0.25)
    proc.kill()
    raise RuntimeError("server did not become ready in 120 s")


def stop_server(server: Server) -> str:
    server.proc.terminate()
    try:
        out, _ = server.proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        out, _ = server.proc.communicate()
    return out


@pytest.fixture(scope="session")
def portal_server(tmp_path_factory):
    root, plan = make_data(tmp_path_factory.mktemp("portal"))
    one_time = add_accounts(root, ACCOUNTS)
    # Every test of the session is the same client (127.0.0.1): the per-client sign-in
    # throttle is raised here and tested on a server of its own (test_portal_sessions.py).
    server = start_server(root, one_time=one_time, args=("--setelan", "client_failures=500"))
    server.plan = plan
    yield server
    out = stop_server(server)
    assert "Traceback" not in out, out
    assert server.network_attempts == []


@pytest.fixture(scope="session")
def demo_files(portal_server) -> Path:
    return portal_server.root / "inputs" / PERIOD


@pytest.fixture(scope="session")
def flawed_and_fixed(tmp_path_factory, demo_files) -> tuple[Path, Path]:
    """BAPENDA's demo workbook (a Persen target of 120 at RB Tematik!K5) and the same file
    with that cell corrected in "Excel" (openpyxl)."""
    import openpyxl

    folder = tmp_path_factory.mktemp("bapenda")
    flawed = folder / "BAPENDA_2025-10.xlsx"
    flawed.write_bytes((demo_files / "BAPENDA_2025-10.xlsx").read_bytes())
    wb = openpyxl.load_workbook(flawed)
    assert wb["RB Tematik"]["K5"].value == 120
    wb["RB Tematik"]["K5"] = 100
    fixed = folder / "BAPENDA_2025-10_perbaikan.xlsx"
    wb.save(fixed)
    return flawed, fixed


def env_without_proxy() -> dict:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def run_month(server: Server, period: str = PERIOD, timeout: float = 600) -> dict:
    """Start the month run as the analyst through the API and wait for it to finish."""
    ana = server.client("ana")
    r = ana.post("/api/rekap", json={"periode": period})
    assert r.status_code == 202, r.text
    task = r.json()["tugas"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = ana.get(f"/api/rekap/{task}").json()
        if info["status"] in ("selesai", "gagal"):
            assert info["status"] == "selesai", info
            return info
        time.sleep(0.5)
    raise AssertionError(f"run {task} did not finish in {timeout} s")


@pytest.fixture(scope="session")
def month_run(portal_server) -> dict:
    """The demo month run once through the portal (outputs exist afterwards)."""
    return run_month(portal_server)


# A second data folder for what needs a year and contacts: six synthetic units (a registry
# written into its inputs/, as `rbpipe demo --units` does) with WhatsApp numbers for five of
# them (test data only: the default registry has none), September consolidated (so the
# history holds each unit's targets) and October open for reporting.
YEAR_PERIODS = ("2025-09", "2025-10")
YEAR_PHONES = {  # as an operator types them -> as WhatsApp takes them
    "UNIT-0001": ("0812-3456-0001", "6281234560001"),
    "UNIT-0002": ("+62 813 4567 0002", "6281345670002"),
    "UNIT-0003": ("62815600000003", "62815600000003"),
    "UNIT-0004": ("(0817) 700.0004", "628177000004"),
    "UNIT-0005": ("0821 5555 0005", "6282155550005"),
}
YEAR_ACCOUNTS = {
    "ana": ("analis", None),
    "pim": ("pimpinan", None),
    **{f"unit{i}": ("unit", f"UNIT-{i:04d}") for i in range(1, 7)},
}


def make_year_data(base: Path, seed: int = 2025):
    """The folder described above; returns (root, {period: DemoPlan})."""
    import csv

    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    plans = {
        period: generate_month(
            base / "inputs" / period, Period.parse(period), load_registry(), seed=seed, n_units=6
        )
        for period in YEAR_PERIODS
    }
    registry_csv = base / "inputs" / "unit_kerja.csv"
    with registry_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with registry_csv.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, [*rows[0], "telepon"], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "telepon": YEAR_PHONES.get(row["kode"], ("",))[0]})
    run = rbpipe(
        "run", "--period", YEAR_PERIODS[0], "--inputs", "inputs", "--outputs", "outputs", cwd=base
    )
    assert run.returncode == 0, run.stderr
    return base, plans


@pytest.fixture(scope="session")
def year_server(tmp_path_factory):
    root, plans = make_year_data(tmp_path_factory.mktemp("tahun"))
    add_accounts(root, YEAR_ACCOUNTS)
    server = start_server(root, period=YEAR_PERIODS[1])
    server.plans = plans
    yield server
    out = stop_server(server)
    assert "Traceback" not in out, out
    assert server.network_attempts == []


@contextlib.contextmanager
def browser_context(viewport=(1366, 768), **kw):
    """A Chromium context (Debian's Chromium driven by Playwright) in which every request to a
    host other than loopback is aborted and recorded in ``context.outside``."""
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            accept_downloads=True,
            **{"locale": "id-ID", "timezone_id": "Asia/Jakarta", **kw},
        )
        outside: list[str] = []

        def guard(route):
            host = urlparse(route.request.url).hostname or ""
            if route.request.url.startswith(("data:", "blob:")) or host in (
                "127.0.0.1",
                "localhost",
                "::1",
            ):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        context.outside = outside
        try:
            yield context
        finally:
            context.close()
            browser.close()


def sign_in_page(context, url: str, name: str, password: str = PASSWORD):
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    page.goto(f"{url}/masuk")
    page.fill("#nama", name)
    page.fill("#sandi", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/masuk" not in u)
    return page
