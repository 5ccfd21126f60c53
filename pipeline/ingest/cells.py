"""Cell values as every reader hands them over: text made safe, sheets' content checked.

Cell text: strings longer than ``limits.max_cell_chars`` reject the file (Excel cannot hold
them: only crafted files do); control characters other than tab/LF/CR and invisible characters
(zero-width space, BOM, soft hyphen, see :mod:`pipeline.spellings`) are removed and odd spaces
(no-break, narrow no-break) become plain spaces, so codes, headers and identity cells compare as
typed. Empty strings become None (calamine does not tell an empty string from an empty cell).
"""

from __future__ import annotations

import re

from pipeline import spellings
from pipeline.ingest.limits import Limits, over_limit
from pipeline.ingest.scan import SheetScan, clip
from pipeline.ingest.workbook import SheetData
from pipeline.locale_id import number

# C0 controls except tab/LF/CR, DEL and C1 controls: meaningless in an action plan.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_cells(rows: list[list], sheet: str, limits: Limits) -> list[list]:
    """Calamine's rows with empty strings as None, trailing empties cut and text made safe
    (over-long text rejects the file, control characters are removed). The text checks run
    once over the sheet's strings joined (C speed); only a sheet that has a control character
    is fixed cell by cell."""
    out = []
    for row in rows:
        line = [None if v == "" else v for v in row]
        while line and line[-1] is None:
            line.pop()
        out.append(line)
    while out and not out[-1]:
        out.pop()
    texts = [v for line in out for v in line if v.__class__ is str]
    if not texts:
        return out
    longest = max(map(len, texts))
    if longest > limits.max_cell_chars:
        raise over_limit(
            f"lembar '{sheet}' berisi teks sel sepanjang {number(longest)} karakter, "
            f"melebihi batas {number(limits.max_cell_chars)} karakter"
        )
    joined = "\n".join(texts)
    if _CONTROL_CHARS.search(joined) or spellings.has_odd_characters(joined):
        out = [[_safe(v) if v.__class__ is str else v for v in line] for line in out]
        out = [[None if v == "" else v for v in line] for line in out]
    return out


def _safe(text: str) -> str:
    """Cell text without control characters, invisible characters (zero-width space, BOM, soft
    hyphen...) and with odd spaces (no-break, narrow) as plain spaces."""
    return spellings.clean_text(_CONTROL_CHARS.sub("", text))


def has_content(sheet: SheetData) -> bool:
    return bool(sheet.errors or sheet.formulas_without_value) or any(
        v is not None for row in sheet.cells for v in row
    )


def sheet_data(
    name: str,
    state: str,
    cells: list[list],
    meta: SheetScan | None,
    *,
    merged: list[tuple[int, int, int, int]] | None = None,
) -> SheetData:
    """A :class:`SheetData` from a reader's cleaned ``cells`` and the scanned metadata; when the
    scan gave no merged ranges for this sheet (``.xls``, or a sheet the scan did not reach),
    the reader's own ``merged`` ranges (1-based, inclusive), cut to the used range."""
    meta = meta or SheetScan()
    if merged is not None:
        extent = SheetScan(n_rows=len(cells), n_cols=max(map(len, cells), default=0))
        extent.merged = merged
        meta.merged = clip(extent).merged
    return SheetData(
        name=name,
        state=state,
        cells=cells,
        merged=meta.merged,
        percent=meta.percent,
        formulas_without_value=meta.formulas_without_value,
        errors=meta.errors,
        hidden_rows=meta.hidden_rows,
        hidden_cols=meta.hidden_cols,
    )
