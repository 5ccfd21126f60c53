"""Completion metrics: per action plan, per unit, per sasaran/tema and regency-wide.

Pure pandas over the validated staged rows (docs/contracts.md "staged-rows"), the month's
problems, the submissions and the registry; nothing here reads or writes files. Who delivered
and when (on time, the arrival log) is :mod:`pipeline.deliveries`.

Exclusions: an error-severity problem on a row (matched on unit, file, sheet and row) excludes the
row from the metrics its catalogue rule names (``Rule.metrics``: ``capaian``, ``status``,
``bukti``, ``anggaran``). An error whose code is missing from the catalogue excludes the row from
all of them, because nothing says which figure it would corrupt. Warnings never exclude. Every
figure carries the number of rows it excluded (``*_excluded``), so it can be traced to rows.

Figures are pooled over action plans: a theme's or the regency's completion rate is the share of
*all* its plans, not the mean of unit rates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from pipeline import staged as staged_rows
from pipeline.deliveries import Delivery, unit_deliveries
from pipeline.figures import METRIC_KEYS, MOM_METRICS, MonthChange, RegencyFigures
from pipeline.model import Metrics, Submission, reason_group
from pipeline.plain import as_float, is_missing
from pipeline.problems import Problem, Rule, load_catalogue
from pipeline.registry import Period, Registry
from pipeline.schema import KINDS, REALISASI_FIELDS
from pipeline.staged import EXCLUSION_FLAGS

STATUS_SELESAI = "Selesai"
STATUS_SESUAI = "Sesuai Target"
STATUS_TERLAMBAT = "Terlambat"
STATUS_BELUM = "Belum Dilaporkan"
STATUSES = (STATUS_SELESAI, STATUS_SESUAI, STATUS_TERLAMBAT, STATUS_BELUM)
STATUS_COUNTS = {
    STATUS_SELESAI: "n_selesai",
    STATUS_SESUAI: "n_sesuai",
    STATUS_TERLAMBAT: "n_terlambat",
    STATUS_BELUM: "n_belum",
}

REGENCY_CODE = "KABUPATEN"  # the regency's row in trend frames
INVALID_GROUP = "(Tidak valid)"  # plans whose sasaran/tema is empty or not in the reference list
# The field that groups each sheet kind's plans, and so the reference list giving the order.
GROUP_FIELDS = {"umum": "sasaran", "tematik": "tema"}

# Catalogue metric name (Rule.metrics) -> plan flag column (staged.EXCLUSION_FLAGS) ->
# excluded-count column.
EXCLUDED_COUNTS = {
    "status": "completion_excluded",
    "capaian": "capaian_excluded",
    "bukti": "evidence_excluded",
    "anggaran": "budget_excluded",
}

SUMMARY_COLUMNS = (
    "rows",
    "errors",
    "warnings",
    "rows_with_errors",
    *STATUS_COUNTS.values(),
    *METRIC_KEYS,
    "anggaran_total",
    "realisasi_anggaran_total",
    *EXCLUDED_COUNTS.values(),
    "capaian_n",
    "evidence_n",
    "budget_n",
)
UNIT_COLUMNS = (
    "kode",
    "nama",
    "jenis",
    "submitted",
    "on_time",
    "file",
    "received",
    "first_received",
    *SUMMARY_COLUMNS,
    "rank",
)
GROUP_COLUMNS = (
    "kind",
    "group",
    "plans",
    "units",
    "reporting_rate",
    "on_time_rate",
    *SUMMARY_COLUMNS,
)


# --------------------------------------------------------------------------------------------
# Per action plan
# --------------------------------------------------------------------------------------------


def latest_realisation(plans: pd.DataFrame, running_quarter: int) -> pd.Series:
    """``realisasi_terakhir`` = realisasi_tw_k for the largest k <= q that is filled in
    (realisations are cumulative, so the latest one is the achievement so far); NaN when none."""
    columns = [f"realisasi_tw{k}" for k in range(1, running_quarter + 1)]
    return plans[columns].astype(float).ffill(axis=1).iloc[:, -1].rename("realisasi_terakhir")


def capaian_pct(plans: pd.DataFrame, running_quarter: int) -> pd.Series:
    """``capaian_pct`` = realisasi_tw_q / target_tw_q x 100 for the running quarter q.

    NaN where target_tw_q is missing or not > 0, and where realisasi_tw_q is blank: the running
    quarter's realisation is optional, so a blank means "not reported yet", not zero."""
    target = plans[f"target_tw{running_quarter}"].astype(float)
    real = plans[f"realisasi_tw{running_quarter}"].astype(float)
    return (real / target * 100).where(target > 0).rename("capaian_pct")


def capaian_tahunan_pct(plans: pd.DataFrame, running_quarter: int) -> pd.Series:
    """``capaian_tahunan_pct`` = realisasi_terakhir / target_tw4 x 100 (progress towards the
    annual target); NaN where target_tw4 is missing or not > 0, or nothing is realised yet."""
    target = plans["target_tw4"].astype(float)
    latest = latest_realisation(plans, running_quarter)
    return (latest / target * 100).where(target > 0).rename("capaian_tahunan_pct")


def plan_status(plans: pd.DataFrame, running_quarter: int) -> pd.Series:
    """Status of each plan at a month of running quarter q (last closed quarter c = q - 1), the
    first that holds:

    1. ``Selesai``: realisasi_terakhir >= target_tw4 (target_tw4 > 0);
    2. ``Sesuai Target``: c == 0, or realisasi_tw_c >= target_tw_c;
    3. ``Terlambat``: realisasi_tw_c < target_tw_c;
    4. ``Belum Dilaporkan``: c >= 1 and realisasi_tw_c is blank.

    In January-March (c = 0) no quarter has closed, so nothing is due yet: a plan is Selesai or
    Sesuai Target, never Terlambat nor Belum Dilaporkan. Null (undetermined) when c >= 1,
    realisasi_tw_c is filled but target_tw_c is blank (itself an error the rules report)."""
    closed = running_quarter - 1
    target4 = plans["target_tw4"].astype(float)
    selesai = (target4 > 0) & (latest_realisation(plans, running_quarter) >= target4)
    if closed == 0:
        conditions = [selesai, ~selesai]
        choices = [STATUS_SELESAI, STATUS_SESUAI]
    else:
        real = plans[f"realisasi_tw{closed}"].astype(float)
        target = plans[f"target_tw{closed}"].astype(float)
        conditions = [selesai, real >= target, real < target, real.isna()]
        choices = [STATUS_SELESAI, STATUS_SESUAI, STATUS_TERLAMBAT, STATUS_BELUM]
    values = np.select([c.to_numpy(dtype=bool) for c in conditions], choices, default="")
    return pd.Series(values, index=plans.index, dtype=object).replace("", None).rename("status")


def row_problem_flags(
    rows: pd.DataFrame, problems: Iterable[Problem], catalogue: Mapping[str, Rule]
) -> pd.DataFrame:
    """Per row: ``_errors`` and ``_warnings`` (problems whose unit, file, sheet and row match the
    row) and one ``_excl_<metric>`` flag per :data:`EXCLUSION_FLAGS` entry, True when an error
    on the row has a catalogue rule naming that metric (or a code the catalogue lacks)."""
    by_row: dict[tuple, list[Problem]] = {}
    for p in problems:
        if p.row is not None:
            by_row.setdefault((p.unit, p.file, p.sheet, int(p.row)), []).append(p)
    n = len(rows)
    counts = {"_errors": np.zeros(n, dtype="int64"), "_warnings": np.zeros(n, dtype="int64")}
    flags = {flag: np.zeros(n, dtype=bool) for flag in EXCLUSION_FLAGS.values()}
    keys = zip(rows["_unit"], rows["_file"], rows["_sheet"], rows["_row"], strict=True)
    # Most rows have no problem: only those with one cost more than a dictionary look-up.
    for i, (unit, file, sheet, row) in enumerate(keys if by_row else ()):
        found = by_row.get((unit, file, sheet, int(row)), []) if not is_missing(row) else []
        errors = [p for p in found if p.is_error]
        counts["_errors"][i] = len(errors)
        counts["_warnings"][i] = len(found) - len(errors)
        for p in errors:
            rule = catalogue.get(p.code)
            for metric in rule.metrics if rule is not None else EXCLUSION_FLAGS:
                if metric in EXCLUSION_FLAGS:
                    flags[EXCLUSION_FLAGS[metric]][i] = True
    return pd.DataFrame({**counts, **flags}, index=rows.index)


def annotate_plans(
    rows: pd.DataFrame,
    problems: Iterable[Problem],
    *,
    period: Period,
    catalogue: Mapping[str, Rule],
) -> pd.DataFrame:
    """``Metrics.plans`` (declared in :data:`pipeline.staged.PLANS`): the staged rows plus
    capaian_pct, capaian_tahunan_pct, realisasi_terakhir, status, _errors, _warnings and the
    exclusion flags. A plan whose status is undetermined counts as excluded from status (its
    data cannot give one); excluded values are NaN / null."""
    staged_rows.check(rows)
    q = period.running_quarter
    flags = row_problem_flags(rows, problems, catalogue)
    status = plan_status(rows, q)
    flags["_excl_status"] = flags["_excl_status"] | status.isna()
    plans = rows.assign(
        realisasi_terakhir=latest_realisation(rows, q),
        capaian_pct=capaian_pct(rows, q).where(~flags["_excl_capaian"]),
        capaian_tahunan_pct=capaian_tahunan_pct(rows, q).where(~flags["_excl_capaian"]),
        status=status.where(~flags["_excl_status"], None),
        **{c: flags[c] for c in flags.columns},
    )
    return staged_rows.PLANS.check(plans)


# --------------------------------------------------------------------------------------------
# Over a set of plans (a unit, a sasaran/tema, the regency)
# --------------------------------------------------------------------------------------------


def ratio(part: float, whole: float) -> float:
    """part / whole, NaN when whole is 0."""
    return float(part) / float(whole) if whole else math.nan


class PlanFigures:
    """The per-plan inputs of every figure of :func:`summarise`, as numpy arrays computed once,
    so that a figure over any set of plans (a unit, a sasaran/tema, the regency) is a few numpy
    reductions over that set's positions rather than pandas work per set.

    Each figure sums or averages the selected values in row order, exactly as the same pandas
    reduction over the subset frame would (same values, same order, same numpy summation)."""

    def __init__(self, plans: pd.DataFrame) -> None:
        status = plans["status"]
        self.errors = plans["_errors"].to_numpy(dtype="int64")
        self.warnings = plans["_warnings"].to_numpy(dtype="int64")
        self.has_status = status.notna().to_numpy(dtype=bool)
        self.status = {s: (status == s).to_numpy(dtype=bool) for s in STATUSES}
        self.capaian = plans["capaian_pct"].to_numpy(dtype="float64")
        self.excluded = {m: plans[flag].to_numpy(dtype=bool) for m, flag in EXCLUSION_FLAGS.items()}
        realised = plans[list(REALISASI_FIELDS)].astype(float).gt(0).any(axis=1).to_numpy()
        self.evidence = realised & ~self.excluded["bukti"]
        self.evidence_filled = self.evidence & _filled(plans["data_dukung"]).to_numpy()
        anggaran = plans["anggaran"].to_numpy(dtype="float64")
        self.budget = (anggaran > 0) & ~self.excluded["anggaran"]
        self.anggaran = anggaran
        self.realisasi_anggaran = np.nan_to_num(
            plans["realisasi_anggaran"].to_numpy(dtype="float64"), nan=0.0
        )

    def completion_rate(self, at: np.ndarray) -> float:
        """completion rate = plans ``Selesai`` or ``Sesuai Target`` / plans with a status. Plans
        excluded from status have none and are in neither count. NaN when no plan has a
        status."""
        done = self.status[STATUS_SELESAI][at].sum() + self.status[STATUS_SESUAI][at].sum()
        return ratio(done, self.has_status[at].sum())

    def _capaian(self, at: np.ndarray) -> np.ndarray:
        values = self.capaian[at]
        return values[~np.isnan(values)]

    def capaian_mean(self, at: np.ndarray) -> float:
        """Mean of ``capaian_pct`` over plans where it is defined and not excluded (in
        percent)."""
        values = self._capaian(at)
        return float(values.sum() / np.float64(len(values))) if len(values) else math.nan

    def capaian_median(self, at: np.ndarray) -> float:
        """Median of ``capaian_pct`` over plans where it is defined and not excluded (in
        percent)."""
        values = self._capaian(at)
        return float(np.median(values)) if len(values) else math.nan

    def evidence_completeness(self, at: np.ndarray) -> float:
        """evidence completeness = plans needing evidence (any of realisasi_tw1..4 > 0, and not
        excluded from ``bukti``) with ``data_dukung`` filled / plans needing evidence. NaN when
        no plan has a realisation above 0."""
        return ratio(self.evidence_filled[at].sum(), self.evidence[at].sum())

    def budget_sums(self, at: np.ndarray) -> tuple[float, float]:
        """(sum realisasi_anggaran, sum anggaran) over the plans that carry a budget (anggaran >
        0, and not excluded from ``anggaran``); a blank realisasi_anggaran counts as 0."""
        base = at[self.budget[at]]
        return float(self.realisasi_anggaran[base].sum()), float(self.anggaran[base].sum())

    def data_quality(self, at: np.ndarray) -> float:
        """data quality = rows with no error-severity problem / rows. NaN when there are no
        rows."""
        return ratio((self.errors[at] == 0).sum(), len(at))

    def summary(self, at: np.ndarray) -> dict[str, Any]:
        """The :data:`SUMMARY_COLUMNS` figures of the plans at positions ``at`` (ascending)."""
        realised, budget = self.budget_sums(at)
        return {
            "rows": len(at),
            "errors": int(self.errors[at].sum()),
            "warnings": int(self.warnings[at].sum()),
            "rows_with_errors": int((self.errors[at] > 0).sum()),
            **{column: int(self.status[s][at].sum()) for s, column in STATUS_COUNTS.items()},
            "completion_rate": self.completion_rate(at),
            "capaian_mean": self.capaian_mean(at),
            "capaian_median": self.capaian_median(at),
            "evidence_completeness": self.evidence_completeness(at),
            "budget_absorption": ratio(realised, budget),
            "data_quality": self.data_quality(at),
            "anggaran_total": budget,
            "realisasi_anggaran_total": realised,
            **{column: int(self.excluded[m][at].sum()) for m, column in EXCLUDED_COUNTS.items()},
            "capaian_n": int((~np.isnan(self.capaian[at])).sum()),
            "evidence_n": int(self.evidence[at].sum()),
            "budget_n": int(self.budget[at].sum()),
        }


def summarise(plans: pd.DataFrame) -> dict[str, object]:
    """The :data:`SUMMARY_COLUMNS` figures of a set of annotated plans. ``errors`` and
    ``warnings`` count the rows' problems; ``anggaran_total``/``realisasi_anggaran_total`` are
    the sums budget absorption is computed from; ``*_n`` are the bases of the figures."""
    return PlanFigures(plans).summary(np.arange(len(plans)))


# --------------------------------------------------------------------------------------------
# Units, groups, regency
# --------------------------------------------------------------------------------------------


def unit_metrics(
    plans: pd.DataFrame,
    problems: Iterable[Problem],
    deliveries: Mapping[str, Delivery],
    registry: Registry,
) -> pd.DataFrame:
    """``Metrics.units``: one row per registry unit in registry order (:data:`UNIT_COLUMNS`).
    ``errors``/``warnings`` count every problem attributed to the unit this month, file-level
    ones included; metrics of a unit that did not submit are NaN."""
    problem_counts: dict[tuple[str | None, bool], int] = {}
    for p in problems:
        problem_counts[(p.unit, p.is_error)] = problem_counts.get((p.unit, p.is_error), 0) + 1
    figures = PlanFigures(plans)
    by_unit = plans.groupby("_unit", sort=False).indices if len(plans) else {}
    none = np.arange(0)
    records = []
    for unit in registry.units:
        delivery = deliveries.get(unit.kode)
        records.append(
            {
                "kode": unit.kode,
                "nama": unit.nama,
                "jenis": unit.jenis,
                "submitted": delivery is not None,
                "on_time": delivery.on_time if delivery else None,
                "file": delivery.file if delivery else None,
                "received": delivery.received if delivery else None,
                "first_received": delivery.first_received if delivery else None,
                **figures.summary(by_unit.get(unit.kode, none)),
                "errors": problem_counts.get((unit.kode, True), 0),
                "warnings": problem_counts.get((unit.kode, False), 0),
            }
        )
    units = pd.DataFrame.from_records(records, columns=[c for c in UNIT_COLUMNS if c != "rank"])
    units = units.astype(
        {
            "submitted": bool,
            "on_time": "boolean",
            "received": "datetime64[us]",
            "first_received": "datetime64[us]",
        }
    )
    return units.assign(rank=rank_units(units))


def rank_units(units: pd.DataFrame) -> pd.Series:
    """Rank of each submitting unit: 1 = highest completion rate, ties broken by higher capaian
    mean, then by code (undefined figures sort last). Null for units that did not submit."""
    ranked = units[units["submitted"]].sort_values(
        ["completion_rate", "capaian_mean", "kode"],
        ascending=[False, False, True],
        na_position="last",
        kind="stable",
    )
    rank = pd.Series(pd.NA, index=units.index, dtype="Int64")
    rank.loc[ranked.index] = range(1, len(ranked) + 1)
    return rank.rename("rank")


def group_metrics(
    plans: pd.DataFrame, deliveries: Mapping[str, Delivery], registry: Registry
) -> pd.DataFrame:
    """``Metrics.groups``: one row per sasaran (kind ``umum``) then per tema (kind ``tematik``),
    in reference-list order, each even with no plans; then, per kind and only when it has plans,
    ``(Tidak valid)`` for plans whose sasaran/tema is empty or not in the list.

    ``reporting_rate`` = registry units with plans in the group / units expected; ``on_time_rate``
    = those of them on time / units expected (how widely the regency reports on the group)."""
    expected = set(registry.codes)
    figures = PlanFigures(plans)
    unit_of = plans["_unit"].to_numpy(dtype=object)
    records = []
    for kind in KINDS:
        field = GROUP_FIELDS[kind]
        listed = registry.reference(field)
        of_kind = (plans["_kind"] == kind).to_numpy(dtype=bool)
        values = plans[field]
        subsets = [(name, np.flatnonzero(of_kind & (values == name).to_numpy())) for name in listed]
        invalid = np.flatnonzero(of_kind & ~values.isin(listed).to_numpy())
        if len(invalid):
            subsets.append((INVALID_GROUP, invalid))
        for name, at in subsets:
            units = {u for u in unit_of[at] if not is_missing(u)}
            on_time = {u for u in units & expected if deliveries.get(u) and deliveries[u].on_time}
            records.append(
                {
                    "kind": kind,
                    "group": name,
                    "plans": len(at),
                    "units": len(units),
                    "reporting_rate": ratio(len(units & expected), len(expected)),
                    "on_time_rate": ratio(len(on_time), len(expected)),
                    **figures.summary(at),
                }
            )
    return pd.DataFrame.from_records(records, columns=list(GROUP_COLUMNS))


def regency_metrics(
    plans: pd.DataFrame,
    problems: list[Problem],
    units: pd.DataFrame,
    submissions: list[Submission],
    *,
    period: Period,
    registry: Registry,
) -> RegencyFigures:
    """``Metrics.regency``: reporting rate = units that submitted / units expected (registry);
    on-time rate = units on time / units expected; the plan figures of :func:`summarise` pooled
    over every plan; ``errors``/``warnings`` count every problem of the month; the files and
    rows as received; the unit medians the feedback compares with. ``change`` is filled from
    the history by :func:`compare_with_history`."""
    expected = len(registry.units)
    submitted = int(units["submitted"].sum())
    on_time = int(units["on_time"].fillna(False).sum())
    senders = {s.unit for s in submissions if s.unit}
    rejected = sum(1 for u in units.itertuples() if not u.submitted and u.kode in senders)
    reported = units[units["submitted"]]
    figures = PlanFigures(plans)
    at = np.arange(len(plans))
    summary = figures.summary(at)
    for key in ("rows", "errors", "warnings"):  # rows = plans; problems counted below, all
        summary.pop(key)
    counts = Counter(s.status for s in submissions)
    return RegencyFigures(
        kode=REGENCY_CODE,
        nama=registry.settings.nama_pemda,
        period=str(period),
        units_expected=expected,
        units_submitted=submitted,
        units_on_time=on_time,
        units_late=submitted - on_time,
        units_rejected=rejected,
        units_missing=expected - submitted - rejected,
        units_ranked=int(units["rank"].notna().sum()),
        reporting_rate=ratio(submitted, expected),
        on_time_rate=ratio(on_time, expected),
        files=len(submissions),
        files_accepted=counts["accepted"],
        files_superseded=counts["superseded"],
        files_rejected=counts["rejected"],
        files_with_problems=len({p.file for p in problems if p.file}),
        rows_read=sum(s.rows_read for s in submissions),
        rows_consolidated=sum(s.rows_consolidated for s in submissions),
        rows_skipped=sum(s.rows_skipped for s in submissions),
        plans=len(plans),
        plans_counted=int(figures.has_status.sum()),
        plans_done=int(figures.status[STATUS_SELESAI].sum() + figures.status[STATUS_SESUAI].sum()),
        plans_clean=int((figures.errors == 0).sum()),
        **summary,
        errors=sum(1 for p in problems if p.is_error),
        warnings=sum(1 for p in problems if not p.is_error),
        skipped_reasons=skipped_reasons(submissions),
        unit_medians={m: _median(reported[m]) for m in METRIC_KEYS},
    )


def skipped_reasons(submissions: Iterable[Submission]) -> tuple[tuple[str, int, int], ...]:
    """(reason, rows skipped for it, files with such a row), most rows first, then by reason.
    A reason naming the sheet or file used instead is counted by its general part
    (:func:`pipeline.model.reason_group`: ``berkas digantikan``); the details are in the
    manifest's ``files[].skipped``, and a regency-wide summary would grow a line per file."""
    rows: Counter[str] = Counter()
    files: Counter[str] = Counter()
    for s in submissions:
        reasons = [reason_group(skip.reason) for skip in s.skipped]
        rows.update(reasons)
        files.update(set(reasons))
    return tuple(
        (reason, n, files[reason])
        for reason, n in sorted(rows.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _median(values: pd.Series) -> float:
    """Median of the defined values, NaN when there is none."""
    defined = pd.to_numeric(values, errors="coerce").dropna()
    return float(defined.median()) if len(defined) else math.nan


def compute_metrics(
    rows: pd.DataFrame,
    problems: list[Problem],
    submissions: list[Submission],
    *,
    period: Period,
    registry: Registry,
    arrivals: Mapping[str, dt.datetime] | None = None,
    catalogue: Mapping[str, Rule] | None = None,
) -> Metrics:
    """Every metric of one month (docs/contracts.md "Metrics frames").

    ``rows``: validated staged rows; ``problems``: every problem of the month; ``arrivals``: the
    arrival log (file name -> time) overriding ``Submission.received``/``modified``;
    ``catalogue``: code -> Rule, default :func:`pipeline.problems.load_catalogue`."""
    catalogue = load_catalogue() if catalogue is None else catalogue
    plans = annotate_plans(rows, problems, period=period, catalogue=catalogue)
    deliveries = unit_deliveries(submissions, period=period, registry=registry, arrivals=arrivals)
    units = unit_metrics(plans, problems, deliveries, registry)
    return Metrics(
        plans=plans,
        units=units,
        groups=group_metrics(plans, deliveries, registry),
        regency=regency_metrics(
            plans, problems, units, submissions, period=period, registry=registry
        ),
        changes=month_over_month(pd.DataFrame(columns=["period", "kode"]), period),
    )


def compare_with_history(metrics: Metrics, trend: pd.DataFrame, period: Period) -> Metrics:
    """``metrics`` with its month-over-month figures: ``changes`` (every unit and the regency,
    :func:`month_over_month` of ``trend``, the history's trend including this month) and
    ``regency.change`` (None when the history holds no earlier month)."""
    changes = month_over_month(trend, period)
    row = changes[changes["kode"] == REGENCY_CODE]
    change = None
    if len(row) and isinstance(row["previous_period"].iloc[0], str):
        record = row.iloc[0]
        change = MonthChange(
            previous_period=record["previous_period"],
            previous={m: float(record[f"{m}_previous"]) for m in MOM_METRICS},
            delta={m: float(record[f"{m}_delta"]) for m in MOM_METRICS},
        )
    return replace(metrics, changes=changes, regency=replace(metrics.regency, change=change))


# --------------------------------------------------------------------------------------------
# Month over month
# --------------------------------------------------------------------------------------------


def month_over_month(trend: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Each unit's (and ``KABUPATEN``'s) figures in ``period`` beside those of the previous
    *recorded* month before it (a skipped month is skipped): columns ``kode``, ``nama``,
    ``period``, ``previous_period`` and, per :data:`MOM_METRICS` entry m, ``m``,
    ``m_previous``, ``m_delta`` (= m - m_previous; NaN where either is undefined). Rows in the
    trend's order for ``period``; empty when ``period`` is not in the trend."""
    columns = ["kode", "nama", "period", "previous_period"]
    for m in MOM_METRICS:
        columns += [m, f"{m}_previous", f"{m}_delta"]
    current_label = str(period)
    current = trend[trend["period"] == current_label]
    earlier = sorted(p for p in trend["period"].unique() if p < current_label)
    previous_label = earlier[-1] if earlier else None
    previous = (
        trend[trend["period"] == previous_label].set_index("kode")
        if previous_label
        else pd.DataFrame(columns=list(MOM_METRICS))
    )
    records = []
    for row in current.to_dict("records"):
        before = previous.loc[row["kode"]] if row["kode"] in previous.index else None
        record = {
            "kode": row["kode"],
            "nama": row.get("nama"),
            "period": current_label,
            "previous_period": previous_label,
        }
        for m in MOM_METRICS:
            now = as_float(row.get(m), math.nan)
            then = as_float(before.get(m), math.nan) if before is not None else math.nan
            record.update({m: now, f"{m}_previous": then, f"{m}_delta": now - then})
        records.append(record)
    return pd.DataFrame.from_records(records, columns=columns)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _filled(values: pd.Series) -> pd.Series:
    """True where a text cell holds something other than blanks."""
    text = values.astype("string").str.strip()
    return (text.notna() & text.ne("")).fillna(False).astype(bool)
