"""Backups of a portal data folder: ``rbpipe cadangkan`` and ``rbpipe pulihkan`` (issue 15).

One ``.tar.gz`` file holds a consistent copy of what the portal and the runs keep, taken while
the server runs:

1. ``portal.sqlite`` first, copied with SQLite's online backup API (a snapshot of one moment,
   WAL included; checked with ``PRAGMA integrity_check``);
2. then ``inputs/`` and ``karantina/``: an upload's file is in place before its record is
   committed, and files there are only ever added, so every upload the snapshot records is in
   the archive (a later upload may be too: its file without a record, as after a crash);
3. then ``outputs/`` under the output lock (a month run waits, or is waited for), so the
   month's workbooks, manifest and ``riwayat.sqlite`` (also through the backup API) are of the
   same run;
4. last ``rbpipe-cadangan.json``: format, time, version, and the size and SHA-256 of every
   file in the archive.

Not kept: hidden files (temporaries, the output lock, the run cache ``outputs/.cache/``, which
the next run rebuilds), symbolic links (listed as skipped), ``portal/`` (uploads in progress and
instant feedback workbooks, made again on demand). The archive is written to a temporary name
beside ``--out`` and renamed when complete (``pipeline.fsutil.atomic_path``).

Restoring refuses a folder that is not empty, and trusts nothing in the archive: only regular
files and folders under the four known names, no absolute path, no ``..``, no hidden name, no
link or device, no name twice, never more than the free space; files are written by this code
(never ``tarfile.extract``) into a hidden staging folder, checked against the archive's list
(sizes, SHA-256, ``PRAGMA integrity_check``), and only then moved into place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipeline import __version__
from pipeline.errors import RunError
from pipeline.fsutil import atomic_path, fsync_dir
from pipeline.portal.paths import DB_FILE

MANIFEST = "rbpipe-cadangan.json"
FORMAT = 1
FOLDERS = ("inputs", "karantina", "outputs")
TOP_NAMES = frozenset({DB_FILE, MANIFEST, *FOLDERS})
SQLITE_SUFFIX = ".sqlite"
CHUNK = 1 << 20


@dataclass(kw_only=True)
class BackupSummary:
    files: int = 0
    bytes: int = 0
    uploads: int = 0  # upload records in the copied portal.sqlite
    months: list[str] = field(default_factory=list)  # inputs/<YYYY-MM>/ folders
    skipped: list[str] = field(default_factory=list)  # symbolic links, not followed


@dataclass(kw_only=True)
class RestoreSummary:
    files: int = 0
    bytes: int = 0
    uploads: int = 0
    created: str = ""  # when the backup was made


# --------------------------------------------------------------------------------------------
# Backup
# --------------------------------------------------------------------------------------------


def backup(data: Path, out: Path, *, on_wait: Callable[[str], None] | None = None) -> BackupSummary:
    """Write the backup of data folder ``data`` to ``out`` (see the module docstring)."""
    from pipeline.locking import OutputLock

    data, out = Path(data).resolve(), Path(out).resolve()
    if not (data / DB_FILE).is_file() and not (data / "inputs").is_dir():
        raise RunError(f"{data} bukan folder data portal: tidak ada {DB_FILE} maupun inputs/.")
    if any(out.is_relative_to(data / name) for name in FOLDERS):
        raise RunError(f"Simpan berkas cadangan di luar inputs/, outputs/ dan karantina/ ({out}).")
    if out.suffix not in (".gz", ".tgz"):
        raise RunError("Nama berkas cadangan harus berakhiran .tar.gz (misalnya cadangan.tar.gz).")
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = BackupSummary()
    listing: dict[str, dict] = {}
    with (
        tempfile.TemporaryDirectory(prefix=".rbpipe-cadangan-", dir=out.parent) as tmp,
        atomic_path(out) as part,
        tarfile.open(part, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar,
    ):
        if (data / DB_FILE).is_file():
            copy = _snapshot(data / DB_FILE, Path(tmp) / DB_FILE)
            summary.uploads = _count_uploads(copy)
            _add(tar, copy, DB_FILE, listing, summary)
        for folder in ("inputs", "karantina"):
            _add_tree(tar, data, folder, Path(tmp), listing, summary)
        if (data / "outputs").is_dir():
            with OutputLock(data / "outputs", wait=True, on_wait=on_wait):
                _add_tree(tar, data, "outputs", Path(tmp), listing, summary)
        summary.months = sorted(
            p.name for p in (data / "inputs").glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]")
        )
        manifest = {
            "format": FORMAT,
            "dibuat": dt.datetime.now().isoformat(timespec="seconds"),
            "versi": __version__,
            "kiriman": summary.uploads,
            "berkas": listing,
        }
        raw = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(raw), 0o644, int(dt.datetime.now().timestamp())
        tar.addfile(info, io.BytesIO(raw))
    return summary


def _snapshot(source: Path, target: Path) -> Path:
    """A consistent copy of SQLite database ``source`` at ``target`` (online backup API)."""
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if verdict != "ok":
        raise RunError(f"Salinan {source.name} tidak utuh ({verdict}); cadangan dibatalkan.")
    return target


def _count_uploads(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM kiriman").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


class _Hashing(io.RawIOBase):
    def __init__(self, fh):
        self.fh = fh
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, path: Path, arcname: str, listing: dict, summary) -> None:
    with open(path, "rb") as fh:
        info = tar.gettarinfo(arcname=arcname, fileobj=fh)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o644
        reader = _Hashing(fh)
        tar.addfile(info, reader)
    listing[arcname] = {"ukuran": info.size, "sha256": reader.digest.hexdigest()}
    summary.files += 1
    summary.bytes += info.size


def _add_tree(tar, data: Path, folder: str, tmp: Path, listing: dict, summary) -> None:
    base = data / folder
    if base.is_symlink() or not base.is_dir():
        return
    for path in sorted(_walk(base)):
        rel = path.relative_to(data).as_posix()
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            summary.skipped.append(rel)
        elif stat.S_ISREG(info.st_mode):
            if path.name.endswith(SQLITE_SUFFIX):
                copy = tmp / f"{secrets.token_hex(6)}{SQLITE_SUFFIX}"
                _add(tar, _snapshot(path, copy), rel, listing, summary)
                copy.unlink()
            else:
                _add(tar, path, rel, listing, summary)


def _walk(base: Path) -> Iterator[Path]:
    """Files and links under ``base``, hidden names (and what is under them) left out, links
    to folders not followed."""
    for entry in os.scandir(base):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        else:
            yield path


# --------------------------------------------------------------------------------------------
# Restore
# --------------------------------------------------------------------------------------------


def restore(archive: Path, data: Path) -> RestoreSummary:
    """Restore backup ``archive`` into ``data`` (made if missing; refused unless empty)."""
    archive, data = Path(archive), Path(data)
    if not archive.is_file():
        raise RunError(f"Berkas cadangan {archive} tidak ditemukan.")
    if data.exists() and (not data.is_dir() or any(data.iterdir())):
        raise RunError(
            f"Folder {data} tidak kosong. Pulihkan hanya ke folder kosong (atau yang belum ada), "
            "agar tidak ada data yang tertimpa."
        )
    data.mkdir(parents=True, exist_ok=True)
    staging = data / f".pulihkan-{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        written, manifest = _unpack(archive, staging, data)
        _verify(written, manifest, staging)
        for name in sorted(os.listdir(staging)):
            os.rename(staging / name, data / name)
        fsync_dir(data)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary = RestoreSummary(
        files=len(written),
        bytes=sum(size for size, _ in written.values()),
        uploads=int(manifest.get("kiriman") or 0),
        created=str(manifest.get("dibuat") or ""),
    )
    return summary


def _member_path(member: tarfile.TarInfo) -> PurePosixPath:
    name = member.name
    bad = (
        not name
        or "\\" in name
        or "\0" in name
        or name.startswith("/")
        or len(name) > 1024
        or any(ord(c) < 32 for c in name)
    )
    path = PurePosixPath(name)
    parts = path.parts
    if bad or not parts or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise RunError(f"Arsip cadangan memuat nama yang tidak diizinkan: {name!r}.")
    if parts[0] not in TOP_NAMES or (parts[0] in (DB_FILE, MANIFEST) and len(parts) > 1):
        raise RunError(f"Arsip cadangan memuat berkas di luar data portal: {name!r}.")
    if not (member.isfile() or member.isdir()):
        raise RunError(
            f"Arsip cadangan memuat tautan atau berkas khusus ({name!r}); hanya berkas biasa "
            "dan folder yang dipulihkan."
        )
    return path


def _unpack(archive: Path, staging: Path, data: Path) -> tuple[dict[str, tuple[int, str]], dict]:
    """Write the archive's files under ``staging``; returns {name: (size, sha256)} and the
    archive's own list."""
    written: dict[str, tuple[int, str]] = {}
    manifest: dict | None = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                path = _member_path(member)
                name = path.as_posix()
                if name in written or (name == MANIFEST and manifest is not None):
                    raise RunError(f"Arsip cadangan memuat {name!r} dua kali.")
                if member.isdir():
                    _make_dirs(staging, path.parts)
                    continue
                if member.size > shutil.disk_usage(data).free - 64 * CHUNK:
                    raise RunError(
                        f"Ruang disk tidak cukup untuk memulihkan {name} "
                        f"({member.size} bait). Kosongkan ruang lalu ulangi."
                    )
                source = tar.extractfile(member)
                assert source is not None
                if name == MANIFEST:
                    if member.size > 64 * CHUNK:
                        raise RunError("Daftar isi arsip cadangan terlalu besar.")
                    manifest = json.loads(source.read().decode("utf-8"))
                    continue
                folder = _make_dirs(staging, path.parts[:-1])
                written[name] = _write(folder, path.parts[-1], source, member)
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, tarfile.TarError):
            from pipeline.fsutil import disk_full

            if disk_full(exc):
                raise RunError(
                    "Ruang disk penuh saat memulihkan; tidak ada yang dipulihkan."
                ) from exc
        raise RunError(
            f"Berkas cadangan {archive.name} rusak atau bukan cadangan rbpipe ({exc})."
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunError(f"{archive.name} bukan cadangan rbpipe (daftar isi {MANIFEST} tidak ada).")
    return written, manifest


def _make_dirs(staging: Path, parts: tuple[str, ...]) -> Path:
    folder = staging
    for part in parts:
        folder = folder / part
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o755)
        if folder.is_symlink() or not folder.is_dir():  # only this code writes here
            raise RunError(f"Arsip cadangan tidak dapat dipulihkan di {folder}.")
    return folder


def _write(folder: Path, name: str, source, member: tarfile.TarInfo) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(folder / name, flags, 0o644)
    digest, size = hashlib.sha256(), 0
    with os.fdopen(fd, "wb") as out:
        while block := source.read(CHUNK):
            size += len(block)
            if size > member.size:
                raise RunError(
                    f"Arsip cadangan rusak: {member.name} lebih panjang dari catatannya."
                )
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    os.utime(folder / name, (member.mtime, member.mtime), follow_symlinks=False)
    return size, digest.hexdigest()


def _verify(written: dict[str, tuple[int, str]], manifest: dict, staging: Path) -> None:
    listed = manifest.get("berkas")
    if not isinstance(listed, dict):
        raise RunError("Daftar isi arsip cadangan tidak terbaca.")
    missing = sorted(set(listed) - set(written))
    extra = sorted(set(written) - set(listed))
    if missing or extra:
        raise RunError(
            "Isi arsip cadangan tidak sesuai daftarnya "
            f"(hilang: {', '.join(missing[:5]) or '-'}; tak terdaftar: {', '.join(extra[:5]) or '-'})."
        )
    for name, (size, sha) in written.items():
        if listed[name].get("ukuran") != size or listed[name].get("sha256") != sha:
            raise RunError(
                f"Berkas {name} di arsip cadangan rusak (ukuran atau sidik tidak cocok)."
            )
    for name in written:
        if name.endswith(SQLITE_SUFFIX):
            conn = sqlite3.connect(staging / name)
            try:
                verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                conn.close()
            if verdict != "ok":
                raise RunError(f"Basis data {name} di arsip cadangan tidak utuh ({verdict}).")
