"""BIFF (``.xls``, Excel 97-2003 and Excel 5): limits and cell metadata of every sheet, from the
records of the ``Workbook`` stream, before calamine reads it.

:func:`scan_xls` finds the used range of every sheet (checked before calamine allocates it),
percent-formatted numbers (XF -> FORMAT), error values (BOOLERR, FORMULA results), hidden rows
(ROW) and columns (COLINFO); FILEPASS means encrypted. Merged ranges come from calamine.
"""

from __future__ import annotations

import struct
from pathlib import Path

from pipeline.ingest.limits import Limits, check_extent
from pipeline.ingest.scan import (
    BUILTIN_PERCENT_FORMATS,
    SheetScan,
    WorkbookScan,
    clip,
    is_percent_format,
)
from pipeline.ingest.sniff import ole_stream
from pipeline.ingest.workbook import ReadFailure, encrypted

_BIFF_BOF = frozenset({0x0809, 0x0409, 0x0209, 0x0009})
_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
_BIFF_NUMBER, _BIFF_RK, _BIFF_MULRK, _BIFF_FORMULA = 0x0203, 0x027E, 0x00BD, 0x0006
_BIFF_BOOLERR, _BIFF_LABELSST, _BIFF_LABEL, _BIFF_RSTRING = 0x0205, 0x00FD, 0x0204, 0x00D6
_BIFF_ROW, _BIFF_COLINFO, _BIFF_EOF = 0x0208, 0x007D, 0x000A
_BIFF_FILEPASS, _BIFF_FORMAT, _BIFF_XF, _BIFF_BOUNDSHEET = 0x002F, 0x041E, 0x00E0, 0x0085


def scan_xls(path: Path, limits: Limits) -> WorkbookScan:
    """Limits and metadata of a BIFF5/BIFF8 workbook from its ``Workbook`` stream's records:
    the used range of every sheet (checked before calamine allocates it), percent-formatted
    numbers (XF -> FORMAT), error values (BOOLERR, FORMULA results), hidden rows (ROW) and
    columns (COLINFO); FILEPASS means encrypted. Merged ranges come from calamine. Without a
    readable stream (a workbook under 4 KiB lives in the OLE mini stream) the scan is empty and
    only the worker's memory limit bounds calamine."""
    stream = ole_stream(path, ("Workbook", "Book"), limits.max_uncompressed_bytes)
    if stream is None:
        return WorkbookScan()
    try:
        return _BiffScan(stream, limits).run()
    except struct.error:
        raise ReadFailure("RB-E003", "Berkas rusak: catatan BIFF terpotong.") from None


class _BiffScan:
    """One pass over the BIFF records of a Workbook stream."""

    def __init__(self, stream: bytes, limits: Limits):
        self.data = stream
        self.limits = limits
        self.biff8 = True
        self.formats: dict[int, str] = {}
        self.xf_formats: list[int] = []
        self.sheet_at: dict[int, tuple[str, int]] = {}  # BOF offset -> (name, sheet type)
        self.scan = WorkbookScan()
        self.sheet: SheetScan | None = None
        self.name = ""
        self.percent_xfs: frozenset[int] = frozenset()

    def run(self) -> WorkbookScan:
        data, pos, end = self.data, 0, len(self.data)
        globals_done = False
        while pos + 4 <= end:
            rid, size = struct.unpack_from("<HH", data, pos)
            body = pos + 4
            if rid in _BIFF_BOF:
                if not globals_done and pos == 0:
                    self.biff8 = struct.unpack_from("<H", data, body)[0] >= 0x0600
                else:
                    globals_done = True
                    self._enter_sheet(pos)
            elif rid == _BIFF_EOF:
                self._leave_sheet()
            elif self.sheet is not None:
                self._sheet_record(rid, body, size)
            elif not globals_done:
                self._globals_record(rid, body, size)
            pos = body + size
        self._leave_sheet()
        return self.scan

    def _globals_record(self, rid: int, body: int, size: int) -> None:
        data = self.data
        if rid == _BIFF_FILEPASS:
            raise encrypted()
        if rid == _BIFF_XF:
            self.xf_formats.append(struct.unpack_from("<H", data, body + 2)[0])
        elif rid == _BIFF_FORMAT:
            format_id = struct.unpack_from("<H", data, body)[0]
            self.formats[format_id] = self._string(body + 2, wide_length=self.biff8)
        elif rid == _BIFF_BOUNDSHEET:
            offset, _state, kind = struct.unpack_from("<IBB", data, body)
            self.sheet_at[offset] = (self._string(body + 6, wide_length=False), kind)

    def _string(self, at: int, *, wide_length: bool) -> str:
        """A BIFF8 XLUnicodeString (16-bit length when ``wide_length``, else 8-bit) or a BIFF5
        byte string, as text."""
        data = self.data
        if wide_length:
            count, at = struct.unpack_from("<H", data, at)[0], at + 2
        else:
            count, at = data[at], at + 1
        if not self.biff8:
            return data[at : at + count].decode("cp1252", "replace")
        wide, at = data[at] & 0x1, at + 1
        raw = data[at : at + count * (2 if wide else 1)]
        return raw.decode("utf-16-le" if wide else "latin-1", "replace")

    def _enter_sheet(self, offset: int) -> None:
        self._leave_sheet()
        name, kind = self.sheet_at.get(offset, ("", -1))
        if kind != 0:  # chart, macro or VB module: not cells
            return
        if not self.percent_xfs and self.xf_formats:
            percent = {n for n, code in self.formats.items() if is_percent_format(code)}
            percent |= BUILTIN_PERCENT_FORMATS
            self.percent_xfs = frozenset(
                i for i, format_id in enumerate(self.xf_formats) if format_id in percent
            )
        self.name = name
        self.sheet = self.scan.sheets.setdefault(name, SheetScan())

    def _leave_sheet(self) -> None:
        if self.sheet is not None:
            clip(self.sheet)
        self.sheet = None

    def _cell(self, row: int, col: int, xf: int | None, *, numeric: bool) -> None:
        """A cell holding a value at 0-based (row, col), with its XF index."""
        sheet = self.sheet
        assert sheet is not None  # cells are read inside a sheet's records
        if row >= sheet.n_rows or col >= sheet.n_cols:
            sheet.n_rows, sheet.n_cols = max(sheet.n_rows, row + 1), max(sheet.n_cols, col + 1)
            check_extent(self.name, sheet.n_rows, sheet.n_cols, self.limits)
        if numeric and xf in self.percent_xfs:
            sheet.percent.add((row + 1, col + 1))

    def _sheet_record(self, rid: int, body: int, size: int) -> None:
        data, sheet = self.data, self.sheet
        assert sheet is not None  # called for records inside a sheet
        if rid in (_BIFF_NUMBER, _BIFF_RK):
            row, col, xf = struct.unpack_from("<HHH", data, body)
            self._cell(row, col, xf, numeric=True)
        elif rid == _BIFF_MULRK:
            row, first = struct.unpack_from("<HH", data, body)
            for i in range((size - 6) // 6):
                self._cell(
                    row,
                    first + i,
                    struct.unpack_from("<H", data, body + 4 + 6 * i)[0],
                    numeric=True,
                )
        elif rid == _BIFF_FORMULA:
            row, col, xf = struct.unpack_from("<HHH", data, body)
            result = data[body + 6 : body + 14]
            special = result[6:8] == b"\xff\xff"
            self._cell(row, col, xf, numeric=not special)
            if special and result[0] == 2:
                sheet.errors[(row + 1, col + 1)] = _BIFF_ERRORS.get(result[2], "#N/A")

        elif rid == _BIFF_BOOLERR:
            row, col, xf, value, is_error = struct.unpack_from("<HHHBB", data, body)
            self._cell(row, col, xf, numeric=False)
            if is_error:
                sheet.errors[(row + 1, col + 1)] = _BIFF_ERRORS.get(value, "#N/A")
        elif rid in (_BIFF_LABELSST, _BIFF_LABEL, _BIFF_RSTRING):
            row, col = struct.unpack_from("<HH", data, body)
            self._cell(row, col, None, numeric=False)
        elif rid == _BIFF_ROW and size >= 14:
            row, flags = (
                struct.unpack_from("<H", data, body)[0],
                struct.unpack_from("<H", data, body + 12)[0],
            )
            if flags & 0x20:
                sheet.hidden_rows.add(row + 1)
        elif rid == _BIFF_COLINFO and size >= 10:
            first, last, _width, _xf, flags = struct.unpack_from("<HHHHH", data, body)
            if flags & 0x1:
                sheet.hidden_cols.update(range(first + 1, min(last + 1, self.limits.max_cols) + 1))
