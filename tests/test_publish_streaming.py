"""What the publishers do to stay fast and small at scale must not show in the workbooks.

A table written to a streaming sheet (rows written and dropped, for the regency workbook's
consolidated sheets) reads back exactly as the same table kept in memory; the plans frame is
turned into records with exactly the values ``DataFrame.to_dict("records")`` gives."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest
from factories import HOSTILE_TEXTS, PERIOD
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.publish.styles import (
    RECORD_BLOCK,
    Cell,
    Column,
    Formats,
    Sheet,
    TableBlock,
    iter_records,
    open_workbook,
    write_streamed_table,
    write_table,
)

COLUMNS = [
    Column(header="Kode Unit", style="bold"),
    Column(header="Rencana Aksi", style="wrap", max_width=20),
    Column(header="Target TW IV", style="dec"),
    Column(header="Anggaran", style="rupiah"),
    Column(header="Data Dukung", style="wrap", links=True, max_width=30),
    Column(header="Diterima", style="datetime"),
    Column(header="Status"),
]


def _rows(n: int) -> list[tuple]:
    """Rows with every kind of item a consolidated sheet holds: long wrapping text, numbers,
    blanks, links, dates, formula-looking text, problem cells with tone and comment."""
    rows = []
    for i in range(n):
        text = HOSTILE_TEXTS[i % len(HOSTILE_TEXTS)] if i % 7 == 0 else f"Rencana aksi {i} " * 3
        target = Cell(value=120.0, tone="error", comment="Kesalahan RB-E105: lebih dari 100")
        rows.append(
            (
                f"UNIT-{i:04d}",
                text,
                target if i % 5 == 0 else (float(i) if i % 3 else None),
                i * 1_250_000.0,
                f"https://contoh.invalid/bukti/{i}" if i % 2 else "belum ada",
                dt.datetime(2025, 11, 1 + i % 28, 8, 30),
                Cell(value="Tidak Dihitung", tone="muted") if i % 4 == 0 else "Selesai",
            )
        )
    return rows


def _write(path, rows, *, streaming: bool, blocks: list[TableBlock] | None = None) -> None:
    """The table of ``rows`` (or of ``blocks``, by write_streamed_table) in a new workbook."""
    book = open_workbook(
        path,
        period=PERIOD,
        title="Uji",
        author="Bagian Organisasi",
        company="Pemda",
        streaming=streaming,
    )
    sheet = Sheet(book, Formats(book), "RB Umum", streaming=streaming)
    if blocks is None:
        write_table(sheet, top=0, columns=COLUMNS, rows=rows)
    else:
        write_streamed_table(sheet, top=0, columns=COLUMNS, blocks=blocks)
    sheet.ws.freeze_panes(1, 3)
    book.close()


def _cells(path) -> tuple:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = openpyxl.load_workbook(path)["RB Umum"]
    cells = [
        (
            c.coordinate,
            c.value,
            c.data_type,
            c.number_format,
            c.font.b,
            c.fill.fgColor.rgb,
            c.alignment.wrap_text,
            c.comment.text if c.comment else None,
            c.hyperlink.target if c.hyperlink else None,
        )
        for row in ws.iter_rows()
        for c in row
    ]
    tables = [
        (t.ref, t.tableStyleInfo.name, [c.name for c in t.tableColumns]) for t in ws.tables.values()
    ]
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    return cells, tables, heights, widths, ws.freeze_panes


def test_a_streamed_table_reads_back_as_the_same_table_kept_in_memory(tmp_path):
    rows = _rows(300)
    _write(tmp_path / "kept.xlsx", rows, streaming=False)
    _write(tmp_path / "streamed.xlsx", rows, streaming=True)
    kept, streamed = _cells(tmp_path / "kept.xlsx"), _cells(tmp_path / "streamed.xlsx")
    assert streamed == kept
    cells, tables, heights, _, _ = streamed
    assert tables == [("A1:G301", "TableStyleLight9", [c.header for c in COLUMNS])]
    assert [c[1] for c in cells[: len(COLUMNS)]] == [c.header for c in COLUMNS]
    assert any(h > 20 for h in heights.values()), "wrapped text must make rows taller"
    formula_text = next(c for c in cells if c[1] == HOSTILE_TEXTS[0])
    assert formula_text[2] == "s", "formula-looking text stays text when streamed"


def test_a_streamed_workbook_is_the_same_bytes_every_time(tmp_path):
    rows = _rows(50)
    _write(tmp_path / "a.xlsx", rows, streaming=True)
    _write(tmp_path / "b.xlsx", rows, streaming=True)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(max_size=5)),
            st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
            st.integers(min_value=-(2**40), max_value=2**40),
            st.booleans(),
        ),
        max_size=30,
    )
)
def test_records_hold_the_values_to_dict_gives(rows):
    frame = pd.DataFrame(rows, columns=["teks", "angka", "bulat", "benar"])
    frame = frame.astype({"angka": "float64", "bulat": "int64", "benar": bool})
    frame["str"] = frame["teks"].astype("str")  # pandas' text dtype, NaN for missing
    expected, got = frame.to_dict("records"), list(iter_records(frame))
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert list(have) == list(want)
        assert all(_same(want[k], have[k]) for k in want), (want, have)


def test_records_are_converted_block_by_block_across_the_block_size():
    frame = pd.DataFrame({"n": np.arange(RECORD_BLOCK * 2 + 3), "x": 0.5})
    got = list(iter_records(frame))
    assert [r["n"] for r in got] == list(range(RECORD_BLOCK * 2 + 3))
    assert all(type(r["n"]) is int and r["x"] == 0.5 for r in got)


@pytest.mark.parametrize("dtype", ["Int64", "datetime64[us]"])
def test_frames_with_other_dtypes_take_pandas_own_path(dtype):
    values = [1, None] if dtype == "Int64" else [dt.datetime(2025, 10, 1), None]
    frame = pd.DataFrame({"v": pd.Series(values, dtype=dtype)})
    assert [repr(r["v"]) for r in iter_records(frame)] == [
        repr(r["v"]) for r in frame.to_dict("records")
    ]


# --------------------------------------------------------------------------------------------
# Streamed rows' cell XML (pipeline.publish.cellxml) is xlsxwriter's own
# --------------------------------------------------------------------------------------------

# Text xlsxwriter escapes in ways worth checking: control characters, its own _xHHHH_ escape
# written literally, markup characters, leading and trailing whitespace, characters outside the
# BMP, the two non-characters, and the cell limit (counted in UTF-16 units).
TRICKY_TEXTS = (
    "a\x01b\x1fc",
    "_x0041_ dan _X00ff_",
    '<b>"&"</b>',
    " spasi di depan",
    "spasi di belakang\n",
    "\tdiawali tab",
    "emoji 🙂 di tengah",
    "\ufffe\uffff",
    "x" * 40_000,
    "🙂" * 20_000,
)
TEXT = st.one_of(
    st.sampled_from(TRICKY_TEXTS),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
).filter(lambda t: not (t.startswith("<r>") and t.endswith("</r>")))  # the one difference
VALUE = st.one_of(
    st.none(),
    TEXT,
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _sheet_xml(path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def _stream_both_ways(tmp_path, rows: list[list[object]]) -> tuple[bytes, bytes]:
    """The same cells written by xlsxwriter's own cell writer and as XML made by
    ``cellxml.RowCells``, each on a streaming sheet; both sheets' XML."""
    from pipeline.publish.cellxml import RowCells

    out = []
    for way in ("xlsxwriter", "cellxml"):
        path = tmp_path / f"{way}.xlsx"
        book = open_workbook(path, period=PERIOD, title="", author="", company="", streaming=True)
        sheet = Sheet(book, Formats(book), "Data", streaming=True)
        text_fmt, number_fmt = sheet.fmt("wrap"), sheet.fmt("dec", "error")
        ws, cells = sheet.ws, RowCells()
        if way == "cellxml":
            ws.start_rows(0, 0, len(rows) - 1, max(len(row) for row in rows) - 1)
        for r, row in enumerate(rows):
            parts = []
            for c, value in enumerate(row):
                ref = cells.letter(c) + str(r + 1)
                if value is None:
                    ws.write_blank(r, c, None, text_fmt) if way == "xlsxwriter" else parts.append(
                        cells.blank(ref, text_fmt._get_xf_index())
                    )
                elif isinstance(value, str):
                    ws.write_string(r, c, value, text_fmt) if way == "xlsxwriter" else parts.append(
                        cells.text(ref, text_fmt._get_xf_index(), value)
                    )
                else:
                    ws.write_number(
                        r, c, value, number_fmt
                    ) if way == "xlsxwriter" else parts.append(
                        cells.number(ref, number_fmt._get_xf_index(), value)
                    )
            if way == "cellxml":
                ws.put_row(r, "".join(parts))
        if way == "cellxml":
            ws.end_rows()
        book.close()
        out.append(_sheet_xml(path))
    return out[0], out[1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(VALUE, min_size=1, max_size=4), min_size=1, max_size=6))
def test_streamed_cell_xml_is_byte_for_byte_xlsxwriters(tmp_path_factory, rows):
    own, made = _stream_both_ways(tmp_path_factory.mktemp("xml"), rows)
    assert made == own


def test_every_tricky_text_is_written_as_xlsxwriter_writes_it(tmp_path):
    own, made = _stream_both_ways(tmp_path, [[text, 1.5, None, 7] for text in TRICKY_TEXTS])
    assert made == own


def test_text_that_looks_like_rich_text_markup_stays_text(tmp_path):
    """xlsxwriter writes ``<r>...</r>`` unescaped on a streaming sheet (rich text): a unit's
    ``<r>&</r>`` would make the workbook unreadable. Streamed rows write it as text."""
    hostile = ["<r>&</r>", "<r><t>tersembunyi</t></r>", "<r>"]
    rows = [
        (f"UNIT-{i}", text, 1.0, None, "x", dt.datetime(2025, 11, 1), "Selesai")
        for i, text in enumerate(hostile)
    ]
    _write(tmp_path / "t.xlsx", rows, streaming=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["RB Umum"]
    assert [ws.cell(row=i + 2, column=2).value for i in range(len(hostile))] == hostile


# --------------------------------------------------------------------------------------------
# Kept renderings (the regency workbook's rows of unchanged units, from the run cache)
# --------------------------------------------------------------------------------------------


def _write_blocks(path, blocks: list[TableBlock]) -> None:
    _write(path, [], streaming=True, blocks=blocks)


def _kept_blocks(parts: list[list[tuple]], tmp_path) -> list[tuple]:
    """Write ``parts`` as fresh blocks; return each block's rendering and widest values."""
    kept: list[tuple] = [None] * len(parts)

    def keeper(i):
        return lambda rendered, contents: kept.__setitem__(i, (rendered, contents))

    _write_blocks(
        tmp_path / "pertama.xlsx",
        [TableBlock(rows=part, keep=keeper(i)) for i, part in enumerate(parts)],
    )
    assert all(k is not None for k in kept)
    return kept


def test_kept_renderings_write_the_bytes_of_rows_rendered_now(tmp_path):
    rows = _rows(120)
    parts = [rows[:50], rows[50:51], rows[51:]]
    _write(tmp_path / "sekaligus.xlsx", rows, streaming=True)
    kept = _kept_blocks(parts, tmp_path)
    whole = (tmp_path / "sekaligus.xlsx").read_bytes()
    assert (tmp_path / "pertama.xlsx").read_bytes() == whole

    # Blocks 0 and 2 from their renderings, block 1 rendered again: the same bytes.
    made: list[int] = []

    def rows_of(i):
        return lambda: made.append(i) or parts[i]

    blocks = [
        TableBlock(rendered=kept[0][0], contents=kept[0][1], rows_of=rows_of(0)),
        TableBlock(rows=parts[1]),
        TableBlock(rendered=kept[2][0], contents=kept[2][1], rows_of=rows_of(2)),
    ]
    _write_blocks(tmp_path / "lagi.xlsx", blocks)
    assert made == []
    assert (tmp_path / "lagi.xlsx").read_bytes() == whole


def test_a_rendering_made_for_other_column_widths_is_not_used(tmp_path):
    rows = _rows(60)
    parts = [rows[:30], rows[30:]]
    kept = _kept_blocks(parts, tmp_path)
    # The second block now holds longer unit codes: the column is wider than the first block's
    # rendering was made for. That rendering must give way to its rows.
    longer = [(r[0] + "-DENGAN-KODE-PANJANG", *r[1:]) for r in parts[1]]
    made: list[int] = []
    blocks = [
        TableBlock(
            rendered=kept[0][0], contents=kept[0][1], rows_of=lambda: made.append(0) or parts[0]
        ),
        TableBlock(rows=longer),
    ]
    _write_blocks(tmp_path / "lagi.xlsx", blocks)
    _write(tmp_path / "sekaligus.xlsx", parts[0] + longer, streaming=True)
    assert made == [0]
    assert (tmp_path / "lagi.xlsx").read_bytes() == (tmp_path / "sekaligus.xlsx").read_bytes()
