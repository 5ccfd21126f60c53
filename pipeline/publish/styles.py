"""The shared look and the safe cell writers of every workbook rbpipe writes.

Three concerns live here so the regency, feedback and reminder writers cannot drift apart:

* **Safety** (issue 7). Every workbook is opened with ``strings_to_formulas``,
  ``strings_to_urls`` and ``strings_to_numbers`` off, and every piece of text goes through
  :meth:`Sheet.text` (``write_string``), so a unit's ``=HYPERLINK(...)`` is stored as text, never as
  a formula. Only ``http``/``https`` values become hyperlinks (:meth:`Sheet.web_link`), and only
  within Excel's limits (URL length, links per sheet); anything else falls back to text.
* **Reproducibility.** xlsxwriter stamps every zip member with a fixed date (1980-01-01 for a
  workbook built in memory, 1980-01-31 for one streamed through temporary files) and document
  dates come from the reporting period, never from the clock: the same input gives the same
  bytes.
* **Memory.** A workbook is built in memory, except one opened with ``streaming=True`` (the
  regency workbook): its XML goes through temporary files, and its big sheets
  (``Sheet(..., streaming=True)``) are written row by row and not kept (xlsxwriter's
  ``constant_memory`` mode, for those sheets only), so memory grows with the month's rows once,
  in the DataFrames, not again in the writer.
* **Numbers.** Values are stored as numbers. Number formats carry the Indonesian locale tag
  ``[$-421]``: LibreOffice then shows ``1.250.000`` and ``78,5%`` on any computer, and Excel —
  which takes separators from the computer's regional settings and ignores the tag for them —
  shows the same on the bureau's Indonesian-locale computers. Rates (0..1) use a ``%`` format;
  capaian is a number already in percent (``78.5``) under a header ending in ``(%)``, exactly as
  in ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import numbers
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import _utf16_len, xl_range
from xlsxwriter.worksheet import Worksheet

from pipeline import __version__
from pipeline.figures import METRIC_KEYS
from pipeline.plain import to_plain
from pipeline.problems import SEVERITY_LABEL, Problem
from pipeline.publish import cellxml
from pipeline.registry import Period

# xlsxwriter has no type information: its objects are Any to the type checker, named here.
Workbook = Any
Format = Any

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,
    "remove_timezone": True,
}

# Excel limits: characters in a cell, characters in a hyperlink, hyperlinks per worksheet.
MAX_CELL_TEXT = 32767
MAX_URL_LENGTH = 2079
MAX_LINKS_PER_SHEET = 65530
_WEB_LINK = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)

LOCALE = "[$-421]"  # Indonesian (id-ID)
NUM_INT = LOCALE + "#,##0"
NUM_DEC = LOCALE + "#,##0.0#"
NUM_PCT = LOCALE + "0.0%"
NUM_CAPAIAN = LOCALE + "#,##0.0"
NUM_PCT_DELTA = LOCALE + "+0.0%;-0.0%;0.0%"
NUM_CAPAIAN_DELTA = LOCALE + "+#,##0.0;-#,##0.0;0.0"
NUM_DATETIME = LOCALE + "dd/mm/yyyy hh:mm"
NUM_DATE = LOCALE + "dd/mm/yyyy"

NAVY = "#1F4E78"
GREY = "#595959"
LIGHT = "#F2F2F2"

TONES: dict[str, dict[str, Any]] = {
    "error": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "warning": {"bg_color": "#FFEB9C", "font_color": "#7F4F00"},
    "good": {"bg_color": "#C6EFCE", "font_color": "#006100"},
    "muted": {"bg_color": "#EDEDED", "font_color": GREY},
}

_RIGHT = {"align": "right", "indent": 1}  # numbers keep clear of the next column's text

STYLES: dict[str, dict[str, Any]] = {
    "text": {},
    "wrap": {"text_wrap": True},
    "bold": {"bold": True},
    "int": {"num_format": NUM_INT, **_RIGHT},
    "dec": {"num_format": NUM_DEC, **_RIGHT},
    "pct": {"num_format": NUM_PCT, **_RIGHT},
    "capaian": {"num_format": NUM_CAPAIAN, **_RIGHT},
    "rupiah": {"num_format": NUM_INT, **_RIGHT},
    "pct_delta": {"num_format": NUM_PCT_DELTA, **_RIGHT},
    "capaian_delta": {"num_format": NUM_CAPAIAN_DELTA, **_RIGHT},
    "datetime": {"num_format": NUM_DATETIME, "align": "left"},
    "date": {"num_format": NUM_DATE, "align": "left"},
    "link": {"font_color": "#0563C1", "underline": 1},
    "link_wrap": {"font_color": "#0563C1", "underline": 1, "text_wrap": True},
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": NAVY,
        "text_wrap": True,
        "valign": "vcenter",
        "border": 1,
        "border_color": "#BFBFBF",
    },
    "header_muted": {"italic": True, "font_color": GREY, "bg_color": LIGHT, "text_wrap": True},
    "title": {"bold": True, "font_size": 16, "font_color": NAVY, "valign": "vcenter"},
    "subtitle": {"font_size": 11, "font_color": GREY},
    "section": {"bold": True, "font_size": 12, "font_color": NAVY, "bottom": 2},
    "note": {"italic": True, "font_color": GREY},
    "note_wrap": {"italic": True, "font_color": GREY, "text_wrap": True},
    "label": {"bold": True, "font_color": GREY},
    "verdict": {"bold": True, "font_size": 12, "text_wrap": True, "valign": "vcenter"},
}

# Indonesian labels of the unit/regency metrics (manifest keys), and how each is displayed.
METRIC_LABELS: dict[str, str] = {
    "reporting_rate": "Tingkat Pelaporan",
    "on_time_rate": "Ketepatan Waktu",
    "completion_rate": "Tingkat Penyelesaian",
    "capaian_mean": "Rata-rata Capaian (%)",
    "capaian_median": "Median Capaian (%)",
    "evidence_completeness": "Kelengkapan Data Dukung",
    "budget_absorption": "Penyerapan Anggaran",
    "data_quality": "Kualitas Data",
}
# The unit metrics every sheet shows, in metrics.py's order (one list for all outputs).
UNIT_METRICS: tuple[str, ...] = METRIC_KEYS
# Excluded-row count shown beside a metric (metrics.py column names).
EXCLUDED_OF: dict[str, str] = {
    "completion_rate": "completion_excluded",
    "capaian_mean": "capaian_excluded",
    "capaian_median": "capaian_excluded",
    "evidence_completeness": "evidence_excluded",
    "budget_absorption": "budget_excluded",
}


def metric_style(metric: str) -> str:
    """``capaian`` for the metrics held in percent, ``pct`` for the 0..1 rates."""
    return "capaian" if metric.startswith("capaian") else "pct"


# --------------------------------------------------------------------------------------------
# Plain values
# --------------------------------------------------------------------------------------------


RECORD_BLOCK = 4096  # rows converted at a time by iter_records


def iter_records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """The rows of ``frame`` as ``frame.to_dict("records")`` gives them (the same Python
    values), converted a block of rows at a time: fast, and memory holds one block of dicts,
    not the month's. Frames with columns other than plain numpy (object, float, int, bool) or
    NaN-backed text (nullable integers, datetimes) take pandas' own path."""
    if not all(_plain_dtype(dtype) for dtype in frame.dtypes):
        yield from frame.to_dict("records")
        return
    names = list(frame.columns)
    for start in range(0, len(frame), RECORD_BLOCK):
        block = frame.iloc[start : start + RECORD_BLOCK].to_numpy(dtype=object).tolist()
        for row in block:
            yield dict(zip(names, row, strict=True))


def _plain_dtype(dtype: Any) -> bool:
    """A column dtype whose values ``to_numpy(dtype=object)`` gives exactly as ``to_dict``."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "Ofiub"
    return isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan


def document_date(period: Period) -> dt.datetime:
    """Creation date stamped in every workbook of a period: midnight of the period's last day,
    so rewriting a month's workbooks from the same data gives the same bytes."""
    return dt.datetime.combine(period.last_day, dt.time(0, 0))


def is_web_link(text: object) -> bool:
    """True when ``text`` is one http(s) URL that Excel can store as a hyperlink."""
    return (
        isinstance(text, str)
        and len(text) <= MAX_URL_LENGTH
        and _WEB_LINK.fullmatch(text) is not None
    )


# --------------------------------------------------------------------------------------------
# Workbooks, formats and sheets
# --------------------------------------------------------------------------------------------


def open_workbook(
    path: Path, *, period: Period, title: str, author: str, company: str, streaming: bool = False
) -> Workbook:
    """An xlsxwriter Workbook at ``path`` with the safe options and fixed document properties;
    with ``streaming``, its parts are assembled in temporary files rather than in memory (for
    workbooks with :class:`Sheet` ``streaming`` sheets).

    The caller writes sheets and closes it (inside ``fsutil.atomic_path``)."""
    workbook = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "in_memory": not streaming})
    workbook.set_properties(
        {
            "title": title,
            "subject": f"Rencana Aksi Reformasi Birokrasi, {period.label}",
            "author": author,
            "company": company,
            "comments": f"Dibuat oleh rbpipe {__version__}",
            "created": document_date(period),
        }
    )
    return workbook


class Formats:
    """xlsxwriter formats of one workbook, made on first use from a style name and a tone.

    ``get("pct", "error")`` is the percentage format on a red (error) fill."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._cache: dict[tuple[str, str | None], Any] = {}

    def get(self, style: str = "text", tone: str | None = None) -> Format:
        key = (style, tone)
        if key not in self._cache:
            props = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
            props.update(STYLES[style])
            if tone:
                props.update(TONES[tone])
            self._cache[key] = self._workbook.add_format(props)
        return self._cache[key]

    def custom(self, name: str, props: dict[str, Any]) -> Format:
        """A one-off format (KPI tiles) cached under ``name``."""
        key = (name, None)
        if key not in self._cache:
            base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
            self._cache[key] = self._workbook.add_format({**base, **props})
        return self._cache[key]


@dataclass(frozen=True, kw_only=True)
class Cell:
    """A table value with its own style, tone, comment or link (overriding the column's).

    ``link`` is a place in the same workbook, ``(sheet, cell)``: the value becomes a hyperlink
    to it. ``url`` is an http(s) address: the value becomes a hyperlink to it (plain text when
    Excel cannot store the address)."""

    value: object
    style: str | None = None
    tone: str | None = None
    comment: str | None = None
    link: tuple[str, str] | None = None
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column of a table written by :func:`write_table`."""

    header: str
    style: str = "text"
    width: float | None = None  # fixed width; None fits the content
    max_width: float = 45
    links: bool = False  # http(s) values become hyperlinks


class StreamingWorksheet(Worksheet):  # type: ignore[misc]  # xlsxwriter has no types
    """An xlsxwriter worksheet in ``constant_memory`` mode that still takes one Excel table.

    xlsxwriter refuses tables in that mode because :meth:`add_table` writes the header cells
    last, out of row order: :func:`write_table` writes them first itself, so here the refusal
    is lifted and the late header cells fall away unwritten (only the row being written is
    kept). And add_table records every cell of the table for overlap checks, ~50 bytes each
    (300 MB for a 5,000-unit month): nothing else is placed on these sheets, so nothing is
    recorded. Both lean on xlsxwriter internals (``constant_memory``, ``table_cells``): the
    publish tests compare a streamed table with a kept one, cell by cell."""

    def add_table(
        self,
        first_row: int,
        first_col: int,
        last_row: int,
        last_col: int,
        options: dict[str, Any] | None = None,
    ) -> Any:
        # add_table walks every cell of its range (overlap checks, ~0.4 s for a 35,000-row
        # month): it is given the header and one data row, and the table's ranges are then set
        # to the whole table (the only places add_table keeps its last row, without a total
        # row or column formulas, which these tables never have).
        options = options or {}
        plain = not options.get("total_row") and "data" not in options
        plain = plain and not any(c.get("formula") for c in options.get("columns", []))
        recorded = getattr(self, "table_cells")  # noqa: B009 - set by xlsxwriter, untyped
        setattr(self, "table_cells", _Unrecorded())  # noqa: B010
        self.constant_memory = False
        try:
            short = min(last_row, first_row + 1) if plain else last_row
            result = super().add_table(first_row, first_col, short, last_col, options)
        finally:
            self.constant_memory = True
            setattr(self, "table_cells", recorded)  # noqa: B010
        if result == 0 and short != last_row:
            table = self.tables[-1]
            whole = xl_range(first_row, first_col, last_row, last_col)
            table["range"] = table["a_range"] = whole
            if "autofilter" in table:
                table["autofilter"] = whole
        return result

    # Rows whose cells are made as XML (pipeline.publish.cellxml), not cell by cell. Between
    # start_rows and end_rows a row's hyperlinks (write_url), comments (write_comment) and
    # height (set_row) are given first, then its cells with put_row. xlsxwriter still writes
    # the <row> element, the dimensions, the links, the comments and the table; write_url only
    # records the link meanwhile (its ignore_write_string switch), as the cell is in the XML.
    # These lean on xlsxwriter internals (previous_row, _write_single_row, _write_row,
    # _check_dimensions): tests/test_publish_streaming.py compares the workbooks with
    # xlsxwriter's own, byte for byte.

    def start_rows(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """Rows ``first_row``..``last_row`` (0-based) follow, in order, between columns
        ``first_col`` and ``last_col``."""
        if first_row < self.previous_row:
            raise ValueError(f"row {first_row} comes after row {self.previous_row} is written")
        self._write_single_row(first_row)  # the row being built (a header) goes out first
        self._check_dimensions(first_row, first_col)
        self._check_dimensions(last_row, last_col)
        self.ignore_write_string = True

    def put_row(self, row: int, cells: str) -> None:
        """Row ``row`` with ``cells``, its ``<c>`` elements in column order."""
        self._write_row(row, None, self.row_info.get(row))
        self.fh.write(cells)
        self.fh.write("</row>")
        self.previous_row = row + 1

    def end_rows(self) -> None:
        self.ignore_write_string = False


class BufferedStreamingWorksheet(StreamingWorksheet):
    """A :class:`StreamingWorksheet` whose rows are kept in memory until the workbook is
    assembled, instead of in a temporary file (for small streamed sheets). Overrides the three
    xlsxwriter internals that handle that file."""

    def _initialize(self, init_data: dict[str, Any]) -> None:
        super()._initialize({**init_data, "constant_memory": False})  # no temporary file
        self.constant_memory = True
        self.row_data_fh = io.StringIO()
        self.fh = self.row_data_fh

    def _opt_close(self) -> None:
        pass

    def _opt_reopen(self) -> None:
        self.fh = self.row_data_fh

    def _write_optimized_sheet_data(self) -> None:
        rows = self.row_data_fh.getvalue()
        if self.dim_rowmin is None:
            self._xml_empty_tag("sheetData")
        else:
            self._xml_start_tag("sheetData")
            self.fh.write(rows)
            self._xml_end_tag("sheetData")
        self.row_data_fh = io.StringIO()


class _Unrecorded(dict[Any, Any]):
    """A dict that forgets what is put in it."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class Sheet:
    """A worksheet plus the formats, with writers that never turn text into a formula.

    A ``streaming`` sheet keeps only the row being written: its cells must be written row
    after row, top to bottom, as :func:`write_table` and :func:`write_cells_streamed` do
    (xlsxwriter's ``constant_memory`` mode, switched on for this sheet alone: the workbook's
    other sheets may be written in any order), and it holds at most one table
    (:class:`StreamingWorksheet`). In a workbook opened with ``streaming=True`` its rows go to a
    temporary file (the regency workbook: memory stays flat however big the month); in one
    built in memory (a feedback workbook, a few hundred rows) to memory
    (:class:`BufferedStreamingWorksheet`: a temporary file costs ~3 ms, times two sheets, times
    a thousand workbooks)."""

    def __init__(
        self, workbook: Workbook, formats: Formats, name: str, *, streaming: bool = False
    ) -> None:
        if streaming:
            kind = BufferedStreamingWorksheet if workbook.in_memory else StreamingWorksheet
            # xlsxwriter reads the mode when a sheet is added: on for this one, off again after.
            workbook.constant_memory = True
            try:
                self.ws = workbook.add_worksheet(name, worksheet_class=kind)
            finally:
                workbook.constant_memory = False
        else:
            self.ws = workbook.add_worksheet(name)
        self.streaming = streaming
        self.name = name
        self.formats = formats
        self._links = 0

    def fmt(self, style: str = "text", tone: str | None = None) -> Format:
        return self.formats.get(style, tone)

    def text(
        self, row: int, col: int, text: object, style: str = "text", tone: str | None = None
    ) -> None:
        """Write ``text`` as a string cell (0-based row/col), cut to Excel's cell limit."""
        text = text if type(text) is str else str(text)
        self.ws.write_string(row, col, text[:MAX_CELL_TEXT], self.fmt(style, tone))

    def value(
        self, row: int, col: int, value: object, style: str = "text", tone: str | None = None
    ) -> None:
        """Write any value: missing -> blank (keeping the fill), bool -> Ya/Tidak, numbers as
        numbers, dates as dates, everything else as text."""
        value = to_plain(value)
        kind = type(value)
        if kind is str:  # the common case, before the format look-up it does not need twice
            self.text(row, col, value, style, tone)
            return
        fmt = self.fmt(style, tone)
        if value is None:
            self.ws.write_blank(row, col, None, fmt)
        elif kind is bool or isinstance(value, bool):
            self.ws.write_string(row, col, "Ya" if value else "Tidak", fmt)
        elif kind is float or kind is int or isinstance(value, numbers.Real):
            number = float(cast(float, value))
            self.ws.write_number(row, col, number, self.fmt(_number_style(style, number), tone))
        elif isinstance(value, dt.datetime | dt.date):
            self.ws.write_datetime(row, col, value, fmt)
        else:
            self.text(row, col, value, style, tone)

    def web_link(
        self,
        row: int,
        col: int,
        text: object,
        style: str = "text",
        tone: str | None = None,
        *,
        shown: object = None,
    ) -> None:
        """An http(s) value as a clickable hyperlink showing the URL (or ``shown``); anything
        else — other schemes, over-long URLs, beyond Excel's links-per-sheet limit — as plain
        text (``shown`` when given)."""
        if is_web_link(text) and self._links < MAX_LINKS_PER_SHEET:
            self._links += 1
            link_fmt = self.fmt("link_wrap" if style == "wrap" else "link", tone)
            label = text if shown is None else str(shown)
            if self.ws.write_url(row, col, text, link_fmt, string=label) == 0:
                return
        self.value(row, col, text if shown is None else shown, style, tone)

    def internal_link(self, row: int, col: int, sheet: str, cell: str, text: str) -> None:
        """A hyperlink to ``'sheet'!cell`` inside this workbook (``sheet`` is one of ours);
        plain text beyond Excel's links-per-sheet limit."""
        if self._links >= MAX_LINKS_PER_SHEET:
            self.text(row, col, text)
            return
        self._links += 1
        target = f"internal:'{sheet}'!{cell}"
        self.ws.write_url(row, col, target, self.fmt("link"), string=text[:MAX_CELL_TEXT])

    def merged(
        self,
        first_row: int,
        first_col: int,
        last_row: int,
        last_col: int,
        value: object,
        style: str = "text",
    ) -> None:
        """A merged range holding ``value`` (written by :meth:`value`, so text stays text)."""
        fmt = self.fmt(style)
        if first_row == last_row and first_col == last_col:
            self.value(first_row, first_col, value, style)
            return
        self.ws.merge_range(first_row, first_col, last_row, last_col, None, fmt)
        self.value(first_row, first_col, value, style)

    def comment(self, row: int, col: int, text: str) -> None:
        lines = max(3, sum(1 + len(line) // 48 for line in text.splitlines()))
        self.ws.write_comment(
            row,
            col,
            text[:MAX_CELL_TEXT],
            {"author": "rbpipe", "x_scale": 2.2, "y_scale": min(8, lines / 3.5 + 0.4)},
        )


def _number_style(style: str, value: float) -> str:
    """The style a number is written in: its own when numeric, else whole numbers without a
    dangling decimal separator (``dec`` shows 2,5 but 8 rather than 8,0)."""
    if style != "dec" and is_numeric_style(style):
        return style
    return "int" if float(value).is_integer() else "dec"


def display_width(value: object, style: str) -> float:
    """Characters needed to show ``value`` in ``style`` (for column widths)."""
    value = to_plain(value)
    if type(value) is str and value.isprintable():  # no line break: the common case
        return len(value)
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, numbers.Real):
        v = float(value)
        if style.startswith("pct"):
            return len(f"{v * 100:+,.1f}%")
        if style.startswith("capaian") or style == "dec":
            return len(f"{v:+,.2f}")
        return len(f"{v:,.0f}")
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def widest(values: Sequence[object], style: str) -> float:
    """``max(display_width(v, style) for v in values)``, without measuring every value: the
    longest texts first until no shorter one can be wider, and of the numbers only the largest
    and the smallest (a number's width in every style grows with its size)."""
    best = 0.0
    texts = {v for v in values if type(v) is str}
    for text in sorted(texts, key=len, reverse=True):
        if len(text) <= best:
            break
        best = max(best, display_width(text, style))
    numbers = [v for v in values if (type(v) is float and v == v) or type(v) is int]
    if numbers:
        best = max(best, display_width(max(numbers), style), display_width(min(numbers), style))
    for v in values:
        kind = type(v)
        if kind is not str and kind is not float and kind is not int and v is not None:
            best = max(best, display_width(v, style))
    return best


def fit_width(header: str, values: Iterable[object], style: str, max_width: float) -> float:
    """Column width that shows every value (numbers never as ``#####``) and the header's longest
    word; text longer than ``max_width`` is given ``max_width`` and wraps."""
    content = max((display_width(v, style) for v in values), default=0)
    return _fitted_width(header, content, style, max_width)


def _fitted_width(header: str, content: float, style: str, max_width: float) -> float:
    """:func:`fit_width` given the widest value's display width ``content``."""
    longest_word = max((len(w) for w in header.split()), default=4)
    numeric = is_numeric_style(style)
    width = max(content, longest_word + 2, 6) + (3 if numeric else 1.5)
    return width if numeric else min(width, max_width)


def is_numeric_style(style: str) -> bool:
    return "num_format" in STYLES.get(style, {})


def wrapped_lines(text: object, width: float) -> int:
    """Lines ``text`` takes in a wrapping cell ``width`` characters wide (greedy word wrap)."""
    capacity = max(int(width * 1.1) - 1, 1)  # the 10-point body font fits ~10% more than 11
    if type(text) is str and len(text) <= capacity and "\n" not in text:
        return 1  # a short single paragraph: words plus single spaces never exceed its length
    return _wrapped(str(text), capacity)


@functools.lru_cache(maxsize=1 << 16)
def _wrapped(text: str, capacity: int) -> int:
    """:func:`wrapped_lines` of a long text (remembered: a month's plan texts repeat)."""
    lines = 0
    for paragraph in text.split("\n"):
        used = 0
        lines += 1
        for word in paragraph.split():
            size = len(word)
            if used and used + 1 + size > capacity:
                lines += 1
                used = 0
            while size > capacity:  # a word longer than the column breaks anywhere
                lines += 1
                size -= capacity
            used += size + (1 if used else 0)
    return max(lines, 1)


LINE_HEIGHT = 13.0  # points per line of the 10-point body font


def row_height(lines: int) -> float:
    return LINE_HEIGHT * lines + 2.5


def print_setup(
    sheet: Sheet, *, title: str, header_row: int | None = None, portrait: bool = False
) -> None:
    """A4, fit to one page wide, landscape unless asked, header row repeated on every page,
    footer with the title and page numbers."""
    ws = sheet.ws
    ws.set_paper(9)
    if not portrait:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if header_row is not None:
        ws.repeat_rows(header_row)
    footer_title = title.replace("&", "&&")
    ws.set_footer(f"&L&8{footer_title}&R&8Halaman &P dari &N")


def write_table(
    sheet: Sheet,
    *,
    top: int,
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    left: int = 0,
    style: str = "Table Style Light 9",
) -> int:
    """Write a header row at ``top`` and ``rows`` below as an Excel table with filters, fit the
    column widths and row heights, and return the 0-based index of the last row written.

    Items of a row are plain values or :class:`Cell` overrides. Text wider than its column wraps
    and the row is made tall enough (computed here: LibreOffice does not re-fit row heights of
    generated files). An empty table is a bare header row with a filter (Excel tables need a
    data row)."""
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    contents = [
        widest([item.value if type(item) is Cell else item for item in by_column[i]], c.style)
        for i, c in enumerate(columns)
    ]
    del by_column
    specs = _table_head(sheet, top=top, left=left, columns=columns, contents=contents, rows=rows)
    if sheet.streaming and rows:
        _stream_rows(sheet, specs, [TableBlock(rows=rows)], top + 1)
    else:
        _write_rows(sheet, specs, rows, top + 1)
    return _table_end(sheet, top=top, left=left, columns=columns, count=len(rows), style=style)


@dataclass(kw_only=True)
class RenderedRows:
    """Rows of a streamed table as :func:`_stream_rows` renders them, apart from where they land:
    each row's ``<c>`` elements with :data:`ROW_MARK` for its number, and what goes beside the
    cells. What the regency writer keeps per unit in the run cache (:meth:`to_plain_data`)."""

    specs: list[list[Any]]  # the ColumnSpecs the rows were rendered with
    cells: list[str]
    tall: list[list[int]]  # [row in block, lines] of the rows taller than one line
    notes: list[list[Any]]  # [row in block, column, comment]
    links: list[list[Any]]  # [row in block, column, target, label, style, tone]
    counted: int  # links counted against the sheet's limit (the links and refused ones)
    looks: list[list[Any]]  # [style, tone, xf index], in first-use order

    def to_plain_data(self) -> list[Any]:
        return [self.specs, self.cells, self.tall, self.notes, self.links, self.counted, self.looks]

    @classmethod
    def from_plain_data(cls, data: Any) -> RenderedRows | None:
        """The rendering :meth:`to_plain_data` gave, or None when ``data`` is not one."""
        try:
            specs, cells, tall, notes, links, counted, looks = data
            shaped = (
                all(type(c) is str for c in cells)
                and all(len(t) == 2 for t in tall)
                and all(len(n) == 3 for n in notes)
                and all(len(k) == 6 for k in links)
                and all(len(k) == 3 for k in looks)
                and type(counted) is int
            )
        except (TypeError, ValueError):
            return None
        if not shaped:
            return None
        return cls(
            specs=[list(s) for s in specs],
            cells=list(cells),
            tall=[list(t) for t in tall],
            notes=[list(n) for n in notes],
            links=[list(k) for k in links],
            counted=counted,
            looks=[list(k) for k in looks],
        )


@dataclass(kw_only=True)
class TableBlock:
    """A run of rows of a streamed table (:func:`write_streamed_table`): the ``rows`` themselves,
    or a ``rendered`` form of them kept from an earlier run with the ``contents`` (widest value
    per column) they had; ``rows_of`` makes the rows when the rendering cannot be used, ``keep``
    receives each fresh rendering."""

    rows: Sequence[Sequence[object]] | None = None
    rendered: RenderedRows | None = None
    contents: list[float] | None = None
    rows_of: Any = None  # () -> rows
    keep: Any = None  # (RenderedRows, contents) -> None

    def size(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return len(self.rendered.cells) if self.rendered is not None else 0

    def column_contents(self, columns: Sequence[Column]) -> list[float]:
        if self.contents is not None and self.rows is None:
            return self.contents
        rows = self.rows or ()
        by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        self.contents = [
            widest([item.value if type(item) is Cell else item for item in by_column[i]], c.style)
            for i, c in enumerate(columns)
        ]
        return self.contents


def write_streamed_table(
    sheet: Sheet,
    *,
    top: int,
    columns: Sequence[Column],
    blocks: Sequence[TableBlock],
    left: int = 0,
    style: str = "Table Style Light 9",
) -> int:
    """:func:`write_table` on a streaming sheet, its rows given in blocks, each as rows or as a
    rendering kept from an earlier run: the same bytes as :func:`write_table` of the blocks'
    rows together. A kept rendering is used only when it was made with the same column widths,
    wraps and formats and within the sheet's link limit; otherwise its rows are made again."""
    contents = [0.0 for _ in columns]
    for block in blocks:
        contents = [
            max(a, b) for a, b in zip(contents, block.column_contents(columns), strict=True)
        ]
    count = sum(b.size() for b in blocks)
    specs = _table_head(sheet, top=top, left=left, columns=columns, contents=contents, rows=count)
    if count:
        _stream_rows(sheet, specs, blocks, top + 1)
    return _table_end(sheet, top=top, left=left, columns=columns, count=count, style=style)


def _table_head(
    sheet: Sheet,
    *,
    top: int,
    left: int,
    columns: Sequence[Column],
    contents: Sequence[float],
    rows: object,
) -> list[ColumnSpec]:
    """Column widths from the widest value of each column (``contents``), the header row's
    height and, on a streaming sheet with ``rows``, its cells; the columns' specs."""
    ws = sheet.ws
    widths, wraps = [], []
    for i, column in enumerate(columns):
        content = contents[i]
        width = column.width or _fitted_width(
            column.header, content, column.style, column.max_width
        )
        widths.append(width)
        wraps.append(not is_numeric_style(column.style) and content > width - 1)
        ws.set_column(left + i, left + i, width)
    header_lines = max(wrapped_lines(c.header, w - 2) for c, w in zip(columns, widths, strict=True))
    ws.set_row(top, row_height(header_lines) + 3)  # bold header text runs wider
    if sheet.streaming and rows:
        # The header row add_table writes at the end, written first: a streaming sheet only
        # takes rows in order (add_table's own late header cells are then discarded unwritten).
        for c, column in enumerate(columns, start=left):
            ws.write_string(top, c, column.header, sheet.fmt("header"))
    return [
        (left + c, column.style, column.links, wraps[c], widths[c])
        for c, column in enumerate(columns)
    ]


def _write_rows(
    sheet: Sheet, specs: list[ColumnSpec], rows: Sequence[Sequence[object]], first: int
) -> None:
    """The rows of a table on a sheet kept in memory, cell by cell."""
    ws = sheet.ws
    for r, row in enumerate(rows, start=first):
        lines = 1
        # Plain items take the column's look; a Cell overrides it (most items are plain).
        for (col, column_style, links, wrap, width), item in zip(specs, row, strict=True):
            if isinstance(item, Cell):
                value, cell_style, tone = item.value, item.style or column_style, item.tone
            else:
                value, cell_style, tone = item, column_style, None
            if wrap and cell_style == "text":
                cell_style = "wrap"
            if cell_style == "wrap" and isinstance(to_plain(value), str):
                lines = max(lines, wrapped_lines(value, width))
            if isinstance(item, Cell) and item.link:
                sheet.internal_link(r, col, *item.link, str(value))
            elif isinstance(item, Cell) and item.url:
                sheet.web_link(r, col, item.url, cell_style, tone, shown=value)
            elif links:
                sheet.web_link(r, col, to_plain(value), cell_style, tone)
            else:
                sheet.value(r, col, value, cell_style, tone)
            if isinstance(item, Cell) and item.comment:
                sheet.comment(r, col, item.comment)
        if lines > 1:
            ws.set_row(r, row_height(min(lines, 30)))


def _table_end(
    sheet: Sheet, *, top: int, left: int, columns: Sequence[Column], count: int, style: str
) -> int:
    """The Excel table over the header and ``count`` rows (a bare header with a filter when
    there are none); the 0-based index of the last row."""
    ws = sheet.ws
    last = top + count
    header_fmt = sheet.fmt("header")
    if count:
        ws.add_table(
            top,
            left,
            last,
            left + len(columns) - 1,
            {
                "style": style,
                "columns": [{"header": c.header, "header_format": header_fmt} for c in columns],
            },
        )
    else:
        for c, column in enumerate(columns, start=left):
            sheet.text(top, c, column.header, "header")
        ws.autofilter(top, left, top, left + len(columns) - 1)
    return last


# One column of write_table's rows: its index, style, links, wrap and width.
ColumnSpec = tuple[int, str, bool, bool, float]

# A streamed row's number in its rendered cells: a control character, which cell text never
# holds as such (cellxml escapes it as _x0000_).
ROW_MARK = "\x00"


class XfIndex:
    """The index of a style and tone's format in a streamed sheet's workbook (what a cell's
    ``s`` attribute holds), numbered on first use as xlsxwriter numbers formats as cells use
    them. ``seen`` lists the looks asked for since it was last emptied, in first-use order."""

    def __init__(self, sheet: Sheet) -> None:
        self._sheet = sheet
        self._known: dict[tuple[str, str | None], int] = {}
        self.seen: dict[tuple[str, str | None], int] = {}

    def __call__(self, style: str, tone: str | None) -> int:
        found = self.seen.get((style, tone))
        if found is None:
            found = self._known.get((style, tone))
            if found is None:
                found = self._known[style, tone] = int(self._sheet.fmt(style, tone)._get_xf_index())
            self.seen[style, tone] = found
        return found


def _stream_rows(
    sheet: Sheet, specs: list[ColumnSpec], blocks: Sequence[TableBlock], first: int
) -> None:
    """The rows of a table on a streaming sheet, from row ``first``, block after block: each
    block rendered (:func:`_render_rows`) or taken as kept, then written (:func:`_put_rendered`)."""
    ws = sheet.ws
    made = _CellXml(sheet)
    count = sum(b.size() for b in blocks)
    ws.start_rows(first, specs[0][0], first + count - 1, specs[-1][0])
    plain_specs = [list(spec) for spec in specs]
    try:
        r = first
        for block in blocks:
            rendered = block.rendered
            if rendered is not None and not _fits(sheet, made, rendered, plain_specs):
                rendered = None
            if rendered is None:
                rows = block.rows if block.rows is not None else block.rows_of()
                rendered = _render_rows(sheet, made, specs, rows)
                if block.keep is not None and not made.capped:
                    block.keep(rendered, block.contents)
            _put_rendered(sheet, rendered, r)
            r += len(rendered.cells)
    finally:
        ws.end_rows()


def _fits(sheet: Sheet, made: _CellXml, rendered: RenderedRows, specs: list[list[Any]]) -> bool:
    """True when a kept rendering is what rendering its rows here would give: the same column
    specs, no link refused for the sheet's limit, and each look at the same format index (the
    looks are asked for in the order the rendering first used them, so formats new to the
    workbook are numbered as rendering the rows would number them)."""
    if rendered.specs != specs or sheet._links + rendered.counted > MAX_LINKS_PER_SHEET:
        return False
    return all(made.xf(style, tone) == index for style, tone, index in rendered.looks)


def _render_rows(
    sheet: Sheet, made: _CellXml, specs: list[ColumnSpec], rows: Sequence[Sequence[Any]]
) -> RenderedRows:
    """Rows as the loop of :func:`write_table` writes them through :meth:`Sheet.value`,
    :meth:`Sheet.web_link` and :meth:`Sheet.internal_link` (the same styles, tones, links,
    comments and row heights), their XML made by :class:`cellxml.RowCells`, the row number left
    as :data:`ROW_MARK` and the links recorded, not yet written. Plain items take a path with
    everything about their column worked out once; :class:`Cell` items the general one."""
    xml, xf = made.xml, made.xf
    made.start_block()
    ref_mark = ROW_MARK

    # Per column: what a plain item needs, and its formats' indices, taken on first use (so the
    # workbook's formats are numbered in the order cells use them, as xlsxwriter numbers them).
    columns = []
    for col, style, links, wrap, width in specs:
        text_style = "wrap" if wrap and style == "text" else style
        fixed = style != "dec" and is_numeric_style(style)
        styles = (text_style, style if fixed else "int", style if fixed else "dec")
        capacity = max(int(width * 1.1) - 1, 1) if text_style == "wrap" else None
        ref = xml.letter(col) + ref_mark
        columns.append((col, ref, style, links, wrap, width, capacity, styles, [0, 0, 0]))
    cells_of: list[str] = []
    tall: list[list[int]] = []
    notes: list[list[Any]] = []
    for i, row in enumerate(rows):
        lines = 1
        cells: list[str] = []
        for spec, item in zip(columns, row, strict=True):
            col, ref, style, links, wrap, width, capacity, styles, xfs = spec
            kind = type(item)
            if kind is str and not links:
                if capacity and (len(item) > capacity or "\n" in item):
                    lines = max(lines, wrapped_lines(item, width))
                at = xfs[0] or _take(xfs, 0, xf(styles[0], None))
                cells.append(xml.text(ref, at, item[:MAX_CELL_TEXT]))
            elif (kind is float and item == item) or kind is int:
                k = 1 if kind is int or item.is_integer() else 2
                at = xfs[k] or _take(xfs, k, xf(styles[k], None))
                cells.append(xml.number(ref, at, item))
            elif item is None or kind is float:  # missing, or NaN: a blank with the look
                at = xfs[0] or _take(xfs, 0, xf(styles[0], None))
                cells.append(xml.blank(ref, at))
            else:
                if kind is Cell:
                    value, own, tone = item.value, item.style or style, item.tone
                    if item.comment:
                        notes.append([i, col, item.comment])
                else:
                    value, own, tone = item, style, None
                if wrap and own == "text":
                    own = "wrap"
                plain = to_plain(value)
                if own == "wrap" and isinstance(plain, str):
                    lines = max(lines, wrapped_lines(value, width))
                cells.append(made.item(i, col, ref, item, plain, own, tone, links))
        if lines > 1:
            tall.append([i, lines])
        cells_of.append("".join(cells))
    return RenderedRows(
        specs=[list(spec) for spec in specs],
        cells=cells_of,
        tall=tall,
        notes=notes,
        links=made.pending if made.pending is not None else [],
        counted=made.counted,
        looks=[[style, tone, index] for (style, tone), index in xf.seen.items()],
    )


def _put_rendered(sheet: Sheet, rendered: RenderedRows, first: int) -> None:
    """Write a rendering's rows from row ``first``: per row its links, height and comments,
    then its cells with the row's number."""
    ws = sheet.ws
    tall = dict((i, lines) for i, lines in rendered.tall)
    notes: dict[int, list[tuple[int, str]]] = {}
    for i, col, note in rendered.notes:
        notes.setdefault(i, []).append((col, note))
    links: dict[int, list[list[Any]]] = {}
    for link in rendered.links:
        links.setdefault(link[0], []).append(link)
    sheet._links += rendered.counted
    for i, cells in enumerate(rendered.cells):
        r = first + i
        if links and i in links:
            for _, col, target, label, style, tone in links[i]:
                ws.write_url(r, col, target, sheet.fmt(style, tone), string=label)
        if i in tall:
            ws.set_row(r, row_height(min(tall[i], 30)))
        if notes and i in notes:
            for col, note in notes[i]:
                sheet.comment(r, col, note)
        ws.put_row(r, cells.replace(ROW_MARK, str(r + 1)))


# A cell for write_cells_streamed: (row, col, value, style, tone, web, comment), 0-based.
StreamedCell = tuple[int, int, object, str, "str | None", bool, "str | None"]


def write_cells_streamed(
    sheet: Sheet, cells: Sequence[StreamedCell], heights: dict[int, float] | None = None
) -> None:
    """Cells at any addresses of a streaming sheet, sorted by row then column: each written as
    :meth:`Sheet.value` writes it (in ``style`` with ``tone``), or as :meth:`Sheet.web_link`
    when ``web`` (http(s) text becomes a hyperlink), with its ``comment``; ``heights`` are the
    row heights to set (points)."""
    if not cells:
        return
    ws, made = sheet.ws, _CellXml(sheet)
    xml, xf = made.xml, made.xf

    heights = heights or {}
    cols = [cell[1] for cell in cells]
    ws.start_rows(cells[0][0], min(cols), cells[-1][0], max(cols))
    # Per (style, tone): the format index for text and blanks, and for whole and other numbers.
    looks: dict[tuple[str, str | None], tuple[int, int, int]] = {}
    try:
        parts: list[str] = []
        notes: list[tuple[int, str]] = []
        row, number = cells[0][0], str(cells[0][0] + 1)
        for at, col, item, style, tone, web, comment in cells:
            if at != row:
                _put_streamed_row(sheet, row, parts, notes, heights)
                row, number, parts, notes = at, str(at + 1), [], []
            ref = xml.letter(col) + number
            look = looks.get((style, tone))
            if look is None:
                whole, other = _number_style(style, 1.0), _number_style(style, 0.5)
                look = looks[style, tone] = (xf(style, tone), xf(whole, tone), xf(other, tone))
            value: Any = item  # its type is checked below, fastest first
            kind = type(value)
            if kind is str and not web:
                parts.append(xml.text(ref, look[0], value[:MAX_CELL_TEXT]))
            elif kind is float and value == value:
                parts.append(xml.number(ref, look[1] if value.is_integer() else look[2], value))
            elif kind is int:
                parts.append(xml.number(ref, look[1], value))
            elif value is None or kind is float:
                parts.append(xml.blank(ref, look[0]))
            else:
                plain = to_plain(value)
                if web and isinstance(plain, str):
                    parts.append(made.web(at, col, ref, plain, None, style, tone))
                else:
                    parts.append(made.value(ref, plain, style, tone))
            if comment:
                notes.append((col, comment))
        _put_streamed_row(sheet, row, parts, notes, heights)
    finally:
        ws.end_rows()


def _put_streamed_row(
    sheet: Sheet,
    row: int,
    parts: list[str],
    notes: list[tuple[int, str]],
    heights: dict[int, float],
) -> None:
    """One row of :func:`write_cells_streamed`: its height and comments first, then its cells."""
    if row in heights:
        sheet.ws.set_row(row, heights[row])
    for col, note in notes:
        sheet.comment(row, col, note)
    sheet.ws.put_row(row, "".join(parts))


def _url_fits(ws: Worksheet, url: str) -> bool:
    """True when xlsxwriter's ``write_url`` takes ``url``: link and anchor each within its
    length limit in UTF-16 units (what it checks before storing a link)."""
    link, _, anchor = url.partition("#")
    limit = int(ws.max_url_length)
    return bool(_utf16_len(link) <= limit and _utf16_len(anchor) <= limit)


def _take(slots: list[int], index: int, value: int) -> int:
    slots[index] = value
    return value


class _CellXml:
    """The cell XML of one streaming sheet, each item decided as :meth:`Sheet.value`,
    :meth:`Sheet.web_link` and :meth:`Sheet.internal_link` decide it.

    Links are written to the worksheet at once (row ``r``), or — in a block begun with
    :meth:`start_block` (:func:`_render_rows`) — recorded in :attr:`pending` under the row's
    place in the block (``r``), counted in :attr:`counted`, to be written with the rows; the
    sheet's link count is then raised when they are."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.xml = cellxml.RowCells()
        self.xf = XfIndex(sheet)
        self.pending: list[list[Any]] | None = None
        self.counted = 0
        self.capped = False  # a link of this block fell to text at the sheet's link limit

    def start_block(self) -> None:
        self.pending, self.counted, self.capped = [], 0, False
        self.xf.seen = {}

    def _room(self) -> bool:
        """True when one more link fits in the sheet's limit (and counts it)."""
        if self.sheet._links + self.counted >= MAX_LINKS_PER_SHEET:
            self.capped = True
            return False
        if self.pending is None:
            self.sheet._links += 1
        else:
            self.counted += 1
        return True

    def _link(
        self, r: int, col: int, target: str, label: str, style: str, tone: str | None
    ) -> bool:
        """Write (or record) a link; False when xlsxwriter would refuse it (too long)."""
        if self.pending is None:
            fmt = self.sheet.fmt(style, tone)
            return bool(self.sheet.ws.write_url(r, col, target, fmt, string=label) == 0)
        if not _url_fits(self.sheet.ws, target):
            return False
        self.pending.append([r, col, target, label, style, tone])
        return True

    def item(
        self,
        r: int,
        col: int,
        ref: str,
        item: object,
        plain: object,
        style: str,
        tone: str | None,
        links: bool,
    ) -> str:
        """A table item as the loop of :func:`write_table` writes it."""
        if type(item) is Cell and item.link:
            text = str(item.value)[:MAX_CELL_TEXT]
            if not self._room():
                return self.xml.text(ref, self.xf("text", None), text)
            target = f"internal:'{item.link[0]}'!{item.link[1]}"
            self._link(r, col, target, text, "link", None)
            return self.xml.text(ref, self.xf("link", None), text)
        if type(item) is Cell and item.url:
            return self.web(r, col, ref, item.url, item.value, style, tone)
        if links:
            return self.web(r, col, ref, plain, None, style, tone)
        return self.value(ref, plain, style, tone)

    def web(
        self,
        r: int,
        col: int,
        ref: str,
        url: object,
        shown: object,
        style: str,
        tone: str | None,
    ) -> str:
        """:meth:`Sheet.web_link` (the link recorded by the worksheet, the cell made here)."""
        if is_web_link(url) and self._room():
            link_style = "link_wrap" if style == "wrap" else "link"
            label = str(url) if shown is None else str(shown)
            if self._link(r, col, cast(str, url), label, link_style, tone):
                return self.xml.text(ref, self.xf(link_style, tone), label[:MAX_CELL_TEXT])
        return self.value(ref, url if shown is None else shown, style, tone)

    def value(self, ref: str, value: object, style: str, tone: str | None) -> str:
        """:meth:`Sheet.value`."""
        value = to_plain(value)
        xml, xf = self.xml, self.xf
        if value is None:
            return xml.blank(ref, xf(style, tone))
        if isinstance(value, str):
            return xml.text(ref, xf(style, tone), value[:MAX_CELL_TEXT])
        if isinstance(value, bool):
            return xml.text(ref, xf(style, tone), "Ya" if value else "Tidak")
        if isinstance(value, numbers.Real):
            number = float(value)
            return xml.number(ref, xf(_number_style(style, number), tone), number)
        if isinstance(value, dt.datetime | dt.date):
            serial = float(self.sheet.ws._convert_date_time(value))
            return xml.number(ref, xf(style, tone), serial)
        return xml.text(ref, xf(style, tone), str(value)[:MAX_CELL_TEXT])


# --------------------------------------------------------------------------------------------
# Problems shown on cells
# --------------------------------------------------------------------------------------------


def problem_tone(problems: Iterable[Problem]) -> str:
    """``error`` when any of the problems is an error, else ``warning``."""
    return "error" if any(p.is_error for p in problems) else "warning"


def problem_note(problems: Iterable[Problem]) -> str:
    """Cell-comment text: each problem's severity, code, message and fix."""
    parts = []
    for p in problems:
        text = f"{SEVERITY_LABEL.get(p.severity, p.severity)} {p.code}: {p.message}"
        if p.hint:
            text += f"\nPerbaikan: {p.hint}"
        parts.append(text)
    return "\n\n".join(parts)
