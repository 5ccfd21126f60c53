"""Indonesian number text for messages: ``1.048.576``, ``2,5`` (thousands ``.``, decimals ``,``).

Workbooks store numbers as numbers with an Indonesian number format; this is for numbers inside
sentences (problem messages, CLI lines, the bench table), which no number format reaches."""

from __future__ import annotations

import datetime as dt

from pipeline.registry import MONTHS_ID


def number(value: float, decimals: int = 0) -> str:
    """``value`` with ``decimals`` decimals, grouped by thousands, Indonesian style."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def tanggal(day: dt.date) -> str:
    """``5 November 2025``."""
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def percent(fraction: float | None, decimals: int = 1) -> str:
    """A 0..1 rate as Indonesian percent text (``0.75`` -> ``75,0%``); ``–`` when undefined."""
    return "–" if fraction is None else f"{number(fraction * 100, decimals)}%"
