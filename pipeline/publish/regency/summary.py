"""``Ringkasan``: KPI tiles with their month-over-month change, and native charts over cells of
the other sheets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

from pipeline.locale_id import number, tanggal
from pipeline.model import RunResult
from pipeline.plain import to_plain
from pipeline.publish.regency.common import (
    SHEET_PROBLEMS,
    TREND_CHART_METRICS,
    Range,
    deadline,
)
from pipeline.publish.regency.trend import TrendChart
from pipeline.publish.styles import (
    EXCLUDED_OF,
    LOCALE,
    METRIC_LABELS,
    NAVY,
    Format,
    Sheet,
    Workbook,
    print_setup,
)
from pipeline.registry import Period

TILE_WIDTH = 3  # columns per tile
TILES_PER_ROW = 4
TILE_ROWS = 5  # label, value, change, detail, excluded
TILE_BG = "#EEF3F8"


@dataclass(frozen=True, kw_only=True)
class Tile:
    label: str
    value: object
    value_format: str
    change: object = None  # number shown with change_format, or text
    change_format: str = ""
    detail: object = None
    detail_format: str = ""
    excluded: object = None


def _change_formats(prev: Period | None) -> dict[str, str]:
    """Number formats of a tile's month-over-month line: arrow, size in points and the month.
    (The colour is chosen from the sign when writing: number-format colours differ between
    Excel and LibreOffice.)"""
    if prev is None:
        return {}
    month = f" dibanding {prev.label}"
    pattern = f'{LOCALE}"▲ "0.0" poin{month}";"▼ "0.0" poin{month}";"tetap{month}"'
    return {"pct": pattern, "capaian": pattern}


def _previous_month(run: RunResult) -> Period | None:
    """The month the regency's figures are compared with (the latest recorded before)."""
    change = run.metrics.regency.change
    return Period.parse(change.previous_period) if change else None


def _tiles(run: RunResult) -> list[Tile]:
    reg = run.metrics.regency
    prev = _previous_month(run)
    change = _change_formats(prev)
    pct_value = f"{LOCALE}0.0%"
    capaian_value = f'{LOCALE}0.0"%"'

    def moved(metric: str) -> object:
        """Change in points (percentage points for rates), or a note when not comparable."""
        if prev is None or reg.change is None:
            return "belum ada data bulan sebelumnya"
        points = reg.change.points(metric)
        if math.isnan(points):
            return f"tidak dapat dibandingkan dengan {prev.label}"
        return round(points, 6)

    def excluded(metric: str) -> object:
        return getattr(reg, EXCLUDED_OF[metric]) if metric in EXCLUDED_OF else None

    return [
        Tile(
            label="Tingkat Pelaporan",
            value=reg.reporting_rate,
            value_format=pct_value,
            change=moved("reporting_rate"),
            change_format=change.get("pct", ""),
            detail=f"{number(reg.units_submitted)} dari {number(reg.units_expected)} unit "
            "laporannya diterima",
        ),
        Tile(
            label="Ketepatan Waktu",
            value=reg.on_time_rate,
            value_format=pct_value,
            change=moved("on_time_rate"),
            change_format=change.get("pct", ""),
            detail=f"{number(reg.units_on_time)} unit mengirim sebelum batas "
            f"{tanggal(deadline(run))}",
        ),
        Tile(
            label="Tingkat Penyelesaian",
            value=reg.completion_rate,
            value_format=pct_value,
            change=moved("completion_rate"),
            change_format=change.get("pct", ""),
            detail=f"{number(reg.plans_done)} dari {number(reg.plans_counted)} rencana aksi "
            "selesai atau sesuai target",
            excluded=excluded("completion_rate"),
        ),
        Tile(
            label="Rata-rata Capaian",
            value=reg.capaian_mean,
            value_format=capaian_value,
            change=moved("capaian_mean"),
            change_format=change.get("capaian", ""),
            detail=reg.capaian_median,
            detail_format=f'{LOCALE}"median "0.0"%"',
            excluded=excluded("capaian_mean"),
        ),
        Tile(
            label="Kelengkapan Data Dukung",
            value=reg.evidence_completeness,
            value_format=pct_value,
            change=moved("evidence_completeness"),
            change_format=change.get("pct", ""),
            detail="rencana aksi berealisasi yang mencantumkan bukti",
            excluded=excluded("evidence_completeness"),
        ),
        Tile(
            label="Penyerapan Anggaran",
            value=reg.budget_absorption,
            value_format=pct_value,
            change=moved("budget_absorption"),
            change_format=change.get("pct", ""),
            detail=reg.realisasi_anggaran_total,
            detail_format=f'{LOCALE}"Rp "#,##0" terealisasi"',
            excluded=excluded("budget_absorption"),
        ),
        Tile(
            label="Kualitas Data",
            value=reg.data_quality,
            value_format=pct_value,
            change=moved("data_quality"),
            change_format=change.get("pct", ""),
            detail=f"{number(reg.plans_clean)} dari {number(reg.plans)} baris tanpa kesalahan",
        ),
        Tile(
            label="Masalah Validasi",
            value=reg.errors,
            value_format=f'{LOCALE}#,##0" kesalahan"',
            change=reg.warnings,
            change_format=f'{LOCALE}#,##0" peringatan"',
            detail=f"di {number(reg.files_with_problems)} berkas; "
            f"rincian di lembar {SHEET_PROBLEMS}",
        ),
    ]


def _tile_format(sheet: Sheet, name: str, num_format: str = "", **props: Any) -> Format:
    base = {"bg_color": TILE_BG, "align": "left", "valign": "vcenter"}
    if num_format:
        base["num_format"] = num_format
    key = f"tile:{name}:{num_format}"
    return sheet.formats.custom(key, {**base, **props})


def _write_tile(sheet: Sheet, top: int, left: int, tile: Tile) -> None:
    ws = sheet.ws
    right = left + TILE_WIDTH - 1

    def line(row: int, value: object, fmt: Format) -> None:
        ws.merge_range(row, left, row, right, None, fmt)
        value = to_plain(value)
        if value is None:
            ws.write_blank(row, left, None, fmt)
        elif isinstance(value, str):
            ws.write_string(row, left, value, fmt)
        else:
            ws.write_number(row, left, float(cast(float, value)), fmt)

    line(
        top,
        tile.label,
        _tile_format(sheet, "label", bold=True, font_color="#404040", top=2, top_color=NAVY),
    )
    value = to_plain(tile.value)
    line(
        top + 1,
        tile.value if value is not None else "–",
        _tile_format(sheet, "value", tile.value_format, bold=True, font_size=22, font_color=NAVY),
    )
    change = to_plain(tile.change)
    colour = "#404040"
    if isinstance(change, float) and tile.change_format.startswith(f'{LOCALE}"▲'):
        colour = "#2E7D32" if change > 0 else "#C00000" if change < 0 else "#404040"
    line(
        top + 2,
        tile.change,
        _tile_format(
            sheet, f"change{colour}", tile.change_format, font_size=9, bold=True, font_color=colour
        ),
    )
    line(
        top + 3,
        tile.detail,
        _tile_format(sheet, "detail", tile.detail_format, font_size=9, font_color="#404040"),
    )
    excluded = to_plain(tile.excluded)
    line(
        top + 4,
        excluded if excluded is not None else "",
        _tile_format(
            sheet,
            "excluded",
            f'{LOCALE}#,##0" baris dikecualikan (ada kesalahan)";;"tanpa baris dikecualikan"',
            font_size=9,
            italic=True,
            font_color="#7F7F7F",
        ),
    )


def _status_counts(run: RunResult) -> list[tuple[str, int]]:
    reg = run.metrics.regency
    return [
        ("Tepat waktu", reg.units_on_time),
        ("Terlambat", reg.units_late),
        ("Berkas ditolak", reg.units_rejected),
        ("Belum mengirim", reg.units_missing),
    ]


def _px_rows(pixels: int) -> int:
    return math.ceil(pixels / 20) + 1


def write_summary_sheet(
    workbook: Workbook,
    sheet: Sheet,
    run: RunResult,
    unit_range: Range | None,
    group_range: Range | None,
    trend: TrendChart | None,
) -> None:
    ws = sheet.ws
    settings = run.registry.settings
    prev = _previous_month(run)
    width = TILE_WIDTH * TILES_PER_ROW
    ws.hide_gridlines(2)
    ws.set_column(0, width - 1, 13.5)
    ws.set_row(0, 30)
    sheet.merged(0, 0, 0, width - 1, "Rekapitulasi Rencana Aksi Reformasi Birokrasi", "title")
    sheet.merged(
        1, 0, 1, width - 1, f"{settings.nama_pemda} · Periode {run.period.label}", "subtitle"
    )
    compared = f"dibandingkan dengan {prev.label}" if prev else "belum ada data bulan sebelumnya"
    sheet.merged(
        2,
        0,
        2,
        width - 1,
        f"{settings.nama_instansi} · batas pengiriman {tanggal(deadline(run))} · {compared}",
        "note",
    )
    top = 4
    for i, tile in enumerate(_tiles(run)):
        row = top + (TILE_ROWS + 1) * (i // TILES_PER_ROW)
        col = TILE_WIDTH * (i % TILES_PER_ROW)
        ws.set_row(row + 1, 32)
        _write_tile(sheet, row, col, tile)
    block_top = top + 2 * (TILE_ROWS + 1) + 1
    left_col, right_col = 0, TILE_WIDTH * 2

    # First page: reporting status (table and doughnut) beside the monthly trend.
    row = block_top
    sheet.text(row, left_col, "Status pengiriman", "section")
    sheet.text(row, left_col + 1, "", "section")
    counts = _status_counts(run)
    for i, (label, count) in enumerate(counts, start=row + 1):
        sheet.text(i, left_col, label, "text")
        sheet.value(i, left_col + 1, count, "int")
    doughnut = workbook.add_chart({"type": "doughnut"})
    doughnut.add_series(
        {
            "name": "Status pengiriman",
            "categories": [sheet.name, row + 1, left_col, row + len(counts), left_col],
            "values": [sheet.name, row + 1, left_col + 1, row + len(counts), left_col + 1],
            "points": [
                {"fill": {"color": "#70AD47"}},
                {"fill": {"color": "#FFC000"}},
                {"fill": {"color": "#C00000"}},
                {"fill": {"color": "#A5A5A5"}},
            ],
            "data_labels": {"value": True, "font": {"size": 9, "bold": True}},
        }
    )
    doughnut.set_title({"name": "Status Pengiriman Unit", "name_font": {"size": 11}})
    doughnut.set_legend({"position": "right", "font": {"size": 9}})
    doughnut.set_hole_size(50)
    doughnut.set_size({"width": 400, "height": 250})
    ws.insert_chart(row, left_col + 2, doughnut, {"x_offset": 10})
    if trend:
        chart = workbook.add_chart({"type": "line"})
        colours = ("#1F4E78", "#FFC000", "#70AD47", "#7F7F7F")
        for metric, colour in zip(TREND_CHART_METRICS, colours, strict=True):
            chart.add_series(
                {
                    "name": METRIC_LABELS[metric],
                    "categories": trend.categories.ref(),
                    "values": trend.series[metric].ref(),
                    "line": {"color": colour, "width": 2.25},
                    "marker": {
                        "type": "circle",
                        "size": 6,
                        "fill": {"color": colour},
                        "border": {"color": colour},
                    },
                }
            )
        chart.set_title({"name": "Tren Bulanan Kabupaten", "name_font": {"size": 11}})
        chart.set_y_axis(
            {
                "min": 0,
                "max": 1,
                "num_format": f"{LOCALE}0%",
                "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
            }
        )
        chart.set_legend({"position": "bottom", "font": {"size": 9}})
        chart.set_size({"width": 560, "height": 250})
        ws.insert_chart(row, right_col, chart, {"x_offset": 4})
    else:
        sheet.text(row, right_col, "Tren bulanan: belum ada riwayat rekap.", "note")

    # Second page: completion by unit (as tall as the units need) beside capaian by group.
    row = block_top + _px_rows(250) + 1
    ws.set_h_pagebreaks([row])
    n_units = (unit_range.last_row - unit_range.first_row + 1) if unit_range else 0
    unit_height = max(320, 20 * n_units + 90)
    if unit_range:
        chart = _bar_chart(
            workbook,
            unit_range,
            name=METRIC_LABELS["completion_rate"],
            title="Tingkat Penyelesaian per Unit",
            color="#5B9BD5",
            num_format=f"{LOCALE}0%",
            label_format=f"{LOCALE}0%",
            x_max=1,
        )
        chart.set_size({"width": 560, "height": unit_height})
        ws.insert_chart(row, left_col, chart, {"x_offset": 4, "y_offset": 4})
    else:
        sheet.text(row, left_col, "Belum ada unit yang laporannya diterima.", "note")
    if group_range:
        chart = _bar_chart(
            workbook,
            group_range,
            name=METRIC_LABELS["capaian_mean"],
            title="Rata-rata Capaian (%) per Sasaran dan Tema",
            color="#70AD47",
            num_format=f"{LOCALE}0",
            label_format=f"{LOCALE}0.0",
        )
        chart.set_size({"width": 580, "height": 320})
        ws.insert_chart(row, right_col, chart, {"x_offset": 4, "y_offset": 4})

    last_row = row + max(_px_rows(unit_height), _px_rows(320))
    ws.print_area(0, 0, last_row, width - 1)
    print_setup(sheet, title=f"Ringkasan · {run.period.label}")


def _bar_chart(
    workbook: Workbook,
    values: Range,
    *,
    name: str,
    title: str,
    color: str,
    num_format: str,
    label_format: str,
    x_max: float | None = None,
) -> Any:
    """A horizontal bar chart of ``values`` labelled by the names in column B of the same rows,
    first row on top, one colour, values printed on the bars, no legend."""
    categories = Range(
        sheet=values.sheet,
        first_row=values.first_row,
        last_row=values.last_row,
        first_col=1,
        last_col=1,
    )
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": name,
            "categories": categories.ref(),
            "values": values.ref(),
            "fill": {"color": color},
            "gap": 40,
            "data_labels": {"value": True, "num_format": label_format, "font": {"size": 8}},
        }
    )
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_y_axis({"reverse": True, "num_font": {"size": 8}})
    x_axis = {
        "min": 0,
        "num_format": num_format,
        "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
    }
    if x_max is not None:
        x_axis["max"] = x_max
    chart.set_x_axis(x_axis)
    chart.set_legend({"none": True})
    return chart
