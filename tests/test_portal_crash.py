"""Crashes (issue 15): the server is killed with SIGKILL many times, at different moments:
while it starts, while units upload, and at each stage of a month run. After every kill:

* every process the server had started is gone within seconds (nothing runs on for a dead
  server: not the GX workers, not the month run);
* every upload answered 201 is in ``inputs/<period>/`` whole (its SHA-256 matches), and every
  file there that the run would read is whole (the portal's names carry the first 8 hex digits
  of the SHA-256 of their content) -- partial files exist only under hidden names;
* ``portal.sqlite`` passes ``PRAGMA integrity_check``;
* the restarted server cleans the leftovers, serves the same board (units not uploading at the
  kill unchanged; the others showing every acknowledged upload), marks an interrupted run
  failed, and a final month run holds every acknowledged upload.

The kill moments come from a fixed seed, so a failure can be replayed."""

from __future__ import annotations

import json
import random
import re
import subprocess
import threading
import time

import httpx
import pytest
from attack_support import descendants, integrity, leftovers, run_files, sha256, wait_gone
from conftest import RBPIPE, guarded_env
from portal_support import (
    PASSWORD,
    Server,
    add_accounts,
    free_port,
    make_data,
    run_month,
    start_server,
)

from pipeline.locking import OutputLock

pytestmark = pytest.mark.slow
PERIOD = "2025-10"
SEED = 15
UNITS = ("DLH", "DISHUB", "DINSOS", "BAPENDA", "DISPAR", "RSUD", "DKP", "BPBD")
UPLOAD_KILLS = 5
RUN_KILL_STAGES = ("ingest", "validate", "publish")
PORTAL_NAME = re.compile(r"^([A-Z0-9-]+)_(\d{4}-\d{2})_\d{8}T\d{6}_([0-9a-f]{8})(-\d+)?(\.\w+)?$")


class Cluster:
    """A data folder, its accounts, and the server of the moment (killed and started again)."""

    def __init__(self, root):
        self.root = root
        self.month = root / "inputs" / PERIOD
        self.server = None
        self.acked: list[dict] = []  # every 201 body
        self.demo = {p.name: sha256(p) for p in run_files(self.month)}

    def start(self, *, wait: bool = True):
        if wait:
            self.server = start_server(self.root)
        else:  # returns at once: the kill may come before the server is ready
            port = free_port()
            env, net_log = guarded_env(self.root)
            command = [str(RBPIPE), "serve", "--data", str(self.root), "--port", str(port)]
            proc = subprocess.Popen(
                [*command, "--periode", PERIOD],
                cwd=self.root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.server = Server(f"http://127.0.0.1:{port}", self.root, proc, net_log, {})
        return self.server

    def kill(self) -> list[int]:
        """SIGKILL the server process alone (as the OOM killer would); returns the processes
        it had started, which must end by themselves."""
        children = descendants(self.server.proc.pid)
        self.server.proc.kill()
        self.server.proc.wait()
        if self.server.proc.stdout:
            self.server.proc.stdout.close()
        return children

    def board(self) -> dict:
        return self.server.client("ana").get(f"/api/papan?periode={PERIOD}").json()

    def check_disk(self) -> None:
        """The invariants that must hold whenever the server is dead."""
        assert integrity(self.root / "portal.sqlite") == "ok"
        for body in self.acked:
            stored = self.month / body["disimpan"]
            assert sha256(stored) == body["sha256"], body["disimpan"]
        for path in run_files(self.month):
            match = PORTAL_NAME.match(path.name)
            if match:
                assert sha256(path).startswith(match.group(3)), f"partial file {path.name}"
            else:
                assert self.demo[path.name] == sha256(path), f"demo file changed: {path.name}"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root, _ = make_data(tmp_path_factory.mktemp("mogok"))
    accounts = {kode.lower(): ("unit", kode) for kode in UNITS}
    accounts["ana"] = ("analis", None)
    add_accounts(root, accounts)
    c = Cluster(root)
    yield c
    if c.server and c.server.proc.poll() is None:
        c.kill()


def _uploaders(cluster: Cluster, units, stop: threading.Event) -> list[threading.Thread]:
    """One thread per unit, uploading its demo workbook again and again until ``stop``."""

    def work(kode: str) -> None:
        try:
            client = cluster.server.client(kode.lower())
        except (httpx.HTTPError, AssertionError):
            return
        data = (cluster.month / f"{kode}_{PERIOD}.xlsx").read_bytes()
        while not stop.is_set():
            try:
                r = client.post(
                    "/api/kiriman",
                    files={"berkas": (f"{kode}_{PERIOD}.xlsx", data)},
                    data={"periode": PERIOD},
                )
            except httpx.HTTPError:
                return  # the server died under this request: its outcome is unknown
            if r.status_code == 201:
                cluster.acked.append(r.json())
            else:
                assert r.status_code < 500, r.text

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in units]
    for t in threads:
        t.start()
    return threads


def _after_kill(cluster: Cluster, children: list[int]) -> None:
    assert wait_gone(children, timeout=30) == [], "processes outlived the server"
    cluster.check_disk()
    with OutputLock(cluster.root / "outputs"):  # free: no run goes on
        pass


def test_sigkill_at_many_moments_loses_nothing_acknowledged(cluster):
    rng = random.Random(SEED)

    # 1. Killed while it starts (before the checker is warm).
    cluster.start(wait=False)
    time.sleep(rng.uniform(0.5, 3.0))
    _after_kill(cluster, cluster.kill())

    cluster.start()
    assert leftovers(cluster.root) == []
    board = cluster.board()

    # 2. Killed while units upload, at random moments.
    for cycle in range(UPLOAD_KILLS):
        uploading = rng.sample(UNITS, 4)
        stop = threading.Event()
        before = len(cluster.acked)
        threads = _uploaders(cluster, uploading, stop)
        time.sleep(rng.uniform(0.5, 6.0))
        children = cluster.kill()
        stop.set()
        for t in threads:
            t.join(timeout=120)
        _after_kill(cluster, children)

        cluster.start()
        assert leftovers(cluster.root) == [], cycle
        after = cluster.board()
        acked = cluster.acked[before:]
        for old, new in zip(board["unit"], after["unit"], strict=True):
            if old["kode"] not in uploading:
                assert new == old, (cycle, old["kode"])
            else:
                mine = [b for b in acked if b["unit"] == old["kode"]]
                assert new["kiriman"] >= old["kiriman"] + len(mine)
                if mine:
                    assert new["sumber"] == "portal" and new["terakhir"] >= mine[-1]["diterima"]
        listed = {
            k["id"]: k
            for k in cluster.server.client("ana")
            .get(f"/api/kiriman?periode={PERIOD}")
            .json()["kiriman"]
        }
        for body in acked:
            assert listed[body["id"]]["sha256"] == body["sha256"]
        board = after
    assert len(cluster.acked) > UPLOAD_KILLS  # the kills did land among answered uploads

    # 3. Killed while a month run is at each stage.
    ana = cluster.server.client("ana")
    for stage in RUN_KILL_STAGES:
        task = ana.post("/api/rekap", json={"periode": PERIOD}).json()["tugas"]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            info = ana.get(f"/api/rekap/{task}").json()
            if info["tahap"] == stage or info["status"] in ("selesai", "gagal"):
                break
            time.sleep(0.1)
        time.sleep(rng.uniform(0.0, 1.5))
        children = cluster.kill()
        _after_kill(cluster, children)
        manifest = cluster.root / "outputs" / PERIOD / "manifest.json"
        if manifest.exists():
            json.loads(manifest.read_text())  # whole, whichever run wrote it

        cluster.start()
        assert leftovers(cluster.root) == [], stage
        ana = cluster.server.client("ana")
        info = ana.get(f"/api/rekap/{task}").json()
        if info["status"] != "selesai":  # the run may have ended just before the kill
            assert info["status"] == "gagal" and "berhenti" in info["ringkasan"]["pesan"]
        after = cluster.board()
        if after["rekap_terakhir"] == board["rekap_terakhir"]:
            assert after == board, stage
        else:  # the run wrote its manifest before the kill: units known from a run may change
            for old, new in zip(board["unit"], after["unit"], strict=True):
                if old["sumber"] == "portal":
                    assert new == old, (stage, old["kode"])
        board = after

    # 4. Killed while idle: exactly the same board after the restart.
    _after_kill(cluster, cluster.kill())
    cluster.start()
    assert cluster.board() == board

    # 5. The month runs to the end and holds every acknowledged upload.
    run_month(cluster.server, PERIOD)
    files = {
        f["name"]: f
        for f in json.loads((cluster.root / "outputs" / PERIOD / "manifest.json").read_text())[
            "files"
        ]
    }
    for body in cluster.acked:
        assert files[body["disimpan"]]["sha256"] == body["sha256"]
    _after_kill(cluster, cluster.kill())
    cluster.server = None
    print(
        f"\n{2 + UPLOAD_KILLS + len(RUN_KILL_STAGES) + 1} SIGKILLs (start-up, {UPLOAD_KILLS} "
        f"during uploads, {len(RUN_KILL_STAGES)} during runs, idle, after the run); "
        f"{len(cluster.acked)} uploads acknowledged, all whole and in the final run; "
        f"{len(run_files(cluster.month))} files in the month"
    )


def test_passwords_still_work_after_the_crashes(cluster):
    cluster.start()
    try:
        r = cluster.server.client().post("/api/masuk", json={"nama": "dlh", "sandi": PASSWORD})
        assert r.status_code == 200
    finally:
        _after_kill(cluster, cluster.kill())
        cluster.server = None
