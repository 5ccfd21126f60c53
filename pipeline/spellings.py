"""How Indonesian offices write things, as data beside the schema's synonyms.

The template fixes the spelling of headers (``schema.FIELDS``) and sheet names
(``schema.SHEETS``); this module holds the rest of what units really type or paste: month names
in every spelling in use (the pre-1972 ``Djanuari``, ``Pebruari``, ``Nopember``, abbreviations,
English), the invisible and odd space characters a copy from a web page or a PDF brings along,
and the dash variants a word processor turns ``U-01`` into. Ingest cleans every cell's text with
:func:`clean_text`; validation compares action-plan codes through :func:`code_key`, so a
duplicate ``kode`` (RB-E114) is never missed because of how it was typed.
"""

from __future__ import annotations

import re

# Month -> every spelling seen (lower case, without a trailing dot). Full names first.
MONTH_SPELLINGS: dict[int, tuple[str, ...]] = {
    1: ("januari", "djanuari", "january", "jan", "djan"),
    2: ("februari", "pebruari", "febuari", "february", "feb", "peb", "febr", "pebr"),
    3: ("maret", "march", "mar", "mrt"),
    4: ("april", "apr", "aprl"),
    5: ("mei", "may"),
    6: ("juni", "djuni", "june", "jun"),
    7: ("juli", "djuli", "july", "jul"),
    8: ("agustus", "augustus", "august", "agu", "agt", "ags", "agst", "agust", "aug"),
    9: ("september", "sept", "sep", "spt", "sepember"),
    10: ("oktober", "october", "okt", "oct", "okto"),
    11: ("november", "nopember", "nov", "nop", "novem"),
    12: ("desember", "december", "des", "dec"),
}
MONTH_WORDS: dict[str, int] = {
    spelling: month for month, spellings in MONTH_SPELLINGS.items() for spelling in spellings
}

# Characters with no width that a paste brings along: zero-width space, non-joiner, joiner,
# word joiner, byte-order mark, soft hyphen, Mongolian vowel separator.
INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
# Spaces that are not the space bar's: no-break, narrow no-break, figure, thin, hair, en/em
# spaces and the like, ideographic space.
ODD_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u205f\u3000"
# Dashes a word processor or a PDF puts where the unit typed a hyphen.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"

_ODD = re.compile(f"[{INVISIBLE_CHARS}{ODD_SPACES}]")
_TRANSLATE = str.maketrans(
    {**dict.fromkeys(INVISIBLE_CHARS, None), **dict.fromkeys(ODD_SPACES, " ")}
)
_CODE_TRANSLATE = str.maketrans(
    {
        **dict.fromkeys(INVISIBLE_CHARS, None),
        **dict.fromkeys(ODD_SPACES, None),
        **dict.fromkeys(DASHES, "-"),
        **dict.fromkeys(" \t\r\n", None),
    }
)


def has_odd_characters(text: str) -> bool:
    """True when ``text`` holds an invisible character or an odd space (a C-speed search)."""
    return _ODD.search(text) is not None


def clean_text(text: str) -> str:
    """``text`` without invisible characters and with odd spaces as plain spaces."""
    return text.translate(_TRANSLATE)


def code_key(kode: object) -> str:
    """The form two action-plan codes are compared in: case, spaces, invisible characters and
    dash variants ignored (``U-01``, ``u–01 ``, ``U-01\\u200b`` are one code)."""
    return str(kode).translate(_CODE_TRANSLATE).casefold()


def month_number(word: str) -> int | None:
    """1..12 for a month name in any spelling of :data:`MONTH_SPELLINGS`, else None."""
    return MONTH_WORDS.get(clean_text(word).strip().lower().rstrip("."))
