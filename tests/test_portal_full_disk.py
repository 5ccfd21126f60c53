"""A full disk (issue 15): the data folder is a small filesystem of its own (a 32 MiB tmpfs,
or a loop-mounted ext4 image where tmpfs cannot be mounted), filled up by a filler file.

Uploads then answer 507 with an Indonesian message (or 201 when what little space is left is
enough: then the file is whole and recorded), a month run fails with a clear message and leaves
the previous outputs as they were, nothing half-written stays behind, ``/api/sehat`` answers
throughout, and once space returns uploads and the run work again."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from attack_support import HealthPoller, integrity, leftovers, run_files, sha256
from portal_support import add_accounts, make_data, start_server, stop_server

pytestmark = pytest.mark.slow
PERIOD = "2025-10"
SIZE_MIB = 32


def _mount_small(point: Path, image: Path) -> str:
    """Mount a SIZE_MIB filesystem at ``point``: tmpfs, else a loop-mounted ext4 image. Fails
    the test (never skips it) when neither can be mounted, with both errors."""
    tried = []
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MIB}m,mode=0755", "tmpfs", str(point)],
        capture_output=True,
        text=True,
    )
    if done.returncode == 0:
        return "tmpfs"
    tried.append(f"tmpfs: {done.stderr.strip()}")
    steps = [
        ["truncate", "-s", f"{SIZE_MIB}M", str(image)],
        ["mkfs.ext4", "-q", "-F", str(image)],
        ["mount", "-o", "loop", str(image), str(point)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            tried.append(f"{' '.join(step[:2])}: {done.stderr.strip()}")
            pytest.fail("Blocked: no small filesystem can be mounted here: " + "; ".join(tried))
    return "ext4 loop"


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    base = tmp_path_factory.mktemp("disk")
    point = base / "data"
    point.mkdir()
    kind = _mount_small(point, base / "disk.img")
    try:
        yield point, kind
    finally:
        for _ in range(10):
            if subprocess.run(["umount", str(point)], capture_output=True).returncode == 0:
                break
            time.sleep(1)
        else:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _fill(path: Path) -> int:
    """Grow ``path`` until the filesystem is full; returns its size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for block in (1 << 20, 1 << 12, 1):
            data = b"\0" * block
            while True:
                try:
                    if os.write(fd, data) < block:
                        break
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    finally:
        os.close(fd)
    return path.stat().st_size


def _free(path: Path, amount: int) -> None:
    os.truncate(path, max(0, path.stat().st_size - amount))


def _outputs(root: Path) -> dict[str, str]:
    month = root / "outputs" / PERIOD
    return {
        p.name: sha256(p)
        for p in month.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name != "rbpipe.log"
    }


def _assert_whole(root: Path, previous: dict[str, str]) -> None:
    """Every output of the month is whole: an earlier version or a complete new one (each is
    replaced atomically; a run that fails midway leaves the files it had not reached)."""
    month = root / "outputs" / PERIOD
    assert set(_outputs(root)) >= set(previous)
    for path in month.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                assert book.testzip() is None, path
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".html":
            assert path.read_text().rstrip().endswith("</html>"), path


def _wait_run(ana, task: int) -> dict:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        info = ana.get(f"/api/rekap/{task}").json()
        if info["status"] in ("selesai", "gagal"):
            return info
        time.sleep(0.5)
    raise AssertionError("the run did not end")


def test_full_disk_uploads_and_runs_fail_cleanly_and_recover(small_disk):
    root, kind = small_disk
    make_data(root)
    add_accounts(root, {"dlh": ("unit", "DLH"), "ana": ("analis", None)})
    server = start_server(root)
    filler = root / "pengisi.bin"
    month = root / "inputs" / PERIOD
    workbook = (month / f"DLH_{PERIOD}.xlsx").read_bytes()
    try:
        dlh, ana = server.client("dlh"), server.client("ana")
        first = ana.post("/api/rekap", json={"periode": PERIOD}).json()["tugas"]
        assert _wait_run(ana, first)["status"] == "selesai"
        previous = _outputs(root)
        answers: dict[int, int] = {}

        with HealthPoller(server.url, every=0.5) as health:
            # 1. Uploads on a disk with 0 bytes up to a little more than the file left.
            for left in (0, 4096, 16384, len(workbook) // 2, len(workbook), len(workbook) + 65536):
                _fill(filler)
                _free(filler, left)
                files_before = run_files(month)
                rows_before = len(ana.get(f"/api/kiriman?periode={PERIOD}").json()["kiriman"])
                r = dlh.upload(month / f"DLH_{PERIOD}.xlsx")
                answers[left] = r.status_code
                listed = ana.get(f"/api/kiriman?periode={PERIOD}").json()["kiriman"]
                if r.status_code == 507:
                    assert "penuh" in r.json()["pesan"] and "TIDAK disimpan" in r.json()["pesan"]
                    print(f"\nupload with {left} bytes left: 507 {r.json()['pesan']}")
                    assert run_files(month) == files_before
                    assert len(listed) == rows_before
                else:
                    assert r.status_code == 201, r.text
                    body = r.json()
                    assert (
                        hashlib.sha256((month / body["disimpan"]).read_bytes()).hexdigest()
                        == (body["sha256"])
                    )
                    assert listed[0]["id"] == body["id"]
                assert list((root / "portal" / "unggah").iterdir()) == []
            assert answers[0] == 507

            # 2. A new visitor needs a new session row: a clear answer too.
            _fill(filler)
            r = httpx.get(f"{server.url}/api/sesi")
            assert r.status_code in (200, 507), r.text
            if r.status_code == 507:
                assert "penuh" in r.json()["pesan"]
            assert ana.get(f"/api/papan?periode={PERIOD}").status_code == 200  # reading works

            # 3. The month run: with no space at all it cannot even be recorded (507); with
            # 256 KiB left (its task is recorded, its ~3 MB of outputs do not fit) it starts,
            # fails, and says why.
            task = ana.post("/api/rekap", json={"periode": PERIOD})
            assert task.status_code == 507 and "penuh" in task.json()["pesan"], task.text
            _free(filler, 256 * 1024)
            task = ana.post("/api/rekap", json={"periode": PERIOD})
            assert task.status_code == 202, task.text
            info = _wait_run(ana, task.json()["tugas"])
            assert info["status"] == "gagal", info
            assert "penuh" in info["ringkasan"]["pesan"], info["ringkasan"]
            print(f"\nrun on the full disk: {info['ringkasan']['pesan']}")
            assert "rollback" not in info["ringkasan"]["pesan"]  # the real cause, not a mask
            _assert_whole(root, previous)
            assert [p for p in leftovers(root) if "unggah" not in p] == []
        assert health.failures == [], health.failures

        # 4. The server is restarted while the disk is still full: it starts and answers.
        _fill(filler)
        out = stop_server(server)
        assert "Traceback" not in out, out
        server = start_server(root)
        assert httpx.get(f"{server.url}/masuk").status_code == 200

        # 5. Space returns: everything works again (a run too: no stale task blocks it).
        filler.unlink()
        dlh, ana = server.client("dlh"), server.client("ana")
        r = dlh.upload(month / f"DLH_{PERIOD}.xlsx")
        assert r.status_code == 201, r.text
        info = _wait_run(ana, ana.post("/api/rekap", json={"periode": PERIOD}).json()["tugas"])
        assert info["status"] == "selesai", info
        manifest = json.loads((root / "outputs" / PERIOD / "manifest.json").read_text())
        assert r.json()["disimpan"] in {f["name"] for f in manifest["files"]}
        board = ana.get(f"/api/papan?periode={PERIOD}").json()
        assert next(u for u in board["unit"] if u["kode"] == "DLH")["sumber"] == "portal"
        assert leftovers(root) == []
    finally:
        out = stop_server(server)
        filler.unlink(missing_ok=True)
    assert "Traceback" not in out, out
    assert integrity(root / "portal.sqlite") == "ok"
    print(f"full disk on {kind}: answers by bytes left {answers}")
    shutil.rmtree(root / "_netguard", ignore_errors=True)
