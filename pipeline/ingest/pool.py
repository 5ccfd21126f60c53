"""A bounded worker pool: run a function over untrusted files, each call under time and memory
limits, so that a crash, a hang or a memory blow-up costs one file and never the run.

In: a picklable module-level function, a list of picklable items, a worker count and
:class:`~pipeline.ingest.limits.Limits`. Out: one :class:`Outcome` per item, in input order,
whatever the scheduling (the result is the same with 1 or N workers).

Why not :class:`concurrent.futures.ProcessPoolExecutor`: when one worker dies (calamine aborts
the process on some hostile files; the kernel kills on RLIMIT_AS) the executor marks itself
broken and fails every pending task, and it has no per-task timeout. Here each worker is a
long-lived process (reused across tasks: no process per file) talking over a pipe; the parent
waits on the pipes, the workers' exit sentinels and the nearest deadline, replaces a worker that
died or overran, and records a failure for that item only.

Each worker caps its own address space (``RLIMIT_AS``) at what it holds when it starts plus
``limits.memory_bytes_per_worker``, so a runaway allocation fails inside the worker (a
``MemoryError``, or a Rust abort that kills only the worker) and the cap means the same thing
whatever the parent had imported. Core dumps are off (a crash must not write a unit's data to
disk) and the worker's error output goes to a private log whose first error line is quoted in
the failure (a Rust abort message must not reach the user's terminal).

Start method, measured on this 2-core machine with a parent holding pandas and Great
Expectations: ``forkserver`` costs ~0.3 s once (the fork server is a fresh interpreter that
imports only the reader and the task's module), then a worker starts in a few ms at ~20 MiB RSS;
``fork`` starts a worker in ~40 ms at ~190 MiB RSS (a copy of the parent, threads' locks
included). Per task the pool costs ~0.12 ms for a tiny result and ~0.8 ms when the result is a
whole WorkbookData (pickling it both ways): return parsed rows from the worker, not workbooks.
Two workers read a month of demo files 1.7x faster than one process. We use ``forkserver``:
small workers, no inherited state. As with any spawn-like start method the caller's main module is imported by
each worker (as ``__mp_main__``): it must keep the ``if __name__ == "__main__":`` idiom and no
heavy imports at top level (the ``rbpipe`` script and pytest qualify). Even ``workers=1`` uses a
worker process: isolation is the point (a calamine abort inside the main process would end the
whole run), and it costs ~0.3 s per run plus ~0.2 ms per file.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from pipeline.ingest.limits import Limits
from pipeline.ingest.workbook import ReadFailure

# Worker logs live in <tmp>/rbpipe-pool-<random>/ for the length of one pool, which holds an
# exclusive flock on the folder's LOCK_NAME meanwhile (released by the kernel if it is killed).
LOG_DIR_PREFIX = "rbpipe-pool-"
LOCK_NAME = ".dipakai"
# A folder without its lock file is left alone this long: it may have just been made.
_UNLOCKED_GRACE_SECONDS = 600
START_METHOD = "forkserver"
_PRELOAD = ["pipeline.ingest.reader"]
_STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What became of one item: ``value`` when ``fn`` returned, else ``failure``.
    ``peak_rss_bytes`` is the worker's peak resident memory (so far in its life) when it
    reported the result; None when the worker died or was stopped before reporting."""

    item: Any
    value: Any = None
    failure: ReadFailure | None = None
    peak_rss_bytes: int | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def run_bounded(
    fn: Callable[[Any], Any],
    items: list,
    *,
    workers: int,
    limits: Limits,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """``fn(item)`` for every item in at most ``workers`` worker processes, each call limited to
    ``limits.seconds_per_file`` of wall time and each worker to ``limits.memory_bytes_per_worker``
    of additional address space. Returns the outcomes in input order; ``on_done`` (optional,
    e.g. a progress bar) is called in the parent as each item finishes, in completion order."""
    items = list(items)
    if not items:
        return []
    outcomes: list[Outcome | None] = [None] * len(items)
    pending = deque(range(len(items)))
    _remove_orphaned_log_dirs()
    log_dir = Path(tempfile.mkdtemp(prefix=LOG_DIR_PREFIX))
    in_use = _hold(log_dir / LOCK_NAME)
    logs = (log_dir / f"worker-{n}.log" for n in range(1, 1 << 30))
    pool: list[_Worker] = []
    try:
        for _ in range(max(1, min(workers, len(items)))):
            pool.append(_Worker.start(fn, limits, next(logs)))
        while pending or any(w.busy for w in pool):
            for slot, worker in enumerate(pool):
                if pending and not worker.busy:
                    if worker.retired:
                        worker.stop()
                        pool[slot] = worker = _Worker.start(fn, limits, next(logs))
                    worker.submit(pending.popleft(), items, limits.seconds_per_file)
            busy = [w for w in pool if w.busy]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for worker in busy:
                index = worker.index
                assert index is not None  # a busy worker holds a task
                outcome = worker.collect(ready, items, limits)
                if outcome is not None:
                    outcomes[index] = outcome
                    if on_done is not None:
                        on_done(outcome)
    finally:
        for worker in pool:
            worker.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
        os.close(in_use)
    return [outcome for outcome in outcomes if outcome is not None]


def _hold(path: Path) -> int:
    """Create ``path`` and hold an exclusive flock on it; returns the descriptor to close."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _remove_orphaned_log_dirs() -> None:
    """Remove the worker-log folders of pools that are gone: a run killed with SIGKILL never
    reaches its ``finally``. A pool holds a flock on its folder's lock file for its whole life
    and the kernel releases it when the process dies (whatever PID namespace it lived in), so a
    folder whose lock can be taken is an orphan. A folder without a lock file (older versions,
    or one being made this instant) is removed only when it is older than a grace period."""
    for folder in Path(tempfile.gettempdir()).glob(f"{LOG_DIR_PREFIX}*"):
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime > _UNLOCKED_GRACE_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
            continue
        except OSError:
            continue  # not ours to judge (another user's, unreadable)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # in use by a live pool
        finally:
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


def _context(fn) -> Any:  # a multiprocessing context (its Process is not in the stubs)
    """The start context; for forkserver the reader and ``fn``'s module are preloaded, imported
    once in the fork server (which starts on first use) rather than in every worker."""
    ctx = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        ctx.set_forkserver_preload([*_PRELOAD, getattr(fn, "__module__", _PRELOAD[0])])
    return ctx


class _Worker:
    """One worker process, its pipe and the task it is running (parent side)."""

    def __init__(self, process, conn, log_path: Path):
        self.process = process
        self.conn = conn
        self.log_path = log_path
        self.index: int | None = None
        self.deadline = 0.0
        self.retired = False

    @classmethod
    def start(cls, fn, limits: Limits, log_path: Path) -> _Worker:
        ctx = _context(fn)
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=_worker_main,
            args=(child_conn, fn, limits.memory_bytes_per_worker, str(log_path)),
            daemon=True,
        )
        process.start()
        child_conn.close()
        return cls(process, parent_conn, log_path)

    @property
    def busy(self) -> bool:
        return self.index is not None

    def submit(self, index: int, items: list, seconds: float) -> None:
        self.index = index
        self.deadline = time.monotonic() + seconds
        # A worker that is gone shows up in collect() as a crash for this item.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, EOFError, OSError):
            self.conn.send((items[index],))

    def collect(self, ready: set, items: list, limits: Limits) -> Outcome | None:
        """The outcome of the running task when it ended (answered, died or overran), None
        while it is still running."""
        assert self.index is not None  # collected only while running a task
        item = items[self.index]
        if self.conn in ready or self.process.sentinel in ready:
            if self.conn.poll():
                try:
                    failure, value, rss, retire = self.conn.recv()
                except (EOFError, OSError):
                    return self._crashed(item)
                except Exception as exc:  # an answer the parent cannot unpickle
                    self._end_task(retire=True)
                    message = f"Hasil pembacaan berkas tidak dapat diterima ({type(exc).__name__})."
                    return Outcome(item=item, failure=ReadFailure("RB-E003", message))
                self._end_task(retire=retire)
                return Outcome(item=item, value=value, failure=failure, peak_rss_bytes=rss)
            return self._crashed(item)
        if time.monotonic() >= self.deadline:
            self._end_task(retire=True)
            self.kill()
            message = (
                "Pembacaan berkas dihentikan karena melampaui batas waktu/memori: lebih dari "
                f"{limits.seconds_per_file:g} detik."
            )
            return Outcome(item=item, failure=ReadFailure("RB-E007", message))
        return None

    def _end_task(self, *, retire: bool) -> None:
        self.index = None
        self.retired = self.retired or retire

    def _crashed(self, item) -> Outcome:
        self._end_task(retire=True)
        self.process.join(_STOP_GRACE_SECONDS)
        reason = _first_error_line(self.log_path)
        detail = f"; rincian teknis: {reason}" if reason else ""
        message = (
            "Pembacaan berkas dihentikan karena melampaui batas waktu/memori atau membuat "
            f"pembaca berhenti mendadak (kode keluar {self.process.exitcode}{detail})."
        )
        return Outcome(item=item, failure=ReadFailure("RB-E007", message))

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.process.kill()
        self.process.join(_STOP_GRACE_SECONDS)

    def stop(self) -> None:
        """Ask the worker to finish, then make sure it is gone (killed if it does not listen)."""
        if self.process.is_alive() and not self.busy:
            with contextlib.suppress(OSError, ValueError, BrokenPipeError):
                self.conn.send(None)
            self.process.join(_STOP_GRACE_SECONDS)
        if self.process.is_alive():
            self.kill()
        with contextlib.suppress(OSError):
            self.conn.close()


def _first_error_line(path: Path, limit: int = 8192) -> str:
    """The worker's first line saying what failed (e.g. "memory allocation of 549755813888
    bytes failed"), else its last line, shortened; empty when it wrote nothing."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - limit))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first_error = next((line for line in lines if "failed" in line or "Error" in line), "")
    return (first_error or (lines[-1] if lines else ""))[:160]


# --- worker side ------------------------------------------------------------------------------


def _confine(memory_bytes: int, log_path: str) -> None:
    """This worker's limits: address space, no core dumps, error output to a private file."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cap = _address_space_bytes() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.environ["RUST_BACKTRACE"] = "0"
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)


def _address_space_bytes() -> int:
    """This process's current virtual memory size (VmSize), 0 when /proc is unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _worker_main(conn, fn, memory_bytes: int, log_path: str) -> None:
    """Serve tasks until told to stop (None): ``(item,)`` in, ``(failure, value, peak_rss,
    retire)`` out.
    After a MemoryError the worker retires (its heap may be left fragmented near the cap) and
    the parent starts a fresh one for the next item."""
    _confine(memory_bytes, log_path)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        failure, value, retire = _call(fn, task[0])
        try:
            conn.send((failure, value, _peak_rss_bytes(), retire))
        except MemoryError:
            del value
            conn.send((_memory_failure(), None, _peak_rss_bytes(), True))
            return
        except Exception as exc:  # the value cannot be pickled: report it for this item
            message = f"Hasil pembacaan berkas tidak dapat dikirim ({type(exc).__name__})."
            conn.send((ReadFailure("RB-E003", message), None, _peak_rss_bytes(), False))
        if retire:
            return


def _call(fn, item) -> tuple[ReadFailure | None, Any, bool]:
    """Run ``fn(item)``: ``(failure, value, retire)``. A ReadFailure passes through; a
    MemoryError is a memory limit; any other exception is a file the reader could not handle."""
    try:
        return None, fn(item), False
    except ReadFailure as failure:
        return failure, None, False
    except MemoryError:
        return _memory_failure(), None, True
    except RecursionError:
        return ReadFailure("RB-E003", "Struktur berkas terlalu dalam untuk dibaca."), None, False
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        name = type(exc).__name__
        message = (
            f"Berkas tidak dapat dibaca (rincian teknis: {name}{': ' + detail if detail else ''})."
        )
        return ReadFailure("RB-E003", message), None, False


def _memory_failure() -> ReadFailure:
    return ReadFailure(
        "RB-E007", "Pembacaan berkas dihentikan karena melampaui batas waktu/memori: memori habis."
    )
