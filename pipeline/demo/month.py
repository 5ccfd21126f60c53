"""A realistic, deterministic demo month of unit submissions, and the list of what it planted.

:func:`generate_month` writes into ``out_dir`` the files a month's inputs folder would hold: most
units' workbooks (a few units send nothing), each with plausible Indonesian action plans for the
unit's line of work, and across the month every kind of mess real submissions show (see
``docs/contracts.md`` and the domain brief) plus rule violations at known cells. It returns a
:class:`DemoPlan` saying, for tests, what each file is, which rows hold action plans, which rows
are meant to be skipped, which rows are clean, and every planted problem with its cell.

Months of one year with one seed tell one story, as the validator's month-over-month check
(RB-W102, targets are set once a year) needs: each unit's plans and targets are the year's
(:func:`year_plans`), realisations move forward month by month, and what changes between two
months' targets (a few deliberate changes, and the planted target violations) is listed in
``DemoPlan.target_changes``, computed by generating the previous month's plans again.

Determinism: the same seed, period and registry give the same files, byte for byte (document
dates are the period's first day; zip entries carry fixed dates) and the same modification
times (fixed arrival times in the following month, most before the deadline, a few late).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from pipeline.demo import content
from pipeline.demo.files import init_worker, run_job, write_lock_file
from pipeline.demo.model import (
    PLANT_OPTIONS,
    POOL_THRESHOLD,
    ROW_CODES,
    SYNTHETIC_PREFIX,
    DemoPlan,
    Job,
)
from pipeline.errors import RunError
from pipeline.fsutil import atomic_path
from pipeline.registry import (
    DEFAULT_INPUTS,
    REGISTRY_FILE,
    Period,
    Registry,
    Unit,
)


def generate_month(
    out_dir: Path,
    period: Period,
    registry: Registry,
    *,
    seed: int = 2025,
    n_units: int | None = None,
    n_plans: int | None = None,
    workers: int | None = None,
) -> DemoPlan:
    """Write a demo month into ``out_dir`` and return what was planted.

    ``n_units`` replaces the registry by a synthetic one of that many units, written as
    ``out_dir.parent / "unit_kerja.csv"`` (the run reads the registry from the inputs folder).
    ``n_plans`` fixes the number of action plans per unit (default: 6 to 14, as in life).
    ``workers`` processes render the files (default: CPU count, for large months only).

    Months of one year and one seed belong together: a unit's action plans and targets are the
    same in each (see :func:`make_plans`), realisations move forward, and each month after
    January deliberately changes a few targets; ``DemoPlan.target_changes`` lists every target
    that differs from the previous month's files.
    """
    out_dir = Path(out_dir)
    registry_file = None
    if n_units is not None:
        registry = synthetic_registry(registry, n_units)
        registry_file = _write_registry(out_dir.parent / REGISTRY_FILE, registry)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(period, registry, seed=seed, n_plans=n_plans)
    workers = workers or os.cpu_count() or 1
    if len(jobs) >= POOL_THRESHOLD and workers > 1:
        with ProcessPoolExecutor(
            workers, initializer=init_worker, initargs=(out_dir, registry)
        ) as pool:
            results = list(pool.map(run_job, jobs, chunksize=16))
    else:
        init_worker(out_dir, registry)
        results = [run_job(job) for job in jobs]
    files = [f for r in results for f in r.files]
    ignored = write_lock_file(out_dir, files)
    accepted = {f.unit for f in files if f.expected_status == "accepted"}
    return DemoPlan(
        period=period,
        files=files,
        planted=[p for r in results for p in r.planted],
        submitting_units=[u.kode for u in registry.units if u.kode in accepted],
        missing_units=[u.kode for u in registry.units if u.kode not in accepted],
        registry_file=registry_file,
        ignored=ignored,
        target_changes=[p for r in results for p in r.target_changes],
        uncompared_units=[
            j.kode
            for j in jobs
            if period.month > 1 and j.scenario in PLANT_OPTIONS and j.previous is None
        ],
    )


def synthetic_registry(base: Registry, n_units: int) -> Registry:
    """A registry of ``n_units`` units ``UNIT-0001``... with plausible unique names; reference
    lists and settings are ``base``'s."""
    units = []
    for i in range(1, n_units + 1):
        name, jenis = content.SYNTHETIC_BASES[i % len(content.SYNTHETIC_BASES)]
        place = content.SYNTHETIC_PLACES[
            (i // len(content.SYNTHETIC_BASES)) % len(content.SYNTHETIC_PLACES)
        ]
        units.append(
            Unit(kode=f"{SYNTHETIC_PREFIX}{i:04d}", nama=f"{name} {place} {i}", jenis=jenis)
        )
    return replace(base, units=tuple(units))


def _write_registry(path: Path, registry: Registry) -> Path:
    """Write the synthetic registry as CSV, refusing to overwrite a real one."""
    if path.resolve() == (DEFAULT_INPUTS / REGISTRY_FILE).resolve() or (
        path.exists() and not _is_synthetic(path)
    ):
        raise RunError(
            f"{path} berisi daftar unit kerja sungguhan dan tidak akan ditimpa oleh data contoh. "
            "Pilih folder --out lain, misalnya /tmp/uji/2025-10."
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kode", "nama", "jenis", "singkatan"])
    for u in registry.units:
        writer.writerow([u.kode, u.nama, u.jenis, ";".join(u.singkatan)])
    with atomic_path(path) as tmp:
        tmp.write_text(out.getvalue(), encoding="utf-8")
    return path


def _is_synthetic(path: Path) -> bool:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        codes = [row.get("kode", "") for row in csv.DictReader(fh)]
    return bool(codes) and all(c.startswith(SYNTHETIC_PREFIX) for c in codes)


# Scenario -> share of units (at least one each). "templat" takes every unit left over.
SPECIAL_SHARES = (
    ("tidak_kirim", 0.08),
    ("bukan_excel", 0.01),
    ("bulan_salah", 0.01),
    ("laporan_bebas", 0.02),
    ("buatan_sendiri", 0.02),
    ("persen_excel", 0.02),
    ("rumus_openpyxl", 0.015),
)


# Units that the free-style names of the domain brief refer to, when the registry has them.
PREFERRED_UNIT = {"laporan_bebas": "DINKES", "buatan_sendiri": "DINSOS"}


OWN_LAYOUTS = ("laporan_bebas", "buatan_sendiri", "persen_excel", "rumus_openpyxl")


LATE_SHARE = 0.08


EXTRA_VIOLATION_SHARE = 0.3


RETARGET_SHARE = 0.02  # units that change a target in a month after January (at least one)


def plan_jobs(period: Period, registry: Registry, *, seed: int, n_plans: int | None) -> list[Job]:
    """Decide, deterministically, each unit's scenario, planted codes, arrival time and target
    change; each job carries the unit's previous month (same year, accepted file there) so the
    worker can tell which targets differ from it."""
    jobs = _month_jobs(period, registry, seed=seed, n_plans=n_plans)
    if period.month == 1:
        return jobs
    before = {
        j.kode: j
        for j in _month_jobs(period.previous(), registry, seed=seed, n_plans=n_plans)
        if j.scenario in PLANT_OPTIONS
    }
    return [replace(j, previous=before.get(j.kode)) for j in jobs]


def _month_jobs(period: Period, registry: Registry, *, seed: int, n_plans: int | None) -> list[Job]:
    """One month's jobs, with the units that change a target marked (none in January: a new
    year's plans start then)."""
    jobs = _draw_month(period, registry, seed=seed, n_plans=n_plans)
    if period.month == 1:
        return jobs
    sent_before = {
        j.kode
        for j in _draw_month(period.previous(), registry, seed=seed, n_plans=n_plans)
        if j.scenario in PLANT_OPTIONS
    }
    chosen = _retargeted(jobs, sent_before, random.Random(f"{seed}|{period}|target"))
    return [replace(j, retarget=True) if j.kode in chosen else j for j in jobs]


def _retargeted(jobs: list[Job], sent_before: set[str], rng: random.Random) -> set[str]:
    """Units that change a target this month. Only a unit accepted last month can be caught
    (the validator compares with last month's accepted file); a plain template with nothing
    else planted is preferred, so that the change is the file's only finding."""
    eligible = [j for j in jobs if j.scenario in PLANT_OPTIONS and j.kode in sent_before]
    tiers = (
        [j for j in eligible if j.scenario == "templat" and not j.codes and j.extra is None],
        [j for j in eligible if j.scenario == "templat"],
        eligible,
    )
    pool = next((tier for tier in tiers if tier), [])
    count = min(len(pool), max(1, round(len(jobs) * RETARGET_SHARE)))
    return {j.kode for j in rng.sample(pool, count)}


def _draw_month(period: Period, registry: Registry, *, seed: int, n_plans: int | None) -> list[Job]:
    """Who sends what, when, with which planted violations, in one month."""
    rng = random.Random(f"{seed}|{period}|bulan")
    codes = [u.kode for u in registry.units]
    order = codes[:]
    rng.shuffle(order)
    scenario: dict[str, str] = {}
    n = len(codes)
    for name, share in SPECIAL_SHARES:
        # Small registries keep at least half their units on the plain template.
        count = min(max(1, round(n * share)), n // 2 - len(scenario))
        preferred = PREFERRED_UNIT.get(name)
        if preferred in codes and preferred not in scenario:
            scenario[preferred] = name
            count -= 1
        for kode in order:
            if count <= 0:
                break
            if kode not in scenario and kode not in PREFERRED_UNIT.values():
                scenario[kode] = name
                count -= 1
    for kode in codes:
        scenario.setdefault(kode, "templat")

    # Every feasible code once on plain templates (room guaranteed); the units' own layouts
    # get one each, so cell references are exercised through the messes; others by chance.
    plain_units = [k for k in order if scenario[k] == "templat"]
    own_layouts = [k for k in order if scenario[k] in OWN_LAYOUTS]
    feasible = [c for c in ROW_CODES if _feasible(c, period)]
    planted: dict[str, list[str]] = {k: [] for k in codes}
    for kode, code in zip(plain_units, feasible, strict=False):
        planted[kode].append(code)
    for kode in own_layouts:
        planted[kode].append(rng.choice(feasible))
    for kode in plain_units[len(feasible) :]:
        if rng.random() < EXTRA_VIOLATION_SHARE:
            planted[kode].append(rng.choice(feasible))

    deadline = period.deadline(registry.settings.batas_hari)
    late = set(rng.sample(codes, max(1, round(n * LATE_SHARE))))
    jobs = []
    extra_done = False
    for kode in codes:
        arrival = _arrival(rng, period, deadline, late=kode in late)
        earlier = None
        if scenario[kode] == "buatan_sendiri":
            earlier = arrival - dt.timedelta(days=1, hours=rng.randint(1, 5))
        extra = None
        if not extra_done and scenario[kode] == "templat":
            extra, extra_done = "unknown_unit", True
        jobs.append(
            Job(
                kode=kode,
                period=period,
                scenario=scenario[kode],
                codes=tuple(planted[kode]),
                arrival=arrival,
                earlier=earlier,
                n_plans=n_plans,
                seed=seed,
                extra=extra,
            )
        )
    return jobs


def _feasible(code: str, period: Period) -> bool:
    """Some rules need a closed quarter (E109, E112) or a second quarter (E107) to be broken."""
    if code in ("RB-E109", "RB-E112"):
        return period.closed_quarter >= 1
    if code == "RB-E107":
        return period.running_quarter >= 2
    return True


def _arrival(rng: random.Random, period: Period, deadline: dt.date, *, late: bool) -> dt.datetime:
    """An office-hours arrival time in the following month: by the deadline, or 1-7 days late."""
    first = period.next()
    if late:
        day = deadline + dt.timedelta(days=rng.randint(1, 7))
    else:
        span = max(0, (deadline - dt.date(first.year, first.month, 1)).days)
        day = dt.date(first.year, first.month, 1) + dt.timedelta(days=rng.randint(0, span))
    return dt.datetime(
        day.year, day.month, day.day, rng.randint(7, 15), rng.randint(0, 59), rng.randint(0, 59)
    )
