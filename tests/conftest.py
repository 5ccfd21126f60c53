"""Shared fixtures: the foreign corpus, and real CLI runs over a generated demo month.

The integration fixtures run the real ``rbpipe`` console script in a subprocess, exactly as an
analyst would, under a network guard (a ``sitecustomize`` that refuses every IP connection and
name lookup and records the attempt), with ``SOURCE_DATE_EPOCH`` fixed so outputs are
reproducible. They are session-scoped: several test files read the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RBPIPE = Path(sys.executable).with_name("rbpipe")
FIXED_EPOCH = "1764547200"  # 2025-12-01T00:00:00Z: the run timestamp of every fixture run


def _corpus() -> Path | None:
    candidates = [
        os.environ.get("RBPIPE_CORPUS"),
        REPO.parent / "shared" / "corpus" / "foreign",
        Path("/work/shared/corpus/foreign"),
    ]
    return next((Path(c) for c in candidates if c and Path(c).is_dir()), None)


CORPUS = _corpus()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared foreign corpus. Its absence fails the test, loudly: a test that skips when
    its input is missing would pass on a machine that never ran it."""
    if CORPUS is None:
        pytest.fail(
            "The shared foreign corpus was not found (tried $RBPIPE_CORPUS, "
            "../shared/corpus/foreign beside the checkout and /work/shared/corpus/foreign). "
            "Point RBPIPE_CORPUS at it."
        )
    return CORPUS


needs_corpus = pytest.mark.usefixtures("corpus")

# Contract lists of docs/contracts.md, stated once for the tests (never imported from the code
# they check): the manifest's file and unit keys in order, and the regency workbook's sheets.
MANIFEST_FILE_KEYS = [
    "name",
    "sha256",
    "unit",
    "status",
    "problems",
    "rows_read",
    "rows_consolidated",
    "rows_skipped",
]
MANIFEST_UNIT_KEYS = [
    "kode",
    "nama",
    "submitted",
    "on_time",
    "rows",
    "errors",
    "warnings",
    "completion_rate",
    "capaian_mean",
    "capaian_median",
    "evidence_completeness",
    "budget_absorption",
    "data_quality",
]
REGENCY_SHEETS = [
    "Ringkasan",
    "Status Pengiriman",
    "Capaian per Unit",
    "Capaian per Tema",
    "RB Umum",
    "RB Tematik",
    "Masalah Validasi",
    "Tren",
    "Info Proses",
    "Legenda",
]

# Names of a month's outputs (docs/contracts.md "Published files"), stated once for the tests;
# tests/test_outputs.py checks pipeline.outputs.OutputLayout against them. Paths are relative to
# the outputs folder; {period} is YYYY-MM.
HISTORY_FILE = "riwayat.sqlite"
LOCK_FILE = ".rbpipe.lock"
REMINDERS_FILE = "belum_mengirim.xlsx"
MANIFEST_FILE = "manifest.json"
LOG_FILE = "rbpipe.log"
FEEDBACK_FOLDER = "umpan_balik"


def regency_workbook_name(period: object) -> str:
    return f"Konsolidasi_RB_{period}.xlsx"


def report_name(period: object) -> str:
    return f"Laporan_RB_{period}.html"


def feedback_name(kode: str, period: object) -> str:
    return f"{kode}_{period}_umpan_balik.xlsx"


def unknown_feedback_name(stem: str, period: object) -> str:
    return f"TIDAK-DIKENAL_{stem}_{period}_umpan_balik.xlsx"


# Installed in every Python process of a guarded run (parent and ingest workers alike).
NETWORK_GUARD = """
import os, socket
_LOG = os.environ["RBPIPE_NET_LOG"]
# "HOST:PORT" pairs a test allows (its own loopback server), comma-separated.
_ALLOW = {a for a in os.environ.get("RBPIPE_NET_ALLOW", "").split(",") if a}

def _allowed(address):
    return isinstance(address, tuple) and f"{address[0]}:{address[1]}" in _ALLOW

def _refuse(what):
    with open(_LOG, "a") as fh:
        fh.write(f"{os.getpid()} {what}\\n")
    raise OSError("rbpipe test: network access refused")

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
        _refuse(f"connect {address!r}")
    return _connect(self, address)

def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
        _refuse(f"connect_ex {address!r}")
    return _connect_ex(self, address)

def sendto(self, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse("sendto")
    return _sendto(self, *args)

_sendto = socket.socket.sendto
socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
_getaddrinfo = socket.getaddrinfo
socket.getaddrinfo = lambda *a, **k: (
    _getaddrinfo(*a, **k) if _allowed(tuple(a[:2])) else _refuse(f"getaddrinfo {a[:2]!r}"))
socket.gethostbyname = lambda *a, **k: _refuse(f"gethostbyname {a!r}")
socket.gethostbyaddr = lambda *a, **k: _refuse(f"gethostbyaddr {a!r}")

# Inputs guard: with RBPIPE_READONLY_DIR set, any attempt of this process to write, create,
# rename, delete or touch something under that folder is refused and recorded. Tests run as
# root, for whom chmod does not make a folder read-only; an audit hook holds for everyone.
_RO = os.environ.get("RBPIPE_READONLY_DIR")
if _RO:
    import sys
    _RO = os.path.realpath(_RO)
    _WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    _CHANGES = {"os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.utime",
                "os.truncate", "os.symlink", "os.link", "os.rename", "shutil.rmtree",
                "shutil.move", "shutil.copyfile", "shutil.copytree"}

    def _inside(path):
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return real == _RO or real.startswith(_RO + os.sep)

    def _guard(event, args):
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            writes = (mode is not None and any(c in str(mode) for c in "wax+")) or (
                mode is None and flags is not None and flags & _WRITE_FLAGS)
            if writes and path is not None and not isinstance(path, int) and _inside(path):
                _refuse_write(f"open {path!r} {mode or flags!r}")
        elif event in _CHANGES:
            for path in args[:2]:
                if isinstance(path, (str, bytes, os.PathLike)) and _inside(path):
                    _refuse_write(f"{event} {path!r}")

    def _refuse_write(what):
        with open(os.path.join(os.path.dirname(_LOG), "writes.log"), "a") as fh:
            fh.write(f"{os.getpid()} {what}\\n")
        raise PermissionError(f"rbpipe test: write under inputs refused: {what}")

    sys.addaudithook(_guard)
"""


@dataclass
class CliRun:
    """One finished ``rbpipe`` subprocess and where it wrote."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    net_log: Path

    @property
    def network_attempts(self) -> list[str]:
        return self.net_log.read_text().splitlines() if self.net_log.exists() else []

    @property
    def input_writes(self) -> list[str]:
        """Writes the inputs guard refused (``RBPIPE_READONLY_DIR``), one line each."""
        log = self.net_log.with_name("writes.log")
        return log.read_text().splitlines() if log.exists() else []


def guarded_env(workdir: Path, **extra: str) -> tuple[dict, Path]:
    """Environment for a subprocess: network guard installed, fixed run timestamp."""
    guard = workdir / "_netguard"
    guard.mkdir(parents=True, exist_ok=True)
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD)
    net_log = guard / "attempts.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(guard), env.get("PYTHONPATH")]))
    env["RBPIPE_NET_LOG"] = str(net_log)
    env["SOURCE_DATE_EPOCH"] = FIXED_EPOCH
    env.update(extra)
    return env, net_log


def rbpipe(*args: str, cwd: Path, timeout: float = 600, **env_extra: str) -> CliRun:
    env, net_log = guarded_env(cwd, **env_extra)
    proc = subprocess.run(
        [str(RBPIPE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    return CliRun(list(args), proc.returncode, proc.stdout, proc.stderr, net_log)


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """(sha256, size, mtime_ns) of every file under ``folder``: inputs must never change."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[str(path.relative_to(folder))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                st.st_size,
                st.st_mtime_ns,
            )
    return out


@dataclass
class DemoRun:
    """The demo month generated by the API, then consolidated by the real CLI."""

    plan: object  # pipeline.demo.DemoPlan
    inputs: Path
    outputs: Path
    run: CliRun
    before: dict
    after: dict

    @property
    def month(self) -> Path:
        return self.outputs / str(self.plan.period)

    @property
    def manifest(self) -> dict:
        return json.loads((self.month / MANIFEST_FILE).read_text(encoding="utf-8"))


PERIOD = "2025-10"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    base = tmp_path_factory.mktemp("demo_run")
    inputs = base / "inputs"
    plan = generate_month(inputs / PERIOD, Period.parse(PERIOD), load_registry(), seed=2025)
    before = snapshot(inputs)
    run = rbpipe(
        "run",
        "--period",
        PERIOD,
        "--inputs",
        str(inputs),
        "--outputs",
        str(base / "outputs"),
        cwd=base,
        RBPIPE_READONLY_DIR=str(inputs),
    )
    return DemoRun(plan, inputs, base / "outputs", run, before, snapshot(inputs))


# The portal's fixtures (real server, accounts) live in portal_support.py; importing them here
# registers them once, so their session scope is shared by every portal test module.
from portal_support import demo_files, flawed_and_fixed, month_run, portal_server, year_server  # noqa: E402,F401,I001
