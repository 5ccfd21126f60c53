"""Writing the feedback workbooks: in this process for a small month, by a process pool while
the caller writes the regency workbook for a large one; the same bytes either way."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from pipeline.incremental import plan_digests, view_digest
from pipeline.model import RunResult
from pipeline.publish.feedback.render import render_feedback
from pipeline.publish.feedback.views import UnitView, iter_feedback_views

# Feedback workbooks are written by a process pool from this many on: below it, starting the
# workers (each imports pandas and xlsxwriter, ~1 s) costs more than it saves.
if TYPE_CHECKING:
    from pipeline.cache import RunCache

T = TypeVar("T")

POOL_MIN_WORKBOOKS = 120
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
            write_regency_workbook(path, run)  # meanwhile, the workers write the feedback
        paths = feedback.paths  # every workbook is written once the block has ended

    ``workers``: processes rendering the workbooks (None: one per CPU core). Each workbook is a
    function of its view alone, so the bytes are the same however many processes write them. A
    month under :data:`POOL_MIN_WORKBOOKS` senders is written in this process, after the block.
    A thread of this process makes the views as the workers take them, at most
    :data:`POOL_IN_FLIGHT` chunks per worker ahead, so memory holds a few views, not the
    month's. An error in any workbook is raised when the block ends."""

    def __init__(
        self,
        folder: Path,
        run: RunResult,
        *,
        workers: int | None = None,
        cache: RunCache | None = None,
    ) -> None:
        self._folder = Path(folder)
        self._views = iter_feedback_views(run)
        # With the run cache, a workbook whose view is unchanged (its fingerprint) and whose
        # file is still the one written is not rendered again (pipeline.incremental).
        self._cache = cache
        self._plan_digests = plan_digests(run.metrics.plans) if cache is not None else {}
        self._rendered: list[tuple[Path, str]] = []
        senders = len({s.unit for s in run.submissions if s.unit})
        senders += sum(1 for s in run.submissions if not s.unit)
        self._workers = min(workers or os.cpu_count() or 1, senders // POOL_CHUNK + 1)
        self._pooled = self._workers > 1 and senders >= POOL_MIN_WORKBOOKS
        self.paths: list[Path] = []
        self._pool: ProcessPoolExecutor | None = None
        self._feeder: threading.Thread | None = None
        self._futures: list[Future[None]] = []
        self._feed_error: BaseException | None = None
        self._stop = threading.Event()

    def _jobs(self) -> Iterator[tuple[Path, UnitView]]:
        for view in self._views:
            path = self._folder / view.file_name
            self.paths.append(path)
            if self._cache is not None:
                digest = view_digest(view, self._plan_digests)
                if self._cache.feedback_current(path, digest):
                    continue
                self._rendered.append((path, digest))
            yield path, view

    def _remember(self) -> None:
        """Record in the run cache what each workbook rendered now was rendered from."""
        if self._cache is not None:
            for path, digest in self._rendered:
                self._cache.feedback_written(path, digest)

    def __enter__(self) -> FeedbackWriter:
        if self._pooled:
            # forkserver, as the ingest pool: workers start clean, not as copies of this process.
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
            self._feeder = threading.Thread(target=self._feed, name="umpan-balik", daemon=True)
            self._feeder.start()
        return self

    def _feed(self) -> None:
        """Make the views and hand them to the pool a chunk at a time, never more than the
        in-flight limit ahead of the workers."""
        slots = threading.Semaphore(self._workers * POOL_IN_FLIGHT)
        chunk: list[tuple[Path, UnitView]] = []
        try:
            for job in _with_end(self._jobs()):
                if job is not None:
                    chunk.append(job)
                if chunk and (job is None or len(chunk) == POOL_CHUNK):
                    slots.acquire()
                    if self._stop.is_set():
                        return
                    assert self._pool is not None  # the feeder runs only for a pool
                    future = self._pool.submit(_render_chunk, chunk)
                    future.add_done_callback(lambda _: slots.release())
                    self._futures.append(future)
                    chunk = []
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._feed_error = exc

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is None:
            if kind is None:
                for job in self._jobs():
                    _render_chunk([job])
                self._remember()
            return
        if kind is not None:
            self._stop.set()
        try:
            assert self._feeder is not None  # started with the pool
            self._feeder.join()
            if kind is None:
                if self._feed_error is not None:
                    raise self._feed_error
                for future in self._futures:
                    future.result()
                self._remember()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=kind is not None)


def _with_end(items: Iterator[T]) -> Iterator[T | None]:
    """``items``, then None."""
    yield from items
    yield None


def _render_chunk(jobs: list[tuple[Path, UnitView]]) -> None:
    for path, view in jobs:
        render_feedback(path, view)
