"""Feedback workbooks (one per sender) and the reminder list of units whose report is missing.

**Isolation by construction.** :func:`feedback_views` first cuts the run into one
:class:`UnitView` per sender — that sender's own files, rows and problems, plus regency-level
aggregates (the median of each metric over the units that reported, the number of ranked units)
— and :func:`render_feedback` receives only that view. No renderer ever sees the RunResult, so a
workbook cannot show another unit's rows, names or values.

**Who gets one.** Every registry unit that sent anything (accepted, rejected or superseded
files): ``<KODE>_<YYYY-MM>_umpan_balik.xlsx``. A rejected file whose unit could not be identified
gets its own workbook, ``TIDAK-DIKENAL_<file stem reduced to letters, digits and hyphens>_
<YYYY-MM>_umpan_balik.xlsx`` (``-2``, ``-3`` appended when two stems reduce to the same text), so
the bureau can forward it to whoever sent that file.

**Cell addresses.** The re-rendered ``RB Umum`` / ``RB Tematik`` sheets put every value at the
SAME row and column as in the unit's own file (the file's column positions and header row, even
when its layout drifted from the template; headers are printed in the template's spelling on the
file's last header row). So the address in ``Perbaikan`` — always the unit's own cell, e.g.
``H12`` on their sheet ``RB TEMATIK 2025`` — is also the address of the highlighted cell here,
and each ``Perbaikan`` row links to it (``internal:'RB Tematik'!H12``). Problem cells are filled
red (error) or amber (warning) and carry the message as a cell comment.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.fsutil import atomic_path
from pipeline.incremental import plan_digests, view_digest
from pipeline.locale_id import number, tanggal
from pipeline.metrics import STATUS_COUNTS, STATUSES
from pipeline.model import STATUS_LABEL, RunResult, SheetLayout, Submission
from pipeline.outputs import feedback_name, unknown_sender_names
from pipeline.plain import as_float, flag, is_missing, to_plain
from pipeline.problems import SEVERITY_LABEL, Problem, sort_problems
from pipeline.publish.regency import LEGEND_COLUMNS, PLAN_STATUS_NOT_COUNTED, TERMS, legend_rows
from pipeline.publish.styles import (
    METRIC_LABELS,
    RECORD_BLOCK,
    UNIT_METRICS,
    Cell,
    Column,
    Formats,
    Sheet,
    iter_records,
    metric_style,
    open_workbook,
    print_setup,
    problem_note,
    problem_tone,
    row_height,
    wrapped_lines,
    write_table,
)
from pipeline.registry import Period, Settings

if TYPE_CHECKING:
    from pipeline.cache import RunCache

SHEET_SUMMARY = "Ringkasan"
SHEET_FIXES = "Perbaikan"
SHEET_LEGEND = "Legenda"
TABLE_TOP = 4
# Feedback workbooks are written by a process pool from this many on: below it, starting the
# workers (each imports pandas and xlsxwriter, ~1 s) costs more than it saves.
POOL_MIN_WORKBOOKS = 120
POOL_CHUNK = 8  # views sent to a worker at a time: fewer round trips, still balanced
POOL_IN_FLIGHT = 3  # chunks per worker made ahead: workers never wait, memory holds a few
FEEDBACK_TERMS = tuple(
    t
    for t in TERMS
    if t[0]
    in (
        "Capaian (%)",
        *STATUSES,
        PLAN_STATUS_NOT_COUNTED,
        "Sel merah / kuning",
    )
)


@dataclass(frozen=True, kw_only=True)
class UnitView:
    """Everything one feedback workbook may show: one sender's own files, rows and problems,
    and regency-level aggregates. Built by :func:`feedback_views`; the renderer sees only this."""

    kode: str | None  # registry code, None for a file whose unit is unknown
    nama: str | None
    period: Period
    settings: Settings
    submissions: tuple[Submission, ...]
    plans: tuple[dict, ...]  # this unit's rows of Metrics.plans, as records (column -> value)
    problems: tuple[Problem, ...]  # sorted by severity, then position
    metrics: dict  # this unit's row of Metrics.units ({} when unknown)
    medians: dict  # metric -> median over the units that reported (None when undefined)
    ranked: int  # units with a rank
    file_name: str

    @property
    def accepted(self) -> Submission | None:
        return next((s for s in self.submissions if s.accepted), None)

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(not p.is_error for p in self.problems)


def feedback_views(run: RunResult) -> list[UnitView]:
    """One view per sender: registry units in registry order, then unidentified files by name."""
    return list(iter_feedback_views(run))


def iter_feedback_views(run: RunResult) -> Iterator[UnitView]:
    """The views of :func:`feedback_views`, made one at a time: each holds its sender's plans
    as records, and all of a month's views at once would hold the month's rows a second time.

    Plans, problems and files are indexed by sender once (not searched per sender), so the
    cost grows with the month's rows, not with senders x rows. The indexes are built by this
    call, the views as they are taken (by :class:`FeedbackWriter`'s thread, which then only
    reads the frames through the indexes)."""
    reg = run.metrics.regency
    by_code = {row["kode"]: row for row in run.metrics.units.to_dict("records")}
    common = {
        "period": run.period,
        "settings": run.registry.settings,
        "medians": {m: as_float(v) for m, v in reg.unit_medians.items()},
        "ranked": reg.units_ranked,
    }
    # Problem positions in run.problems (so each view keeps their order) by unit, and by file
    # for those without a unit (None for a registry sender's file, or any falsy unit).
    of_unit: dict[str, list[int]] = {}
    unplaced: dict[str | None, list[int]] = {}
    anonymous: dict[str | None, list[int]] = {}
    for i, p in enumerate(run.problems):
        if p.unit:
            of_unit.setdefault(p.unit, []).append(i)
        else:
            anonymous.setdefault(p.file, []).append(i)
            if p.unit is None:
                unplaced.setdefault(p.file, []).append(i)
    files_of: dict[str, list[Submission]] = {}
    for s in run.submissions:
        if s.unit:
            files_of.setdefault(s.unit, []).append(s)
    order = {kode: i for i, kode in enumerate(run.registry.codes)}
    senders = sorted(files_of, key=lambda k: (order.get(k, len(order)), k))
    records = _plans_by_sender(run.metrics.plans, senders)

    def views() -> Iterator[UnitView]:
        for kode, plans in zip(senders, records, strict=True):
            subs = tuple(sorted(files_of[kode], key=lambda s: s.name))
            names = {s.name for s in subs}
            found = of_unit.get(kode, []) + [i for name in names for i in unplaced.get(name, [])]
            yield UnitView(
                kode=kode,
                nama=run.registry.name_of(kode) or kode,
                submissions=subs,
                plans=plans,
                problems=tuple(sort_problems([run.problems[i] for i in sorted(found)])),
                metrics=by_code.get(kode, {}),
                file_name=feedback_name(kode, run.period),
                **common,
            )
        unknown = sorted((s for s in run.submissions if not s.unit), key=lambda s: s.name)
        names = unknown_sender_names([s.name for s in unknown], run.period)
        for sub in unknown:
            yield UnitView(
                kode=None,
                nama=None,
                submissions=(sub,),
                plans=(),
                problems=tuple(
                    sort_problems([run.problems[i] for i in anonymous.get(sub.name, [])])
                ),
                metrics={},
                file_name=names[sub.name],
                **common,
            )

    return views()


def _plans_by_sender(plans: pd.DataFrame, senders: list[str]) -> Iterator[tuple[dict, ...]]:
    """Each sender's plans as records (frame order), in the order of ``senders``, converted
    for a few senders at a time (about :data:`~pipeline.publish.styles.RECORD_BLOCK` rows).
    The positions are found by this call; the records as they are taken."""
    positions = plans.groupby("_unit", sort=False).indices if len(plans) else {}
    at = [positions.get(kode, np.arange(0)) for kode in senders]

    def blocks() -> Iterator[tuple[dict, ...]]:
        start = 0
        while start < len(at):
            end, size = start + 1, len(at[start])
            while end < len(at) and size + len(at[end]) <= RECORD_BLOCK:
                size += len(at[end])
                end += 1
            taken = np.concatenate(at[start:end])
            records = iter_records(plans.take(taken)) if size else iter(())
            for sender in at[start:end]:
                yield tuple(next(records) for _ in range(len(sender)))
            start = end

    return blocks()


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
        self._futures: list[Future] = []
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
                    future = self._pool.submit(_render_chunk, chunk)
                    future.add_done_callback(lambda _: slots.release())
                    self._futures.append(future)
                    chunk = []
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._feed_error = exc

    def __exit__(self, kind, error, trace) -> None:
        if self._pool is None:
            if kind is None:
                for job in self._jobs():
                    _render_chunk([job])
                self._remember()
            return
        if kind is not None:
            self._stop.set()
        try:
            self._feeder.join()
            if kind is None:
                if self._feed_error is not None:
                    raise self._feed_error
                for future in self._futures:
                    future.result()
                self._remember()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=kind is not None)


def _with_end(items: Iterator) -> Iterator:
    """``items``, then None."""
    yield from items
    yield None


def _render_chunk(jobs: list[tuple[Path, UnitView]]) -> None:
    for path, view in jobs:
        render_feedback(path, view)


# --------------------------------------------------------------------------------------------
# Rendering one view
# --------------------------------------------------------------------------------------------


def render_feedback(path: Path, view: UnitView) -> None:
    """Write the feedback workbook of ``view`` to ``path`` (atomically)."""
    who = f"{view.nama} ({view.kode})" if view.kode else "Pengirim tidak dikenali"
    with atomic_path(Path(path)) as tmp:
        workbook = open_workbook(
            tmp,
            period=view.period,
            title=f"Umpan Balik Rencana Aksi RB {view.period.label}: {who}",
            author=view.settings.nama_instansi,
            company=view.settings.nama_pemda,
        )
        formats = Formats(workbook)
        summary = Sheet(workbook, formats, SHEET_SUMMARY)
        fixes = Sheet(workbook, formats, SHEET_FIXES)
        layouts = _rendered_layouts(view)
        rendered = {kind: Sheet(workbook, formats, schema.SHEETS[kind].name) for kind in layouts}
        legend = Sheet(workbook, formats, SHEET_LEGEND)
        targets = {}
        for kind, sheet in rendered.items():
            targets.update(_render_rows(sheet, view, kind, layouts[kind]))
        _summary(summary, view, who)
        _fixes(fixes, view, targets)
        _legend(legend, view)
        summary.ws.activate()
        workbook.close()


def _deadline_next(view: UnitView):
    nxt = view.period.next()
    return nxt, nxt.deadline(view.settings.batas_hari)


def _verdict(view: UnitView) -> tuple[str, str]:
    """Plain-language verdict and its tone."""
    deadline = tanggal(view.period.deadline(view.settings.batas_hari))
    if view.accepted is None:
        return (
            f"Laporan {view.period.label} Anda belum dapat kami rekap. Mohon kirim ulang berkas "
            f"yang benar secepatnya (batas pengiriman {deadline}); lihat bagian "
            '"Yang perlu Anda kirim" di bawah.',
            "error",
        )
    nxt, next_deadline = _deadline_next(view)
    if view.errors:
        text = (
            f"{view.errors} kesalahan harus diperbaiki sebelum {tanggal(next_deadline)}. "
            "Perbaiki di berkas Anda sendiri pada alamat sel yang tercantum di lembar "
            f"{SHEET_FIXES}, lalu sertakan perbaikannya pada laporan {nxt.label}."
        )
        if view.warnings:
            text += f" Ada juga {view.warnings} peringatan yang perlu diperiksa."
        return text, "error"
    if view.warnings:
        return (
            f"Tidak ada kesalahan. Ada {view.warnings} peringatan: mohon periksa kembali; bila "
            "datanya memang benar, tidak perlu diubah.",
            "warning",
        )
    return "Laporan Anda lengkap dan sesuai semua aturan pemeriksaan. Terima kasih!", "good"


def _file_note(sub: Submission, view: UnitView) -> str:
    """What became of one of the sender's files, in a sentence or two."""
    accepted = view.accepted
    if sub.accepted:
        return f"Direkap: {sub.rows_consolidated} rencana aksi."
    if sub.status == "superseded":
        newer = f" oleh {accepted.name}" if accepted else ""
        return f"Digantikan{newer}, berkas yang lebih baru; tidak direkap."
    reasons = [p.message for p in sort_problems(sub.problems) if p.is_error]
    return " ".join(reasons) or "Berkas tidak dapat direkap."


def _found(sub: Submission) -> str:
    """What we could read from a rejected file."""
    parts = [f"jenis berkas: {sub.format.upper() if sub.format else 'bukan lembar kerja'}"]
    if sub.producer:
        parts.append(f"dibuat dengan {sub.producer}")
    parts.append(f"unit: {sub.unit or 'tidak dikenali'}")
    if sub.period:
        parts.append(f"periode: {sub.period}")
    parts.append(f"ukuran {number(sub.size)} byte")
    return "; ".join(parts) + "."


def _what_to_send(view: UnitView) -> list[str]:
    """Numbered instructions for a sender none of whose files could be consolidated."""
    hints: list[str] = []
    for sub in view.submissions:
        for p in sort_problems(sub.problems):
            if p.is_error and p.hint and p.hint not in hints:
                hints.append(p.hint)
    code = view.kode or "<KODE UNIT>"
    steps = [
        *hints,
        f"Gunakan templat resmi periode {view.period.label} dari {view.settings.nama_instansi}; "
        f"isi lembar Identitas: Kode Unit {code}"
        + ("" if view.kode else " (sesuai daftar unit kerja)")
        + f", Periode {view.period}.",
        f"Simpan sebagai Excel Workbook (.xlsx) dengan nama {code}_{view.period}.xlsx, lalu "
        f"kirim ulang paling lambat {tanggal(view.period.deadline(view.settings.batas_hari))}.",
    ]
    return [f"{i}. {step}" for i, step in enumerate(steps, start=1)]


SUMMARY_WIDTHS = (30, 22, 22, 44)


def _summary(sheet: Sheet, view: UnitView, who: str) -> None:
    ws = sheet.ws
    last_col = len(SUMMARY_WIDTHS) - 1
    for i, width in enumerate(SUMMARY_WIDTHS):
        ws.set_column(i, i, width)
    ws.hide_gridlines(2)
    ws.set_row(0, 26)
    sheet.text(0, 0, "Umpan Balik Laporan Rencana Aksi Reformasi Birokrasi", "title")
    sheet.text(1, 0, f"{who} · Periode {view.period.label}", "subtitle")
    sheet.text(2, 0, f"Dari {view.settings.nama_instansi}, {view.settings.nama_pemda}", "note")
    verdict, tone = _verdict(view)
    width = sum(SUMMARY_WIDTHS)
    ws.set_row(4, row_height(wrapped_lines(verdict, width * 0.85)) + 10)
    ws.merge_range(4, 0, 4, last_col, None, sheet.fmt("verdict", tone))
    sheet.text(4, 0, verdict, "verdict", tone)

    row = 6
    sheet.text(row, 0, "Berkas yang kami terima", "section")
    file_rows = [
        (
            s.name,
            Cell(
                value=STATUS_LABEL.get(s.status, s.status),
                tone={"accepted": "good", "superseded": "muted"}.get(s.status, "error"),
            ),
            s.received or s.modified,
            _file_note(s, view),
        )
        for s in view.submissions
    ]
    last = write_table(
        sheet,
        top=row + 1,
        columns=[
            Column(header="Berkas", style="wrap", width=SUMMARY_WIDTHS[0]),
            Column(header="Status", width=SUMMARY_WIDTHS[1]),
            Column(header="Diterima / Diubah", style="datetime", width=SUMMARY_WIDTHS[2]),
            Column(header="Keterangan", style="wrap", width=SUMMARY_WIDTHS[3]),
        ],
        rows=file_rows,
    )
    row = last + 2

    accepted = view.accepted
    if accepted is None:
        sheet.text(row, 0, "Yang kami temukan", "section")
        row += 1
        for sub in view.submissions:
            sheet.text(row, 0, sub.name, "bold")
            _long_text(sheet, row, 1, last_col, _found(sub))
            row += 1
        row += 1
        sheet.text(row, 0, "Yang perlu Anda kirim", "section")
        row += 1
        for step in _what_to_send(view):
            _long_text(sheet, row, 0, last_col, step)
            row += 1
    else:
        row = _status_block(sheet, view, accepted, row)
        row = _metrics_block(sheet, view, row + 1)

    row += 1
    sheet.text(row, 0, "Masalah yang ditemukan", "section")
    row += 1
    for label, count, tone in (
        (SEVERITY_LABEL["error"], view.errors, "error"),
        (SEVERITY_LABEL["warning"], view.warnings, "warning"),
    ):
        sheet.text(row, 0, label, "bold", tone if count else None)
        sheet.value(row, 1, count, "int", tone if count else None)
        row += 1
    _long_text(
        sheet,
        row,
        0,
        last_col,
        f"Daftar lengkap, dengan alamat sel dan cara memperbaikinya, ada di lembar {SHEET_FIXES}.",
        "note_wrap",
    )
    print_setup(
        sheet, title=f"Umpan balik {view.kode or 'berkas'} · {view.period.label}", portrait=True
    )


def _long_text(sheet: Sheet, row: int, first: int, last: int, text: str, style="wrap") -> None:
    width = sum(SUMMARY_WIDTHS[first : last + 1])
    sheet.ws.set_row(row, row_height(wrapped_lines(text, width)))
    if last > first:
        sheet.ws.merge_range(row, first, row, last, None, sheet.fmt(style))
    sheet.text(row, first, text, style)


def _status_block(sheet: Sheet, view: UnitView, accepted: Submission, row: int) -> int:
    m = view.metrics
    deadline = view.period.deadline(view.settings.batas_hari)
    on_time = flag(m.get("on_time"))
    sheet.text(row, 0, "Status laporan", "section")
    pairs = [
        ("Status", Cell(value="Diterima dan direkap", tone="good")),
        ("Berkas direkap", accepted.name),
        ("Diterima pada", Cell(value=m.get("received") or accepted.modified, style="datetime")),
        (
            "Tepat waktu",
            Cell(
                value=f"{'Ya' if on_time else 'Tidak'} (batas {tanggal(deadline)})",
                tone="good" if on_time else "warning",
            )
            if on_time is not None
            else "–",
        ),
        ("Rencana aksi direkap", Cell(value=len(view.plans), style="int")),
    ]
    for label, item in pairs:
        row += 1
        cell = item if isinstance(item, Cell) else Cell(value=item)
        sheet.text(row, 0, label, "label")
        style = cell.style or "text"
        if style == "datetime":
            sheet.value(row, 1, cell.value, style, cell.tone)
        else:
            sheet.ws.merge_range(row, 1, row, 2, None, sheet.fmt(style, cell.tone))
            sheet.value(row, 1, cell.value, style, cell.tone)
    return row + 1


def _metrics_block(sheet: Sheet, view: UnitView, row: int) -> int:
    m = view.metrics
    sheet.text(row, 0, "Capaian Anda dibanding kabupaten", "section")
    rank = to_plain(m.get("rank"))
    rows = []
    for metric in UNIT_METRICS:
        mine, median = to_plain(m.get(metric)), view.medians.get(metric)
        if mine is None or median is None:
            note = "belum dapat dibandingkan"
        elif abs(mine - median) < 1e-9:
            note = "sama dengan median kabupaten"
        else:
            note = "di atas median kabupaten" if mine > median else "di bawah median kabupaten"
        style = metric_style(metric)
        rows.append(
            (
                METRIC_LABELS[metric],
                Cell(value=mine, style=style),
                Cell(value=median, style=style),
                note,
            )
        )
    last = write_table(
        sheet,
        top=row + 1,
        columns=[
            Column(header="Indikator", width=SUMMARY_WIDTHS[0]),
            Column(header="Unit Anda", style="pct", width=SUMMARY_WIDTHS[1]),
            Column(header="Median Kabupaten", style="pct", width=SUMMARY_WIDTHS[2]),
            Column(header="Keterangan", width=SUMMARY_WIDTHS[3]),
        ],
        rows=rows,
    )
    row = last + 1
    rank_text = (
        f"Peringkat {rank} dari {view.ranked} unit yang laporannya diterima (menurut tingkat "
        "penyelesaian, lalu rata-rata capaian)."
        if rank is not None
        else "Peringkat belum dapat ditentukan."
    )
    _long_text(sheet, row, 0, len(SUMMARY_WIDTHS) - 1, rank_text, "bold")
    row += 2
    sheet.text(row, 0, "Status rencana aksi", "section")
    counted = (
        *((status, m.get(column)) for status, column in STATUS_COUNTS.items()),
        (PLAN_STATUS_NOT_COUNTED + " (ada kesalahan)", m.get("completion_excluded")),
    )
    for label, count in counted:
        row += 1
        sheet.text(row, 0, label, "label")
        sheet.value(row, 1, count, "int")
    return row + 1


# --------------------------------------------------------------------------------------------
# Perbaikan
# --------------------------------------------------------------------------------------------


def _fixes(sheet: Sheet, view: UnitView, targets: dict[tuple[str, str, int, str], str]) -> None:
    """Every problem of the sender, sorted by severity then position; the cell address is the
    one in the sender's own file and links to the same address in the re-rendered sheet."""
    title = "Daftar Perbaikan"
    sheet.ws.set_row(0, 24)
    sheet.text(0, 0, title, "title")
    sheet.text(
        1, 0, f"{view.nama or 'Pengirim tidak dikenali'} · Periode {view.period.label}", "subtitle"
    )
    sheet.text(
        2,
        0,
        "Kolom Sel berisi alamat sel di berkas Anda sendiri. Klik alamatnya untuk melihat sel itu "
        "di lembar RB Umum / RB Tematik buku kerja ini (baris dan kolomnya sama dengan berkas "
        "Anda).",
        "note",
    )
    if not view.problems:
        sheet.text(3, 0, "Tidak ada yang perlu diperbaiki. Terima kasih!", "bold", "good")
    rows = []
    for i, p in enumerate(view.problems, start=1):
        field = schema.FIELD_BY_NAME.get(p.field or "")
        address = f"{p.column}{p.row}" if p.column and p.row else None
        target = targets.get((p.file or "", p.sheet or "", p.row or 0, p.column or ""))
        rows.append(
            (
                i,
                Cell(
                    value=SEVERITY_LABEL.get(p.severity, p.severity),
                    tone="error" if p.is_error else "warning",
                ),
                p.code,
                p.file,
                p.sheet,
                Cell(value=address, link=(target, address)) if target and address else address,
                field.header if field else None,
                p.value,
                p.message,
                p.hint,
            )
        )
    write_table(
        sheet,
        top=TABLE_TOP,
        columns=[
            Column(header="No", style="int"),
            Column(header="Tingkat"),
            Column(header="Kode", style="bold"),
            Column(header="Berkas", style="wrap", max_width=26),
            Column(header="Lembar", max_width=20),
            Column(header="Sel"),
            Column(header="Kolom", max_width=22),
            Column(header="Nilai Ditemukan", style="wrap", max_width=24),
            Column(header="Masalah", style="wrap", max_width=46),
            Column(header="Cara Memperbaiki", style="wrap", max_width=46),
        ],
        rows=rows,
    )
    sheet.ws.freeze_panes(TABLE_TOP + 1, 0)
    print_setup(sheet, title=f"Perbaikan · {view.period.label}", header_row=TABLE_TOP)


# --------------------------------------------------------------------------------------------
# RB Umum / RB Tematik re-rendered at the file's own addresses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where one sheet kind of the accepted file sits: its name and header row in the file and
    the column of each field (the template's when the sheet is missing)."""

    source_sheet: str | None  # None: the file has no such sheet
    header_row: int  # 1-based
    columns: dict[str, str]
    unknown_columns: tuple[tuple[str, str], ...] = ()


def _rendered_layouts(view: UnitView) -> dict[str, Placement]:
    """Sheet kinds to re-render (none when no file was accepted), with their placement."""
    accepted = view.accepted
    if accepted is None:
        return {}
    out = {}
    for kind in schema.KINDS:
        layout: SheetLayout | None = next((lo for lo in accepted.layouts if lo.kind == kind), None)
        rows = _rows_of(view, kind, accepted)
        columns = dict(layout.columns) if layout else {}
        for f in schema.SHEETS[kind].fields:
            if f.name not in columns and rows:
                letters = [r[f"_col_{f.name}"] for r in rows if not is_missing(r[f"_col_{f.name}"])]
                if letters:
                    columns[f.name] = str(letters[0])
        if layout:
            placement = Placement(
                source_sheet=layout.sheet,
                header_row=layout.header_rows[-1] if layout.header_rows else 1,
                columns=columns,
                unknown_columns=layout.unknown_columns,
            )
        elif rows:
            placement = Placement(
                source_sheet=str(rows[0]["_sheet"]),
                header_row=max(int(min(r["_row"] for r in rows)) - 1, 1),
                columns=columns,
            )
        else:
            template = {
                f.name: schema.SHEETS[kind].column_letter(f.name)
                for f in schema.SHEETS[kind].fields
            }
            placement = Placement(
                source_sheet=None, header_row=schema.TEMPLATE_HEADER_ROW, columns=template
            )
        out[kind] = placement
    return out


def _rows_of(view: UnitView, kind: str, accepted: Submission) -> list[dict]:
    """The view's plans of ``kind`` from its accepted file, in frame order."""
    return [r for r in view.plans if r["_kind"] == kind and r["_file"] == accepted.name]


def _render_rows(
    sheet: Sheet, view: UnitView, kind: str, place: Placement
) -> dict[tuple[str, str, int, str], str]:
    """Write the sender's rows of ``kind`` at their own addresses; return the problem cells
    shown here as ``(file, their sheet, row, column) -> this sheet's name``."""
    accepted = view.accepted
    fields = schema.SHEETS[kind].fields
    grid: dict[tuple[int, str], tuple[object, str]] = {}
    for f in fields:
        if f.name in place.columns:
            grid[(place.header_row, place.columns[f.name])] = (f.header, "header")
    for letter, text in place.unknown_columns:
        grid[(place.header_row, letter)] = (text, "header_muted")
    # Per field, once: its column keys in the records, its fallback column, and its styles
    # (a number field's unparsed text is shown as text).
    specs = [
        (
            f.name,
            f"_col_{f.name}",
            f"_raw_{f.name}" if f.is_number else None,
            place.columns.get(f.name),
            ("rupiah" if f.name in schema.BUDGET_FIELDS else "dec") if f.is_number else None,
            "wrap" if f.type == "text" else "text",
        )
        for f in fields
    ]
    for plan in _rows_of(view, kind, accepted):
        row = int(plan["_row"])
        for name, col_key, raw_key, fallback, number_style, text_style in specs:
            letter = to_plain(plan.get(col_key)) or fallback
            if not letter:
                continue
            raw = to_plain(plan.get(raw_key)) if raw_key else None
            value = raw if raw is not None else plan.get(name)
            style = number_style if number_style and raw is None else text_style
            grid[(row, str(letter))] = (value, style)

    marks: dict[tuple[int, str], list[Problem]] = {}
    if place.source_sheet is not None:
        for p in view.problems:
            if p.file == accepted.name and p.sheet == place.source_sheet and p.row and p.column:
                marks.setdefault((p.row, p.column), []).append(p)
    for key, found in marks.items():
        grid.setdefault(key, (found[0].value, "text"))

    widths = {place.columns[f.name]: f.width for f in fields if f.name in place.columns}
    for letter, _ in place.unknown_columns:
        widths.setdefault(letter, 10)
    for letter, width in widths.items():
        col = schema.column_index(letter) - 1
        sheet.ws.set_column(col, col, width)

    index = {letter: schema.column_index(letter) for letter in {letter for _, letter in grid}}
    heights: dict[int, int] = {}
    for (row, letter), (value, style) in sorted(
        grid.items(), key=lambda kv: (kv[0][0], index[kv[0][1]])
    ):
        r, c = row - 1, index[letter] - 1
        found = marks.get((row, letter))
        tone = problem_tone(found) if found else None
        plain = to_plain(value)
        if style in ("header", "header_muted"):
            sheet.text(r, c, value, style) if not found else sheet.text(r, c, value, "text", tone)
        elif isinstance(plain, str) and plain.startswith(("http://", "https://")):
            sheet.web_link(r, c, plain, style, tone)
        else:
            sheet.value(r, c, value, style, tone)
        if found:
            sheet.comment(r, c, problem_note(found))
        if style in ("wrap", "header") and isinstance(plain, str):
            lines = wrapped_lines(value, widths.get(letter, 10))
            heights[r] = max(heights.get(r, 1), lines)
    header = place.header_row - 1
    for r, lines in heights.items():
        if lines > 1 or r == header:
            sheet.ws.set_row(r, row_height(min(lines, 30)) + (3 if r == header else 0))

    _sheet_notes(sheet, view, kind, place, {row for row, _ in grid})
    sheet.ws.freeze_panes(place.header_row, 0)
    print_setup(
        sheet,
        title=f"{schema.SHEETS[kind].name} · {view.kode or ''} · {view.period.label}",
        header_row=place.header_row - 1,
    )
    return {
        (accepted.name, place.source_sheet, row, letter): sheet.name
        for (row, letter) in marks
        if place.source_sheet is not None
    }


def _sheet_notes(sheet: Sheet, view: UnitView, kind: str, place: Placement, used: set[int]):
    """Explain the sheet in the free rows above its header (when there are any)."""
    accepted = view.accepted
    if place.source_sheet is None:
        notes = [
            f"Lembar {schema.SHEETS[kind].name} tidak ditemukan di berkas Anda "
            f"({accepted.name}); lihat lembar {SHEET_FIXES}.",
        ]
    else:
        notes = [
            f"Baris dan kolom lembar ini sama dengan lembar '{place.source_sheet}' di berkas "
            f"{accepted.name}.",
            "Sel merah = kesalahan, sel kuning = peringatan. Arahkan kursor ke sel bertanda "
            "untuk membaca pesan dan cara memperbaikinya.",
        ]
    free = [r for r in range(1, place.header_row) if r not in used]
    for row, note in zip(free, notes, strict=False):
        sheet.text(row - 1, 0, note, "note")


# --------------------------------------------------------------------------------------------
# Legenda
# --------------------------------------------------------------------------------------------


def _legend(sheet: Sheet, view: UnitView) -> None:
    sheet.ws.set_row(0, 24)
    sheet.text(0, 0, "Legenda", "title")
    sheet.text(1, 0, "Kode masalah yang muncul pada laporan Anda bulan ini.", "subtitle")
    last = write_table(
        sheet, top=3, columns=LEGEND_COLUMNS, rows=legend_rows(list(view.problems), all_codes=False)
    )
    row = last + 2
    sheet.text(row, 0, "Istilah", "section")
    for i, (term, meaning) in enumerate(FEEDBACK_TERMS, start=row + 1):
        sheet.text(i, 0, term, "bold")
        sheet.text(i, 2, meaning, "text")
    print_setup(sheet, title=f"Legenda · {view.period.label}", header_row=3)


# --------------------------------------------------------------------------------------------
# Reminder list
# --------------------------------------------------------------------------------------------


def write_reminders(path: Path, run: RunResult) -> None:
    """``belum_mengirim.xlsx``: registry units whose report was not received — those that sent
    nothing, and those whose every file was rejected — for the bureau to follow up, with the
    unit's e-mail addresses and a WhatsApp click-to-chat link carrying its reminder (when the
    registry has a number)."""
    from pipeline.deliver.notices import notices_from_run, whatsapp_url

    settings = run.registry.settings
    notices = {n.kode: n for n in notices_from_run(run)}
    units = {row["kode"]: row for row in run.metrics.units.to_dict("records")}
    rejected: dict[str, list[Submission]] = {}
    for s in sorted(run.submissions, key=lambda s: s.name):
        if s.unit and s.status == "rejected":
            rejected.setdefault(s.unit, []).append(s)
    rows = []
    for unit in run.registry.units:
        if flag(units.get(unit.kode, {}).get("submitted")):
            continue
        files = rejected.get(unit.kode, [])
        if files:
            reasons = "; ".join(
                f"{s.name}: " + (next((p.message for p in s.problems if p.is_error), "ditolak"))
                for s in files
            )
            note = Cell(value=f"Berkas ditolak — {reasons}", tone="warning")
        else:
            note = Cell(value="Belum mengirim berkas", tone="error")
        notice = notices.get(unit.kode)
        link = whatsapp_url(notice) if notice else None
        rows.append(
            (
                len(rows) + 1,
                unit.kode,
                unit.nama,
                unit.jenis,
                note,
                "; ".join(unit.email) or Cell(value="belum ada di daftar unit", tone="muted"),
                Cell(value=f"Kirim pengingat ke +{unit.telepon}", url=link)
                if link
                else Cell(value="nomor belum ada di daftar unit", tone="muted"),
            )
        )
    deadline = run.period.deadline(settings.batas_hari)
    with atomic_path(Path(path)) as tmp:
        workbook = open_workbook(
            tmp,
            period=run.period,
            title=f"Unit yang laporannya belum diterima, {run.period.label}",
            author=settings.nama_instansi,
            company=settings.nama_pemda,
        )
        sheet = Sheet(workbook, Formats(workbook), "Belum Mengirim")
        sheet.ws.set_row(0, 24)
        sheet.text(0, 0, "Unit Kerja yang Laporannya Belum Diterima", "title")
        sheet.text(1, 0, f"{settings.nama_pemda} · Periode {run.period.label}", "subtitle")
        sheet.text(
            2,
            0,
            f"{len(rows)} dari {len(run.registry.units)} unit; batas pengiriman "
            f"{tanggal(deadline)}. Untuk ditindaklanjuti oleh {settings.nama_instansi}."
            if rows
            else "Semua unit kerja sudah mengirim laporan yang dapat direkap.",
            "note",
        )
        write_table(
            sheet,
            top=TABLE_TOP,
            columns=[
                Column(header="No", style="int"),
                Column(header="Kode Unit", style="bold"),
                Column(header="Nama Unit", max_width=45),
                Column(header="Jenis"),
                Column(header="Keterangan", style="wrap", max_width=60),
                Column(header="Surel", max_width=40),
                Column(header="WhatsApp", max_width=36),
            ],
            rows=rows,
        )
        sheet.ws.freeze_panes(TABLE_TOP + 1, 0)
        print_setup(sheet, title=f"Belum mengirim · {run.period.label}", header_row=TABLE_TOP)
        workbook.close()
