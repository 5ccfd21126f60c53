"""Cell values as units write them: Indonesian numbers, percentages, dates, periods, text.

Every parser takes one cell value (as the reader hands it over: None, str, int, float, bool,
date/datetime/time/timedelta) and returns the parsed value plus, where it matters, the cell's
text when it could not be understood (so the staged frame can carry ``_raw_<field>``).

Numbers (:func:`parse_number`), the rules in one place:

* empty, whitespace, ``-``, ``–``, ``—`` → missing (None), never zero. The domain says units
  write ``-`` "for zero/unknown"; we cannot tell which, and a missing value is reported by the
  rules that need it (a zero would silently count as "reported, nothing done").
* Excel numbers are taken as they are; ``True``/``False`` are not numbers (raw text).
* Text: an optional ``Rp``/``Rp.``/``IDR`` prefix, an optional trailing ``,-`` (Rupiah style),
  an optional trailing ``%``; then the digits:

  - both ``.`` and ``,`` present: the last one is the decimal mark, the other groups thousands
    (``1.250.000,50`` and ``1,250,000.50``); groups must be of three digits;
  - only ``,``: one comma is the Indonesian decimal mark (``0,5``, ``1,250`` = 1.25); several
    commas in groups of three are English thousands (``1,250,000``);
  - only ``.``: several dots in groups of three are Indonesian thousands (``1.250.000``); a single
    dot followed by exactly three digits after a non-zero integer part of at most three digits
    is Indonesian thousands (``1.250`` = 1250, ``Rp 12.500`` = 12500); any other single dot is
    a decimal point (``0.5``, ``2.75``, ``0.250``, ``1250.5``);
  - spaces may group thousands (``1 250 000``).

  Anything else (``abc``, ``12,5,3``, ``5 dokumen``) is unparseable: the value is None and the
  text is returned as raw.
* Percentages: a ``%`` sign or a percent number format denotes a fraction, exactly as Excel
  stores it (``75%`` is the quantity 0.75). In a row whose Satuan is ``Persen`` quantities are
  written in percentage points, so there it means 75. Elsewhere (a ``Dokumen`` row) ``75%`` is
  kept as 0.75: three quarters of one document is what was written, and keeping the quantity
  lets validation compare it with a target of 1 rather than inventing 75 documents.

All decimal arithmetic goes through :class:`decimal.Decimal`, so a text number parses to the
float nearest to the written decimal (``Rp. 1.980.450.000,5`` → 1980450000.5 exactly).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from pipeline import spellings
from pipeline.registry import MONTHS_ID
from pipeline.schema import normalize_text

MISSING_MARKS = frozenset({"-", "–", "—", "−", "--", "---", "‒"})
_EMPTY_MARKS = MISSING_MARKS | {""}  # "Rp -" is how an accounting format shows nothing
BOOL_TEXT = {True: "BENAR", False: "SALAH"}  # how an Indonesian Excel shows them
PERSEN_SPELLINGS = frozenset({"persen", "persentase", "prosentase", "percent", "%"})

_HUNDRED = Decimal(100)
_CURRENCY_RE = re.compile(r"^(?:rp\.?|idr)\s*", re.IGNORECASE)
_PLAIN_RE = re.compile(r"\d+")
_DOT_THOUSANDS_RE = re.compile(r"[1-9]\d{0,2}\.\d{3}")
_GROUPED_RE = {
    ".": re.compile(r"\d{1,3}(?:\.\d{3})+"),
    ",": re.compile(r"\d{1,3}(?:,\d{3})+"),
    " ": re.compile(r"\d{1,3}(?: \d{3})+"),
}
_DECIMAL_RE = {".": re.compile(r"(\d*)\.(\d+)"), ",": re.compile(r"(\d*),(\d+)")}


def is_persen(satuan: object) -> bool:
    """True when a Satuan cell means percentage points (``Persen``, ``persen ``, ``%``)."""
    return isinstance(satuan, str) and _persen_text(satuan)


@lru_cache(maxsize=256)
def _persen_text(text: str) -> bool:
    text = text.strip()
    return text == "%" or normalize_text(text) in PERSEN_SPELLINGS


def parse_number(
    value: object, *, percent_format: bool = False, persen: bool = False
) -> tuple[float | None, str | None]:
    """``(number, raw)`` for one cell of a number field.

    ``number`` is the float value or None when missing or unparseable; ``raw`` is the cell's
    text only when it holds something that is not a number (None otherwise).
    ``percent_format``: the cell is numeric with a percent number format; ``persen``: the row's
    Satuan is Persen (see the module docstring).
    """
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, BOOL_TEXT[value]
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return None, str(value)
        if percent_format and persen:
            return float(Decimal(repr(number)) * _HUNDRED), None
        return number, None
    if isinstance(value, str):
        return _parse_number_text(value, persen=persen)
    return None, display_text(value)


def _parse_number_text(text: str, *, persen: bool) -> tuple[float | None, str | None]:
    cleaned = text.replace("\u00a0", " ").replace("\u202f", " ").strip()
    if not cleaned or _CURRENCY_RE.sub("", cleaned).strip() in _EMPTY_MARKS:
        return None, None
    amount = decimal_from_text(cleaned)
    if amount is None:
        return None, text.strip()
    number, is_percent = amount
    if is_percent and not persen:
        number /= _HUNDRED
    return float(number), None


def decimal_from_text(text: str) -> tuple[Decimal, bool] | None:
    """``(amount, had_percent_sign)`` for a number written as text, or None.

    ``amount`` is the number as written (``75%`` gives 75); see the module docstring for the
    accepted spellings.
    """
    body = text.strip()
    negative = False
    if body[:1] in ("-", "−"):
        negative, body = True, body[1:].lstrip()
    body = _CURRENCY_RE.sub("", body)
    if body[:1] in ("-", "−") and not negative:
        negative, body = True, body[1:].lstrip()
    is_percent = body.endswith("%")
    if is_percent:
        body = body[:-1].rstrip()
    for tail in (",-", ".-", ",--", ",00-"):
        if body.endswith(tail):
            body = body[: -len(tail)].rstrip()
            break
    digits = _digits(body)
    if digits is None:
        return None
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        return None
    return (-amount if negative else amount), is_percent


def _digits(body: str) -> str | None:
    """The plain ``1234.5`` form of a written number body, or None when it is not one."""
    if not body:
        return None
    if _PLAIN_RE.fullmatch(body):
        return body
    if " " in body:
        whole, sep, frac = _split_decimal(body, (",", "."))
        if not _GROUPED_RE[" "].fullmatch(whole) or (sep and not frac.isdigit()):
            return None
        return whole.replace(" ", "") + (f".{frac}" if sep else "")
    has_dot, has_comma = "." in body, "," in body
    if has_dot and has_comma:
        mark = "," if body.rfind(",") > body.rfind(".") else "."
        group = "." if mark == "," else ","
        whole, _, frac = body.rpartition(mark)
        if not frac.isdigit() or not _GROUPED_RE[group].fullmatch(whole):
            return None
        return whole.replace(group, "") + "." + frac
    mark = "," if has_comma else "."
    count = body.count(mark)
    if count > 1:
        return body.replace(mark, "") if _GROUPED_RE[mark].fullmatch(body) else None
    if mark == "." and _DOT_THOUSANDS_RE.fullmatch(body):
        return body.replace(".", "")
    m = _DECIMAL_RE[mark].fullmatch(body)
    if not m:
        return None
    return f"{m.group(1) or '0'}.{m.group(2)}"


def _split_decimal(body: str, marks: tuple[str, ...]) -> tuple[str, str, str]:
    """Split ``1 250,50`` into ``("1 250", ",", "50")``; no mark gives ``(body, "", "")``."""
    pos = max(body.rfind(m) for m in marks)
    if pos < 0:
        return body, "", ""
    return body[:pos], body[pos], body[pos + 1 :]


def parse_text(value: object) -> str | None:
    """The text of a text-field cell: stripped; empty or a lone dash → None.

    Numbers lose float noise (``1.0`` → ``"1"``), dates become ISO text, booleans their
    Indonesian spelling.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return None if not text or text in MISSING_MARKS else text
    return display_text(value)


def display_text(value: object) -> str | None:
    """A non-text cell value as the unit would read it (for messages and raw values)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOL_TEXT[value]
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


# --------------------------------------------------------------------------------------------
# Dates and periods
# --------------------------------------------------------------------------------------------

_NUMERIC_DATE_RE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORD_DATE_RE = re.compile(r"(\d{1,2})\s*[ /.-]?\s*([a-z]+)\.?\s*[ /.-]?\s*(\d{4})")


def month_number(word: str) -> int | None:
    """1..12 for an Indonesian month name in any spelling in use (``okt``, ``agt``,
    ``Pebruari``, ``Nopember``; see :data:`pipeline.spellings.MONTH_SPELLINGS`)."""
    return spellings.month_number(word)


def parse_date(value: object) -> tuple[dt.date | None, str | None]:
    """``(date, raw)`` for a date cell or Indonesian date text.

    Accepts date cells, ``23 Oktober 2025``, ``23 Okt 2025``, ``23/10/2025``, ``23-10-2025``,
    ``23.10.25`` and ``2025-10-23``. Other text comes back as raw; empty gives ``(None, None)``.
    """
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    text = parse_text(value)
    if text is None:
        return None, None
    if not isinstance(value, str):
        return None, text
    lowered = text.lower()
    parts: tuple[int, int, int] | None = None
    if m := _ISO_DATE_RE.fullmatch(lowered):
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif m := _NUMERIC_DATE_RE.fullmatch(lowered):
        parts = (_year(m.group(3)), int(m.group(2)), int(m.group(1)))
    elif (m := _WORD_DATE_RE.fullmatch(lowered)) and (named := month_number(m.group(2))):
        parts = (int(m.group(3)), named, int(m.group(1)))
    if parts is None:
        return None, text
    try:
        return dt.date(*parts), None
    except ValueError:
        return None, text


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


_PERIOD_NUMERIC_RES = (
    (re.compile(r"(\d{4})\s*[-/. ]\s*(\d{1,2})"), 1, 2),
    (re.compile(r"(\d{1,2})\s*[-/. ]\s*(\d{4})"), 2, 1),
)


def parse_period(value: object) -> tuple[int | None, int] | None:
    """``(year, month)`` for a whole cell naming a month, or None.

    Accepts ``2025-10``, ``2025/10``, ``10-2025``, ``10/2025``, ``Oktober 2025``, ``Okt 2025``,
    ``Oktober`` alone (year None), a date cell (Excel turns a typed ``2025-10`` into the date
    1 October 2025) and full date text (its month).
    """
    if isinstance(value, dt.date):
        return value.year, value.month
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    for pattern, year_group, month_group in _PERIOD_NUMERIC_RES:
        if m := pattern.fullmatch(text):
            month = int(m.group(month_group))
            return (int(m.group(year_group)), month) if 1 <= month <= 12 else None
    words = normalize_text(text).split()
    if len(words) in (1, 2) and (named := month_number(words[0])):
        if len(words) == 1:
            return None, named
        if re.fullmatch(r"(19|20)\d\d", words[1]):
            return int(words[1]), named
        return None
    day, _ = parse_date(value)
    return (day.year, day.month) if day else None


def period_label(year: int | None, month: int) -> str:
    """Indonesian label of a found period: ``Oktober 2025``, or ``Oktober`` without a year."""
    return f"{MONTHS_ID[month - 1]} {year}" if year else MONTHS_ID[month - 1]
