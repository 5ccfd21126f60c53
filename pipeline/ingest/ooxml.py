"""OOXML (``.xlsx``, ``.xlsm``): limits and cell metadata of every worksheet, before calamine reads it.

:func:`scan_ooxml` parses the workbook and its relationships with the guarded expat, finds the
percent number styles in ``styles.xml``, checks the prolog of the shared strings and scans every
worksheet part for its real used range, merged ranges, percent-formatted numbers, formulas
without a cached value, error values and hidden rows/columns; the producer comes from
``docProps/app.xml``.

The worksheet scan has two paths. The fast one runs regular expressions over the decompressed
sheet XML (~0.3 ms for a 40-row template sheet) and applies when the XML has the shape every
producer writes (default namespace, each ``<c>`` opening with its ``r`` attribute); anything
else (prefixes, cells without references, a sheet part over 4 MiB) goes through a streaming
expat parse that follows the same rules cell by cell and stops at the first exceeded limit.
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

_FAST_SCAN_MAX_BYTES = 4 << 20


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
    percent_styles = set()
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


def _scan_worksheet(zf, info, name: str, percent_styles, limits: Limits) -> SheetScan:
    """Used range and metadata of one worksheet part (fast path when its XML allows; the
    streaming parser refuses DTDs itself)."""
    if info.file_size <= _FAST_SCAN_MAX_BYTES:
        data = zf.read(info)
        refuse_dtd(data[:PROLOG_MAX_BYTES])
        scan = _fast_scan(data, percent_styles)
        if scan is not None:
            check_extent(name, scan.n_rows, scan.n_cols, limits)
            return clip(scan)
    with zf.open(info) as fh:
        return clip(stream_scan(fh, _SheetTarget(name, percent_styles, limits)))


def _fast_scan(data: bytes, percent_styles: frozenset[int]) -> SheetScan | None:
    """The scan by regular expressions, or None when the XML does not have the usual shape
    (prefixed elements, cells without a leading ``r``, malformed references): then only a real
    parser can place every cell. Per-cell Python work is avoided (columns are unzipped and
    deduplicated in C); each optional pass runs only when its marker occurs in the sheet."""
    if b"<sheetData" not in data or b"<c>" in data or b"<c/>" in data or b":c " in data:
        return None
    cells = _CELL.findall(data)
    if len(cells) != data.count(b"<c "):
        return None
    scan = SheetScan()
    if not cells:
        return scan
    cols, rows, styles, kinds, rests = zip(*cells, strict=True)
    if b"/" in b"".join(rests):  # styled empty cells (<c .../>): no value, calamine skips them
        filled = [(c, r) for c, r, rest in zip(cols, rows, rests, strict=True) if rest[-1:] != b"/"]
        cols, rows = (tuple(x) for x in zip(*filled, strict=True)) if filled else ((), ())
    scan.n_rows = max(map(int, set(rows)), default=0)
    scan.n_cols = max(map(col_index, set(cols)), default=0)
    if b't="e"' in data or b"<f>" in data or b"<f " in data:  # not <formula1> of validations
        for col, row, attrs, body in _CELL_BODY.findall(data):
            where = (int(row), col_index(col))
            kind = _TYPE.search(attrs)
            if kind and kind[1] == b"e":
                value = _VALUE.search(body)
                scan.errors[where] = short_text(value[1]) if value else "#N/A"
            elif b"<f" in body and not _has_cached_value(body):
                scan.formulas_without_value.add(where)
    if b'hidden="1"' in data or b'hidden="true"' in data:
        for attrs in _ROW.findall(data):
            if _HIDDEN.search(attrs) and (row := _ATTR_R.search(attrs)):
                scan.hidden_rows.add(int(row[1]))
        for attrs in _COL.findall(data):
            if _HIDDEN.search(attrs) and (span := _COL_SPAN.search(attrs)):
                low, high = (span[1], span[2]) if span[1] else (span[4], span[3])
                scan.hidden_cols.update(range(int(low), min(int(high), scan.n_cols) + 1))
    if b"<mergeCell " in data:
        scan.merged = [cell_range(ref.decode("ascii")) for ref in _MERGE.findall(data)]
    if percent_styles:
        percent = _percent_cells(cells, styles, rests, percent_styles)
        scan.percent = percent - scan.formulas_without_value
    return scan


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
