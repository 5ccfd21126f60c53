"""The XML of streamed cells, made here rather than by xlsxwriter's per-cell writer.

Publishing a month writes about a million cells (the consolidated sheets of the regency workbook
and the re-rendered sheets of the feedback workbooks). xlsxwriter's own path costs ~4 µs a cell
(a method call, a cell tuple, a row flush that builds an attribute list and escapes it per
cell); a cell's XML text is a few f-string parts. For the sheets written row by row
(:class:`pipeline.publish.styles.StreamingWorksheet`, xlsxwriter's ``constant_memory`` mode) the
rows' ``<c>`` elements are therefore made here, ~10x faster, and handed to the worksheet, which
still writes the ``<row>`` elements, the dimensions, hyperlinks, comments, the table and
everything else.

**Same XML as xlsxwriter** (3.x, ``constant_memory``): numbers ``<c r="B7" s="3"><v>12.5</v>``
(``.16G``), strings inline (``t="inlineStr"``) with xlsxwriter's escaping: control characters as
``_xHHHH_`` (a literal ``_xHHHH_`` in the text escaped as ``_x005F_xHHHH_``), ``&``, ``<``,
``>`` as entities, ``xml:space="preserve"`` when the text starts or ends with whitespace, and
strings cut to 32,767 UTF-16 units. ``tests/test_publish_streaming.py`` compares the two,
byte for byte, on generated text. **One deliberate difference**: xlsxwriter writes a string
that starts with ``<r>`` and ends with ``</r>`` *unescaped*, as rich-text XML — a unit typing
``<r>&</r>`` in a cell would make the workbook unreadable. Here it is text like any other.
"""

from __future__ import annotations

import re

from xlsxwriter.utility import xl_col_to_name

MAX_UTF16_UNITS = 32767  # Excel's limit for a cell's text
_LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_MARKUP = re.compile('["&<>\n]')
_EDGE_SPACE = re.compile(r"^\s|\s$")
_CACHE_LIMIT = 100_000  # distinct texts remembered per sheet (values repeat: units, files)


def _utf16_cut(text: str) -> str:
    """``text`` cut to Excel's cell limit in UTF-16 units, never inside a character."""
    if len(text) <= MAX_UTF16_UNITS // 2:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_UTF16_UNITS:
            return text[:index]
    return text


def inline_text(text: str) -> str:
    """What follows ``<c r=".." s=".."`` for a string cell, closing tag included."""
    text = _utf16_cut(text)
    text = _LITERAL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    preserve = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    if _MARKUP.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f' t="inlineStr"><is><t{preserve}>{text}</t></is></c>'


class RowCells:
    """Builds the ``<c>`` elements of a sheet's rows. One per sheet: it remembers the escaped
    form of texts it has seen (a month's unit names, files and choices repeat on every row)."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._letters: dict[int, str] = {}

    def letter(self, col: int) -> str:
        found = self._letters.get(col)
        if found is None:
            found = self._letters[col] = xl_col_to_name(col)
        return found

    def text(self, ref: str, xf: int, text: str) -> str:
        tail = self._texts.get(text)
        if tail is None:
            tail = inline_text(text)
            if len(self._texts) < _CACHE_LIMIT:
                self._texts[text] = tail
        return f'<c r="{ref}" s="{xf}"{tail}'

    @staticmethod
    def number(ref: str, xf: int, value: float) -> str:
        return f'<c r="{ref}" s="{xf}"><v>{value:.16G}</v></c>'

    @staticmethod
    def blank(ref: str, xf: int) -> str:
        return f'<c r="{ref}" s="{xf}"/>'
