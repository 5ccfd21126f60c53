"""Indonesian number text for messages: ``1.048.576``, ``2,5`` (thousands ``.``, decimals ``,``).

Workbooks store numbers as numbers with an Indonesian number format; this is for numbers inside
sentences (problem messages, CLI lines, the bench table), which no number format reaches."""

from __future__ import annotations


def number(value: float, decimals: int = 0) -> str:
    """``value`` with ``decimals`` decimals, grouped by thousands, Indonesian style."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
