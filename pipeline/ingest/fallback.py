"""Second, independent readers: a file that is structurally a workbook is never called damaged
because one reader could not parse it.

When calamine (or our format scan) fails on a file whose container says it is a workbook (not a
limit, not encryption: those are the file's own facts), :func:`read_second` reads it again with
a reader that shares no parsing code with calamine:

==========  =========================================================  ==========================
format      reader                                                     metadata it gives itself
==========  =========================================================  ==========================
xlsx, xlsm  openpyxl (read-only, cached values), from a file handle     visibility, percent formats
ods         odfpy (its DOM), walked here: repeats, spans, text:s/tab   visibility, percent, spans,
                                                                       hidden rows/columns
xls         xlrd (with formatting records)                             visibility, merges, percent,
                                                                       errors, hidden rows/columns
==========  =========================================================  ==========================

It runs in the same bounded worker, under the same limits: when the scan succeeded its used
range bounds the read (and its metadata is kept: it is richer); otherwise the limits are
checked as values arrive, counting only cells that hold a value. Before any second reader
parses XML, every XML part's prolog is checked for a DTD (the readers' own parsers are not all
guarded the way ours are). Which reader read a file is recorded in
:attr:`~pipeline.ingest.workbook.WorkbookData.reader` and in the manifest.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from pipeline.ingest.cells import clean_cells, sheet_data
from pipeline.ingest.containers import XML_DEFENCES, check_prolog, entity_failure
from pipeline.ingest.limits import Limits, check_extent, over_limit
from pipeline.ingest.scan import SheetScan, WorkbookScan, is_percent_format
from pipeline.ingest.workbook import ReadFailure, SheetData, technical

SECOND_READER = {"xlsx": "openpyxl", "xlsm": "openpyxl", "ods": "odfpy", "xls": "xlrd"}


def read_second(path: Path, fmt: str, meta: WorkbookScan | None, limits: Limits) -> list[SheetData]:
    """Every sheet of ``path`` through the second reader of ``fmt``; raises ReadFailure with
    RB-E003 (and the reader's technical reason) when it cannot read the file either, RB-E007
    when the file exceeds a limit."""
    read = {"xlsx": _openpyxl, "xlsm": _openpyxl, "ods": _odfpy, "xls": _xlrd}[fmt]
    try:
        if fmt != "xls":
            _refuse_dtds(path)
        return read(path, meta, limits)
    except ReadFailure:
        raise
    except XML_DEFENCES:
        raise entity_failure() from None
    except MemoryError:
        raise
    except Exception as exc:  # whatever the third-party reader raises: it could not read it
        detail = technical(exc)
        raise ReadFailure("RB-E003", detail, detail) from None


def _refuse_dtds(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.filename.lower().endswith((".xml", ".rels")):
                check_prolog(zf, info)


class _Extent:
    """The used range of one sheet as values arrive: only cells holding a value count."""

    def __init__(self, name: str, limits: Limits):
        self.name, self.limits = name, limits
        self.rows = self.cols = 0

    def add(self, row: int, line: list) -> None:
        """``line`` is Excel row ``row`` (1-based); raises RB-E007 past a limit."""
        last = next((i for i in range(len(line), 0, -1) if line[i - 1] not in (None, "")), 0)
        if last:
            self.rows, self.cols = row, max(self.cols, last)
            check_extent(self.name, self.rows, self.cols, self.limits)


# --- OOXML: openpyxl --------------------------------------------------------------------------


def _openpyxl(path: Path, meta: WorkbookScan | None, limits: Limits) -> list[SheetData]:
    import openpyxl

    with open(path, "rb") as fh:  # a handle: openpyxl would refuse a misleading extension
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
        try:
            if len(book.worksheets) > limits.max_sheets:
                raise over_limit(
                    f"jumlah lembar {len(book.worksheets)} melebihi batas {limits.max_sheets}"
                )
            return [_openpyxl_sheet(ws, meta, limits) for ws in book.worksheets]
        finally:
            book.close()


def _openpyxl_sheet(ws, meta: WorkbookScan | None, limits: Limits) -> SheetData:
    scanned = meta.sheets.get(ws.title) if meta else None
    rows: list[list] = []
    if scanned is not None:
        if scanned.n_rows and scanned.n_cols:
            for r, line in enumerate(
                ws.iter_rows(max_row=scanned.n_rows, max_col=scanned.n_cols, values_only=True),
                start=1,
            ):
                rows.append(
                    [
                        None if (r, c) in scanned.errors else _plain(v)
                        for c, v in enumerate(line, start=1)
                    ]
                )
    else:
        scanned = SheetScan()
        extent = _Extent(ws.title, limits)
        ws.reset_dimensions()  # the declared dimension is not trusted
        for r, cells in enumerate(ws.iter_rows(), start=1):
            line = []
            for c, cell in enumerate(cells, start=1):
                value = _plain(getattr(cell, "value", None))
                if getattr(cell, "data_type", None) == "e":
                    scanned.errors[(r, c)], value = str(value), None
                elif isinstance(value, float) and is_percent_format(
                    getattr(cell, "number_format", "") or ""
                ):
                    scanned.percent.add((r, c))
                line.append(value)
            extent.add(r, line)
            rows.append(line)
    state = {"hidden": "hidden", "veryHidden": "veryHidden"}.get(ws.sheet_state, "visible")
    return sheet_data(ws.title, state, clean_cells(rows, ws.title, limits), scanned)


def _plain(value: object) -> object:
    """A value as calamine gives it: numbers as floats, a midnight datetime as a date."""
    if value.__class__ is int:
        return float(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


# --- ODS: odfpy -------------------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_CELLS = {(_TABLE, "table-cell"), (_TABLE, "covered-table-cell")}
_ROW_GROUPS = {(_TABLE, n) for n in ("table-rows", "table-header-rows", "table-row-group")}
_COLUMN_GROUPS = {
    (_TABLE, n) for n in ("table-columns", "table-header-columns", "table-column-group")
}


def _odfpy(path: Path, meta: WorkbookScan | None, limits: Limits) -> list[SheetData]:
    from odf.office import Spreadsheet
    from odf.opendocument import load

    doc = load(str(path))
    # Not doc.spreadsheet: odfpy takes the body's first child, which is the whitespace text
    # between tags in indented files (Gnumeric), and fails where the file is valid.
    books = doc.body.getElementsByType(Spreadsheet)
    tables = [n for n in (books[0].childNodes if books else []) if _qname(n) == (_TABLE, "table")]
    if len(tables) > limits.max_sheets:
        raise over_limit(f"jumlah lembar {len(tables)} melebihi batas {limits.max_sheets}")
    hidden_styles = _hidden_table_styles(doc)
    sheets = []
    for table in tables:
        name = _attr(table, _TABLE, "name") or ""
        scanned = meta.sheets.get(name) if meta else None
        cells, own = _odf_table(table, name, scanned, limits)
        state = "hidden" if _attr(table, _TABLE, "style-name") in hidden_styles else "visible"
        sheets.append(sheet_data(name, state, clean_cells(cells, name, limits), scanned or own))
    return sheets


def _qname(node) -> tuple[str, str] | None:
    return getattr(node, "qname", None)


def _attr(node, ns: str, name: str) -> str | None:
    return node.attributes.get((ns, name)) if hasattr(node, "attributes") else None


def _hidden_table_styles(doc) -> set[str]:
    """Automatic table styles whose table-properties say ``table:display="false"``."""
    hidden: set[str] = set()
    for style in doc.automaticstyles.childNodes:
        for props in getattr(style, "childNodes", ()):
            if _qname(props) == (_STYLE, "table-properties") and (
                _attr(props, _TABLE, "display") == "false"
            ):
                name = _attr(style, _STYLE, "name")
                if name is not None:
                    hidden.add(name)
    return hidden


def _repeat(node, name: str) -> int:
    value = _attr(node, _TABLE, name)
    return max(1, int(value)) if value and value.isascii() and value.isdigit() else 1


def _odf_table(table, name: str, scanned: SheetScan | None, limits: Limits):
    """``(rows, own metadata)`` of one table; rows bounded by the scan's used range when there
    is one, else by the limits as values arrive."""
    max_rows = scanned.n_rows if scanned else limits.max_rows_per_sheet + 1
    max_cols = scanned.n_cols if scanned else limits.max_cols + 1
    own = SheetScan()
    extent = _Extent(name, limits)
    rows: list[list] = []
    column = row = 0  # columns declared, rows consumed so far
    for node in _flatten(table, _COLUMN_GROUPS | _ROW_GROUPS):
        qname = _qname(node)
        if qname == (_TABLE, "table-column"):
            repeat = _repeat(node, "number-columns-repeated")
            if _attr(node, _TABLE, "visibility") not in (None, "visible"):
                own.hidden_cols.update(range(column + 1, min(column + repeat, max_cols) + 1))
            column += repeat
        elif qname == (_TABLE, "table-row") and row < max_rows:
            repeat = min(_repeat(node, "number-rows-repeated"), max_rows - row)
            if _attr(node, _TABLE, "visibility") not in (None, "visible"):
                own.hidden_rows.update(range(row + 1, row + repeat + 1))
            line = _odf_row(node, row + 1, max_cols, own)
            if any(v is not None for v in line):
                rows.extend([] for _ in range(row - len(rows)))  # the empty rows above
                for _ in range(repeat):
                    rows.append(list(line))
                    extent.add(len(rows), line)
            row += repeat
    return rows, own


def _flatten(node, groups):
    for child in node.childNodes:
        if _qname(child) in groups:
            yield from _flatten(child, groups)
        else:
            yield child


def _odf_row(row, r: int, max_cols: int, own: SheetScan) -> list:
    line: list = []
    for cell in row.childNodes:
        if _qname(cell) not in _CELLS or len(line) >= max_cols:
            continue
        repeat = min(_repeat(cell, "number-columns-repeated"), max_cols - len(line))
        value, kind = _odf_value(cell)
        if value is None:
            line.extend([None] * repeat)
            continue
        for _ in range(repeat):
            line.append(value)
            if kind == "percentage":
                own.percent.add((r, len(line)))
        spans = (_repeat(cell, "number-rows-spanned"), _repeat(cell, "number-columns-spanned"))
        if spans != (1, 1):
            c = len(line)
            own.merged.append((r, c, r + spans[0] - 1, c + spans[1] - 1))
    return line


def _odf_value(cell) -> tuple[object, str | None]:
    kind = _attr(cell, _OFFICE, "value-type")
    if kind in ("float", "percentage", "currency"):
        return float(_attr(cell, _OFFICE, "value") or "nan"), kind
    if kind == "boolean":
        return _attr(cell, _OFFICE, "boolean-value") == "true", kind
    if kind == "date":
        text = _attr(cell, _OFFICE, "date-value") or ""
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return text, kind
        return (when.date() if len(text) <= 10 else when), kind
    text = "\n".join(_odf_text(p) for p in cell.childNodes if _qname(p) == (_TEXT, "p"))
    if kind == "string":
        value = _attr(cell, _OFFICE, "string-value")
        return (value if value is not None else text), kind
    return (text or None), kind


def _odf_text(node) -> str:
    parts = []
    for child in node.childNodes:
        qname = _qname(child)
        if qname is None or child.nodeType == child.TEXT_NODE:
            parts.append(getattr(child, "data", ""))
        elif qname == (_TEXT, "s"):
            parts.append(" " * int(_attr(child, _TEXT, "c") or 1))
        elif qname == (_TEXT, "tab"):
            parts.append("\t")
        elif qname == (_TEXT, "line-break"):
            parts.append("\n")
        else:
            parts.append(_odf_text(child))
    return "".join(parts)


# --- BIFF: xlrd -------------------------------------------------------------------------------

_XLRD_STATES = {0: "visible", 1: "hidden", 2: "veryHidden"}


def _xlrd(path: Path, meta: WorkbookScan | None, limits: Limits) -> list[SheetData]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    except (NotImplementedError, xlrd.XLRDError):  # formatting records it cannot follow
        book = xlrd.open_workbook(str(path), on_demand=True)
    try:
        names = book.sheet_names()
        if len(names) > limits.max_sheets:
            raise over_limit(f"jumlah lembar {len(names)} melebihi batas {limits.max_sheets}")
        return [_xlrd_sheet(book, i, meta, limits) for i in range(len(names))]
    finally:
        book.release_resources()


def _xlrd_sheet(book, index: int, meta: WorkbookScan | None, limits: Limits) -> SheetData:
    import xlrd

    sheet = book.sheet_by_index(index)
    scanned = meta.sheets.get(sheet.name) if meta else None
    own = SheetScan()
    extent = _Extent(sheet.name, limits)
    rows = []
    for r in range(sheet.nrows):
        line = []
        for c, cell in enumerate(sheet.row(r)):
            value = cell.value
            if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) or value == "":
                value = None
            elif cell.ctype == xlrd.XL_CELL_DATE:
                value = _plain(xlrd.xldate_as_datetime(value, book.datemode))
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                value = bool(value)
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                own.errors[(r + 1, c + 1)] = xlrd.error_text_from_code.get(value, "#N/A")
                value = None
            elif cell.ctype == xlrd.XL_CELL_NUMBER and _xlrd_percent(book, sheet, r, c):
                own.percent.add((r + 1, c + 1))
            line.append(value)
        extent.add(r + 1, line)
        rows.append(line)
    if book.formatting_info:
        own.hidden_rows = {r + 1 for r, info in sheet.rowinfo_map.items() if info.hidden}
        own.hidden_cols = {c + 1 for c, info in sheet.colinfo_map.items() if info.hidden}
    merged = [(r0 + 1, c0 + 1, r1, c1) for r0, r1, c0, c1 in sheet.merged_cells]
    state = _XLRD_STATES.get(sheet.visibility, "visible")
    cells = clean_cells(rows, sheet.name, limits)
    if scanned is not None:
        return sheet_data(sheet.name, state, cells, scanned, merged=merged)
    return sheet_data(sheet.name, state, cells, own, merged=merged)


def _xlrd_percent(book, sheet, r: int, c: int) -> bool:
    if not book.formatting_info:
        return False
    xf = book.xf_list[sheet.cell_xf_index(r, c)]
    fmt = book.format_map.get(xf.format_key)
    return bool(fmt and is_percent_format(fmt.format_str))
