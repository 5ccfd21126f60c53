"""A unit's action plans for a year: ideas for its line of work, targets set once a year,
realisations that move forward month by month."""

from __future__ import annotations

import bisect
import functools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline import schema
from pipeline.demo import content
from pipeline.registry import (
    Period,
    Registry,
    Unit,
)


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
    set_numbers(row, plan.targets, _realisations(plan.ends, plan.course, period, decimals))
    if plan.anggaran is not None:
        row["anggaran"] = plan.anggaran
        row["realisasi_anggaran"] = round(plan.anggaran * _progress(row) * plan.spent, -3)
    settle(row, unit, period, texts)
    return row


QUARTER_SHAPES = (
    (0.25, 0.5, 0.75, 1.0),
    (0.1, 0.4, 0.7, 1.0),
    (0.0, 0.3, 0.6, 1.0),
    (0.2, 0.45, 0.75, 1.0),
    (0.0, 0.0, 0.5, 1.0),
)


SINGLE_SHAPES = ((0, 0, 0, 1), (0, 0, 1, 1), (0, 1, 1, 1), (1, 1, 1, 1))


def _targets(satuan: str, annual: float, rng: random.Random) -> Sequence[float]:
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
    out: list[float] = []
    previous: float = 0
    for t, share in zip(targets, course.behind, strict=True):
        value = t * 1.1 if course.ahead and satuan != "Persen" else t
        if share is not None and t > 0:
            value = min(
                rounded(t * share, decimals), rounded(t - (0.01 if decimals else 1), decimals)
            )
        value = max(rounded(value, decimals), previous)
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
        value = rounded(before + (ends[running - 1] - before) * share, decimals)
        out[running - 1] = max(before, value)
    return out


def rounded(value: float, decimals: int) -> float:
    if decimals:
        return round(value, decimals)
    return int(round(value))


def set_numbers(row: dict, targets: Sequence, realisations: Sequence) -> None:
    row.update(zip(schema.TARGET_FIELDS, targets, strict=True))
    row.update(zip(schema.REALISASI_FIELDS, realisations, strict=True))


def _progress(row: dict) -> float:
    latest = max((row[f"realisasi_tw{q}"] or 0) for q in schema.QUARTERS)
    top = row["target_tw4"] or 0
    return min(1.0, latest / top) if top else 0.0


def settle(row: dict, unit: Unit, period: Period, rng: random.Random) -> None:
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
