"""Registry contacts: Indonesian phone numbers, e-mail addresses, WhatsApp click-to-chat links."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.contact import (
    ContactError,
    normalize_phone,
    parse_emails,
    parse_phones,
    whatsapp_link,
)
from pipeline.registry import load_registry

# Generation is regex- and composite-driven: slow on a loaded two-core machine, never wrong.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A national mobile number: 8, then 8 to 11 digits (0812-3456-78 .. 0812-3456-7890-1).
national_numbers = st.from_regex(r"8[0-9]{8,11}", fullmatch=True)
PREFIXES = ["0", "+62", "62", "+62 (0)", "+62(0)", "0062", "+62 ", "62-", "(+62) "]
SEPARATORS = st.sampled_from([" ", "-", ".", "", "  ", " - ", "\u00a0"])


@st.composite
def spelled(draw, national: str) -> str:
    """``national`` as a person might type it: a prefix, then groups split by separators, maybe
    with the area-code-like first group in parentheses."""
    prefix = draw(st.sampled_from(PREFIXES))
    digits = national
    groups, i = [], 0
    while i < len(digits):
        size = draw(st.integers(min_value=2, max_value=5))
        groups.append(digits[i : i + size])
        i += size
    if prefix == "0" and draw(st.booleans()):
        head = f"(0{groups[0]})"
        rest = groups[1:]
        text = head + "".join(draw(SEPARATORS) + g for g in rest)
    else:
        text = prefix + "".join((draw(SEPARATORS) if j else "") + g for j, g in enumerate(groups))
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " "]))


@RELAXED
@given(st.data(), national_numbers)
def test_every_indonesian_spelling_of_a_mobile_number_normalises_to_62(data, national):
    text = data.draw(spelled(national))
    assert normalize_phone(text) == "62" + national


@RELAXED
@given(national_numbers)
def test_normalising_is_idempotent(national):
    once = normalize_phone("0" + national)
    assert normalize_phone(once) == once
    assert normalize_phone("+" + once) == once


@RELAXED
@given(st.text(max_size=30))
def test_any_text_gives_a_wa_number_or_an_indonesian_reason(text):
    try:
        number = normalize_phone(text)
    except ContactError as exc:
        assert str(exc)  # a reason, in Indonesian, never another exception
        return
    assert re.fullmatch(r"628[0-9]{8,11}", number)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0812-3456-7890", "6281234567890"),
        ("+62 812 3456 7890", "6281234567890"),
        ("62812.3456.7890", "6281234567890"),
        ("(0812) 3456 7890", "6281234567890"),
        ("+62 (0) 812-3456-789", "628123456789"),
        ("0062 811 720 1234", "628117201234"),
        ("0852 1234 5678", "6285212345678"),
    ],
)
def test_common_spellings(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0727 322 123", "bukan nomor seluler"),  # Kalianda landline
        ("+65 8123 4567", "bukan nomor Indonesia"),
        ("0812-3456", "panjangnya tidak wajar"),
        ("0812 3456 7890 1234", "panjangnya tidak wajar"),
        ("0812-3456-7890 ext 2", "huruf"),
        ("", "kosong"),
    ],
)
def test_unusable_numbers_are_refused_with_a_reason(text, reason):
    with pytest.raises(ContactError, match=reason):
        normalize_phone(text)


def test_a_cell_with_several_numbers_uses_the_first_valid_one():
    number, notes = parse_phones("0727-322123 / 0812 3456 7890; 0813 1111 2222")
    assert number == "6281234567890"
    assert any("bukan nomor seluler" in n for n in notes)
    assert any("diabaikan" in n for n in notes)


@RELAXED
@given(
    st.data(), national_numbers, st.text(st.characters(exclude_categories=("Cs",)), max_size=200)
)
def test_a_whatsapp_link_carries_the_number_and_exactly_the_text(data, national, text):
    number = normalize_phone(data.draw(spelled(national)))
    link = whatsapp_link(number, text)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/" + number)
    assert re.fullmatch(r"text=[A-Za-z0-9%._~-]*", parts.query)  # nothing left unencoded
    assert unquote(parts.query.removeprefix("text=")) == text


def test_whatsapp_link_refuses_an_unnormalised_number():
    with pytest.raises(ValueError):
        whatsapp_link("+62 812", "halo")


local_parts = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9_+-]{1,8})?", fullmatch=True)
domains = st.from_regex(r"([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\.){1,3}[a-z]{2,6}", fullmatch=True)


@RELAXED
@given(
    st.lists(st.tuples(local_parts, domains), min_size=1, max_size=4),
    st.sampled_from([";", ",", " ; "]),
)
def test_valid_addresses_are_kept_in_order(pairs, sep):
    addresses = [f"{a}@{d}" for a, d in pairs]
    kept, notes = parse_emails(sep.join(addresses))
    unique = list(dict.fromkeys(a.lower() for a in addresses))
    assert [a.lower() for a in kept] == unique
    assert notes == []


@pytest.mark.parametrize(
    "cell",
    [
        "dinkes@lampungselatankab.go.id\r\nBcc: semua@contoh.id",
        "Dinas Kesehatan <dinkes@lampungselatankab.go.id>",
        "dinkes at lampungselatankab.go.id",
        "dinkes@localhost",
        '"dinkes"@contoh.id',
    ],
)
def test_addresses_that_could_change_a_message_header_are_refused(cell):
    kept, notes = parse_emails(cell)
    assert all("\n" not in a and "\r" not in a and " " not in a and "<" not in a for a in kept)
    assert notes and "tidak valid" in notes[0]
    assert "\n" not in notes[0] and "\r" not in notes[0]


@RELAXED
@given(st.text(max_size=80))
def test_any_email_cell_is_parsed_without_crashing(cell):
    kept, notes = parse_emails(cell)
    for address in kept:
        assert "@" in address and not set(address) & set(' \t\r\n<>"(),;:')


# --------------------------------------------------------------------------------------------
# The registry columns
# --------------------------------------------------------------------------------------------


def test_registry_without_contact_columns_still_loads():
    registry = load_registry()
    assert len(registry.units) == 51
    assert all(u.email == () and u.telepon is None for u in registry.units)
    assert registry.notes == ()


def test_registry_contacts_are_read_and_bad_ones_reported_by_line(tmp_path):
    (tmp_path / "unit_kerja.csv").write_text(
        "kode,nama,jenis,singkatan,email,telepon\n"
        "DINKES,Dinas Kesehatan,Dinas,Dinkes,dinkes@lampungselatankab.go.id; "
        "kadis@contoh.id,0812-3456-7890\n"
        "DINSOS,Dinas Sosial,Dinas,Dinsos,dinsos di lampungselatankab,0727 322 123\n"
        "DLH,Dinas Lingkungan Hidup,Dinas,DLH,,\n",
        encoding="utf-8",
    )
    registry = load_registry(tmp_path)
    dinkes, dinsos, dlh = registry.units
    assert dinkes.email == ("dinkes@lampungselatankab.go.id", "kadis@contoh.id")
    assert dinkes.telepon == "6281234567890"
    assert (dinsos.email, dinsos.telepon) == ((), None)
    assert (dlh.email, dlh.telepon) == ((), None)
    assert len(registry.notes) == 2
    assert registry.notes[0].startswith("unit_kerja.csv baris 3 (DINSOS): alamat surel")
    assert "bukan nomor seluler" in registry.notes[1]


def test_registry_saved_by_excel_with_semicolons_is_read(tmp_path):
    """Excel under Indonesian regional settings saves CSV with ';' between columns."""
    (tmp_path / "unit_kerja.csv").write_text(
        "\ufeffkode;nama;jenis;singkatan;email;telepon\n"
        "DINKES;Dinas Kesehatan;Dinas;Dinkes;dinkes@lampungselatankab.go.id;+62 812 3456 7890\n",
        encoding="utf-8",
    )
    (unit,) = load_registry(tmp_path).units
    assert (unit.kode, unit.email, unit.telepon) == (
        "DINKES",
        ("dinkes@lampungselatankab.go.id",),
        "6281234567890",
    )


def test_addresses_split_by_a_comma_into_extra_cells_are_reported(tmp_path):
    (tmp_path / "unit_kerja.csv").write_text(
        "kode,nama,jenis,singkatan,email,telepon\n"
        "DINKES,Dinas Kesehatan,Dinas,Dinkes,a@contoh.id,b@contoh.id,0812 3456 7890\n",
        encoding="utf-8",
    )
    registry = load_registry(tmp_path)
    assert registry.units[0].email == ("a@contoh.id",)
    assert any("titik koma" in n for n in registry.notes)
