"""One unit's month, and how its targets differ from the month before (RB-W102)."""

from __future__ import annotations

import random

from pipeline import schema
from pipeline.demo.model import PLANT_OPTIONS, Job, RowPlant, UnitMonth
from pipeline.demo.plans import make_plans
from pipeline.demo.violations import plant_violations
from pipeline.registry import (
    Registry,
    Unit,
)


def unit_month(unit: Unit, job: Job, registry: Registry) -> UnitMonth | None:
    """The plans ``job``'s accepted file holds (None when the scenario leaves no accepted
    file). A pure function of the job: the previous month's plans are computed again, not
    read back, to tell which targets changed."""
    options = PLANT_OPTIONS.get(job.scenario)
    if options is None:
        return None
    plans = make_plans(unit, job.period, registry, seed=job.seed, n_plans=job.n_plans)
    rng = random.Random(f"{job.month_seed}|pelanggaran")
    plants = plant_violations(plans, job.codes, unit, job.period, registry, rng, **options)
    if job.retarget:
        _retarget(plans, plants, random.Random(f"{job.month_seed}|target"))
    return UnitMonth(plans=plans, plants=plants)


def _retarget(plans: dict[str, list[dict]], plants: list[RowPlant], rng: random.Random) -> None:
    """Raise the annual target (TW IV) of one plan carrying no planted violation, the way a
    unit revises a target mid-year (12 becomes 14); targets stay cumulative, Persen <= 100."""
    planted = {(p.kind, p.index) for p in plants}
    candidates = [
        (kind, i)
        for kind in schema.KINDS
        for i, row in enumerate(plans[kind])
        if (kind, i) not in planted and _raised_target(row) is not None
    ]
    if candidates:
        kind, i = rng.choice(candidates)
        plans[kind][i]["target_tw4"] = _raised_target(plans[kind][i])


def _raised_target(row: dict) -> float | None:
    """A higher annual target for ``row`` (None when a Persen target has no room left)."""
    top = row["target_tw4"]
    if row["satuan"] == "Indeks":
        return round(top + 1, 2)
    if row["satuan"] == "Persen":
        return top + 5 if top <= 95 else None
    return top + max(1, round(top * 0.15))


def changed_targets(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> list[RowPlant]:
    """The target cells of ``after`` that differ from ``before``, compared as the validator
    compares two months (RB-W102): each row with the first row of ``before`` of the same sheet
    kind and Kode RA (case and spaces ignored), quarter by quarter, where both hold a number."""
    out = []
    for kind in schema.KINDS:
        first: dict[str | None, dict] = {}
        for row in before[kind]:
            first.setdefault(_code_key(row["kode"]), row)
        for index, row in enumerate(after[kind]):
            old = first.get(_code_key(row["kode"]))
            if old is None:
                continue
            for name in schema.TARGET_FIELDS:
                was, now = _as_number(old[name]), _as_number(row[name])
                if was is not None and now is not None and was != now:
                    out.append(RowPlant("RB-W102", kind, index, name))
    return out


def _code_key(kode: object) -> str | None:
    return "".join(str(kode).split()).casefold() if kode is not None else None


def _as_number(value: object) -> float | None:
    """The number a reader takes from a plan value (the demo writes numbers exactly)."""
    return float(value) if isinstance(value, int | float) else None
