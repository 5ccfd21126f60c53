"""``Tren``: every indicator per recorded month, and the change since the previous one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.metrics import (
    REGENCY_CODE,
)
from pipeline.model import RunResult
from pipeline.publish.regency.common import (
    TABLE_TOP,
    TREND_METRICS_REGENCY,
    Range,
    finish,
    title_block,
)
from pipeline.publish.styles import (
    METRIC_LABELS,
    UNIT_METRICS,
    Cell,
    Column,
    Sheet,
    metric_style,
    print_setup,
    write_table,
)
from pipeline.registry import Period


@dataclass(frozen=True, kw_only=True)
class TrendChart:
    categories: Range
    series: dict[str, Range]  # metric -> the KABUPATEN row of that metric


def _trend_periods(run: RunResult) -> list[Period]:
    if run.trend is None or run.trend.empty:
        return []
    periods = {Period.parse(str(p)) for p in run.trend["period"]}
    return sorted(p for p in periods if p <= run.period)


def write_trend_sheet(sheet: Sheet, run: RunResult) -> TrendChart | None:
    title = "Tren Bulanan"
    periods = _trend_periods(run)
    title_block(
        sheet,
        run,
        title,
        "Setiap indikator per bulan dari riwayat rekap; kolom terakhir: perubahan dari bulan "
        "sebelumnya (persen: poin persentase).",
    )
    if not periods:
        sheet.text(TABLE_TOP, 0, "Belum ada riwayat rekap bulanan.", "note")
        print_setup(sheet, title=f"{title} · {run.period.label}")
        return None
    keys = [str(p) for p in periods]
    values: dict[tuple[str, str], dict[str, Any]] = {}
    for record in run.trend.to_dict("records"):
        values[(str(record["period"]), str(record["kode"]))] = record
    change = f"Perubahan dari {periods[-2].label}" if len(periods) > 1 else "Perubahan"
    columns = [
        Column(header="Kode Unit", style="bold"),
        Column(header="Nama Unit", max_width=34),
        Column(header="Indikator", max_width=28),
        *(Column(header=p.label, style="pct") for p in periods),
        Column(header=change, style="pct_delta"),
    ]
    settings = run.registry.settings
    changes = run.metrics.changes.set_index("kode").to_dict("index") if len(periods) > 1 else {}
    subjects = [(REGENCY_CODE, settings.nama_pemda, TREND_METRICS_REGENCY)]
    subjects += [(u.kode, u.nama, UNIT_METRICS) for u in run.registry.units]
    rows: list[tuple[object, ...]] = []
    regency_rows: dict[str, int] = {}
    for kode, nama, metrics in subjects:
        for metric in metrics:
            style = metric_style(metric)
            series = [values.get((k, kode), {}).get(metric) for k in keys]
            delta = changes.get(kode, {}).get(f"{metric}_delta")
            if kode == REGENCY_CODE:
                regency_rows[metric] = TABLE_TOP + 1 + len(rows)
            rows.append(
                (
                    kode,
                    nama,
                    METRIC_LABELS[metric],
                    *(Cell(value=v, style=style) for v in series),
                    Cell(value=delta, style=f"{style}_delta"),
                )
            )
    write_table(sheet, top=TABLE_TOP, columns=columns, rows=rows)
    finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=3)
    first, last = 3, 3 + len(periods) - 1
    return TrendChart(
        categories=Range(
            sheet=sheet.name,
            first_row=TABLE_TOP,
            last_row=TABLE_TOP,
            first_col=first,
            last_col=last,
        ),
        series={
            m: Range(sheet=sheet.name, first_row=r, last_row=r, first_col=first, last_col=last)
            for m, r in regency_rows.items()
        },
    )
