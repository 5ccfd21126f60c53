"""The values of every sheet through python-calamine (Rust: several times faster than openpyxl),
joined with the metadata a format scanner collected.

Calamine picks its parser by the file's extension; the format was decided from the content, so a
file whose extension lies is read through a symlink that tells the truth. Calamine is imported
inside :func:`read_values` (the worker's fork server preloads it with the reader).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipeline.ingest.cells import clean_cells, sheet_data
from pipeline.ingest.limits import Limits, check_extent, over_limit
from pipeline.ingest.scan import SheetScan, WorkbookScan
from pipeline.ingest.workbook import SheetData, corrupt, encrypted

_STATES = {
    "SheetVisibleEnum.Visible": "visible",
    "SheetVisibleEnum.Hidden": "hidden",
    "SheetVisibleEnum.VeryHidden": "veryHidden",
}


@contextlib.contextmanager
def _path_with_suffix(path: Path, fmt: str) -> Iterator[Path]:
    """``path`` itself when its extension matches the content, else a symlink that does:
    calamine picks its parser by extension, and we have already decided by content."""
    suffix = ".xlsx" if fmt == "xlsm" else f".{fmt}"
    if path.suffix.lower() in (suffix, f".{fmt}"):
        yield path
        return
    folder = tempfile.mkdtemp(prefix="rbpipe-read-")
    link = Path(folder) / f"berkas{suffix}"
    try:
        os.symlink(path.resolve(), link)
        yield link
    finally:
        with contextlib.suppress(OSError):
            link.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def read_values(path: Path, fmt: str, meta: WorkbookScan, limits: Limits) -> list[SheetData]:
    """Every sheet's values through calamine, joined with the scanned metadata."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        with _path_with_suffix(path, fmt) as readable:
            book = CalamineWorkbook.from_path(str(readable))
            described = book.sheets_metadata
            if len(described) > limits.max_sheets:
                raise over_limit(
                    f"jumlah lembar {len(described)} melebihi batas {limits.max_sheets}"
                )
            sheets = []
            for info in described:
                sheet_meta = meta.sheets.get(info.name)
                if sheet_meta is None and str(info.typ) != "SheetTypeEnum.WorkSheet":
                    # A chart, dialog or macro sheet: no cells to read.
                    sheets.append(SheetData(name=info.name, state=_state(info)))
                    continue
                values = book.get_sheet_by_name(info.name)
                sheets.append(_sheet_data(info, values, sheet_meta, fmt, limits))
            return sheets
    except PasswordError:
        raise encrypted() from None
    except (CalamineError, ValueError, OSError, UnicodeDecodeError, EOFError, OverflowError) as exc:
        raise corrupt(exc) from None


def _state(info) -> str:
    return _STATES.get(str(info.visible), "visible")


def _sheet_data(info, values, meta: SheetScan | None, fmt: str, limits: Limits) -> SheetData:
    """One SheetData from calamine's sheet and the sheet's scanned metadata (merged ranges from
    calamine for .xls, and for any sheet the scan did not reach)."""
    end = values.end
    if end is not None:
        check_extent(info.name, end[0] + 1, end[1] + 1, limits)
    rows = values.to_python(skip_empty_area=False) if end is not None else []
    cells = clean_cells(rows, info.name, limits)
    merged = None
    if meta is None or fmt == "xls":
        merged = [
            (r0 + 1, c0 + 1, r1 + 1, c1 + 1)
            for (r0, c0), (r1, c1) in (values.merged_cell_ranges or [])
        ]
    return sheet_data(info.name, _state(info), cells, meta, merged=merged)
