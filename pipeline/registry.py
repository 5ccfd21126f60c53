"""Deployment data: the unit registry, the reference lists, the settings and the calendar.

The defaults for Kabupaten Lampung Selatan are committed as editable files under ``inputs/``:

* ``unit_kerja.csv``  — ``kode,nama,jenis,singkatan`` (short forms separated by ``;``), and
  optionally ``email`` and ``telepon`` (where the unit's feedback and reminders go; see
  :mod:`pipeline.contact`). A bad address or number never stops a run: the unit keeps no such
  contact and :attr:`Registry.notes` says why, naming the line.
* ``referensi.csv``   — ``daftar,nilai`` for the lists ``sasaran``, ``tema``, ``satuan``
* ``pengaturan.toml`` — deadline day, thresholds, names printed on workbooks

A deployment edits those files; nothing here hard-codes a unit or a theme.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pipeline.contact import parse_emails, parse_phones
from pipeline.errors import RunError
from pipeline.resources import default_folder, resolve

# The default registry folder: the checkout's inputs/, or the copy packaged in the wheel
# (pipeline.resources decides).
DEFAULT_INPUTS = default_folder("registry")
REGISTRY_FILE = "unit_kerja.csv"
REFERENCE_FILE = "referensi.csv"
SETTINGS_FILE = "pengaturan.toml"

MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
# Short forms seen in file names ("okt", "des", "agt"), lower case, month number.
MONTH_ABBREVIATIONS: dict[str, int] = {
    "jan": 1,
    "feb": 2,
    "peb": 2,
    "mar": 3,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "agust": 8,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "oct": 10,
    "nov": 11,
    "nop": 11,
    "des": 12,
    "dec": 12,
}


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A reporting month. In month M the running quarter is ceil(M/3); earlier ones are closed."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``YYYY-MM``; raise :class:`RunError` (Indonesian message) otherwise."""
        m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(text))
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise RunError(
                f"Periode '{text}' tidak valid: gunakan format YYYY-MM, misalnya 2025-10."
            )
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """Indonesian label, e.g. ``Oktober 2025``."""
        return f"{MONTHS_ID[self.month - 1]} {self.year}"

    @property
    def running_quarter(self) -> int:
        return (self.month + 2) // 3

    @property
    def closed_quarter(self) -> int:
        """Last closed quarter (0 in January-March)."""
        return self.running_quarter - 1

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def deadline(self, day: int) -> dt.date:
        """Due date of this month's submissions: ``day`` of the following month (clamped)."""
        nxt = self.next()
        last = calendar.monthrange(nxt.year, nxt.month)[1]
        return dt.date(nxt.year, nxt.month, min(day, last))

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])


# --------------------------------------------------------------------------------------------
# Units and reference lists
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Unit:
    kode: str
    nama: str
    jenis: str = ""
    singkatan: tuple[str, ...] = ()
    email: tuple[str, ...] = ()  # valid addresses (registry column ``email``)
    telepon: str | None = None  # WhatsApp number, normalised (``6281234567890``)

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling by which the unit may be named: code, full name, short forms."""
        return (self.kode, self.nama, *self.singkatan)


@dataclass(frozen=True, kw_only=True)
class Settings:
    nama_pemda: str = "Kabupaten Lampung Selatan"
    nama_instansi: str = "Bagian Organisasi Sekretariat Daerah"
    batas_hari: int = 5
    ambang_realisasi_persen: float = 150.0
    surel_pengirim: str = ""  # From address of rbpipe kirim (--dari overrides)
    surel_server: str = ""  # SMTP server HOST[:PORT] of rbpipe kirim (--smtp overrides)


@dataclass(frozen=True, kw_only=True)
class Registry:
    """The expected units, the allowed reference values and the deployment settings."""

    units: tuple[Unit, ...]
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    source: Path | None = None  # folder the files were read from
    notes: tuple[str, ...] = ()  # Indonesian notes on registry entries that were not usable

    def __post_init__(self) -> None:
        codes = [u.kode for u in self.units]
        if len(set(codes)) != len(codes):
            dup = sorted({c for c in codes if codes.count(c) > 1})
            raise RunError(f"Kode unit ganda di daftar unit kerja: {', '.join(dup)}.")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(u.kode for u in self.units)

    def unit(self, kode: str) -> Unit | None:
        return self._by_code.get(kode)

    def name_of(self, kode: str | None) -> str:
        u = self._by_code.get(kode or "")
        return u.nama if u else ""

    @cached_property
    def _by_code(self) -> dict[str, Unit]:
        return {u.kode: u for u in self.units}

    def reference(self, name: str) -> tuple[str, ...]:
        return self.references.get(name, ())


EXTRA_CELLS = "\0extra"  # key of the cells a CSV row has beyond its header


def _read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a registry CSV as ``{lower-case header: stripped text}``. The separator is read
    from the header line (``,``, or ``;`` as Excel saves CSV under Indonesian regional settings,
    or tab); cells beyond the header are joined under :data:`EXTRA_CELLS`."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = fh.readline()
            fh.seek(0)
            delimiter = max(",;\t", key=header.count) if header.strip() else ","
            return [
                {
                    (k or "").strip().lower(): (v or "").strip()
                    for k, v in row.items()
                    if k is not None
                }
                | ({EXTRA_CELLS: ", ".join(v for v in row[None] if v)} if row.get(None) else {})
                for row in csv.DictReader(fh, delimiter=delimiter)
            ]
    except FileNotFoundError:
        raise RunError(f"Berkas {path} tidak ditemukan.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RunError(f"Berkas {path} tidak dapat dibaca: {exc}.") from None


def load_units(path: Path) -> tuple[Unit, ...]:
    return read_units(path)[0]


def read_units(path: Path) -> tuple[tuple[Unit, ...], tuple[str, ...]]:
    """The units of a registry file, and Indonesian notes on unusable contacts (the unit is kept,
    without the contact). Raises :class:`RunError` when the list itself is unusable."""
    units = []
    notes: list[str] = []
    for i, row in enumerate(_read_csv(path), start=2):
        kode = row.get("kode", "").upper()
        if not kode:
            continue
        if not row.get("nama"):
            raise RunError(f"{path}, baris {i}: kolom 'nama' kosong untuk unit {kode}.")
        aliases = tuple(a.strip() for a in row.get("singkatan", "").split(";") if a.strip())
        emails, email_notes = parse_emails(row.get("email", ""))
        telepon, phone_notes = parse_phones(row.get("telepon", ""))
        if row.get(EXTRA_CELLS):
            email_notes.append(
                f"isian di luar kolom yang ada diabaikan ({row[EXTRA_CELLS]}); pisahkan "
                "beberapa alamat surel dengan titik koma (;), bukan koma"
            )
        notes += [f"{path.name} baris {i} ({kode}): {note}." for note in email_notes + phone_notes]
        units.append(
            Unit(
                kode=kode,
                nama=row["nama"],
                jenis=row.get("jenis", ""),
                singkatan=aliases,
                email=emails,
                telepon=telepon,
            )
        )
    if not units:
        raise RunError(f"Daftar unit kerja {path} kosong.")
    return tuple(units), tuple(notes)


def load_references(path: Path) -> dict[str, tuple[str, ...]]:
    lists: dict[str, list[str]] = {}
    for row in _read_csv(path):
        name, value = row.get("daftar", "").lower(), row.get("nilai", "")
        if name and value and value not in lists.setdefault(name, []):
            lists[name].append(value)
    for required in ("sasaran", "tema", "satuan"):
        if not lists.get(required):
            raise RunError(f"Daftar '{required}' tidak ada atau kosong di {path}.")
    return {k: tuple(v) for k, v in lists.items()}


def load_settings(path: Path) -> Settings:
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RunError(f"Berkas pengaturan {path} tidak valid: {exc}.") from None
    known = {k: raw[k] for k in Settings.__dataclass_fields__ if k in raw}
    return Settings(**known)


def load_registry(folder: Path | None = None, *, units_file: Path | None = None) -> Registry:
    """Read the registry from ``folder`` (default: the default registry folder).

    Files missing from ``folder`` fall back to the defaults (:func:`pipeline.resources.resolve`:
    the checkout's ``inputs/`` when running from a checkout, else the packaged copy), so a
    folder can carry only what it overrides. ``units_file`` replaces the unit list (synthetic
    registries).
    """
    folder = Path(folder) if folder else DEFAULT_INPUTS

    def pick(name: str) -> Path:
        return resolve(name, "registry", folder=folder)

    units, notes = read_units(Path(units_file) if units_file else pick(REGISTRY_FILE))
    return Registry(
        units=units,
        references=load_references(pick(REFERENCE_FILE)),
        settings=load_settings(pick(SETTINGS_FILE)),
        source=folder,
        notes=notes,
    )
