"""Which unit sent a file, and for which month.

Two steps, so that the worker process needs no registry and the decision is made in one place:

* :func:`extract_clues` (worker side, pure over :class:`WorkbookData`): what the file says about
  itself: the very hidden metadata sheet (``schema.SHEET_META``: key/value pairs in A:B, keys
  ``versi_template``, ``kode_unit``, ``periode`` as written by :mod:`pipeline.template`) and the
  ``Identitas`` sheet (label/value pairs: ``Kode Unit``, ``Nama Unit``, ``Periode``).
* :func:`identify` (parent side): resolve the clues and the file name against the registry and
  the month being consolidated.

Precedence, and why:

* unit: metadata > Identitas > file name. The generator wrote the metadata for that unit and a
  unit never becomes another; the file name is whatever the sender or the mail client made of it.
* period: Identitas > metadata > file name > the folder's month. Units reuse last month's file
  and update the realisations: the metadata then still names the month the template was made
  for, while the Periode the unit typed in Identitas is their own statement of the month.

A source that names something else than the winning one gives ``RB-W002`` saying which source
said what (a source naming no registry unit, e.g. a mistyped code, counts when a later source
decides). No unit at all gives ``RB-E005`` naming what was found; a month other than the one
being consolidated gives ``RB-E006`` naming the month found and its source.

Names are matched on :func:`pipeline.schema.normalize_text` (case, punctuation, spacing): a
registry code (``KEC-NATAR`` matches ``kec natar``), a full name or a short form
(``registry.Unit.names``). Free text (a file name, a long unit name) is searched for the longest
such names as whole words, so ``Disketapang`` is never read as the kecamatan ``Ketapang``; text
naming two different units is no answer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from pipeline import schema
from pipeline.ingest.values import display_text, month_number, parse_period, period_label
from pipeline.ingest.workbook import WorkbookData
from pipeline.registry import Period, Registry, Unit

SOURCE_LABEL = {
    "metadata": "data templat",
    "identitas": "lembar Identitas",
    "nama_berkas": "nama berkas",
    "folder": "folder bulan",
}
# Identitas labels (normalised) and the clue they give; the template's own labels first.
IDENTITAS_LABELS: dict[str, str] = {
    **{schema.normalize_text(label): key for key, label in schema.IDENTITAS_FIELDS},
    "kode unit kerja": "kode_unit",
    "kode opd": "kode_unit",
    "kode": "kode_unit",
    "nama unit kerja": "nama_unit",
    "unit kerja": "nama_unit",
    "perangkat daerah": "nama_unit",
    "nama perangkat daerah": "nama_unit",
    "nama opd": "nama_unit",
    "opd": "nama_unit",
    "periode": "periode",
    "periode laporan": "periode",
    "bulan": "periode",
    "bulan laporan": "periode",
}
IDENTITAS_SCAN_ROWS = 40
IDENTITAS_SCAN_COLS = 8
# Words that decorate a unit's name without telling which unit it is.
_NAME_NOISE = re.compile(
    r"\b(?:pemerintah|pemkab|kabupaten|kab|lampung selatan|lamsel|provinsi lampung)\b"
)


@dataclass(frozen=True, kw_only=True)
class Clues:
    """What a workbook says about itself (display text, None when absent)."""

    metadata: dict[str, str] = field(default_factory=dict)
    identitas: dict[str, str] = field(default_factory=dict)  # kode_unit, nama_unit, periode


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem found while identifying: a catalogue code and its Indonesian message."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Identification:
    unit: str | None
    period: str | None  # "YYYY-MM" of the file (the folder's month when the file says nothing)
    identified_by: dict[str, str]  # {"unit": "metadata", "period": "identitas"}
    findings: tuple[Finding, ...] = ()

    @property
    def rejected(self) -> bool:
        return any(f.code.startswith("RB-E") for f in self.findings)


# --------------------------------------------------------------------------------------------
# Worker side: clues from the workbook
# --------------------------------------------------------------------------------------------


def _clue_text(value: object, key: str) -> str | None:
    """A clue cell as text; a date cell as Periode (Excel turns a typed ``2025-10`` into
    1 October 2025) becomes ``YYYY-MM``."""
    if key == "periode" and isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    text = display_text(value)
    return text or None


def extract_clues(workbook: WorkbookData) -> Clues:
    """The metadata and Identitas clues of ``workbook`` (empty dicts when absent)."""
    metadata: dict[str, str] = {}
    meta = workbook.sheet(schema.SHEET_META)
    if meta is not None:
        for line in meta.cells:
            if len(line) < 2 or not isinstance(line[0], str):
                continue
            if text := _clue_text(line[1], line[0].strip()):
                metadata[line[0].strip()] = text
    identitas: dict[str, str] = {}
    sheet = next(
        (
            s
            for s in workbook.sheets
            if schema.normalize_text(s.name).startswith(
                schema.normalize_text(schema.SHEET_IDENTITAS)
            )
        ),
        None,
    )
    if sheet is not None:
        for line in sheet.cells[:IDENTITAS_SCAN_ROWS]:
            for c, value in enumerate(line[:IDENTITAS_SCAN_COLS]):
                key = IDENTITAS_LABELS.get(schema.normalize_text(value)) if value else None
                if key is None or key in identitas:
                    continue
                answer = next((v for v in line[c + 1 :] if v is not None and v != ""), None)
                if (text := _clue_text(answer, key)) is not None:
                    identitas[key] = text
    return Clues(metadata=metadata, identitas=identitas)


# --------------------------------------------------------------------------------------------
# Parent side: resolve against the registry
# --------------------------------------------------------------------------------------------


_LAST_INDEX: list = []  # [units tuple, index]: the registry of a run never changes


def _unit_index(units: tuple[Unit, ...]) -> tuple[dict[str, str], int]:
    """Normalised unit name -> code (names shared by two units dropped), longest name in words.

    Cached by identity: hashing 5,000 units on every call (an ``lru_cache`` key) cost ~7 ms."""
    if not _LAST_INDEX or _LAST_INDEX[0] is not units:
        _LAST_INDEX[:] = [units, _build_unit_index(units)]
    return _LAST_INDEX[1]


def _build_unit_index(units: tuple[Unit, ...]) -> tuple[dict[str, str], int]:
    index: dict[str, str] = {}
    shared: set[str] = set()
    for unit in units:
        for name in unit.names:
            key = schema.normalize_text(name)
            if not key:
                continue
            if index.get(key, unit.kode) != unit.kode:
                shared.add(key)
            index[key] = unit.kode
    for key in shared:
        del index[key]
    return index, max((len(k.split()) for k in index), default=1)


def unit_in_text(text: str, registry: Registry, *, whole: bool = False) -> set[str]:
    """Codes of the units ``text`` names: with ``whole``, only when the whole text is a unit's
    code, name or short form; otherwise every unit named as whole words, a longer name taking
    its words from a shorter one inside it (``Kec. Natar`` is not also ``Natar``)."""
    index, longest = _unit_index(registry.units)
    key = schema.normalize_text(text)
    if key in index:
        return {index[key]}
    if whole:
        return set()
    words = _NAME_NOISE.sub(" ", key).split()
    taken: set[int] = set()
    found: set[str] = set()
    for n in range(min(longest, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            span = set(range(i, i + n))
            phrase = " ".join(words[i : i + n])
            if phrase in index and not span & taken:
                taken |= span
                found.add(index[phrase])
    return found


_FILENAME_PERIOD_RES = (
    re.compile(r"(?<!\d)(?:\d{1,2}[-_.])?(0?[1-9]|1[0-2])[-_./](20\d\d)(?!\d)"),  # 10-2025
    re.compile(r"(?<!\d)(20\d\d)[-_. ]?(0[1-9]|1[0-2])(?![\d])"),  # 2025-10, 202510
)


def period_in_name(stem: str) -> tuple[int | None, int] | None:
    """``(year, month)`` a file name gives: ``2025-10``, ``10-2025``, ``Oktober 2025``, ``okt``
    (year None unless a 20xx year is also in the name)."""
    m = _FILENAME_PERIOD_RES[0].search(stem)
    if m:
        return int(m.group(2)), int(m.group(1))
    m = _FILENAME_PERIOD_RES[1].search(stem)
    if m:
        return int(m.group(1)), int(m.group(2))
    words = schema.normalize_text(stem).split()
    months = {n for w in words if (n := month_number(w)) is not None}
    if len(months) != 1:
        return None
    years = {int(w) for w in words if re.fullmatch(r"20\d\d", w)}
    return (years.pop() if len(years) == 1 else None), months.pop()


def _unit_sources(clues: Clues, file_name: str, registry: Registry):
    """``(source, text shown, codes found)`` for every source that says something."""
    out = []
    if text := clues.metadata.get("kode_unit"):
        out.append(("metadata", text, unit_in_text(text, registry, whole=True)))
    kode, nama = clues.identitas.get("kode_unit"), clues.identitas.get("nama_unit")
    if kode or nama:
        codes = unit_in_text(kode, registry, whole=True) if kode else set()
        if not codes and nama:
            codes = unit_in_text(nama, registry)
        out.append(("identitas", " / ".join(t for t in (kode, nama) if t), codes))
    stem = PurePath(file_name).stem
    found = unit_in_text(stem, registry)
    if found:
        out.append(("nama_berkas", PurePath(file_name).name, found))
    return out


def _period_sources(clues: Clues, file_name: str):
    """``(source, text shown, (year, month) or None)`` for every source that says something."""
    out = []
    if text := clues.identitas.get("periode"):
        out.append(("identitas", text, parse_period(text)))
    if text := clues.metadata.get("periode"):
        out.append(("metadata", text, parse_period(text)))
    if found := period_in_name(PurePath(file_name).stem):
        out.append(("nama_berkas", PurePath(file_name).name, found))
    return out


def _same_month(a: tuple[int | None, int], b: tuple[int | None, int]) -> bool:
    return a[1] == b[1] and (a[0] is None or b[0] is None or a[0] == b[0])


def _said(source: str, what: str) -> str:
    return f"{SOURCE_LABEL[source]} menyebut {what}"


def identify(
    clues: Clues, file_name: str, registry: Registry, period: Period | None
) -> Identification:
    """Unit and period of one file (see the module docstring for precedence and findings).

    ``period`` is the month being consolidated (None: accept any month, as ``rbpipe check``)."""
    findings: list[Finding] = []
    by: dict[str, str] = {}

    unit_sources = _unit_sources(clues, file_name, registry)
    unit = None
    decided = next((s for s in unit_sources if len(s[2]) == 1), None)
    if decided:
        unit = next(iter(decided[2]))
        by["unit"] = decided[0]
        others = [s for s in unit_sources if s is not decided and s[2] != decided[2]]
        if others:
            said = "; ".join(
                _said(src, f"'{text}'" + ("" if codes else " (tidak dikenali)"))
                for src, text, codes in others
            )
            findings.append(
                Finding(
                    code="RB-W002",
                    message=(
                        f"Unit kerja berbeda antar sumber: {said}; yang dipakai {unit} "
                        f"menurut {SOURCE_LABEL[decided[0]]}."
                    ),
                )
            )
    else:
        findings.append(Finding(code="RB-E005", message=_unknown_unit_message(unit_sources)))

    period_sources = _period_sources(clues, file_name)
    found_period = next(((src, p) for src, _, p in period_sources if p), None)
    file_period: str | None = None
    if found_period:
        src, (year, month) = found_period
        by["period"] = src
        if year is None and period is not None:
            year = period.year
        file_period = f"{year:04d}-{month:02d}" if year else None
        others = [
            (s, text)
            for s, text, p in period_sources
            if s != src and not (p and _same_month(p, found_period[1]))
        ]
        if others:
            said = "; ".join(_said(s, f"'{text}'") for s, text in others)
            findings.append(
                Finding(
                    code="RB-W002",
                    message=(
                        f"Periode berbeda antar sumber: {said}; yang dipakai "
                        f"{period_label(*found_period[1])} menurut {SOURCE_LABEL[src]}."
                    ),
                )
            )
        if period is not None and not _same_month(found_period[1], (period.year, period.month)):
            findings.append(
                Finding(
                    code="RB-E006",
                    message=(
                        f"Berkas ini untuk periode {period_label(*found_period[1])} (menurut "
                        f"{SOURCE_LABEL[src]}), bukan {period.label} yang sedang direkap."
                    ),
                )
            )
    elif period is not None:
        by["period"] = "folder"
        file_period = str(period)
    return Identification(unit=unit, period=file_period, identified_by=by, findings=tuple(findings))


def _unknown_unit_message(sources) -> str:
    if not sources:
        return (
            "Unit kerja tidak dapat dikenali: tidak ada Kode Unit di data templat maupun lembar "
            "Identitas, dan nama berkas tidak memuat kode atau nama unit yang terdaftar."
        )
    said = "; ".join(
        _said(src, f"'{text}'")
        + (" (lebih dari satu unit: " + ", ".join(sorted(codes)) + ")" if codes else "")
        for src, text, codes in sources
    )
    return (
        f"Unit kerja tidak dapat dikenali: {said}, tetapi tidak ada yang cocok dengan daftar "
        "unit kerja."
    )
