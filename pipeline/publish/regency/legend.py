"""``Legenda``: the problem codes of the catalogue and the terms of the workbook."""

from __future__ import annotations

from collections import Counter

from pipeline.metrics import (
    STATUS_BELUM,
    STATUS_SELESAI,
    STATUS_SESUAI,
    STATUS_TERLAMBAT,
)
from pipeline.model import RunResult
from pipeline.problems import SEVERITY_LABEL, Problem, load_catalogue, sort_problems
from pipeline.publish.regency.common import (
    PLAN_STATUS_NOT_COUNTED,
    TABLE_TOP,
    title_block,
)
from pipeline.publish.styles import (
    Cell,
    Column,
    Sheet,
    print_setup,
    write_table,
)


def legend_rows(problems: list[Problem], *, all_codes: bool) -> list[tuple[object, ...]]:
    """Catalogue rows (code, severity, title, description, fix, count this month) for the codes
    used by ``problems`` — or every catalogue code when ``all_codes``. A code missing from the
    catalogue is described by its first problem's message and hint."""
    catalogue = load_catalogue()
    used = Counter(p.code for p in problems)
    first: dict[str, Problem] = {}
    for p in sort_problems(problems):
        first.setdefault(p.code, p)
    codes = sorted(set(catalogue) | set(used)) if all_codes else sorted(used)
    rows: list[tuple[object, ...]] = []
    for code in codes:
        rule = catalogue.get(code)
        severity = rule.severity if rule else first[code].severity
        tone = "error" if severity == "error" else "warning"
        rows.append(
            (
                code,
                Cell(value=SEVERITY_LABEL.get(severity, severity), tone=tone),
                rule.title if rule else first[code].message,
                rule.description if rule else None,
                rule.hint if rule else first[code].hint,
                used.get(code, 0),
            )
        )
    return rows


LEGEND_COLUMNS = (
    Column(header="Kode", style="bold"),
    Column(header="Tingkat"),
    Column(header="Judul", style="wrap", max_width=36),
    Column(header="Penjelasan", style="wrap", max_width=55),
    Column(header="Cara Memperbaiki", style="wrap", max_width=55),
    Column(header="Jumlah Bulan Ini", style="int"),
)

TERMS = (
    ("Capaian (%)", "Realisasi triwulan berjalan dibagi target triwulan berjalan, dikali 100."),
    ("Capaian Tahunan (%)", "Realisasi terakhir dibagi target TW IV (target tahunan), dikali 100."),
    (STATUS_SELESAI, "Realisasi terakhir sudah mencapai target tahunan."),
    (STATUS_SESUAI, "Realisasi triwulan yang sudah lewat mencapai targetnya."),
    (STATUS_TERLAMBAT, "Realisasi triwulan yang sudah lewat di bawah targetnya."),
    (STATUS_BELUM, "Realisasi triwulan yang sudah lewat belum diisi."),
    (PLAN_STATUS_NOT_COUNTED, "Baris memiliki kesalahan sehingga tidak ikut dihitung."),
    ("Tingkat Pelaporan", "Unit yang laporannya diterima dibagi unit yang diharapkan."),
    ("Ketepatan Waktu", "Unit yang laporannya diterima sebelum batas dibagi unit yang diharapkan."),
    ("Tingkat Penyelesaian", "Bagian rencana aksi berstatus Selesai atau Sesuai Target."),
    (
        "Kelengkapan Data Dukung",
        "Bagian rencana aksi yang sudah ada realisasinya dan mencantumkan data dukung.",
    ),
    ("Penyerapan Anggaran", "Jumlah realisasi anggaran dibagi jumlah pagu anggaran."),
    ("Kualitas Data", "Bagian baris yang tidak memiliki kesalahan."),
    (
        "Dikecualikan",
        "Jumlah baris yang tidak dihitung dalam suatu metrik karena kesalahan yang memengaruhinya.",
    ),
    ("Sel merah / kuning", "Sel dengan kesalahan / peringatan; arahkan kursor untuk pesannya."),
    (
        "Angka",
        "Disimpan sebagai angka; pemisah ribuan dan desimal mengikuti pengaturan bahasa komputer "
        "(Indonesia: 1.250.000 dan 78,5).",
    ),
)


def write_legend_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Legenda"
    title_block(sheet, run, title, "Kode masalah pemeriksaan dan arti istilah di buku kerja ini.")
    last = write_table(
        sheet,
        top=TABLE_TOP,
        columns=LEGEND_COLUMNS,
        rows=legend_rows(run.problems, all_codes=True),
    )
    top = last + 2
    sheet.text(top, 0, "Istilah", "section")
    for i, (term, meaning) in enumerate(TERMS, start=top + 1):
        sheet.text(i, 0, term, "bold")
        sheet.text(i, 2, meaning, "text")
    print_setup(sheet, title=f"{title} · {run.period.label}", header_row=TABLE_TOP)
