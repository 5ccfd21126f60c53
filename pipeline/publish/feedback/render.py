"""One feedback workbook from one view: ``Ringkasan``, ``Perbaikan``, ``RB Umum`` / ``RB Tematik``
at the unit's own cell addresses, ``Legenda``."""

from __future__ import annotations

from pathlib import Path

from pipeline import schema
from pipeline.fsutil import Committer, atomic_path
from pipeline.publish.feedback.common import (
    FEEDBACK_TERMS,
    SHEET_FIXES,
    SHEET_LEGEND,
    SHEET_SUMMARY,
)
from pipeline.publish.feedback.fixes import write_fixes
from pipeline.publish.feedback.sheets import render_rows, rendered_layouts
from pipeline.publish.feedback.summary import write_summary
from pipeline.publish.feedback.views import UnitView
from pipeline.publish.regency import LEGEND_COLUMNS, legend_rows
from pipeline.publish.styles import (
    Formats,
    Sheet,
    open_workbook,
    print_setup,
    write_table,
)


def render_feedback(path: Path, view: UnitView, *, committer: Committer | None = None) -> None:
    """Write the feedback workbook of ``view`` to ``path`` (atomically; with ``committer``, the
    file is put in place by that :class:`~pipeline.fsutil.Committer`)."""
    who = f"{view.nama} ({view.kode})" if view.kode else "Pengirim tidak dikenali"
    with atomic_path(Path(path), committer=committer) as tmp:
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
        layouts = rendered_layouts(view)
        # The re-rendered sheets hold the unit's rows: streamed (pipeline.publish.cellxml).
        rendered = {
            kind: Sheet(workbook, formats, schema.SHEETS[kind].name, streaming=True)
            for kind in layouts
        }
        legend = Sheet(workbook, formats, SHEET_LEGEND)
        targets = {}
        for kind, sheet in rendered.items():
            targets.update(render_rows(sheet, view, kind, layouts[kind]))
        write_summary(summary, view, who)
        write_fixes(fixes, view, targets)
        write_legend(legend, view)
        summary.ws.activate()
        workbook.close()


def write_legend(sheet: Sheet, view: UnitView) -> None:
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
