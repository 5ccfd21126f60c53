"""``Ringkasan`` of a feedback workbook: the verdict, what was received, what to do, the unit's
figures beside the regency's medians."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pipeline import schema
from pipeline.locale_id import number, tanggal
from pipeline.metrics import STATUS_COUNTS
from pipeline.model import STATUS_LABEL, SheetAccount, Submission
from pipeline.plain import as_float, flag, to_plain
from pipeline.problems import SEVERITY_LABEL, sort_problems
from pipeline.publish.feedback.common import (
    SHEET_FIXES,
)
from pipeline.publish.feedback.views import UnitView
from pipeline.publish.regency import PLAN_STATUS_NOT_COUNTED
from pipeline.publish.styles import (
    METRIC_LABELS,
    UNIT_METRICS,
    Cell,
    Column,
    Sheet,
    metric_style,
    print_setup,
    row_height,
    wrapped_lines,
    write_table,
)
from pipeline.registry import Period


def _deadline_next(view: UnitView) -> tuple[Period, dt.date]:
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


def _kinds(accounts: Iterable[SheetAccount]) -> str:
    """The printed sheet kinds of ``accounts`` ("RB Umum dan RB Tematik"), each once."""
    names = dict.fromkeys(schema.SHEETS[a.kind].name for a in accounts)
    return " dan ".join(names)


def _file_note(sub: Submission, view: UnitView) -> str:
    """What became of one of the sender's files, in a sentence or two. A report split over
    several files says which kinds each file gave and which of its plans another file
    replaced."""
    replaced = [a for a in sub.sheets if a.use == "superseded" and a.rows_read and a.replaced_by]
    if sub.accepted:
        used = [a for a in sub.sheets if a.use == "used" and a.rows_consolidated]
        text = f"Direkap: {number(sub.rows_consolidated)} rencana aksi"
        if used and (replaced or len(view.accepted_files) > 1):
            text += f" {_kinds(used)}"
        text += "."
        for a in replaced:
            text += (
                f" Rencana aksi {schema.SHEETS[a.kind].name} berkas ini digantikan oleh "
                f"{a.replaced_by}."
            )
        return text
    if sub.status == "superseded":
        newer = list(dict.fromkeys(a.replaced_by for a in replaced if a.replaced_by))
        if not newer and view.accepted:
            newer = [view.accepted.name]
        by = f" oleh {' dan '.join(newer)}" if newer else ""
        return f"Digantikan{by}, berkas yang lebih baru; tidak direkap."
    reasons = [p.message for p in sort_problems(sub.problems) if p.is_error]
    return " ".join(reasons) or "Berkas tidak dapat direkap."


FAST_READER = "calamine"  # the reader of nearly every file; another one is worth a word


def _source_note(view: UnitView, sub: Submission, kind: str) -> str:
    """One kind's line in "Asal rencana aksi": how many plans, and the reader when it was not
    the fast one."""
    plans = sum(1 for r in view.plans if r["_kind"] == kind and r["_file"] == sub.name)
    text = f"{number(plans)} rencana aksi direkap."
    if sub.reader and sub.reader != FAST_READER:
        text += (
            f" Berkas ini dibaca dengan pembaca kedua ({sub.reader}) karena pembaca utama tidak "
            "dapat membacanya; isinya tetap terbaca dan direkap."
        )
    return text


def _source_sheet(view: UnitView, sub: Submission, kind: str) -> str | None:
    """The name of ``sub``'s sheet of ``kind`` whose plans were consolidated, if any."""
    layout = next((lo for lo in sub.layouts if lo.kind == kind), None)
    if layout is not None:
        return layout.sheet
    rows = (r["_sheet"] for r in view.plans if r["_kind"] == kind and r["_file"] == sub.name)
    return next((str(name) for name in rows), None)


def _sources_block(sheet: Sheet, view: UnitView, row: int) -> int:
    """Per kind of plans, the file and sheet it was consolidated from; then every sheet of the
    sender's files that was read but not consolidated (another sheet of the kind chosen, or
    another file supplying the kind), with its rows. Returns the next free row."""
    sheet.text(row, 0, "Asal rencana aksi yang direkap", "section")
    sources = []
    for kind in schema.KINDS:
        printed = schema.SHEETS[kind].name
        sub = view.source(kind)
        used = _source_sheet(view, sub, kind) if sub else None
        if sub is None or used is None:
            sources.append(
                (
                    printed,
                    "–",
                    "–",
                    f"Tidak ada: berkas Anda tidak memuat lembar {printed} (lihat lembar "
                    f"{SHEET_FIXES}).",
                )
            )
        else:
            sources.append((printed, sub.name, used, _source_note(view, sub, kind)))
    last = write_table(
        sheet,
        top=row + 1,
        columns=[
            Column(header="Jenis Rencana Aksi", width=SUMMARY_WIDTHS[0]),
            Column(header="Berkas", style="wrap", width=SUMMARY_WIDTHS[1]),
            Column(header="Lembar", style="wrap", width=SUMMARY_WIDTHS[2]),
            Column(header="Keterangan", style="wrap", width=SUMMARY_WIDTHS[3]),
        ],
        rows=sources,
    )
    row = last + 2
    left_out = [
        (sub, a)
        for sub in view.submissions
        if sub.status != "rejected"
        for a in sub.sheets
        if a.use in ("unused", "superseded") and a.rows_read
    ]
    if not left_out:
        return row
    sheet.text(row, 0, "Lembar yang dibaca tetapi tidak direkap", "section")
    last = write_table(
        sheet,
        top=row + 1,
        columns=[
            Column(header="Berkas", style="wrap", width=SUMMARY_WIDTHS[0]),
            Column(header="Lembar", style="wrap", width=SUMMARY_WIDTHS[1]),
            Column(header="Baris Dibaca", style="int", width=SUMMARY_WIDTHS[2]),
            Column(header="Keterangan", style="wrap", width=SUMMARY_WIDTHS[3]),
        ],
        rows=[
            (sub.name, a.sheet, a.rows_read, _left_out_note(view, sub, a)) for sub, a in left_out
        ],
    )
    return last + 2


def _left_out_note(view: UnitView, sub: Submission, account: SheetAccount) -> str:
    """Why a sheet's rows were read but not consolidated, for the unit."""
    printed = schema.SHEETS[account.kind].name
    if account.use == "superseded":
        newer = next((s for s in view.submissions if s.name == account.replaced_by), None)
        later = newer is not None and (newer.modified, newer.name) > (sub.modified, sub.name)
        return (
            f"Tidak direkap: rencana aksi {printed} diambil dari berkas {account.replaced_by}"
            + (", kiriman Anda yang lebih baru." if later else ".")
        )
    chosen = next((a.sheet for a in sub.sheets if a.kind == account.kind and a.use == "used"), None)
    where = f"lembar '{chosen}'" if chosen else "lembar lain"
    return (
        f"Tidak direkap: rencana aksi {printed} diambil dari {where} di berkas yang sama "
        f"(RB-E013, lihat lembar {SHEET_FIXES})."
    )


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


def write_summary(sheet: Sheet, view: UnitView, who: str) -> None:
    ws = sheet.ws
    last_col = len(SUMMARY_WIDTHS) - 1
    for i, width in enumerate(SUMMARY_WIDTHS):
        ws.set_column(i, i, width)
    ws.hide_gridlines(2)
    ws.set_row(0, 26)
    sheet.text(0, 0, "Umpan Balik Laporan Rencana Aksi Reformasi Birokrasi", "title")
    sheet.text(1, 0, f"{who} · Periode {view.period.label}", "subtitle")
    sheet.text(2, 0, f"Dari {view.settings.nama_instansi}, {view.settings.nama_pemda}", "note")
    if view.remark:
        sheet.text(3, 0, view.remark, "note")
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
        row = _sources_block(sheet, view, row + 1)
        row = _metrics_block(sheet, view, row)

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


def _long_text(
    sheet: Sheet, row: int, first: int, last: int, text: str, style: str = "wrap"
) -> None:
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
        ("Berkas direkap", ", ".join(s.name for s in view.accepted_files)),
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
        mine, median = as_float(m.get(metric)), view.medians.get(metric)
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
