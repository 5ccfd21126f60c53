"""What every producer fixture holds: one unit's October 2025 report, four action plans.

The same plans go through each producer (``build.py``), each fixture as the report of its own
unit (:data:`UNITS`), so one ``rbpipe run`` over all of them gives every fixture its own
feedback and manifest entry, and a test can check that every one comes out with exactly these
values. Kept small and realistic: Indonesian text, a ``Persen`` plan, Rupiah budgets, a link as
data dukung, a kendala with its tindak lanjut.
"""

from __future__ import annotations

PERIOD = "2025-10"
# Fixture file -> the unit whose report it is (and the kinds of plans it holds).
UNITS = {
    "template.xlsx": "DINKES",
    "gnumeric.ods": "DINSOS",
    "gnumeric.xlsx": "BAPPEDA",
    "libreoffice.ods": "BPKAD",
    "libreoffice.xlsx": "BAPENDA",
    "libreoffice.xls": "BKPSDM",
    "sheetjs.xlsx": "BPBD",
    "exceljs.xlsx": "KESBANGPOL",
    "exceljs_foto.xlsx": "SATPOLPP",
    "strict.xlsx": "DISDIKBUD",
    "salinan_lembar.xlsx": "RSUD",
    "hanya_tematik.xlsx": "DPUPR",
    "DISPERKIM_2025-10_umpan_balik.xlsx": "DISPERKIM",
}

UMUM = [
    {
        "kode": "U-01",
        "sasaran": "Birokrasi yang Bersih dan Akuntabel",
        "indikator": "Persentase SOP puskesmas yang direviu",
        "rencana_aksi": "Reviu SOP pelayanan puskesmas",
        "output": "SOP terevisi",
        "satuan": "Persen",
        "target_tw1": 25.0,
        "target_tw2": 50.0,
        "target_tw3": 75.0,
        "target_tw4": 100.0,
        "realisasi_tw1": 25.0,
        "realisasi_tw2": 50.0,
        "realisasi_tw3": 70.0,
        "anggaran": 12500000.0,
        "realisasi_anggaran": 9750000.0,
        "penanggung_jawab": "Sekretariat Dinas Kesehatan",
        "data_dukung": "https://drive.example.id/dinkes/sop",
        "kendala": "Reviu dua SOP tertunda",
        "tindak_lanjut": "Dijadwalkan ulang November",
    },
    {
        "kode": "U-02",
        "sasaran": "Pelayanan Publik yang Prima",
        "indikator": "Jumlah inovasi layanan kesehatan",
        "rencana_aksi": "Peluncuran antrean daring puskesmas",
        "output": "Aplikasi antrean",
        "satuan": "Aplikasi",
        "target_tw1": 0.0,
        "target_tw2": 0.0,
        "target_tw3": 1.0,
        "target_tw4": 1.0,
        "realisasi_tw1": 0.0,
        "realisasi_tw2": 0.0,
        "realisasi_tw3": 1.0,
        "anggaran": 45000000.0,
        "realisasi_anggaran": 42300000.0,
        "penanggung_jawab": "Bidang Pelayanan Kesehatan",
        "data_dukung": "Berita acara peluncuran.pdf",
    },
]
TEMATIK = [
    {
        "kode": "T-01",
        "tema": "Pengentasan Kemiskinan",
        "permasalahan": "Warga miskin belum terdaftar JKN",
        "indikator": "Jumlah warga miskin didaftarkan JKN",
        "rencana_aksi": "Pendaftaran JKN warga miskin",
        "output": "Warga terdaftar",
        "satuan": "Orang",
        "target_tw1": 250.0,
        "target_tw2": 500.0,
        "target_tw3": 750.0,
        "target_tw4": 1000.0,
        "realisasi_tw1": 260.0,
        "realisasi_tw2": 510.0,
        "realisasi_tw3": 800.0,
        "anggaran": 7500000.0,
        "realisasi_anggaran": 5250000.0,
        "penanggung_jawab": "Bidang Kesehatan Masyarakat",
        "data_dukung": "https://drive.example.id/dinkes/jkn",
    },
    {
        "kode": "T-02",
        "tema": "Digitalisasi Administrasi Pemerintahan",
        "permasalahan": "Rekam medis masih kertas",
        "indikator": "Persentase puskesmas dengan rekam medis elektronik",
        "rencana_aksi": "Penerapan rekam medis elektronik",
        "output": "Puskesmas ber-RME",
        "satuan": "Persen",
        "target_tw1": 10.0,
        "target_tw2": 30.0,
        "target_tw3": 60.0,
        "target_tw4": 100.0,
        "realisasi_tw1": 10.0,
        "realisasi_tw2": 30.0,
        "realisasi_tw3": 60.0,
        "penanggung_jawab": "Subbag Program",
        "data_dukung": "https://drive.example.id/dinkes/rme",
    },
]
PLANS = {"umum": UMUM, "tematik": TEMATIK}
