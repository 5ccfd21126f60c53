"""Planting rule violations at known cells: each row-level code of the catalogue, broken on
purpose where the template's layout lets a unit type it."""

from __future__ import annotations

import random

from pipeline import schema
from pipeline.demo import content
from pipeline.demo.model import RowPlant
from pipeline.demo.plans import rounded, set_numbers, settle
from pipeline.registry import (
    Period,
    Registry,
    Unit,
)


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
    lower = rounded(value / 2, decimals)
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
        set_numbers(row, targets, _on_target(targets, period))
        settle(row, unit, period, rng)
        return ["target_tw4"]
    if code == "RB-E106":
        # The annual target typed below TW III (about half of it).
        targets = _own_or_ladder(row, k, lambda t: _lower(t[2], decimals) > 0)
        targets = [*targets[:3], _lower(targets[2], decimals)]
        set_numbers(row, targets, _on_target(targets, period))
        settle(row, unit, period, rng)
        return ["target_tw4"]
    if code == "RB-E107":
        targets = _own_or_ladder(row, k, lambda t: t[r - 2] > 0)
        values = _on_target(targets, period)
        values[r - 1] = _lower(values[r - 2], decimals)
        set_numbers(row, targets, values)
        settle(row, unit, period, rng)
        return [f"realisasi_tw{r}"]
    if code == "RB-E108":
        set_numbers(row, [0, 0, 0, 0], _on_target([0, 0, 0, 0], period))
        row["data_dukung"] = None
        settle(row, unit, period, rng)
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
        set_numbers(row, targets, values)
        row["data_dukung"] = None
        row["kendala"] = row["tindak_lanjut"] = None
        return ["data_dukung"]
    if code == "RB-E112":
        targets = _own_or_ladder(
            row, k, lambda t: t[c - 1] - 1 >= (t[c - 2] if c > 1 else 0) and t[c - 1] >= 1
        )
        values = _on_target(targets, period)
        values[c - 1] = rounded(targets[c - 1] - 1, decimals)
        set_numbers(row, targets, values)
        row["kendala"] = row["tindak_lanjut"] = None
        settle(row, unit, period, rng)
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
        values[q - 1] = rounded(2 * targets[q - 1], decimals)
        set_numbers(row, targets, values)
        settle(row, unit, period, rng)
        return [f"realisasi_tw{q}"]
    raise ValueError(f"no way to plant {code}")
