"""The submission template, in one place.

Everything that describes the template workbook lives here: its version, its sheets, the fields
of the two action-plan sheets with their printed headers, known header synonyms, types and the
reference list that feeds each dropdown. The template writer, the ingest reader, the validation
suites' helpers and the publishers all read these definitions; nothing else spells a header.

Deployment data (the reference lists themselves, the unit registry) is *not* here: it is read from
editable CSV files by :mod:`pipeline.registry`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

TEMPLATE_VERSION = "2025.1"

# Sheet names as printed in the template.
SHEET_PETUNJUK = "Petunjuk"
SHEET_IDENTITAS = "Identitas"
SHEET_REFERENSI = "Referensi"
# The very hidden sheet written by the template generator (key/value pairs in columns A:B).
SHEET_META = "_rbpipe_meta"

Kind = Literal["umum", "tematik"]
FieldType = Literal["code", "text", "choice", "number"]
Requirement = Literal["always", "closed_quarter", "optional", "conditional"]

QUARTERS = (1, 2, 3, 4)
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True, kw_only=True)
class Field:
    """One column of an action-plan sheet."""

    name: str  # canonical field name used in every DataFrame
    header: str  # header exactly as printed in the template
    type: FieldType
    requirement: Requirement
    kinds: frozenset[str]  # sheets that carry the field: {"umum"}, {"tematik"} or both
    choices: str | None = None  # name of the reference list ("sasaran", "tema", "satuan")
    synonyms: tuple[str, ...] = ()  # other spellings seen in real submissions (any case)
    width: float = 14  # column width in the template, in Excel character units
    quarter: int | None = None  # 1..4 for quarterly fields
    group: str | None = None  # upper header line in multi-row layouts ("Target (Kumulatif)")
    help: str = ""  # Indonesian explanation: Petunjuk sheet and input messages

    @property
    def is_number(self) -> bool:
        return self.type == "number"


BOTH = frozenset({"umum", "tematik"})
UMUM = frozenset({"umum"})
TEMATIK = frozenset({"tematik"})


def _quarterly(prefix: str, header: str, group: str, help_text: str, *, required: Requirement):
    """Target/realisation fields for TW I..TW IV with their header spellings."""
    out = []
    for q in QUARTERS:
        out.append(
            Field(
                name=f"{prefix}_tw{q}",
                header=f"{header} TW {ROMAN[q]}",
                type="number",
                requirement=required,
                kinds=BOTH,
                width=11,
                quarter=q,
                group=group,
                help=help_text.format(q=ROMAN[q]),
            )
        )
    return out


FIELDS: tuple[Field, ...] = (
    Field(
        name="kode",
        header="Kode RA",
        type="code",
        requirement="always",
        kinds=BOTH,
        synonyms=("Kode", "Kode Rencana Aksi", "No. RA", "Kode Renaksi", "ID RA"),
        width=9,
        help="Kode unik rencana aksi, misalnya U-01 (RB Umum) atau T-01 (RB Tematik).",
    ),
    Field(
        name="sasaran",
        header="Sasaran RB",
        type="choice",
        requirement="always",
        kinds=UMUM,
        choices="sasaran",
        synonyms=("Sasaran", "Sasaran Reformasi Birokrasi", "Sasaran RB Umum"),
        width=30,
        help="Pilih salah satu Sasaran RB dari daftar.",
    ),
    Field(
        name="tema",
        header="Tema",
        type="choice",
        requirement="always",
        kinds=TEMATIK,
        choices="tema",
        synonyms=("Tema RB", "Tema RB Tematik", "Tematik", "Isu Tematik"),
        width=30,
        help="Pilih salah satu Tema RB Tematik dari daftar.",
    ),
    Field(
        name="permasalahan",
        header="Permasalahan",
        type="text",
        requirement="always",
        kinds=TEMATIK,
        synonyms=("Masalah", "Permasalahan Utama", "Isu/Permasalahan"),
        width=32,
        help="Permasalahan yang hendak diselesaikan oleh rencana aksi ini.",
    ),
    Field(
        name="indikator",
        header="Indikator",
        type="text",
        requirement="always",
        kinds=BOTH,
        synonyms=(
            "Indikator Kinerja",
            "Indikator Keberhasilan",
            "Indikator Output",
            "Indikator Rencana Aksi",
        ),
        width=32,
        help="Ukuran keberhasilan rencana aksi.",
    ),
    Field(
        name="rencana_aksi",
        header="Rencana Aksi",
        type="text",
        requirement="always",
        kinds=BOTH,
        synonyms=(
            "Renaksi",
            "Rencana Kegiatan",
            "Uraian Rencana Aksi",
            "Kegiatan",
            "Rencana Aksi/Kegiatan",
            "Uraian Kegiatan",
        ),
        width=38,
        help="Uraian kegiatan yang akan dilakukan.",
    ),
    Field(
        name="output",
        header="Output",
        type="text",
        requirement="always",
        kinds=BOTH,
        synonyms=(
            "Keluaran",
            "Output Kegiatan",
            "Output/Keluaran",
            "Keluaran/Output",
            "Hasil/Output",
        ),
        width=26,
        help="Hasil nyata rencana aksi (dokumen, aplikasi, layanan, ...).",
    ),
    Field(
        name="satuan",
        header="Satuan",
        type="choice",
        requirement="always",
        kinds=BOTH,
        choices="satuan",
        synonyms=("Satuan Output", "Sat.", "Sat", "Satuan Target"),
        width=12,
        help="Satuan ukuran output; pilih dari daftar.",
    ),
    *_quarterly(
        "target",
        "Target",
        "Target (Kumulatif)",
        "Target kumulatif sampai akhir Triwulan {q}; angka >= 0.",
        required="always",
    ),
    *_quarterly(
        "realisasi",
        "Realisasi",
        "Realisasi (Kumulatif)",
        "Realisasi kumulatif sampai akhir Triwulan {q}; angka >= 0.",
        required="closed_quarter",
    ),
    Field(
        name="anggaran",
        header="Anggaran (Rp)",
        type="number",
        requirement="optional",
        kinds=BOTH,
        synonyms=(
            "Anggaran",
            "Pagu",
            "Pagu Anggaran",
            "Pagu (Rp)",
            "Alokasi Anggaran",
            "Jumlah Anggaran",
        ),
        width=17,
        group="Anggaran",
        help="Pagu anggaran rencana aksi dalam Rupiah (tanpa titik pemisah pun boleh).",
    ),
    Field(
        name="realisasi_anggaran",
        header="Realisasi Anggaran (Rp)",
        type="number",
        requirement="optional",
        kinds=BOTH,
        synonyms=("Realisasi Anggaran", "Realisasi Pagu", "Serapan Anggaran", "Realisasi Keuangan"),
        width=17,
        group="Anggaran",
        help="Anggaran yang sudah terserap (Rupiah); tidak boleh melebihi pagu.",
    ),
    Field(
        name="penanggung_jawab",
        header="Penanggung Jawab",
        type="text",
        requirement="always",
        kinds=BOTH,
        synonyms=(
            "Penanggungjawab",
            "PIC",
            "Pelaksana",
            "Unit Pelaksana",
            "PJ",
            "Penanggung Jawab Kegiatan",
            "Unit Penanggung Jawab",
            "Unit Kerja Penanggung Jawab",
        ),
        width=22,
        help="Jabatan atau bidang yang bertanggung jawab.",
    ),
    Field(
        name="data_dukung",
        header="Data Dukung",
        type="text",
        requirement="conditional",
        kinds=BOTH,
        synonyms=(
            "Bukti Dukung",
            "Dokumen Pendukung",
            "Link Data Dukung",
            "Bukti",
            "Eviden",
            "Data Pendukung",
            "Link Bukti Dukung",
            "Data Dukung/Bukti Dukung",
            "Evidence",
        ),
        width=30,
        help="Tautan (https://...) atau nama dokumen bukti; wajib bila ada realisasi.",
    ),
    Field(
        name="kendala",
        header="Kendala",
        type="text",
        requirement="conditional",
        kinds=BOTH,
        synonyms=("Hambatan", "Kendala/Hambatan", "Permasalahan/Kendala", "Hambatan/Kendala"),
        width=28,
        help="Wajib bila realisasi triwulan yang sudah lewat di bawah target.",
    ),
    Field(
        name="tindak_lanjut",
        header="Tindak Lanjut",
        type="text",
        requirement="conditional",
        kinds=BOTH,
        synonyms=("Rencana Tindak Lanjut", "Solusi", "Upaya", "RTL", "Tindak Lanjut/Solusi"),
        width=28,
        help="Wajib bila kendala diisi.",
    ),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

TARGET_FIELDS = tuple(f"target_tw{q}" for q in QUARTERS)
REALISASI_FIELDS = tuple(f"realisasi_tw{q}" for q in QUARTERS)
BUDGET_FIELDS = ("anggaran", "realisasi_anggaran")
NUMBER_FIELDS = tuple(f.name for f in FIELDS if f.is_number)
TEXT_FIELDS = tuple(f.name for f in FIELDS if not f.is_number)


@dataclass(frozen=True, kw_only=True)
class SheetKind:
    """One of the two action-plan sheets."""

    kind: Kind
    name: str  # sheet name as printed ("RB Umum")
    code_prefix: str  # "U" / "T": Kode RA looks like U-01
    title: str  # long title printed above the header
    name_synonyms: tuple[str, ...] = ()  # normalised sheet-name forms also accepted
    fields: tuple[Field, ...] = field(default=())

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(f.header for f in self.fields)

    def column_letter(self, field_name: str) -> str:
        """Excel column letter of a field in the template layout (A = first field)."""
        return column_letter(self.field_names.index(field_name) + 1)


def _fields_of(kind: str) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if kind in f.kinds)


SHEETS: dict[str, SheetKind] = {
    "umum": SheetKind(
        kind="umum",
        name="RB Umum",
        code_prefix="U",
        title="RENCANA AKSI REFORMASI BIROKRASI UMUM",
        name_synonyms=(
            "rb umum",
            "umum",
            "rb general",
            "renaksi rb umum",
            "rencana aksi rb umum",
            "renaksi umum",
            "ra umum",
            "rencana aksi umum",
        ),
        fields=_fields_of("umum"),
    ),
    "tematik": SheetKind(
        kind="tematik",
        name="RB Tematik",
        code_prefix="T",
        title="RENCANA AKSI REFORMASI BIROKRASI TEMATIK",
        name_synonyms=(
            "rb tematik",
            "tematik",
            "renaksi rb tematik",
            "rencana aksi rb tematik",
            "renaksi tematik",
            "ra tematik",
            "rencana aksi tematik",
        ),
        fields=_fields_of("tematik"),
    ),
}
KINDS: tuple[str, ...] = ("umum", "tematik")
SHEET_BY_NAME: dict[str, SheetKind] = {s.name: s for s in SHEETS.values()}

# Template layout of the action-plan sheets (1-based Excel rows).
TEMPLATE_TITLE_ROW = 1  # sheet title
TEMPLATE_UNIT_ROW = 2  # "Unit: ... | Periode: ..."
TEMPLATE_HEADER_ROW = 4  # one header row holding Field.header
TEMPLATE_FIRST_DATA_ROW = 5
TEMPLATE_DATA_ROWS = 60  # rows prepared with validations (units may insert more)

# Identitas sheet: label in column A, value in column B, from row 3 on.
IDENTITAS_FIELDS: tuple[tuple[str, str], ...] = (
    ("kode_unit", "Kode Unit"),
    ("nama_unit", "Nama Unit"),
    ("periode", "Periode (YYYY-MM)"),
    ("tanggal_pengisian", "Tanggal Pengisian"),
    ("nama_pengisi", "Nama Pengisi"),
    ("versi_template", "Versi Template"),
)
IDENTITAS_FIRST_ROW = 3

# Extra columns of the consolidated RB Umum / RB Tematik sheets (architecture contract).
CONSOLIDATED_PREFIX_HEADERS = ("Kode Unit", "Nama Unit")
CONSOLIDATED_SUFFIX_HEADERS = ("Berkas", "Baris Asal")

# Words that mark a subtotal row rather than an action plan.
SUBTOTAL_WORDS: tuple[str, ...] = (
    "jumlah",
    "sub total",
    "subtotal",
    "total",
    "jumlah total",
    "grand total",
)
# More summary-row labels seen in submissions (normalised spelling, see normalize_text).
SUBTOTAL_WORDS += ("jml", "total keseluruhan", "jumlah keseluruhan", "rata rata", "sub jumlah")


# --------------------------------------------------------------------------------------------
# Header normalisation and matching
# --------------------------------------------------------------------------------------------

_ROMAN_TO_INT = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# Filler words dropped before matching: they decorate headers but never decide a field.
_FILLER = {"kumulatif", "rp", "rupiah", "tahun", "th", "thn", "s d", "sd", "dalam"}
# More decoration seen in units' own layouts ("Target Kinerja", "Realisasi Fisik", "s.d.").
_FILLER |= {"kinerja", "fisik", "sampai", "dengan"}
_QUARTER_RE = re.compile(r"\b(?:tw|triwulan|trw|q|kuartal)\s*(iv|iii|ii|i|[1-4])\b")


def normalize_text(value: object) -> str:
    """Lower-case, accent-free, single-spaced text with punctuation turned into spaces."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    text = text.lower().replace("\u00a0", " ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def normalize_header(value: object) -> str:
    """Canonical spelling of a header cell for matching.

    ``Target Tw.1``, ``TARGET TW-I``, ``Target Triwulan I`` and ``target tw 1`` all become
    ``target tw1``; ``Real. TW I`` becomes ``realisasi tw1``; filler words such as
    ``(Kumulatif)`` and ``(Rp)`` are dropped. Years (``2025``) are dropped too.
    """
    text = normalize_text(value)
    text = _QUARTER_RE.sub(lambda m: f"tw{_ROMAN_TO_INT[m.group(1)]}", text)
    text = re.sub(r"\bs d\b", "sd", text)
    words: list[str] = []
    for word in text.split():
        if word in _FILLER or re.fullmatch(r"(19|20)\d\d", word):
            continue
        if word in ("real", "realisai", "realiasi", "capaian"):
            word = "realisasi"
        if word in ("trgt", "tgt"):
            word = "target"
        # A parent "CAPAIAN/REALISASI" above "Realisasi TW I" must not say it twice.
        if not words or words[-1] != word:
            words.append(word)
    return " ".join(words)


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for f in FIELDS:
        spellings = [f.header, *f.synonyms]
        if f.quarter is not None:
            base = "target" if f.name.startswith("target") else "realisasi"
            spellings += [f"{base} tw {f.quarter}", f"{base} tw{f.quarter}"]
        for spelling in spellings:
            key = normalize_header(spelling)
            if key in index and index[key] != f.name:
                raise ValueError(f"header spelling {spelling!r} maps to two fields")
            index[key] = f.name
    return index


HEADER_INDEX: dict[str, str] = _header_index()
# What units add to a header to explain it, tried away when the whole header matches nothing:
# a bracketed note ("Target TW I (s.d. Maret)", "Data Dukung [link]"), a footnote mark
# ("Realisasi TW I *)", "Anggaran 1)"). Line breaks and "*" are spacing to normalize_header.
HEADER_NOTES = re.compile(r"\([^)]*\)?|\[[^\]]*\]?|\s\d{1,2}\s*\)|\*+\)?")


def match_header(value: object, kind: str | None = None) -> str | None:
    """Canonical field name for a header cell's text, or None when it is not a known field.

    ``kind`` restricts the result to fields carried by that sheet kind.
    """
    if value is None:
        return None
    key = normalize_header(value)
    if not key:
        return None
    name = HEADER_INDEX.get(key)
    if name is None:
        name = HEADER_INDEX.get(normalize_header(HEADER_NOTES.sub(" ", str(value))))
    if name is None:
        return None
    if kind is not None and kind not in FIELD_BY_NAME[name].kinds:
        return None
    return name


def column_letter(index: int) -> str:
    """Excel column letter of a 1-based column index (1 -> A, 27 -> AA)."""
    if index < 1:
        raise ValueError("column index is 1-based")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """1-based column index of an Excel column letter (A -> 1, AA -> 27)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def cell_ref(sheet: str | None, column: str | None, row: int | None) -> str | None:
    """``RB Tematik!H12`` (the sheet name as the unit sees it), or None when incomplete."""
    if not sheet or not column or not row:
        return None
    return f"{sheet}!{column}{int(row)}"
