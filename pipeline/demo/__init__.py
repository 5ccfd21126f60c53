"""The demo month: realistic, deterministic, messy-on-purpose submissions, and what was planted.

``rbpipe demo`` and the tests call :func:`generate_month`; the bench uses it for its big months.

Modules: :mod:`~pipeline.demo.month` (the month: who sends what, when, with which mistakes),
:mod:`~pipeline.demo.plans` (a unit's action plans of the year), :mod:`~pipeline.demo.violations`
(rule violations planted at known cells), :mod:`~pipeline.demo.units` (one unit's month against
the one before), :mod:`~pipeline.demo.files` (writing a unit's files, in worker processes),
:mod:`~pipeline.demo.model` (the plain data), :mod:`~pipeline.demo.content` (Indonesian texts per
line of work), :mod:`~pipeline.demo.sheets` (workbooks in layouts other than the template's).
"""

from pipeline.demo.model import MESSES, ROW_CODES, DemoFile, DemoPlan, PlantedProblem
from pipeline.demo.month import generate_month
from pipeline.demo.plans import make_plans

__all__ = [
    "MESSES",
    "ROW_CODES",
    "DemoFile",
    "DemoPlan",
    "PlantedProblem",
    "generate_month",
    "make_plans",
]
