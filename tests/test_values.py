"""Cell values as units write them: Indonesian numbers, percentages, dates, periods, text."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.values import (
    is_persen,
    parse_date,
    parse_number,
    parse_period,
    parse_text,
)


@pytest.mark.parametrize(
    "text, number",
    [
        ("1.250.000", 1250000.0),
        ("Rp 1.250.000,00", 1250000.0),
        ("Rp. 1.980.450.000,5", 1980450000.5),
        ("Rp1.250.000,-", 1250000.0),
        ("IDR 2.500", 2500.0),
        ("0,5", 0.5),
        ("1250000", 1250000.0),
        ("1,250,000.50", 1250000.5),
        ("1,250,000", 1250000.0),
        ("1 250 000", 1250000.0),
        ("1.250", 1250.0),  # a dot before three digits groups thousands in Indonesia
        ("12.500", 12500.0),
        ("0.250", 0.25),  # ... but never after a zero
        ("2.75", 2.75),
        ("1250.5", 1250.5),
        ("1,250", 1.25),  # one comma is the Indonesian decimal mark
        ("  7 ", 7.0),
        ("-5", -5.0),  # negative numbers are parsed; validation reports them (RB-E104)
        ("\u00a01.000\u00a0", 1000.0),
    ],
)
def test_indonesian_and_english_number_text(text, number):
    assert parse_number(text) == (number, None)


@pytest.mark.parametrize("text", [None, "", "   ", "-", "–", "—", "Rp -", "Rp. –", "Rp"])
def test_dash_and_empty_are_missing_not_zero(text):
    assert parse_number(text) == (None, None)


@pytest.mark.parametrize(
    "text", ["abc", "12,5,3", "5 dokumen", "1.2.3", "1,25.000", "(5)", "75%%", "12-5"]
)
def test_text_that_is_not_a_number_comes_back_as_raw(text):
    assert parse_number(text) == (None, text.strip())


def test_excel_numbers_are_taken_as_they_are_and_booleans_rejected():
    assert parse_number(12) == (12.0, None)
    assert parse_number(0.1) == (0.1, None)
    assert parse_number(True) == (None, "BENAR")
    assert parse_number(False) == (None, "SALAH")
    assert parse_number(dt.datetime(2025, 10, 1)) == (None, "2025-10-01")


@pytest.mark.parametrize(
    "cell, percent_format, persen, number",
    [
        (0.75, True, True, 75.0),  # "75%" typed into Excel in a Persen row
        (0.07, True, True, 7.0),  # no float noise (0.07 * 100 = 7.000000000000001)
        (1, True, True, 100.0),
        (0.75, True, False, 0.75),  # in a Dokumen row the quantity is kept
        (0.75, False, True, 0.75),  # a plain 0.75 stays what was typed
        ("75%", False, True, 75.0),
        ("75 %", False, True, 75.0),
        ("12,5%", False, True, 12.5),
        ("75%", False, False, 0.75),
    ],
)
def test_percentages(cell, percent_format, persen, number):
    assert parse_number(cell, percent_format=percent_format, persen=persen) == (number, None)


@pytest.mark.parametrize("satuan", ["Persen", "persen ", "PERSEN", "%", "Persentase"])
def test_persen_spellings(satuan):
    assert is_persen(satuan)


@pytest.mark.parametrize("satuan", ["Dokumen", None, 100, "Per sen dokumen"])
def test_not_persen(satuan):
    assert not is_persen(satuan)


# --- property: any number written in any accepted style parses back exactly -----------------


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])


def _indonesian(amount: Decimal, places: int) -> str:
    whole, _, frac = f"{amount:.{places}f}".partition(".")
    return _group(whole, ".") + (f",{frac}" if places else "")


def _english(amount: Decimal) -> str:
    whole, _, frac = f"{amount:.2f}".partition(".")
    return _group(whole, ",") + "." + frac


def _plain(amount: Decimal, places: int) -> str:
    return f"{amount:.{places}f}".replace(".", ",")


STYLES = {
    "indonesian": lambda a, p: _indonesian(a, p),
    "rupiah": lambda a, p: "Rp " + _indonesian(a, p),
    "rupiah_dot": lambda a, p: "Rp. " + _indonesian(a, p),
    "rupiah_dash": lambda a, p: "Rp" + _indonesian(a, 0) + ",-" if p == 0 else None,
    "plain": lambda a, p: _plain(a, p),
    "english": lambda a, p: _english(a),
    "spaces": lambda a, p: _group(f"{a:.0f}", " ") if p == 0 else None,
}

amounts = st.tuples(st.integers(min_value=0, max_value=10**13), st.sampled_from([0, 1, 2]))


@given(amount=amounts, style=st.sampled_from(sorted(STYLES)))
def test_any_number_in_any_accepted_style_parses_back_exactly(amount, style):
    units, places = amount
    value = Decimal(units).scaleb(-places)
    if style == "english":
        value = value.quantize(Decimal("0.01"))
    text = STYLES[style](value, places)
    if text is None:
        return
    assert parse_number(text) == (float(value), None), text


@given(
    hundredths=st.integers(min_value=0, max_value=100_00),
    spaced=st.booleans(),
    comma=st.booleans(),
)
def test_any_percentage_text_parses_back_in_a_persen_row(hundredths, spaced, comma):
    value = Decimal(hundredths).scaleb(-2)
    written = f"{value:f}".replace(".", ",") if comma else f"{value:f}"
    if not comma and "." in written and len(written.split(".")[1]) == 3:
        return  # "1.250%" would read as thousands; two decimals never do
    text = written + (" %" if spaced else "%")
    assert parse_number(text, persen=True) == (float(value), None)
    assert parse_number(text, persen=False) == (float(value / 100), None)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_percent_formatted_cell_in_a_persen_row_is_its_shown_number(fraction):
    number, raw = parse_number(fraction, percent_format=True, persen=True)
    assert raw is None
    assert number == float(Decimal(repr(fraction)) * 100)
    assert parse_number(fraction, percent_format=True, persen=False) == (fraction, None)


@given(st.text())
def test_number_parser_never_raises(text):
    number, raw = parse_number(text)
    assert number is None or isinstance(number, float)
    assert (raw is None) or (number is None)


# --- text, dates, periods ----------------------------------------------------------------


@pytest.mark.parametrize(
    "cell, text",
    [
        ("  Bagian Umum ", "Bagian Umum"),
        ("", None),
        ("-", None),
        (None, None),
        (3.0, "3"),
        (2.5, "2.5"),
        (7, "7"),
        (dt.datetime(2025, 10, 23), "2025-10-23"),
        (True, "BENAR"),
    ],
)
def test_text_fields(cell, text):
    assert parse_text(cell) == text


@pytest.mark.parametrize(
    "cell",
    [
        "23 Oktober 2025",
        "23 oktober 2025",
        "23 Okt 2025",
        "23-Okt-2025",
        "23/10/2025",
        "23-10-2025",
        "23.10.25",
        "2025-10-23",
        dt.datetime(2025, 10, 23, 0, 0),
        dt.date(2025, 10, 23),
    ],
)
def test_dates(cell):
    assert parse_date(cell) == (dt.date(2025, 10, 23), None)


@pytest.mark.parametrize("cell", ["31/02/2025", "kemarin", "23 Oktobre 2025", 45000])
def test_bad_dates_come_back_raw(cell):
    date, raw = parse_date(cell)
    assert date is None and raw == str(cell)


@pytest.mark.parametrize(
    "cell, period",
    [
        ("2025-10", (2025, 10)),
        ("2025/10", (2025, 10)),
        ("10/2025", (2025, 10)),
        ("Oktober 2025", (2025, 10)),
        ("OKT 2025", (2025, 10)),
        ("oktober", (None, 10)),
        ("23 Oktober 2025", (2025, 10)),
        (dt.datetime(2025, 10, 1), (2025, 10)),
        ("2025-13", None),
        ("Triwulan III", None),
        (202510, None),
    ],
)
def test_periods(cell, period):
    assert parse_period(cell) == period


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=3))
def test_numbers_in_messages_read_back_with_the_indonesian_parser(whole, decimals):
    from pipeline.locale_id import number

    value = whole / 10**decimals
    assert parse_number(number(value, decimals))[0] == pytest.approx(value)
