"""The demo's plain data: what a month plants and writes (DemoPlan, DemoFile, PlantedProblem)
and what its workers pass around (Job, RowPlant, UnitMonth, JobResult, Written)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipeline.registry import (
    Period,
    Unit,
)

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


@dataclass(frozen=True)
class RowPlant:
    code: str
    kind: str
    index: int  # plan index in its sheet
    field: str


@dataclass(kw_only=True)
class UnitMonth:
    """One unit's action plans as its accepted file of a month holds them, before any layout,
    and the violations planted in them."""

    plans: dict[str, list[dict]]
    plants: list[RowPlant]


@dataclass
class JobResult:
    files: list[DemoFile]
    planted: list[PlantedProblem]
    target_changes: list[PlantedProblem]


@dataclass
class Written:
    file: DemoFile
    data: bytes
    planted: list[PlantedProblem]
    placed: dict = field(default_factory=dict)  # kind -> (sheet, plan rows, columns, skipped)
