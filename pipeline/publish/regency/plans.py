"""``RB Umum`` and ``RB Tematik``: the consolidated action plans (the contract sheets, streamed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from pipeline import schema
from pipeline.model import RunResult
from pipeline.plain import to_plain
from pipeline.problems import Problem
from pipeline.publish.regency.common import (
    KIND_LABEL,
    PLAN_STATUS_NOT_COUNTED,
    finish,
)
from pipeline.publish.styles import (
    Cell,
    Column,
    RenderedRows,
    Sheet,
    TableBlock,
    iter_records,
    problem_note,
    problem_tone,
    write_streamed_table,
    write_table,
)

if TYPE_CHECKING:
    from pipeline.incremental import PlanBlocks


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


def _problems_by_row(problems: list[Problem]) -> dict[tuple[object, ...], list[Problem]]:
    out: dict[tuple[object, ...], list[Problem]] = {}
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


def write_plans_sheet(
    sheet: Sheet, run: RunResult, kind: str, kept: PlanBlocks | None = None
) -> None:
    """The consolidated sheet of ``kind``. With ``kept`` (the run cache's renderings of each
    unit's rows, :class:`pipeline.incremental.PlanBlocks`), a unit whose rows, name and
    problems are unchanged since a run rendered them has its rendering written again instead
    of being rendered: the same bytes (:func:`write_streamed_table`)."""
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
    plans = _sorted_plans(run.metrics.plans, run, kind)
    if kept is None or not sheet.streaming:
        write_table(sheet, top=0, columns=columns, rows=_plan_rows(plans, run, kind, marks))
    else:
        blocks = [_unit_block(kept, kind, unit, part, run, marks) for unit, part in _by_unit(plans)]
        write_streamed_table(sheet, top=0, columns=columns, blocks=blocks)
    finish(sheet, run, KIND_LABEL[kind], header_row=0, freeze_cols=3)


def _by_unit(plans: pd.DataFrame) -> list[tuple[object, pd.DataFrame]]:
    """The runs of rows of one unit in ``plans`` (sorted: each unit's rows are together)."""
    units = plans["_unit"].tolist()
    out = []
    start = 0
    for i in range(1, len(units) + 1):
        if i == len(units) or units[i] != units[start]:
            out.append((units[start], plans.iloc[start:i]))
            start = i
    return out


def _unit_block(
    kept: PlanBlocks,
    kind: str,
    unit: object,
    part: pd.DataFrame,
    run: RunResult,
    marks: dict[tuple[object, ...], list[Problem]],
) -> TableBlock:
    """One unit's rows of the sheet: its kept rendering when there is one, else its rows; a
    fresh rendering is kept for the next run."""
    if type(unit) is not str:
        return TableBlock(rows=_plan_rows(part, run, kind, marks))
    key = kept.key(kind, unit)

    def rows_of() -> list[tuple[object, ...]]:
        return _plan_rows(part, run, kind, marks)

    def keep(rendered: RenderedRows, contents: list[float] | None) -> None:
        kept.put(key, rendered, contents)

    found = kept.get(key, rows=len(part))
    if found is not None:
        rendered, contents = found
        return TableBlock(rendered=rendered, contents=contents, rows_of=rows_of, keep=keep)
    return TableBlock(rows=rows_of(), keep=keep)


def _plan_rows(
    plans: pd.DataFrame,
    run: RunResult,
    kind: str,
    marks: dict[tuple[object, ...], list[Problem]],
) -> list[tuple[object, ...]]:
    """The sheet's rows of ``plans`` (sorted), a problem's cell marked with its tone and note."""
    fields = schema.SHEETS[kind].fields
    rows: list[tuple[object, ...]] = []
    for plan in iter_records(plans):
        key = (plan["_unit"], plan["_file"], plan["_sheet"], int(plan["_row"]))
        by_field: dict[str, list[Problem]] = {}
        for p in marks.get(key, []):
            name = p.field or next(
                (f.name for f in fields if p.column and plan.get(f"_col_{f.name}") == p.column),
                None,
            )
            if name:
                by_field.setdefault(name, []).append(p)
        values: list[object] = []
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
    return rows
