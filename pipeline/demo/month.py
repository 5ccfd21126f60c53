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

import bisect
import csv
import datetime as dt
import functools
import io
import itertools
import os
import random
import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pipeline import schema
from pipeline.demo import content
from pipeline.demo.sheets import (
    EXTRA,
    Layout,
    PlacedSheet,
    action_grid,
    key_value_grid,
    openpyxl_bytes,
    plain,
    xlsxwriter_bytes,
)
from pipeline.errors import RunError
from pipeline.fsutil import atomic_path
from pipeline.locale_id import number as id_number
from pipeline.registry import (
    DEFAULT_INPUTS,
    MONTH_ABBREVIATIONS,
    MONTHS_ID,
    REGISTRY_FILE,
    Period,
    Registry,
    Unit,
)
from pipeline.template import template_bytes, template_name

ExpectedStatus = Literal["accepted", "rejected", "superseded"]

# Kinds of mess a file can show (DemoFile.messes); tests check the default month has them all.
MESSES = (
    "judul_di_atas_header",  # title block above the header
    "header_dua_baris",  # header over two rows with merged group cells
    "header_tiga_baris",  # header over three rows
    "nomor_kolom",  # a row of column numbers under the header
    "header_ejaan",  # drifted header spellings
    "kolom_diacak",  # reordered columns
    "kolom_tambahan",  # an extra unknown column
    "kolom_hilang",  # a required column left out
    "angka_teks",  # numbers as Indonesian text
    "persen_excel",  # 75% typed into Excel: 0.75 with a percent format
    "baris_subtotal",  # JUMLAH / TOTAL rows
    "baris_bagian",  # a group name alone on a row
    "baris_kosong",  # blank rows between plans
    "sel_gabung",  # merged body cells
    "baris_tersembunyi",  # hidden rows holding plans
    "kolom_tersembunyi",  # a hidden column
    "rumus_dengan_nilai",  # formulas with cached values
    "rumus_tanpa_nilai",  # a formula without a cached value
    "nama_lembar_beda",  # renamed sheets
    "nama_berkas_bebas",  # free-style file name
    "tanpa_metadata",  # built from scratch: no metadata sheet
    "tanpa_identitas",  # not even an Identitas sheet
    "tanggal_teks",  # dates as text
    "pilihan_ejaan",  # listed values in another case ("persen")
    "berkas_ganda",  # two files from one unit (the earlier superseded)
    "bulan_salah",  # a file for another month
    "bukan_excel",  # a PDF renamed .xlsx
    "unit_tak_dikenal",  # a file from a unit outside the registry
    "berkas_kunci",  # an Excel lock file ~$...xlsx
)

# Row-level rule codes the demo plants (docs/contracts.md), each at an exact cell.
ROW_CODES = (
    "RB-E101",
    "RB-E102",
    "RB-E103",
    "RB-E104",
    "RB-E105",
    "RB-E106",
    "RB-E107",
    "RB-E108",
    "RB-E109",
    "RB-E110",
    "RB-E111",
    "RB-E112",
    "RB-E113",
    "RB-E114",
    "RB-W101",
)
UNKNOWN_UNIT = Unit(kode="BAZNAS", nama="Badan Amil Zakat Nasional", jenis="Lembaga")
SYNTHETIC_PREFIX = "UNIT-"
POOL_THRESHOLD = 120  # below this many units, generating in one process is faster


@dataclass(kw_only=True)
class PlantedProblem:
    """A problem the demo put in a file on purpose, where the validator must report it."""

    code: str
    unit: str | None
    file: str
    sheet: str | None
    cell: str | None  # "RB Umum!H12" (sheet as in the file); None for file/sheet-level problems
    field: str | None


@dataclass(kw_only=True)
class DemoFile:
    """One file of the demo month and what the pipeline should make of it."""

    name: str
    unit: str | None  # the unit that sent it (None when it cannot be known, e.g. BAZNAS)
    expected_status: ExpectedStatus
    rows: list[tuple[str, int, str]] = field(default_factory=list)  # (sheet, row, kode)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)  # (sheet, row, kind)
    clean_rows: set[tuple[str, int]] = field(default_factory=set)  # rows with no planted error
    messes: list[str] = field(default_factory=list)
    modified: dt.datetime | None = None  # the file's modification time (arrival)
    on_time: bool | None = None  # arrived by the deadline


@dataclass(kw_only=True)
class DemoPlan:
    period: Period
    files: list[DemoFile]
    planted: list[PlantedProblem]
    submitting_units: list[str]  # units with an accepted file, registry order
    missing_units: list[str]  # units without an accepted file, registry order
    registry_file: Path | None = None  # the synthetic registry written for n_units
    ignored: list[str] = field(default_factory=list)  # files ingest must ignore (lock files)
    # RB-W102 at every target cell that differs from what the same seed generates for the
    # previous month of the same year (same unit, sheet kind and Kode RA). Reported only when
    # that month was run first, hence kept out of ``planted``.
    target_changes: list[PlantedProblem] = field(default_factory=list)
    # Units with an accepted file whose previous-month file would not be accepted (missing or
    # rejected): the validator has no earlier submission to compare their targets with.
    uncompared_units: list[str] = field(default_factory=list)

    def file(self, name: str) -> DemoFile:
        return next(f for f in self.files if f.name == name)


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


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
            workers, initializer=_init_worker, initargs=(out_dir, registry)
        ) as pool:
            results = list(pool.map(_run_job, jobs, chunksize=16))
    else:
        _init_worker(out_dir, registry)
        results = [_run_job(job) for job in jobs]
    files = [f for r in results for f in r.files]
    ignored = _write_lock_file(out_dir, files)
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


# ---------------------------------------------------------------------------------------------
# Synthetic registry
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# The month's plan: who sends what, when, with which mistakes
# ---------------------------------------------------------------------------------------------

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

# Scenarios that leave the unit an accepted file, and how their violations are planted: rows a
# layout merges or leaves out cannot carry a plant, rows it must keep showing stay intact.
PLANT_OPTIONS: dict[str, dict] = {
    "templat": {},
    "laporan_bebas": {"avoid": {"umum": ("sasaran",)}, "keep_satuan": ("Persen", "Indeks")},
    "buatan_sendiri": {},
    "persen_excel": {"keep_satuan": ("Persen",)},
    "rumus_openpyxl": {"avoid": {"tematik": ("penanggung_jawab",)}},
}


@dataclass(frozen=True, kw_only=True)
class Job:
    """Everything a worker needs to write one unit's files for one month."""

    kode: str
    period: Period
    scenario: str
    codes: tuple[str, ...]  # row-level rule codes to plant
    arrival: dt.datetime
    earlier: dt.datetime | None  # arrival of the superseded file ("buatan_sendiri")
    n_plans: int | None
    seed: int  # the demo's seed (the month and unit are mixed in where it is used)
    extra: str | None = None  # "unknown_unit" on the job that also writes the BAZNAS file
    retarget: bool = False  # the unit changes one target this month (against last month)
    previous: Job | None = None  # the unit's previous month of the same year, if accepted then

    @property
    def month_seed(self) -> str:
        return f"{self.seed}|{self.period}|{self.kode}"


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


# ---------------------------------------------------------------------------------------------
# Action plans of one unit
# ---------------------------------------------------------------------------------------------


def make_plans(
    unit: Unit,
    period: Period,
    registry: Registry,
    *,
    seed: int,
    n_plans: int | None = None,
) -> dict[str, list[dict]]:
    """Clean action plans of ``unit`` as its file for ``period`` holds them: {"umum": [row, ...],
    "tematik": [...]}, rows keyed by schema field names.

    The plans themselves are the unit's plans for the year (:func:`year_plans`), the same in
    every month; the month decides how far realisations have got (cumulative; a closed quarter
    keeps the value it ended with), the budget spent, and the evidence and obstacle texts.
    """
    references = tuple(registry.reference(name) for name in ("sasaran", "tema", "satuan"))
    texts = random.Random(f"{seed}|{period}|{unit.kode}|teks")
    plans: dict[str, list[dict]] = {kind: [] for kind in schema.KINDS}
    for plan in year_plans(unit, period.year, seed, n_plans, references):
        plans[plan.kind].append(_month_row(plan, unit, period, texts))
    return plans


@dataclass(frozen=True, kw_only=True)
class YearPlan:
    """One action plan as a unit sets it for the year: all but the month's progress."""

    kind: str
    fields: tuple[tuple[str, str], ...]  # code, texts, satuan, person in charge, group
    satuan: str
    targets: tuple[float, ...]
    course: Course
    ends: tuple[float, ...]  # cumulative realisation at the end of each quarter
    anggaran: int | None
    spent: float  # budget realisation relative to the plan's progress


@functools.lru_cache(maxsize=16)
def year_plans(
    unit: Unit,
    year: int,
    seed: int,
    n_plans: int | None,
    references: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
) -> tuple[YearPlan, ...]:
    """``unit``'s action plans for ``year`` (RB Umum first), drawn from ``(seed, year, unit)``
    alone: codes, texts, satuan, targets, budget and the course each plan's realisation takes.
    ``references`` are the registry's sasaran, tema and satuan lists. RB Umum opens its picks
    with a Persen and an Indeks plan (room permitting), so that whichever layout a unit sends
    in a month can show percentages and decimals. Cached: a month and the month before it are
    computed from the same year."""
    rng = random.Random(f"{seed}|{year}|{unit.kode}|rencana")
    groups = {"umum": references[0], "tematik": references[1]}
    satuans = references[2]
    profile = content.profile_of(unit.kode, unit.nama)
    total = n_plans or rng.randint(6, 14)
    n_umum = max(1, min(total - 1, round(total * 0.6)))
    counts = {"umum": n_umum, "tematik": max(1, total - n_umum)}
    positions = content.positions_for(profile)
    out = []
    for kind in schema.KINDS:
        ideas = _pick_ideas(
            content.ideas_for(profile, kind),
            counts[kind],
            rng,
            ("Persen", "Indeks") if kind == "umum" else (),
        )
        ideas.sort(key=lambda pair: pair[0].group)
        prefix = schema.SHEETS[kind].code_prefix
        for number, (idea, stage) in enumerate(ideas, start=1):
            satuan = idea.satuan if idea.satuan in satuans else satuans[0]
            fields = {
                "kode": f"{prefix}-{number:02d}",
                "indikator": idea.indikator,
                "rencana_aksi": idea.rencana_aksi + (f" (tahap {stage})" if stage > 1 else ""),
                "output": idea.output,
                "satuan": satuan,
                "penanggung_jawab": rng.choice(positions),
                "sasaran" if kind == "umum" else "tema": groups[kind][
                    idea.group % len(groups[kind])
                ],
            }
            if kind == "tematik":
                fields["permasalahan"] = idea.permasalahan
            targets = _targets(satuan, idea.annual, rng)
            course = _course(rng)
            funded = rng.random() < 0.7
            anggaran, spent = rng.randint(10, 1200) * 500_000, rng.uniform(0.7, 1.0)
            out.append(
                YearPlan(
                    kind=kind,
                    fields=tuple(fields.items()),
                    satuan=satuan,
                    targets=tuple(targets),
                    course=course,
                    ends=tuple(_quarter_ends(targets, satuan, course)),
                    anggaran=anggaran if funded else None,
                    spent=spent,
                )
            )
    return tuple(out)


def _pick_ideas(
    pool: tuple[content.Idea, ...], count: int, rng: random.Random, need_satuan: tuple[str, ...]
) -> list[tuple[content.Idea, int]]:
    """``count`` ideas (with a stage number, 1 unless the pool ran out and ideas repeat)."""
    chosen = [next(i for i in pool if i.satuan == s) for s in need_satuan]
    rest = [i for i in pool if i not in chosen]
    rng.shuffle(rest)
    ordered = chosen + rest
    return [(ordered[k % len(ordered)], 1 + k // len(ordered)) for k in range(count)]


_BLANK_ROWS = {kind: dict.fromkeys(schema.SHEETS[kind].field_names) for kind in schema.KINDS}


def _month_row(plan: YearPlan, unit: Unit, period: Period, texts: random.Random) -> dict:
    """``plan`` as the unit's file for ``period`` shows it (a new dict every time)."""
    row = dict(_BLANK_ROWS[plan.kind])
    row.update(plan.fields)
    decimals = 2 if plan.satuan == "Indeks" else 0
    _set_numbers(row, plan.targets, _realisations(plan.ends, plan.course, period, decimals))
    if plan.anggaran is not None:
        row["anggaran"] = plan.anggaran
        row["realisasi_anggaran"] = round(plan.anggaran * _progress(row) * plan.spent, -3)
    _settle(row, unit, period, texts)
    return row


QUARTER_SHAPES = (
    (0.25, 0.5, 0.75, 1.0),
    (0.1, 0.4, 0.7, 1.0),
    (0.0, 0.3, 0.6, 1.0),
    (0.2, 0.45, 0.75, 1.0),
    (0.0, 0.0, 0.5, 1.0),
)
SINGLE_SHAPES = ((0, 0, 0, 1), (0, 0, 1, 1), (0, 1, 1, 1), (1, 1, 1, 1))


def _targets(satuan: str, annual: float, rng: random.Random) -> list[float]:
    """Cumulative quarterly targets ending at the annual target (non-decreasing)."""
    if satuan == "Indeks":
        top = round(annual * rng.choice((1.0, 1.05)), 2)
        return [round(top * f, 2) for f in (0.94, 0.96, 0.98)] + [top]
    if satuan == "Persen":
        top = min(100, int(annual))
        return [int(round(top * f)) for f in rng.choice(QUARTER_SHAPES)]
    if annual <= 3:
        top = int(annual)
        if top == 1:
            return list(rng.choice(SINGLE_SHAPES))
        return [int(round(top * f)) for f in rng.choice(QUARTER_SHAPES[:2])][:3] + [top]
    top = max(4, int(round(annual * rng.uniform(0.6, 1.4))))
    if top > 50:
        top = int(round(top, -1))
    out = [int(round(top * f)) for f in rng.choice(QUARTER_SHAPES)]
    out[3] = top
    return out


AHEAD_SHARE = 0.15  # plans that run 10% above target all year (never Persen)
BEHIND_SHARE = 0.22  # chance that a quarter of another plan ends behind its target
# Month of the quarter (1-3) from which a unit fills the running quarter's realisation, by
# cumulative chance: 40% from the first month, 25% the second, 15% the third, 20% only once the
# quarter has closed (4).
FILL_START = (0.4, 0.65, 0.8)


@dataclass(frozen=True)
class Course:
    """How one plan's realisation moves through the year, drawn once a year."""

    ahead: bool
    behind: tuple[float | None, ...]  # per quarter: the share of its target reached, if behind
    start: tuple[int, ...]  # per quarter: first month (1-3) its running value is filled
    pace: tuple[tuple[float, float], ...]  # per quarter: progress shown after months 1 and 2


def _course(rng: random.Random) -> Course:
    """Draw a plan's course; always the same number of draws, so later plans of the unit do
    not depend on this one's outcome."""
    ahead = rng.random() < AHEAD_SHARE
    behind, start, pace = [], [], []
    for _ in schema.QUARTERS:
        late, share = rng.random(), rng.uniform(0.5, 0.9)
        behind.append(share if late < BEHIND_SHARE and not ahead else None)
        start.append(1 + bisect.bisect(FILL_START, rng.random()))
        first = rng.uniform(0.15, 0.5)
        pace.append((first, rng.uniform(max(first, 0.45), 0.9)))
    return Course(ahead=ahead, behind=tuple(behind), start=tuple(start), pace=tuple(pace))


def _quarter_ends(targets: Sequence, satuan: str, course: Course) -> list:
    """Cumulative realisation at the end of each quarter: on target, 10% above (ahead plans,
    never Persen: it would pass 100) or strictly behind it; never below the quarter before."""
    decimals = 2 if satuan == "Indeks" else 0
    out, previous = [], 0
    for t, share in zip(targets, course.behind, strict=True):
        value = t * 1.1 if course.ahead and satuan != "Persen" else t
        if share is not None and t > 0:
            value = min(
                _round(t * share, decimals), _round(t - (0.01 if decimals else 1), decimals)
            )
        value = max(_round(value, decimals), previous)
        out.append(value)
        previous = value
    return out


def _realisations(ends: Sequence, course: Course, period: Period, decimals: int) -> list:
    """The realisation columns of ``period``'s report: closed quarters at their end values, the
    running quarter (once the unit starts filling it) part of the way there, later ones empty.
    A later month of the year never shows less."""
    closed, running = period.closed_quarter, period.running_quarter
    out: list = [None] * 4
    for q in range(1, closed + 1):
        out[q - 1] = ends[q - 1]
    month_of_quarter = period.month - 3 * (running - 1)
    if month_of_quarter >= course.start[running - 1]:
        before = ends[running - 2] if running > 1 else 0
        share = (*course.pace[running - 1], 1.0)[month_of_quarter - 1]
        value = _round(before + (ends[running - 1] - before) * share, decimals)
        out[running - 1] = max(before, value)
    return out


def _round(value: float, decimals: int) -> float:
    if decimals:
        return round(value, decimals)
    return int(round(value))


def _set_numbers(row: dict, targets: Sequence, realisations: Sequence) -> None:
    row.update(zip(schema.TARGET_FIELDS, targets, strict=True))
    row.update(zip(schema.REALISASI_FIELDS, realisations, strict=True))


def _progress(row: dict) -> float:
    latest = max((row[f"realisasi_tw{q}"] or 0) for q in schema.QUARTERS)
    top = row["target_tw4"] or 0
    return min(1.0, latest / top) if top else 0.0


def _settle(row: dict, unit: Unit, period: Period, rng: random.Random) -> None:
    """Make the row clean under every rule: evidence wherever something was realised, kendala
    and tindak lanjut wherever the last closed quarter is behind target."""
    realised = [row[f"realisasi_tw{q}"] for q in schema.QUARTERS]
    if any(isinstance(v, int | float) and v > 0 for v in realised):
        if row["data_dukung"] is None:
            row["data_dukung"] = _evidence(unit, period, rng)
    else:
        row["data_dukung"] = None
    c = period.closed_quarter
    behind = c >= 1 and (row[f"realisasi_tw{c}"] or 0) < (row[f"target_tw{c}"] or 0)
    if behind and row["kendala"] is None:
        row["kendala"], row["tindak_lanjut"] = rng.choice(content.KENDALA)
    if row["kendala"] is not None and row["tindak_lanjut"] is None:
        row["tindak_lanjut"] = rng.choice(content.KENDALA)[1]


TOKEN_CHARS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@functools.lru_cache(maxsize=64)
def _slug(unit: Unit) -> str:
    return re.sub(r"[^a-z0-9]+", "", (unit.singkatan[0] if unit.singkatan else unit.kode).lower())


def _evidence(unit: Unit, period: Period, rng: random.Random) -> str:
    slug = _slug(unit)
    quarter = schema.ROMAN[max(1, period.closed_quarter or 1)]
    if rng.random() < 0.55:
        token = "".join(rng.choices(TOKEN_CHARS, k=rng.choice((10, 18, 33))))
        return rng.choice(content.EVIDENCE_HOSTS).format(
            token=token, slug=slug, short=token[:6].lower()
        )
    nomor = f"800/{rng.randint(10, 999)}/IV.{rng.randint(1, 40):02d}/{period.year}"
    return rng.choice(content.EVIDENCE_DOCUMENTS).format(
        q=quarter, jenis=unit.jenis or "Dinas", nomor=nomor
    )


# ---------------------------------------------------------------------------------------------
# Planting rule violations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowPlant:
    code: str
    kind: str
    index: int  # plan index in its sheet
    field: str


def plant_violations(
    plans: dict[str, list[dict]],
    codes: tuple[str, ...],
    unit: Unit,
    period: Period,
    registry: Registry,
    rng: random.Random,
    *,
    avoid: dict[str, tuple[str, ...]] | None = None,
    keep_satuan: tuple[str, ...] = (),
) -> list[RowPlant]:
    """Break ``plans`` in place, one rule per row, and say where. ``avoid`` lists fields per
    kind that must not carry a plant (a column the file leaves out or merges); rows whose
    satuan is in ``keep_satuan`` stay intact (the file must keep showing them)."""
    avoid = avoid or {}
    used = {
        (kind, i)
        for kind in schema.KINDS
        for i, row in enumerate(plans[kind])
        if row["satuan"] in keep_satuan
    }
    out: list[RowPlant] = []
    for code in codes:
        need = 2 if code == "RB-E114" else 1
        room = {
            kind: [i for i in range(len(plans[kind])) if (kind, i) not in used]
            for kind in schema.KINDS
        }
        kinds = [kind for kind in schema.KINDS if len(room[kind]) >= need]
        if not kinds:
            continue
        kind = rng.choice(kinds)
        rows, free = plans[kind], room[kind]
        if code == "RB-E114":
            first, second = sorted(rng.sample(free, 2))
            rows[second]["kode"] = rows[first]["kode"]
            used.update({(kind, first), (kind, second)})
            out += [RowPlant(code, kind, first, "kode"), RowPlant(code, kind, second, "kode")]
            continue
        index = rng.choice(free)
        fields = _break(code, rows[index], kind, unit, period, registry, rng, avoid.get(kind, ()))
        used.add((kind, index))
        out += [RowPlant(code, kind, index, f) for f in fields]
    return out


def _ladder(k: int) -> list[int]:
    return [k, 2 * k, 3 * k, 4 * k]


def _own_or_ladder(row: dict, k: int, fits) -> list:
    """The row's own targets when ``fits`` accepts them (a slip in the realisations leaves a
    unit's targets alone, so it does not look like a target change), else ``k, 2k, 3k, 4k``."""
    own = [row[f"target_tw{q}"] for q in schema.QUARTERS]
    return own if fits(own) else _ladder(k)


def _can_double(targets: list, q: int, closed: int, satuan: str) -> bool:
    """Whether quarter ``q`` can report twice its target with every other rule kept: a Persen
    value stays <= 100 and the closed quarters after ``q`` (on target) do not fall below it."""
    double = 2 * targets[q - 1]
    return (
        targets[q - 1] > 0
        and (satuan != "Persen" or double <= 100)
        and all(targets[p - 1] >= double for p in range(q + 1, closed + 1))
    )


def _lower(value: float, decimals: int) -> float:
    """A cumulative value that went down from ``value`` (> 0): about half of it."""
    lower = _round(value / 2, decimals)
    return lower if lower < value else 0


def _on_target(targets: list, period: Period) -> list:
    return [t if q <= period.closed_quarter else None for q, t in enumerate(targets, start=1)]


def _break(
    code: str,
    row: dict,
    kind: str,
    unit: Unit,
    period: Period,
    registry: Registry,
    rng: random.Random,
    avoid: tuple[str, ...],
) -> list[str]:
    """Make ``row`` violate ``code`` (and only it); return the fields where it shows."""
    c, r = period.closed_quarter, period.running_quarter
    k = rng.randint(2, 4)
    decimals = 2 if row["satuan"] == "Indeks" else 0
    if code == "RB-E101":
        choices = [
            f for f in ("indikator", "output", "rencana_aksi", "penanggung_jawab") if f not in avoid
        ]
        name = rng.choice(choices)
        row[name] = None
        return [name]
    if code == "RB-E102":
        group_field = "sasaran" if kind == "umum" else "tema"
        if group_field in avoid or rng.random() < 0.5:
            row["satuan"] = rng.choice(("Buah", "Paket", "Kali", "Berkas"))
            return ["satuan"]
        row[group_field] = rng.choice(("Birokrasi Bersih", "Pelayanan Prima", "Penurunan Stunting"))
        return [group_field]
    if code == "RB-E103":
        row["anggaran"], row["realisasi_anggaran"] = (
            rng.choice(("menyusul", "blm ada", "n/a")),
            None,
        )
        return ["anggaran"]
    if code == "RB-E104":
        row["anggaran"] = row["anggaran"] or 25_000_000
        row["realisasi_anggaran"] = -rng.randint(1, 9) * 1_000_000
        return ["realisasi_anggaran"]
    if code == "RB-E105":
        # A Persen plan whose annual target was typed as 120; another plan is made Persen.
        targets = [row[f"target_tw{q}"] for q in schema.QUARTERS[:3]] + [120]
        if row["satuan"] != "Persen":
            row["satuan"], targets = "Persen", [30, 60, 90, 120]
        _set_numbers(row, targets, _on_target(targets, period))
        _settle(row, unit, period, rng)
        return ["target_tw4"]
    if code == "RB-E106":
        # The annual target typed below TW III (about half of it).
        targets = _own_or_ladder(row, k, lambda t: _lower(t[2], decimals) > 0)
        targets = [*targets[:3], _lower(targets[2], decimals)]
        _set_numbers(row, targets, _on_target(targets, period))
        _settle(row, unit, period, rng)
        return ["target_tw4"]
    if code == "RB-E107":
        targets = _own_or_ladder(row, k, lambda t: t[r - 2] > 0)
        values = _on_target(targets, period)
        values[r - 1] = _lower(values[r - 2], decimals)
        _set_numbers(row, targets, values)
        _settle(row, unit, period, rng)
        return [f"realisasi_tw{r}"]
    if code == "RB-E108":
        _set_numbers(row, [0, 0, 0, 0], _on_target([0, 0, 0, 0], period))
        row["data_dukung"] = None
        _settle(row, unit, period, rng)
        return ["target_tw4"]
    if code == "RB-E109":
        row["realisasi_tw1"] = None
        if row["kendala"] is None:
            row["kendala"], row["tindak_lanjut"] = rng.choice(content.KENDALA)
        return ["realisasi_tw1"]
    if code == "RB-E110":
        row["anggaran"] = row["anggaran"] or 50_000_000
        row["realisasi_anggaran"] = round(row["anggaran"] * 1.15, -3)
        return ["realisasi_anggaran"]
    if code == "RB-E111":
        targets = _own_or_ladder(row, k, lambda t: max(t[:r]) > 0)
        values = _on_target(targets, period)
        values[r - 1] = targets[r - 1]
        _set_numbers(row, targets, values)
        row["data_dukung"] = None
        row["kendala"] = row["tindak_lanjut"] = None
        return ["data_dukung"]
    if code == "RB-E112":
        targets = _own_or_ladder(
            row, k, lambda t: t[c - 1] - 1 >= (t[c - 2] if c > 1 else 0) and t[c - 1] >= 1
        )
        values = _on_target(targets, period)
        values[c - 1] = _round(targets[c - 1] - 1, decimals)
        _set_numbers(row, targets, values)
        row["kendala"] = row["tindak_lanjut"] = None
        _settle(row, unit, period, rng)
        row["kendala"] = row["tindak_lanjut"] = None
        return ["kendala"]
    if code == "RB-E113":
        if row["kendala"] is None:
            row["kendala"] = rng.choice(content.KENDALA)[0]
        row["tindak_lanjut"] = None
        return ["tindak_lanjut"]
    if code == "RB-W101":
        # A quarter reported at twice its target: the latest quarter where the plan's own
        # targets allow it, else the running quarter of a ladder.
        own = [row[f"target_tw{q}"] for q in schema.QUARTERS]
        fits = [q for q in range(r, 0, -1) if _can_double(own, q, c, row["satuan"])]
        targets, q = (own, fits[0]) if fits else (_ladder(k), r)
        values = _on_target(targets, period)
        values[q - 1] = _round(2 * targets[q - 1], decimals)
        _set_numbers(row, targets, values)
        _settle(row, unit, period, rng)
        return [f"realisasi_tw{q}"]
    raise ValueError(f"no way to plant {code}")


# ---------------------------------------------------------------------------------------------
# One unit's month, and how it differs from the month before
# ---------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class UnitMonth:
    """One unit's action plans as its accepted file of a month holds them, before any layout,
    and the violations planted in them."""

    plans: dict[str, list[dict]]
    plants: list[RowPlant]


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
        first: dict[str, dict] = {}
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


# ---------------------------------------------------------------------------------------------
# Workers: one unit's files
# ---------------------------------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(out_dir: Path, registry: Registry) -> None:
    _WORKER.update(out_dir=Path(out_dir), registry=registry)


@dataclass
class JobResult:
    files: list[DemoFile]
    planted: list[PlantedProblem]
    target_changes: list[PlantedProblem]


def _run_job(job: Job) -> JobResult:
    out_dir, registry, period = _WORKER["out_dir"], _WORKER["registry"], job.period
    unit = registry.unit(job.kode)
    month = unit_month(unit, job, registry)
    changes = []
    if month is not None and job.previous is not None:
        changes = changed_targets(unit_month(unit, job.previous, registry).plans, month.plans)
    writer = SCENARIOS[job.scenario]
    rng = random.Random(job.month_seed)
    results = writer(unit, job, period, registry, rng, month) if writer else []
    if job.extra == "unknown_unit":
        extra_rng = random.Random(f"{job.month_seed}|x")
        results.append(_unknown_unit_file(job, period, registry, extra_rng))
    result = JobResult(files=[], planted=[], target_changes=[])
    deadline = period.deadline(registry.settings.batas_hari)
    for written in results:
        path = out_dir / written.file.name
        with atomic_path(path) as tmp:
            tmp.write_bytes(written.data)
        stamp = time.mktime(written.file.modified.timetuple())
        os.utime(path, (stamp, stamp))
        written.file.on_time = written.file.modified.date() <= deadline
        result.files.append(written.file)
        result.planted += written.planted
        if written.file.expected_status == "accepted" and written.file.unit == unit.kode:
            result.target_changes += [
                _located(c, unit.kode, written.file.name, written.placed) for c in changes
            ]
    return result


@dataclass
class Written:
    file: DemoFile
    data: bytes
    planted: list[PlantedProblem]
    placed: dict = field(default_factory=dict)  # kind -> (sheet, plan rows, columns, skipped)


def _filled_on(arrival: dt.datetime, rng: random.Random) -> dt.date:
    return (arrival - dt.timedelta(days=rng.randint(0, 2))).date()


def _identitas(arrival: dt.datetime, rng: random.Random) -> dict:
    return {
        "tanggal_pengisian": _filled_on(arrival, rng),
        "nama_pengisi": rng.choice(content.FILLER_NAMES),
    }


def _template_file(
    unit: Unit,
    period: Period,
    registry: Registry,
    plans: dict,
    plants: list[RowPlant],
    *,
    name: str,
    status: ExpectedStatus,
    modified: dt.datetime,
    rng: random.Random,
    messes: list[str],
) -> Written:
    """A filled template, with rows at TEMPLATE_FIRST_DATA_ROW on."""
    data = template_bytes(unit, period, registry, plans=plans, identitas=_identitas(modified, rng))
    placed = {}
    for kind in schema.KINDS:
        sheet = schema.SHEETS[kind]
        first = schema.TEMPLATE_FIRST_DATA_ROW
        placed[kind] = (
            sheet.name,
            [first + i for i in range(len(plans[kind]))],
            {n: sheet.column_letter(n) for n in sheet.field_names},
            [],
        )
    return _written(unit.kode, name, status, modified, messes, data, plans, plants, placed)


def _written(
    kode: str | None,
    name: str,
    status: ExpectedStatus,
    modified: dt.datetime,
    messes: list[str],
    data: bytes,
    plans: dict,
    plants: list[RowPlant],
    placed: dict,
    extra: list[PlantedProblem] | None = None,
) -> Written:
    """Assemble a DemoFile and its planted problems from where each sheet's rows landed.
    ``placed[kind] = (sheet name, plan rows, field -> column letter, skipped rows)``."""
    demo_file = DemoFile(
        name=name, unit=kode, expected_status=status, messes=list(messes), modified=modified
    )
    planted = []
    dirty: set[tuple[str, int]] = set()
    for kind in schema.KINDS:
        sheet, rows, columns, skipped = placed[kind]
        for plan, row in zip(plans[kind], rows, strict=True):
            demo_file.rows.append((sheet, row, plan["kode"]))
        demo_file.skipped += [(sheet, row, why) for row, why in skipped]
    for p in plants:
        planted.append(_located(p, kode, name, placed))
        if p.code.startswith("RB-E"):
            sheet, rows, _, _ = placed[p.kind]
            dirty.add((sheet, rows[p.index]))
    for p in extra or []:
        planted.append(p)
        if p.cell and p.code.startswith("RB-E"):
            sheet, ref = p.cell.split("!")
            dirty.add((sheet, int(re.sub(r"[A-Z]+", "", ref))))
    demo_file.clean_rows = {(s, r) for s, r, _ in demo_file.rows} - dirty
    return Written(demo_file, data, planted, placed)


def _located(p: RowPlant, kode: str | None, name: str, placed: dict) -> PlantedProblem:
    """``p`` at the cell where its plan and field landed in the file ``name``."""
    sheet, rows, columns, _ = placed[p.kind]
    return PlantedProblem(
        code=p.code,
        unit=kode,
        file=name,
        sheet=sheet,
        cell=schema.cell_ref(sheet, columns[p.field], rows[p.index]),
        field=p.field,
    )


def _file_level(
    code: str, kode: str | None, name: str, sheet: str | None = None, field_name: str | None = None
) -> PlantedProblem:
    return PlantedProblem(code=code, unit=kode, file=name, sheet=sheet, cell=None, field=field_name)


# --- scenarios --------------------------------------------------------------------------------


def _scenario_templat(unit, job, period, registry, rng, month) -> list[Written]:
    return [
        _template_file(
            unit,
            period,
            registry,
            month.plans,
            month.plants,
            name=template_name(unit.kode, period),
            status="accepted",
            modified=job.arrival,
            rng=rng,
            messes=[],
        )
    ]


def _scenario_bukan_excel(unit, job, period, registry, rng, month) -> list[Written]:
    name = template_name(unit.kode, period)
    demo_file = DemoFile(
        name=name,
        unit=unit.kode,
        expected_status="rejected",
        messes=["bukan_excel"],
        modified=job.arrival,
    )
    return [
        Written(
            demo_file,
            _pdf_bytes(f"Laporan RB {unit.nama} {period.label}"),
            [_file_level("RB-E001", unit.kode, name)],
        )
    ]


def _scenario_bulan_salah(unit, job, period, registry, rng, month) -> list[Written]:
    previous = period.previous()
    plans = make_plans(unit, previous, registry, seed=job.seed, n_plans=job.n_plans)
    name = template_name(unit.kode, previous)
    written = _template_file(
        unit,
        previous,
        registry,
        plans,
        [],
        name=name,
        status="rejected",
        modified=job.arrival,
        rng=rng,
        messes=["bulan_salah"],
    )
    written.file.rows, written.file.clean_rows = [], set()
    written.planted = [_file_level("RB-E006", unit.kode, name)]
    return [written]


def _unknown_unit_file(job, period, registry, rng) -> Written:
    plans = make_plans(UNKNOWN_UNIT, period, registry, seed=job.seed, n_plans=job.n_plans)
    name = template_name(UNKNOWN_UNIT.kode, period)
    written = _template_file(
        UNKNOWN_UNIT,
        period,
        registry,
        plans,
        [],
        name=name,
        status="rejected",
        modified=job.arrival + dt.timedelta(hours=1),
        rng=rng,
        messes=["unit_tak_dikenal"],
    )
    written.file.unit, written.file.rows, written.file.clean_rows = None, [], set()
    written.planted = [_file_level("RB-E005", None, name)]
    return written


def _short_name(unit: Unit) -> str:
    if unit.kode.startswith(SYNTHETIC_PREFIX):
        return unit.kode
    return unit.singkatan[0] if unit.singkatan else unit.nama


def _month_abbreviation(month: int) -> str:
    return next(k for k, v in MONTH_ABBREVIATIONS.items() if v == month)


def _text_numbers(styles: tuple[str, ...]):
    """A renderer writing budgets, Persen and Indeks values as Indonesian text."""

    turn = itertools.count()

    def render(name: str, value: object, row: dict):
        if not isinstance(value, int | float) or value < 0:
            return plain(name, value, row)
        satuan = row.get("satuan")
        if name in schema.BUDGET_FIELDS:
            style = styles[next(turn) % len(styles)]
            return (f"Rp {id_number(value)},00" if style == "rp" else id_number(value)), "text"
        if satuan == "Persen":
            spaced = next(turn) % 2
            return (f"{id_number(value)} %" if spaced else f"{id_number(value)}%"), "text"
        if satuan == "Indeks" and isinstance(value, float) and not value.is_integer():
            return id_number(value, 2).rstrip("0").rstrip(","), "text"
        return plain(name, value, row)

    return render


def _dash_budgets(plans: dict, plants: list[RowPlant]) -> dict:
    """A copy of ``plans`` as a unit writes it: "-" where there is no budget; at least one plan
    (not a planted one) has none, so the file shows it."""
    plans = {kind: [dict(row) for row in rows] for kind, rows in plans.items()}
    planted = {(p.kind, p.index) for p in plants}
    spare = [
        (kind, i)
        for kind in schema.KINDS
        for i in range(len(plans[kind]))
        if (kind, i) not in planted
    ]
    if spare and all(plans[k][i]["anggaran"] is not None for k, i in spare):
        kind, i = spare[-1]
        plans[kind][i]["anggaran"] = plans[kind][i]["realisasi_anggaran"] = None
    for rows in plans.values():
        for row in rows:
            if row["anggaran"] is None and row["realisasi_anggaran"] is None:
                row["anggaran"] = row["realisasi_anggaran"] = "-"
    return plans


def _placed(placed: PlacedSheet) -> tuple:
    return placed.grid.name, placed.plan_rows, placed.columns, placed.skipped


def _scenario_laporan_bebas(unit, job, period, registry, rng, month) -> list[Written]:
    """ "Laporan RB Dinkes Oktober 2025.xlsx": a unit's own workbook with a title block, two- and
    three-row merged headers with a column-number row, section and subtotal rows, sasaran merged
    over its rows, numbers typed as Indonesian text, renamed sheet, dates as text."""
    plants = month.plants
    plans = _dash_budgets(month.plans, plants)
    pemda = registry.settings.nama_pemda.upper()
    titles = {
        kind: (schema.SHEETS[kind].title, unit.nama.upper(), f"{pemda} TAHUN {period.year}")
        for kind in schema.KINDS
    }
    umum = action_grid(
        "umum",
        plans["umum"],
        Layout(
            sheet=schema.SHEETS["umum"].name,
            title_lines=titles["umum"],
            header_depth=2,
            number_row=True,
            sections=True,
            merge_group=True,
            subtotal_each="JUMLAH",
        ),
        _text_numbers(("rp", "dots")),
    )
    tematik = action_grid(
        "tematik",
        plans["tematik"],
        Layout(
            sheet=f"RB TEMATIK {period.year}",
            title_lines=titles["tematik"],
            header_depth=3,
            number_row=True,
            sections=True,
            total_end="TOTAL",
            blank_after=(0,) if len(plans["tematik"]) > 1 else (),
        ),
        _text_numbers(("dots", "rp")),
    )
    filled = _filled_on(job.arrival, rng)
    identitas = key_value_grid(
        schema.SHEET_IDENTITAS,
        [
            ("Nama Unit Kerja", unit.nama),
            ("Periode", period.label),
            ("Tanggal Pengisian", f"{filled.day} {MONTHS_ID[filled.month - 1]} {filled.year}"),
            ("Nama Pengisi", rng.choice(content.FILLER_NAMES)),
        ],
        title="IDENTITAS",
        first_row=3,
    )
    name = f"Laporan RB {_short_name(unit)} {period.label}.xlsx"
    data = xlsxwriter_bytes(
        [identitas, umum.grid, tematik.grid],
        title=f"Laporan RB {unit.nama}",
        created=_created(period),
    )
    messes = [
        "judul_di_atas_header",
        "header_dua_baris",
        "header_tiga_baris",
        "nomor_kolom",
        "baris_bagian",
        "baris_subtotal",
        "sel_gabung",
        "angka_teks",
        "nama_lembar_beda",
        "nama_berkas_bebas",
        "tanpa_metadata",
        "tanggal_teks",
        "baris_kosong",
        "rumus_dengan_nilai",
    ]
    return [
        _written(
            unit.kode,
            name,
            "accepted",
            job.arrival,
            messes,
            data,
            plans,
            plants,
            {"umum": _placed(umum), "tematik": _placed(tematik)},
        )
    ]


DRIFT = {
    "kode": "Kode",
    "rencana_aksi": "RENCANA AKSI",
    "penanggung_jawab": "PIC",
    "data_dukung": "Bukti Dukung",
    "anggaran": "Pagu",
    "realisasi_anggaran": "Realisasi Anggaran",
    "target_tw1": "Target Tw.1",
    "target_tw2": "Target TW-II",
    "target_tw3": "Target Triwulan III",
    "target_tw4": "Target TW 4",
    "realisasi_tw1": "Real. TW I",
    "realisasi_tw2": "Realisasi Triwulan II",
    "realisasi_tw3": "Real. TW III",
    "realisasi_tw4": "Realisasi Tw.4",
}


def _scrambled_order(kind: str, rng: random.Random) -> tuple[str, ...]:
    """The unit's own column order: identity first, numbers, budget before the people."""
    names = list(schema.SHEETS[kind].field_names)
    text_part = [
        n
        for n in names
        if not schema.FIELD_BY_NAME[n].is_number
        and n not in ("penanggung_jawab", "data_dukung", "kendala", "tindak_lanjut")
    ]
    text_part.insert(1, text_part.pop(text_part.index("rencana_aksi")))
    return tuple(
        text_part
        + [
            "penanggung_jawab",
            "anggaran",
            "realisasi_anggaran",
            *schema.TARGET_FIELDS,
            *schema.REALISASI_FIELDS,
            "kendala",
            "tindak_lanjut",
            "data_dukung",
        ]
    )


def _scenario_buatan_sendiri(unit, job, period, registry, rng, month) -> list[Written]:
    """Two files from one unit: the template sent first (superseded), then the unit's own
    workbook "Dinas Sosial - RB 2025 (okt).xlsx" with drifted headers, reordered columns, hidden
    rows and a hidden budget column, blank rows, no Identitas and no metadata."""
    first = _template_file(
        unit,
        period,
        registry,
        make_plans(unit, period, registry, seed=job.seed, n_plans=job.n_plans),
        [],
        name=template_name(unit.kode, period),
        status="superseded",
        modified=job.earlier,
        rng=rng,
        messes=["berkas_ganda"],
    )
    first.planted = [_file_level("RB-W001", unit.kode, first.file.name)]

    plans = {kind: [dict(row) for row in rows] for kind, rows in month.plans.items()}
    plants = month.plants
    for rows in plans.values():
        for row in rows[::3]:
            row["satuan"] = row["satuan"].lower() + " "
    sheets = {}
    for kind, sheet_name in (("umum", "Umum"), ("tematik", "Tematik")):
        n = len(plans[kind])
        sheets[kind] = action_grid(
            kind,
            plans[kind],
            Layout(
                sheet=sheet_name,
                headers=DRIFT,
                order=_scrambled_order(kind, rng),
                hidden_plans=tuple(i for i in (1, n - 1) if 0 < i < n),
                hidden_field="anggaran",
                blank_after=(n // 2,) if n > 2 else (),
            ),
        )
    abbreviation = _month_abbreviation(period.month)
    sender = unit.kode if unit.kode.startswith(SYNTHETIC_PREFIX) else unit.nama
    name = f"{sender} - RB {period.year} ({abbreviation}).xlsx"
    data = xlsxwriter_bytes(
        [sheets["umum"].grid, sheets["tematik"].grid], title="RB", created=_created(period)
    )
    messes = [
        "header_ejaan",
        "kolom_diacak",
        "baris_tersembunyi",
        "kolom_tersembunyi",
        "baris_kosong",
        "nama_berkas_bebas",
        "nama_lembar_beda",
        "tanpa_identitas",
        "tanpa_metadata",
        "pilihan_ejaan",
        "berkas_ganda",
    ]
    second = _written(
        unit.kode,
        name,
        "accepted",
        job.arrival,
        messes,
        data,
        plans,
        plants,
        {k: _placed(v) for k, v in sheets.items()},
    )
    return [first, second]


def _scenario_persen_excel(unit, job, period, registry, rng, month) -> list[Written]:
    """The unit's own copy with Identitas (code) but no metadata: Persen values typed as 75%
    (0.75 with a percent format), a budget typed as a formula (cached value), a JUMLAH row with
    SUM formulas, an extra "Keterangan" column and drifted headers under a one-line title."""
    plans, plants = month.plans, month.plants
    budget_formula_done = []

    def render(name, value, row):
        if (
            row.get("satuan") == "Persen"
            and isinstance(value, int | float)
            and (name in schema.TARGET_FIELDS or name in schema.REALISASI_FIELDS)
        ):
            return value / 100, "percent"
        if (
            name == "anggaran"
            and isinstance(value, int)
            and value % 4 == 0
            and not budget_formula_done
        ):
            budget_formula_done.append(True)
            return "formula", f"=4*{value // 4}", value
        return plain(name, value, row)

    headers = {
        "target_tw1": "Target TW-I",
        "target_tw2": "Target TW-II",
        "realisasi_tw1": "Realisasi Triwulan I",
        "realisasi_tw2": "Realisasi Triwulan II",
        "penanggung_jawab": "Penanggungjawab",
        "anggaran": "Anggaran",
    }
    name = f"{unit.kode} {period.label}.xlsx"
    sheets, extra = {}, []
    for kind in schema.KINDS:
        order = (*schema.SHEETS[kind].field_names, f"{EXTRA}Keterangan")
        n = len(plans[kind])
        remarks = [
            rng.choice(("", "Sesuai jadwal", "Lanjutan tahun lalu", "Prioritas")) for _ in range(n)
        ]
        sheets[kind] = action_grid(
            kind,
            plans[kind],
            Layout(
                sheet=schema.SHEETS[kind].name,
                title_lines=(f"{schema.SHEETS[kind].title} {unit.nama.upper()}",),
                headers=headers,
                order=order,
                total_end="JUMLAH",
            ),
            render,
            extra_values={"Keterangan": [r or None for r in remarks]},
        )
        letter = sheets[kind].extra_columns["Keterangan"]
        extra.append(
            PlantedProblem(
                code="RB-W010",
                unit=unit.kode,
                file=name,
                sheet=sheets[kind].grid.name,
                cell=schema.cell_ref(sheets[kind].grid.name, letter, sheets[kind].header_row),
                field=None,
            )
        )
    identitas = key_value_grid(
        schema.SHEET_IDENTITAS,
        [
            ("Kode Unit", unit.kode),
            ("Nama Unit", unit.nama),
            ("Periode", str(period)),
            ("Tanggal Pengisian", _filled_on(job.arrival, rng)),
        ],
    )
    data = xlsxwriter_bytes(
        [identitas, sheets["umum"].grid, sheets["tematik"].grid],
        title=f"Renaksi RB {unit.nama}",
        created=_created(period),
    )
    messes = [
        "persen_excel",
        "rumus_dengan_nilai",
        "kolom_tambahan",
        "header_ejaan",
        "judul_di_atas_header",
        "baris_subtotal",
        "tanpa_metadata",
    ]
    return [
        _written(
            unit.kode,
            name,
            "accepted",
            job.arrival,
            messes,
            data,
            plans,
            plants,
            {k: _placed(v) for k, v in sheets.items()},
            extra,
        )
    ]


def _scenario_rumus_openpyxl(unit, job, period, registry, rng, month) -> list[Written]:
    """A workbook a unit's script wrote (openpyxl): a budget realisation left as a formula with
    no cached value (RB-E011) and RB Tematik without its Penanggung Jawab column (RB-E010)."""
    plans = {kind: [dict(row) for row in rows] for kind, rows in month.plans.items()}
    plants = month.plants
    planted_rows = {(p.kind, p.index) for p in plants}
    target = next(
        (
            i
            for i, row in enumerate(plans["umum"])
            if isinstance(row["anggaran"], int) and ("umum", i) not in planted_rows
        ),
        None,
    )
    if target is None:
        target = next(i for i in range(len(plans["umum"])) if ("umum", i) not in planted_rows)
        plans["umum"][target]["anggaran"] = 40_000_000
    sheet_umum = schema.SHEETS["umum"]
    plans["umum"][target]["realisasi_anggaran"] = None
    titles = (f"Unit: {unit.nama}", f"Periode: {period.label}")
    umum = action_grid("umum", plans["umum"], Layout(sheet=sheet_umum.name, title_lines=titles))
    tematik = action_grid(
        "tematik",
        plans["tematik"],
        Layout(
            sheet=schema.SHEETS["tematik"].name,
            title_lines=titles,
            omit=("penanggung_jawab",),
        ),
    )
    formula_row = umum.plan_rows[target]
    formula_cell = (formula_row, schema.column_index(umum.columns["realisasi_anggaran"]))
    umum.grid.formulas[formula_cell] = (f"={umum.columns['anggaran']}{formula_row}*0.5", None)
    filled = _filled_on(job.arrival, rng)
    identitas = key_value_grid(
        schema.SHEET_IDENTITAS,
        [
            ("Kode Unit", unit.kode),
            ("Periode (YYYY-MM)", str(period)),
            ("Tanggal Pengisian", filled.strftime("%d/%m/%Y")),
        ],
    )
    name = f"RB_{unit.kode}_{period}.xlsx"
    data = openpyxl_bytes(
        [identitas, umum.grid, tematik.grid], title="Rencana Aksi RB", created=_created(period)
    )
    extra = [
        PlantedProblem(
            code="RB-E011",
            unit=unit.kode,
            file=name,
            sheet=sheet_umum.name,
            cell=schema.cell_ref(sheet_umum.name, umum.columns["realisasi_anggaran"], formula_row),
            field="realisasi_anggaran",
        ),
        _file_level("RB-E010", unit.kode, name, schema.SHEETS["tematik"].name, "penanggung_jawab"),
    ]
    messes = [
        "rumus_tanpa_nilai",
        "kolom_hilang",
        "tanggal_teks",
        "tanpa_metadata",
        "judul_di_atas_header",
    ]
    return [
        _written(
            unit.kode,
            name,
            "accepted",
            job.arrival,
            messes,
            data,
            plans,
            plants,
            {"umum": _placed(umum), "tematik": _placed(tematik)},
            extra,
        )
    ]


SCENARIOS = {
    "tidak_kirim": None,
    "templat": _scenario_templat,
    "bukan_excel": _scenario_bukan_excel,
    "bulan_salah": _scenario_bulan_salah,
    "laporan_bebas": _scenario_laporan_bebas,
    "buatan_sendiri": _scenario_buatan_sendiri,
    "persen_excel": _scenario_persen_excel,
    "rumus_openpyxl": _scenario_rumus_openpyxl,
}


def _created(period: Period) -> dt.datetime:
    return dt.datetime(period.year, period.month, 1)


def _pdf_bytes(text: str) -> bytes:
    """A small, valid one-page PDF showing ``text`` (what a unit exported instead of xlsx)."""
    safe = text.encode("latin-1", "replace").decode("latin-1").replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 72 760 Td ({safe}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _write_lock_file(out_dir: Path, files: list[DemoFile]) -> list[str]:
    """Excel's owner file ``~$<name>`` left beside a workbook still open on the unit's PC."""
    target = next((f for f in files if "nama_berkas_bebas" in f.messes), None) or (
        files[0] if files else None
    )
    if target is None:
        return []
    name = "~$" + target.name
    owner = b"Operator RB"
    data = (
        bytes([len(owner)])
        + owner
        + b" " * (53 - len(owner))
        + bytes([len(owner), 0])
        + owner.decode().encode("utf-16-le")
        + b"\x20\x00" * (54 - len(owner))
    )
    path = out_dir / name
    path.write_bytes(data)
    stamp = time.mktime(target.modified.timetuple())
    os.utime(path, (stamp, stamp))
    return [name]
