"""Receiving an upload: streamed with the size limit enforced while streaming, named so that it
never collides, made durable (fsync, link into place, fsync the folder) before it is
acknowledged.

The body is parsed as it arrives (python-multipart's push parser): the file part goes straight
to a hidden temporary file in ``<data>/portal/unggah/`` while its SHA-256 is computed; the
other fields are small and kept in memory. Past :data:`MAX_FILE_BYTES` the request is cut off
(413) and the partial file removed. Nothing is ever written under a served path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.fsutil import disk_full, fsync_dir
from pipeline.portal.guard import TIMEOUT_MESSAGE, BodyTimeout

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_BODY_OVERHEAD = 64 * 1024  # multipart headers and the small fields
MAX_FIELD_BYTES = 1024
MAX_PARTS = 16  # the upload form has three (berkas, periode, csrf)
_EXT = re.compile(r"\.[A-Za-z0-9]{1,5}$")


DISK_FULL_UPLOAD = (
    "Ruang penyimpanan server penuh: berkas TIDAK disimpan. Beri tahu Bagian Organisasi, "
    "lalu unggah ulang setelah ruang tersedia."
)
INCOMPLETE = (
    "Kiriman berkas tidak lengkap (terputus sebelum selesai): berkas TIDAK disimpan. Unggah ulang."
)


class UploadError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(kw_only=True)
class Received:
    path: Path | None = None  # the temporary file holding the file part
    filename: str = ""
    size: int = 0
    sha256: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def display_name(raw: str) -> str:
    """The uploaded name as shown back: last path component, no control characters, bounded."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:200] or "berkas"


def extension(raw: str) -> str:
    match = _EXT.search(display_name(raw))
    return match.group(0).lower() if match else ""


def stored_name(kode: str, period: str, when: dt.datetime, sha256: str, ext: str) -> str:
    return f"{kode}_{period}_{when:%Y%m%dT%H%M%S}_{sha256[:8]}{ext}"


def safe_stem(raw: str) -> str:
    """The uploaded name reduced to safe characters (the analyst's uploads keep their name for
    the check, so the unit can be recognised from it as in a month folder)."""
    name = display_name(raw)
    clean = re.sub(r"[^A-Za-z0-9 ._()-]+", "_", name).strip(" .") or "berkas"
    return clean[:120]


async def receive(request, staging: Path, limit: int = MAX_FILE_BYTES) -> Received:
    """Stream the multipart body of ``request`` into ``staging``; raise :class:`UploadError`."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    length = request.headers.get("content-length")
    if length is not None:
        try:
            declared = int(length)
        except ValueError:
            raise UploadError(400, "Panjang permintaan tidak valid.") from None
        if declared > limit + MAX_BODY_OVERHEAD:
            raise UploadError(413, _too_large(limit))
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadError(400, "Kirim berkas sebagai multipart/form-data dengan kolom 'berkas'.")

    staging.mkdir(parents=True, exist_ok=True)
    out = Received()
    state: dict = {
        "headers": {},
        "name": None,
        "file": None,
        "buf": bytearray(),
        "hfield": b"",
        "file_ended": False,  # the file part's closing boundary was seen
        "ended": False,  # the body's final boundary was seen
    }
    digest = hashlib.sha256()
    handles: list = []

    def on_header_field(data, start, end):
        state["hfield"] += data[start:end]

    def on_header_value(data, start, end):
        key = state["hfield"].decode("latin-1").lower()
        state["headers"][key] = state["headers"].get(key, b"") + data[start:end]

    def on_header_end():
        state["hfield"] = b""

    def on_headers_finished():
        state["parts"] = state.get("parts", 0) + 1
        if state["parts"] > MAX_PARTS:
            # Each small field is kept in memory: many of them would add up.
            raise UploadError(400, "Terlalu banyak kolom formulir dalam satu unggahan.")
        disp, opts = parse_options_header(state["headers"].get("content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        state["buf"] = bytearray()
        if name == "berkas" and b"filename" in opts and out.path is None:
            out.filename = opts[b"filename"].decode("utf-8", "replace")
            path = staging / f".{secrets.token_hex(8)}.part"
            handle = open(path, "wb")  # noqa: SIM115 - closed in on_part_end or below
            handles.append(handle)
            out.path = path
            state["file"] = handle
        else:
            state["file"] = None

    def on_part_data(data, start, end):
        chunk = data[start:end]
        if state["file"] is not None:
            out.size += len(chunk)
            if out.size > limit:
                raise UploadError(413, _too_large(limit))
            digest.update(chunk)
            state["file"].write(chunk)
        else:
            state["buf"] += chunk
            if len(state["buf"]) > MAX_FIELD_BYTES:
                raise UploadError(400, "Kolom formulir terlalu panjang.")

    def on_part_end():
        if state["file"] is not None:
            handle = state["file"]
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            state["file"] = None
            state["file_ended"] = True
        elif state["name"]:
            out.fields[state["name"]] = state["buf"].decode("utf-8", "replace")
        state["headers"] = {}

    def on_end():
        state["ended"] = True

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + MAX_BODY_OVERHEAD:
                raise UploadError(413, _too_large(limit))
            parser.write(chunk)
        parser.finalize()
    except UploadError:
        discard(out, handles)
        raise
    except BodyTimeout:
        discard(out, handles)
        raise UploadError(408, TIMEOUT_MESSAGE) from None
    except Exception as exc:  # noqa: BLE001 - a malformed body is the client's problem
        discard(out, handles)
        if disk_full(exc):
            raise UploadError(507, DISK_FULL_UPLOAD) from None
        raise UploadError(400, "Isi permintaan unggah tidak dapat dibaca.") from None
    for handle in handles:
        handle.close()
    if out.path is None:
        raise UploadError(400, "Tidak ada berkas: kirim berkas pada kolom 'berkas'.")
    if not (state["file_ended"] and state["ended"]):
        # The body stopped before its final boundary (a Content-Length shorter than what was
        # sent, a client that gave up): what arrived may be a truncated file.
        discard(out, handles)
        raise UploadError(400, INCOMPLETE)
    if out.size == 0:
        discard(out, handles)
        raise UploadError(400, "Berkas kosong (0 bait).")
    out.sha256 = digest.hexdigest()
    return out


def _too_large(limit: int) -> str:
    from pipeline.locale_id import number

    return f"Berkas terlalu besar: batasnya {number(limit / (1024 * 1024), 0)} MiB."


def discard(received: Received, handles: Sequence = ()) -> None:
    for handle in handles:
        with contextlib.suppress(OSError):
            handle.close()
    if received.path is not None:
        with contextlib.suppress(FileNotFoundError):
            received.path.unlink()


def place(source: Path, folder: Path, name: str) -> Path:
    """Put ``source`` (already fsynced) into ``folder`` as ``name`` without ever overwriting:
    a hard link appears whole or not at all; a taken name gets ``-2``, ``-3``... before the
    extension. The folder is fsynced, then ``source`` removed. Returns the final path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    n = 1
    while True:
        candidate = name if n == 1 else f"{stem}-{n}{dot}{ext}"
        target = folder / candidate
        try:
            os.link(source, target)
            break
        except FileExistsError:
            n += 1
    fsync_dir(folder)
    source.unlink()
    return target


def clean_staging(staging: Path) -> None:
    """Remove what a killed server left in the staging folder (nothing there was acknowledged)."""
    if staging.is_dir():
        for path in staging.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)


def take_back(path: Path) -> None:
    """Remove a file :func:`place` put in place whose record could not be written."""
    with contextlib.suppress(OSError):
        path.unlink()
        fsync_dir(path.parent)
