"""The regency workbook ``Konsolidasi_RB_<YYYY-MM>.xlsx``: what the bureau hands to leadership.

In: a :class:`model.RunResult`. Out: one xlsxwriter workbook, written atomically, with the sheets
(in order) ``Ringkasan`` (KPI tiles and native charts), ``Status Pengiriman`` (every registry
unit), ``Capaian per Unit``, ``Capaian per Tema``, ``RB Umum`` and ``RB Tematik`` (the
consolidated action plans: the contract sheets of architecture.md — header in row 1), ``Masalah
Validasi`` (every problem), ``Tren`` (month over month), ``Info Proses`` (times, versions, input
hashes, skipped rows) and ``Legenda`` (problem codes and terms).

The workbook is a pure function of the RunResult: rows are sorted explicitly (registry order,
file, row; problems by severity then position) and the document date comes from the period, so
the same RunResult always gives the same bytes. Charts reference cells of the workbook's own
sheets. Number-format conventions are described in :mod:`pipeline.publish.styles`.

Modules, one per sheet or group of sheets: :mod:`.summary` (Ringkasan), :mod:`.status`
(Status Pengiriman), :mod:`.tables` (Capaian per Unit / per Tema), :mod:`.plans` (RB Umum /
RB Tematik), :mod:`.problems` (Masalah Validasi), :mod:`.trend` (Tren), :mod:`.info` (Info
Proses), :mod:`.legend` (Legenda); :mod:`.common` holds what they share. Every figure comes from
``run.metrics`` (``RegencyFigures`` and the metrics frames): no sheet counts rows, budgets or
statuses itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import schema
from pipeline.fsutil import atomic_path
from pipeline.model import RunResult
from pipeline.publish.regency.common import (
    KIND_LABEL,
    PLAN_STATUS_NOT_COUNTED,
    SHEET_GROUPS,
    SHEET_INFO,
    SHEET_LEGEND,
    SHEET_PROBLEMS,
    SHEET_STATUS,
    SHEET_SUMMARY,
    SHEET_TREND,
    SHEET_UNITS,
)
from pipeline.publish.regency.info import INFO_LABELS, write_info_sheet
from pipeline.publish.regency.legend import LEGEND_COLUMNS, TERMS, legend_rows, write_legend_sheet
from pipeline.publish.regency.plans import consolidated_headers, write_plans_sheet
from pipeline.publish.regency.problems import PROBLEM_COLUMNS, problem_rows, write_problems_sheet
from pipeline.publish.regency.status import write_status_sheet
from pipeline.publish.regency.summary import write_summary_sheet
from pipeline.publish.regency.tables import write_groups_sheet, write_units_sheet
from pipeline.publish.regency.trend import write_trend_sheet
from pipeline.publish.styles import Formats, Sheet, open_workbook

if TYPE_CHECKING:
    from pipeline.incremental import PlanBlocks

__all__ = [
    "INFO_LABELS",
    "KIND_LABEL",
    "LEGEND_COLUMNS",
    "PLAN_STATUS_NOT_COUNTED",
    "PROBLEM_COLUMNS",
    "SHEET_GROUPS",
    "SHEET_INFO",
    "SHEET_LEGEND",
    "SHEET_PROBLEMS",
    "SHEET_STATUS",
    "SHEET_SUMMARY",
    "SHEET_TREND",
    "SHEET_UNITS",
    "TERMS",
    "consolidated_headers",
    "legend_rows",
    "problem_rows",
    "write_regency_workbook",
]


def write_regency_workbook(path: Path, run: RunResult, kept: PlanBlocks | None = None) -> None:
    """Write the regency workbook of ``run`` to ``path`` (atomically: temporary file, rename).
    ``kept``: the run cache's renderings of units' consolidated rows (the same bytes, sooner)."""
    settings = run.registry.settings
    title = f"Konsolidasi Rencana Aksi RB {run.period.label}"
    with atomic_path(Path(path)) as tmp:
        workbook = open_workbook(
            tmp,
            period=run.period,
            title=title,
            author=settings.nama_instansi,
            company=settings.nama_pemda,
            streaming=True,
        )
        formats = Formats(workbook)
        names = (
            SHEET_SUMMARY,
            SHEET_STATUS,
            SHEET_UNITS,
            SHEET_GROUPS,
            KIND_LABEL["umum"],
            KIND_LABEL["tematik"],
            SHEET_PROBLEMS,
            SHEET_TREND,
            SHEET_INFO,
            SHEET_LEGEND,
        )
        # The consolidated plan sheets hold every row of the month: streamed, not kept.
        streamed = {KIND_LABEL[kind] for kind in schema.KINDS}
        sheets = {
            name: Sheet(workbook, formats, name, streaming=name in streamed) for name in names
        }
        write_status_sheet(sheets[SHEET_STATUS], run)
        unit_chart = write_units_sheet(sheets[SHEET_UNITS], run)
        group_chart = write_groups_sheet(sheets[SHEET_GROUPS], run)
        for kind in schema.KINDS:
            write_plans_sheet(sheets[KIND_LABEL[kind]], run, kind, kept)
        write_problems_sheet(sheets[SHEET_PROBLEMS], run)
        trend_chart = write_trend_sheet(sheets[SHEET_TREND], run)
        write_info_sheet(sheets[SHEET_INFO], run)
        write_legend_sheet(sheets[SHEET_LEGEND], run)
        write_summary_sheet(
            workbook, sheets[SHEET_SUMMARY], run, unit_chart, group_chart, trend_chart
        )
        sheets[SHEET_SUMMARY].ws.activate()
        workbook.close()
