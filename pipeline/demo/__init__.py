"""The demo month: realistic, deterministic, messy-on-purpose submissions, and what was planted.

``rbpipe demo`` and the tests call :func:`generate_month`; the bench uses it for its big months.

Modules: :mod:`~pipeline.demo.month` (the month: who sends what, when, with which mistakes; the
action plans of the year; the planted violations; one unit's files), :mod:`~pipeline.demo.content`
(Indonesian texts per line of work), :mod:`~pipeline.demo.sheets` (workbooks in layouts other than
the template's: free-style sheets, percent formats, formulas).
"""

from pipeline.demo.month import (
    MESSES,
    ROW_CODES,
    DemoFile,
    DemoPlan,
    PlantedProblem,
    generate_month,
    make_plans,
)

__all__ = [
    "MESSES",
    "ROW_CODES",
    "DemoFile",
    "DemoPlan",
    "PlantedProblem",
    "generate_month",
    "make_plans",
]
