"""Writing the feedback workbooks: in this process for a small month, by a process pool while
the caller writes the regency workbook for a large one; the same bytes either way."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from pipeline.fsutil import Committer
from pipeline.incremental import plan_digests, view_digest
from pipeline.model import RunResult
from pipeline.publish.feedback.render import render_feedback
from pipeline.publish.feedback.views import UnitView, iter_feedback_views

if TYPE_CHECKING:
    from pipeline.cache import RunCache

# Feedback workbooks are written by a process pool from this many senders, or this many plans,
# on: below both, starting a worker (it imports pandas and xlsxwriter, ~1 s) costs more than it
# saves (the demo month: ~0.8 s of rendering; 51 units of 600 plans: ~3.5 s).
POOL_MIN_WORKBOOKS = 120
POOL_MIN_ROWS = 12_000
POOL_CHUNK = 8  # views sent to a worker at a time: fewer round trips, still balanced
POOL_IN_FLIGHT = 3  # chunks per worker made ahead: workers never wait, memory holds a few


def write_feedback_workbooks(
    folder: Path, run: RunResult, *, workers: int | None = None
) -> list[Path]:
    """Write one feedback workbook per sender into ``folder``; return their paths.
    ``workers`` as for :class:`FeedbackWriter`."""
    with FeedbackWriter(folder, run, workers=workers) as writer:
        pass
    return writer.paths


class FeedbackWriter:
    """Writes the feedback workbooks, in worker processes when the month is large, while the
    caller does other work in this process::

        with FeedbackWriter(folder, run, workers=2) as feedback:
            write_regency_workbook(path, run)  # meanwhile, a worker writes the feedback
        paths = feedback.paths  # every workbook is written once the block has ended

    ``workers``: processes rendering the workbooks (None: one per CPU core): this one, once the
    block's own work is done, and ``workers - 1`` worker processes. Each workbook is a function
    of its view alone, so the bytes are the same whoever writes them. A month under
    :data:`POOL_MIN_WORKBOOKS` senders and :data:`POOL_MIN_ROWS` plans is written in this
    process alone, after the block (starting a worker costs about a second). Views are made as
    they are taken, by a feeder thread handing them to the workers at most
    :data:`POOL_IN_FLIGHT` chunks per worker ahead, and by this thread when the block ends: it
    then takes the remaining views one by one until none is left, so both cores stay busy to
    the end and memory holds a few views, not the month's. An error in any workbook is raised
    when the block ends."""

    def __init__(
        self,
        folder: Path,
        run: RunResult,
        *,
        workers: int | None = None,
        cache: RunCache | None = None,
        digests: dict[str, str] | None = None,
    ) -> None:
        self._folder = Path(folder)
        # With the run cache, a workbook whose view is unchanged (its fingerprint) and whose
        # file is still the one written is not rendered again (pipeline.incremental).
        self._cache = cache
        # ``digests``: plan_digests of the run, when the caller has them already.
        if digests is None:
            digests = plan_digests(run.metrics.plans) if cache is not None else {}
        self._plan_digests = digests
        self._rendered: list[tuple[Path, str]] = []
        self.paths: list[Path] = []
        self._source: Iterator[tuple[Path, UnitView]] = self._jobs(iter_feedback_views(run))
        self._source_lock = threading.Lock()
        self._leftover: list[tuple[Path, UnitView]] = []
        senders = len({s.unit for s in run.submissions if s.unit})
        senders += sum(1 for s in run.submissions if not s.unit)
        workers = workers or os.cpu_count() or 1
        self._workers = min(workers - 1, senders // POOL_CHUNK + 1)
        large = senders >= POOL_MIN_WORKBOOKS or len(run.metrics.plans) >= POOL_MIN_ROWS
        self._pooled = self._workers >= 1 and large
        self._pool: ProcessPoolExecutor | None = None
        self._feeder: threading.Thread | None = None
        self._futures: list[Future[None]] = []
        self._feed_error: BaseException | None = None
        self._stop = threading.Event()

    def _jobs(self, views: Iterator[UnitView]) -> Iterator[tuple[Path, UnitView]]:
        for view in views:
            path = self._folder / view.file_name
            self.paths.append(path)
            if self._cache is not None:
                digest = view_digest(view, self._plan_digests)
                if self._cache.feedback_current(path, digest):
                    continue
                self._rendered.append((path, digest))
            yield path, view

    def _take(self, count: int) -> list[tuple[Path, UnitView]]:
        """Up to ``count`` more jobs, in order (either thread may take them): first those the
        feeder left, then new ones."""
        with self._source_lock:
            taken, self._leftover = self._leftover[:count], self._leftover[count:]
            return taken + list(itertools.islice(self._source, count - len(taken)))

    def _remember(self) -> None:
        """Record in the run cache what each workbook rendered now was rendered from."""
        if self._cache is not None:
            for path, digest in self._rendered:
                self._cache.feedback_written(path, digest)

    def __enter__(self) -> FeedbackWriter:
        if self._pooled:
            self._feeder = threading.Thread(target=self._feed, name="umpan-balik", daemon=True)
            self._feeder.start()
        return self

    def _feed(self) -> None:
        """Hand the views to the pool a chunk at a time, never more than the in-flight limit
        ahead of the workers. The pool starts with the first full chunk: when fewer views than
        that are left to render (a re-run that finds most workbooks current), this process
        renders them and no worker is started."""
        slots = threading.Semaphore(self._workers * POOL_IN_FLIGHT)
        try:
            while True:
                slots.acquire()
                chunk = [] if self._stop.is_set() else self._take(POOL_CHUNK)
                if not chunk:
                    return
                if self._pool is None and len(chunk) < POOL_CHUNK:
                    with self._source_lock:
                        self._leftover.extend(chunk)
                    return
                if self._pool is None:
                    # forkserver, as the ingest pool: workers start clean, not as copies of
                    # this process.
                    context = multiprocessing.get_context("forkserver")
                    self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
                future = self._pool.submit(_render_chunk, chunk)
                future.add_done_callback(lambda _: slots.release())
                self._futures.append(future)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._feed_error = exc

    def _render_here(self) -> None:
        """Render, in this process, the views nobody has taken, until none is left."""
        with Committer() as committer:
            while jobs := self._take(1):
                _render_chunk(jobs, committer)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._feeder is None:
            if kind is None:
                self._render_here()
                self._remember()
            return
        failed = kind is not None
        try:
            if not failed:
                # This process's own work is done: it renders too, until no view is left.
                self._render_here()
        except BaseException:
            failed = True
            raise
        finally:
            if failed:
                self._stop.set()
            try:
                self._feeder.join()
                if not failed:
                    if self._feed_error is not None:
                        raise self._feed_error
                    self._render_here()  # what the feeder left (fewer than a chunk)
                    for future in self._futures:
                        future.result()
                    self._remember()
            finally:
                if self._pool is not None:
                    self._pool.shutdown(wait=True, cancel_futures=failed)


def _render_chunk(jobs: list[tuple[Path, UnitView]], committer: Committer | None = None) -> None:
    """Render ``jobs``; every file is in place when this returns, unless ``committer`` (owned
    by the caller) puts them there."""
    if committer is None:
        with Committer() as own:
            _render_chunk(jobs, own)
        return
    for path, view in jobs:
        render_feedback(path, view, committer=committer)
