"""A small but realistic monthly run (``model.RunResult``) built by hand, for publisher tests.

October 2025 (running quarter IV, closed quarter III), six registry units of Lampung Selatan:

* ``DINKES``: template layout (header row 4, data from row 5), on time, two cell errors and a
  warning; with ``hostile=True`` one of its plans carries formula-looking text.
* ``DINSOS``: a drifted layout (sheets ``RB UMUM 2025`` / ``TEMATIK``, a ``No`` column in A so
  every field sits one column right, two header rows 6-7, a column-number row 8, data from row
  9), plus an earlier draft that was superseded.
* ``DISKOMINFO``: clean, but late.
* ``INSPEKTORAT``: only the RB Tematik sheet (RB Umum missing: RB-E008), one row error.
* ``BAPPEDA``: a file for the wrong month, rejected.
* ``KEC-NATAR``: sent nothing.
* two files nobody can be identified from (``RB-E005``, ``RB-E001``).

Every unit's texts carry words only that unit uses (puskesmas, bansos, SPBE, audit), so tests
can tell whose data a workbook shows. Metrics are computed here with plain pandas following
domain.md; they are test data, not a second implementation to trust.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.deliveries import unit_deliveries
from pipeline.figures import RegencyFigures
from pipeline.metrics import compare_with_history
from pipeline.model import Metrics, RunInfo, RunResult, SheetLayout, SkippedRow, Submission
from pipeline.problems import Problem, sort_problems
from pipeline.registry import Period, Registry, load_registry

PERIOD = Period(2025, 10)
UNIT_CODES = ("DINKES", "DINSOS", "DISKOMINFO", "INSPEKTORAT", "BAPPEDA", "KEC-NATAR")
HOSTILE_TEXTS = (
    '=HYPERLINK("http://contoh.invalid","klik")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+62 812 3456",
    "-2+3",
    "\t=1+1",
)
METRIC_COLUMNS = (
    "completion_rate",
    "capaian_mean",
    "capaian_median",
    "evidence_completeness",
    "budget_absorption",
    "data_quality",
)


def registry() -> Registry:
    """The default registry's reference lists and settings, with six of its units."""
    full = load_registry()
    units = tuple(u for u in full.units if u.kode in UNIT_CODES)
    return Registry(units=units, references=full.references, settings=full.settings)


# --------------------------------------------------------------------------------------------
# Staged rows
# --------------------------------------------------------------------------------------------


def template_columns(kind: str, shift: int = 0) -> dict[str, str]:
    """Field -> column letter of the template layout, moved ``shift`` columns right."""
    names = schema.SHEETS[kind].field_names
    return {name: schema.column_letter(i + 1 + shift) for i, name in enumerate(names)}


def plan(
    *, unit: str, file: str, sheet: str, kind: str, row: int, columns: dict[str, str], **values
) -> dict:
    """One staged row (docs/contracts.md): provenance, ``_col_<field>`` for every field,
    the values, and ``_raw_<number field>`` (given as ``raw_<field>=...``)."""
    out: dict = {"_unit": unit, "_file": file, "_sheet": sheet, "_kind": kind, "_row": row}
    for f in schema.FIELDS:
        out[f"_col_{f.name}"] = columns.get(f.name) if kind in f.kinds else None
    for f in schema.FIELDS:
        default = np.nan if f.is_number else None
        out[f.name] = values.get(f.name, default) if kind in f.kinds else default
    for name in schema.NUMBER_FIELDS:
        out[f"_raw_{name}"] = values.get(f"raw_{name}")
    return out


def _quarters(targets, realisasi) -> dict:
    out = {f"target_tw{q}": float(t) for q, t in zip(schema.QUARTERS, targets, strict=True)}
    for q, r in zip(schema.QUARTERS, realisasi, strict=True):
        out[f"realisasi_tw{q}"] = np.nan if r is None else float(r)
    return out


def _routine_plans(common: dict, sheet: str, columns: dict, word: str, *, start, first_code):
    """Three unremarkable, error-free RB Umum plans of a unit (``word`` marks whose they are)."""
    shapes = (
        ((1, 2, 3, 4), (1, 2, 3, 4), 10_000_000.0, 9_500_000.0),
        ((3, 6, 9, 12), (3, 6, 9, 10), 30_000_000.0, 21_000_000.0),
        ((1, 1, 2, 2), (1, 1, 1, 1), 5_000_000.0, 1_000_000.0),
    )
    sasaran = (
        "Birokrasi yang Bersih dan Akuntabel",
        "Birokrasi yang Kapabel",
        "Pelayanan Publik yang Prima",
    )
    rows = []
    for i, (targets, realisasi, pagu, serapan) in enumerate(shapes):
        behind = realisasi[2] < targets[2]
        rows.append(
            plan(
                **common,
                sheet=sheet,
                kind="umum",
                row=start + i,
                columns=columns,
                kode=f"U-{first_code + i:02d}",
                sasaran=sasaran[i],
                indikator=f"Indikator rutin {i + 1} {word}",
                rencana_aksi=f"Kegiatan rutin {i + 1} {word}",
                output=f"Keluaran {i + 1} {word}",
                satuan="Kegiatan",
                **_quarters(targets, realisasi),
                anggaran=pagu,
                realisasi_anggaran=serapan,
                penanggung_jawab=f"Subbagian Program {word}",
                data_dukung=f"Notulen kegiatan {i + 1} {word}",
                kendala=f"Jadwal narasumber {word} bergeser" if behind else None,
                tindak_lanjut=f"Penjadwalan ulang {word}" if behind else None,
            )
        )
    return rows


def _dinkes(hostile: bool) -> list[dict]:
    file, umum, tem = "DINKES_2025-10.xlsx", template_columns("umum"), template_columns("tematik")
    common = {"unit": "DINKES", "file": file}
    rows = [
        plan(
            **common,
            sheet="RB Umum",
            kind="umum",
            row=5,
            columns=umum,
            kode="U-01",
            sasaran="Birokrasi yang Bersih dan Akuntabel",
            indikator="Persentase puskesmas dengan SOP pelayanan terbaru",
            rencana_aksi="Penyusunan SOP pelayanan puskesmas",
            output="SOP puskesmas",
            satuan="Dokumen",
            **_quarters((2, 4, 6, 8), (2, 4, 6, 7)),
            anggaran=25_000_000.0,
            realisasi_anggaran=18_500_000.0,
            penanggung_jawab="Kepala Bidang Yankes Puskesmas",
            data_dukung="https://drive.dinkes.example.go.id/sop-puskesmas.pdf",
        ),
        plan(
            **common,
            sheet="RB Umum",
            kind="umum",
            row=6,
            columns=umum,
            kode="U-02",
            sasaran="Pelayanan Publik yang Prima",
            indikator="Indeks kepuasan pasien puskesmas rawat inap",
            rencana_aksi="Survei kepuasan pasien puskesmas",
            output="Laporan survei puskesmas",
            satuan="Persen",
            **_quarters((25, 50, 75, 120), (20, 45, 70, None)),
            anggaran=40_000_000.0,
            realisasi_anggaran=12_000_000.0,
            penanggung_jawab="Seksi Mutu Puskesmas",
            data_dukung="Laporan survei kepuasan puskesmas triwulan III",
            kendala="Responden puskesmas terpencil sulit dijangkau",
            tindak_lanjut="Survei daring lewat kader puskesmas",
        ),
        plan(
            **common,
            sheet="RB Umum",
            kind="umum",
            row=7,
            columns=umum,
            kode="U-03",
            sasaran="Birokrasi yang Kapabel",
            indikator=HOSTILE_TEXTS[5] if hostile else "Jumlah tenaga puskesmas terlatih",
            rencana_aksi=HOSTILE_TEXTS[0] if hostile else "Pelatihan tenaga puskesmas",
            output=HOSTILE_TEXTS[4] if hostile else "Tenaga puskesmas terlatih",
            satuan="Orang",
            **_quarters((10, 20, 30, 40), (12, 22, 35, 41)),
            anggaran=60_000_000.0,
            realisasi_anggaran=np.nan,
            raw_realisasi_anggaran="=SUM(A1:A9)" if hostile else "enam puluh juta",
            penanggung_jawab=HOSTILE_TEXTS[3] if hostile else "Subbag Umum Puskesmas",
            data_dukung="https://drive.dinkes.example.go.id/daftar-hadir-puskesmas.xlsx",
            kendala=HOSTILE_TEXTS[1] if hostile else None,
            tindak_lanjut=HOSTILE_TEXTS[2] if hostile else None,
        ),
        plan(
            **common,
            sheet="RB Tematik",
            kind="tematik",
            row=5,
            columns=tem,
            kode="T-01",
            tema="Pengentasan Kemiskinan",
            permasalahan="Balita stunting di desa miskin wilayah puskesmas",
            indikator="Balita stunting yang ditangani puskesmas",
            rencana_aksi="Pemberian makanan tambahan lewat posyandu puskesmas",
            output="Balita puskesmas tertangani",
            satuan="Orang",
            **_quarters((50, 100, 100, 200), (60, 120, 200, None)),
            anggaran=150_000_000.0,
            realisasi_anggaran=90_000_000.0,
            penanggung_jawab="Bidang Kesmas Puskesmas",
            data_dukung="https://drive.dinkes.example.go.id/pmt-puskesmas",
        ),
        *_routine_plans(common, "RB Umum", umum, "puskesmas", start=8, first_code=4),
        plan(
            **common,
            sheet="RB Tematik",
            kind="tematik",
            row=6,
            columns=tem,
            kode="T-02",
            tema="Digitalisasi Administrasi Pemerintahan",
            permasalahan="Rekam medis puskesmas masih kertas",
            indikator="Puskesmas yang memakai rekam medis elektronik",
            rencana_aksi="Penerapan rekam medis elektronik puskesmas",
            output="Aplikasi RME puskesmas",
            satuan="Aplikasi",
            **_quarters((0, 1, 1, 1), (0, 1, 1, 1)),
            anggaran=0.0,
            realisasi_anggaran=0.0,
            penanggung_jawab="Seksi SIK Puskesmas",
            data_dukung="https://rme.dinkes.example.go.id/" + "x" * 2100,
        ),
    ]
    return rows


DINSOS_FILE = "Renaksi RB Dinsos Okt 2025.xlsx"
DINSOS_SHEETS = {"umum": "RB UMUM 2025", "tematik": "TEMATIK"}


def _dinsos() -> list[dict]:
    umum, tem = template_columns("umum", shift=1), template_columns("tematik", shift=1)
    common = {"unit": "DINSOS", "file": DINSOS_FILE}
    return [
        plan(
            **common,
            sheet=DINSOS_SHEETS["umum"],
            kind="umum",
            row=9,
            columns=umum,
            kode="U-01",
            sasaran="Pelayanan Publik yang Prima",
            indikator="Waktu layanan rekomendasi bansos",
            rencana_aksi="Layanan rekomendasi bansos satu hari",
            output="Rekomendasi bansos terbit",
            satuan="Persen",
            **_quarters((60, 70, 80, 90), (55, 68, 80, 84)),
            anggaran=35_500_000.0,
            realisasi_anggaran=30_000_000.0,
            penanggung_jawab="Bidang Linjamsos Bansos",
            data_dukung=None,
            kendala="Server DTKS bansos sering putus",
            tindak_lanjut="Koordinasi jaringan bansos dengan pusat",
        ),
        plan(
            **common,
            sheet=DINSOS_SHEETS["umum"],
            kind="umum",
            row=10,
            columns=umum,
            kode="U-02",
            sasaran="Birokrasi yang Bersih dan Akuntabel",
            indikator="Pengaduan bansos yang ditindaklanjuti",
            rencana_aksi="Kanal pengaduan bansos terpadu",
            output="Kanal pengaduan bansos",
            satuan="Kegiatan",
            **_quarters((1, 2, 3, 4), (1, None, 3, 3)),
            raw_realisasi_tw2="dua",
            anggaran=np.nan,
            realisasi_anggaran=np.nan,
            penanggung_jawab="Sekretariat Dinsos Bansos",
            data_dukung="Notulen rapat bansos",
        ),
        plan(
            **common,
            sheet=DINSOS_SHEETS["tematik"],
            kind="tematik",
            row=9,
            columns=tem,
            kode="T-01",
            tema="Pengentasan Kemiskinan",
            permasalahan="Data penerima bansos belum padan NIK",
            indikator="Penerima bansos padan NIK",
            rencana_aksi="Verifikasi data penerima bansos",
            output="Data bansos terverifikasi",
            satuan="Persen",
            **_quarters((25, 50, 75, 100), (30, 60, 100, 100)),
            anggaran=80_000_000.0,
            realisasi_anggaran=80_000_000.0,
            penanggung_jawab="Bidang Dayasos Bansos",
            data_dukung="https://bansos.dinsos.example.go.id/verifikasi",
        ),
    ]


def _diskominfo() -> list[dict]:
    file, umum = "DISKOMINFO_2025-10.xlsx", template_columns("umum")
    tem = template_columns("tematik")
    common = {"unit": "DISKOMINFO", "file": file}
    return [
        plan(
            **common,
            sheet="RB Umum",
            kind="umum",
            row=5,
            columns=umum,
            kode="U-01",
            sasaran="Birokrasi yang Kapabel",
            indikator="Indeks SPBE kabupaten",
            rencana_aksi="Penilaian mandiri SPBE",
            output="Dokumen evaluasi SPBE",
            satuan="Indeks",
            **_quarters((2.5, 2.8, 3.0, 3.2), (2.6, 2.9, 3.1, 3.25)),
            anggaran=55_000_000.0,
            realisasi_anggaran=41_250_000.0,
            penanggung_jawab="Bidang Aptika SPBE",
            data_dukung="https://spbe.kominfo.example.go.id/evaluasi",
        ),
        plan(
            **common,
            sheet="RB Tematik",
            kind="tematik",
            row=5,
            columns=tem,
            kode="T-01",
            tema="Peningkatan Investasi",
            permasalahan="Informasi peluang investasi belum terpusat di portal SPBE",
            indikator="Portal investasi SPBE aktif",
            rencana_aksi="Pembangunan portal investasi SPBE",
            output="Portal investasi SPBE",
            satuan="Aplikasi",
            **_quarters((0, 0, 1, 1), (0, 0, 0, 0)),
            anggaran=120_000_000.0,
            realisasi_anggaran=20_000_000.0,
            penanggung_jawab="Bidang Aptika Portal SPBE",
            kendala="Pengadaan server SPBE tertunda",
            tindak_lanjut="Memakai pusat data SPBE provinsi",
        ),
        *_routine_plans(common, "RB Umum", umum, "SPBE", start=6, first_code=2),
    ]


def _inspektorat() -> list[dict]:
    file, tem = "INSPEKTORAT_2025-10.xlsx", template_columns("tematik")
    common = {"unit": "INSPEKTORAT", "file": file}
    return [
        plan(
            **common,
            sheet="RB Tematik",
            kind="tematik",
            row=5,
            columns=tem,
            kode="T-01",
            tema="Pengendalian Inflasi",
            permasalahan="Audit harga pangan pasar belum rutin",
            indikator="Audit harga pangan pasar",
            rencana_aksi="Audit rutin harga pangan pasar",
            output="Laporan audit harga pasar",
            satuan="Laporan",
            **_quarters((1, 2, 3, 4), (1, 2, 2, 3)),
            anggaran=15_000_000.0,
            realisasi_anggaran=9_000_000.0,
            penanggung_jawab="Irban Audit Pasar",
            data_dukung="Laporan audit pasar triwulan III",
        ),
    ]


# --------------------------------------------------------------------------------------------
# Problems and submissions
# --------------------------------------------------------------------------------------------


def problem(code: str, message: str, hint: str, **where) -> Problem:
    """A Problem whose severity follows its code (``RB-E`` error, ``RB-W`` warning)."""
    severity = "error" if code.startswith("RB-E") else "warning"
    return Problem(code=code, severity=severity, message=message, hint=hint, **where)


def _cell_problems(hostile: bool) -> list[Problem]:
    umum, tem = template_columns("umum"), template_columns("tematik")
    dumum, dtem = template_columns("umum", 1), template_columns("tematik", 1)
    dk = {"unit": "DINKES", "file": "DINKES_2025-10.xlsx"}
    ds = {"unit": "DINSOS", "file": DINSOS_FILE}
    return [
        problem(
            "RB-E105",
            "Satuan Persen tetapi Target TW IV lebih dari 100.",
            "Untuk satuan Persen, isi target paling besar 100.",
            **dk,
            sheet="RB Umum",
            row=6,
            column=umum["target_tw4"],
            field="target_tw4",
            value="120",
        ),
        problem(
            "RB-E103",
            "Realisasi Anggaran (Rp) berisi teks, bukan angka.",
            "Ketik angka saja, misalnya 60000000 atau 60.000.000.",
            **dk,
            sheet="RB Umum",
            row=7,
            column=umum["realisasi_anggaran"],
            field="realisasi_anggaran",
            value="=SUM(A1:A9)" if hostile else "enam puluh juta",
        ),
        problem(
            "RB-W101",
            "Realisasi TW III jauh di atas target (200 dari target 100).",
            "Periksa kembali angkanya; bila memang benar, biarkan.",
            **dk,
            sheet="RB Tematik",
            row=5,
            column=tem["realisasi_tw3"],
            field="realisasi_tw3",
            value="200",
        ),
        problem(
            "RB-W010",
            "Kolom 'No' tidak dikenal dan tidak direkap.",
            "Kolom tambahan boleh ada; isinya tidak ikut direkap.",
            **ds,
            sheet=DINSOS_SHEETS["umum"],
            row=7,
            column="A",
            value="No",
        ),
        problem(
            "RB-E111",
            "Ada realisasi tetapi Data Dukung kosong.",
            "Isi tautan atau nama dokumen bukti kegiatan bansos.",
            **ds,
            sheet=DINSOS_SHEETS["umum"],
            row=9,
            column=dumum["data_dukung"],
            field="data_dukung",
        ),
        problem(
            "RB-E103",
            "Realisasi TW II berisi teks, bukan angka.",
            "Ketik angka saja, misalnya 2.",
            **ds,
            sheet=DINSOS_SHEETS["umum"],
            row=10,
            column=dumum["realisasi_tw2"],
            field="realisasi_tw2",
            value="dua",
        ),
        problem(
            "RB-W101",
            "Realisasi TW III jauh di atas target (100 dari target 75).",
            "Periksa kembali angkanya; bila memang benar, biarkan.",
            **ds,
            sheet=DINSOS_SHEETS["tematik"],
            row=9,
            column=dtem["realisasi_tw3"],
            field="realisasi_tw3",
            value="100",
        ),
        problem(
            "RB-E112",
            "Realisasi TW III di bawah target tetapi Kendala kosong.",
            "Tuliskan kendala audit yang menyebabkan realisasi di bawah target.",
            unit="INSPEKTORAT",
            file="INSPEKTORAT_2025-10.xlsx",
            sheet="RB Tematik",
            row=5,
            column=tem["kendala"],
            field="kendala",
        ),
    ]


def _file_problem(code: str, message: str, hint: str, **where) -> Problem:
    return problem(code, message, hint, **where)


def _sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _submission(name: str, *, modified: dt.datetime, **kwargs) -> Submission:
    return Submission(
        path=Path("inputs") / str(PERIOD) / name,
        name=name,
        sha256=_sha(name),
        size=18_000 + len(name) * 100,
        modified=modified,
        **kwargs,
    )


def _layout(kind: str, sheet: str, *, shift: int = 0, header_rows=(4,), first=5, unknown=()):
    return SheetLayout(
        kind=kind,
        sheet=sheet,
        header_rows=header_rows,
        first_data_row=first,
        columns=template_columns(kind, shift),
        unknown_columns=unknown,
    )


def submissions(rows: pd.DataFrame) -> list[Submission]:
    """The month's files with their fates, file-level problems, layouts and row counts."""

    def counts(name: str) -> dict:
        n = int((rows["_file"] == name).sum())
        return {"rows_read": n, "rows_consolidated": n}

    superseded = _file_problem(
        "RB-W001",
        "Berkas ini digantikan oleh kiriman yang lebih baru.",
        "Kirim satu berkas saja per bulan.",
        unit="DINSOS",
        file="DINSOS_2025-10_draft.xlsx",
    )
    missing_sheet = _file_problem(
        "RB-E008",
        "Lembar RB Umum tidak ditemukan di berkas.",
        "Gunakan templat resmi dan jangan menghapus lembar RB Umum.",
        unit="INSPEKTORAT",
        file="INSPEKTORAT_2025-10.xlsx",
        sheet="RB Umum",
    )
    wrong_month = _file_problem(
        "RB-E006",
        "Berkas ini berisi laporan periode September 2025, bukan Oktober 2025.",
        "Kirim laporan Oktober 2025 dengan Periode 2025-10 pada lembar Identitas.",
        unit="BAPPEDA",
        file="BAPPEDA_2025-09.xlsx",
    )
    unknown_unit = _file_problem(
        "RB-E005",
        "Unit kerja tidak dapat dikenali dari lembar Identitas maupun nama berkas.",
        "Isi Kode Unit pada lembar Identitas sesuai daftar unit kerja.",
        file="laporan rb (final).xlsx",
    )
    not_workbook = _file_problem(
        "RB-E001",
        "Berkas ini bukan lembar kerja (isinya dokumen PDF).",
        "Kirim ulang laporan dalam templat Excel (.xlsx).",
        file="scan_undangan.xlsx",
    )
    dinsos_skipped = [
        SkippedRow(sheet=DINSOS_SHEETS["umum"], row=8, reason="baris nomor kolom"),
        SkippedRow(sheet=DINSOS_SHEETS["umum"], row=11, reason="baris subtotal (JUMLAH)"),
    ]
    return [
        _submission(
            "DINKES_2025-10.xlsx",
            modified=dt.datetime(2025, 11, 3, 9, 15),
            format="xlsx",
            producer="Microsoft Excel",
            unit="DINKES",
            period="2025-10",
            identified_by={"unit": "metadata", "period": "metadata"},
            layouts=[_layout("umum", "RB Umum"), _layout("tematik", "RB Tematik")],
            **counts("DINKES_2025-10.xlsx"),
        ),
        _submission(
            "DINSOS_2025-10_draft.xlsx",
            modified=dt.datetime(2025, 11, 1, 16, 0),
            format="xlsx",
            unit="DINSOS",
            period="2025-10",
            status="superseded",
            problems=[superseded],
        ),
        _submission(
            DINSOS_FILE,
            modified=dt.datetime(2025, 11, 4, 10, 30),
            format="xlsx",
            producer="WPS Office",
            unit="DINSOS",
            period="2025-10",
            identified_by={"unit": "identitas", "period": "identitas"},
            layouts=[
                _layout(
                    "umum",
                    DINSOS_SHEETS["umum"],
                    shift=1,
                    header_rows=(6, 7),
                    first=9,
                    unknown=(("A", "No"),),
                ),
                _layout(
                    "tematik",
                    DINSOS_SHEETS["tematik"],
                    shift=1,
                    header_rows=(6, 7),
                    first=9,
                    unknown=(("A", "No"),),
                ),
            ],
            rows_read=int((rows["_file"] == DINSOS_FILE).sum()) + len(dinsos_skipped),
            rows_consolidated=int((rows["_file"] == DINSOS_FILE).sum()),
            skipped=dinsos_skipped,
        ),
        _submission(
            "DISKOMINFO_2025-10.xlsx",
            modified=dt.datetime(2025, 11, 7, 13, 45),
            format="xlsx",
            producer="LibreOffice/7.6",
            unit="DISKOMINFO",
            period="2025-10",
            layouts=[_layout("umum", "RB Umum"), _layout("tematik", "RB Tematik")],
            **counts("DISKOMINFO_2025-10.xlsx"),
        ),
        _submission(
            "INSPEKTORAT_2025-10.xlsx",
            modified=dt.datetime(2025, 11, 5, 23, 10),
            format="xlsx",
            unit="INSPEKTORAT",
            period="2025-10",
            layouts=[_layout("tematik", "RB Tematik")],
            problems=[missing_sheet],
            **counts("INSPEKTORAT_2025-10.xlsx"),
        ),
        _submission(
            "BAPPEDA_2025-09.xlsx",
            modified=dt.datetime(2025, 10, 2, 8, 0),
            format="xlsx",
            unit="BAPPEDA",
            period="2025-09",
            status="rejected",
            problems=[wrong_month],
        ),
        _submission(
            "laporan rb (final).xlsx",
            modified=dt.datetime(2025, 11, 2, 11, 0),
            format="xlsx",
            status="rejected",
            problems=[unknown_unit],
        ),
        _submission(
            "scan_undangan.xlsx",
            modified=dt.datetime(2025, 11, 2, 11, 5),
            status="rejected",
            problems=[not_workbook],
        ),
    ]


# --------------------------------------------------------------------------------------------
# Metrics (plain pandas, following domain.md)
# --------------------------------------------------------------------------------------------


def _plans(rows: pd.DataFrame, problems: list[Problem], period: Period) -> pd.DataFrame:
    q, c = period.running_quarter, period.closed_quarter
    errors: dict[tuple, int] = {}
    warnings: dict[tuple, int] = {}
    for p in problems:
        if p.row is None:
            continue
        key = (p.unit, p.file, p.sheet, p.row)
        bucket = errors if p.is_error else warnings
        bucket[key] = bucket.get(key, 0) + 1
    keys = list(zip(rows["_unit"], rows["_file"], rows["_sheet"], rows["_row"], strict=True))
    plans = rows.copy()
    plans["_errors"] = [errors.get(k, 0) for k in keys]
    plans["_warnings"] = [warnings.get(k, 0) for k in keys]
    excluded = plans["_errors"] > 0
    for name in ("_excl_capaian", "_excl_status", "_excl_bukti", "_excl_anggaran"):
        plans[name] = excluded
    realisasi = plans[[f"realisasi_tw{k}" for k in range(1, q + 1)]]
    plans["realisasi_terakhir"] = realisasi.ffill(axis=1).iloc[:, -1]
    target_q = plans[f"target_tw{q}"].where(plans[f"target_tw{q}"] > 0)
    plans["capaian_pct"] = (plans[f"realisasi_tw{q}"] / target_q * 100).where(~excluded)
    plans["capaian_tahunan_pct"] = (plans["realisasi_terakhir"] / plans["target_tw4"] * 100).where(
        ~excluded
    )
    status = []
    for _, r in plans.iterrows():
        if r["_errors"]:
            status.append(None)
        elif r["realisasi_terakhir"] >= r["target_tw4"]:
            status.append("Selesai")
        elif c and pd.isna(r[f"realisasi_tw{c}"]):
            status.append("Belum Dilaporkan")
        elif not c or r[f"realisasi_tw{c}"] >= r[f"target_tw{c}"]:
            status.append("Sesuai Target")
        else:
            status.append("Terlambat")
    plans["status"] = pd.Series(status, index=plans.index, dtype=object)
    return plans


def _figures(plans: pd.DataFrame) -> dict:
    """The six metrics and the excluded counts of a set of plans."""
    counted = plans[plans["status"].notna()]
    done = counted["status"].isin(["Selesai", "Sesuai Target"])
    capaian = plans["capaian_pct"].dropna()
    realised = plans[plans[list(schema.REALISASI_FIELDS)].fillna(0).gt(0).any(axis=1)]
    realised_ok = realised[~realised["_excl_bukti"]]
    budget = plans[(plans["anggaran"] > 0) & ~plans["_excl_anggaran"]]
    excluded = int(plans["_excl_status"].sum())
    return {
        "completion_rate": float(done.mean()) if len(counted) else np.nan,
        "capaian_mean": float(capaian.mean()) if len(capaian) else np.nan,
        "capaian_median": float(capaian.median()) if len(capaian) else np.nan,
        "evidence_completeness": (
            float(realised_ok["data_dukung"].notna().mean()) if len(realised_ok) else np.nan
        ),
        "budget_absorption": (
            float(budget["realisasi_anggaran"].fillna(0).sum() / budget["anggaran"].sum())
            if len(budget)
            else np.nan
        ),
        "data_quality": float((plans["_errors"] == 0).mean()) if len(plans) else np.nan,
        "completion_excluded": excluded,
        "capaian_excluded": int(plans["_excl_capaian"].sum()),
        "evidence_excluded": int(realised["_excl_bukti"].sum()),
        "budget_excluded": int(plans["_excl_anggaran"].sum()),
    }


def _units(plans, problems, subs, reg: Registry, period: Period) -> pd.DataFrame:
    # On time as production decides it (the first file of the unit, the deadline day's end).
    deliveries = unit_deliveries(subs, period=period, registry=reg)
    accepted = {s.unit: s for s in subs if s.accepted and s.unit}
    records = []
    for unit in reg.units:
        mine = plans[plans["_unit"] == unit.kode]
        sub = accepted.get(unit.kode)
        received = (sub.received or sub.modified) if sub else None
        mine_problems = [p for p in problems if p.unit == unit.kode]
        record = {
            "kode": unit.kode,
            "nama": unit.nama,
            "jenis": unit.jenis,
            "submitted": sub is not None,
            "on_time": deliveries[unit.kode].on_time if sub else None,
            "file": sub.name if sub else None,
            "received": received,
            "rows": len(mine),
            "errors": sum(p.is_error for p in mine_problems),
            "warnings": sum(not p.is_error for p in mine_problems),
            "rows_with_errors": int((mine["_errors"] > 0).sum()),
            "n_selesai": int((mine["status"] == "Selesai").sum()),
            "n_sesuai": int((mine["status"] == "Sesuai Target").sum()),
            "n_terlambat": int((mine["status"] == "Terlambat").sum()),
            "n_belum": int((mine["status"] == "Belum Dilaporkan").sum()),
            "anggaran_total": float(mine["anggaran"].sum()),
            "realisasi_anggaran_total": float(mine["realisasi_anggaran"].sum()),
        }
        figures = _figures(mine) if sub else {m: np.nan for m in METRIC_COLUMNS}
        record.update({k: v for k, v in figures.items()})
        records.append(record)
    units = pd.DataFrame.from_records(records)
    ranked = units[units["submitted"]].sort_values(
        ["completion_rate", "capaian_mean", "kode"], ascending=[False, False, True]
    )
    units["rank"] = pd.Series(range(1, len(ranked) + 1), index=ranked.index, dtype="Int64")
    return units


def _groups(plans: pd.DataFrame, reg: Registry) -> pd.DataFrame:
    records = []
    for kind, field, listname in (("umum", "sasaran", "sasaran"), ("tematik", "tema", "tema")):
        for group in reg.reference(listname):
            mine = plans[(plans["_kind"] == kind) & (plans[field] == group)]
            record = {
                "kind": kind,
                "group": group,
                "plans": len(mine),
                "units": int(mine["_unit"].nunique()),
            }
            record.update(_figures(mine) if len(mine) else {m: np.nan for m in METRIC_COLUMNS})
            records.append(record)
    return pd.DataFrame.from_records(records)


def _regency(plans, units: pd.DataFrame, problems: list[Problem], subs) -> RegencyFigures:
    figures = _figures(plans)
    submitted = units["submitted"]
    on_time = int((units["on_time"] == True).sum())  # noqa: E712 - object column
    senders = {s.unit for s in subs if s.unit}
    rejected = int(
        sum(1 for k, s in zip(units["kode"], submitted, strict=True) if not s and k in senders)
    )
    budget = plans[(plans["anggaran"] > 0) & ~plans["_excl_anggaran"]]
    realised = plans[plans[list(schema.REALISASI_FIELDS)].fillna(0).gt(0).any(axis=1)]
    statuses = plans["status"]
    reasons: dict[str, list[int]] = {}
    for s in subs:
        for skip in s.skipped:
            reasons.setdefault(skip.reason, [0, 0])[0] += 1
        for reason in {skip.reason for skip in s.skipped}:
            reasons[reason][1] += 1
    return RegencyFigures(
        kode="KABUPATEN",
        nama=registry().settings.nama_pemda,
        period=str(PERIOD),
        units_expected=len(units),
        units_submitted=int(submitted.sum()),
        units_on_time=on_time,
        units_late=int(submitted.sum()) - on_time,
        units_rejected=rejected,
        units_missing=len(units) - int(submitted.sum()) - rejected,
        units_ranked=int(units["rank"].notna().sum()),
        reporting_rate=float(submitted.mean()),
        on_time_rate=on_time / len(units),
        files=len(subs),
        files_accepted=sum(s.status == "accepted" for s in subs),
        files_superseded=sum(s.status == "superseded" for s in subs),
        files_rejected=sum(s.status == "rejected" for s in subs),
        files_with_problems=len({p.file for p in problems if p.file}),
        rows_read=sum(s.rows_read for s in subs),
        rows_consolidated=sum(s.rows_consolidated for s in subs),
        rows_skipped=sum(s.rows_skipped for s in subs),
        skipped_reasons=tuple(
            (r, n, k) for r, (n, k) in sorted(reasons.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ),
        plans=len(plans),
        plans_counted=int(statuses.notna().sum()),
        plans_done=int(statuses.isin(["Selesai", "Sesuai Target"]).sum()),
        plans_clean=int((plans["_errors"] == 0).sum()),
        rows_with_errors=int((plans["_errors"] > 0).sum()),
        n_selesai=int((statuses == "Selesai").sum()),
        n_sesuai=int((statuses == "Sesuai Target").sum()),
        n_terlambat=int((statuses == "Terlambat").sum()),
        n_belum=int((statuses == "Belum Dilaporkan").sum()),
        **{m: figures[m] for m in METRIC_COLUMNS},
        anggaran_total=float(budget["anggaran"].sum()),
        realisasi_anggaran_total=float(budget["realisasi_anggaran"].fillna(0).sum()),
        completion_excluded=figures["completion_excluded"],
        capaian_excluded=figures["capaian_excluded"],
        evidence_excluded=figures["evidence_excluded"],
        budget_excluded=figures["budget_excluded"],
        capaian_n=int(plans["capaian_pct"].notna().sum()),
        evidence_n=int((~realised["_excl_bukti"]).sum()),
        budget_n=len(budget),
        errors=sum(p.is_error for p in problems),
        warnings=sum(not p.is_error for p in problems),
        unit_medians={
            m: float(units.loc[submitted, m].astype(float).median()) for m in METRIC_COLUMNS
        },
    )


def _trend(units: pd.DataFrame, regency: dict, period: Period, history: bool) -> pd.DataFrame:
    """The history's view: this month, and (``history``) a slightly worse previous month in
    which KEC-NATAR still reported and DISKOMINFO did not."""
    records = []
    for _, u in units.iterrows():
        records.append(
            {
                "period": str(period),
                "kode": u["kode"],
                "submitted": bool(u["submitted"]),
                "reporting_rate": np.nan,
                "on_time_rate": np.nan,
                **{m: u[m] for m in METRIC_COLUMNS},
            }
        )
    records.append(
        {
            "period": str(period),
            "kode": "KABUPATEN",
            "submitted": True,
            **{m: regency.metric(m) for m in ("reporting_rate", "on_time_rate", *METRIC_COLUMNS)},
        }
    )
    if history:
        before = str(period.previous())
        for r in list(records):
            prev = dict(r, period=before)
            for m in ("reporting_rate", "on_time_rate", *METRIC_COLUMNS):
                if pd.notna(prev[m]):
                    prev[m] = prev[m] * 0.8
            if r["kode"] == "KEC-NATAR":
                prev.update(
                    submitted=True,
                    completion_rate=0.5,
                    capaian_mean=61.0,
                    capaian_median=60.0,
                    evidence_completeness=1.0,
                    budget_absorption=0.25,
                    data_quality=1.0,
                )
            if r["kode"] == "DISKOMINFO":
                prev.update(submitted=False, **{m: np.nan for m in METRIC_COLUMNS})
            records.append(prev)
    trend = pd.DataFrame.from_records(records)
    return trend.sort_values(["period", "kode"], kind="stable").reset_index(drop=True)


def make_run(*, hostile: bool = False, history: bool = True) -> RunResult:
    """The October 2025 run described in the module docstring.

    ``hostile``: DINKES's third plan carries formula-looking text (issue 7).
    ``history``: the trend also holds September 2025 (month-over-month deltas)."""
    reg = registry()
    rows = pd.DataFrame.from_records(_dinkes(hostile) + _dinsos() + _diskominfo() + _inspektorat())
    subs = submissions(rows)
    problems = sort_problems(_cell_problems(hostile) + [p for s in subs for p in s.problems])
    plans = _plans(rows, problems, PERIOD)
    units = _units(plans, problems, subs, reg, PERIOD)
    regency = _regency(plans, units, problems, subs)
    trend = _trend(units, regency, PERIOD, history)
    metrics = Metrics(
        plans=plans,
        units=units,
        groups=_groups(plans, reg),
        regency=regency,
        changes=pd.DataFrame(),
    )
    return RunResult(
        period=PERIOD,
        registry=reg,
        submissions=subs,
        rows=rows,
        problems=problems,
        metrics=compare_with_history(metrics, trend, PERIOD),
        trend=trend,
        started=dt.datetime(2025, 11, 6, 8, 0, 0),
        finished=dt.datetime(2025, 11, 6, 8, 0, 41),
        info=RunInfo(
            versions={
                "rbpipe": "0.1.0",
                "python": "3.11.9",
                "pandas": pd.__version__,
                "great_expectations": "1.24.1",
                "xlsxwriter": "3.3.1",
            },
            suite_versions={"rb_umum": "2025.1", "rb_tematik": "2025.1", "struktur": "2025.1"},
        ),
    )


def unit_texts(run: RunResult, kode: str | None, file: str | None = None) -> set[str]:
    """Every text a unit (or, for ``kode=None``, an unidentified ``file``) put in the run:
    its code and name, file and sheet names, text cells and raw number text, problem values."""
    texts: set[str] = set()
    if kode:
        texts |= {kode, run.registry.name_of(kode)}
    subs = [s for s in run.submissions if (s.unit == kode if kode else s.name == file)]
    names = {s.name for s in subs}
    texts |= names
    rows = run.rows[run.rows["_unit"] == kode] if kode else run.rows.iloc[0:0]
    texts |= set(rows["_sheet"].dropna())
    for col in [*schema.TEXT_FIELDS, *(f"_raw_{n}" for n in schema.NUMBER_FIELDS)]:
        texts |= {str(v) for v in rows[col].dropna()}
    for s in subs:
        for layout in s.layouts:
            texts |= {layout.sheet, *(text for _, text in layout.unknown_columns)}
    texts |= {p.value for p in run.problems if p.value and p.file in names}
    return texts


# WhatsApp numbers of some units, for the delivery tests (the others have none).
PHONES = {
    "DINKES": "6281200000001",
    "DINSOS": "6281200000002",
    "BAPPEDA": "6281200000005",
    "KEC-NATAR": "6281200000006",
}


def with_contacts(run):
    """The factory run with e-mail addresses for every unit and WhatsApp numbers for some."""
    units = tuple(
        dataclasses.replace(
            u, email=(f"{u.kode.lower()}@lampungselatankab.go.id",), telepon=PHONES.get(u.kode)
        )
        for u in run.registry.units
    )
    registry = Registry(
        units=units, references=run.registry.references, settings=run.registry.settings
    )
    out = dataclasses.replace(run, registry=registry)
    out.outputs = [f"/x/2025-10/umpan_balik/{k}_2025-10_umpan_balik.xlsx" for k in UNIT_CODES[:5]]
    return out
