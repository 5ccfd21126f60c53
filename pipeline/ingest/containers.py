"""Containers and guarded XML: the checks every ZIP-based workbook passes before any sheet is read.

* :func:`check_zip`: member count is checked by the reader from the end record; here the
  declared sizes, compression ratios (zip bombs) and encryption flags of every member;
* XML is parsed only by :func:`guarded_expat` (expat with defusedxml's guards: a DTD, an entity
  declaration or an external reference raises before anything expands); parts that only
  calamine parses get :func:`check_prolog` (a DTD in their prolog refuses the file);
* :func:`elements` / :func:`rels` read small parts (workbook, relationships, properties,
  manifest) in full; :func:`stream_scan` feeds a large part (a worksheet, ``content.xml``) to a
  scanning target chunk by chunk, so a limit stops it early.

OLE2 containers (``.xls``, encrypted OOXML) are walked by :mod:`pipeline.ingest.sniff`.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from pipeline.ingest.limits import Limits, mib, over_limit
from pipeline.ingest.workbook import ReadFailure, encrypted
from pipeline.locale_id import number

XML_DEFENCES = (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden)
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    NotImplementedError,
    RuntimeError,  # zipfile: member encrypted / compression method unsupported
    OSError,
    zlib.error,  # a damaged deflate stream
)
_STREAM_CHUNK = 1 << 16
PROLOG_MAX_BYTES = 1 << 16
_SMALL_PART_MAX_BYTES = 8 << 20  # workbook.xml, styles.xml, rels, app.xml, manifest, meta.xml


def check_zip(zf: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Members by lower-cased name, after the zip-bomb checks on declared sizes."""
    members = zf.infolist()
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise encrypted()
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= (1 << 20) and ratio > limits.max_compression_ratio:
            raise over_limit(
                f"bagian '{info.filename}' dimampatkan {number(ratio)} kali, melebihi batas rasio "
                f"{number(limits.max_compression_ratio)} (pola 'zip bomb')"
            )
    if total > limits.max_uncompressed_bytes:
        raise over_limit(
            f"isi arsip {mib(total)} setelah diekstrak, melebihi batas "
            f"{mib(limits.max_uncompressed_bytes)}"
        )
    # Some writers store Windows separators ("xl\\workbook.xml"); calamine accepts them too.
    return {info.filename.replace("\\", "/").lower(): info for info in members}


def read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A small part (workbook, styles, rels, properties) in full; over 8 MiB is not small."""
    if info.file_size > _SMALL_PART_MAX_BYTES:
        raise over_limit(f"bagian '{info.filename}' berukuran {mib(info.file_size)}")
    return zf.read(info)


def check_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a part that only calamine parses if its prolog declares a DTD (the door to entity
    expansion), decompressing no more than the prolog."""
    with zf.open(info) as fh:
        head = fh.read(4096)
        while _prolog_end(head) is None and len(head) < PROLOG_MAX_BYTES:
            more = fh.read(4096)
            if not more:
                break
            head += more
    refuse_dtd(head)


def refuse_dtd(head: bytes) -> None:
    """RB-E007 when the XML prolog in ``head`` holds ``<!DOCTYPE``/``<!ENTITY`` or does not end
    within the first 64 KiB (no producer writes either)."""
    end = _prolog_end(head)
    prolog = (head if end is None else head[:end]).upper()
    if (
        end is None
        and len(head) >= PROLOG_MAX_BYTES
        or b"<!DOCTYPE" in prolog
        or b"<!ENTITY" in prolog
    ):
        raise entity_failure()


def _prolog_end(head: bytes) -> int | None:
    """Offset of the root element's start tag (the first ``<`` not opening ``<?`` or ``<!``),
    None when ``head`` ends before it."""
    match = re.search(rb"<[^?!]", head)
    return match.start() if match else None


def guarded_expat() -> expat.XMLParserType:
    """A namespace-aware expat parser (names as ``uri}local``) with defusedxml's guards: a DTD,
    an entity declaration or an external reference raises defusedxml's own exception before
    expat can expand anything. Raw expat rather than defusedxml's ElementTree wrapper because
    that wrapper runs in pure Python and costs ~4x more per element, and scans see every cell."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    parser.ExternalEntityRefHandler = _forbid_external
    parser.buffer_text = True
    return parser


def _forbid_dtd(name, sysid, pubid, has_internal_subset):
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name, is_parameter_entity, value, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)


def _forbid_unparsed_entity(name, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)


def _forbid_external(context, base, sysid, pubid):
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def elements(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> list[tuple[str, dict, str]]:
    """Every element of a small part, in document order, as (local tag, attributes by local
    name, leading text up to 200 characters)."""
    out: list[tuple[str, dict, str]] = []
    open_leaf = [False]  # text belongs to the last element only until it or a child closes

    def start(name, attrs):
        out.append((local(name), {local(k): v for k, v in attrs.items()}, ""))
        open_leaf[0] = True

    def end(name):
        open_leaf[0] = False

    def text(chunk):
        if open_leaf[0] and len(out[-1][2]) < 200:
            tag, attrs, before = out[-1]
            out[-1] = (tag, attrs, (before + chunk)[:200])

    parser = guarded_expat()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.Parse(read_small(zf, info), True)
    return out


def local(name: str) -> str:
    return name.rpartition("}")[2]


def rels(zf, members, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of ``part``: id -> (type suffix, target part name, lower-cased)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels").lower()
    info = members.get(rels_name)
    if info is None:
        return {}
    out = {}
    for tag, attrs, _text in elements(zf, info):
        if tag != "Relationship" or attrs.get("TargetMode") == "External":
            continue
        target = attrs.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[attrs.get("Id", "")] = (
            attrs.get("Type", "").rsplit("/", 1)[-1],
            posixpath.normpath(resolved).lower(),
        )
    return out


def stream_scan(fh, target):
    """Feed a part to ``target`` (``start``/``end``/``data``/``close``) in chunks through a
    guarded expat parser; the target raises ReadFailure as soon as a limit is exceeded, so a
    huge part costs only what was read up to that point."""
    parser = guarded_expat()
    parser.StartElementHandler = target.start
    parser.EndElementHandler = target.end
    parser.CharacterDataHandler = target.data
    while chunk := fh.read(_STREAM_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return target.close()


def entity_failure() -> ReadFailure:
    return over_limit(
        "berkas memuat deklarasi DTD/entitas XML (pola serangan 'billion laughs'), "
        "yang tidak pernah ditulis oleh Excel atau LibreOffice"
    )
