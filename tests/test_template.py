"""Template workbooks: what a unit receives, opened the way Excel would show it (openpyxl)."""

import datetime as dt
import io

import openpyxl
import pytest

from pipeline import schema
from pipeline.errors import RunError
from pipeline.registry import Period, load_registry
from pipeline.template import VALIDATED_LAST_ROW, template_bytes, write_templates

PERIOD = Period.parse("2025-10")
SHEET_ORDER = [
    schema.SHEET_PETUNJUK,
    schema.SHEET_IDENTITAS,
    "RB Umum",
    "RB Tematik",
    schema.SHEET_REFERENSI,
    schema.SHEET_META,
]


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def written(tmp_path_factory, registry):
    out = tmp_path_factory.mktemp("templat")
    return out, write_templates(out, PERIOD, registry)


@pytest.fixture(scope="module")
def dinkes(written):
    out, _ = written
    return openpyxl.load_workbook(out / "DINKES_2025-10.xlsx")


def test_one_template_per_registry_unit_named_after_its_code(written, registry):
    out, paths = written
    assert len(paths) == 51
    assert [p.name for p in paths] == [f"{u.kode}_2025-10.xlsx" for u in registry.units]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_every_template_opens_with_the_six_sheets_and_its_own_metadata(written, registry):
    out, paths = written
    for path in paths[::10]:
        wb = openpyxl.load_workbook(path, read_only=False)
        assert wb.sheetnames == SHEET_ORDER
        meta = wb[schema.SHEET_META]
        assert meta.sheet_state == "veryHidden"
        pairs = {row[0]: row[1] for row in meta.iter_rows(values_only=True)}
        kode = path.name.split("_")[0]
        assert pairs == {
            "versi_template": schema.TEMPLATE_VERSION,
            "kode_unit": kode,
            "periode": "2025-10",
            "dibuat_oleh": "rbpipe 0.1.0",
        }
        assert all(wb[name].sheet_state == "visible" for name in SHEET_ORDER[:-1])


def test_identitas_is_prefilled_with_code_name_period_and_version(dinkes):
    ws = dinkes[schema.SHEET_IDENTITAS]
    found = {}
    for offset, (key, label) in enumerate(schema.IDENTITAS_FIELDS):
        row = schema.IDENTITAS_FIRST_ROW + offset
        assert ws.cell(row, 1).value == label
        found[key] = ws.cell(row, 2).value
    assert found == {
        "kode_unit": "DINKES",
        "nama_unit": "Dinas Kesehatan",
        "periode": "2025-10",
        "tanggal_pengisian": None,
        "nama_pengisi": None,
        "versi_template": schema.TEMPLATE_VERSION,
    }
    # the unit types the date and its name; the rest is locked
    assert ws.cell(schema.IDENTITAS_FIRST_ROW + 3, 2).protection.locked is False
    assert ws.cell(schema.IDENTITAS_FIRST_ROW, 2).protection.locked is True


@pytest.mark.parametrize("kind", schema.KINDS)
def test_action_sheets_print_the_schema_headers_exactly(dinkes, kind):
    sheet = schema.SHEETS[kind]
    ws = dinkes[sheet.name]
    headers = [c.value for c in ws[schema.TEMPLATE_HEADER_ROW]][: len(sheet.fields)]
    assert headers == list(sheet.headers)
    assert ws.cell(schema.TEMPLATE_TITLE_ROW, 1).value == sheet.title
    assert "Dinas Kesehatan" in ws.cell(schema.TEMPLATE_UNIT_ROW, 1).value
    assert "Oktober 2025" in ws.cell(schema.TEMPLATE_UNIT_ROW, 1).value
    assert ws.freeze_panes == f"B{schema.TEMPLATE_FIRST_DATA_ROW}"


def _validations(ws) -> dict[str, object]:
    """Column letter -> the data validation whose range starts in that column."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = (dv, rng)
    return out


@pytest.mark.parametrize("kind", schema.KINDS)
def test_listed_fields_have_dropdowns_fed_by_referensi(dinkes, registry, kind):
    sheet = schema.SHEETS[kind]
    ws = dinkes[sheet.name]
    by_col = _validations(ws)
    referensi = dinkes[schema.SHEET_REFERENSI]
    for f in sheet.fields:
        if not f.choices:
            continue
        dv, rng = by_col[sheet.column_letter(f.name)]
        assert dv.type == "list"
        assert dv.formula1.startswith(f"{schema.SHEET_REFERENSI}!")
        cells = referensi[dv.formula1.split("!")[1].replace("$", "")]
        assert tuple(c[0].value for c in cells) == registry.reference(f.choices)
        assert rng.endswith(str(VALIDATED_LAST_ROW))
        assert "daftar" in dv.error


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_number_column_accepts_only_numbers_from_zero_with_indonesian_help(dinkes, kind):
    sheet = schema.SHEETS[kind]
    by_col = _validations(dinkes[sheet.name])
    numbers = [f for f in sheet.fields if f.is_number]
    assert len(numbers) == 10
    for f in numbers:
        dv, rng = by_col[sheet.column_letter(f.name)]
        assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
        assert (
            rng == f"{sheet.column_letter(f.name)}{schema.TEMPLATE_FIRST_DATA_ROW}:"
            f"{sheet.column_letter(f.name)}{VALIDATED_LAST_ROW}"
        )
        assert dv.promptTitle and "angka" in dv.prompt
        assert "harus berupa angka" in dv.error
        assert dv.showErrorMessage and dv.showInputMessage


@pytest.mark.parametrize("kind", schema.KINDS)
def test_header_is_locked_while_rows_stay_editable_and_insertable(dinkes, kind):
    ws = dinkes[schema.SHEETS[kind].name]
    protection = ws.protection
    assert protection.sheet is True and not protection.password
    # openpyxl reports True for a protected action: these must be allowed
    for action in ("insertRows", "deleteRows", "formatCells", "formatRows", "sort", "autoFilter"):
        assert getattr(protection, action) is False, action
    assert protection.insertColumns is not False  # columns stay as the template has them
    sheet = schema.SHEETS[kind]
    assert ws.cell(schema.TEMPLATE_HEADER_ROW, 1).protection.locked is True
    # prepared rows are unlocked across their whole width (so they can be deleted) ...
    prepared = range(
        schema.TEMPLATE_FIRST_DATA_ROW, schema.TEMPLATE_FIRST_DATA_ROW + schema.TEMPLATE_DATA_ROWS
    )
    assert all(ws.row_dimensions[r].protection.locked is False for r in prepared)
    assert ws.row_dimensions[schema.TEMPLATE_HEADER_ROW].protection.locked is not False
    budget = f"{sheet.column_letter('anggaran')}{schema.TEMPLATE_FIRST_DATA_ROW + 10}"
    assert ws[budget].protection.locked is False and ws[budget].number_format == "#,##0"
    # ... and every data column stays editable below them
    for f in sheet.fields:
        index = schema.column_index(sheet.column_letter(f.name))
        dims = [d for d in ws.column_dimensions.values() if d.min <= index <= d.max]
        assert len(dims) == 1 and dims[0].protection.locked is False, f.name
    # borders drawn for the whole validated area by one conditional format
    areas = [str(cf.sqref) for cf in ws.conditional_formatting]
    last = sheet.column_letter(sheet.field_names[-1])
    assert areas == [f"A{schema.TEMPLATE_FIRST_DATA_ROW}:{last}{VALIDATED_LAST_ROW}"]


def test_referensi_lists_the_registry_lists(dinkes, registry):
    ws = dinkes[schema.SHEET_REFERENSI]
    columns = list(ws.iter_cols(values_only=True))
    assert [col[0] for col in columns] == ["Sasaran RB", "Tema", "Satuan"]
    for col, name in zip(columns, ("sasaran", "tema", "satuan"), strict=True):
        assert tuple(v for v in col[1:] if v is not None) == registry.reference(name)


def test_petunjuk_explains_every_column_the_deadline_and_the_rules(dinkes):
    text = " ".join(
        str(v)
        for row in dinkes[schema.SHEET_PETUNJUK].iter_rows(values_only=True)
        for v in row
        if v is not None
    )
    for f in schema.FIELDS:
        assert f.header in text and f.help in text
    for phrase in (
        "KUMULATIF",
        "5 November 2025",
        "paling tinggi 100",
        "Data Dukung wajib",
        "Tindak Lanjut",
        "TW I sampai TW III",
        "DINKES_2025-10.xlsx",
        "Bagian Organisasi Sekretariat Daerah",
        "Jangan mengganti nama lembar",
    ):
        assert phrase in text, phrase


def test_same_inputs_give_the_same_bytes_with_fixed_properties(registry):
    unit = registry.unit("KEC-NATAR")
    first = template_bytes(unit, PERIOD, registry)
    assert first == template_bytes(unit, PERIOD, registry)
    assert first != template_bytes(unit, Period.parse("2025-11"), registry)
    props = openpyxl.load_workbook(io.BytesIO(first)).properties
    assert props.creator == "rbpipe"
    assert props.created == dt.datetime(2025, 10, 1)
    assert "Kecamatan Natar" in props.title


def test_a_filled_template_holds_plans_as_typed_numbers_and_text(registry):
    unit = registry.unit("DINKES")
    plan = {name: None for name in schema.SHEETS["umum"].field_names}
    plan.update(
        kode="U-01",
        sasaran="Birokrasi yang Kapabel",
        indikator="Jumlah SOP",
        rencana_aksi="Reviu SOP",
        output="SOP",
        satuan="Dokumen",
        target_tw1=1,
        target_tw2=2,
        target_tw3=3,
        target_tw4=4,
        realisasi_tw1=1,
        realisasi_tw2=2,
        realisasi_tw3=2.5,
        anggaran=1_250_000,
        penanggung_jawab="Sekretaris Dinas",
    )
    data = template_bytes(
        unit,
        PERIOD,
        registry,
        plans={"umum": [plan]},
        identitas={"tanggal_pengisian": dt.date(2025, 11, 3), "nama_pengisi": "Siti"},
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["RB Umum"]
    row = schema.TEMPLATE_FIRST_DATA_ROW
    sheet = schema.SHEETS["umum"]
    assert ws[f"{sheet.column_letter('kode')}{row}"].value == "U-01"
    assert ws[f"{sheet.column_letter('realisasi_tw3')}{row}"].value == 2.5
    assert ws[f"{sheet.column_letter('anggaran')}{row}"].value == 1_250_000
    assert ws[f"{sheet.column_letter('anggaran')}{row}"].number_format == "#,##0"
    assert ws[f"{sheet.column_letter('kendala')}{row}"].value is None
    assert ws.cell(row + 1, 1).value is None
    identitas = wb[schema.SHEET_IDENTITAS]
    assert identitas.cell(schema.IDENTITAS_FIRST_ROW + 3, 2).value == dt.datetime(2025, 11, 3)
    assert identitas.cell(schema.IDENTITAS_FIRST_ROW + 4, 2).value == "Siti"


def test_chosen_units_only_and_unknown_codes_refused_in_indonesian(tmp_path, registry):
    paths = write_templates(tmp_path, PERIOD, registry, units=["dinkes", "KEC-NATAR"])
    assert [p.name for p in paths] == ["DINKES_2025-10.xlsx", "KEC-NATAR_2025-10.xlsx"]
    with pytest.raises(RunError, match="Kode unit tidak dikenal: DINKESS"):
        write_templates(tmp_path / "x", PERIOD, registry, units=["DINKESS"])
    assert not (tmp_path / "x").exists()
