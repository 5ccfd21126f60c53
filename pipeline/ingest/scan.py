"""What a format scanner learns about a workbook before calamine reads it, and helpers the scanners
share.

Each scanner (:mod:`~pipeline.ingest.ooxml`, :mod:`~pipeline.ingest.ods`,
:mod:`~pipeline.ingest.biff`) returns a :class:`WorkbookScan`: the producer, macros, and per sheet
a :class:`SheetScan` holding the *real* used range (cells with a value, checked against the
limits as it grows) and the cell metadata calamine does not give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.schema import column_index

BUILTIN_PERCENT_FORMATS = frozenset({9, 10})


@dataclass(kw_only=True)
class SheetScan:
    """What the scan learnt about one sheet (1-based coordinates). ``n_rows``/``n_cols`` are the
    used range's extent from A1: the last row and column holding a value."""

    n_rows: int = 0
    n_cols: int = 0
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    percent: set[tuple[int, int]] = field(default_factory=set)
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)


@dataclass(kw_only=True)
class WorkbookScan:
    """What the container scan learnt: producer, macros and each scanned sheet by name."""

    producer: str | None = None
    has_macros: bool = False
    sheets: dict[str, SheetScan] = field(default_factory=dict)


def clip(scan: SheetScan) -> SheetScan:
    """Metadata reduced to the used range: hiding every unused row/column below or right of the
    data is a common tidy-up and must not become millions of entries; merges are cut likewise."""
    rows, cols = scan.n_rows, scan.n_cols
    scan.hidden_rows = {r for r in scan.hidden_rows if r <= rows}
    scan.hidden_cols = {c for c in scan.hidden_cols if c <= cols}
    scan.merged = sorted(
        {
            (r0, c0, min(r1, max(rows, r0)), min(c1, max(cols, c0)))
            for r0, c0, r1, c1 in scan.merged
            if r0 <= max(rows, 1) and c0 <= max(cols, 1)
        }
    )
    return scan


def col_index(letters: bytes | str) -> int:
    return column_index(letters if isinstance(letters, str) else letters.decode("ascii"))


def parse_ref(ref: str) -> tuple[int, int]:
    """``"AB12"`` -> (12, 28); (0, 0) for a malformed reference."""
    match = re.fullmatch(r"\$?([A-Za-z]{1,4})\$?([0-9]{1,8})", ref.strip())
    if not match:
        return 0, 0
    return int(match[2]), col_index(match[1])


def cell_range(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    r0, c0 = parse_ref(first)
    r1, c1 = parse_ref(last or first)
    return min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)


def int_attr(value) -> int:
    """``int(value)``, 0 for None or anything that is not a plain decimal number."""
    return int(value) if value and value.isascii() and value.isdigit() else 0


def short_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()[:32]


def is_percent_format(code: str) -> bool:
    """A ``%`` outside quoted text, escapes and brackets: ``0%``, ``0.00%``, not ``"%"0``."""
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in bare
