"""One writer at a time on an outputs folder.

An advisory ``fcntl.flock`` on ``<outputs>/.rbpipe.lock``: the kernel releases it when the
holder exits, even by SIGKILL, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import RunError
from pipeline.outputs import LOCK_FILE


class OutputLock:
    """``with OutputLock(outputs):`` holds the outputs folder's lock for the block. Taken:
    RunError (Indonesian) at once, or with ``wait`` a wait until it is free, ``on_wait`` told
    once (an Indonesian line for the user: the library itself prints nothing)."""

    def __init__(
        self,
        outputs: Path,
        *,
        wait: bool = False,
        poll: float = 0.5,
        on_wait: Callable[[str], None] | None = None,
    ):
        self.path = Path(outputs) / LOCK_FILE
        self.wait = wait
        self.poll = poll
        self.on_wait = on_wait
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(fd)
                if not self.wait:
                    os.close(fd)
                    raise RunError(
                        f"Folder keluaran {self.path.parent} sedang dipakai oleh rekap lain"
                        f"{holder}. Tunggu sampai selesai, atau jalankan dengan --tunggu."
                    ) from None
                if not announced and self.on_wait is not None:
                    self.on_wait(f"Menunggu rekap lain{holder} selesai ...")
                announced = True
                time.sleep(self.poll)
        self._fd = fd
        # Who holds the lock, for the message of whoever waits: nice to have. On a full disk the
        # write fails, and must not leave the lock taken by a descriptor nobody will close.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (PID {pid})" if pid.isdigit() else ""
