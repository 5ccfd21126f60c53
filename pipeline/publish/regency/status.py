"""``Status Pengiriman``: every registry unit, whether and when its report arrived."""

from __future__ import annotations

from pipeline.locale_id import tanggal
from pipeline.model import RunResult
from pipeline.plain import flag
from pipeline.publish.regency.common import (
    TABLE_TOP,
    deadline,
    files_by_unit,
    finish,
    title_block,
    units_by_code,
)
from pipeline.publish.styles import (
    Cell,
    Column,
    Sheet,
    write_table,
)


def write_status_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Status Pengiriman Laporan"
    title_block(
        sheet,
        run,
        title,
        f"Semua unit kerja yang diharapkan mengirim. Batas pengiriman: {tanggal(deadline(run))}.",
    )
    units = units_by_code(run)
    files = files_by_unit(run)
    columns = [
        Column(header="Kode Unit", style="bold"),
        Column(header="Nama Unit", max_width=40),
        Column(header="Jenis"),
        Column(header="Laporan Diterima"),
        Column(header="Tepat Waktu"),
        Column(header="Berkas Direkap", style="wrap", max_width=40),
        Column(header="Waktu Terima", style="datetime"),
        Column(header="Rencana Aksi", style="int"),
        Column(header="Kesalahan", style="int"),
        Column(header="Peringatan", style="int"),
        Column(header="Berkas Digantikan", style="wrap", max_width=36),
        Column(header="Berkas Ditolak", style="wrap", max_width=36),
    ]
    rows = []
    for unit in run.registry.units:
        u = units.get(unit.kode, {})
        submitted = bool(flag(u.get("submitted")))
        on_time = flag(u.get("on_time"))
        mine = files.get(unit.kode, [])
        rows.append(
            (
                unit.kode,
                unit.nama,
                unit.jenis,
                Cell(value=submitted, tone="good" if submitted else "error"),
                Cell(
                    value="–" if on_time is None else on_time,
                    tone=None if on_time is None else ("good" if on_time else "warning"),
                ),
                # A report may be split by sheet kind over several accepted files.
                "\n".join(s.name for s in mine if s.accepted) or u.get("file"),
                u.get("received"),
                u.get("rows") if submitted else None,
                u.get("errors"),
                u.get("warnings"),
                "\n".join(s.name for s in mine if s.status == "superseded") or None,
                "\n".join(s.name for s in mine if s.status == "rejected") or None,
            )
        )
    write_table(sheet, top=TABLE_TOP, columns=columns, rows=rows)
    finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=2)
