"""``Perbaikan``: every problem of the sender, each linked to its cell in the re-rendered sheet."""

from __future__ import annotations

from pipeline import schema
from pipeline.problems import SEVERITY_LABEL
from pipeline.publish.feedback.common import (
    TABLE_TOP,
)
from pipeline.publish.feedback.views import UnitView
from pipeline.publish.styles import (
    Cell,
    Column,
    Sheet,
    print_setup,
    write_table,
)


def write_fixes(
    sheet: Sheet, view: UnitView, targets: dict[tuple[str, str, int, str], str]
) -> None:
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
