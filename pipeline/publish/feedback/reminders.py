"""``belum_mengirim.xlsx``: the registry units whose report was not received."""

from __future__ import annotations

from pathlib import Path

from pipeline.fsutil import atomic_path
from pipeline.locale_id import tanggal
from pipeline.model import RunResult, Submission
from pipeline.plain import flag
from pipeline.publish.feedback.common import (
    TABLE_TOP,
)
from pipeline.publish.styles import (
    Cell,
    Column,
    Formats,
    Sheet,
    open_workbook,
    print_setup,
    write_table,
)


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
    rows: list[tuple[object, ...]] = []
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
