"""One monthly run: the stages in order, and the unit's self-check.

    ingest -> validate -> metrics -> publish -> history

Only this module knows the order; each stage is a function of plain data. Outputs go to
``<outputs>/<YYYY-MM>/`` (each file written atomically, the manifest last; names and paths from
:class:`~pipeline.outputs.OutputLayout`) and the run is recorded in ``<outputs>/riwayat.sqlite``
in one transaction after the files are in place, so a run killed at any moment leaves the
previous outputs and history intact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import __version__, schema
from pipeline.errors import RunError
from pipeline.fsutil import commit, temporary_beside
from pipeline.locale_id import number
from pipeline.locking import OutputLock
from pipeline.model import RunInfo, RunResult, Submission
from pipeline.outputs import FEEDBACK_FOLDER, MANIFEST_FILE, REMINDERS_FILE, OutputLayout
from pipeline.problems import (
    EXPECTATIONS_DIR,
    SEVERITY_LABEL,
    Problem,
    load_catalogue,
    sort_problems,
)
from pipeline.registry import Period, Registry, load_registry

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("rbpipe")


def run_clock() -> dt.datetime:
    """The run's timestamp: now, or SOURCE_DATE_EPOCH when set (reproducible outputs)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None)
    return dt.datetime.now().replace(microsecond=0)


# --------------------------------------------------------------------------------------------
# Stage timing (wall and CPU, the CPU of worker processes included) for the summary and bench
# --------------------------------------------------------------------------------------------


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@contextlib.contextmanager
def _stage(stages: dict[str, dict[str, float]], name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    log.info("tahap %s dimulai", name)
    yield
    stages[name] = {
        "wall_s": round(time.perf_counter() - wall, 4),
        "cpu_s": round(_cpu_seconds() - cpu, 4),
    }
    log.info("tahap %s selesai dalam %.2f detik", name, stages[name]["wall_s"])


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"rbpipe": __version__, "python": platform.python_version()}
    for dist in ("pandas", "great_expectations", "openpyxl", "xlsxwriter", "python-calamine"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "-"
    return out


# --------------------------------------------------------------------------------------------
# The monthly run
# --------------------------------------------------------------------------------------------


def _check_outputs_writable(outputs: Path) -> None:
    try:
        outputs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"Folder keluaran {outputs} tidak dapat dibuat: {exc.strerror}.") from None
    if not os.access(outputs, os.W_OK | os.X_OK):
        raise RunError(f"Folder keluaran {outputs} tidak dapat ditulisi (periksa hak akses).")


@contextlib.contextmanager
def _run_log(path: Path) -> Iterator[None]:
    """Log the run to ``path`` (``rbpipe.log`` beside the outputs).

    The log is written to a temporary file and renamed over ``path`` when the run ends, however
    it ends: a run that fails keeps a log naming the error (the other files of the folder are
    then still the previous run's, and the log says so). Only a killed run leaves no log; its
    temporary file is removed by the next run."""
    tmp = temporary_beside(path)
    handler = logging.FileHandler(tmp, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        yield
    except BaseException as exc:
        log.exception("rekap gagal: %s", exc)
        log.error(
            "rekap tidak selesai; berkas lain di %s (bila ada) berasal dari rekap sebelumnya",
            path.parent,
        )
        raise
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
        commit(tmp, path)


def run_month(
    period: Period,
    *,
    inputs: Path = Path("inputs"),
    outputs: Path = Path("outputs"),
    workers: int | None = None,
    wait: bool = False,
    registry_dir: Path | None = None,
    on_wait: Callable[[str], None] | None = None,
    use_cache: bool = True,
    expectations_dir: Path | None = None,
) -> RunResult:
    """Consolidate one month. Raises RunError only when the run cannot happen at all.

    ``wait``: when another run holds the outputs, wait for it (``on_wait`` receives one
    Indonesian line to show meanwhile) instead of raising RunError. ``expectations_dir``: the
    rule suites and catalogue to use instead of the default ones (pipeline.resources).

    ``use_cache``: take what earlier runs learnt about unchanged files from the run cache
    (``<outputs>/.cache/``, :mod:`pipeline.cache`); with False every file is read, validated
    and rendered again (the cache is still refreshed). The outputs are the same bytes either
    way."""
    layout = OutputLayout(outputs=Path(outputs), period=period, inputs=Path(inputs))
    month_in = layout.month_inputs
    if not month_in.is_dir():
        raise RunError(
            f"Folder kiriman {month_in} tidak ditemukan. Simpan berkas dari unit kerja di folder "
            f"itu (atau jalankan 'rbpipe demo --period {period} --out {month_in}' untuk data contoh)."
        )
    registry = load_registry(registry_dir or layout.inputs)
    _check_outputs_writable(layout.outputs)
    workers = workers or os.cpu_count() or 1

    with OutputLock(layout.outputs, wait=wait, on_wait=on_wait):
        _remove_stale_temporaries(layout.month)
        layout.month.mkdir(parents=True, exist_ok=True)
        with _run_log(layout.log):
            return _run_locked(layout, registry, workers, expectations_dir, use_cache=use_cache)


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporary files left by a run that was killed before renaming them (``atomic_path``
    names them ``.<name>.tmp-*``). Called under the outputs lock, so none belongs to a live run."""
    if not folder.is_dir():
        return
    for path in folder.rglob(".*.tmp-*"):
        if path.is_file():
            path.unlink(missing_ok=True)


def _run_locked(
    layout: OutputLayout,
    registry: Registry,
    workers: int,
    expectations_dir: Path | None,
    *,
    use_cache: bool,
) -> RunResult:
    from pipeline.cache import RunCache
    from pipeline.deliveries import read_arrivals
    from pipeline.history import History
    from pipeline.incremental import PlanBlocks, history_rows, plan_digests, validate_month
    from pipeline.ingest import ingest_month
    from pipeline.metrics import compare_with_history, compute_metrics
    from pipeline.publish.feedback import FeedbackWriter, write_reminders
    from pipeline.publish.manifest import write_manifest
    from pipeline.publish.regency import write_regency_workbook
    from pipeline.publish.report import write_report

    period, month_in = layout.period, layout.month_inputs
    started = run_clock()
    stages: dict[str, dict[str, float]] = {}
    log.info("rekap %s dimulai: masukan %s, keluaran %s", period, month_in, layout.month)
    for note in registry.notes:
        log.warning("daftar unit kerja: %s", note)
    cache = RunCache(layout.outputs, period, read=use_cache)

    with _stage(stages, "ingest"):
        ingested = ingest_month(month_in, period, registry, workers=workers, cache=cache)
        arrivals = read_arrivals(layout.arrivals) if layout.arrivals.exists() else None

    history = History(layout.history)
    try:
        with _stage(stages, "validate"):
            previous = history.previous_rows(period)
            validation = validate_month(
                ingested.rows,
                ingested.submissions,
                period=period,
                registry=registry,
                previous=previous,
                cache=cache,
                expectations_dir=expectations_dir or EXPECTATIONS_DIR,
            )
            problems = sort_problems(ingested.problems + validation.problems)

        with _stage(stages, "metrics"):
            metrics = compute_metrics(
                validation.rows,
                problems,
                ingested.submissions,
                period=period,
                registry=registry,
                arrivals=arrivals,
                catalogue=load_catalogue(expectations_dir or EXPECTATIONS_DIR),
            )
            trend = history.trend_with(period, metrics)
            metrics = compare_with_history(metrics, trend, period)

        run = RunResult(
            period=period,
            registry=registry,
            submissions=ingested.submissions,
            rows=metrics.plans,
            problems=problems,
            metrics=metrics,
            trend=trend,
            started=started,
            layout=layout,
            info=RunInfo(
                versions=_versions(),
                suite_versions=validation.suite_versions,
                gx_runs=validation.gx_runs,
                gx_seconds=round(validation.gx_seconds, 3),
                workers=workers,
                inputs=str(month_in),
                stages=stages,
                ignored_files=ingested.ignored,
            ),
        )

        with _stage(stages, "publish"):
            # Feedback workbooks are written by worker processes while this one writes the
            # regency workbook.
            digests = plan_digests(run.metrics.plans)
            with FeedbackWriter(
                layout.feedback_folder, run, workers=workers, cache=cache, digests=digests
            ) as feedback:
                kept = PlanBlocks(cache, run, digests)
                write_regency_workbook(layout.regency_workbook, run, kept)
                # The history's plan rows are made now, while the workers still render: the
                # history stage is then only the database's own work.
                history_plans = history_rows(run.rows, cache, digests)
            run.outputs.append(layout.regency_workbook)
            run.outputs.extend(feedback.paths)
            write_reminders(layout.reminders, run)
            run.outputs.append(layout.reminders)
            write_report(layout.report, run)
            run.outputs.append(layout.report)
            _remove_stale_feedback(layout, run.outputs)
            run.finished = run_clock()
            run.outputs.append(layout.manifest)
            run.info.cache = dict(sorted(cache.stats.items()))
            write_manifest(layout.manifest, run)
            cache.finish()

        with _stage(stages, "history"):
            history.record(run, plans=history_plans)
    finally:
        history.close()
    log.info("rekap %s selesai", period)
    return run


def _remove_stale_feedback(layout: OutputLayout, keep: list[Path]) -> None:
    """Feedback files left by an earlier run of this month for files no longer present."""
    keep_names = {p.name for p in keep}
    for path in layout.feedback_workbooks():
        if path.name not in keep_names:
            log.info("umpan balik lama dihapus: %s", path.name)
            path.unlink(missing_ok=True)


def summary_lines(run: RunResult) -> list[str]:
    """The short Indonesian summary printed after a run."""
    reg = run.metrics.regency
    layout = run.layout or OutputLayout(outputs=Path("."), period=run.period)
    feedback = sum(1 for p in run.outputs if p.parent == layout.feedback_folder)
    lines = [
        f"Rekap {run.period.label} selesai.",
        f"  Berkas   : {number(reg.files)} berkas ({number(reg.files_accepted)} diterima, "
        f"{number(reg.files_superseded)} digantikan, {number(reg.files_rejected)} ditolak)",
        f"  Unit     : {number(reg.units_submitted)} dari {number(reg.units_expected)} unit "
        f"mengirim, {number(reg.units_on_time)} tepat waktu",
        f"  Data     : {number(reg.plans)} rencana aksi direkap; {number(reg.errors)} kesalahan, "
        f"{number(reg.warnings)} peringatan",
        f"  Hasil    : {layout.month}/",
        f"             {layout.regency_workbook.name} (rekap kabupaten), {layout.report.name} "
        f"(laporan pimpinan), {FEEDBACK_FOLDER}/ ({number(feedback)} berkas), {REMINDERS_FILE}, "
        f"{MANIFEST_FILE}",
    ]
    notes = run.registry.notes
    if notes:
        lines.append(
            f"  Catatan  : {number(len(notes))} isian kontak di daftar unit kerja tidak dipakai:"
        )
        lines += [f"             {note}" for note in notes]
    stages = run.info.stages
    if stages:
        total = sum(s["wall_s"] for s in stages.values())
        parts = ", ".join(f"{k} {number(v['wall_s'], 1)}" for k, v in stages.items())
        lines.append(
            f"  Waktu    : {number(total, 1)} detik ({parts}; Great Expectations "
            f"{number(run.info.gx_runs or 0)} kali jalan, "
            f"{number(run.info.gx_seconds or 0, 1)} detik)"
        )
    return lines


# --------------------------------------------------------------------------------------------
# rbpipe check: a unit checks its own file(s) before sending
# --------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class CheckReport:
    submissions: list[Submission]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # Indonesian, for stderr (e.g. no history)

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


def previous_rows_for_check(
    history_path: Path, submissions: list[Submission], period: Period | None
) -> pd.DataFrame | None:
    """For RB-W102 in a check of a few files: each checked unit's rows from its last accepted
    month before the month checked (``period``, else the file's own month), exactly the rows
    the month run compares it with (:meth:`History.previous_rows`). None when the history does
    not exist (it is never created here) or holds nothing earlier this year. Raises
    :class:`RunError` when the history cannot be read."""
    from pandas import concat

    from pipeline.history import History

    wanted: dict[Period, set[str]] = {}
    for sub in submissions:
        month = period
        if month is None and sub.period:
            with contextlib.suppress(RunError):
                month = Period.parse(sub.period)
        if sub.unit and month is not None:
            wanted.setdefault(month, set()).add(sub.unit)
    if not wanted or not Path(history_path).is_file():
        return None
    with History(history_path) as history:
        frames = [
            rows
            for month, units in sorted(wanted.items())
            if (rows := history.previous_rows(month, units)) is not None
        ]
    if not frames:
        return None
    return frames[0] if len(frames) == 1 else concat(frames, ignore_index=True)


def check_files(
    paths: list[Path],
    *,
    period: Period | None = None,
    registry_dir: Path | None = None,
    outputs: Path | None = None,
) -> CheckReport:
    """Ingest and validate the given files on their own (no outputs written). With
    ``outputs``, its history (``riwayat.sqlite``, only read) gives each unit's last accepted
    month, so target changes (RB-W102) are reported as the month run reports them."""
    from pipeline.ingest import ingest_files
    from pipeline.outputs import HISTORY_FILE
    from pipeline.validate import validate

    registry = load_registry(registry_dir)
    ingested = ingest_files([Path(p) for p in paths], registry, period, workers=1)
    notes: list[str] = []
    previous = None
    if outputs is not None:
        history = Path(outputs) / HISTORY_FILE
        if not history.is_file():
            notes.append(
                f"Riwayat rekap {history} tidak ada: perubahan target dibanding bulan "
                "sebelumnya (RB-W102) tidak diperiksa."
            )
        else:
            try:
                previous = previous_rows_for_check(history, ingested.submissions, period)
            except RunError as exc:
                notes.append(f"{exc} Perubahan target (RB-W102) tidak diperiksa.")
    validation = validate(
        ingested.rows, ingested.submissions, period=period, registry=registry, previous=previous
    )
    return CheckReport(
        submissions=ingested.submissions,
        problems=sort_problems(ingested.problems + validation.problems),
        notes=notes,
    )


def _sheet_lines(sub: Submission) -> list[str]:
    """A sentence per action-plan sheet of an accepted or superseded file that was read but not
    consolidated: another sheet of its kind was chosen, or another file supplies its kind."""
    if sub.status == "rejected":
        return []
    out = []
    for a in sub.sheets:
        if not a.rows_read or a.use not in ("superseded", "unused"):
            continue
        if a.use == "superseded":
            source = f"berkas {a.replaced_by}"
        else:
            used = (u.sheet for u in sub.sheets if u.kind == a.kind and u.use == "used")
            source = f"lembar '{next(used, '')}' berkas ini"
        out.append(
            f"Lembar '{a.sheet}' ({number(a.rows_read)} baris) tidak direkap: rencana aksi "
            f"{schema.SHEETS[a.kind].name} diambil dari {source}."
        )
    return out


def format_check(report: CheckReport, *, as_json: bool = False) -> str:
    """Problems grouped by file and sheet, each with its cell reference (Indonesian)."""
    if as_json:
        return json.dumps(
            {
                "berkas": [
                    {
                        "nama": s.name,
                        "unit": s.unit,
                        "periode": s.period,
                        "status": s.status,
                        "baris_dibaca": s.rows_read,
                        "baris_direkap": s.rows_consolidated,
                        "baris_dilewati": s.rows_skipped,
                        "pembaca": s.reader,
                        "lembar": [
                            {
                                "nama": a.sheet,
                                "jenis": a.kind,
                                "penggunaan": a.use,
                                "baris_dibaca": a.rows_read,
                                "baris_direkap": a.rows_consolidated,
                                "baris_dilewati": a.rows_skipped,
                                "diganti_oleh": a.replaced_by,
                            }
                            for a in s.sheets
                        ],
                    }
                    for s in report.submissions
                ],
                "masalah": [p.to_dict() for p in report.problems],
                "ada_kesalahan": report.has_errors,
            },
            ensure_ascii=False,
            indent=2,
        )
    lines: list[str] = []
    for sub in report.submissions:
        mine = [p for p in report.problems if p.file == sub.name]
        head = f"Berkas {sub.name}"
        if sub.unit:
            head += f" — unit {sub.unit}"
        if sub.period:
            head += f", periode {sub.period}"
        lines.append(head)
        lines.append(
            f"  {sub.rows_consolidated} rencana aksi terbaca, {sub.rows_skipped} baris dilewati."
        )
        lines += [f"  {line}" for line in _sheet_lines(sub)]
        if not mine:
            lines.append("  Tidak ada masalah. Berkas siap dikirim.")
        by_sheet: dict[str, list[Problem]] = {}
        for p in mine:
            by_sheet.setdefault(p.sheet or "", []).append(p)
        for sheet, items in by_sheet.items():
            lines.append(f"  Lembar {sheet}:" if sheet else "  Berkas:")
            for p in items:
                where = p.cell or (p.sheet or "-")
                value = f" (nilai: {p.value})" if p.value not in (None, "") else ""
                lines.append(
                    f"    {where:<18} {SEVERITY_LABEL[p.severity]} {p.code}: {p.message}{value}"
                )
                if p.hint:
                    lines.append(f"    {'':<18} Perbaikan: {p.hint}")
        lines.append("")
    errors = sum(p.is_error for p in report.problems)
    warnings = len(report.problems) - errors
    verdict = f"Hasil: {errors} kesalahan dan {warnings} peringatan. " + (
        "Perbaiki semua kesalahan sebelum mengirim."
        if errors
        else "Tidak ada kesalahan; berkas boleh dikirim."
    )
    lines.append(verdict)
    return "\n".join(lines)
