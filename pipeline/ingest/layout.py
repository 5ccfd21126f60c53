"""Where the action plans sit in a workbook: which sheet, which header rows, which columns.

Pure functions over :class:`~pipeline.ingest.workbook.WorkbookData`:

* :func:`find_action_sheets` picks the ``RB Umum`` and ``RB Tematik`` sheets, by name first
  (tolerant of case, spacing, years and short forms, see ``SheetKind.name_synonyms``) and, for a
  kind no name gave, by the header a sheet contains (a ``Sasaran RB`` column means RB Umum,
  ``Tema``/``Permasalahan`` RB Tematik).
* :func:`detect_layout` finds the header of one sheet and maps its columns to canonical fields.

Header detection. The header may start anywhere in the first :data:`MAX_HEADER_START` rows and
span up to three rows. Every window of one to three rows is scored by the number of distinct
fields its columns map to; the best window wins (ties: the shorter, then the higher one), so a
title block or a note merged across the table above the header is never part of it. A row above
whose cells are merged down into the window joins it (a three-row header whose top row only adds
a group label still starts at its top row), and so does a units row such as ``(Rp)`` below.
Rows mixing text and numbers are data and never start a header; a row holding a single text
(a title) never starts one either.

A column's label is the text of its cells in the window, top to bottom, with merged ranges
spread over every cell they cover (``TARGET (KUMULATIF)`` merged above ``TW I``..``TW IV``
gives ``TARGET (KUMULATIF) TW I``). Labels are matched through
:func:`pipeline.schema.match_header`, trying the whole label, then child-before-parent
(``Anggaran`` above ``Realisasi`` means ``Realisasi Anggaran``), then the lower parts alone. A
bare ``I``..``IV`` (or ``1``..``4``) under a parent is read as ``TW I``..``TW IV``; a parent
written once over unmerged cells ("centre across selection") reaches the bare quarter labels to
its right. A following row of column numbers (``1, 2, 3, ...`` or ``(1), (2), ...``) is skipped.

Columns. A field matched by two columns takes the first visible one (a unit that hid an old
column and added a new one means the new one); the other is an unknown column. Columns whose
header is not a field of the sheet's kind are recorded as unknown (column letter, header text) and
kept out of the data, hidden or not, with one exception: a conventional row-number column
(``No``, ``No.``, ``Nomor``, ``No Urut``) is harmless and not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline import schema
from pipeline.ingest.values import display_text
from pipeline.ingest.workbook import SheetData, WorkbookData
from pipeline.model import SheetLayout

MAX_HEADER_START = 20  # the header's first row is at most this Excel row
MAX_HEADER_HEIGHT = 3
MIN_HEADER_FIELDS = 4  # fewer recognised columns than this is not an action-plan header
MAX_HEADER_COLUMNS = 200  # wider header areas are cut here (merged ranges may claim XFD)
ROW_NUMBER_HEADERS = frozenset({"no", "nomor", "no urut", "nomor urut", "nmr", "no ra urut"})
KIND_MARKERS = {"umum": ("sasaran",), "tematik": ("tema", "permasalahan")}
# Sheets of the template that never hold action plans.
NOT_ACTION_SHEETS = frozenset(
    schema.normalize_text(n)
    for n in (schema.SHEET_PETUNJUK, schema.SHEET_IDENTITAS, schema.SHEET_REFERENSI)
)

_BARE_QUARTER_RE = re.compile(r"(?:tw|triwulan|trw|q)?\s*[.\-]?\s*(iv|iii|ii|i|[1-4])", re.I)
_COLUMN_NUMBER_RE = re.compile(r"\(?\s*(\d{1,3})\s*\)?")


@dataclass(frozen=True, kw_only=True)
class HeaderScan:
    """The best header window of a sheet, kind-agnostic."""

    start: int  # first header row (1-based)
    height: int
    first_data_row: int
    fields: dict[int, str]  # column (1-based) -> canonical field, any kind
    labels: dict[int, str]  # column -> header text as printed (parts joined by a space)

    @property
    def header_rows(self) -> tuple[int, ...]:
        return tuple(range(self.start, self.start + self.height))

    def kind_hint(self) -> str | None:
        """The sheet kind the header's own columns reveal, or None."""
        found = set(self.fields.values())
        kinds = [k for k, markers in KIND_MARKERS.items() if found.intersection(markers)]
        return kinds[0] if len(kinds) == 1 else None


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------


def sheet_kind_by_name(name: str) -> tuple[str, int] | None:
    """``(kind, rank)`` when a sheet name designates an action-plan sheet, else None.

    Rank 0: the name is a known spelling (``RB TEMATIK 2025`` → ``rb tematik``); rank 1: it
    only contains the word (``Tematik (2)``, ``Lap RB Umum Okt``).
    """
    words = [w for w in schema.normalize_text(name).split() if not re.fullmatch(r"\d+", w)]
    text = " ".join(words)
    for kind, sheet in schema.SHEETS.items():
        if text in sheet.name_synonyms:
            return kind, 0
    hits = [kind for kind in schema.KINDS if kind in words]
    return (hits[0], 1) if len(hits) == 1 else None


def _is_candidate(sheet: SheetData) -> bool:
    return (
        sheet.name != schema.SHEET_META
        and sheet.state != "veryHidden"
        and schema.normalize_text(sheet.name) not in NOT_ACTION_SHEETS
    )


def action_sheet_candidates(
    workbook: WorkbookData,
) -> dict[str, list[tuple[SheetData, SheetLayout | None]]]:
    """Every sheet of ``workbook`` that looks like an action-plan sheet, per kind, best first,
    with its layout (None: no header found).

    A sheet looks like one by its name (``RB Umum``, copies such as ``RB Umum (2)``,
    ``Copy of RB Tematik``, ``Salinan RB Tematik``, ``RB Umum_revisi``) or, when its name
    designates no kind, by the header it contains (a ``Sasaran RB`` column means RB Umum,
    ``Tema``/``Permasalahan`` RB Tematik). Order: sheets named for the kind that have a header
    (better-named, then visible, then earlier first), then sheets found by their header, then
    sheets named for the kind without a header. Which one is used is decided by content
    (:func:`pipeline.ingest.parse_workbook`).
    """
    sheets = [s for s in workbook.sheets if _is_candidate(s)]
    scans = {id(sheet): scan_header(sheet) for sheet in sheets}
    named: dict[str, list[tuple[int, int, int, SheetData]]] = {k: [] for k in schema.KINDS}
    by_header: dict[str, list[tuple[SheetData, SheetLayout | None]]] = {k: [] for k in schema.KINDS}
    for order, sheet in enumerate(sheets):
        hit = sheet_kind_by_name(sheet.name)
        scan = scans[id(sheet)]
        if hit:
            kind, rank = hit
            named[kind].append((rank, sheet.state != "visible", order, sheet))
        elif scan is not None and (hinted := scan.kind_hint()):
            by_header[hinted].append((sheet, layout_from_scan(sheet, scan, hinted)))
    out: dict[str, list[tuple[SheetData, SheetLayout | None]]] = {}
    for kind in schema.KINDS:
        ranked = [c[3] for c in sorted(named[kind], key=lambda c: c[:3])]
        with_header = [
            (s, layout_from_scan(s, scan, kind))
            for s in ranked
            if (scan := scans[id(s)]) is not None
        ]
        without = [(s, None) for s in ranked if scans[id(s)] is None]
        found = [*with_header, *by_header[kind], *without]
        if found:
            out[kind] = found
    return out


def find_action_sheets(
    workbook: WorkbookData,
) -> dict[str, tuple[SheetData, SheetLayout | None]]:
    """The preferred sheet of each kind found in ``workbook`` with its layout (None: no header
    found), by name and header alone (see :func:`action_sheet_candidates`); a kind absent from
    the result has no sheet at all."""
    return {kind: found[0] for kind, found in action_sheet_candidates(workbook).items()}


# --------------------------------------------------------------------------------------------
# Header
# --------------------------------------------------------------------------------------------


def detect_layout(sheet: SheetData, kind: str) -> SheetLayout | None:
    """The layout of ``sheet`` read as ``kind``, or None when no header row is found."""
    scan = scan_header(sheet)
    return layout_from_scan(sheet, scan, kind) if scan else None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    return display_text(value) or ""


class _HeaderGrid:
    """Header-area text of a sheet, row by row on demand (index 0 unused): ``grid[r][c]`` with
    merged ranges spread over every cell they cover. Rows are built only when a window looks
    at them, so a header found near the top costs only the rows around it."""

    def __init__(self, sheet: SheetData, last_row: int):
        self.sheet = sheet
        self.last_row = last_row
        width = max((len(line) for line in sheet.cells[:last_row]), default=0)
        self.merged = [m for m in sheet.merged if m[0] <= last_row]
        for _, _, _, c2 in self.merged:
            width = max(width, c2)
        self.width = min(width, MAX_HEADER_COLUMNS)
        self._rows: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return self.last_row + 1

    def __getitem__(self, r: int) -> list[str]:
        row = self._rows.get(r)
        if row is None:
            row = self._rows[r] = self._build(r)
        return row

    def _build(self, r: int) -> list[str]:
        width = self.width
        line = self.sheet.cells[r - 1][:width] if 0 < r <= len(self.sheet.cells) else []
        row = [""] + [_cell_text(v) for v in line] + [""] * (width - len(line))
        for r1, c1, r2, c2 in self.merged:
            if r1 <= r <= r2 and c1 <= width:
                top = self.sheet.value(r1, c1)
                text = _cell_text(top)
                for c in range(c1, min(c2, width) + 1):
                    row[c] = text
        return row

    def data_like(self, r: int) -> bool:
        """A row mixing text with two or more numeric cells is data, never header (a row of
        numbers only may be quarter numbers under a group label)."""
        line = self.sheet.cells[r - 1] if 0 < r <= len(self.sheet.cells) else []
        numbers = sum(1 for v in line if v.__class__ in (int, float))
        return numbers >= 2 and any(v.__class__ is str for v in line)


@lru_cache(maxsize=8192)
def _field_of(label: str) -> str | None:
    return schema.match_header(label)


def _parts(grid: _HeaderGrid, start: int, height: int, col: int) -> list[str]:
    """The distinct non-empty header texts of one column, top to bottom."""
    parts: list[str] = []
    for r in range(start, start + height):
        text = grid[r][col]
        if text and (not parts or parts[-1] != text):
            parts.append(text)
    return parts


def _left_parent(grid: _HeaderGrid, row: int, col: int) -> str:
    """The nearest text to the left in a parent row, for "centre across selection" groups."""
    for c in range(col - 1, max(0, col - 4), -1):
        if grid[row][c]:
            return grid[row][c]
    return ""


def _match_column(grid: _HeaderGrid, start: int, height: int, col: int) -> tuple[str | None, str]:
    """``(field or None, printed label)`` of one column in a header window."""
    parts = _parts(grid, start, height, col)
    if not parts:
        return None, ""
    label = " ".join(parts)
    if height > 1 and len(parts) == 1 and _BARE_QUARTER_RE.fullmatch(parts[0]):
        parent = next(
            (p for r in range(start, start + height - 1) if (p := _left_parent(grid, r, col))),
            "",
        )
        if parent:
            parts = [parent, parts[0]]
    return _field_of_parts(tuple(parts)), label


@lru_cache(maxsize=16384)
def _field_of_parts(parts: tuple[str, ...]) -> str | None:
    """The field a column's header parts (top to bottom) name: the whole label, then
    child-before-parent, then the lower parts alone; a bare ``I``..``IV`` child is a quarter."""
    candidates = [" ".join(parts)]
    bare = _BARE_QUARTER_RE.fullmatch(parts[-1])
    if len(parts) > 1 and bare and not parts[-1].lower().startswith(("tw", "tri", "trw", "q")):
        parts = (*parts[:-1], f"TW {bare.group(1)}")
        candidates.append(" ".join(parts))
    if len(parts) > 1:
        candidates.append(f"{parts[-1]} {parts[-2]}")
        candidates += [" ".join(parts[i:]) for i in range(1, len(parts))]
    return next((field for c in candidates if (field := _field_of(c))), None)


def _score_window(
    grid: _HeaderGrid, start: int, height: int
) -> tuple[dict[int, str], dict[int, str]]:
    fields: dict[int, str] = {}
    labels: dict[int, str] = {}
    for col in range(1, grid.width + 1):
        field, label = _match_column(grid, start, height, col)
        if label:
            labels[col] = label
        if field:
            fields[col] = field
    return fields, labels


def _is_column_number_row(row: list[str]) -> bool:
    numbers = []
    for text in row[1:]:
        if not text:
            continue
        m = _COLUMN_NUMBER_RE.fullmatch(text)
        if not m:
            return False
        numbers.append(int(m.group(1)))
    return len(numbers) >= 3 and all(a < b for a, b in zip(numbers, numbers[1:], strict=False))


def _has_number(row: list[str]) -> bool:
    return any(text and text[0].isdigit() for text in row[1:])


def _merged_across(sheet: SheetData, upper: int, lower: int) -> bool:
    """True when a merged range covers both rows ``upper`` and ``lower``."""
    return any(r1 <= upper and r2 >= lower for r1, _, r2, _ in sheet.merged)


def scan_header(sheet: SheetData) -> HeaderScan | None:
    """The best header window of ``sheet`` (see the module docstring), or None."""
    last_row = min(len(sheet.cells), MAX_HEADER_START + MAX_HEADER_HEIGHT)
    if last_row == 0:
        return None
    grid = _HeaderGrid(sheet, last_row + 1)
    best: tuple[int, int, int] | None = None  # (score, -height, -start): larger is better
    best_maps: tuple[dict[int, str], dict[int, str]] = ({}, {})
    for start in range(1, min(last_row, MAX_HEADER_START) + 1):
        if best and best[0] >= MIN_HEADER_FIELDS and start > -best[2] + MAX_HEADER_HEIGHT:
            break  # well into the data: no header starts here
        if grid.data_like(start) or len(set(grid[start])) <= 2:
            continue  # empty, data, or one text only (a title or note over the table)
        for height in range(1, MAX_HEADER_HEIGHT + 1):
            end = start + height - 1
            if end > last_row or grid.data_like(end) or not any(grid[end]):
                break  # an empty or data row ends every taller window too
            fields, labels = _score_window(grid, start, height)
            key = (len(set(fields.values())), -height, -start)
            if best is None or key > best:
                best, best_maps = key, (fields, labels)
    if best is None or best[0] < MIN_HEADER_FIELDS:
        return None
    start, height = -best[2], -best[1]
    # Cells merged down into the window from the row above make that row part of the header.
    while height < MAX_HEADER_HEIGHT and start > 1 and _merged_across(sheet, start - 1, start):
        fields, labels = _score_window(grid, start - 1, height + 1)
        if fields != best_maps[0]:
            break
        start, height, best_maps = start - 1, height + 1, (fields, labels)
    # A units row such as "(Rp)" under the header belongs to it when it changes no field.
    while height < MAX_HEADER_HEIGHT and start + height <= last_row:
        below = grid[start + height]
        if not any(below) or _has_number(below) or _is_column_number_row(below):
            break
        fields, labels = _score_window(grid, start, height + 1)
        if fields != best_maps[0]:
            break
        height, best_maps = height + 1, (fields, labels)
    first_data_row = start + height
    if first_data_row < len(grid) and _is_column_number_row(grid[first_data_row]):
        first_data_row += 1
    return HeaderScan(
        start=start,
        height=height,
        first_data_row=first_data_row,
        fields=best_maps[0],
        labels=best_maps[1],
    )


def is_row_number_header(label: str) -> bool:
    """True for a conventional row-number column header (``No``, ``No.``, ``Nomor``)."""
    return schema.normalize_text(label) in ROW_NUMBER_HEADERS


def layout_from_scan(sheet: SheetData, scan: HeaderScan, kind: str) -> SheetLayout:
    """The :class:`SheetLayout` of ``sheet`` read as ``kind`` from a header scan."""
    kind_fields = set(schema.SHEETS[kind].field_names)
    columns: dict[str, str] = {}
    unknown: list[tuple[int, str]] = []
    # Visible columns claim fields first; hidden duplicates then become unknown columns.
    order = sorted(scan.labels, key=lambda c: (c in sheet.hidden_cols, c))
    for col in order:
        field, label = scan.fields.get(col), scan.labels[col]
        if field in kind_fields and field not in columns:
            columns[field] = schema.column_letter(col)
        elif not is_row_number_header(label):
            unknown.append((col, label))
    ordered = {f: columns[f] for f in schema.SHEETS[kind].field_names if f in columns}
    return SheetLayout(
        kind=kind,
        sheet=sheet.name,
        header_rows=scan.header_rows,
        first_data_row=scan.first_data_row,
        columns=ordered,
        unknown_columns=tuple((schema.column_letter(c), text) for c, text in sorted(unknown)),
        missing_fields=tuple(f for f in schema.SHEETS[kind].field_names if f not in columns),
    )
