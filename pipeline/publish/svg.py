"""Inline SVG bar charts for the HTML report: no script, no font or file from anywhere else.

A chart is a list of :class:`Bar` (label, value, the value as shown, a tone) drawn as one
horizontal bar per item on a track scaled to ``scale_max``. Every bar is a ``<rect
class="batang">`` carrying its value in ``data-nilai`` (tests count them against the data);
labels too long for the label column are shortened with an ellipsis, the full text in the bar's
``<title>`` (a tooltip, and what a screen reader reads). Text is escaped: labels may be unit
text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

TONES = {
    "good": "#2E7D32",
    "fair": "#C77700",
    "poor": "#C00000",
    "none": "#8C8C8C",
    "navy": "#1F4E78",
}
ROW = 24  # px per bar (label beside the bar)
STACKED_ROW = 36  # px per bar (label above the bar)
BAR = 14  # bar thickness
WIDTH = 480  # viewBox width: 12px text reads at about 10px on a 360px phone, 15px on a desk
CHAR = 6.9  # average width of a 12px character, to fit labels
VALUE_WIDTH = 58  # room for the value after a full bar
STACKED_WIDTH = 360  # viewBox width of charts with labels above the bars


@dataclass(frozen=True, kw_only=True)
class Bar:
    label: str
    value: float  # drawn length, in the chart's unit
    shown: str  # the value as printed after the bar
    tone: str = "navy"  # key of TONES
    key: str = ""  # data-kunci: what the bar is (a unit code, a group name)


def _fit(text: str, width: float) -> str:
    limit = max(4, int(width / CHAR))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    scale_max: float,
    chart_id: str,
    label_width: int = 140,
    stacked: bool = False,
    width: int = WIDTH,
) -> Markup:
    """One horizontal bar chart as an ``<svg>`` element (it scales to its box). Labels sit
    left of the bars in a column ``label_width`` wide, or, ``stacked``, above each bar on its
    own line (long names: themes, sasaran; drawn ``STACKED_WIDTH`` wide, so the text stays
    readable on a phone without scrolling)."""
    if stacked:
        width = min(width, STACKED_WIDTH)
    row = STACKED_ROW if stacked else ROW
    x0 = 2 if stacked else label_width + 6
    track = width - x0 - VALUE_WIDTH
    height = row * len(bars) + 6
    out = [
        f'<svg class="grafik{" bertumpuk" if stacked else ""}" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-judul" '
        f'xmlns="http://www.w3.org/2000/svg" data-batang="{len(bars)}">',
        f'<title id="{escape(chart_id)}-judul">{escape(title)}</title>',
    ]
    for i, bar in enumerate(bars):
        top = 3 + i * row
        y = top + row - BAR - 5 if stacked else top + (row - BAR) / 2
        length = 0.0 if scale_max <= 0 else max(0.0, min(bar.value, scale_max)) / scale_max * track
        if stacked:
            label = (
                f'<text x="{x0}" y="{top + 12:.1f}" class="label">'
                f"{escape(_fit(bar.label, width - 4))}</text>"
            )
        else:
            label = (
                f'<text x="{label_width}" y="{y + BAR - 3:.1f}" text-anchor="end" class="label">'
                f"{escape(_fit(bar.label, label_width - 4))}</text>"
            )
        out.append(
            f"<g><title>{escape(bar.label)}: {escape(bar.shown)}</title>{label}"
            f'<rect class="jalur" x="{x0}" y="{y:.1f}" width="{track:.1f}" '
            f'height="{BAR}" rx="2" fill="#EEF1F5"/>'
            f'<rect class="batang" x="{x0}" y="{y:.1f}" width="{length:.1f}" '
            f'height="{BAR}" rx="2" fill="{TONES.get(bar.tone, TONES["navy"])}" '
            f'data-kunci="{escape(bar.key or bar.label)}" data-nilai="{bar.value!r}"/>'
            f'<text x="{x0 + length + 4:.1f}" y="{y + BAR - 3:.1f}" class="nilai">'
            f"{escape(bar.shown)}</text></g>"
        )
    out.append("</svg>")
    return Markup("".join(out))
