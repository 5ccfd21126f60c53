"""What the sheets of the regency workbook share: sheet names, labels, the title block, the
chart ranges, lookups by unit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pipeline import schema
from pipeline.model import RunResult, Submission
from pipeline.plain import as_float, flag
from pipeline.publish.styles import (
    UNIT_METRICS,
    Sheet,
    print_setup,
)

SHEET_SUMMARY = "Ringkasan"
SHEET_STATUS = "Status Pengiriman"
SHEET_UNITS = "Capaian per Unit"
SHEET_GROUPS = "Capaian per Tema"
SHEET_PROBLEMS = "Masalah Validasi"
SHEET_TREND = "Tren"
SHEET_INFO = "Info Proses"
SHEET_LEGEND = "Legenda"

# Red/amber/green status of a unit in "Capaian per Unit", by its completion rate.
STATUS_GOOD = 0.8
STATUS_FAIR = 0.5
RAG_LABELS = {
    "good": "Baik",
    "fair": "Perlu Perhatian",
    "poor": "Tertinggal",
    "none": "Belum Ada Laporan",
    "unknown": "Tidak Dapat Dinilai",
}
PLAN_STATUS_NOT_COUNTED = "Tidak Dihitung"
KIND_LABEL = {kind: sheet.name for kind, sheet in schema.SHEETS.items()}
TABLE_TOP = 3  # 0-based row of the table header on sheets with a title block
TREND_METRICS_REGENCY = ("reporting_rate", "on_time_rate", *UNIT_METRICS)
TREND_CHART_METRICS = ("reporting_rate", "on_time_rate", "completion_rate", "data_quality")


@dataclass(frozen=True, kw_only=True)
class Range:
    """Cells a chart reads: ``rows`` x one column, or one row x ``cols``, 0-based, inclusive."""

    sheet: str
    first_row: int
    last_row: int
    first_col: int
    last_col: int

    def ref(self) -> list[str | int]:
        return [self.sheet, self.first_row, self.first_col, self.last_row, self.last_col]


def title_block(sheet: Sheet, run: RunResult, title: str, note: str = "") -> None:
    """Sheet title, pemda and period, and an optional note, in rows 1-3."""
    settings = run.registry.settings
    sheet.ws.set_row(0, 24)
    sheet.text(0, 0, title, "title")
    sheet.text(1, 0, f"{settings.nama_pemda} · Periode {run.period.label}", "subtitle")
    if note:
        sheet.text(2, 0, note, "note")


def finish(
    sheet: Sheet, run: RunResult, title: str, *, header_row: int, freeze_cols: int = 0
) -> None:
    sheet.ws.freeze_panes(header_row + 1, freeze_cols)
    print_setup(sheet, title=f"{title} · {run.period.label}", header_row=header_row)


def units_by_code(run: RunResult) -> dict[str, dict[str, Any]]:
    return {row["kode"]: row for row in run.metrics.units.to_dict("records")}


def files_by_unit(run: RunResult) -> dict[str, list[Submission]]:
    out: dict[str, list[Submission]] = {}
    for s in sorted(run.submissions, key=lambda s: s.name):
        if s.unit:
            out.setdefault(s.unit, []).append(s)
    return out


def deadline(run: RunResult) -> dt.date:
    return run.period.deadline(run.registry.settings.batas_hari)


def rag(unit: dict[str, Any]) -> str:
    """Red/amber/green key of a unit row of ``Metrics.units``."""
    if not flag(unit.get("submitted")):
        return "none"
    rate = as_float(unit.get("completion_rate"))
    if rate is None:
        return "unknown"
    if rate >= STATUS_GOOD:
        return "good"
    return "fair" if rate >= STATUS_FAIR else "poor"
