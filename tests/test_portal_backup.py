"""Backups (issue 15): ``rbpipe cadangkan`` of a live server, ``rbpipe pulihkan`` into an
empty folder, and a second server on the restored folder shows the same board, the same upload
history, the same outputs and the same run history. Restoring refuses a folder that is not
empty and every hostile archive (traversal, absolute names, links, devices, tampering)."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest
from attack_support import integrity
from conftest import rbpipe
from portal_support import (
    ACCOUNTS,
    PASSWORD,
    PERIOD,
    add_accounts,
    make_data,
    run_month,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A running server whose month was run once through the portal, with a few uploads."""
    root, _ = make_data(tmp_path_factory.mktemp("asal"))
    add_accounts(root, ACCOUNTS)
    server = start_server(root)
    month = root / "inputs" / PERIOD
    for name in ("dlh", "dishub"):
        kode = ACCOUNTS[name][1]
        r = server.client(name).upload(month / f"{kode}_{PERIOD}.xlsx")
        assert r.status_code == 201, r.text
    run_month(server)
    yield server
    out = stop_server(server)
    assert "Traceback" not in out, out


def _view(server) -> dict:
    """What the bureau sees: the board, every upload, the month's outputs."""
    ana = server.client("ana")
    return {
        "papan": ana.get(f"/api/papan?periode={PERIOD}").json(),
        "kiriman": ana.get(f"/api/kiriman?periode={PERIOD}").json(),
        "hasil": ana.get(f"/api/hasil/{PERIOD}").json(),
        "regency": hashlib.sha256(
            ana.get(f"/api/hasil/{PERIOD}/Konsolidasi_RB_{PERIOD}.xlsx").content
        ).hexdigest(),
    }


def _history(root: Path) -> list[str]:
    """The run history (``outputs/riwayat.sqlite``) as SQL text."""
    conn = sqlite3.connect(root / "outputs" / "riwayat.sqlite")
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_backup_of_a_live_server_restores_the_same_board_and_history(live, tmp_path):
    before = _view(live)
    history = _history(live.root)
    archive = tmp_path / "cadangan.tar.gz"
    made = rbpipe("cadangkan", "--data", str(live.root), "--out", str(archive), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Cadangan ditulis" in made.stdout and "catatan kiriman portal" in made.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers

    target = tmp_path / "pulih"
    restored = rbpipe("pulihkan", str(archive), "--data", str(target), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "dipulihkan" in restored.stdout
    assert integrity(target / "portal.sqlite") == "ok"
    assert _history(target) == history
    assert sorted(p.name for p in (target / "inputs" / PERIOD).iterdir()) == sorted(
        p.name for p in (live.root / "inputs" / PERIOD).iterdir()
    )

    second = start_server(target)
    try:
        assert _view(second) == before
        # The accounts came back with their passwords.
        assert second.client("dlh").get("/api/kiriman").status_code == 200
        signed = second.client().post("/api/masuk", json={"nama": "pim", "sandi": PASSWORD})
        assert signed.status_code == 200
    finally:
        out = stop_server(second)
    assert "Traceback" not in out, out


def test_backup_while_units_upload_is_consistent(live, tmp_path):
    """Uploads go on while the backup is made: every upload the copied database records has its
    file, whole, in the copied month folder."""
    stop = threading.Event()
    answers: list[int] = []

    def keep_uploading(name: str) -> None:
        client = live.client(name)
        kode = ACCOUNTS[name][1]
        source = live.root / "inputs" / PERIOD / f"{kode}_{PERIOD}.xlsx"
        while not stop.is_set():
            answers.append(client.upload(source).status_code)

    threads = [threading.Thread(target=keep_uploading, args=(n,)) for n in ("dlh", "dinsos")]
    for t in threads:
        t.start()
    try:
        while not answers:  # the backup starts among answered uploads, and more go on
            time.sleep(0.1)
        archive = tmp_path / "sibuk.tar.gz"
        made = rbpipe("cadangkan", "--data", str(live.root), "--out", str(archive), cwd=tmp_path)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert made.returncode == 0, made.stderr
    assert answers and set(answers) == {201}
    target = tmp_path / "pulih"
    assert rbpipe("pulihkan", str(archive), "--data", str(target), cwd=tmp_path).returncode == 0
    conn = sqlite3.connect(target / "portal.sqlite")
    rows = conn.execute(
        "SELECT periode, disimpan, sha256 FROM kiriman WHERE karantina = 0"
    ).fetchall()
    conn.close()
    assert len(rows) >= 3
    for periode, stored, sha in rows:
        data = (target / "inputs" / periode / stored).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha, stored


def test_restore_refuses_a_folder_that_is_not_empty(live, tmp_path):
    archive = tmp_path / "c.tar.gz"
    assert (
        rbpipe(
            "cadangkan", "--data", str(live.root), "--out", str(archive), cwd=tmp_path
        ).returncode
        == 0
    )
    target = tmp_path / "berisi"
    target.mkdir()
    (target / "catatan.txt").write_text("jangan ditimpa")
    done = rbpipe("pulihkan", str(archive), "--data", str(target), cwd=tmp_path)
    assert done.returncode == 2 and "tidak kosong" in done.stderr
    assert [p.name for p in target.iterdir()] == ["catatan.txt"]
    # Into the live folder itself: refused the same way.
    done = rbpipe("pulihkan", str(archive), "--data", str(live.root), cwd=tmp_path)
    assert done.returncode == 2 and "tidak kosong" in done.stderr


def test_backup_refuses_to_write_into_the_data_it_copies(live, tmp_path):
    done = rbpipe(
        "cadangkan",
        "--data",
        str(live.root),
        "--out",
        str(live.root / "outputs" / "c.tar.gz"),
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "di luar" in done.stderr
    assert not (live.root / "outputs" / "c.tar.gz").exists()


def _archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], listing=None):
    """A hand-made archive; its manifest lists ``listing`` (default: the regular files)."""
    files = {}
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                files[info.name] = {
                    "ukuran": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        manifest = json.dumps({"format": 1, "berkas": listing if listing is not None else files})
        info = tarfile.TarInfo("rbpipe-cadangan.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest.encode()))


def _member(name: str, kind=tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o644
    return info


HOSTILE = {
    "traversal": [(_member("inputs/../../../lolos.txt"), b"x")],
    "absolute": [(_member("/tmp/rbpipe-lolos-absolut.txt"), b"x")],
    "unknown_top": [(_member("etc/cron.d/x"), b"x")],
    "hidden": [(_member("inputs/.bashrc"), b"x")],
    "symlink": [(_member("inputs/tautan", tarfile.SYMTYPE, "/etc/passwd"), None)],
    "symlink_then_write": [
        (_member("outputs", tarfile.SYMTYPE, "/tmp"), None),
        (_member("outputs/lolos.txt"), b"x"),
    ],
    "hardlink": [(_member("inputs/keras", tarfile.LNKTYPE, "/etc/passwd"), None)],
    "device": [(_member("inputs/sda", tarfile.BLKTYPE), None)],
    "fifo": [(_member("inputs/pipa", tarfile.FIFOTYPE), None)],
    "twice": [(_member("inputs/a.xlsx"), b"1"), (_member("inputs/a.xlsx"), b"2")],
    "backslash": [(_member("inputs\\..\\..\\lolos.txt"), b"x")],
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused_and_leave_nothing(tmp_path, case):
    archive = tmp_path / f"{case}.tar.gz"
    _archive(archive, HOSTILE[case])
    target = tmp_path / "tujuan" / "data"
    done = rbpipe("pulihkan", str(archive), "--data", str(target), cwd=tmp_path)
    assert done.returncode == 2, (case, done.stdout, done.stderr)
    assert done.stderr.startswith("Gagal: ") and "Traceback" not in done.stderr
    assert list(target.iterdir()) == []
    assert not (tmp_path / "tujuan" / "lolos.txt").exists()
    assert not (tmp_path / "lolos.txt").exists()
    assert not Path("/tmp/rbpipe-lolos-absolut.txt").exists()
    assert not Path("/tmp/lolos.txt").exists()


def test_tampered_or_broken_archives_are_refused(tmp_path):
    target = tmp_path / "data"
    cases = {}
    tampered = tmp_path / "ubah.tar.gz"
    _archive(
        tampered,
        [(_member("inputs/2025-10/a.xlsx"), b"isi asli")],
        listing={"inputs/2025-10/a.xlsx": {"ukuran": 8, "sha256": "0" * 64}},
    )
    cases["ubah"] = (tampered, "rusak")
    unlisted = tmp_path / "lebih.tar.gz"
    _archive(unlisted, [(_member("inputs/2025-10/a.xlsx"), b"isi")], listing={})
    cases["lebih"] = (unlisted, "tidak sesuai")
    broken = tmp_path / "patah.tar.gz"
    broken.write_bytes(tampered.read_bytes()[:40])
    cases["patah"] = (broken, "rusak")
    plain = tmp_path / "bukan.tar.gz"
    with tarfile.open(plain, "w:gz") as tar:
        info = _member("inputs/x.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    cases["bukan"] = (plain, "bukan cadangan rbpipe")
    for name, (archive, words) in cases.items():
        done = rbpipe("pulihkan", str(archive), "--data", str(target), cwd=tmp_path)
        assert done.returncode == 2 and words in done.stderr, (name, done.stderr)
        assert list(target.iterdir()) == []
