"""A unit's template for a month, pre-filled from its last accepted month in the history.

Kept: every plan with its texts (Kode RA, sasaran, tema, indicators, plan, output, unit of
measure, person in charge, evidence, obstacles, follow-ups), its targets, its budget and budget
realisation, and the realisations of quarters that are closed in the new month. Left empty: the
realisations of the running quarter and later — the cells the unit updates this month. Only
months of the same year count (targets are set once a year, as for the target-change rule);
without one, the template is blank.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import schema
from pipeline.registry import Period


def prefilled_plans(history_path: Path, kode: str, period: Period) -> tuple[str | None, dict]:
    """(source month or None, ``{"umum": [row, ...], "tematik": [...]}``) for
    :func:`pipeline.template.template_bytes`."""
    from pipeline.history import History

    if not Path(history_path).is_file():
        return None, {}
    with History(history_path) as history:
        month, records = history.unit_plans(kode, period)
    if month is None:
        return None, {}
    updating = {f"realisasi_tw{q}" for q in schema.QUARTERS if q >= period.running_quarter}
    plans: dict[str, list[dict]] = {}
    for record in sorted(records, key=lambda r: (r.get("_kind") != "umum", r.get("_row") or 0)):
        kind = record.get("_kind")
        if kind not in schema.SHEETS:
            continue
        row = {
            f.name: (None if f.name in updating else _value(record.get(f.name)))
            for f in schema.FIELDS
        }
        plans.setdefault(kind, []).append(row)
    return month, plans


def _value(value: object) -> object:
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def prefilled_template(
    history_path: Path, unit, period: Period, registry
) -> tuple[str | None, bytes]:
    from pipeline.template import template_bytes

    month, plans = prefilled_plans(history_path, unit.kode, period)
    return month, template_bytes(unit, period, registry, plans=plans or None)
