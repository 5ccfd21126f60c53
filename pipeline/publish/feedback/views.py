"""One sender's view of the run: the only thing a feedback workbook is rendered from
(isolation by construction, see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.model import RunResult, Submission
from pipeline.outputs import feedback_name, unknown_sender_names
from pipeline.plain import as_float
from pipeline.problems import Problem, sort_problems
from pipeline.publish.styles import (
    RECORD_BLOCK,
    iter_records,
)
from pipeline.registry import Period, Settings


@dataclass(frozen=True, kw_only=True)
class UnitView:
    """Everything one feedback workbook may show: one sender's own files, rows and problems,
    and regency-level aggregates. Built by :func:`feedback_views`; the renderer sees only this."""

    kode: str | None  # registry code, None for a file whose unit is unknown
    nama: str | None
    period: Period
    settings: Settings
    submissions: tuple[Submission, ...]
    plans: tuple[
        dict[str, Any], ...
    ]  # this unit's rows of Metrics.plans, as records (column -> value)
    problems: tuple[Problem, ...]  # sorted by severity, then position
    metrics: dict[str, Any]  # this unit's row of Metrics.units ({} when unknown)
    medians: dict[
        str, float | None
    ]  # metric -> median over the units that reported (None when undefined)
    ranked: int  # units with a rank
    file_name: str
    remark: str | None = None  # a line under the title (the portal's instant check says what it is)

    @property
    def accepted(self) -> Submission | None:
        """The first accepted file (by name), None when none was accepted."""
        return next((s for s in self.submissions if s.accepted), None)

    @property
    def accepted_files(self) -> tuple[Submission, ...]:
        """Every accepted file: a report may be split by sheet kind over several files."""
        return tuple(s for s in self.submissions if s.accepted)

    def source(self, kind: str) -> Submission | None:
        """The accepted file whose sheet of ``kind`` is consolidated (ingest marks it ``used``
        in ``Submission.sheets``; a Submission built without that accounting: the first
        accepted file with a layout of that kind, else the first accepted file). None when
        no file was accepted."""
        accepted = self.accepted_files
        for sub in accepted:
            if any(a.kind == kind and a.use == "used" for a in sub.sheets):
                return sub
        if any(sub.sheets for sub in accepted):
            return None
        with_layout = (s for s in accepted if any(lo.kind == kind for lo in s.layouts))
        return next(with_layout, self.accepted)

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(not p.is_error for p in self.problems)


def feedback_views(run: RunResult) -> list[UnitView]:
    """One view per sender: registry units in registry order, then unidentified files by name."""
    return list(iter_feedback_views(run))


def iter_feedback_views(run: RunResult) -> Iterator[UnitView]:
    """The views of :func:`feedback_views`, made one at a time: each holds its sender's plans
    as records, and all of a month's views at once would hold the month's rows a second time.

    Plans, problems and files are indexed by sender once (not searched per sender), so the
    cost grows with the month's rows, not with senders x rows. The indexes are built by this
    call, the views as they are taken (by :class:`FeedbackWriter`'s thread, which then only
    reads the frames through the indexes)."""
    reg = run.metrics.regency
    by_code = {row["kode"]: row for row in run.metrics.units.to_dict("records")}
    common: dict[str, Any] = {
        "period": run.period,
        "settings": run.registry.settings,
        "medians": {m: as_float(v) for m, v in reg.unit_medians.items()},
        "ranked": reg.units_ranked,
    }
    # Problem positions in run.problems (so each view keeps their order) by unit, and by file
    # for those without a unit (None for a registry sender's file, or any falsy unit).
    of_unit: dict[str, list[int]] = {}
    unplaced: dict[str | None, list[int]] = {}
    anonymous: dict[str | None, list[int]] = {}
    for i, p in enumerate(run.problems):
        if p.unit:
            of_unit.setdefault(p.unit, []).append(i)
        else:
            anonymous.setdefault(p.file, []).append(i)
            if p.unit is None:
                unplaced.setdefault(p.file, []).append(i)
    files_of: dict[str, list[Submission]] = {}
    for s in run.submissions:
        if s.unit:
            files_of.setdefault(s.unit, []).append(s)
    order = {kode: i for i, kode in enumerate(run.registry.codes)}
    senders = sorted(files_of, key=lambda k: (order.get(k, len(order)), k))
    records = _plans_by_sender(run.metrics.plans, senders)

    def views() -> Iterator[UnitView]:
        for kode, plans in zip(senders, records, strict=True):
            subs = tuple(sorted(files_of[kode], key=lambda s: s.name))
            names = {s.name for s in subs}
            found = of_unit.get(kode, []) + [i for name in names for i in unplaced.get(name, [])]
            yield UnitView(
                kode=kode,
                nama=run.registry.name_of(kode) or kode,
                submissions=subs,
                plans=plans,
                problems=tuple(sort_problems([run.problems[i] for i in sorted(found)])),
                metrics=by_code.get(kode, {}),
                file_name=feedback_name(kode, run.period),
                **common,
            )
        unknown = sorted((s for s in run.submissions if not s.unit), key=lambda s: s.name)
        unknown_names = unknown_sender_names([s.name for s in unknown], run.period)
        for sub in unknown:
            yield UnitView(
                kode=None,
                nama=None,
                submissions=(sub,),
                plans=(),
                problems=tuple(
                    sort_problems([run.problems[i] for i in anonymous.get(sub.name, [])])
                ),
                metrics={},
                file_name=unknown_names[sub.name],
                **common,
            )

    return views()


def _plans_by_sender(
    plans: pd.DataFrame, senders: list[str]
) -> Iterator[tuple[dict[str, Any], ...]]:
    """Each sender's plans as records (frame order), in the order of ``senders``, converted
    for a few senders at a time (about :data:`~pipeline.publish.styles.RECORD_BLOCK` rows).
    The positions are found by this call; the records as they are taken."""
    positions = plans.groupby("_unit", sort=False).indices if len(plans) else {}
    at = [positions.get(kode, np.arange(0)) for kode in senders]

    def blocks() -> Iterator[tuple[dict[str, Any], ...]]:
        start = 0
        while start < len(at):
            end, size = start + 1, len(at[start])
            while end < len(at) and size + len(at[end]) <= RECORD_BLOCK:
                size += len(at[end])
                end += 1
            taken = np.concatenate(at[start:end])
            records = iter_records(plans.take(taken)) if size else iter(())
            for sender in at[start:end]:
                yield tuple(next(records) for _ in range(len(sender)))
            start = end

    return blocks()
