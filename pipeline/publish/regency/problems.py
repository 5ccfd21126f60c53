"""``Masalah Validasi``: every problem of the month."""

from __future__ import annotations

from pipeline import schema
from pipeline.locale_id import number
from pipeline.model import RunResult
from pipeline.problems import SEVERITY_LABEL, Problem, sort_problems
from pipeline.publish.regency.common import (
    TABLE_TOP,
    finish,
    title_block,
)
from pipeline.publish.styles import (
    Cell,
    Column,
    Sheet,
    write_table,
)


def problem_rows(problems: list[Problem]) -> list[tuple[object, ...]]:
    """One row per problem: code, severity, unit, file, sheet, cell, column header, value,
    message, hint (the ``Masalah Validasi`` columns)."""
    rows: list[tuple[object, ...]] = []
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


def write_problems_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Masalah Validasi"
    reg = run.metrics.regency
    title_block(
        sheet,
        run,
        title,
        f"{number(reg.errors)} kesalahan dan {number(reg.warnings)} peringatan. Sel merujuk ke berkas "
        "asli unit kerja. Kesalahan mengecualikan baris dari metrik yang terdampak.",
    )
    write_table(sheet, top=TABLE_TOP, columns=PROBLEM_COLUMNS, rows=problem_rows(run.problems))
    finish(sheet, run, title, header_row=TABLE_TOP, freeze_cols=2)
