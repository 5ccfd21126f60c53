"""ODS (OpenDocument spreadsheet): limits and cell metadata of every table, before calamine reads it.

:func:`scan_ods` refuses an encrypted package (``encryption-data`` in the manifest), checks the
prologs of the parts only calamine parses, and streams ``content.xml`` once through the guarded
expat: each table's real used range (repeats honoured), percentages, formulas without value,
error values, spanned (merged) cells and hidden rows/columns; the producer comes from
``meta.xml``.
"""

from __future__ import annotations

import zipfile

from pipeline.ingest.containers import check_prolog, check_zip, elements, stream_scan
from pipeline.ingest.limits import Limits, check_extent, over_limit
from pipeline.ingest.scan import SheetScan, WorkbookScan, clip
from pipeline.ingest.workbook import ReadFailure, encrypted

_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CALCEXT_VALUE_TYPE = (
    "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}value-type"
)
_TEXT_P = "urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"


def scan_ods(zf: zipfile.ZipFile, limits: Limits) -> WorkbookScan:
    """Limits and metadata of an OpenDocument spreadsheet (content.xml streamed once)."""
    members = check_zip(zf, limits)
    manifest = members.get("meta-inf/manifest.xml")
    if manifest is not None and any(
        tag == "encryption-data" for tag, _a, _t in elements(zf, manifest)
    ):
        raise encrypted()
    content = members.get("content.xml")
    if content is None:
        raise ReadFailure("RB-E003", "Berkas rusak: bagian isi (content.xml) tidak ada.")
    for name in ("styles.xml", "meta.xml", "settings.xml"):
        if name in members:
            check_prolog(zf, members[name])
    scan = WorkbookScan(
        producer=_ods_producer(zf, members),
        has_macros=any(n.startswith(("basic/", "scripts/")) for n in members),
    )
    with zf.open(content) as fh:
        scan.sheets = stream_scan(fh, _OdsTarget(limits))
    for sheet in scan.sheets.values():
        clip(sheet)
    return scan


def _ods_producer(zf, members) -> str | None:
    info = members.get("meta.xml")
    if info is None:
        return None
    texts = {tag: text for tag, _attrs, text in elements(zf, info)}
    return texts.get("generator", "").strip()[:200] or None


_ODS_TABLE = _TABLE_NS + "table"
_ODS_COLUMN = _TABLE_NS + "table-column"
_ODS_ROW = _TABLE_NS + "table-row"
_ODS_CELLS = frozenset({_TABLE_NS + "table-cell", _TABLE_NS + "covered-table-cell"})
_ODS_NAME = _TABLE_NS + "name"
_ODS_VISIBILITY = _TABLE_NS + "visibility"
_ODS_FORMULA = _TABLE_NS + "formula"
_ODS_VALUE_TYPE = _OFFICE_NS + "value-type"
_ODS_COLS_REPEATED = _TABLE_NS + "number-columns-repeated"
_ODS_ROWS_REPEATED = _TABLE_NS + "number-rows-repeated"
_ODS_COLS_SPANNED = _TABLE_NS + "number-columns-spanned"
_ODS_ROWS_SPANNED = _TABLE_NS + "number-rows-spanned"


class _OdsTarget:
    """Streaming scan of content.xml: each table's used range (repeats honoured, so a cell
    repeated 16,384 times across 1,048,576 rows counts as what calamine would allocate),
    percentages, formulas without value, errors, spans and hidden rows/columns. A cell's
    attributes are only looked at when it closes, and only when it holds something."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.sheets: dict[str, SheetScan] = {}
        self.scan: SheetScan | None = None
        self.name = ""
        self.row = 0  # 1-based index of the current row (first row of a repeated block)
        self.row_repeat = 1
        self.col = 0  # columns consumed so far in the current row
        self.columns = 0  # columns declared so far in the current table
        self.cell: dict | None = None  # attributes of the open cell
        self.cell_text = False
        self.error_text: list[str] = []

    def start(self, tag, attrib):
        if self.cell is not None:
            self.cell_text = self.cell_text or tag == _TEXT_P
        elif tag in _ODS_CELLS:
            self.cell, self.cell_text = attrib, False
        elif tag == _ODS_ROW and self.scan is not None:
            self.row += 1
            self.col = 0
            self.row_repeat = _repeat(attrib, _ODS_ROWS_REPEATED)
            if attrib.get(_ODS_VISIBILITY, "visible") != "visible":
                last = min(self.row + self.row_repeat - 1, self.limits.max_rows_per_sheet)
                self.scan.hidden_rows.update(range(self.row, last + 1))
        elif tag == _ODS_COLUMN and self.scan is not None:
            repeat = _repeat(attrib, _ODS_COLS_REPEATED)
            if attrib.get(_ODS_VISIBILITY, "visible") != "visible":
                last = min(self.columns + repeat, self.limits.max_cols)
                self.scan.hidden_cols.update(range(self.columns + 1, last + 1))
            self.columns += repeat
        elif tag == _ODS_TABLE:
            self.name = attrib.get(_ODS_NAME, "")
            self.scan = self.sheets.setdefault(self.name, SheetScan())
            self.row = self.columns = 0
            if len(self.sheets) > self.limits.max_sheets:
                raise over_limit(f"jumlah lembar melebihi batas {self.limits.max_sheets}")

    def data(self, text):
        if self.cell is not None and len(self.error_text) < 8:
            self.error_text.append(text)

    def end(self, tag):
        if tag == _ODS_ROW:
            self.row += self.row_repeat - 1
        elif tag in _ODS_CELLS and self.cell is not None:
            self._close_cell(self.cell)
            self.cell = None
            self.error_text = []

    def _close_cell(self, attrib: dict) -> None:
        first_col = self.col + 1
        self.col += _repeat(attrib, _ODS_COLS_REPEATED)
        kind = attrib.get(_ODS_VALUE_TYPE)
        formula = _ODS_FORMULA in attrib
        if not (kind or formula or self.cell_text) or self.scan is None:
            return
        scan = self.scan
        last_row = self.row + self.row_repeat - 1
        scan.n_rows = max(scan.n_rows, last_row)
        scan.n_cols = max(scan.n_cols, self.col)
        check_extent(self.name, scan.n_rows, scan.n_cols, self.limits)
        rows, cols = range(self.row, last_row + 1), range(first_col, self.col + 1)
        if attrib.get(_CALCEXT_VALUE_TYPE) == "error":
            text = "".join(self.error_text).strip()[:32] or "#N/A"
            scan.errors.update({(r, c): text for r in rows for c in cols})
        elif formula and not kind:
            scan.formulas_without_value.update((r, c) for r in rows for c in cols)
        elif kind == "percentage":
            scan.percent.update((r, c) for r in rows for c in cols)
        rows_spanned = _repeat(attrib, _ODS_ROWS_SPANNED)
        cols_spanned = _repeat(attrib, _ODS_COLS_SPANNED)
        if rows_spanned > 1 or cols_spanned > 1:
            scan.merged.append(
                (self.row, first_col, self.row + rows_spanned - 1, first_col + cols_spanned - 1)
            )

    def close(self):
        return self.sheets


def _repeat(attrib, key: str) -> int:
    value = attrib.get(key)
    return max(1, int(value)) if value and value.isascii() and value.isdigit() else 1
