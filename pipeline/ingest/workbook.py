"""What the reader hands to the parser: a workbook's cells and the little metadata that matters.

The reader (:mod:`pipeline.ingest.reader`) turns any supported file into a :class:`WorkbookData`
or raises :class:`ReadFailure`. Everything after that (sheet finding, header detection, value
parsing, identification) is pure code over these objects, testable without files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Cell value types found in SheetData.cells: None (empty), str, float, int, bool,
# datetime.datetime, datetime.date, datetime.time, datetime.timedelta.


@dataclass(kw_only=True)
class SheetData:
    """One sheet, 1-based coordinates everywhere except the ``cells`` list itself."""

    name: str
    state: str = "visible"  # "visible" | "hidden" | "veryHidden"
    # cells[r][c] is Excel row r+1, column c+1. Rows may be ragged; trailing empties may be cut.
    cells: list[list[object]] = field(default_factory=list)
    # Merged ranges as (first_row, first_col, last_row, last_col), 1-based, inclusive.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    # Numeric cells whose number format is a percentage (0.75 shown as 75%).
    percent: set[tuple[int, int]] = field(default_factory=set)
    # Cells holding a formula whose result is not stored in the file.
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    # Cells holding an error value (#DIV/0!, #REF!, ...): (row, col) -> error text.
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)

    @property
    def n_rows(self) -> int:
        return len(self.cells)

    def value(self, row: int, col: int) -> object:
        """Value at 1-based (row, col), None outside the data."""
        if row < 1 or col < 1 or row > len(self.cells):
            return None
        line = self.cells[row - 1]
        return line[col - 1] if col <= len(line) else None


@dataclass(kw_only=True)
class WorkbookData:
    format: str  # "xlsx" | "xlsm" | "xls" | "ods"
    reader: str = "calamine"  # the reader that read the values (see ingest/fallback.py)
    sheets: list[SheetData] = field(default_factory=list)
    producer: str | None = None  # "Microsoft Excel", "LibreOffice/7.4...", when the file says so
    has_macros: bool = False

    def sheet(self, name: str) -> SheetData | None:
        return next((s for s in self.sheets if s.name == name), None)


class ReadFailure(Exception):
    """The file cannot be read as a workbook. ``code`` is a catalogue code (RB-E001 not a
    workbook, RB-E002 password, RB-E003 corrupt, RB-E004 empty, RB-E007 over a limit, RB-E012
    unsupported format); ``message`` an Indonesian sentence naming what was found; ``detail``
    the reader's own technical reason, when there is one."""

    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail

    def __reduce__(self):  # picklable across worker processes
        return (ReadFailure, (self.code, self.message, self.detail))


def encrypted() -> ReadFailure:
    return ReadFailure(
        "RB-E002", "Berkas dilindungi kata sandi (terenkripsi) sehingga tidak dapat dibaca."
    )


def corrupt(exc: BaseException) -> ReadFailure:
    detail = technical(exc)
    return ReadFailure(
        "RB-E003", f"Berkas rusak dan tidak dapat dibaca (rincian teknis: {detail}).", detail
    )


def technical(exc: BaseException) -> str:
    """The first line of an exception's text (its class name when empty), for a message's
    "rincian teknis"."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]
