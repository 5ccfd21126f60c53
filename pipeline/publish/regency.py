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
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline import schema
from pipeline.fsutil import atomic_path
from pipeline.locale_id import number, tanggal
from pipeline.metrics import (
    REGENCY_CODE,
    STATUS_BELUM,
    STATUS_SELESAI,
    STATUS_SESUAI,
    STATUS_TERLAMBAT,
    STATUSES,
)
from pipeline.model import STATUS_LABEL, RunResult
from pipeline.plain import flag, shown, to_plain
from pipeline.problems import SEVERITY_LABEL, Problem, load_catalogue, sort_problems
from pipeline.publish.styles import (
    EXCLUDED_OF,
    LOCALE,
    METRIC_LABELS,
    NAVY,
    UNIT_METRICS,
    Cell,
    Column,
    Formats,
    Sheet,
    iter_records,
    metric_style,
    open_workbook,
    print_setup,
    problem_note,
    problem_tone,
    write_table,
)
from pipeline.registry import Period

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
INFO_LABELS = {
    "versions": "Versi perangkat lunak",
    "suite_versions": "Versi aturan pemeriksaan",
    "gx_runs": "Jumlah pemeriksaan Great Expectations",
    "workers": "Jumlah proses pembaca berkas",
    "inputs": "Folder masukan",
    "ignored_files": "Berkas diabaikan (kunci/tersembunyi)",
}


def write_regency_workbook(path: Path, run: RunResult) -> None:
    """Write the regency workbook of ``run`` to ``path`` (atomically: temporary file, rename)."""
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
        _status_sheet(sheets[SHEET_STATUS], run)
        unit_chart = _units_sheet(sheets[SHEET_UNITS], run)
        group_chart = _groups_sheet(sheets[SHEET_GROUPS], run)
        for kind in schema.KINDS:
            _plans_sheet(sheets[KIND_LABEL[kind]], run, kind)
        _problems_sheet(sheets[SHEET_PROBLEMS], run)
        trend_chart = _trend_sheet(sheets[SHEET_TREND], run)
        _info_sheet(sheets[SHEET_INFO], run)
        _legend_sheet(sheets[SHEET_LEGEND], run)
        _summary_sheet(workbook, sheets[SHEET_SUMMARY], run, unit_chart, group_chart, trend_chart)
        sheets[SHEET_SUMMARY].ws.activate()
        workbook.close()


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Range:
    """Cells a chart reads: ``rows`` x one column, or one row x ``cols``, 0-based, inclusive."""

    sheet: str
    first_row: int
    last_row: int
    first_col: int
    last_col: int

    def ref(self) -> list:
        return [self.sheet, self.first_row, self.first_col, self.last_row, self.last_col]


def _title_block(sheet: Sheet, run: RunResult, title: str, note: str = "") -> None:
    """Sheet title, pemda and period, and an optional note, in rows 1-3."""
    settings = run.registry.settings
    sheet.ws.set_row(0, 24)
    sheet.text(0, 0, title, "title")
    sheet.text(1, 0, f"{settings.nama_pemda} · Periode {run.period.label}", "subtitle")
    if note:
        sheet.text(2, 0, note, "note")


def _finish(sheet: Sheet, run: RunResult, title: str, *, header_row: int, freeze_cols=0):
    sheet.ws.freeze_panes(header_row + 1, freeze_cols)
    print_setup(sheet, title=f"{title} · {run.period.label}", header_row=header_row)


def _units_by_code(run: RunResult) -> dict[str, dict]:
    return {row["kode"]: row for row in run.metrics.units.to_dict("records")}


def _files_by_unit(run: RunResult) -> dict[str, list]:
    out: dict[str, list] = {}
    for s in sorted(run.submissions, key=lambda s: s.name):
        if s.unit:
            out.setdefault(s.unit, []).append(s)
    return out


def _deadline(run: RunResult):
    return run.period.deadline(run.registry.settings.batas_hari)


def _rag(unit: dict) -> str:
    """Red/amber/green key of a unit row of ``Metrics.units``."""
    if not flag(unit.get("submitted")):
        return "none"
    rate = to_plain(unit.get("completion_rate"))
    if rate is None:
        return "unknown"
    if rate >= STATUS_GOOD:
        return "good"
    return "fair" if rate >= STATUS_FAIR else "poor"


# --------------------------------------------------------------------------------------------
# Status Pengiriman
# --------------------------------------------------------------------------------------------


def _status_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Status Pengiriman Laporan"
    _title_block(
        sheet,
        run,
        title,
        f"Semua unit kerja yang diharapkan mengirim. Batas pengiriman: {tanggal(_deadline(run))}.",
    )
    units = _units_by_code(run)
    files = _files_by_unit(run)
    columns = [
        Column(header="Kode Unit", style="bold"),
        Column(header="Nama Unit", max_width=40),
        Column(header="Jenis"),
        Column(header="Laporan Diterima"),
        Column(header="Tepat Waktu"),
        Column(header="Berkas Direkap", max_width=40),
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
                u.get("file"),
                u.get("received"),
                u.get("rows") if submitted else None,
                u.get("errors"),
                u.get("warnings"),
                "\n".join(s.name for s in mine if s.status == "superseded") or None,
                "\n".join(s.name for s in mine if s.status == "rejected") or None,
            )
        )
    write_table(sheet, top=TABLE_TOP, columns=columns, rows=rows)
    _finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=2)


# --------------------------------------------------------------------------------------------
# Capaian per Unit / per Tema
# --------------------------------------------------------------------------------------------


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


def _metric_values(record: dict) -> list:
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


def _units_sheet(sheet: Sheet, run: RunResult) -> Range | None:
    """Returns the cells of the completion-rate chart (units that reported, by rank)."""
    title = "Capaian per Unit Kerja"
    _title_block(
        sheet,
        run,
        title,
        f"Status: {RAG_LABELS['good']} bila tingkat penyelesaian ≥ {STATUS_GOOD:.0%}, "
        f"{RAG_LABELS['fair']} bila ≥ {STATUS_FAIR:.0%}, selain itu {RAG_LABELS['poor']}. "
        "Klik panah judul kolom untuk mengurutkan atau menyaring.",
    )
    records = run.metrics.units.to_dict("records")
    order = {kode: i for i, kode in enumerate(run.registry.codes)}

    def sort_key(u: dict) -> tuple:
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
                RAG_LABELS[_rag(u)],
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
    _finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=3)
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


def _groups_sheet(sheet: Sheet, run: RunResult) -> Range | None:
    """Returns the cells of the capaian-by-group chart."""
    title = "Capaian per Sasaran RB dan Tema"
    _title_block(
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
    _finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=2)
    if not records:
        return None
    col = [c.header for c in columns].index(METRIC_LABELS["capaian_mean"])
    return Range(
        sheet=sheet.name, first_row=TABLE_TOP + 1, last_row=last, first_col=col, last_col=col
    )


# --------------------------------------------------------------------------------------------
# RB Umum / RB Tematik (contract sheets)
# --------------------------------------------------------------------------------------------


def consolidated_headers(kind: str) -> tuple[str, ...]:
    """Header row of the consolidated sheet of ``kind`` (architecture.md contract)."""
    return (
        *schema.CONSOLIDATED_PREFIX_HEADERS,
        *schema.SHEETS[kind].headers,
        *schema.CONSOLIDATED_SUFFIX_HEADERS,
        "Capaian (%)",
        "Capaian Tahunan (%)",
        "Status",
        "Jumlah Kesalahan",
    )


def _field_column(field: schema.Field) -> Column:
    if field.is_number:
        style = "rupiah" if field.name in schema.BUDGET_FIELDS else "dec"
        return Column(header=field.header, style=style)
    if field.type in ("text",):
        return Column(
            header=field.header,
            style="wrap",
            max_width=max(field.width, 14),
            links=field.name == "data_dukung",
        )
    return Column(header=field.header, max_width=max(field.width, 10))


def _problems_by_row(problems: list[Problem]) -> dict[tuple, list[Problem]]:
    out: dict[tuple, list[Problem]] = {}
    for p in problems:
        if p.row is not None:
            out.setdefault((p.unit, p.file, p.sheet, p.row), []).append(p)
    return out


def _sorted_plans(plans: pd.DataFrame, run: RunResult, kind: str) -> pd.DataFrame:
    """Plans of one kind in registry order, then file and source row."""
    order = {kode: i for i, kode in enumerate(run.registry.codes)}
    mine = plans[plans["_kind"] == kind]
    keys = pd.DataFrame(
        {
            "unit": [order.get(u, len(order)) for u in mine["_unit"]],
            "code": mine["_unit"].astype(str),
            "file": mine["_file"].astype(str),
            "row": mine["_row"].astype(int),
        },
        index=mine.index,
    )
    return mine.loc[keys.sort_values(["unit", "code", "file", "row"], kind="stable").index]


def _plans_sheet(sheet: Sheet, run: RunResult, kind: str) -> None:
    fields = schema.SHEETS[kind].fields
    columns = [
        Column(header=schema.CONSOLIDATED_PREFIX_HEADERS[0], style="bold"),
        Column(header=schema.CONSOLIDATED_PREFIX_HEADERS[1], max_width=28),
        *(_field_column(f) for f in fields),
        Column(header=schema.CONSOLIDATED_SUFFIX_HEADERS[0], max_width=32),
        Column(header=schema.CONSOLIDATED_SUFFIX_HEADERS[1], style="int"),
        Column(header="Capaian (%)", style="capaian"),
        Column(header="Capaian Tahunan (%)", style="capaian"),
        Column(header="Status"),
        Column(header="Jumlah Kesalahan", style="int"),
    ]
    marks = _problems_by_row(run.problems)
    rows = []
    for plan in iter_records(_sorted_plans(run.metrics.plans, run, kind)):
        key = (plan["_unit"], plan["_file"], plan["_sheet"], int(plan["_row"]))
        by_field: dict[str, list[Problem]] = {}
        for p in marks.get(key, []):
            name = p.field or next(
                (f.name for f in fields if p.column and plan.get(f"_col_{f.name}") == p.column),
                None,
            )
            if name:
                by_field.setdefault(name, []).append(p)
        values = []
        for f in fields:
            found = by_field.get(f.name)
            value = plan.get(f.name)
            if found:
                values.append(
                    Cell(value=value, tone=problem_tone(found), comment=problem_note(found))
                )
            else:
                values.append(value)
        status = to_plain(plan.get("status"))
        rows.append(
            (
                plan["_unit"],
                run.registry.name_of(plan["_unit"]),
                *values,
                plan["_file"],
                plan["_row"],
                plan.get("capaian_pct"),
                plan.get("capaian_tahunan_pct"),
                status or Cell(value=PLAN_STATUS_NOT_COUNTED, style="text", tone="muted"),
                plan.get("_errors"),
            )
        )
    write_table(sheet, top=0, columns=columns, rows=rows)
    _finish(sheet, run, KIND_LABEL[kind], header_row=0, freeze_cols=3)


# --------------------------------------------------------------------------------------------
# Masalah Validasi
# --------------------------------------------------------------------------------------------


def problem_rows(problems: list[Problem]) -> list[tuple]:
    """One row per problem: code, severity, unit, file, sheet, cell, column header, value,
    message, hint (the ``Masalah Validasi`` columns)."""
    rows = []
    for p in sort_problems(problems):
        field = schema.FIELD_BY_NAME.get(p.field or "")
        cell = f"{p.column}{p.row}" if p.column and p.row else None
        tone = "error" if p.is_error else "warning"
        rows.append(
            (
                p.code,
                Cell(value=SEVERITY_LABEL.get(p.severity, p.severity), tone=tone),
                p.unit,
                p.file,
                p.sheet,
                cell,
                field.header if field else None,
                p.value,
                p.message,
                p.hint,
            )
        )
    return rows


PROBLEM_COLUMNS = (
    Column(header="Kode", style="bold"),
    Column(header="Tingkat"),
    Column(header="Kode Unit"),
    Column(header="Berkas", style="wrap", max_width=30),
    Column(header="Lembar", max_width=20),
    Column(header="Sel"),
    Column(header="Kolom", max_width=22),
    Column(header="Nilai", style="wrap", max_width=24),
    Column(header="Pesan", style="wrap", max_width=50),
    Column(header="Saran Perbaikan", style="wrap", max_width=50),
)


def _problems_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Masalah Validasi"
    reg = run.metrics.regency
    _title_block(
        sheet,
        run,
        title,
        f"{number(reg.errors)} kesalahan dan {number(reg.warnings)} peringatan. Sel merujuk ke berkas "
        "asli unit kerja. Kesalahan mengecualikan baris dari metrik yang terdampak.",
    )
    write_table(sheet, top=TABLE_TOP, columns=PROBLEM_COLUMNS, rows=problem_rows(run.problems))
    _finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=2)


# --------------------------------------------------------------------------------------------
# Tren
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TrendChart:
    categories: Range
    series: dict[str, Range]  # metric -> the KABUPATEN row of that metric


def _trend_periods(run: RunResult) -> list[Period]:
    if run.trend is None or run.trend.empty:
        return []
    periods = {Period.parse(str(p)) for p in run.trend["period"]}
    return sorted(p for p in periods if p <= run.period)


def _trend_sheet(sheet: Sheet, run: RunResult) -> TrendChart | None:
    title = "Tren Bulanan"
    periods = _trend_periods(run)
    _title_block(
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
    values: dict[tuple[str, str], dict] = {}
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
    rows, regency_rows = [], {}
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
    _finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=3)
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


# --------------------------------------------------------------------------------------------
# Info Proses
# --------------------------------------------------------------------------------------------


def _info_pairs(run: RunResult) -> list[tuple[str, object]]:
    settings = run.registry.settings
    reg = run.metrics.regency
    pairs: list[tuple[str, object]] = [
        ("Periode laporan", run.period.label),
        ("Pemerintah daerah", settings.nama_pemda),
        ("Disusun oleh", settings.nama_instansi),
        ("Batas pengiriman", tanggal(_deadline(run))),
        ("Proses dimulai", run.started),
        ("Proses selesai", run.finished or "–"),
        ("Berkas masuk", reg.files),
        (f"Berkas {STATUS_LABEL['accepted'].lower()}", reg.files_accepted),
        (f"Berkas {STATUS_LABEL['rejected'].lower()}", reg.files_rejected),
        (f"Berkas {STATUS_LABEL['superseded'].lower()}", reg.files_superseded),
        ("Baris dibaca", reg.rows_read),
        ("Baris direkap", reg.rows_consolidated),
        ("Baris dilewati", reg.rows_skipped),
    ]
    for key, value in run.info.stable_items():
        label = INFO_LABELS.get(key, key)
        if isinstance(value, dict):
            pairs += [(f"{label}: {sub}", shown(value[sub])) for sub in sorted(value)]
        else:
            pairs.append((label, shown(value)))
    return pairs


def _info_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Info Proses"
    _title_block(sheet, run, title)
    row = TABLE_TOP
    for label, value in _info_pairs(run):
        sheet.text(row, 0, label, "label")
        sheet.value(row, 1, value, "datetime" if hasattr(value, "hour") else "text")
        row += 1
    row += 1
    sheet.text(row, 0, "Berkas masukan", "section")
    files_top = row + 1
    columns = [
        Column(header="Berkas", max_width=40),
        Column(header="Kode Unit"),
        Column(header="Status"),
        Column(header="Format"),
        Column(header="Aplikasi Penyimpan", max_width=24),
        Column(header="Ukuran (byte)", style="int"),
        Column(header="Diubah", style="datetime"),
        Column(header="SHA-256", width=66),
        Column(header="Baris Dibaca", style="int"),
        Column(header="Baris Direkap", style="int"),
        Column(header="Baris Dilewati", style="int"),
        Column(header="Kode Masalah", style="wrap", max_width=30),
    ]
    codes: dict[str, set[str]] = {}
    for p in run.problems:
        if p.file:
            codes.setdefault(p.file, set()).add(p.code)
    rows = [
        (
            s.name,
            s.unit,
            STATUS_LABEL.get(s.status, s.status),
            (s.format or "").upper() or "–",
            s.producer,
            s.size,
            s.modified,
            s.sha256,
            s.rows_read,
            s.rows_consolidated,
            s.rows_skipped,
            ", ".join(sorted(codes.get(s.name, ()))) or None,
        )
        for s in sorted(run.submissions, key=lambda s: s.name)
    ]
    last = write_table(sheet, top=files_top, columns=columns, rows=rows)
    # The key/value block shares column A/B with the table: keep them wide enough for both.
    label_width = max(len(label) for label, _ in _info_pairs(run)) + 2
    sheet.ws.set_column(0, 0, max(label_width, 30))
    sheet.ws.set_column(1, 1, 26)
    row = last + 2
    sheet.text(row, 0, "Baris yang dilewati (ringkasan)", "section")
    write_table(
        sheet,
        top=row + 1,
        columns=[
            Column(header="Alasan", width=max(label_width, 30)),
            Column(header="Jumlah Baris", style="int", width=26),
            Column(header="Jumlah Berkas", style="int", width=12),
        ],
        rows=[tuple(r) for r in run.metrics.regency.skipped_reasons],
    )
    sheet.ws.set_column(0, 0, max(label_width, 30))
    sheet.ws.set_column(1, 1, 26)
    print_setup(sheet, title=f"{title} · {run.period.label}")


# --------------------------------------------------------------------------------------------
# Legenda
# --------------------------------------------------------------------------------------------


def legend_rows(problems: list[Problem], *, all_codes: bool) -> list[tuple]:
    """Catalogue rows (code, severity, title, description, fix, count this month) for the codes
    used by ``problems`` — or every catalogue code when ``all_codes``. A code missing from the
    catalogue is described by its first problem's message and hint."""
    catalogue = load_catalogue()
    used = Counter(p.code for p in problems)
    first = {}
    for p in sort_problems(problems):
        first.setdefault(p.code, p)
    codes = sorted(set(catalogue) | set(used)) if all_codes else sorted(used)
    rows = []
    for code in codes:
        rule = catalogue.get(code)
        severity = rule.severity if rule else first[code].severity
        tone = "error" if severity == "error" else "warning"
        rows.append(
            (
                code,
                Cell(value=SEVERITY_LABEL.get(severity, severity), tone=tone),
                rule.title if rule else first[code].message,
                rule.description if rule else None,
                rule.hint if rule else first[code].hint,
                used.get(code, 0),
            )
        )
    return rows


LEGEND_COLUMNS = (
    Column(header="Kode", style="bold"),
    Column(header="Tingkat"),
    Column(header="Judul", style="wrap", max_width=36),
    Column(header="Penjelasan", style="wrap", max_width=55),
    Column(header="Cara Memperbaiki", style="wrap", max_width=55),
    Column(header="Jumlah Bulan Ini", style="int"),
)

TERMS = (
    ("Capaian (%)", "Realisasi triwulan berjalan dibagi target triwulan berjalan, dikali 100."),
    ("Capaian Tahunan (%)", "Realisasi terakhir dibagi target TW IV (target tahunan), dikali 100."),
    (STATUS_SELESAI, "Realisasi terakhir sudah mencapai target tahunan."),
    (STATUS_SESUAI, "Realisasi triwulan yang sudah lewat mencapai targetnya."),
    (STATUS_TERLAMBAT, "Realisasi triwulan yang sudah lewat di bawah targetnya."),
    (STATUS_BELUM, "Realisasi triwulan yang sudah lewat belum diisi."),
    (PLAN_STATUS_NOT_COUNTED, "Baris memiliki kesalahan sehingga tidak ikut dihitung."),
    ("Tingkat Pelaporan", "Unit yang laporannya diterima dibagi unit yang diharapkan."),
    ("Ketepatan Waktu", "Unit yang laporannya diterima sebelum batas dibagi unit yang diharapkan."),
    ("Tingkat Penyelesaian", "Bagian rencana aksi berstatus Selesai atau Sesuai Target."),
    (
        "Kelengkapan Data Dukung",
        "Bagian rencana aksi yang sudah ada realisasinya dan mencantumkan data dukung.",
    ),
    ("Penyerapan Anggaran", "Jumlah realisasi anggaran dibagi jumlah pagu anggaran."),
    ("Kualitas Data", "Bagian baris yang tidak memiliki kesalahan."),
    (
        "Dikecualikan",
        "Jumlah baris yang tidak dihitung dalam suatu metrik karena kesalahan yang memengaruhinya.",
    ),
    ("Sel merah / kuning", "Sel dengan kesalahan / peringatan; arahkan kursor untuk pesannya."),
    (
        "Angka",
        "Disimpan sebagai angka; pemisah ribuan dan desimal mengikuti pengaturan bahasa komputer "
        "(Indonesia: 1.250.000 dan 78,5).",
    ),
)


def _legend_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Legenda"
    _title_block(sheet, run, title, "Kode masalah pemeriksaan dan arti istilah di buku kerja ini.")
    last = write_table(
        sheet,
        top=TABLE_TOP,
        columns=LEGEND_COLUMNS,
        rows=legend_rows(run.problems, all_codes=True),
    )
    top = last + 2
    sheet.text(top, 0, "Istilah", "section")
    for i, (term, meaning) in enumerate(TERMS, start=top + 1):
        sheet.text(i, 0, term, "bold")
        sheet.text(i, 2, meaning, "text")
    print_setup(sheet, title=f"{title} · {run.period.label}", header_row=TABLE_TOP)


# --------------------------------------------------------------------------------------------
# Ringkasan: KPI tiles and charts
# --------------------------------------------------------------------------------------------

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
            f"{tanggal(_deadline(run))}",
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


def _tile_format(sheet: Sheet, name: str, num_format: str = "", **props):
    base = {"bg_color": TILE_BG, "align": "left", "valign": "vcenter"}
    if num_format:
        base["num_format"] = num_format
    key = f"tile:{name}:{num_format}"
    return sheet.formats.custom(key, {**base, **props})


def _write_tile(sheet: Sheet, top: int, left: int, tile: Tile) -> None:
    ws = sheet.ws
    right = left + TILE_WIDTH - 1

    def line(row: int, value: object, fmt) -> None:
        ws.merge_range(row, left, row, right, None, fmt)
        value = to_plain(value)
        if value is None:
            ws.write_blank(row, left, None, fmt)
        elif isinstance(value, str):
            ws.write_string(row, left, value, fmt)
        else:
            ws.write_number(row, left, float(value), fmt)

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


def _summary_sheet(workbook, sheet, run, unit_range, group_range, trend) -> None:
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
        f"{settings.nama_instansi} · batas pengiriman {tanggal(_deadline(run))} · {compared}",
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
    workbook,
    values: Range,
    *,
    name: str,
    title: str,
    color: str,
    num_format: str,
    label_format: str,
    x_max: float | None = None,
):
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
