"""What the sheets of a feedback workbook share: sheet names, table position, terms."""

from __future__ import annotations

from pipeline.metrics import STATUSES
from pipeline.publish.regency import PLAN_STATUS_NOT_COUNTED, TERMS

SHEET_SUMMARY = "Ringkasan"
SHEET_FIXES = "Perbaikan"
SHEET_LEGEND = "Legenda"
TABLE_TOP = 4
FEEDBACK_TERMS = tuple(
    t
    for t in TERMS
    if t[0]
    in (
        "Capaian (%)",
        *STATUSES,
        PLAN_STATUS_NOT_COUNTED,
        "Sel merah / kuning",
    )
)
