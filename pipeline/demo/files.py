"""Writing one unit's files for a month: the template, the free-style layouts units make
themselves, files of other months, non-workbooks, the unknown sender (run in worker processes)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import re
import time
from pathlib import Path

from pipeline import schema
from pipeline.demo import content
from pipeline.demo.model import (
    SYNTHETIC_PREFIX,
    UNKNOWN_UNIT,
    DemoFile,
    ExpectedStatus,
    Job,
    JobResult,
    PlantedProblem,
    RowPlant,
    Written,
)
from pipeline.demo.plans import make_plans
from pipeline.demo.sheets import (
    EXTRA,
    Layout,
    PlacedSheet,
    action_grid,
    key_value_grid,
    openpyxl_bytes,
    plain,
    xlsxwriter_bytes,
)
from pipeline.demo.units import changed_targets, unit_month
from pipeline.fsutil import atomic_path
from pipeline.locale_id import number as id_number
from pipeline.registry import (
    MONTH_ABBREVIATIONS,
    MONTHS_ID,
    Period,
    Registry,
    Unit,
)
from pipeline.template import template_bytes, template_name

_WORKER: dict = {}


def init_worker(out_dir: Path, registry: Registry) -> None:
    _WORKER.update(out_dir=Path(out_dir), registry=registry)


def run_job(job: Job) -> JobResult:
    out_dir, registry, period = _WORKER["out_dir"], _WORKER["registry"], job.period
    unit = registry.unit(job.kode)
    month = unit_month(unit, job, registry)
    changes = []
    if month is not None and job.previous is not None:
        before = unit_month(unit, job.previous, registry)
        assert before is not None  # a job's previous month is one with an accepted file
        changes = changed_targets(before.plans, month.plans)
    writer = SCENARIOS[job.scenario]
    rng = random.Random(job.month_seed)
    results = writer(unit, job, period, registry, rng, month) if writer else []
    if job.extra == "unknown_unit":
        extra_rng = random.Random(f"{job.month_seed}|x")
        results.append(_unknown_unit_file(job, period, registry, extra_rng))
    result = JobResult(files=[], planted=[], target_changes=[])
    deadline = period.deadline(registry.settings.batas_hari)
    for written in results:
        path = out_dir / written.file.name
        with atomic_path(path) as tmp:
            tmp.write_bytes(written.data)
        modified = written.file.modified
        assert modified is not None  # every file written has its arrival time
        stamp = time.mktime(modified.timetuple())
        os.utime(path, (stamp, stamp))
        written.file.on_time = modified.date() <= deadline
        result.files.append(written.file)
        result.planted += written.planted
        if written.file.expected_status == "accepted" and written.file.unit == unit.kode:
            result.target_changes += [
                _located(c, unit.kode, written.file.name, written.placed) for c in changes
            ]
    return result


def _filled_on(arrival: dt.datetime, rng: random.Random) -> dt.date:
    return (arrival - dt.timedelta(days=rng.randint(0, 2))).date()


def _identitas(arrival: dt.datetime, rng: random.Random) -> dict:
    return {
        "tanggal_pengisian": _filled_on(arrival, rng),
        "nama_pengisi": rng.choice(content.FILLER_NAMES),
    }


def _template_file(
    unit: Unit,
    period: Period,
    registry: Registry,
    plans: dict,
    plants: list[RowPlant],
    *,
    name: str,
    status: ExpectedStatus,
    modified: dt.datetime,
    rng: random.Random,
    messes: list[str],
) -> Written:
    """A filled template, with rows at TEMPLATE_FIRST_DATA_ROW on."""
    data = template_bytes(unit, period, registry, plans=plans, identitas=_identitas(modified, rng))
    placed: dict[str, tuple] = {}
    for kind in schema.KINDS:
        sheet = schema.SHEETS[kind]
        first = schema.TEMPLATE_FIRST_DATA_ROW
        placed[kind] = (
            sheet.name,
            [first + i for i in range(len(plans[kind]))],
            {n: sheet.column_letter(n) for n in sheet.field_names},
            [],
        )
    return _written(unit.kode, name, status, modified, messes, data, plans, plants, placed)


def _written(
    kode: str | None,
    name: str,
    status: ExpectedStatus,
    modified: dt.datetime,
    messes: list[str],
    data: bytes,
    plans: dict,
    plants: list[RowPlant],
    placed: dict,
    extra: list[PlantedProblem] | None = None,
) -> Written:
    """Assemble a DemoFile and its planted problems from where each sheet's rows landed.
    ``placed[kind] = (sheet name, plan rows, field -> column letter, skipped rows)``."""
    demo_file = DemoFile(
        name=name, unit=kode, expected_status=status, messes=list(messes), modified=modified
    )
    planted = []
    dirty: set[tuple[str, int]] = set()
    for kind in schema.KINDS:
        sheet, rows, columns, skipped = placed[kind]
        for plan, row in zip(plans[kind], rows, strict=True):
            demo_file.rows.append((sheet, row, plan["kode"]))
        demo_file.skipped += [(sheet, row, why) for row, why in skipped]
    for p in plants:
        planted.append(_located(p, kode, name, placed))
        if p.code.startswith("RB-E"):
            sheet, rows, _, _ = placed[p.kind]
            dirty.add((sheet, rows[p.index]))
    for q in extra or []:
        planted.append(q)
        if q.cell and q.code.startswith("RB-E"):
            sheet, ref = q.cell.split("!")
            dirty.add((sheet, int(re.sub(r"[A-Z]+", "", ref))))
    demo_file.clean_rows = {(s, r) for s, r, _ in demo_file.rows} - dirty
    return Written(demo_file, data, planted, placed)


def _located(p: RowPlant, kode: str | None, name: str, placed: dict) -> PlantedProblem:
    """``p`` at the cell where its plan and field landed in the file ``name``."""
    sheet, rows, columns, _ = placed[p.kind]
    return PlantedProblem(
        code=p.code,
        unit=kode,
        file=name,
        sheet=sheet,
        cell=schema.cell_ref(sheet, columns[p.field], rows[p.index]),
        field=p.field,
    )


def _file_level(
    code: str, kode: str | None, name: str, sheet: str | None = None, field_name: str | None = None
) -> PlantedProblem:
    return PlantedProblem(code=code, unit=kode, file=name, sheet=sheet, cell=None, field=field_name)


def _scenario_templat(unit, job, period, registry, rng, month) -> list[Written]:
    return [
        _template_file(
            unit,
            period,
            registry,
            month.plans,
            month.plants,
            name=template_name(unit.kode, period),
            status="accepted",
            modified=job.arrival,
            rng=rng,
            messes=[],
        )
    ]


def _scenario_bukan_excel(unit, job, period, registry, rng, month) -> list[Written]:
    name = template_name(unit.kode, period)
    demo_file = DemoFile(
        name=name,
        unit=unit.kode,
        expected_status="rejected",
        messes=["bukan_excel"],
        modified=job.arrival,
    )
    return [
        Written(
            demo_file,
            _pdf_bytes(f"Laporan RB {unit.nama} {period.label}"),
            [_file_level("RB-E001", unit.kode, name)],
        )
    ]


def _scenario_bulan_salah(unit, job, period, registry, rng, month) -> list[Written]:
    previous = period.previous()
    plans = make_plans(unit, previous, registry, seed=job.seed, n_plans=job.n_plans)
    name = template_name(unit.kode, previous)
    written = _template_file(
        unit,
        previous,
        registry,
        plans,
        [],
        name=name,
        status="rejected",
        modified=job.arrival,
        rng=rng,
        messes=["bulan_salah"],
    )
    written.file.rows, written.file.clean_rows = [], set()
    written.planted = [_file_level("RB-E006", unit.kode, name)]
    return [written]


def _unknown_unit_file(job, period, registry, rng) -> Written:
    plans = make_plans(UNKNOWN_UNIT, period, registry, seed=job.seed, n_plans=job.n_plans)
    name = template_name(UNKNOWN_UNIT.kode, period)
    written = _template_file(
        UNKNOWN_UNIT,
        period,
        registry,
        plans,
        [],
        name=name,
        status="rejected",
        modified=job.arrival + dt.timedelta(hours=1),
        rng=rng,
        messes=["unit_tak_dikenal"],
    )
    written.file.unit, written.file.rows, written.file.clean_rows = None, [], set()
    written.planted = [_file_level("RB-E005", None, name)]
    return written


def _short_name(unit: Unit) -> str:
    if unit.kode.startswith(SYNTHETIC_PREFIX):
        return unit.kode
    return unit.singkatan[0] if unit.singkatan else unit.nama


def _month_abbreviation(month: int) -> str:
    return next(k for k, v in MONTH_ABBREVIATIONS.items() if v == month)


def _text_numbers(styles: tuple[str, ...]):
    """A renderer writing budgets, Persen and Indeks values as Indonesian text."""

    turn = itertools.count()

    def render(name: str, value: object, row: dict):
        if not isinstance(value, int | float) or value < 0:
            return plain(name, value, row)
        satuan = row.get("satuan")
        if name in schema.BUDGET_FIELDS:
            style = styles[next(turn) % len(styles)]
            return (f"Rp {id_number(value)},00" if style == "rp" else id_number(value)), "text"
        if satuan == "Persen":
            spaced = next(turn) % 2
            return (f"{id_number(value)} %" if spaced else f"{id_number(value)}%"), "text"
        if satuan == "Indeks" and isinstance(value, float) and not value.is_integer():
            return id_number(value, 2).rstrip("0").rstrip(","), "text"
        return plain(name, value, row)

    return render


def _dash_budgets(plans: dict, plants: list[RowPlant]) -> dict:
    """A copy of ``plans`` as a unit writes it: "-" where there is no budget; at least one plan
    (not a planted one) has none, so the file shows it."""
    plans = {kind: [dict(row) for row in rows] for kind, rows in plans.items()}
    planted = {(p.kind, p.index) for p in plants}
    spare = [
        (kind, i)
        for kind in schema.KINDS
        for i in range(len(plans[kind]))
        if (kind, i) not in planted
    ]
    if spare and all(plans[k][i]["anggaran"] is not None for k, i in spare):
        kind, i = spare[-1]
        plans[kind][i]["anggaran"] = plans[kind][i]["realisasi_anggaran"] = None
    for rows in plans.values():
        for row in rows:
            if row["anggaran"] is None and row["realisasi_anggaran"] is None:
                row["anggaran"] = row["realisasi_anggaran"] = "-"
    return plans


def _placed(placed: PlacedSheet) -> tuple:
    return placed.grid.name, placed.plan_rows, placed.columns, placed.skipped


def _scenario_laporan_bebas(unit, job, period, registry, rng, month) -> list[Written]:
    """ "Laporan RB Dinkes Oktober 2025.xlsx": a unit's own workbook with a title block, two- and
    three-row merged headers with a column-number row, section and subtotal rows, sasaran merged
    over its rows, numbers typed as Indonesian text, renamed sheet, dates as text."""
    plants = month.plants
    plans = _dash_budgets(month.plans, plants)
    pemda = registry.settings.nama_pemda.upper()
    titles = {
        kind: (schema.SHEETS[kind].title, unit.nama.upper(), f"{pemda} TAHUN {period.year}")
        for kind in schema.KINDS
    }
    umum = action_grid(
        "umum",
        plans["umum"],
        Layout(
            sheet=schema.SHEETS["umum"].name,
            title_lines=titles["umum"],
            header_depth=2,
            number_row=True,
            sections=True,
            merge_group=True,
            subtotal_each="JUMLAH",
        ),
        _text_numbers(("rp", "dots")),
    )
    tematik = action_grid(
        "tematik",
        plans["tematik"],
        Layout(
            sheet=f"RB TEMATIK {period.year}",
            title_lines=titles["tematik"],
            header_depth=3,
            number_row=True,
            sections=True,
            total_end="TOTAL",
            blank_after=(0,) if len(plans["tematik"]) > 1 else (),
        ),
        _text_numbers(("dots", "rp")),
    )
    filled = _filled_on(job.arrival, rng)
    identitas = key_value_grid(
        schema.SHEET_IDENTITAS,
        [
            ("Nama Unit Kerja", unit.nama),
            ("Periode", period.label),
            ("Tanggal Pengisian", f"{filled.day} {MONTHS_ID[filled.month - 1]} {filled.year}"),
            ("Nama Pengisi", rng.choice(content.FILLER_NAMES)),
        ],
        title="IDENTITAS",
        first_row=3,
    )
    name = f"Laporan RB {_short_name(unit)} {period.label}.xlsx"
    data = xlsxwriter_bytes(
        [identitas, umum.grid, tematik.grid],
        title=f"Laporan RB {unit.nama}",
        created=_created(period),
    )
    messes = [
        "judul_di_atas_header",
        "header_dua_baris",
        "header_tiga_baris",
        "nomor_kolom",
        "baris_bagian",
        "baris_subtotal",
        "sel_gabung",
        "angka_teks",
        "nama_lembar_beda",
        "nama_berkas_bebas",
        "tanpa_metadata",
        "tanggal_teks",
        "baris_kosong",
        "rumus_dengan_nilai",
    ]
    return [
        _written(
            unit.kode,
            name,
            "accepted",
            job.arrival,
            messes,
            data,
            plans,
            plants,
            {"umum": _placed(umum), "tematik": _placed(tematik)},
        )
    ]


DRIFT = {
    "kode": "Kode",
    "rencana_aksi": "RENCANA AKSI",
    "penanggung_jawab": "PIC",
    "data_dukung": "Bukti Dukung",
    "anggaran": "Pagu",
    "realisasi_anggaran": "Realisasi Anggaran",
    "target_tw1": "Target Tw.1",
    "target_tw2": "Target TW-II",
    "target_tw3": "Target Triwulan III",
    "target_tw4": "Target TW 4",
    "realisasi_tw1": "Real. TW I",
    "realisasi_tw2": "Realisasi Triwulan II",
    "realisasi_tw3": "Real. TW III",
    "realisasi_tw4": "Realisasi Tw.4",
}


def _scrambled_order(kind: str, rng: random.Random) -> tuple[str, ...]:
    """The unit's own column order: identity first, numbers, budget before the people."""
    names = list(schema.SHEETS[kind].field_names)
    text_part = [
        n
        for n in names
        if not schema.FIELD_BY_NAME[n].is_number
        and n not in ("penanggung_jawab", "data_dukung", "kendala", "tindak_lanjut")
    ]
    text_part.insert(1, text_part.pop(text_part.index("rencana_aksi")))
    return tuple(
        text_part
        + [
            "penanggung_jawab",
            "anggaran",
            "realisasi_anggaran",
            *schema.TARGET_FIELDS,
            *schema.REALISASI_FIELDS,
            "kendala",
            "tindak_lanjut",
            "data_dukung",
        ]
    )


def _scenario_buatan_sendiri(unit, job, period, registry, rng, month) -> list[Written]:
    """Two files from one unit: the template sent first (superseded), then the unit's own
    workbook "Dinas Sosial - RB 2025 (okt).xlsx" with drifted headers, reordered columns, hidden
    rows and a hidden budget column, blank rows, no Identitas and no metadata."""
    first = _template_file(
        unit,
        period,
        registry,
        make_plans(unit, period, registry, seed=job.seed, n_plans=job.n_plans),
        [],
        name=template_name(unit.kode, period),
        status="superseded",
        modified=job.earlier,
        rng=rng,
        messes=["berkas_ganda"],
    )
    first.planted = [_file_level("RB-W001", unit.kode, first.file.name)]

    plans = {kind: [dict(row) for row in rows] for kind, rows in month.plans.items()}
    plants = month.plants
    for rows in plans.values():
        for row in rows[::3]:
            row["satuan"] = row["satuan"].lower() + " "
    sheets = {}
    for kind, sheet_name in (("umum", "Umum"), ("tematik", "Tematik")):
        n = len(plans[kind])
        sheets[kind] = action_grid(
            kind,
            plans[kind],
            Layout(
                sheet=sheet_name,
                headers=DRIFT,
                order=_scrambled_order(kind, rng),
                hidden_plans=tuple(i for i in (1, n - 1) if 0 < i < n),
                hidden_field="anggaran",
                blank_after=(n // 2,) if n > 2 else (),
            ),
        )
    abbreviation = _month_abbreviation(period.month)
    sender = unit.kode if unit.kode.startswith(SYNTHETIC_PREFIX) else unit.nama
    name = f"{sender} - RB {period.year} ({abbreviation}).xlsx"
    data = xlsxwriter_bytes(
        [sheets["umum"].grid, sheets["tematik"].grid], title="RB", created=_created(period)
    )
    messes = [
        "header_ejaan",
        "kolom_diacak",
        "baris_tersembunyi",
        "kolom_tersembunyi",
        "baris_kosong",
        "nama_berkas_bebas",
        "nama_lembar_beda",
        "tanpa_identitas",
        "tanpa_metadata",
        "pilihan_ejaan",
        "berkas_ganda",
    ]
    second = _written(
        unit.kode,
        name,
        "accepted",
        job.arrival,
        messes,
        data,
        plans,
        plants,
        {k: _placed(v) for k, v in sheets.items()},
    )
    return [first, second]


def _scenario_persen_excel(unit, job, period, registry, rng, month) -> list[Written]:
    """The unit's own copy with Identitas (code) but no metadata: Persen values typed as 75%
    (0.75 with a percent format), a budget typed as a formula (cached value), a JUMLAH row with
    SUM formulas, an extra "Keterangan" column and drifted headers under a one-line title."""
    plans, plants = month.plans, month.plants
    budget_formula_done: list[bool] = []

    def render(name, value, row):
        if (
            row.get("satuan") == "Persen"
            and isinstance(value, int | float)
            and (name in schema.TARGET_FIELDS or name in schema.REALISASI_FIELDS)
        ):
            return value / 100, "percent"
        if (
            name == "anggaran"
            and isinstance(value, int)
            and value % 4 == 0
            and not budget_formula_done
        ):
            budget_formula_done.append(True)
            return "formula", f"=4*{value // 4}", value
        return plain(name, value, row)

    headers = {
        "target_tw1": "Target TW-I",
        "target_tw2": "Target TW-II",
        "realisasi_tw1": "Realisasi Triwulan I",
        "realisasi_tw2": "Realisasi Triwulan II",
        "penanggung_jawab": "Penanggungjawab",
        "anggaran": "Anggaran",
    }
    name = f"{unit.kode} {period.label}.xlsx"
    sheets, extra = {}, []
    for kind in schema.KINDS:
        order = (*schema.SHEETS[kind].field_names, f"{EXTRA}Keterangan")
        n = len(plans[kind])
        remarks = [
            rng.choice(("", "Sesuai jadwal", "Lanjutan tahun lalu", "Prioritas")) for _ in range(n)
        ]
        sheets[kind] = action_grid(
            kind,
            plans[kind],
            Layout(
                sheet=schema.SHEETS[kind].name,
                title_lines=(f"{schema.SHEETS[kind].title} {unit.nama.upper()}",),
                headers=headers,
                order=order,
                total_end="JUMLAH",
            ),
            render,
            extra_values={"Keterangan": [r or None for r in remarks]},
        )
        letter = sheets[kind].extra_columns["Keterangan"]
        extra.append(
            PlantedProblem(
                code="RB-W010",
                unit=unit.kode,
                file=name,
                sheet=sheets[kind].grid.name,
                cell=schema.cell_ref(sheets[kind].grid.name, letter, sheets[kind].header_row),
                field=None,
            )
        )
    identitas = key_value_grid(
        schema.SHEET_IDENTITAS,
        [
            ("Kode Unit", unit.kode),
            ("Nama Unit", unit.nama),
            ("Periode", str(period)),
            ("Tanggal Pengisian", _filled_on(job.arrival, rng)),
        ],
    )
    data = xlsxwriter_bytes(
        [identitas, sheets["umum"].grid, sheets["tematik"].grid],
        title=f"Renaksi RB {unit.nama}",
        created=_created(period),
    )
    messes = [
        "persen_excel",
        "rumus_dengan_nilai",
        "kolom_tambahan",
        "header_ejaan",
        "judul_di_atas_header",
        "baris_subtotal",
        "tanpa_metadata",
    ]
    return [
        _written(
            unit.kode,
            name,
            "accepted",
            job.arrival,
            messes,
            data,
            plans,
            plants,
            {k: _placed(v) for k, v in sheets.items()},
            extra,
        )
    ]


def _scenario_rumus_openpyxl(unit, job, period, registry, rng, month) -> list[Written]:
    """A workbook a unit's script wrote (openpyxl): a budget realisation left as a formula with
    no cached value (RB-E011) and RB Tematik without its Penanggung Jawab column (RB-E010)."""
    plans = {kind: [dict(row) for row in rows] for kind, rows in month.plans.items()}
    plants = month.plants
    planted_rows = {(p.kind, p.index) for p in plants}
    target = next(
        (
            i
            for i, row in enumerate(plans["umum"])
            if isinstance(row["anggaran"], int) and ("umum", i) not in planted_rows
        ),
        None,
    )
    if target is None:
        target = next(i for i in range(len(plans["umum"])) if ("umum", i) not in planted_rows)
        plans["umum"][target]["anggaran"] = 40_000_000
    sheet_umum = schema.SHEETS["umum"]
    plans["umum"][target]["realisasi_anggaran"] = None
    titles = (f"Unit: {unit.nama}", f"Periode: {period.label}")
    umum = action_grid("umum", plans["umum"], Layout(sheet=sheet_umum.name, title_lines=titles))
    tematik = action_grid(
        "tematik",
        plans["tematik"],
        Layout(
            sheet=schema.SHEETS["tematik"].name,
            title_lines=titles,
            omit=("penanggung_jawab",),
        ),
    )
    formula_row = umum.plan_rows[target]
    formula_cell = (formula_row, schema.column_index(umum.columns["realisasi_anggaran"]))
    umum.grid.formulas[formula_cell] = (f"={umum.columns['anggaran']}{formula_row}*0.5", None)
    filled = _filled_on(job.arrival, rng)
    identitas = key_value_grid(
        schema.SHEET_IDENTITAS,
        [
            ("Kode Unit", unit.kode),
            ("Periode (YYYY-MM)", str(period)),
            ("Tanggal Pengisian", filled.strftime("%d/%m/%Y")),
        ],
    )
    name = f"RB_{unit.kode}_{period}.xlsx"
    data = openpyxl_bytes(
        [identitas, umum.grid, tematik.grid], title="Rencana Aksi RB", created=_created(period)
    )
    extra = [
        PlantedProblem(
            code="RB-E011",
            unit=unit.kode,
            file=name,
            sheet=sheet_umum.name,
            cell=schema.cell_ref(sheet_umum.name, umum.columns["realisasi_anggaran"], formula_row),
            field="realisasi_anggaran",
        ),
        _file_level("RB-E010", unit.kode, name, schema.SHEETS["tematik"].name, "penanggung_jawab"),
    ]
    messes = [
        "rumus_tanpa_nilai",
        "kolom_hilang",
        "tanggal_teks",
        "tanpa_metadata",
        "judul_di_atas_header",
    ]
    return [
        _written(
            unit.kode,
            name,
            "accepted",
            job.arrival,
            messes,
            data,
            plans,
            plants,
            {"umum": _placed(umum), "tematik": _placed(tematik)},
            extra,
        )
    ]


SCENARIOS = {
    "tidak_kirim": None,
    "templat": _scenario_templat,
    "bukan_excel": _scenario_bukan_excel,
    "bulan_salah": _scenario_bulan_salah,
    "laporan_bebas": _scenario_laporan_bebas,
    "buatan_sendiri": _scenario_buatan_sendiri,
    "persen_excel": _scenario_persen_excel,
    "rumus_openpyxl": _scenario_rumus_openpyxl,
}


def _created(period: Period) -> dt.datetime:
    return dt.datetime(period.year, period.month, 1)


def _pdf_bytes(text: str) -> bytes:
    """A small, valid one-page PDF showing ``text`` (what a unit exported instead of xlsx)."""
    safe = text.encode("latin-1", "replace").decode("latin-1").replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 72 760 Td ({safe}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def write_lock_file(out_dir: Path, files: list[DemoFile]) -> list[str]:
    """Excel's owner file ``~$<name>`` left beside a workbook still open on the unit's PC."""
    target = next((f for f in files if "nama_berkas_bebas" in f.messes), None) or (
        files[0] if files else None
    )
    if target is None:
        return []
    name = "~$" + target.name
    owner = b"Operator RB"
    data = (
        bytes([len(owner)])
        + owner
        + b" " * (53 - len(owner))
        + bytes([len(owner), 0])
        + owner.decode().encode("utf-16-le")
        + b"\x20\x00" * (54 - len(owner))
    )
    path = out_dir / name
    path.write_bytes(data)
    assert target.modified is not None  # the lock file takes its workbook's time
    stamp = time.mktime(target.modified.timetuple())
    os.utime(path, (stamp, stamp))
    return [name]
