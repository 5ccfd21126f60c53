"""OOXML (``.xlsx``, ``.xlsm``): limits and cell metadata of every worksheet, before calamine reads it.

:func:`scan_ooxml` parses the workbook and its relationships with the guarded expat, finds the
percent number styles in ``styles.xml``, checks the prolog of the shared strings and scans every
worksheet part for its real used range, merged ranges, percent-formatted numbers, formulas
without a cached value, error values and hidden rows/columns; the producer comes from
``docProps/app.xml``.

The worksheet scan has two paths. The fast one runs regular expressions over the decompressed
sheet XML (~0.3 ms for a 40-row template sheet), read in pieces of ~4 MiB cut after a ``</row>``,
with empty cells cut out in C first, so a million styled empty cells cost a few regular
expression passes and no Python step per cell. It applies when the XML has the shape every
producer writes (default namespace, each ``<c>`` opening with its ``r`` attribute); anything
else (prefixes, cells without references, a row over 16 MiB) goes through a streaming expat
parse that follows the same rules cell by cell and stops at the first exceeded limit.
"""

from __future__ import annotations

import html
import re
import zipfile

from pipeline.ingest.containers import (
    PROLOG_MAX_BYTES,
    check_prolog,
    check_zip,
    elements,
    local,
    read_small,
    refuse_dtd,
    rels,
    stream_scan,
)
from pipeline.ingest.limits import Limits, check_extent, over_limit
from pipeline.ingest.scan import (
    BUILTIN_PERCENT_FORMATS,
    SheetScan,
    WorkbookScan,
    cell_range,
    clip,
    col_index,
    int_attr,
    is_percent_format,
    parse_ref,
    short_text,
)
from pipeline.ingest.workbook import ReadFailure

_PIECE_BYTES = 4 << 20
_MAX_PIECE_BYTES = 16 << 20


def scan_ooxml(zf: zipfile.ZipFile, limits: Limits) -> WorkbookScan:
    """Limits and metadata of an OOXML workbook, every sheet scanned before calamine reads it.
    The XML parts calamine parses are the workbook, its relationships, styles, shared strings
    and worksheets: the workbook and relationships are parsed here by the guarded expat, styles
    and worksheets are scanned after a prolog check, shared strings get the prolog check."""
    members = check_zip(zf, limits)
    root_rels = rels(zf, members, "")
    workbook_part = next(
        (t for kind, t in root_rels.values() if kind == "officeDocument"), "xl/workbook.xml"
    )
    if workbook_part not in members:
        raise ReadFailure("RB-E003", "Berkas rusak: bagian buku kerja (workbook.xml) tidak ada.")
    book = elements(zf, members[workbook_part])
    sheets = [attrs for tag, attrs, _text in book if tag == "sheet"]
    if len(sheets) > limits.max_sheets:
        raise over_limit(f"jumlah lembar {len(sheets)} melebihi batas {limits.max_sheets}")
    book_rels = rels(zf, members, workbook_part)
    percent_styles: frozenset[int] = frozenset()
    for kind, target in book_rels.values():
        info = members.get(target)
        if info is None:
            continue
        if kind == "styles":
            percent_styles = _percent_styles(zf, info)
        elif kind == "sharedStrings":
            check_prolog(zf, info)
    scan = WorkbookScan(
        producer=_ooxml_producer(zf, members, root_rels),
        has_macros=any(name.endswith("vbaproject.bin") for name in members),
    )
    for attrs in sheets:
        kind, target = book_rels.get(attrs.get("id", ""), ("", ""))
        info = members.get(target)
        if kind != "worksheet" or info is None:
            continue
        name = attrs.get("name", "")
        scan.sheets[name] = _scan_worksheet(zf, info, name, percent_styles, limits)
    return scan


_NUM_FMT = re.compile(rb"<numFmt ([^>]*)>")
_CELL_XFS = re.compile(rb"<cellXfs[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b([^>]*)>")
_NUM_FMT_ID = re.compile(rb'\bnumFmtId="([0-9]+)"')
_FORMAT_CODE = re.compile(rb'\bformatCode="([^"]*)"')


def _percent_styles(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> frozenset[int]:
    """Indices of ``cellXfs`` whose number format shows a percentage. Read with regular
    expressions (styles.xml can hold thousands of elements, only two kinds matter) after the
    DTD check, since calamine parses this part too. Unprefixed markup only: with prefixes, no
    percent styles are found and percent numbers stay fractions (the parser's fallback)."""
    data = read_small(zf, info)
    refuse_dtd(data[:PROLOG_MAX_BYTES])
    percent_formats = set(BUILTIN_PERCENT_FORMATS)
    for attrs in _NUM_FMT.findall(data):
        fmt_id, code = _NUM_FMT_ID.search(attrs), _FORMAT_CODE.search(attrs)
        if fmt_id and code and is_percent_format(html.unescape(code[1].decode("utf-8", "replace"))):
            percent_formats.add(int(fmt_id[1]))
    block = _CELL_XFS.search(data)
    xfs = _XF.findall(block[1]) if block else []
    return frozenset(
        i
        for i, attrs in enumerate(xfs)
        if int((_NUM_FMT_ID.search(attrs) or (b"", b"0"))[1]) in percent_formats
    )


def _ooxml_producer(zf, members, root_rels) -> str | None:
    app_part = next(
        (t for kind, t in root_rels.values() if kind == "extended-properties"), "docprops/app.xml"
    )
    info = members.get(app_part)
    if info is None:
        return None
    texts = {tag: text for tag, _attrs, text in elements(zf, info)}
    name = texts.get("Application", "").strip()
    version = texts.get("AppVersion", "").strip()
    return (f"{name} {version}".strip() if name else None) or None


# Every producer writes the worksheet in the default namespace with each cell opening as
# <c r="B7" ...>: the fast scan relies on that shape and checks it (otherwise: streaming scan).
# r, s, t is the attribute order every producer uses; other orders are handled per cell.
_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?([^>]*)>')
_ROW = re.compile(rb"<row ([^>]*)>")
_COL = re.compile(rb"<col ([^>]*)>")
_MERGE = re.compile(rb'<mergeCell [^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
_ATTR_R = re.compile(rb'\br="([0-9]+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_STYLE = re.compile(rb'\bs="([0-9]+)"')
_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_COL_SPAN = re.compile(
    rb'\bmin="([0-9]+)"[^>]*?\bmax="([0-9]+)"|\bmax="([0-9]+)"[^>]*?\bmin="([0-9]+)"'
)
_CELL_BODY = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"([^>]*?)(?<!/)>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>([^<]*)</v>")
# Cells without a value: self-closing (styled blanks) or closed at once.
_CELL_END = re.compile(rb"</c>")
_EMPTY_CELL = re.compile(rb"<c [^>]*?/>|<c [^>/]*>\s*</c>")


def _scan_worksheet(zf, info, name: str, percent_styles, limits: Limits) -> SheetScan:
    """Used range and metadata of one worksheet part: the fast scan, piece by piece, when its
    XML has the usual shape, else the streaming parser (which refuses DTDs itself)."""
    with zf.open(info) as fh:
        scan = _fast_stream(fh, name, percent_styles, limits, whole=info.file_size < _PIECE_BYTES)
    if scan is None:
        with zf.open(info) as fh:
            scan = stream_scan(fh, _SheetTarget(name, percent_styles, limits))
    return clip(scan)


def _fast_stream(fh, name: str, percent_styles, limits: Limits, *, whole: bool) -> SheetScan | None:
    """The fast scan over a part read in pieces of ~4 MiB cut after a ``</row>``, so that a
    sheet of a million styled empty cells (whole-row or whole-column fills, Gnumeric's styled
    blanks) costs a regular-expression pass and never a Python step per cell; the limits are
    checked after every piece (``whole``: the part is one piece, its used range exact). None when the XML does not have the usual shape or a single row
    is longer than 16 MiB: then the streaming parser decides."""
    scan, spans = SheetScan(), list[tuple[int, int]]()
    carry, first, sheet_data = b"", True, False
    while True:
        chunk = fh.read(_PIECE_BYTES)
        data = carry + chunk if carry else chunk
        if first:
            refuse_dtd(data[:PROLOG_MAX_BYTES])
            first = False
        if chunk:
            cut = data.rfind(b"</row>")
            if cut < 0:
                if len(data) > _MAX_PIECE_BYTES:
                    return None
                carry = data
                continue
            piece, carry = data[: cut + 6], data[cut + 6 :]
        else:
            piece, carry = data, b""
        sheet_data = sheet_data or b"<sheetData" in piece
        if not _fast_piece(piece, scan, percent_styles, spans):
            return None
        if whole:
            check_extent(name, scan.n_rows, scan.n_cols, limits)
        else:  # a piece may end far past a limit: name the first row/column beyond it
            check_extent(
                name,
                min(scan.n_rows, limits.max_rows_per_sheet + 1),
                min(scan.n_cols, limits.max_cols + 1),
                limits,
            )
        if not chunk:
            break
    if not sheet_data:
        return None
    _hide_columns(scan, spans)
    return scan


def _fast_scan(data: bytes, percent_styles: frozenset[int]) -> SheetScan | None:
    """The scan by regular expressions of a whole part in memory (see :func:`_fast_piece`),
    or None when the XML does not have the usual shape."""
    scan, spans = SheetScan(), list[tuple[int, int]]()
    if b"<sheetData" not in data or not _fast_piece(data, scan, percent_styles, spans):
        return None
    _hide_columns(scan, spans)
    return scan


def _hide_columns(scan: SheetScan, spans: list[tuple[int, int]]) -> None:
    for low, high in spans:
        scan.hidden_cols.update(range(low, min(high, scan.n_cols) + 1))


def _fast_piece(data: bytes, scan: SheetScan, percent_styles, spans: list) -> bool:
    """Add one piece of a worksheet (whole rows) to ``scan``; False when the XML does not have
    the usual shape (prefixed elements, cells without a leading ``r``, malformed references):
    then only a real parser can place every cell. Empty cells (``<c .../>``, ``<c ...></c>``)
    are cut out first, in C: they hold no value and calamine skips them. Per-cell Python work
    is avoided (columns are unzipped and deduplicated in C); each optional pass runs only when
    its marker occurs in the piece. Hidden column spans are collected in ``spans``."""
    if b"<c>" in data or b"<c/>" in data or b":c " in data:
        return False
    whole, closed = data, data.count(b"</c>")
    if data.count(b"<c ") > 4 * closed + 64:  # mostly empty cells: keep only the others
        data = _closed_cells(data)
    elif b"/>" in data or b"></c>" in data:
        data = _EMPTY_CELL.sub(b"", data)
    cells = _CELL.findall(data)
    if len(cells) != data.count(b"<c "):
        return False
    if cells:
        cols, rows, styles, _kinds, rests = zip(*cells, strict=True)
        scan.n_rows = max(scan.n_rows, max(map(int, set(rows))))
        scan.n_cols = max(scan.n_cols, max(map(col_index, set(cols))))
    formulas: set[tuple[int, int]] = set()
    if b't="e"' in data or b"<f>" in data or b"<f " in data:  # not <formula1> of validations
        for col, row, attrs, body in _CELL_BODY.findall(data):
            where = (int(row), col_index(col))
            kind = _TYPE.search(attrs)
            if kind and kind[1] == b"e":
                value = _VALUE.search(body)
                scan.errors[where] = short_text(value[1]) if value else "#N/A"
            elif b"<f" in body and not _has_cached_value(body):
                formulas.add(where)
        scan.formulas_without_value |= formulas
    if b'hidden="1"' in whole or b'hidden="true"' in whole:
        for attrs in _ROW.findall(whole):
            if _HIDDEN.search(attrs) and (row := _ATTR_R.search(attrs)):
                scan.hidden_rows.add(int(row[1]))
        for attrs in _COL.findall(whole):
            if _HIDDEN.search(attrs) and (span := _COL_SPAN.search(attrs)):
                low, high = (span[1], span[2]) if span[1] else (span[4], span[3])
                spans.append((int(low), int(high)))
    if b"<mergeCell " in whole:
        scan.merged += [cell_range(ref.decode("ascii")) for ref in _MERGE.findall(whole)]
    if percent_styles and cells:
        scan.percent |= _percent_cells(cells, styles, rests, percent_styles) - formulas
    return True


def _closed_cells(data: bytes) -> bytes:
    """The cells of ``data`` that have a closing tag (the only ones that can hold a value),
    concatenated: found from their ``</c>`` back to their ``<c `` (a cell's content never
    holds ``<c ``), so a piece of a million empty cells costs two C-speed searches per valued
    cell and none per empty one."""
    parts = []
    for end in _CELL_END.finditer(data):
        start = data.rfind(b"<c ", 0, end.start())
        if start >= 0:
            parts.append(data[start : end.end()])
    return b"".join(parts)


def _percent_cells(cells, styles, rests, percent_styles) -> set[tuple[int, int]]:
    """Numeric cells with a value whose style shows a percentage."""
    keys = {str(i).encode() for i in percent_styles}
    if b"=" in b"".join(rests):  # some cell has its attributes in another order: read them all
        styles = [
            s or (_STYLE.search(rest) or (b"", b"0"))[1]
            for s, rest in zip(styles, rests, strict=True)
        ]
    out = set()
    for i in [i for i, style in enumerate(styles) if (style or b"0") in keys]:
        col, row, _style, kind, rest = cells[i]
        kind = kind or (_TYPE.search(rest) or (b"", b""))[1]
        if kind in (b"", b"n") and not rest.endswith(b"/"):
            out.add((int(row), col_index(col)))
    return out


def _has_cached_value(body: bytes) -> bool:
    value = _VALUE.search(body)
    return bool(value and value[1].strip()) or b"<is>" in body


class _SheetTarget:
    """Streaming scan of a worksheet: the same rules as :func:`_fast_scan`, cell by cell, with
    implicit positions for cells and rows that carry no reference."""

    def __init__(self, name: str, percent_styles, limits: Limits):
        self.name = name
        self.limits = limits
        self.percent_styles = percent_styles
        self.scan = SheetScan()
        self.row = 0
        self.col = 0
        self.cell: dict | None = None
        self.in_value = False

    def start(self, tag, attrib):
        element = local(tag)
        if element == "c":
            ref = attrib.get("r")
            row, col = parse_ref(ref) if ref else (self.row, self.col + 1)
            self.row, self.col = row or self.row, col
            self.cell = {"t": attrib.get("t", "n"), "s": attrib.get("s"), "f": False, "v": ""}
            self.cell["has"] = False
        elif self.cell is not None and element in ("f", "v", "is"):
            self.cell["f"] = self.cell["f"] or element == "f"
            self.cell["has"] = self.cell["has"] or element == "is"
            self.in_value = element == "v"
        elif element == "row":
            self.row = int_attr(attrib.get("r")) or self.row + 1
            self.col = 0
            if attrib.get("hidden") in ("1", "true"):
                self.scan.hidden_rows.add(self.row)
        elif element == "col" and attrib.get("hidden") in ("1", "true"):
            high = min(int_attr(attrib.get("max")), self.limits.max_cols)
            self.scan.hidden_cols.update(range(int_attr(attrib.get("min")), high + 1))
        elif element == "mergeCell" and attrib.get("ref"):
            self.scan.merged.append(cell_range(attrib["ref"]))

    def data(self, text):
        if self.in_value and len(self.cell["v"]) < 64:
            self.cell["v"] += text

    def end(self, tag):
        element = local(tag)
        if element == "v":
            self.in_value = False
            self.cell["has"] = self.cell["has"] or bool(self.cell["v"].strip())
        elif element == "c" and self.cell is not None:
            self._close_cell(self.cell)
            self.cell = None

    def _close_cell(self, cell: dict) -> None:
        where = (self.row, self.col)
        if cell["has"] or cell["f"]:
            scan = self.scan
            scan.n_rows = max(scan.n_rows, self.row)
            scan.n_cols = max(scan.n_cols, self.col)
            check_extent(self.name, scan.n_rows, scan.n_cols, self.limits)
        if cell["t"] == "e":
            self.scan.errors[where] = cell["v"].strip() or "#N/A"
        elif cell["f"] and not cell["has"]:
            self.scan.formulas_without_value.add(where)
        elif cell["t"] == "n" and cell["has"] and int_attr(cell["s"]) in self.percent_styles:
            self.scan.percent.add(where)

    def close(self):
        return self.scan
