"""The warm checker: an upload is checked by the same ingest and validation as ``rbpipe check``
and the month run (no second rulebook), in a server that already holds what they need.

One checker thread owns validation. GX runs in :attr:`Checker.gx_workers` worker processes
that import Great Expectations and load the suites once, for the life of the server, and run
the three suites of a check side by side (``validate(..., suite_pool=...)``): for one file GX's
fixed cost per suite is nearly all of a check. At start the thread checks a blank template once
(starting the reader's fork server and the GX workers), so the first unit's upload does not pay
for any of it. If a GX worker dies the pool is made again and that check runs in the server's
own process. Uploads wait in a bounded queue; the thread takes every upload waiting (up to
:attr:`Checker.batch_max`) for the same month, reads them in parallel in the bounded ingest
worker pool (a hostile file costs its own worker, never the server) and validates them in ONE
Great Expectations run: GX's fixed cost per run is most of a check, so on the deadline day 20
waiting uploads cost little more than one.

Target changes (RB-W102) are checked as the month run checks them: the batch's units' rows of
their last accepted month come from the history (``History.previous_rows(period, units)``, read
for each batch, so a month run that just finished counts at once) and go into the same
``validate`` call. A history that cannot be read costs only that rule, logged.

A batch never holds two uploads that identify as the same unit (ingest would judge them as one
report, superseding by sheet kind or counting duplicate codes across them: month-run rules,
not a check result): such an upload waits for the next batch, and uploads whose unit only shows
after reading are checked again each on its own.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.registry import Period, Registry, load_registry

if TYPE_CHECKING:
    from pipeline.model import Submission
    from pipeline.problems import Problem

log = logging.getLogger("rbpipe.portal")


@dataclass(kw_only=True)
class CheckOutcome:
    """What the check found in one file: its submission record, problems and validated rows."""

    submission: Submission
    problems: list[Problem]
    rows: Any  # the file's validated staged rows (DataFrame)
    registry: Registry
    period: Period
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(not p.is_error for p in self.problems)


@dataclass(kw_only=True)
class _Job:
    path: Path
    period: Period
    key: str  # the unit it is expected to be (or a unique key when unknown)
    future: Future = field(default_factory=Future)
    queued: float = field(default_factory=time.perf_counter)


class QueueFull(Exception):
    pass


class Checker:
    """Checks uploads in one warm thread; :meth:`submit` returns a future of :class:`CheckOutcome`."""

    def __init__(
        self,
        registry_dir: Path | None,
        *,
        history: Path | None = None,
        batch_max: int = 16,
        queue_max: int = 256,
        workers: int = 2,
        gx_workers: int = 2,
    ):
        self.registry_dir = registry_dir
        self.history = history
        self.batch_max = batch_max
        self.workers = workers
        self.gx_workers = gx_workers
        self._suite_pool = None
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=queue_max)
        self._held: list[_Job] = []
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        self.batches: list[int] = []  # sizes of the batches checked (bench, tests)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="rbpipe-checker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        if self._suite_pool is not None:
            self._suite_pool.shutdown(wait=True, cancel_futures=True)
            self._suite_pool = None

    def _pool(self):
        """The GX worker processes (spawned: this process has threads), made on first use."""
        if self._suite_pool is None and self.gx_workers > 0:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._suite_pool = ProcessPoolExecutor(
                max_workers=self.gx_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_gx_worker_start,
            )
        return self._suite_pool

    def _previous(self, submissions, period):
        """The checked units' rows of their last accepted month (RB-W102), or None."""
        from pipeline.errors import RunError
        from pipeline.run import previous_rows_for_check

        if self.history is None:
            return None
        try:
            return previous_rows_for_check(self.history, submissions, period)
        except RunError as exc:
            log.error("riwayat tidak terbaca, RB-W102 tidak diperiksa: %s", exc)
            return None

    def _validate(self, ingested, period, registry):
        from concurrent.futures.process import BrokenProcessPool

        from pipeline.validate import validate

        previous = self._previous(ingested.submissions, period)

        def run(pool):
            return validate(
                ingested.rows,
                ingested.submissions,
                period=period,
                registry=registry,
                previous=previous,
                suite_pool=pool,
            )

        try:
            return run(self._pool())
        except BrokenProcessPool:
            log.error("proses pemeriksa GX berhenti; dibuat ulang")
            self._suite_pool = None
            return run(None)

    def submit(self, path: Path, period: Period, key: str) -> Future:
        job = _Job(path=Path(path), period=period, key=key)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull from None
        return job.future

    # ----------------------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._warm_up()
        except Exception:  # noqa: BLE001 - the first real check will report the failure
            log.exception("pemanasan pemeriksa gagal")
        self.ready.set()
        while True:
            job = self._held.pop(0) if self._held else self._queue.get()
            if job is None:
                return
            batch = self._gather(job)
            try:
                for outcome_job, outcome in self._check(batch):
                    outcome_job.future.set_result(outcome)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting requests
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)

    def _gather(self, first: _Job) -> list[_Job]:
        batch, keys = [first], {first.key}
        waiting = list(self._held)
        self._held = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            waiting.append(item)
        for item in waiting:
            if len(batch) < self.batch_max and item.period == first.period and item.key not in keys:
                batch.append(item)
                keys.add(item.key)
            else:
                self._held.append(item)
        return batch

    def _registry(self) -> Registry:
        return load_registry(self.registry_dir)

    def _warm_up(self) -> None:
        from pipeline.template import template_bytes

        if self.gx_workers == 0:
            from pipeline import gx

            gx.engine()
        registry = self._registry()
        period = Period(2025, 10)
        with tempfile.TemporaryDirectory(prefix="rbpipe-portal-warm-") as tmp:
            path = Path(tmp) / f"{registry.units[0].kode}_{period}.xlsx"
            path.write_bytes(template_bytes(registry.units[0], period, registry))
            self._check([_Job(path=path, period=period, key="warm")])

    def _check(self, batch: list[_Job]) -> list[tuple[_Job, CheckOutcome]]:
        from pipeline.ingest import ingest_files
        from pipeline.problems import sort_problems

        start = time.perf_counter()
        registry = self._registry()
        period = batch[0].period
        ingested = ingest_files(
            [j.path for j in batch],
            registry,
            period,
            workers=max(1, min(self.workers, len(batch))),
        )
        # Two uploads of one unit in a batch would be judged together (one superseding the
        # other by sheet kind, or both halves of one report): each is checked on its own.
        units = [s.unit for s in ingested.submissions if s.unit and s.status != "rejected"]
        if len(batch) > 1 and len(units) != len(set(units)):
            return [pair for job in batch for pair in self._check([job])]
        validation = self._validate(ingested, period, registry)
        problems = sort_problems(ingested.problems + validation.problems)
        rows = validation.rows
        seconds = time.perf_counter() - start
        self.batches.append(len(batch))
        out = []
        for job, sub in zip(batch, ingested.submissions, strict=True):
            mine = [p for p in problems if p.file == sub.name]
            own_rows = rows[rows["_file"] == sub.name].reset_index(drop=True)
            out.append(
                (
                    job,
                    CheckOutcome(
                        submission=sub,
                        problems=mine,
                        rows=own_rows,
                        registry=registry,
                        period=period,
                        seconds=seconds,
                    ),
                )
            )
        return out


def _gx_worker_start() -> None:
    """A GX worker process: import GX and load every suite before the first check arrives."""
    from pipeline import gx
    from pipeline.portal.children import exit_with_parent
    from pipeline.validate import preload_suites

    exit_with_parent()
    gx.engine()
    preload_suites()


# --------------------------------------------------------------------------------------------
# The instant feedback workbook
# --------------------------------------------------------------------------------------------


def month_medians(manifest: dict | None) -> tuple[dict, int]:
    """Median of each unit metric over the units that reported in a month's last run, and the
    number of ranked units; ({}, 0) without a run."""
    from statistics import median

    from pipeline.publish.styles import UNIT_METRICS

    if not manifest:
        return {}, 0
    units = [u for u in manifest.get("units", []) if u.get("submitted")]
    out = {}
    for metric in UNIT_METRICS:
        values = [u[metric] for u in units if u.get(metric) is not None]
        out[metric] = float(median(values)) if values else None
    return out, sum(1 for u in manifest.get("units", []) if u.get("rank") is not None)


def render_instant_feedback(path: Path, outcome: CheckOutcome, manifest: dict | None) -> None:
    """The feedback workbook the month run would write for this unit, for this one file:
    metrics of this file, the regency medians of the month's last run (or a note that there is
    none yet), no rank (a rank needs the whole month)."""
    import dataclasses

    import pandas as pd

    from pipeline.metrics import compute_metrics
    from pipeline.model import RunResult
    from pipeline.publish.feedback import iter_feedback_views, render_feedback
    from pipeline.run import run_clock

    sub = outcome.submission
    metrics = compute_metrics(
        outcome.rows, outcome.problems, [sub], period=outcome.period, registry=outcome.registry
    )
    run = RunResult(
        period=outcome.period,
        registry=outcome.registry,
        submissions=[sub],
        rows=metrics.plans,
        problems=outcome.problems,
        metrics=metrics,
        trend=pd.DataFrame(),
        started=run_clock(),
    )
    view = next(iter(iter_feedback_views(run)))
    medians, ranked = month_medians(manifest)
    when = f" ({manifest.get('finished')})" if manifest and manifest.get("finished") else ""
    remark = "Hasil pemeriksaan langsung saat unggah di portal, untuk berkas ini saja. " + (
        f"Median kabupaten dari rekap terakhir bulan ini{when}."
        if medians
        else "Median kabupaten belum tersedia: bulan ini belum direkap."
    )
    view = dataclasses.replace(
        view,
        medians={k: medians.get(k) for k in view.medians},
        ranked=ranked,
        metrics={**view.metrics, "rank": None},
        remark=remark,
    )
    render_feedback(path, view)
