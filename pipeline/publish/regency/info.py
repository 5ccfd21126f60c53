"""``Info Proses``: how the run went (times, versions, files, skipped rows); nothing that
varies between identical runs."""

from __future__ import annotations

from pipeline.locale_id import tanggal
from pipeline.model import STATUS_LABEL, RunResult
from pipeline.plain import shown
from pipeline.publish.regency.common import (
    TABLE_TOP,
    deadline,
    title_block,
)
from pipeline.publish.styles import (
    Column,
    Sheet,
    print_setup,
    write_table,
)

INFO_LABELS = {
    "versions": "Versi perangkat lunak",
    "suite_versions": "Versi aturan pemeriksaan",
    "gx_runs": "Jumlah pemeriksaan Great Expectations",
    "workers": "Jumlah proses pembaca berkas",
    "inputs": "Folder masukan",
    "ignored_files": "Berkas diabaikan (kunci/tersembunyi)",
}


def _info_pairs(run: RunResult) -> list[tuple[str, object]]:
    settings = run.registry.settings
    reg = run.metrics.regency
    pairs: list[tuple[str, object]] = [
        ("Periode laporan", run.period.label),
        ("Pemerintah daerah", settings.nama_pemda),
        ("Disusun oleh", settings.nama_instansi),
        ("Batas pengiriman", tanggal(deadline(run))),
        ("Proses dimulai", run.started),
        ("Proses selesai", run.finished or "–"),
        ("Berkas masuk", reg.files),
        (f"Berkas {STATUS_LABEL['accepted'].lower()}", reg.files_accepted),
        (f"Berkas {STATUS_LABEL['rejected'].lower()}", reg.files_rejected),
        (f"Berkas {STATUS_LABEL['superseded'].lower()}", reg.files_superseded),
        ("Baris dibaca", reg.rows_read),
        ("Baris direkap", reg.rows_consolidated),
        ("Baris dilewati", reg.rows_skipped),
    ]
    for key, value in run.info.stable_items():
        label = INFO_LABELS.get(key, key)
        if isinstance(value, dict):
            pairs += [(f"{label}: {sub}", shown(value[sub])) for sub in sorted(value)]
        else:
            pairs.append((label, shown(value)))
    return pairs


def write_info_sheet(sheet: Sheet, run: RunResult) -> None:
    title = "Info Proses"
    title_block(sheet, run, title)
    row = TABLE_TOP
    for label, value in _info_pairs(run):
        sheet.text(row, 0, label, "label")
        sheet.value(row, 1, value, "datetime" if hasattr(value, "hour") else "text")
        row += 1
    row += 1
    sheet.text(row, 0, "Berkas masukan", "section")
    files_top = row + 1
    columns = [
        Column(header="Berkas", max_width=40),
        Column(header="Kode Unit"),
        Column(header="Status"),
        Column(header="Format"),
        Column(header="Aplikasi Penyimpan", max_width=24),
        Column(header="Ukuran (byte)", style="int"),
        Column(header="Diubah", style="datetime"),
        Column(header="SHA-256", width=66),
        Column(header="Baris Dibaca", style="int"),
        Column(header="Baris Direkap", style="int"),
        Column(header="Baris Dilewati", style="int"),
        Column(header="Kode Masalah", style="wrap", max_width=30),
    ]
    codes: dict[str, set[str]] = {}
    for p in run.problems:
        if p.file:
            codes.setdefault(p.file, set()).add(p.code)
    rows = [
        (
            s.name,
            s.unit,
            STATUS_LABEL.get(s.status, s.status),
            (s.format or "").upper() or "–",
            s.producer,
            s.size,
            s.modified,
            s.sha256,
            s.rows_read,
            s.rows_consolidated,
            s.rows_skipped,
            ", ".join(sorted(codes.get(s.name, ()))) or None,
        )
        for s in sorted(run.submissions, key=lambda s: s.name)
    ]
    last = write_table(sheet, top=files_top, columns=columns, rows=rows)
    # The key/value block shares column A/B with the table: keep them wide enough for both.
    label_width = max(len(label) for label, _ in _info_pairs(run)) + 2
    sheet.ws.set_column(0, 0, max(label_width, 30))
    sheet.ws.set_column(1, 1, 26)
    row = last + 2
    sheet.text(row, 0, "Baris yang dilewati (ringkasan)", "section")
    write_table(
        sheet,
        top=row + 1,
        columns=[
            Column(header="Alasan", width=max(label_width, 30)),
            Column(header="Jumlah Baris", style="int", width=26),
            Column(header="Jumlah Berkas", style="int", width=12),
        ],
        rows=[tuple(r) for r in run.metrics.regency.skipped_reasons],
    )
    sheet.ws.set_column(0, 0, max(label_width, 30))
    sheet.ws.set_column(1, 1, 26)
    print_setup(sheet, title=f"{title} · {run.period.label}")
