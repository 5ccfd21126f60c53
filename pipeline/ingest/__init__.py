"""Ingest: a month's files in, every file's fate and the staged action plans out.

``ingest_files(paths, registry, period)`` / ``ingest_month(folder, period, registry)`` ->
:class:`pipeline.model.IngestResult` (the staged-rows frame is specified in docs/contracts.md).

Per file, inside a bounded worker process (:func:`pipeline.ingest.pool.run_bounded`):
read (:func:`pipeline.ingest.reader.read_workbook`) and parse (:func:`parse_workbook`: sheets,
header, rows, identity clues), returning small picklable results (row tuples, not frames). Then in
the parent, in input order (so the result does not depend on the number of workers): identity
against the registry and the month, the file's status, superseded files, and one DataFrame.

A file is **rejected** when it cannot be read, its unit is unknown (RB-E005), it is for another
month (RB-E006), neither action-plan sheet has a header (RB-E008/RB-E009), or it holds no action
plan at all (RB-E004).

**Superseding by sheet kind.** A unit may split its report (RB Umum in one file, RB Tematik in
another) and send corrections. Of its accepted files, each kind of plans comes from one file:
the one modified last (ties: the later name in sort order) whose sheet of that kind holds plans
(an empty sheet never replaces plans; when no file holds plans of a kind, the last file with
such a sheet). A file whose kinds are all supplied by other files is **superseded**; a file any
of whose kinds is used stays **accepted**, its other sheets marked ``superseded`` in
``Submission.sheets`` (``replaced_by`` names the file used instead). RB-W001 tells a file which
of its plans were replaced and by which file; a missing sheet (RB-W004) that another file of the
unit supplies is no longer reported.

Rows of rejected files and of superseded sheets are counted as read and reported as skipped
("berkas ditolak" / "berkas digantikan: RB Umum diambil dari berkas X"), so rows read = rows
consolidated + rows skipped for every file and every sheet; their row- and cell-level problems
are dropped (the unit fixes the sheets that count), file- and sheet-level problems are kept.

This module is imported by the worker processes' fork server: keep heavy imports (pandas)
inside the functions that need them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import schema
from pipeline import staged as staged_rows
from pipeline.fsutil import sha256_file
from pipeline.ingest.identify import Clues, extract_clues, identify
from pipeline.ingest.layout import MAX_HEADER_START, action_sheet_candidates
from pipeline.ingest.limits import DEFAULT_LIMITS, Limits
from pipeline.ingest.rows import RAW_FIELDS, STAGED_FIELDS, SheetRows, extract_rows
from pipeline.ingest.workbook import ReadFailure, WorkbookData
from pipeline.model import (
    REASON_SUPERSEDED,
    REASON_UNUSED_SHEET,
    IngestResult,
    SheetAccount,
    SheetUse,
    SkippedRow,
    Submission,
)
from pipeline.problems import Problem, make_problem
from pipeline.registry import REFERENCE_FILE, REGISTRY_FILE, SETTINGS_FILE, Period, Registry

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.cache import RunCache
    from pipeline.ingest.pool import Outcome

REASON_REJECTED = "berkas ditolak"
# Files of a month folder that are configuration, not submissions (registry.load_registry).
CONFIG_FILES = frozenset({REGISTRY_FILE, REFERENCE_FILE, SETTINGS_FILE})

# Declared in pipeline.staged; the records of staged_frame are built in this order (meta with
# the Excel row, column letters, then a row tuple's values and raws: rows.SheetRows).
ROW_COLUMNS: tuple[str, ...] = staged_rows.COLUMNS
assert ROW_COLUMNS[5:] == (*staged_rows.COLUMN_COLUMNS, *STAGED_FIELDS, *staged_rows.RAW_COLUMNS)
assert staged_rows.RAW_FIELDS == RAW_FIELDS


@dataclass(frozen=True, kw_only=True)
class FileParse:
    """What the worker learns from one readable workbook (picklable, no DataFrame)."""

    format: str
    reader: str
    producer: str | None
    has_macros: bool
    clues: Clues
    sheets: tuple[SheetRows, ...] = ()  # the sheet used for each kind, in schema.KINDS order
    # Other sheets of a kind that were read but not used, with the name of the one used.
    unused: tuple[tuple[SheetRows, str], ...] = ()
    problems: tuple[Problem, ...] = ()  # RB-E008/E009/E013, RB-W004, without unit and file yet


# --------------------------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------------------------


def parse_workbook(workbook: WorkbookData) -> FileParse:
    """Sheets, headers, rows and identity clues of one workbook (pure).

    Every candidate sheet of a kind that has a header is read (:func:`action_sheet_candidates`).
    The one used is chosen by content: a sheet holding action plans beats an empty one; of
    several holding plans, the one with the most (then the best-named, visible, first) is used
    and RB-E013 names every such sheet; the rows of the others are reported as skipped. A kind
    with no sheet at all is RB-W004 (a warning) when the other kind's sheet holds plans, else
    RB-E008."""
    found = action_sheet_candidates(workbook)
    sheets: list[SheetRows] = []
    unused: list[tuple[SheetRows, str]] = []
    problems: list[Problem] = []
    missing: list[str] = []
    for kind in schema.KINDS:
        printed = schema.SHEETS[kind].name
        candidates = found.get(kind, [])
        readable = [(sheet, layout) for sheet, layout in candidates if layout is not None]
        if not candidates:
            missing.append(kind)
            continue
        if not readable:
            problems.append(
                make_problem(
                    "RB-E009",
                    f"Baris judul kolom {printed} (Kode RA, Indikator, Target TW I, ...) tidak "
                    f"ditemukan di {MAX_HEADER_START} baris pertama lembar "
                    f"'{candidates[0][0].name}'.",
                    sheet=candidates[0][0].name,
                )
            )
            continue
        read = [extract_rows(sheet, layout) for sheet, layout in readable]
        holding = [r for r in read if r.rows]
        chosen = max(holding, key=lambda r: len(r.rows)) if holding else read[0]
        if len(holding) > 1:
            problems.append(_several_sheets(printed, holding, chosen))
        sheets.append(chosen)
        unused.extend((r, chosen.layout.sheet) for r in read if r is not chosen)
    for kind in missing:
        problems.append(_missing_sheet(kind, workbook, has_plans=any(s.rows for s in sheets)))
    return FileParse(
        format=workbook.format,
        reader=workbook.reader,
        producer=workbook.producer,
        has_macros=workbook.has_macros,
        clues=extract_clues(workbook),
        sheets=tuple(sheets),
        unused=tuple(unused),
        problems=tuple(problems),
    )


def _several_sheets(printed: str, holding: list[SheetRows], chosen: SheetRows) -> Problem:
    listed = ", ".join(f"'{r.layout.sheet}' ({len(r.rows)} rencana aksi)" for r in holding)
    others = sum(r.rows_read for r in holding if r is not chosen)
    return make_problem(
        "RB-E013",
        f"Rencana aksi {printed} ada di {len(holding)} lembar: {listed}. Yang direkap hanya "
        f"lembar '{chosen.layout.sheet}'; {others} baris dari lembar lainnya tidak direkap.",
        sheet=chosen.layout.sheet,
    )


def _missing_sheet(kind: str, workbook: WorkbookData, *, has_plans: bool) -> Problem:
    printed = schema.SHEETS[kind].name
    names = ", ".join(s.name for s in workbook.sheets if s.state != "veryHidden")
    if has_plans:
        return make_problem(
            "RB-W004",
            f"Lembar {printed} tidak ada di berkas ini (lembar yang ada: {names}); rencana aksi "
            f"lembar lainnya tetap direkap. Bila unit Anda memiliki rencana aksi {printed}, "
            "sertakan lembarnya.",
        )
    return make_problem(
        "RB-E008",
        f"Lembar {printed} tidak ditemukan di berkas ini (lembar yang ada: {names}).",
    )


def read_and_parse(item: tuple[str, Limits]) -> FileParse:
    """The pool task for one file: ``(path, limits)`` -> :class:`FileParse` (raises
    :class:`ReadFailure` when the file cannot be read)."""
    from pipeline.ingest.reader import read_workbook

    path, limits = item
    return parse_workbook(read_workbook(Path(path), limits))


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Staged:
    """A submission and the sheets it yielded (parent-side bookkeeping). ``sheets``: the sheet
    chosen for each kind; ``unused``: other sheets of a kind, with the reason their rows are
    skipped; ``replaced``: kind -> the other file of the unit whose sheet of that kind is used
    instead (:func:`_resolve_superseded`); ``used``: the sheets whose rows are consolidated
    (set by :func:`_conclude`)."""

    submission: Submission
    sheets: tuple[SheetRows, ...] = ()
    unused: list[tuple[SheetRows, str]] = field(default_factory=list)
    cell_problems: list[Problem] = field(default_factory=list)
    replaced: dict[str, Submission] = field(default_factory=dict)
    used: tuple[SheetRows, ...] = ()

    def chosen(self, kind: str) -> SheetRows | None:
        """The sheet chosen for ``kind`` in this file, if it has one."""
        return next((s for s in self.sheets if s.layout.kind == kind), None)

    def holds(self, kind: str) -> bool:
        """Whether this file's sheet of ``kind`` holds action plans."""
        sheet = self.chosen(kind)
        return sheet is not None and bool(sheet.rows)


def _new_submission(path: Path, base: Path | None) -> Submission:
    """A file's facts; a file that cannot be opened gets empty ones (the reader then rejects it
    with RB-E003: bad input never stops the run)."""
    name = path.relative_to(base).as_posix() if base else path.name
    try:
        stat = path.stat()
        digest = sha256_file(path)
    except OSError:
        stat, digest = None, ""
    return Submission(
        path=path,
        name=name,
        sha256=digest,
        size=stat.st_size if stat else 0,
        modified=dt.datetime.fromtimestamp(stat.st_mtime if stat else 0).replace(microsecond=0),
    )


def _problem(code: str, message: str | None, sub: Submission, **where) -> Problem:
    return make_problem(code, message, unit=sub.unit, file=sub.name, **where)


def _placed(problem: Problem, sub: Submission) -> Problem:
    return dataclasses.replace(problem, unit=sub.unit, file=sub.name)


def _settle(
    sub: Submission, outcome: Outcome, registry: Registry, period: Period | None
) -> _Staged:
    """Status, identity and problems of one file from its pool outcome."""
    if outcome.failure is not None:
        failure: ReadFailure = outcome.failure
        sub.status = "rejected"
        # Unreadable, but its name may still say who sent it: the feedback then reaches them.
        named = identify(Clues(), sub.name, registry, period)
        if named.unit:
            sub.unit, sub.identified_by = named.unit, {"unit": named.identified_by["unit"]}
        sub.problems.append(_problem(failure.code, failure.message, sub))
        return _Staged(submission=sub)
    parsed: FileParse = outcome.value
    sub.format, sub.producer, sub.reader = parsed.format, parsed.producer, parsed.reader
    ident = identify(parsed.clues, sub.name, registry, period)
    sub.unit, sub.period, sub.identified_by = ident.unit, ident.period, dict(ident.identified_by)
    sub.layouts = [s.layout for s in parsed.sheets]
    sub.rows_read = sum(s.rows_read for s in parsed.sheets) + sum(
        s.rows_read for s, _ in parsed.unused
    )
    for finding in ident.findings:
        sub.problems.append(_problem(finding.code, finding.message, sub))
    sub.problems.extend(_placed(p, sub) for p in parsed.problems)
    if parsed.has_macros or parsed.format == "xlsm":
        sub.problems.append(_problem("RB-W003", None, sub))
    staged = _Staged(
        submission=sub,
        sheets=parsed.sheets,
        unused=[(sheet, _unused_reason(sheet, chosen)) for sheet, chosen in parsed.unused],
        cell_problems=[_placed(p, sub) for s in parsed.sheets for p in s.problems],
    )
    if ident.rejected or not parsed.sheets:
        sub.status = "rejected"
    elif not any(s.rows for s in parsed.sheets):
        names = " dan ".join(s.layout.sheet for s in parsed.sheets)
        sub.problems.append(
            _problem(
                "RB-E004",
                f"Lembar {names} tidak berisi satu pun baris rencana aksi.",
                sub,
            )
        )
        sub.status = "rejected"
    return staged


def _unused_reason(sheet: SheetRows, chosen: str) -> str:
    return (
        f"{REASON_UNUSED_SHEET}: {schema.SHEETS[sheet.layout.kind].name} diambil dari "
        f"lembar '{chosen}'"
    )


def _rows_of(sheet: SheetRows) -> list[int]:
    """Every row a sheet read, staged or skipped, in order."""
    return sorted([r[0] for r in sheet.rows] + [k.row for k in sheet.skipped])


# --------------------------------------------------------------------------------------------
# Superseding by sheet kind
# --------------------------------------------------------------------------------------------


def _resolve_superseded(staged: list[_Staged]) -> None:
    """Of several accepted files of one unit, each kind of plans comes from one file: the one
    modified last (ties: the later name) whose sheet of that kind holds plans (else, when no
    file holds plans of that kind, the last one with such a sheet). A file loses only the kinds
    another file supplies: it stays ``accepted`` while any of its kinds is used and is
    ``superseded`` when none is. RB-W001 tells a file which of its kinds holding plans were
    replaced, and by which file; RB-W004 (a sheet missing) is dropped from a file whose missing
    kind another file of the unit supplies (a report split over two files is complete)."""
    by_unit: dict[str, list[_Staged]] = {}
    for item in staged:
        if item.submission.accepted:
            by_unit.setdefault(item.submission.unit or "", []).append(item)
    for items in by_unit.values():
        items.sort(key=lambda s: (s.submission.modified, s.submission.name))
        winners: dict[str, _Staged] = {}
        for kind in schema.KINDS:
            having = [item for item in items if item.chosen(kind) is not None]
            holding = [item for item in having if item.holds(kind)]
            if having:
                winners[kind] = (holding or having)[-1]
        for item in items:
            item.replaced = {
                kind: winner.submission
                for kind, winner in winners.items()
                if winner is not item and item.chosen(kind) is not None
            }
            if not any(winner is item for winner in winners.values()):
                item.submission.status = "superseded"
            _replaced_warning(item)
            supplied = {kind for kind, winner in winners.items() if winner is not item}
            _drop_answered_missing_sheet(item, supplied)


def _replaced_warning(item: _Staged) -> None:
    """RB-W001 on a file some of whose plans a later file of the unit replaced (none when only
    empty sheets were replaced: nothing of the unit's was set aside)."""
    sub = item.submission
    lost = {kind: winner for kind, winner in item.replaced.items() if item.holds(kind)}
    if not lost:
        return

    def by(winner: Submission) -> str:
        return f"{winner.name} (diubah {winner.modified:%d/%m/%Y %H:%M})"

    later = "kiriman unit yang sama yang lebih baru"
    if sub.status == "superseded" and len({w.name for w in lost.values()}) == 1:
        message = (
            f"Berkas ini digantikan oleh {by(next(iter(lost.values())))}, {later}; berkas ini "
            "tidak direkap."
        )
    elif sub.status == "superseded":
        parts = ", ".join(f"{schema.SHEETS[k].name} oleh {by(w)}" for k, w in lost.items())
        message = (
            f"Berkas ini digantikan oleh {later}: rencana aksi {parts}; berkas ini tidak direkap."
        )
    else:
        parts = ", ".join(f"{schema.SHEETS[k].name} oleh {by(w)}" for k, w in lost.items())
        kept = " dan ".join(
            schema.SHEETS[s.layout.kind].name
            for s in item.sheets
            if s.layout.kind not in item.replaced
        )
        message = (
            f"Sebagian berkas ini digantikan oleh {later}: rencana aksi {parts}. Rencana aksi "
            f"{kept} dari berkas ini tetap direkap."
        )
    sub.problems.append(_problem("RB-W001", message, sub))


def _drop_answered_missing_sheet(item: _Staged, supplied: set[str]) -> None:
    """Drop RB-W004 from a file whose missing kind another file of the unit supplies. (RB-W004
    stands only when exactly one kind has no sheet while the other's sheet holds plans.)"""
    missing = set(schema.KINDS) - {s.layout.kind for s in item.sheets}
    if missing and missing <= supplied:
        sub = item.submission
        sub.problems = [p for p in sub.problems if p.code != "RB-W004"]


def _superseded_reason(kind: str, winner: Submission, sub: Submission) -> str:
    """Why a sheet's rows are skipped when another file of the unit supplies its kind."""
    later = (winner.modified, winner.name) > (sub.modified, sub.name)
    head = REASON_SUPERSEDED if later else REASON_UNUSED_SHEET
    return f"{head}: {schema.SHEETS[kind].name} diambil dari berkas {winner.name}"


def _conclude(item: _Staged) -> None:
    """Every sheet's fate and every row's: the rows of the used sheets are consolidated (their
    own skipped rows keep their reasons), every row of another sheet is skipped with the
    reason of its sheet (file rejected, kind supplied by another file, another sheet of the
    kind chosen). Cell problems are kept for used sheets only."""
    sub = item.submission

    def fate(kind: str) -> tuple[SheetUse, str, str | None] | None:
        if sub.status == "rejected":
            return "rejected", REASON_REJECTED, None
        winner = item.replaced.get(kind)
        if winner is not None:
            return "superseded", _superseded_reason(kind, winner, sub), winner.name
        return None

    used: list[SheetRows] = []
    sub.skipped, sub.sheets = [], []
    for sheet in item.sheets:
        set_aside = fate(sheet.layout.kind)
        if set_aside is None:
            used.append(sheet)
            sub.skipped.extend(sheet.skipped)
            sub.sheets.append(_account(sheet, "used", consolidated=len(sheet.rows)))
        else:
            _skip_sheet(sub, sheet, *set_aside)
    for sheet, reason in item.unused:
        _skip_sheet(sub, sheet, *(fate(sheet.layout.kind) or ("unused", reason, None)))
    item.used = tuple(used)
    sub.rows_consolidated = sum(len(s.rows) for s in used)
    if sub.accepted:
        sub.layouts = [s.layout for s in used]
        names = {s.layout.sheet for s in used}
        sub.problems.extend(p for p in item.cell_problems if p.sheet in names)


def _skip_sheet(
    sub: Submission, sheet: SheetRows, use: SheetUse, reason: str, replaced_by: str | None
) -> None:
    sub.skipped.extend(
        SkippedRow(sheet=sheet.layout.sheet, row=row, reason=reason) for row in _rows_of(sheet)
    )
    sub.sheets.append(_account(sheet, use, consolidated=0, replaced_by=replaced_by))


def _account(
    sheet: SheetRows, use: SheetUse, *, consolidated: int, replaced_by: str | None = None
) -> SheetAccount:
    return SheetAccount(
        sheet=sheet.layout.sheet,
        kind=sheet.layout.kind,
        use=use,
        rows_read=sheet.rows_read,
        rows_consolidated=consolidated,
        rows_skipped=sheet.rows_read - consolidated,
        replaced_by=replaced_by,
    )


def staged_frame(staged: list[_Staged]) -> pd.DataFrame:
    """The staged-rows DataFrame of the accepted files (docs/contracts.md), built once."""
    import pandas as pd

    kind_order = {k: i for i, k in enumerate(schema.KINDS)}
    records: list[tuple] = []
    accepted = sorted(
        (s for s in staged if s.submission.accepted),
        key=lambda s: (s.submission.unit or "", s.submission.name),
    )
    for item in accepted:
        sub = item.submission
        for sheet in sorted(item.used, key=lambda s: kind_order[s.layout.kind]):
            layout = sheet.layout
            prefix = (sub.unit, sub.name, layout.sheet, layout.kind)
            letters = tuple(layout.columns.get(f) for f in STAGED_FIELDS)
            records.extend((*prefix, row[0], *letters, *row[1:]) for row in sheet.rows)
    # The one place a staged row is born: the declaration in pipeline.staged applies here.
    return staged_rows.conform(pd.DataFrame.from_records(records, columns=list(ROW_COLUMNS)))


def ingest_files(
    paths: list[Path],
    registry: Registry,
    period: Period | None,
    *,
    base: Path | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    cache: RunCache | None = None,
) -> IngestResult:
    """Read, identify and stage ``paths`` (names relative to ``base`` when given).

    ``period``: the month being consolidated (None accepts any month, as ``rbpipe check``);
    ``workers``: reader processes (None: one per CPU core); ``limits``: safety limits per file;
    ``cache``: the run cache (:mod:`pipeline.cache`): a file read before, with the same content,
    limits and code, is not read again.
    """
    limits = limits or DEFAULT_LIMITS
    paths = [Path(p) for p in paths]
    submissions = [_new_submission(p, Path(base) if base else None) for p in paths]
    outcomes = _read_all(submissions, limits, workers=workers or os.cpu_count() or 1, cache=cache)
    staged = [_settle(s, o, registry, period) for s, o in zip(submissions, outcomes, strict=True)]
    _resolve_superseded(staged)
    for item in staged:
        _conclude(item)
    return IngestResult(submissions=submissions, rows=staged_frame(staged))


def _read_all(
    submissions: list[Submission], limits: Limits, *, workers: int, cache: RunCache | None
) -> list[Outcome]:
    """Each file's pool outcome, in order: from the run cache when it has the file, else read
    in the bounded pool (and kept in the cache when the read succeeded and the file did not
    change meanwhile)."""
    from pipeline import cache as run_cache
    from pipeline.ingest.pool import Outcome, run_bounded

    keys: list[str | None] = [None] * len(submissions)
    outcomes: list[Outcome | None] = [None] * len(submissions)
    if cache is not None:
        for i, sub in enumerate(submissions):
            if sub.sha256:
                key = run_cache.key_of(
                    run_cache.KIND_PARSED, run_cache.code_version(), sub.sha256, asdict(limits)
                )
                keys[i] = key
                value = cache.get(run_cache.KIND_PARSED, key)
                if isinstance(value, FileParse):
                    outcomes[i] = Outcome(item=(str(sub.path), limits), value=value)
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    read = run_bounded(
        read_and_parse,
        [(str(submissions[i].path), limits) for i in todo],
        workers=workers,
        limits=limits,
    )
    for i, outcome in zip(todo, read, strict=True):
        outcomes[i] = outcome
        sub = submissions[i]
        kept = keys[i]
        if cache is not None and kept and outcome.ok and _unchanged(sub):
            cache.put(run_cache.KIND_PARSED, kept, outcome.value)
    return [outcome for outcome in outcomes if outcome is not None]


def _unchanged(sub: Submission) -> bool:
    """The file still has the content hashed before it was read (a file replaced while the
    run read it is not kept in the cache under the old content's hash)."""
    try:
        return sha256_file(sub.path) == sub.sha256
    except OSError:
        return False


def is_ignored(relative: Path) -> bool:
    """Files of a month folder that are not submissions: Excel/LibreOffice lock files
    (``~$x.xlsx``, ``.~lock.x#``), hidden files and folders (our own temporary files are
    ``.<name>.tmp-*``), and the registry files a month folder may override."""
    if any(part.startswith((".", "~$")) for part in relative.parts):
        return True
    return len(relative.parts) == 1 and relative.name in CONFIG_FILES


def ingest_month(
    folder: Path,
    period: Period | None,
    registry: Registry,
    *,
    workers: int | None = None,
    limits: Limits | None = None,
    cache: RunCache | None = None,
) -> IngestResult:
    """Ingest every file of a month folder, subfolders included, in name order (``cache``:
    see :func:`ingest_files`)."""
    folder = Path(folder)
    files = sorted(
        (p for p in folder.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    ignored = [p for p in files if is_ignored(p.relative_to(folder))]
    skip = set(ignored)
    result = ingest_files(
        [p for p in files if p not in skip],
        registry,
        period,
        base=folder,
        workers=workers,
        limits=limits,
        cache=cache,
    )
    result.ignored = [p.relative_to(folder).as_posix() for p in ignored]
    return result
