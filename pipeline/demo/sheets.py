"""Free-form workbooks for the demo: the layouts units build themselves instead of the template.

A :class:`Grid` is a sheet as plain data (cells, formulas, merged ranges, hidden rows and
columns). :func:`action_grid` lays action plans out the messy ways real submissions do (a title
block, headers over two or three merged rows, a column-number row, drifted header spellings,
reordered, extra and missing columns, section, subtotal and blank rows, merged body cells, hidden
rows and columns) and reports where every plan and every field landed, so the demo can record
exact cell references. Two writers turn grids into xlsx bytes: xlsxwriter (formulas keep a cached
value) and openpyxl (formulas are stored without one, as a unit's script would leave them).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline import schema

# A rendered cell: (value, style). Styles: title, header, text, number, rupiah, percent, date.
Rendered = tuple[object, str]
EXTRA = "+"  # prefix of an extra (unknown) column in a layout's column order: "+Keterangan"

# Group headers above TW I..TW IV: two-row headers say it in one line, three-row headers split it.
GROUP_TEXT = {"target": "TARGET (KUMULATIF)", "realisasi": "REALISASI (KUMULATIF)"}
GROUP_TEXT_SPLIT = {"target": ("TARGET", "(KUMULATIF)"), "realisasi": ("REALISASI", "(KUMULATIF)")}


@dataclass
class Grid:
    """One sheet as data. Coordinates are 1-based Excel (row, column)."""

    name: str
    cells: dict[tuple[int, int], Rendered] = field(default_factory=dict)
    formulas: dict[tuple[int, int], tuple[str, object]] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    widths: dict[int, float] = field(default_factory=dict)

    def put(self, row: int, col: int, value: object, style: str = "text") -> None:
        if value is not None:
            self.cells[(row, col)] = (value, style)


@dataclass(frozen=True, kw_only=True)
class Layout:
    """How a unit laid out one action-plan sheet."""

    sheet: str
    title_lines: tuple[str, ...] = ()
    header_depth: int = 1  # 1, 2 or 3 header rows
    number_row: bool = False  # a row of column numbers 1, 2, 3, ... under the header
    headers: dict[str, str] = field(default_factory=dict)  # field -> printed header (drift)
    order: tuple[str, ...] | None = None  # fields and "+Extra" columns; default: schema order
    omit: tuple[str, ...] = ()  # fields the unit left out
    sections: bool = False  # a row holding the group name (sasaran / tema) before each group
    merge_group: bool = False  # the group cell merged over the rows of a run
    subtotal_each: str | None = None  # subtotal row after each section ("JUMLAH")
    total_end: str | None = None  # total row after the last plan ("TOTAL")
    blank_after: tuple[int, ...] = ()  # plan indexes followed by a blank row
    hidden_plans: tuple[int, ...] = ()  # plan indexes whose rows are hidden
    hidden_field: str | None = None  # field whose column is hidden


@dataclass
class PlacedSheet:
    """Where things landed: plan index -> Excel row, field -> column letter, skipped rows."""

    grid: Grid
    plan_rows: list[int]
    columns: dict[str, str]
    extra_columns: dict[str, str]  # extra header -> column letter
    header_row: int  # the first header row (where an unknown column's header cell is)
    skipped: list[tuple[int, str]]  # (row, "kosong" | "subtotal" | "bagian")


Renderer = Callable[[str, object, dict], Rendered | tuple[str, str, object]]


def plain(field_name: str, value: object, row: dict) -> Rendered:
    """Default rendering: numbers as numbers (budgets with a Rupiah format), text as text."""
    if field_name in schema.BUDGET_FIELDS and isinstance(value, int | float):
        return value, "rupiah"
    if isinstance(value, int | float):
        return value, "number"
    return value, "text"


def action_grid(
    kind: str,
    plans: list[dict],
    layout: Layout,
    render: Renderer = plain,
    *,
    extra_values: dict[str, list] | None = None,
) -> PlacedSheet:
    """Lay ``plans`` of sheet ``kind`` out as ``layout`` says; ``render`` turns each value into
    a cell (or returns ``("formula", text, cached)`` for a formula)."""
    sheet = schema.SHEETS[kind]
    group_field = "sasaran" if kind == "umum" else "tema"
    order = [c for c in (layout.order or sheet.field_names) if c not in layout.omit]
    col_of = {name: i + 1 for i, name in enumerate(order)}
    grid = Grid(layout.sheet)
    width = len(order)
    for name, col in col_of.items():
        f = schema.FIELD_BY_NAME.get(name)
        grid.widths[col] = f.width if f else 18
    row = 1
    for line in layout.title_lines:
        grid.put(row, 1, line, "title")
        grid.merges.append((row, 1, row, width))
        row += 1
    if layout.title_lines:
        row += 1
    header_row = row
    row = _write_header(grid, order, layout, row) + 1
    if layout.number_row:
        for col in range(1, width + 1):
            grid.put(row, col, col, "header")
        row += 1

    plan_rows: list[int] = []
    skipped: list[tuple[int, str]] = []
    run_start: int | None = None
    section_first = 0
    previous_group = object()
    for i, plan in enumerate(plans):
        group = plan.get(group_field)
        if layout.sections and group != previous_group:
            if i and layout.subtotal_each:
                row = _subtotal(
                    grid,
                    row,
                    layout.subtotal_each,
                    col_of,
                    plan_rows[section_first:],
                    plans[section_first:i],
                    skipped,
                    render,
                )
            grid.put(row, 1, group, "text")
            grid.merges.append((row, 1, row, width))
            skipped.append((row, "bagian"))
            row += 1
            section_first = i
            run_start = None
        if layout.merge_group and group_field in col_of:
            if group != previous_group or run_start is None:
                run_start = row
            else:
                _extend_merge(grid, col_of[group_field], run_start, row)
        previous_group = group
        plan_rows.append(row)
        for name, col in col_of.items():
            if name.startswith(EXTRA):
                values = (extra_values or {}).get(name[1:], [])
                grid.put(row, col, values[i] if i < len(values) else None, "text")
                continue
            value = plan.get(name)
            if value is None or (
                layout.merge_group
                and name == group_field
                and run_start is not None
                and run_start != row
            ):
                continue
            _put_rendered(grid, row, col, render(name, value, plan))
        if i in layout.hidden_plans:
            grid.hidden_rows.add(row)
        row += 1
        if i in layout.blank_after and i != len(plans) - 1:
            skipped.append((row, "kosong"))
            row += 1
    if layout.sections and layout.subtotal_each and plans:
        row = _subtotal(
            grid,
            row,
            layout.subtotal_each,
            col_of,
            plan_rows[section_first:],
            plans[section_first:],
            skipped,
            render,
        )
    if layout.total_end and plans:
        row = _subtotal(grid, row, layout.total_end, col_of, plan_rows, plans, skipped, render)
    if layout.hidden_field in col_of:
        grid.hidden_cols.add(col_of[layout.hidden_field])
    columns = {n: schema.column_letter(c) for n, c in col_of.items() if not n.startswith(EXTRA)}
    extras = {n[1:]: schema.column_letter(c) for n, c in col_of.items() if n.startswith(EXTRA)}
    return PlacedSheet(
        grid=grid,
        plan_rows=plan_rows,
        columns=columns,
        extra_columns=extras,
        header_row=header_row,
        skipped=skipped,
    )


def _put_rendered(grid: Grid, row: int, col: int, rendered) -> None:
    if len(rendered) == 3:
        _tag, formula, cached = rendered
        grid.formulas[(row, col)] = (formula, cached)
    else:
        grid.put(row, col, *rendered)


def _extend_merge(grid: Grid, col: int, start: int, row: int) -> None:
    """Grow the vertical merge of column ``col`` that starts at ``start`` down to ``row``."""
    for i, (r1, c1, _r2, c2) in enumerate(grid.merges):
        if (r1, c1, c2) == (start, col, col):
            grid.merges[i] = (start, col, row, col)
            return
    grid.merges.append((start, col, row, col))


def _quarter_parts(name: str) -> tuple[str, int] | None:
    f = schema.FIELD_BY_NAME.get(name)
    if f is None or f.quarter is None:
        return None
    return name.split("_tw")[0], f.quarter


def _write_header(grid: Grid, order: list[str], layout: Layout, top: int) -> int:
    """Write the header rows from ``top``; return the row holding the field-level headers."""
    depth = layout.header_depth
    bottom = top + depth - 1
    col_of = {name: i + 1 for i, name in enumerate(order)}
    groups: dict[str, list[int]] = {}
    for name, col in col_of.items():
        label = _header_label(name, layout)
        parts = _quarter_parts(name) if depth > 1 else None
        if parts is None:
            grid.put(top, col, label, "header")
            if depth > 1:
                grid.merges.append((top, col, bottom, col))
            continue
        groups.setdefault(parts[0], []).append(col)
        grid.put(bottom, col, layout.headers.get(name, f"TW {schema.ROMAN[parts[1]]}"), "header")
    for base, cols in groups.items():
        first, last = min(cols), max(cols)
        lines = (GROUP_TEXT[base],) if depth == 2 else GROUP_TEXT_SPLIT[base]
        for offset, text in enumerate(lines):
            grid.put(top + offset, first, text, "header")
            if last > first:
                grid.merges.append((top + offset, first, top + offset, last))
    return bottom


def _header_label(name: str, layout: Layout) -> str:
    if name.startswith(EXTRA):
        return name[1:]
    return layout.headers.get(name, schema.FIELD_BY_NAME[name].header)


def _subtotal(
    grid: Grid,
    row: int,
    label: str,
    col_of: dict[str, int],
    rows: list[int],
    plans: list[dict],
    skipped: list,
    render: Renderer,
) -> int:
    """A subtotal row: the label in the first column and the sum of each budget column, as a
    formula whose cached value is the sum (a unit's spreadsheet shows it)."""
    grid.put(row, 1, label, "text")
    for name in schema.BUDGET_FIELDS:
        if name not in col_of or not rows:
            continue
        letter = schema.column_letter(col_of[name])
        total = sum(p[name] for p in plans if isinstance(p.get(name), int | float))
        grid.formulas[(row, col_of[name])] = (f"=SUM({letter}{rows[0]}:{letter}{rows[-1]})", total)
    skipped.append((row, "subtotal"))
    return row + 1


def key_value_grid(
    name: str, pairs: list[tuple[str, object]], *, title: str | None = None, first_row: int = 1
) -> Grid:
    """A label/value sheet (a unit's own ``Identitas``)."""
    grid = Grid(name)
    grid.widths.update({1: 24, 2: 48})
    if title:
        grid.put(1, 1, title, "title")
    for offset, (label, value) in enumerate(pairs):
        grid.put(first_row + offset, 1, label, "text")
        grid.put(first_row + offset, 2, value, "date" if isinstance(value, dt.date) else "text")
    return grid


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

_NUM_FORMATS = {"rupiah": "#,##0", "percent": "0%", "date": "dd/mm/yyyy"}


def xlsxwriter_bytes(grids: list[Grid], *, title: str, created: dt.datetime) -> bytes:
    """xlsx bytes of ``grids`` written by xlsxwriter (formulas carry their cached value)."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties({"title": title, "author": "", "created": created})
    border = {"border": 1}
    formats = {
        "title": wb.add_format({"bold": True, "align": "center"}),
        "header": wb.add_format(
            {
                **border,
                "bold": True,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#D9D9D9",
            }
        ),
        "text": wb.add_format({**border, "text_wrap": True, "valign": "top"}),
        "number": wb.add_format({**border, "valign": "top"}),
        **{
            k: wb.add_format({**border, "num_format": v, "valign": "top"})
            for k, v in _NUM_FORMATS.items()
        },
    }
    for grid in grids:
        ws = wb.add_worksheet(grid.name)
        for col, width in grid.widths.items():
            options = {"hidden": True} if col in grid.hidden_cols else {}
            ws.set_column(col - 1, col - 1, width, None, options)
        for row in sorted(grid.hidden_rows):
            ws.set_row(row - 1, None, None, {"hidden": True})
        covered: set[tuple[int, int]] = set()
        for r1, c1, r2, c2 in grid.merges:
            value, style = grid.cells.get((r1, c1), ("", "text"))
            ws.merge_range(r1 - 1, c1 - 1, r2 - 1, c2 - 1, value, formats[style])
            covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
        for (row, col), (value, style) in sorted(grid.cells.items()):
            if (row, col) in covered:
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(row - 1, col - 1, value, formats["date"])
            else:
                ws.write(row - 1, col - 1, value, formats[style])
        for (row, col), (formula, cached) in sorted(grid.formulas.items()):
            ws.write_formula(row - 1, col - 1, formula, formats["rupiah"], cached)
    wb.close()
    return buffer.getvalue()


def openpyxl_bytes(grids: list[Grid], *, title: str, created: dt.datetime) -> bytes:
    """xlsx bytes of ``grids`` written by openpyxl: formulas have no cached value. Zip entry
    dates and the document dates are pinned to ``created`` so the bytes are reproducible."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = title
    wb.properties.creator = ""
    wb.properties.created = created
    bold = Font(bold=True)
    for grid in grids:
        ws = wb.create_sheet(grid.name)
        for col, width in grid.widths.items():
            dim = ws.column_dimensions[schema.column_letter(col)]
            dim.width = width
            dim.hidden = col in grid.hidden_cols
        for (row, col), (value, style) in sorted(grid.cells.items()):
            cell = ws.cell(row=row, column=col, value=value)
            if style in ("header", "title"):
                cell.font = bold
            if style in _NUM_FORMATS:
                cell.number_format = _NUM_FORMATS[style]
        for (row, col), (formula, _cached) in sorted(grid.formulas.items()):
            ws.cell(row=row, column=col, value=formula).number_format = _NUM_FORMATS["rupiah"]
        for r1, c1, r2, c2 in grid.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        for row in grid.hidden_rows:
            ws.row_dimensions[row].hidden = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return pin_zip_dates(buffer.getvalue(), created)


def pin_zip_dates(data: bytes, moment: dt.datetime) -> bytes:
    """The same xlsx with every zip entry dated ``moment`` and the document's ``modified``
    property set to it (openpyxl stamps both with "now")."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), payload
                )
            entry = zipfile.ZipInfo(info.filename, moment.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, payload)
    return out.getvalue()
