"""The action-plan rows of one sheet, given its layout.

Rows read are every row from ``layout.first_data_row`` to the last non-empty row of the sheet;
each one is either staged (an action plan) or skipped with an Indonesian reason, so that rows
read = rows staged + rows skipped always holds.

How a row is classified, from the cells the unit typed in that row (values a merged range
carries down from a row above do not make a row non-empty):

* nothing typed → ``baris kosong``; only formulas without a stored result → ``baris tanpa
  nilai`` (never zeros);
* a subtotal label (``JUMLAH``, ``Sub Total``, ``TOTAL``, ``Jumlah Total``, ... see
  ``schema.SUBTOTAL_WORDS``) as one of at most two text cells, with no action-plan code →
  ``baris subtotal (JUMLAH)``; with no code, numbers under a single text (a group's total under
  its name) → ``baris subtotal (<that text>)``, and numbers with no text at all → a subtotal
  without a label;
* at most two filled cells in the table's columns, no number and no action-plan code (``U-01``)
  → a label alone on its row: ``baris judul bagian`` above the last action plan (a sasaran or
  theme heading), ``baris keterangan di bawah tabel`` below it (a signature block);
* only a code → ``baris hanya berisi kode``;
* anything else is an action plan, however incomplete: validation reports what is missing.

Values: a merged range in the body gives its value to every row it spans (in its first column);
hidden rows are read like the others; a field cell holding a formula without a stored result
is missing and reported as ``RB-E011`` at that cell; an error value (``#DIV/0!``) in a number
field is unparseable text (``_raw_<field>``), in a text field it is kept as the text shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline import schema
from pipeline.ingest.values import (
    decimal_from_text,
    is_persen,
    parse_number,
    parse_text,
)
from pipeline.ingest.workbook import SheetData
from pipeline.model import SheetLayout, SkippedRow
from pipeline.problems import Problem, make_problem

STAGED_FIELDS: tuple[str, ...] = tuple(f.name for f in schema.FIELDS)
RAW_FIELDS: tuple[str, ...] = schema.NUMBER_FIELDS
_FIELD_POS = {name: i for i, name in enumerate(STAGED_FIELDS)}
_RAW_POS = {name: i for i, name in enumerate(RAW_FIELDS)}

REASON_BLANK = "baris kosong"
REASON_FORMULAS_ONLY = "baris tanpa nilai (hanya rumus yang belum dihitung)"
REASON_SECTION = "baris judul bagian"
REASON_FOOTER = "baris keterangan di bawah tabel"
REASON_CODE_ONLY = "baris hanya berisi kode, tanpa rencana aksi"
REASON_NUMBERS_ONLY = "baris subtotal tanpa label (hanya angka)"
_LABEL = "label"  # provisional: section or footer, decided once the last action plan is known

_SUBTOTAL_WORDS = sorted(map(schema.normalize_text, schema.SUBTOTAL_WORDS), key=len, reverse=True)
_SUBTOTAL_RE = re.compile("(?:" + "|".join(map(re.escape, _SUBTOTAL_WORDS)) + ")(?: |$)")
_CODE_RE = re.compile(r"[A-Za-z]{1,4}\s*[-./_]?\s*\d{1,3}[A-Za-z]?")


@dataclass(frozen=True, kw_only=True)
class SheetRows:
    """What one sheet yielded.

    ``rows``: one tuple per staged action plan, ``(excel_row, *values, *raws)`` with values in
    :data:`STAGED_FIELDS` order (None where the sheet has no such column) and raws in
    :data:`RAW_FIELDS` order (the text of an unparseable number cell, else None).
    """

    layout: SheetLayout
    rows: list[tuple] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.skipped)


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def last_filled_row(sheet: SheetData) -> int:
    """The last row holding a value or an error value (0 for an empty sheet)."""
    last = max((r for r, _ in sheet.errors), default=0)
    for r in range(len(sheet.cells), last, -1):
        if any(not _empty(v) for v in sheet.cells[r - 1]):
            return r
    return last


def _merged_sources(sheet: SheetData, first: int, last: int) -> dict[tuple[int, int], tuple]:
    """(row, col) -> (row, col) of the top-left cell, for cells below the top of a body merge."""
    sources: dict[tuple[int, int], tuple[int, int]] = {}
    for r1, c1, r2, _ in sheet.merged:
        if r1 >= first and r2 > r1:
            for r in range(r1 + 1, min(r2, last) + 1):
                sources[(r, c1)] = (r1, c1)
    return sources


_NUMBER_HEADS = frozenset("0123456789-−+.,RrIi")  # how a number written as text can start
_SUBTOTAL_HEADS = frozenset(w[:3] for w in _SUBTOTAL_WORDS)


def _is_number(value: object) -> bool:
    if value.__class__ in (int, float):  # not bool
        return True
    if value.__class__ is not str:
        return False
    return value.lstrip()[:1] in _NUMBER_HEADS and decimal_from_text(value) is not None


def subtotal_label(text: str) -> bool:
    """True when a cell's text is a subtotal/total label (``JUMLAH``, ``Sub Total Tema 1``)."""
    return bool(_SUBTOTAL_RE.match(schema.normalize_text(text)))


def _subtotal_in(own: dict[int, object]) -> str | None:
    """The first subtotal label among a row's cells (a cheap prefix test first: this runs for
    every row)."""
    for value in own.values():
        if (
            value.__class__ is str
            and value.lstrip()[:3].lower() in _SUBTOTAL_HEADS
            and subtotal_label(value)
        ):
            return value
    return None


def _short(text: object) -> str:
    return " ".join(str(text).split())[:40]


def _classify(
    own: dict[int, object], table_cols: dict[int, bool], kode_col: int | None
) -> str | None:
    """Why a row is skipped (a reason, or :data:`_LABEL`), or None for an action plan.

    ``own``: the row's typed non-empty cells by column; ``table_cols``: the mapped columns,
    True for number fields.
    """
    in_table = [c for c in own if c in table_cols]
    kode = own.get(kode_col) if kode_col is not None else None
    has_code = kode.__class__ is str and bool(_CODE_RE.fullmatch(kode.strip()))
    label = _subtotal_in(own)
    if label is not None and not has_code:
        texts = [v for v in own.values() if v.__class__ is str and not _is_number(v)]
        if len(texts) <= 2:
            return f"baris subtotal ({_short(label)})"
    if not in_table:
        return _LABEL if any(not _is_number(v) for v in own.values()) else REASON_BLANK
    if not has_code:
        table_texts = [own[c] for c in in_table if not _is_number(own[c])]
        if not table_texts:
            return REASON_NUMBERS_ONLY
        if len(table_texts) == 1 and any(table_cols[c] for c in in_table):
            # One label and numbers: a group's total under its name, not an action plan.
            return f"baris subtotal ({_short(table_texts[0])})"
    if len(in_table) > 2:
        return None
    if has_code:
        return REASON_CODE_ONLY if in_table == [kode_col] else None
    has_number = any(table_cols[c] and _is_number(own[c]) for c in in_table)
    return None if has_number else _LABEL


def extract_rows(sheet: SheetData, layout: SheetLayout) -> SheetRows:
    """Stage or skip every row of ``sheet`` below the header described by ``layout``."""
    first, last = layout.first_data_row, last_filled_row(sheet)
    mapped = [
        (name, schema.column_index(letter), schema.FIELD_BY_NAME[name].is_number)
        for name, letter in layout.columns.items()
    ]
    table_cols = {col: is_number for _, col, is_number in mapped}
    kode_col = schema.column_index(layout.columns["kode"]) if "kode" in layout.columns else None
    satuan_col = (
        schema.column_index(layout.columns["satuan"]) if "satuan" in layout.columns else None
    )
    inherited = _merged_sources(sheet, first, last)
    uncached, errors, percent = sheet.formulas_without_value, sheet.errors, sheet.percent
    error_rows: dict[int, list[tuple[int, str]]] = {}
    for (er, ec), text in errors.items():
        error_rows.setdefault(er, []).append((ec, text))
    staged: list[tuple] = []
    skipped: list[tuple[int, str]] = []
    problems: list[Problem] = []
    n_fields, n_raws = len(STAGED_FIELDS), len(RAW_FIELDS)

    cells, n_cells = sheet.cells, len(sheet.cells)
    for r in range(first, last + 1):
        # Cells the unit typed in this row: not empty, not a formula without a stored result.
        own = {
            c: v
            for c, v in enumerate(cells[r - 1] if r <= n_cells else (), start=1)
            if v is not None and (v.__class__ is not str or v.strip())
        }
        if uncached:
            for c in [c for c in own if (r, c) in uncached]:
                del own[c]
        for c, text in error_rows.get(r, ()):
            own[c] = text
        if not own:
            has_formula = any((r, c) in uncached for c in table_cols)
            skipped.append((r, REASON_FORMULAS_ONLY if has_formula else REASON_BLANK))
            continue
        reason = _classify(own, table_cols, kode_col)
        if reason is not None:
            skipped.append((r, reason))
            continue
        persen = False
        if satuan_col is not None:
            here = (r, satuan_col)
            src = inherited.get(here, here) if inherited else here
            persen = is_persen(own.get(satuan_col) if src is here else sheet.value(*src))
        values: list[object] = [None] * n_fields
        raws: list[str | None] = [None] * n_raws
        for name, col, is_number in mapped:
            here = (r, col)
            src = inherited.get(here, here) if inherited else here
            value = own.get(col) if src is here else sheet.value(*src)
            if uncached and src in uncached:
                if src is here:
                    problems.append(
                        make_problem(
                            "RB-E011",
                            sheet=sheet.name,
                            row=r,
                            column=schema.column_letter(col),
                            field=name,
                        )
                    )
                continue
            if is_number:
                if src in errors:
                    raws[_RAW_POS[name]] = errors[src]
                    continue
                number, raw = parse_number(value, percent_format=src in percent, persen=persen)
                values[_FIELD_POS[name]] = number
                raws[_RAW_POS[name]] = raw
            else:
                values[_FIELD_POS[name]] = parse_text(value)
        staged.append((r, *values, *raws))

    last_plan = staged[-1][0] if staged else 0
    return SheetRows(
        layout=layout,
        rows=staged,
        skipped=[
            SkippedRow(
                sheet=sheet.name,
                row=r,
                reason=(REASON_SECTION if r < last_plan else REASON_FOOTER)
                if reason == _LABEL
                else reason,
            )
            for r, reason in skipped
        ],
        problems=problems,
    )
