"""Unit contacts: e-mail addresses and WhatsApp numbers from the registry, and click-to-chat links.

The registry (``inputs/unit_kerja.csv``) may carry two optional columns:

* ``email``: one or more addresses separated by ``;`` or ``,`` (every one receives the unit's
  message); an address must be a plain ``nama@domain.tld``: a display name, spaces, quotes or
  line breaks are refused, so a registry cell can never add a header or a recipient to a message;
* ``telepon``: an Indonesian mobile number in any common spelling (``0812-3456-7890``,
  ``+62 812 3456 7890``, ``62812...``, ``(0812) 345.678``, ``+62 (0) 812 ...``, ``0062 812...``);
  several numbers separated by ``;``, ``,`` or ``/``: the first valid one is used.

A number is normalised to the international digits WhatsApp's click-to-chat links take
(``6281234567890``: country code 62, no ``+``, no leading 0). Only mobile numbers (``8`` after the
country code, 9 to 12 digits) are accepted: a landline cannot receive WhatsApp messages.

Nothing here opens a connection: a link is text a person clicks.
"""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["ContactError", "normalize_phone", "parse_emails", "parse_phones", "whatsapp_link"]

COUNTRY_CODE = "62"
# National significant number of an Indonesian mobile number: 8xx, 9 to 12 digits in all.
_MOBILE = re.compile(r"8\d{8,11}")
# Characters people put inside a phone number: spaces, dashes, dots, parentheses, slashes.
_PHONE_PUNCTUATION = re.compile(r"[\s\-.()\u00a0\u2010-\u2015]")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
WHATSAPP_BASE = "https://wa.me/"


class ContactError(ValueError):
    """A registry contact that cannot be used; the message is Indonesian, for the analyst."""


def normalize_phone(text: str) -> str:
    """``text`` as WhatsApp's international digits (``6281234567890``).

    Raises :class:`ContactError` (Indonesian reason) when it is not an Indonesian mobile number.
    """
    raw = str(text).strip()
    if not raw:
        raise ContactError("nomor telepon kosong")
    compact = _PHONE_PUNCTUATION.sub("", raw)
    if compact.startswith("+"):
        compact = compact[1:]
        if not compact.startswith(COUNTRY_CODE):
            raise ContactError(f"nomor '{raw}' bukan nomor Indonesia (kode negara +62)")
    elif compact.startswith("00"):
        compact = compact[2:]
        if not compact.startswith(COUNTRY_CODE):
            raise ContactError(f"nomor '{raw}' bukan nomor Indonesia (kode negara 62)")
    if not compact.isdigit() or not compact.isascii():
        raise ContactError(f"nomor '{raw}' memuat huruf atau tanda selain angka")
    if compact.startswith(COUNTRY_CODE):
        national = compact[len(COUNTRY_CODE) :]
        # "+62 (0)812..." keeps the trunk 0 after the country code.
        national = national[1:] if national.startswith("0") else national
    elif compact.startswith("0"):
        national = compact[1:]
    else:
        national = compact
    if not national.startswith("8"):
        raise ContactError(
            f"nomor '{raw}' bukan nomor seluler (harus diawali 08 atau +62 8); "
            "WhatsApp hanya dapat dikirim ke nomor seluler"
        )
    if not _MOBILE.fullmatch(national):
        raise ContactError(
            f"nomor '{raw}' panjangnya tidak wajar untuk nomor seluler "
            f"({len(national) + 1} angka bila ditulis dengan 0 di depan; seharusnya 10-13)"
        )
    return COUNTRY_CODE + national


def parse_phones(cell: str) -> tuple[str | None, list[str]]:
    """A registry ``telepon`` cell -> (the first valid number normalised, or None; Indonesian
    notes on what was refused or ignored)."""
    parts = [p.strip() for p in re.split(r"[;,/]", str(cell or "")) if p.strip()]
    notes: list[str] = []
    chosen: str | None = None
    for part in parts:
        try:
            number = normalize_phone(part)
        except ContactError as exc:
            notes.append(str(exc))
            continue
        if chosen is None:
            chosen = number
        elif number != chosen:
            notes.append(f"nomor '{part}' diabaikan: hanya satu nomor WhatsApp yang dipakai")
    return chosen, notes


def parse_emails(cell: str) -> tuple[tuple[str, ...], list[str]]:
    """A registry ``email`` cell -> (valid addresses in order, without duplicates; Indonesian
    notes on the refused ones)."""
    addresses: list[str] = []
    notes: list[str] = []
    for part in re.split(r"[;,]", str(cell or "")):
        address = part.strip()
        if not address:
            continue
        if not _EMAIL.fullmatch(address) or len(address) > 254:
            shown = address.replace("\r", " ").replace("\n", " ")
            notes.append(
                f"alamat surel '{shown}' tidak valid (contoh yang benar: nama@domain.go.id)"
            )
            continue
        if address.lower() not in (a.lower() for a in addresses):
            addresses.append(address)
    return tuple(addresses), notes


def whatsapp_link(number: str, text: str) -> str:
    """The click-to-chat link that opens a chat with ``number`` (normalised digits) with ``text``
    typed in: ``https://wa.me/<number>?text=<text, percent-encoded as UTF-8>``."""
    if not number.isdigit():
        raise ValueError(f"not a normalised number: {number!r}")
    return f"{WHATSAPP_BASE}{number}?text={quote(text, safe='')}"
