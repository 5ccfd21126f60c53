"""Small file-system helpers: atomic writes and hashing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path, *, committer: Committer | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; on success it replaces ``target`` at once
    (after an fsync: the file is on disk before it is visible under its name).

    A crash before the rename leaves the previous ``target`` untouched (the temporary file, named
    ``.<name>.tmp-*``, is removed on failure and ignored by readers otherwise). With a
    ``committer``, the fsync and the rename happen in its thread, so that the caller goes on
    with its next file meanwhile (:class:`Committer`)."""
    tmp_path = temporary_beside(target)
    try:
        yield tmp_path
        if committer is not None:
            committer.commit(tmp_path, target)
        else:
            commit(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def temporary_beside(target: Path) -> Path:
    """A new empty temporary file ``.<name>.tmp-*`` in ``target``'s folder (created)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def commit(tmp: Path, target: Path) -> None:
    """Make the finished temporary ``tmp`` the file ``target``: flushed to disk, readable by
    everyone, then renamed over ``target`` at once."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


class Committer:
    """Commits finished temporary files of :func:`atomic_path` (:func:`commit`: fsync, then
    rename) in a thread of its own: writing many small files (the feedback workbooks), the next
    one is made while the last one waits for the disk (~3 ms an fsync here). Each file still
    becomes visible only once it is on disk. :meth:`close` waits for every commit and raises the
    first failure (the file concerned is left as its temporary, cleaned by the next run)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Path, Path] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="rbpipe-commit", daemon=True)
        self._thread.start()

    def commit(self, tmp_path: Path, target: Path) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((tmp_path, target))

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    commit(*item)
                except BaseException as exc:  # noqa: BLE001 - raised by close()
                    self._error = exc

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Committer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def fsync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries (a file linked, renamed or removed there) to disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


SQLITE_FULL = 13  # sqlite3's extended error code for "database or disk is full"


def disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the disk or the user's quota is full: an
    ``OSError`` ENOSPC/EDQUOT, or SQLite's SQLITE_FULL."""
    import errno
    import sqlite3

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == SQLITE_FULL
            or "database or disk is full" in str(current)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
