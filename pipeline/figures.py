"""The regency's figures of one month, computed once by metrics and rendered by every publisher.

:class:`RegencyFigures` holds every number the regency workbook, the manifest, the run summary,
the HTML report and the portal's board show about the regency as a whole: units (expected,
submitted, on time, late, rejected, missing, ranked), files and rows, the plan status counts,
the six metrics with their bases and excluded-row counts, budget sums, problem counts, the
medians of the unit metrics, and the change since the previous recorded month
(:class:`MonthChange`). Publishers read them; they never count rows, budgets or statuses
themselves ("computed once, rendered twice").

Conventions: rates are fractions 0..1, capaian is in percent (``78.5``), an undefined figure is
NaN (a float field) — ``json_scalar`` writes it as ``null``. Counts are ints.

Example::

    reg = run.metrics.regency
    f"{reg.units_submitted} dari {reg.units_expected} unit"          # "48 dari 51 unit"
    reg.change.delta["completion_rate"] if reg.change else None    # +0.04 (4 points)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# The six unit metrics (manifest keys): capaian in percent, the others as fractions 0..1.
METRIC_KEYS = (
    "completion_rate",
    "capaian_mean",
    "capaian_median",
    "evidence_completeness",
    "budget_absorption",
    "data_quality",
)
# Figures compared month over month (the history's trend columns; on the regency row
# ``submitted``/``on_time`` count units).
MOM_METRICS = ("submitted", "on_time", "reporting_rate", "on_time_rate", *METRIC_KEYS)


@dataclass(frozen=True, kw_only=True)
class MonthChange:
    """This month against the latest *recorded* month before it (a skipped month is
    skipped): that month, its figures and the difference (now - then; NaN where either is
    undefined), for every :data:`MOM_METRICS` entry."""

    previous_period: str  # "YYYY-MM"
    previous: Mapping[str, float]
    delta: Mapping[str, float]

    def points(self, metric: str) -> float:
        """The change as a person reads it: percentage points for a rate (x100), points of
        capaian for capaian (already in percent); NaN when not comparable."""
        value = self.delta.get(metric, math.nan)
        return value if metric.startswith("capaian") else value * 100


@dataclass(frozen=True, kw_only=True)
class RegencyFigures:
    """Every regency-wide figure of one month (see the module docstring)."""

    kode: str  # metrics.REGENCY_CODE: the regency's row in trend frames
    nama: str  # the regency's name (settings.nama_pemda)
    period: str  # "YYYY-MM"

    # Units of the registry
    units_expected: int
    units_submitted: int  # with an accepted file
    units_on_time: int  # submitted, first file before the deadline
    units_late: int  # submitted after the deadline
    units_rejected: int  # sent files, none accepted
    units_missing: int  # sent nothing
    units_ranked: int  # units with a rank (those that submitted)
    reporting_rate: float  # units_submitted / units_expected
    on_time_rate: float  # units_on_time / units_expected

    # Files and rows as received
    files: int
    files_accepted: int
    files_superseded: int
    files_rejected: int
    files_with_problems: int  # files named by at least one problem
    rows_read: int
    rows_consolidated: int
    rows_skipped: int

    # Action plans (pooled over every plan of the month)
    plans: int
    plans_counted: int  # plans with a status (not excluded from completion)
    plans_done: int  # Selesai or Sesuai Target
    plans_clean: int  # rows without an error-severity problem
    rows_with_errors: int
    n_selesai: int
    n_sesuai: int
    n_terlambat: int
    n_belum: int

    # The six metrics, their bases and excluded rows
    completion_rate: float  # plans_done / plans_counted
    capaian_mean: float  # percent
    capaian_median: float  # percent
    evidence_completeness: float
    budget_absorption: float  # realisasi_anggaran_total / anggaran_total
    data_quality: float  # plans_clean / plans
    anggaran_total: float  # budgets counted for absorption (Rp)
    realisasi_anggaran_total: float
    completion_excluded: int
    capaian_excluded: int
    evidence_excluded: int
    budget_excluded: int
    capaian_n: int
    evidence_n: int
    budget_n: int

    # Problems of the month (every file, row and cell)
    errors: int
    warnings: int

    # Why rows were skipped: (reason, rows, files), most rows first, then by reason
    skipped_reasons: tuple[tuple[str, int, int], ...] = ()
    # Each unit metric's median over the units that submitted (NaN when none): the yardstick of
    # the feedback workbooks.
    unit_medians: Mapping[str, float] = field(default_factory=dict)
    # Against the previous recorded month; None when the history holds no earlier month.
    change: MonthChange | None = None

    def metric(self, name: str) -> float:
        """A figure by its manifest/trend name (``completion_rate``, ``reporting_rate``...)."""
        return float(getattr(self, name))

    def as_dict(self) -> dict[str, Any]:
        """Every figure by name, as the manifest's ``regency`` object and the history store
        them: ``rows`` (= ``plans``, the name the unit tables use) added, ``unit_medians`` and
        ``change`` as nested objects (``change`` None without a previous month)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "unit_medians":
                value = dict(value)
            elif f.name == "skipped_reasons":
                value = [{"reason": r, "rows": n, "files": k} for r, n, k in value]
            elif f.name == "change":
                value = (
                    None
                    if value is None
                    else {
                        "previous_period": value.previous_period,
                        "previous": dict(value.previous),
                        "delta": dict(value.delta),
                    }
                )
            out[f.name] = value
            if f.name == "plans":
                out["rows"] = value
        return out
