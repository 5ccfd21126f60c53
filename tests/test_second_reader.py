"""A reader's bug is never the unit's fault: second readers, styled blanks, every sheet read.

* a file calamine cannot parse but that is a workbook is read by a second reader, which agrees
  with calamine wherever both can read;
* RB-E003 only when no reader can open the file, and it never says "not a workbook";
* a million styled empty cells cost no Python step per cell (measured as work and memory);
* duplicating an action-plan sheet, either copy emptied, never loses a plan.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from producers.content import PLANS

from pipeline import schema
from pipeline.ingest import ooxml, parse_workbook
from pipeline.ingest.biff import scan_xls
from pipeline.ingest.fallback import read_second
from pipeline.ingest.limits import DEFAULT_LIMITS
from pipeline.ingest.ods import scan_ods
from pipeline.ingest.reader import read_workbook
from pipeline.ingest.workbook import ReadFailure
from pipeline.registry import Period, load_registry
from pipeline.template import template_bytes

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = sorted((FIXTURES / "reader").glob("sample*")) + sorted(
    (FIXTURES / "ingest").glob("*.lo.*")
)


def _scan(path: Path, fmt: str):
    if fmt == "xls":
        return scan_xls(path, DEFAULT_LIMITS)
    with zipfile.ZipFile(path) as zf:
        return (scan_ods if fmt == "ods" else ooxml.scan_ooxml)(zf, DEFAULT_LIMITS)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_second_reader_agrees_with_calamine_on_real_producers_files(path):
    fast = read_workbook(path)
    second = read_second(path, fast.format, _scan(path, fast.format), DEFAULT_LIMITS)
    assert [s.name for s in second] == [s.name for s in fast.sheets]
    for a, b in zip(fast.sheets, second, strict=True):
        assert a.state == b.state, a.name
        assert a.merged == b.merged and a.percent == b.percent, a.name
        for r, (mine, theirs) in enumerate(zip(a.cells, b.cells, strict=True), start=1):
            if path.suffix == ".ods":  # calamine drops <text:tab/>; odfpy keeps it
                mine = [v.replace("\t", "") if isinstance(v, str) else v for v in mine]
                theirs = [v.replace("\t", "") if isinstance(v, str) else v for v in theirs]
            assert mine == theirs, (a.name, r)


def test_gnumeric_ods_fails_in_calamine_and_is_read_by_odfpy():
    from python_calamine import CalamineWorkbook

    path = FIXTURES / "producers" / "gnumeric.ods"
    with pytest.raises(Exception, match="table-cell"):  # indentation between tags
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()
    workbook = read_workbook(path)
    assert workbook.reader == "odfpy"
    parsed = parse_workbook(workbook)
    assert [len(s.rows) for s in parsed.sheets] == [len(PLANS["umum"]), len(PLANS["tematik"])]
    first = parsed.sheets[0].rows[0]
    assert (
        first[1 + schema.FIELDS.index(schema.FIELD_BY_NAME["rencana_aksi"])]
        == (PLANS["umum"][0]["rencana_aksi"])
    )


def test_a_workbook_no_reader_can_open_is_rb_e003_naming_each_reader(tmp_path):
    good = FIXTURES / "producers" / "template.xlsx"
    broken = tmp_path / "rusak.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                data = b"\x00\xffbukan XML" * 50  # a part no XML parser accepts
            dst.writestr(info, data)
    with pytest.raises(ReadFailure) as caught:
        read_workbook(broken)
    failure = caught.value
    assert failure.code == "RB-E003"
    assert "pemeriksaan struktur:" in failure.message and "openpyxl:" in failure.message
    assert "bukan lembar kerja" not in failure.message


def _styled_blanks(path: Path, rows: int, cols: int) -> Path:
    """A workbook whose only sheet has a header, one plan row and rows x cols styled empty
    cells below (as Gnumeric writes whole-column formats)."""
    cells = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{schema.column_letter(c)}{r}" s="1"/>' for c in range(1, cols + 1))
        + "</row>"
        for r in range(3, rows + 3)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Kode RA</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>U-01</t></is></c><c r="B2"><v>7</v></c></row>'
        f"{cells}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        zf.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="RB Umum" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def test_a_million_styled_empty_cells_cost_no_step_per_cell(tmp_path, monkeypatch):
    path = _styled_blanks(tmp_path / "gaya.xlsx", rows=4000, cols=256)  # 1,024,000 cells

    def per_cell_parser(*args, **kwargs):
        raise AssertionError("the streaming (per-cell) scan was used")

    monkeypatch.setattr(ooxml, "_SheetTarget", per_cell_parser)
    tracemalloc.start()
    try:
        with zipfile.ZipFile(path) as zf:
            scan = ooxml.scan_ooxml(zf, DEFAULT_LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sheet = scan.sheets["RB Umum"]
    assert (sheet.n_rows, sheet.n_cols) == (2, 2)  # the used range counts cells with values
    # The part is ~25 MB of XML; pieces of 4 MiB and only the valued cells are held.
    assert peak < 40 << 20, peak
    workbook = read_workbook(path)
    assert workbook.sheets[0].cells == [["Kode RA"], ["U-01", 7.0]]


# --------------------------------------------------------------------------------------------
# Duplicated action-plan sheets
# --------------------------------------------------------------------------------------------

_REGISTRY = load_registry()
_UNIT = next(u for u in _REGISTRY.units if u.kode == "DINKES")


def _plans(kind: str, count: int) -> list[dict]:
    base = PLANS[kind]
    out = []
    for i in range(count):
        plan = dict(base[i % len(base)])
        plan["kode"] = f"{schema.SHEETS[kind].code_prefix}-{i + 1:02d}"
        out.append(plan)
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(schema.KINDS),
    counts=st.tuples(st.integers(1, 5), st.integers(0, 5)),
    emptied=st.sampled_from(["original", "copy"]),
    copy_name=st.sampled_from(
        ["{} (2)", "Copy of {}", "Salinan {}", "{}_revisi", "{} lama", "Sheet7"]
    ),
    copy_first=st.booleans(),
)
def test_duplicating_an_action_sheet_never_loses_a_plan(
    tmp_path_factory, kind, counts, emptied, copy_name, copy_first
):
    other = "tematik" if kind == "umum" else "umum"
    plans = {kind: _plans(kind, counts[0]), other: _plans(other, counts[1])}
    data = template_bytes(_UNIT, Period(2025, 10), _REGISTRY, plans=plans)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    original = wb[schema.SHEETS[kind].name]
    copy = wb.copy_worksheet(original)
    copy.title = copy_name.format(schema.SHEETS[kind].name)
    if copy_first:
        wb.move_sheet(copy, offset=wb.sheetnames.index(original.title) - len(wb.sheetnames) + 1)
    for row in (original if emptied == "original" else copy).iter_rows(
        min_row=schema.TEMPLATE_FIRST_DATA_ROW
    ):
        for cell in row:
            cell.value = None
    path = tmp_path_factory.mktemp("salinan") / "berkas.xlsx"
    wb.save(path)
    parsed = parse_workbook(read_workbook(path))
    staged = {s.layout.kind: s for s in parsed.sheets}
    assert len(staged[kind].rows) == counts[0]
    assert staged[kind].layout.sheet == (copy.title if emptied == "original" else original.title)
    assert not any(p.code == "RB-E013" for p in parsed.problems)
    read = sum(s.rows_read for s in parsed.sheets) + sum(s.rows_read for s, _ in parsed.unused)
    assert read == sum(len(s.rows) for s in parsed.sheets) + sum(
        len(s.skipped) for s in parsed.sheets
    ) + sum(s.rows_read for s, _ in parsed.unused)
