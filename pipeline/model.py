"""Plain data passed between stages (see docs/contracts.md for the staged-rows DataFrame)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pipeline.problems import Problem

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.figures import RegencyFigures
    from pipeline.outputs import OutputLayout
    from pipeline.registry import Period, Registry

Status = Literal["accepted", "rejected", "superseded"]
STATUS_LABEL = {"accepted": "Diterima", "rejected": "Ditolak", "superseded": "Digantikan"}


@dataclass(frozen=True, kw_only=True)
class SheetLayout:
    """Where an action-plan sheet's data sits in one submitted file."""

    kind: str  # "umum" | "tematik"
    sheet: str  # sheet name as in the file ("RB TEMATIK 2025")
    header_rows: tuple[int, ...]  # 1-based Excel rows that make up the header
    first_data_row: int  # first Excel row below the header (and below a column-number row)
    columns: dict[str, str]  # canonical field -> Excel column letter
    unknown_columns: tuple[tuple[str, str], ...] = ()  # (column letter, header text)
    missing_fields: tuple[str, ...] = ()  # fields of this kind with no column


# Reasons of skipped rows whose details follow ": " (which sheet or file was used instead):
# ``berkas digantikan: RB Umum diambil dari berkas X``. Set by ingest; regency-wide summaries
# count them by their general part (:func:`reason_group`).
REASON_SUPERSEDED = "berkas digantikan"
REASON_UNUSED_SHEET = "lembar tidak direkap"
DETAILED_REASONS = (REASON_SUPERSEDED, REASON_UNUSED_SHEET)


def reason_group(reason: str) -> str:
    """A skipped row's reason without its details (see :data:`DETAILED_REASONS`)."""
    head, sep, _ = reason.partition(": ")
    return head if sep and head in DETAILED_REASONS else reason


@dataclass(frozen=True, kw_only=True)
class SkippedRow:
    """A row read but not consolidated, and why (Indonesian reason)."""

    sheet: str
    row: int
    reason: str  # e.g. "baris kosong", "baris subtotal (JUMLAH)", "baris judul bagian"


SheetUse = Literal["used", "unused", "superseded", "rejected"]


@dataclass(frozen=True, kw_only=True)
class SheetAccount:
    """Every row one action-plan sheet of a file yielded: ``rows_read == rows_consolidated +
    rows_skipped``. ``use``: ``used`` (its rows are consolidated), ``unused`` (another sheet of
    the same kind in the file was chosen, RB-E013), ``superseded`` (another file of the unit
    supplies this kind: ``replaced_by``), ``rejected`` (the file was rejected)."""

    sheet: str  # the sheet's name as in the file
    kind: str  # "umum" | "tematik"
    use: SheetUse
    rows_read: int
    rows_consolidated: int
    rows_skipped: int
    replaced_by: str | None = None  # superseded: the file whose sheet of this kind is used


@dataclass(kw_only=True)
class Submission:
    """One file found in a month's inputs folder, and what became of it."""

    path: Path
    name: str  # file name as received (relative to the month folder)
    sha256: str
    size: int
    modified: dt.datetime  # file modification time (local, naive)
    format: str | None = None  # "xlsx" | "xlsm" | "xls" | "ods" | None when not a workbook
    producer: str | None = None  # application that saved it, when the file says so
    reader: str | None = None  # library that read its values: "calamine", or a second reader
    unit: str | None = None  # registry code
    period: str | None = None  # "YYYY-MM" as found in the file (or assumed from the folder)
    identified_by: dict[str, str] = field(default_factory=dict)  # {"unit": "metadata", ...}
    status: Status = "accepted"
    layouts: list[SheetLayout] = field(default_factory=list)
    rows_read: int = 0
    rows_consolidated: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    sheets: list[SheetAccount] = field(default_factory=list)  # every action-plan sheet read
    problems: list[Problem] = field(default_factory=list)  # file-level and reading problems
    received: dt.datetime | None = None  # arrival time from an arrival log, if any

    @property
    def rows_skipped(self) -> int:
        return len(self.skipped)

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


@dataclass(kw_only=True)
class IngestResult:
    """What ingest hands to validation: every file's fate and the staged action plans."""

    submissions: list[Submission]
    rows: pd.DataFrame  # staged action plans of accepted files (docs/contracts.md)
    ignored: list[str] = field(default_factory=list)  # lock files, hidden files (not reported)

    @property
    def problems(self) -> list[Problem]:
        return [p for s in self.submissions for p in s.problems]


@dataclass(kw_only=True)
class ValidationResult:
    rows: pd.DataFrame  # staged rows with choice values normalised to the reference spelling
    problems: list[Problem]  # row/cell and structure problems found by GX
    gx_runs: int = 0  # number of GX validation runs (one per suite)
    suite_runs: dict[str, int] = field(default_factory=dict)  # GX runs per suite name
    gx_seconds: float = 0.0  # wall time spent in GX (import included)
    suite_versions: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class Metrics:
    """Every metric of one month (docs/contracts.md "Metrics frames")."""

    plans: pd.DataFrame  # staged.PLANS: rows + capaian, status, problem counts, exclusion flags
    units: pd.DataFrame  # one row per registry unit (metrics.UNIT_COLUMNS)
    groups: pd.DataFrame  # one row per sasaran / tema (metrics.GROUP_COLUMNS)
    regency: RegencyFigures  # every regency-wide figure (pipeline.figures)
    # metrics.month_over_month of the history's trend: per unit and the regency, each figure
    # beside the previous recorded month's (empty until metrics.compare_with_history)
    changes: pd.DataFrame


@dataclass(kw_only=True)
class RunInfo:
    """How a run went, for the manifest, the ``Info Proses`` sheet and the summary. Fields
    left None are unknown (a RunResult built outside a run) and not shown."""

    versions: dict[str, str] = field(default_factory=dict)  # package -> version
    suite_versions: dict[str, str] = field(default_factory=dict)  # suite -> its "versi"
    gx_runs: int | None = None  # Great Expectations validation runs (one per suite)
    gx_seconds: float | None = None  # wall time in GX, import included
    workers: int | None = None  # reader processes (and feedback writers)
    inputs: str | None = None  # the month's inputs folder
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # stage -> wall_s, cpu_s
    ignored_files: list[str] | None = None  # lock files, hidden files (not submissions)
    cache: dict[str, int] | None = None  # what the run took from / kept in the run cache

    # Wall-clock measurements differ on every run, and so does what a run took from the run
    # cache (GX runs only for the files that changed): they go to the manifest and the log,
    # never into a workbook, which must be identical for identical inputs, whatever the cache
    # held.
    VOLATILE: ClassVar[frozenset[str]] = frozenset({"gx_seconds", "stages", "gx_runs", "cache"})

    def as_dict(self) -> dict[str, Any]:
        """The known entries in field order (the manifest's ``info``)."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }

    def stable_items(self) -> list[tuple[str, Any]]:
        """The known entries that do not depend on the clock, sorted by name."""
        return sorted((k, v) for k, v in self.as_dict().items() if k not in self.VOLATILE)


@dataclass(kw_only=True)
class RunResult:
    """Everything one monthly run produced, handed to the publishers."""

    period: Period
    registry: Registry
    submissions: list[Submission]
    rows: pd.DataFrame
    problems: list[Problem]  # all: ingest + validation + history, sorted
    metrics: Metrics
    trend: pd.DataFrame  # unit metrics over months, from the history (history.TREND_COLUMNS)
    started: dt.datetime
    finished: dt.datetime | None = None
    info: RunInfo = field(default_factory=RunInfo)
    layout: OutputLayout | None = None  # where the month's outputs go (None: not written by run)
    outputs: list[Path] = field(default_factory=list)  # files written, in the order written
