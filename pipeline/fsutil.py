"""Small file-system helpers: atomic writes and hashing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; on success it replaces ``target`` at once.

    A crash before the rename leaves the previous ``target`` untouched (the temporary file, named
    ``.<name>.tmp-*``, is removed on failure and ignored by readers otherwise)."""
    tmp_path = temporary_beside(target)
    try:
        yield tmp_path
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
