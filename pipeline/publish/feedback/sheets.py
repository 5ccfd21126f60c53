"""``RB Umum`` / ``RB Tematik`` re-rendered at the file's own addresses, problem cells marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline import schema
from pipeline.model import SheetLayout, Submission
from pipeline.plain import is_missing, to_plain
from pipeline.problems import Problem
from pipeline.publish.feedback.common import (
    SHEET_FIXES,
)
from pipeline.publish.feedback.views import UnitView
from pipeline.publish.styles import (
    Sheet,
    StreamedCell,
    print_setup,
    problem_note,
    problem_tone,
    row_height,
    wrapped_lines,
    write_cells_streamed,
)


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where one sheet kind sits in the file it was consolidated from: that file, the sheet's
    name and header row there and the column of each field (the template's when no file has
    the sheet)."""

    source_file: str | None  # the accepted file this kind came from (None: none has the sheet)
    source_sheet: str | None  # None: the file has no such sheet
    header_row: int  # 1-based
    columns: dict[str, str]
    unknown_columns: tuple[tuple[str, str], ...] = ()


def rendered_layouts(view: UnitView) -> dict[str, Placement]:
    """Sheet kinds to re-render (none when no file was accepted), with their placement. Each
    kind is placed as in the file it was consolidated from (:meth:`UnitView.source`): a report
    split over two files shows each sheet at its own file's addresses."""
    if view.accepted is None:
        return {}
    out = {}
    for kind in schema.KINDS:
        source = view.source(kind)
        layouts = source.layouts if source else []
        layout: SheetLayout | None = next((lo for lo in layouts if lo.kind == kind), None)
        rows = _rows_of(view, kind, source)
        columns = dict(layout.columns) if layout else {}
        for f in schema.SHEETS[kind].fields:
            if f.name not in columns and rows:
                letters = [r[f"_col_{f.name}"] for r in rows if not is_missing(r[f"_col_{f.name}"])]
                if letters:
                    columns[f.name] = str(letters[0])
        name = source.name if source else None
        if layout:
            placement = Placement(
                source_file=name,
                source_sheet=layout.sheet,
                header_row=layout.header_rows[-1] if layout.header_rows else 1,
                columns=columns,
                unknown_columns=layout.unknown_columns,
            )
        elif rows:
            placement = Placement(
                source_file=name,
                source_sheet=str(rows[0]["_sheet"]),
                header_row=max(int(min(r["_row"] for r in rows)) - 1, 1),
                columns=columns,
            )
        else:
            template = {
                f.name: schema.SHEETS[kind].column_letter(f.name)
                for f in schema.SHEETS[kind].fields
            }
            placement = Placement(
                source_file=None,
                source_sheet=None,
                header_row=schema.TEMPLATE_HEADER_ROW,
                columns=template,
            )
        out[kind] = placement
    return out


def _rows_of(view: UnitView, kind: str, source: Submission | None) -> list[dict[str, Any]]:
    """The view's plans of ``kind`` from the file that kind came from, in frame order."""
    if source is None:
        return []
    return [r for r in view.plans if r["_kind"] == kind and r["_file"] == source.name]


def render_rows(
    sheet: Sheet, view: UnitView, kind: str, place: Placement
) -> dict[tuple[str, str, int, str], str]:
    """Write the sender's rows of ``kind`` at their own addresses; return the problem cells
    shown here as ``(file, their sheet, row, column) -> this sheet's name``."""
    source = view.source(kind) if place.source_file is not None else None
    fields = schema.SHEETS[kind].fields
    grid: dict[tuple[int, str], tuple[object, str]] = {}
    for f in fields:
        if f.name in place.columns:
            grid[(place.header_row, place.columns[f.name])] = (f.header, "header")
    for letter, text in place.unknown_columns:
        grid[(place.header_row, letter)] = (text, "header_muted")
    # Per field, once: its column keys in the records, its fallback column, and its styles
    # (a number field's unparsed text is shown as text).
    specs = [
        (
            f.name,
            f"_col_{f.name}",
            f"_raw_{f.name}" if f.is_number else None,
            place.columns.get(f.name),
            ("rupiah" if f.name in schema.BUDGET_FIELDS else "dec") if f.is_number else None,
            "wrap" if f.type == "text" else "text",
        )
        for f in fields
    ]
    for plan in _rows_of(view, kind, source):
        row = int(plan["_row"])
        for name, col_key, raw_key, fallback, number_style, text_style in specs:
            found = plan[col_key]
            letter = found if type(found) is str else str(to_plain(found) or fallback or "")
            if not letter:
                continue
            raw = plan[raw_key] if raw_key else None
            if raw is not None and type(raw) is not str:
                raw = to_plain(raw)
            if raw is None:
                grid[(row, letter)] = (plan[name], number_style or text_style)
            else:
                grid[(row, letter)] = (raw, text_style)

    marks: dict[tuple[int, str], list[Problem]] = {}
    if place.source_file is not None and place.source_sheet is not None:
        for p in view.problems:
            if p.file == place.source_file and p.sheet == place.source_sheet and p.row and p.column:
                marks.setdefault((p.row, p.column), []).append(p)
    for key, found in marks.items():
        grid.setdefault(key, (found[0].value, "text"))

    widths = {place.columns[f.name]: f.width for f in fields if f.name in place.columns}
    for letter, _ in place.unknown_columns:
        widths.setdefault(letter, 10)
    for letter, width in widths.items():
        col = schema.column_index(letter) - 1
        sheet.ws.set_column(col, col, width)

    # The sheet is streamed (written row by row, top down): its explanation in the free rows
    # above the header and every row's height are worked out before anything is written.
    used = {row for row, _ in grid}
    for row, note in _sheet_notes(view, kind, place, used):
        grid[(row, "A")] = (note, "note")
    index = {letter: schema.column_index(letter) for letter in {letter for _, letter in grid}}
    width_of = {letter: widths.get(letter, 10) for letter in index}
    cells: list[StreamedCell] = []
    lines_of: dict[int, int] = {}
    no_marks: dict[tuple[int, str], list[Problem]] = {}
    for (row, letter), (value, style) in sorted(
        grid.items(), key=lambda item: item[0][0] * 20_000 + index[item[0][1]]
    ):
        r, c = row - 1, index[letter] - 1
        marked = (marks or no_marks).get((row, letter))
        tone = problem_tone(marked) if marked else None
        comment = problem_note(marked) if marked else None
        shown: str | None = value if type(value) is str else None
        if style in ("header", "header_muted", "note"):
            shown = shown if shown is not None else str(value)
            own = style if not marked or style == "note" else "text"
            cells.append((r, c, shown, own, tone, False, comment))
        else:
            if shown is None and not (value is None or type(value) is float):
                plain = to_plain(value)
                shown = plain if isinstance(plain, str) else None
            web = shown is not None and shown.startswith(("http://", "https://"))
            cells.append((r, c, value, style, tone, web, comment))
        if shown is not None and (style == "wrap" or style == "header"):
            lines = wrapped_lines(value, width_of[letter])
            if lines > 1 or style == "header":
                lines_of[r] = max(lines_of.get(r, 1), lines)
    header = place.header_row - 1
    heights = {
        r: row_height(min(lines, 30)) + (3 if r == header else 0)
        for r, lines in lines_of.items()
        if lines > 1 or r == header
    }
    write_cells_streamed(sheet, cells, heights)
    sheet.ws.freeze_panes(place.header_row, 0)
    print_setup(
        sheet,
        title=f"{schema.SHEETS[kind].name} · {view.kode or ''} · {view.period.label}",
        header_row=place.header_row - 1,
    )
    return {
        (place.source_file, place.source_sheet, row, letter): sheet.name
        for (row, letter) in marks
        if place.source_file is not None and place.source_sheet is not None
    }


def _sheet_notes(
    view: UnitView, kind: str, place: Placement, used: set[int]
) -> list[tuple[int, str]]:
    """The sheet's explanation: ``(1-based row, text)`` in the free rows above its header
    (when there are any), for column A."""
    printed = schema.SHEETS[kind].name
    if place.source_file is None or place.source_sheet is None:
        files = ", ".join(s.name for s in view.accepted_files)
        notes = [
            f"Lembar {printed} tidak ditemukan di berkas Anda ({files}); lihat lembar "
            f"{SHEET_FIXES}.",
        ]
    else:
        notes = [
            f"Baris dan kolom lembar ini sama dengan lembar '{place.source_sheet}' di berkas "
            f"{place.source_file}.",
            "Sel merah = kesalahan, sel kuning = peringatan. Arahkan kursor ke sel bertanda "
            "untuk membaca pesan dan cara memperbaikinya.",
        ]
    free = [r for r in range(1, place.header_row) if r not in used]
    return list(zip(free, notes, strict=False))
