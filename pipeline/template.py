"""Blank (or pre-filled) submission workbooks for the units, written with xlsxwriter.

One workbook per unit per month, laid out exactly as :mod:`pipeline.schema` describes:
``Petunjuk`` (instructions), ``Identitas`` (who and when), ``RB Umum`` and ``RB Tematik`` (one
row per action plan), ``Referensi`` (the lists behind the dropdowns) and a very hidden metadata
sheet that tells the reader which template, unit and month the file was made for.

The template is meant to make mistakes hard: dropdowns for the listed fields, a number >= 0
check on every target, realisation and budget cell, a protected header (no password) while the
data area stays free to edit, insert, delete, sort and filter. Identical inputs give identical
bytes (fixed document properties; xlsxwriter stamps zip entries with a fixed date in memory).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

import xlsxwriter

from pipeline import __version__, schema
from pipeline.errors import RunError
from pipeline.fsutil import atomic_path
from pipeline.registry import MONTHS_ID, Period, Registry, Unit

# Validations and unlocked formats reach this row so that rows a unit inserts stay covered.
VALIDATED_LAST_ROW = 1000
REFERENCE_LISTS = (("sasaran", "Sasaran RB"), ("tema", "Tema"), ("satuan", "Satuan"))
META_KEYS = ("versi_template", "kode_unit", "periode", "dibuat_oleh")

HEADER_FILL = "#1F4E78"
GROUP_FILL = "#DDEBF7"
INPUT_FILL = "#FFF9DB"
BORDER_COLOR = "#A6A6A6"
RUPIAH_FORMAT = "#,##0"
DATE_FORMAT = "dd/mm/yyyy"

# Options of worksheet.protect(): True means the unit may still do it on a protected sheet.
DATA_SHEET_PERMISSIONS = {
    "format_cells": True,
    "format_columns": True,
    "format_rows": True,
    "insert_rows": True,
    "delete_rows": True,
    "insert_hyperlinks": True,
    "sort": True,
    "autofilter": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}
READ_ONLY_PERMISSIONS = {"select_locked_cells": True, "select_unlocked_cells": True}


def template_name(kode: str, period: Period) -> str:
    """File name of a unit's template: ``<KODE>_<YYYY-MM>.xlsx``."""
    return f"{kode}_{period}.xlsx"


def write_templates(
    out_dir: Path, period: Period, registry: Registry, units: list[str] | None = None
) -> list[Path]:
    """Write one template per unit (every registry unit when ``units`` is None) into ``out_dir``.

    Returns the paths written, in registry order of the requested units. An unknown unit code
    raises :class:`RunError` before anything is written.
    """
    wanted = _resolve_units(registry, units)
    out_dir = Path(out_dir)
    paths = []
    for unit in wanted:
        target = out_dir / template_name(unit.kode, period)
        with atomic_path(target) as tmp:
            tmp.write_bytes(template_bytes(unit, period, registry))
        paths.append(target)
    return paths


def _resolve_units(registry: Registry, codes: Iterable[str] | None) -> list[Unit]:
    """The registry units named by ``codes`` (case-insensitive), or all of them."""
    if not codes:
        return list(registry.units)
    wanted = [c.strip().upper() for c in codes]
    unknown = [c for c in wanted if registry.unit(c) is None]
    if unknown:
        raise RunError(
            f"Kode unit tidak dikenal: {', '.join(unknown)}. "
            "Periksa daftar unit kerja (unit_kerja.csv) untuk kode yang benar."
        )
    return [u for c in dict.fromkeys(wanted) if (u := registry.unit(c)) is not None]


def template_bytes(
    unit: Unit,
    period: Period,
    registry: Registry,
    *,
    plans: dict[str, list[dict]] | None = None,
    identitas: dict | None = None,
) -> bytes:
    """The template workbook of ``unit`` for ``period``, as xlsx bytes.

    ``plans`` optionally fills the action-plan sheets: ``{"umum": [row, ...], "tematik": [...]}``
    where each row maps schema field names to values (numbers are written as numbers, text as
    text, None leaves the cell empty). ``identitas`` overrides or adds Identitas values keyed by
    the names of :data:`schema.IDENTITAS_FIELDS` (a ``datetime.date`` is written as a date).
    """
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties(_properties(unit, period, registry))
    styles = _styles(wb)
    plans = plans or {}
    ref_ranges = _reference_ranges(registry)

    _write_petunjuk(wb.add_worksheet(schema.SHEET_PETUNJUK), styles, unit, period, registry)
    _write_identitas(
        wb.add_worksheet(schema.SHEET_IDENTITAS), styles, unit, period, identitas or {}
    )
    for kind in schema.KINDS:
        sheet = schema.SHEETS[kind]
        _write_action_sheet(
            wb.add_worksheet(sheet.name),
            styles,
            sheet,
            unit,
            period,
            plans.get(kind) or [],
            ref_ranges,
        )
    _write_referensi(wb.add_worksheet(schema.SHEET_REFERENSI), styles, registry)
    _write_meta(wb.add_worksheet(schema.SHEET_META), unit, period)
    wb.close()
    return buffer.getvalue()


def _properties(unit: Unit, period: Period, registry: Registry) -> dict:
    """Fixed document properties: the creation date is the period's first day, never "now"."""
    return {
        "title": f"Rencana Aksi RB {unit.nama} - {period.label}",
        "subject": "Laporan bulanan Rencana Aksi Reformasi Birokrasi",
        "author": "rbpipe",
        "company": registry.settings.nama_pemda,
        "category": "Reformasi Birokrasi",
        "keywords": f"RB, rencana aksi, {unit.kode}, {period}",
        "comments": f"Templat versi {schema.TEMPLATE_VERSION}, dibuat oleh rbpipe {__version__}",
        "created": dt.datetime(period.year, period.month, 1),
    }


def _styles(wb: xlsxwriter.Workbook) -> dict[str, object]:
    """Every cell format the template uses, by role."""
    border = {"border": 1, "border_color": BORDER_COLOR}
    data = {**border, "locked": False, "valign": "top", "text_wrap": True}
    return {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_color": HEADER_FILL}),
        "subtitle": wb.add_format({"bold": True, "font_size": 11}),
        "note": wb.add_format({"italic": True, "font_color": "#595959"}),
        "text": wb.add_format({"text_wrap": True, "valign": "top"}),
        "bold": wb.add_format({"bold": True, "valign": "top", "text_wrap": True}),
        "header": wb.add_format(
            {
                **border,
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": HEADER_FILL,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
                "locked": True,
            }
        ),
        "table_header": wb.add_format(
            {**border, "bold": True, "bg_color": GROUP_FILL, "text_wrap": True, "valign": "vcenter"}
        ),
        "table_cell": wb.add_format({**border, "text_wrap": True, "valign": "top"}),
        "label": wb.add_format({**border, "bold": True, "bg_color": GROUP_FILL, "valign": "top"}),
        "value": wb.add_format({**border, "valign": "top"}),
        "input": wb.add_format(
            {**border, "bg_color": INPUT_FILL, "locked": False, "valign": "top"}
        ),
        "input_date": wb.add_format(
            {
                **border,
                "bg_color": INPUT_FILL,
                "locked": False,
                "num_format": DATE_FORMAT,
                "align": "left",
            }
        ),
        "unlocked": wb.add_format({"locked": False}),
        "data_row": wb.add_format({"locked": False, "text_wrap": True, "valign": "top"}),
        "grid": wb.add_format({"border": 1, "border_color": BORDER_COLOR}),
        "unlocked_rupiah": wb.add_format({"locked": False, "num_format": RUPIAH_FORMAT}),
        "data_text": wb.add_format(data),
        "data_number": wb.add_format({**data, "text_wrap": False, "align": "right"}),
        "data_rupiah": wb.add_format({**data, "text_wrap": False, "num_format": RUPIAH_FORMAT}),
    }


def _reference_ranges(registry: Registry) -> dict[str, str]:
    """Absolute ``Referensi`` range of each list, for the dropdowns (``=Referensi!$A$2:$A$4``)."""
    out = {}
    for col, (name, _label) in enumerate(REFERENCE_LISTS):
        letter = schema.column_letter(col + 1)
        last = 1 + max(1, len(registry.reference(name)))
        out[name] = f"={schema.SHEET_REFERENSI}!${letter}$2:${letter}${last}"
    return out


# ---------------------------------------------------------------------------------------------
# Petunjuk
# ---------------------------------------------------------------------------------------------


def instructions(unit: Unit, period: Period, registry: Registry) -> list[str]:
    """The general filling instructions, one Indonesian paragraph per item."""
    deadline = period.deadline(registry.settings.batas_hari)
    deadline_text = f"{deadline.day} {MONTHS_ID[deadline.month - 1]} {deadline.year}"
    closed = period.closed_quarter
    if closed:
        closed_text = (
            f"Pada laporan {period.label}, triwulan yang sudah lewat adalah TW I sampai "
            f"TW {schema.ROMAN[closed]}: realisasinya wajib diisi. Realisasi TW "
            f"{schema.ROMAN[period.running_quarter]} (triwulan berjalan) boleh diisi bila sudah ada."
        )
    else:
        closed_text = (
            f"Pada laporan {period.label} belum ada triwulan yang lewat; realisasi TW I "
            "(triwulan berjalan) boleh diisi bila sudah ada."
        )
    return [
        f"Berkas ini adalah laporan bulanan Rencana Aksi Reformasi Birokrasi {unit.nama} untuk "
        f"bulan {period.label}. Isi lembar RB Umum dan RB Tematik, satu baris untuk satu "
        "rencana aksi, mulai tepat di bawah baris judul kolom.",
        "Target dan realisasi diisi KUMULATIF: angka TW II sudah termasuk TW I, dan seterusnya, "
        "sehingga angkanya tidak boleh turun dari triwulan ke triwulan. Target TW IV adalah "
        "target tahunan dan harus lebih dari 0.",
        closed_text,
        "Isi kolom angka (target, realisasi, anggaran) dengan angka saja: tanpa 'Rp', tanpa "
        "titik ribuan dan tanpa tanda %. Bila Satuan = Persen, target dan realisasi paling "
        "tinggi 100.",
        "Pilih Sasaran RB, Tema dan Satuan dari daftar pilihan (klik sel, lalu klik panah di "
        "sebelah kanannya). Daftar lengkapnya ada di lembar Referensi.",
        "Bila ada realisasi (lebih dari 0), Data Dukung wajib diisi dengan tautan "
        "(https://...) atau nama dokumen bukti.",
        "Bila realisasi triwulan yang sudah lewat masih di bawah target, tuliskan Kendala dan "
        "Tindak Lanjut. Setiap Kendala yang diisi wajib disertai Tindak Lanjut.",
        "Realisasi Anggaran tidak boleh melebihi Anggaran. Kode RA tidak boleh ganda.",
        "Jangan mengganti nama lembar, jangan mengubah atau menghapus baris judul kolom, dan "
        "jangan menambah kolom. Baris boleh ditambah, dihapus, diurutkan dan disaring.",
        f"Simpan berkas dengan nama {template_name(unit.kode, period)} dan kirimkan ke "
        f"{registry.settings.nama_instansi} paling lambat tanggal {deadline_text}.",
    ]


def _requirement_text(f: schema.Field) -> str:
    return {
        "always": "Wajib",
        "closed_quarter": "Wajib untuk triwulan yang sudah lewat",
        "optional": "Tidak wajib",
        "conditional": "Wajib bila syaratnya terpenuhi",
    }[f.requirement]


def _sheets_text(f: schema.Field) -> str:
    if f.kinds == schema.BOTH:
        return "RB Umum dan RB Tematik"
    return " dan ".join(schema.SHEETS[k].name for k in schema.KINDS if k in f.kinds)


def _write_petunjuk(ws, styles, unit: Unit, period: Period, registry: Registry) -> None:
    widths = (4, 24, 52, 24, 32)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    merged_width = sum(widths[1:])
    ws.hide_gridlines(2)
    ws.write(0, 1, "PETUNJUK PENGISIAN", styles["title"])
    ws.write(
        1,
        1,
        f"Rencana Aksi Reformasi Birokrasi - {registry.settings.nama_pemda}",
        styles["subtitle"],
    )
    ws.write(2, 1, f"{unit.nama} ({unit.kode}) - {period.label}", styles["subtitle"])
    row = 4
    for number, paragraph in enumerate(instructions(unit, period, registry), start=1):
        ws.write_number(row, 0, number, styles["bold"])
        ws.merge_range(row, 1, row, 4, paragraph, styles["text"])
        ws.set_row(row, 15 * _lines(paragraph, merged_width))
        row += 1
    row += 1
    ws.write(row, 1, "ARTI SETIAP KOLOM", styles["subtitle"])
    row += 1
    for col, text in enumerate(("Judul kolom", "Keterangan", "Lembar", "Keharusan"), start=1):
        ws.write(row, col, text, styles["table_header"])
    for f in schema.FIELDS:
        row += 1
        cells = (f.header, f.help, _sheets_text(f), _requirement_text(f))
        for col, text in enumerate(cells, start=1):
            ws.write(row, col, text, styles["table_cell"])
        ws.set_row(row, 15 * max(_lines(t, widths[c]) for c, t in enumerate(cells, start=1)))
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.protect("", READ_ONLY_PERMISSIONS)


def _lines(text: str, width: float) -> int:
    """Rough number of wrapped lines of ``text`` in a cell ``width`` characters wide (wrapping
    breaks at words, so a line holds somewhat fewer characters than the width)."""
    return max(1, -(-len(text) // int(width * 0.85)))


# ---------------------------------------------------------------------------------------------
# Identitas
# ---------------------------------------------------------------------------------------------


def _identitas_values(unit: Unit, period: Period, overrides: dict) -> dict[str, object]:
    values: dict[str, object] = {
        "kode_unit": unit.kode,
        "nama_unit": unit.nama,
        "periode": str(period),
        "tanggal_pengisian": None,
        "nama_pengisi": None,
        "versi_template": schema.TEMPLATE_VERSION,
    }
    values.update(overrides)
    return values


def _write_identitas(ws, styles, unit: Unit, period: Period, overrides: dict) -> None:
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 52)
    ws.hide_gridlines(2)
    ws.write(0, 0, "IDENTITAS UNIT KERJA", styles["title"])
    ws.write(
        1,
        0,
        "Isi sel berwarna kuning. Sel lain sudah terisi dan tidak perlu diubah.",
        styles["note"],
    )
    values = _identitas_values(unit, period, overrides)
    editable = {"tanggal_pengisian", "nama_pengisi"}
    for offset, (key, label) in enumerate(schema.IDENTITAS_FIELDS):
        row = schema.IDENTITAS_FIRST_ROW - 1 + offset
        ws.write_string(row, 0, label, styles["label"])
        value = values.get(key)
        if key == "tanggal_pengisian":
            style = styles["input_date"]
        else:
            style = styles["input"] if key in editable else styles["value"]
        _write_value(ws, row, 1, value, style)
    row_date = (
        schema.IDENTITAS_FIRST_ROW
        - 1
        + [k for k, _ in schema.IDENTITAS_FIELDS].index("tanggal_pengisian")
    )
    ws.data_validation(
        row_date,
        1,
        row_date,
        1,
        {
            "validate": "any",
            "input_title": "Tanggal Pengisian",
            "input_message": "Tanggal berkas ini diisi, misalnya 03/11/2025.",
        },
    )
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.protect("", READ_ONLY_PERMISSIONS)


# ---------------------------------------------------------------------------------------------
# RB Umum / RB Tematik
# ---------------------------------------------------------------------------------------------


def _write_action_sheet(
    ws,
    styles,
    sheet: schema.SheetKind,
    unit: Unit,
    period: Period,
    rows: list[dict],
    ref_ranges: dict[str, str],
) -> None:
    fields = sheet.fields
    last_col = len(fields) - 1
    header = schema.TEMPLATE_HEADER_ROW - 1
    first = schema.TEMPLATE_FIRST_DATA_ROW - 1
    last_validated = VALIDATED_LAST_ROW - 1

    prepared = max(len(rows), schema.TEMPLATE_DATA_ROWS)
    # Excel deletes a row of a protected sheet only when every cell of it is unlocked: prepared
    # rows get an unlocked row format (whole width); below them the unlocked column formats
    # keep the data columns editable. The header rows stay locked.
    for i in range(prepared):
        values = rows[i] if i < len(rows) else {}
        ws.set_row(first + i, _row_height(fields, values), styles["data_row"])
    for col, f in enumerate(fields):
        ws.set_column(col, col, f.width, _column_style(styles, f))

    ws.merge_range(
        schema.TEMPLATE_TITLE_ROW - 1,
        0,
        schema.TEMPLATE_TITLE_ROW - 1,
        last_col,
        sheet.title,
        styles["title"],
    )
    ws.merge_range(
        schema.TEMPLATE_UNIT_ROW - 1,
        0,
        schema.TEMPLATE_UNIT_ROW - 1,
        last_col,
        f"Unit Kerja: {unit.nama} ({unit.kode})    Periode: {period.label}",
        styles["subtitle"],
    )
    ws.merge_range(
        header - 1,
        0,
        header - 1,
        last_col,
        "Satu baris untuk satu rencana aksi. Target dan realisasi diisi kumulatif; "
        "lihat lembar Petunjuk.",
        styles["note"],
    )
    for col, f in enumerate(fields):
        ws.write_string(header, col, f.header, styles["header"])
    ws.set_row(header, 45)

    for i in range(prepared):
        values = rows[i] if i < len(rows) else {}
        for col, f in enumerate(fields):
            # Empty cells take the row format; budget cells keep their Rupiah format.
            if values.get(f.name) is not None or f.name in schema.BUDGET_FIELDS:
                _write_value(ws, first + i, col, values.get(f.name), _data_style(styles, f))
    # Grid lines for the whole data area (rows a unit adds too) without writing empty cells,
    # which keeps the file light for every reader.
    ws.conditional_format(
        first,
        0,
        last_validated,
        last_col,
        {"type": "formula", "criteria": "=TRUE", "format": styles["grid"]},
    )

    for col, f in enumerate(fields):
        validation = _validation(f, ref_ranges)
        if validation:
            ws.data_validation(first, col, last_validated, col, validation)
    ws.freeze_panes(first, 1)
    ws.autofilter(header, 0, first + prepared - 1, last_col)
    ws.protect("", DATA_SHEET_PERMISSIONS)
    ws.set_landscape()
    ws.set_paper(8)  # A3: twenty columns stay legible on one page width
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header)


def _row_height(fields: tuple[schema.Field, ...], values: dict) -> float | None:
    """Height of a filled row, so wrapped text shows whole (None: the default height)."""
    lines = max(
        (
            _lines(str(values[f.name]), f.width)
            for f in fields
            if isinstance(values.get(f.name), str)
        ),
        default=1,
    )
    return 15 * min(lines, 8) if lines > 1 else None


def _column_style(styles, f: schema.Field):
    """Borderless unlocked column format: covers rows a unit inserts below the prepared ones."""
    return styles["unlocked_rupiah"] if f.name in schema.BUDGET_FIELDS else styles["unlocked"]


def _data_style(styles, f: schema.Field):
    if f.name in schema.BUDGET_FIELDS:
        return styles["data_rupiah"]
    return styles["data_number"] if f.is_number else styles["data_text"]


def _validation(f: schema.Field, ref_ranges: dict[str, str]) -> dict | None:
    """The data validation of a field's column: a dropdown for listed fields, a number >= 0
    check for numbers, nothing for free text."""
    if f.choices:
        return {
            "validate": "list",
            "source": ref_ranges[f.choices],
            "input_title": f.header,
            "input_message": f.help,
            "error_title": "Pilihan tidak ada di daftar",
            "error_message": (
                f"Pilih {f.header} dari daftar pilihan (klik panah di sebelah kanan sel). "
                "Daftar lengkapnya ada di lembar Referensi."
            ),
        }
    if f.is_number:
        extra = " Bila Satuan = Persen, paling tinggi 100." if f.quarter else ""
        return {
            "validate": "decimal",
            "criteria": ">=",
            "value": 0,
            "input_title": f.header[:32],
            "input_message": (
                f.help + extra + " Tulis angka saja, tanpa Rp, titik ribuan atau tanda %."
            )[:255],
            "error_title": "Isian harus angka",
            "error_message": (
                f"{f.header} harus berupa angka 0 atau lebih. Tulis angka saja, tanpa huruf, "
                "'Rp', titik ribuan atau tanda %."
            ),
        }
    return None


def _write_value(ws, row: int, col: int, value: object, style) -> None:
    """Write one value with its natural Excel type; None writes an empty formatted cell."""
    if value is None:
        ws.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, style)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, style)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, value, style)
    else:
        ws.write_string(row, col, str(value), style)


# ---------------------------------------------------------------------------------------------
# Referensi and metadata
# ---------------------------------------------------------------------------------------------


def _write_referensi(ws, styles, registry: Registry) -> None:
    for col, (name, label) in enumerate(REFERENCE_LISTS):
        values = registry.reference(name)
        ws.set_column(col, col, max([len(label), *map(len, values)]) + 4)
        ws.write_string(0, col, label, styles["table_header"])
        for row, value in enumerate(values, start=1):
            ws.write_string(row, col, value, styles["table_cell"])
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.protect("", READ_ONLY_PERMISSIONS)


def meta_values(unit: Unit, period: Period) -> dict[str, str]:
    """The key/value pairs of the very hidden metadata sheet."""
    return {
        "versi_template": schema.TEMPLATE_VERSION,
        "kode_unit": unit.kode,
        "periode": str(period),
        "dibuat_oleh": f"rbpipe {__version__}",
    }


def _write_meta(ws, unit: Unit, period: Period) -> None:
    for row, (key, value) in enumerate(meta_values(unit, period).items()):
        ws.write_string(row, 0, key)
        ws.write_string(row, 1, value)
    ws.very_hidden()
    ws.protect("")
