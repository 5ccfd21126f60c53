"""``Capaian per Unit`` and ``Capaian per Tema``: the metrics by unit (ranked) and by sasaran/tema."""

from __future__ import annotations

from typing import Any

from pipeline.metrics import (
    STATUSES,
)
from pipeline.model import RunResult
from pipeline.plain import flag, to_plain
from pipeline.publish.regency.common import (
    KIND_LABEL,
    RAG_LABELS,
    STATUS_FAIR,
    STATUS_GOOD,
    TABLE_TOP,
    Range,
    finish,
    rag,
    title_block,
)
from pipeline.publish.styles import (
    METRIC_LABELS,
    Column,
    Sheet,
    write_table,
)

# Metric columns of "Capaian per Unit" / "Capaian per Tema": each metric, then its excluded-row
# count (metrics.py column names), so the count sits beside the figure it qualifies.
TABLE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("completion_rate", METRIC_LABELS["completion_rate"], "pct"),
    ("completion_excluded", "Dikecualikan (penyelesaian)", "int"),
    ("capaian_mean", METRIC_LABELS["capaian_mean"], "capaian"),
    ("capaian_median", METRIC_LABELS["capaian_median"], "capaian"),
    ("capaian_excluded", "Dikecualikan (capaian)", "int"),
    ("evidence_completeness", METRIC_LABELS["evidence_completeness"], "pct"),
    ("evidence_excluded", "Dikecualikan (data dukung)", "int"),
    ("budget_absorption", METRIC_LABELS["budget_absorption"], "pct"),
    ("budget_excluded", "Dikecualikan (anggaran)", "int"),
    ("data_quality", METRIC_LABELS["data_quality"], "pct"),
)


def _metric_columns() -> list[Column]:
    return [Column(header=header, style=style) for _, header, style in TABLE_METRICS]


def _metric_values(record: dict[str, Any]) -> list[object]:
    return [record.get(key) for key, _, _ in TABLE_METRICS]


def _data_bars(sheet: Sheet, first_row: int, last_row: int, columns: list[Column]) -> None:
    """Data bars on the completion-rate (0..100%) and capaian-mean columns."""
    headers = [c.header for c in columns]
    if last_row < first_row:
        return
    rate_col = headers.index(METRIC_LABELS["completion_rate"])
    sheet.ws.conditional_format(
        first_row,
        rate_col,
        last_row,
        rate_col,
        {
            "type": "data_bar",
            "bar_color": "#5B9BD5",
            "bar_solid": True,
            "min_type": "num",
            "min_value": 0,
            "max_type": "num",
            "max_value": 1,
        },
    )
    capaian_col = headers.index(METRIC_LABELS["capaian_mean"])
    sheet.ws.conditional_format(
        first_row,
        capaian_col,
        last_row,
        capaian_col,
        {
            "type": "data_bar",
            "bar_color": "#70AD47",
            "bar_solid": True,
            "min_type": "num",
            "min_value": 0,
            "max_type": "max",
        },
    )


def write_units_sheet(sheet: Sheet, run: RunResult) -> Range | None:
    """Returns the cells of the completion-rate chart (units that reported, by rank)."""
    title = "Capaian per Unit Kerja"
    title_block(
        sheet,
        run,
        title,
        f"Status: {RAG_LABELS['good']} bila tingkat penyelesaian ≥ {STATUS_GOOD:.0%}, "
        f"{RAG_LABELS['fair']} bila ≥ {STATUS_FAIR:.0%}, selain itu {RAG_LABELS['poor']}. "
        "Klik panah judul kolom untuk mengurutkan atau menyaring.",
    )
    records = run.metrics.units.to_dict("records")
    order = {kode: i for i, kode in enumerate(run.registry.codes)}

    def sort_key(u: dict[str, Any]) -> tuple[object, ...]:
        rank = to_plain(u.get("rank"))
        return (rank is None, rank or 0, order.get(u["kode"], len(order)), u["kode"])

    records.sort(key=sort_key)
    metric_columns = _metric_columns()
    columns = [
        Column(header="Peringkat", style="int"),
        Column(header="Kode Unit", style="bold"),
        Column(header="Nama Unit", max_width=38),
        Column(header="Jenis"),
        Column(header="Status"),
        Column(header="Rencana Aksi", style="int"),
        *(Column(header=status, style="int") for status in STATUSES),
        *metric_columns,
    ]
    rows = []
    for u in records:
        submitted = bool(flag(u.get("submitted")))
        counts = [u.get(k) if submitted else None for k in ("rows", "n_selesai", "n_sesuai")]
        counts += [u.get(k) if submitted else None for k in ("n_terlambat", "n_belum")]
        rows.append(
            (
                u.get("rank"),
                u["kode"],
                u.get("nama"),
                u.get("jenis"),
                RAG_LABELS[rag(u)],
                *counts,
                *(_metric_values(u) if submitted else [None] * len(metric_columns)),
            )
        )
    last = write_table(sheet, top=TABLE_TOP, columns=columns, rows=rows)
    _data_bars(sheet, TABLE_TOP + 1, last, columns)
    status_col = 4
    for key, tone in (("good", "good"), ("fair", "warning"), ("poor", "error"), ("none", "muted")):
        sheet.ws.conditional_format(
            TABLE_TOP + 1,
            status_col,
            max(last, TABLE_TOP + 1),
            status_col,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{RAG_LABELS[key]}"',
                "format": sheet.fmt("text", tone),
            },
        )
    finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=3)
    ranked = run.metrics.regency.units_ranked
    if not ranked:
        return None
    rate_col = [c.header for c in columns].index(METRIC_LABELS["completion_rate"])
    return Range(
        sheet=sheet.name,
        first_row=TABLE_TOP + 1,
        last_row=TABLE_TOP + ranked,
        first_col=rate_col,
        last_col=rate_col,
    )


def write_groups_sheet(sheet: Sheet, run: RunResult) -> Range | None:
    """Returns the cells of the capaian-by-group chart."""
    title = "Capaian per Sasaran RB dan Tema"
    title_block(
        sheet,
        run,
        title,
        "RB Umum dikelompokkan menurut Sasaran RB, RB Tematik menurut Tema.",
    )
    metric_columns = _metric_columns()
    columns = [
        Column(header="Jenis"),
        Column(header="Sasaran / Tema", style="bold", max_width=44),
        Column(header="Rencana Aksi", style="int"),
        Column(header="Unit", style="int"),
        *metric_columns,
    ]
    records = run.metrics.groups.to_dict("records")
    rows = [
        (
            KIND_LABEL.get(g.get("kind"), g.get("kind")),
            g.get("group"),
            g.get("plans"),
            g.get("units"),
            *_metric_values(g),
        )
        for g in records
    ]
    last = write_table(sheet, top=TABLE_TOP, columns=columns, rows=rows)
    _data_bars(sheet, TABLE_TOP + 1, last, columns)
    finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=2)
    if not records:
        return None
    col = [c.header for c in columns].index(METRIC_LABELS["capaian_mean"])
    return Range(
        sheet=sheet.name, first_row=TABLE_TOP + 1, last_row=last, first_col=col, last_col=col
    )
