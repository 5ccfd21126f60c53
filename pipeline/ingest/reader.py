"""Read one untrusted workbook into :class:`~pipeline.ingest.workbook.WorkbookData`.

In: a path and :class:`~pipeline.ingest.limits.Limits`. Out: every sheet's values (through
python-calamine) with its visibility, plus the cell metadata calamine does not give, or a
:class:`~pipeline.ingest.workbook.ReadFailure` whose catalogue code says why the file cannot be
read (RB-E001 not a workbook, RB-E002 encrypted, RB-E003 corrupt, RB-E004 no value at all,
RB-E007 over a safety limit, RB-E012 unsupported format).

Order of work, cheapest first, so that a hostile file is refused before any heavy read:

1. file size; format from content (:mod:`pipeline.ingest.sniff`), never from the extension;
2. ZIP containers: member count, declared sizes and compression ratios, encryption; no XML is
   ever parsed with a DTD (expat with defusedxml's guards, see :func:`_guarded_expat`), and
   the XML parts calamine parses but we only scan with regular expressions (worksheets,
   styles, shared strings) are refused when their prolog declares one ("billion laughs");
3. a scan of every sheet that measures its *real* used range (the declared ``<dimension>`` is
   not trusted: calamine allocates for the cells actually present, so one value in XFD1048576
   means 17e9 cells and a process abort) and collects the metadata below; then the limits;
4. only then calamine reads the values.

Metadata per format (calamine 0.9 gives values, sheet visibility and, for xlsx/xls, merges):

=====================  =========================  ===========================  ================
                       xlsx / xlsm                ods                          xls (BIFF5/8)
=====================  =========================  ===========================  ================
used range             ``<c r=...>`` with a value  cells with a value, repeats  value records
merged ranges          ``<mergeCell>``            ``number-*-spanned``         calamine
percent numbers        style -> percent numFmt    ``value-type="percentage"``  XF -> FORMAT
formula, no value      ``<f>`` without ``<v>``    formula without value-type   never (always a
                                                                               cached result)
error values           ``t="e"``                  ``calcext:value-type=error`` BOOLERR, FORMULA
hidden rows / columns  ``hidden="1"``             ``visibility`` != visible    ROW, COLINFO
producer               docProps/app.xml           meta.xml ``generator``       not available
=====================  =========================  ===========================  ================

The xlsx sheet scan has two paths. The fast one runs regular expressions over the decompressed
sheet XML (~0.3 ms for a 40-row template sheet) and applies when the XML has the shape every
producer writes (default namespace, each ``<c>`` opening with its ``r`` attribute); anything
else (prefixes, cells without references, a sheet part over 4 MiB) goes through a streaming
expat parse that follows the same rules cell by cell and stops at the first exceeded limit.

Cell text: strings longer than ``limits.max_cell_chars`` reject the file (Excel cannot hold
them: only crafted files do); control characters other than tab/LF/CR are removed. Empty
strings become None (calamine does not tell an empty string from an empty cell).
"""

from __future__ import annotations

import contextlib
import html
import os
import posixpath
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from pipeline.ingest.limits import DEFAULT_LIMITS, Limits
from pipeline.ingest.sniff import (
    TEXT_SPREADSHEETS,
    WORKBOOK_FORMATS,
    ZIP_MAGICS,
    Sniff,
    ole_stream,
    sniff,
    sniff_zip,
    zip_member_count,
)
from pipeline.ingest.workbook import ReadFailure, SheetData, WorkbookData
from pipeline.locale_id import number
from pipeline.schema import column_index

_STATES = {
    "SheetVisibleEnum.Visible": "visible",
    "SheetVisibleEnum.Hidden": "hidden",
    "SheetVisibleEnum.VeryHidden": "veryHidden",
}
# C0 controls except tab/LF/CR, DEL and C1 controls: meaningless in an action plan.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_XML_DEFENCES = (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    NotImplementedError,
    RuntimeError,  # zipfile: member encrypted / compression method unsupported
    OSError,
    zlib.error,  # a damaged deflate stream
)
_FAST_SCAN_MAX_BYTES = 4 << 20
_STREAM_CHUNK = 1 << 16
_PROLOG_MAX_BYTES = 1 << 16
_SMALL_PART_MAX_BYTES = 8 << 20  # workbook.xml, styles.xml, rels, app.xml, manifest, meta.xml


@dataclass(kw_only=True)
class SheetScan:
    """What the scan learnt about one sheet (1-based coordinates). ``n_rows``/``n_cols`` are the
    used range's extent from A1: the last row and column holding a value."""

    n_rows: int = 0
    n_cols: int = 0
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    percent: set[tuple[int, int]] = field(default_factory=set)
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)


@dataclass(kw_only=True)
class WorkbookScan:
    """What the container scan learnt: producer, macros and each scanned sheet by name."""

    producer: str | None = None
    has_macros: bool = False
    sheets: dict[str, SheetScan] = field(default_factory=dict)


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS) -> WorkbookData:
    """The values and metadata of every sheet of ``path``; raises ReadFailure (and nothing else
    for bad content) when the file is not a readable workbook or exceeds ``limits``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ReadFailure("RB-E003", f"Berkas tidak dapat dibuka ({exc.strerror}).") from None
    if size > limits.max_file_bytes:
        raise _over_limit(
            f"ukuran berkas {_mib(size)} melebihi batas {_mib(limits.max_file_bytes)}"
        )
    if head.startswith(ZIP_MAGICS):
        sniffed, fmt, meta = _open_container(path, limits)
    else:
        sniffed = sniff(path)
        fmt = _readable_format(sniffed)
        meta = _scan_xls(path, limits)
    sheets = _read_values(path, fmt, meta, limits)
    if not any(_has_content(sheet) for sheet in sheets):
        raise ReadFailure("RB-E004", "Berkas dapat dibuka tetapi tidak ada satu pun sel berisi.")
    return WorkbookData(
        format=fmt,
        sheets=sheets,
        producer=meta.producer,
        has_macros=sniffed.has_macros or meta.has_macros,
    )


def _open_container(path: Path, limits: Limits) -> tuple[Sniff, str, WorkbookScan]:
    """Sniff and scan a ZIP container, opened once; the member count is checked before the
    central directory is loaded (a directory of millions of entries costs memory by itself)."""
    count = zip_member_count(path)
    if count is not None and count > limits.max_zip_members:
        raise _over_limit(
            f"arsip berisi {number(count)} bagian, melebihi batas {number(limits.max_zip_members)}"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            sniffed = sniff_zip(zf)
            fmt = _readable_format(sniffed)
            scan = _scan_ods if fmt == "ods" else _scan_ooxml
            return sniffed, fmt, scan(zf, limits)
    except _ZIP_ERRORS as exc:
        raise _corrupt(exc) from None
    except expat.ExpatError as exc:
        raise ReadFailure(
            "RB-E003", f"Isi XML berkas rusak (rincian teknis: {_short(exc)})."
        ) from None
    except _XML_DEFENCES:
        raise _entity_failure() from None


def _readable_format(sniffed: Sniff) -> str:
    """The format to read, or the ReadFailure that says why not."""
    fmt = sniffed.format
    if fmt in WORKBOOK_FORMATS:
        return fmt
    if sniffed.damaged:
        raise ReadFailure("RB-E003", f"Berkas rusak atau terpotong ({sniffed.looks_like}).")
    if fmt == "encrypted":
        raise _encrypted()
    if fmt == "xlsb":
        raise ReadFailure(
            "RB-E012",
            "Berkas berformat Excel Binary (.xlsb) yang tidak didukung; simpan ulang sebagai .xlsx.",
        )
    if fmt in TEXT_SPREADSHEETS:
        raise ReadFailure(
            "RB-E012",
            f"Berkas ini adalah {sniffed.looks_like}, bukan buku kerja Excel; "
            "simpan ulang sebagai .xlsx.",
        )
    raise ReadFailure(
        "RB-E001", f"Berkas ini bukan lembar kerja; isinya tampak seperti {sniffed.looks_like}."
    )


# --- ZIP containers ---------------------------------------------------------------------------


def _check_zip(zf: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Members by lower-cased name, after the zip-bomb checks on declared sizes."""
    members = zf.infolist()
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise _encrypted()
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= (1 << 20) and ratio > limits.max_compression_ratio:
            raise _over_limit(
                f"bagian '{info.filename}' dimampatkan {number(ratio)} kali, melebihi batas rasio "
                f"{number(limits.max_compression_ratio)} (pola 'zip bomb')"
            )
    if total > limits.max_uncompressed_bytes:
        raise _over_limit(
            f"isi arsip {_mib(total)} setelah diekstrak, melebihi batas "
            f"{_mib(limits.max_uncompressed_bytes)}"
        )
    # Some writers store Windows separators ("xl\\workbook.xml"); calamine accepts them too.
    return {info.filename.replace("\\", "/").lower(): info for info in members}


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A small part (workbook, styles, rels, properties) in full; over 8 MiB is not small."""
    if info.file_size > _SMALL_PART_MAX_BYTES:
        raise _over_limit(f"bagian '{info.filename}' berukuran {_mib(info.file_size)}")
    return zf.read(info)


def _check_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a part that only calamine parses if its prolog declares a DTD (the door to entity
    expansion), decompressing no more than the prolog."""
    with zf.open(info) as fh:
        head = fh.read(4096)
        while _prolog_end(head) is None and len(head) < _PROLOG_MAX_BYTES:
            more = fh.read(4096)
            if not more:
                break
            head += more
    _refuse_dtd(head)


def _refuse_dtd(head: bytes) -> None:
    """RB-E007 when the XML prolog in ``head`` holds ``<!DOCTYPE``/``<!ENTITY`` or does not end
    within the first 64 KiB (no producer writes either)."""
    end = _prolog_end(head)
    prolog = (head if end is None else head[:end]).upper()
    if (
        end is None
        and len(head) >= _PROLOG_MAX_BYTES
        or b"<!DOCTYPE" in prolog
        or b"<!ENTITY" in prolog
    ):
        raise _entity_failure()


def _prolog_end(head: bytes) -> int | None:
    """Offset of the root element's start tag (the first ``<`` not opening ``<?`` or ``<!``),
    None when ``head`` ends before it."""
    match = re.search(rb"<[^?!]", head)
    return match.start() if match else None


def _guarded_expat() -> expat.XMLParserType:
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


def _elements(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> list[tuple[str, dict, str]]:
    """Every element of a small part, in document order, as (local tag, attributes by local
    name, leading text up to 200 characters)."""
    out: list[tuple[str, dict, str]] = []
    open_leaf = [False]  # text belongs to the last element only until it or a child closes

    def start(name, attrs):
        out.append((_local(name), {_local(k): v for k, v in attrs.items()}, ""))
        open_leaf[0] = True

    def end(name):
        open_leaf[0] = False

    def text(chunk):
        if open_leaf[0] and len(out[-1][2]) < 200:
            tag, attrs, before = out[-1]
            out[-1] = (tag, attrs, (before + chunk)[:200])

    parser = _guarded_expat()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.Parse(_read_small(zf, info), True)
    return out


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _rels(zf, members, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of ``part``: id -> (type suffix, target part name, lower-cased)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels").lower()
    info = members.get(rels_name)
    if info is None:
        return {}
    out = {}
    for tag, attrs, _text in _elements(zf, info):
        if tag != "Relationship" or attrs.get("TargetMode") == "External":
            continue
        target = attrs.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[attrs.get("Id", "")] = (
            attrs.get("Type", "").rsplit("/", 1)[-1],
            posixpath.normpath(resolved).lower(),
        )
    return out


# --- OOXML (xlsx, xlsm) -----------------------------------------------------------------------

_BUILTIN_PERCENT_FORMATS = {9, 10}


def _scan_ooxml(zf: zipfile.ZipFile, limits: Limits) -> WorkbookScan:
    """Limits and metadata of an OOXML workbook, every sheet scanned before calamine reads it.
    The XML parts calamine parses are the workbook, its relationships, styles, shared strings
    and worksheets: the workbook and relationships are parsed here by the guarded expat, styles
    and worksheets are scanned after a prolog check, shared strings get the prolog check."""
    members = _check_zip(zf, limits)
    root_rels = _rels(zf, members, "")
    workbook_part = next(
        (t for kind, t in root_rels.values() if kind == "officeDocument"), "xl/workbook.xml"
    )
    if workbook_part not in members:
        raise ReadFailure("RB-E003", "Berkas rusak: bagian buku kerja (workbook.xml) tidak ada.")
    book = _elements(zf, members[workbook_part])
    sheets = [attrs for tag, attrs, _text in book if tag == "sheet"]
    if len(sheets) > limits.max_sheets:
        raise _over_limit(f"jumlah lembar {len(sheets)} melebihi batas {limits.max_sheets}")
    book_rels = _rels(zf, members, workbook_part)
    percent_styles = set()
    for kind, target in book_rels.values():
        info = members.get(target)
        if info is None:
            continue
        if kind == "styles":
            percent_styles = _percent_styles(zf, info)
        elif kind == "sharedStrings":
            _check_prolog(zf, info)
    scan = WorkbookScan(
        producer=_ooxml_producer(zf, members, root_rels),
        has_macros=any(name.endswith("vbaproject.bin") for name in members),
    )
    for attrs in sheets:
        kind, target = book_rels.get(attrs.get("id", ""), ("", ""))
        info = members.get(target)
        if kind != "worksheet" or info is None:
            continue
        name = attrs.get("name", "")
        scan.sheets[name] = _scan_worksheet(zf, info, name, percent_styles, limits)
    return scan


_NUM_FMT = re.compile(rb"<numFmt ([^>]*)>")
_CELL_XFS = re.compile(rb"<cellXfs[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b([^>]*)>")
_NUM_FMT_ID = re.compile(rb'\bnumFmtId="([0-9]+)"')
_FORMAT_CODE = re.compile(rb'\bformatCode="([^"]*)"')


def _percent_styles(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> frozenset[int]:
    """Indices of ``cellXfs`` whose number format shows a percentage. Read with regular
    expressions (styles.xml can hold thousands of elements, only two kinds matter) after the
    DTD check, since calamine parses this part too. Unprefixed markup only: with prefixes, no
    percent styles are found and percent numbers stay fractions (the parser's fallback)."""
    data = _read_small(zf, info)
    _refuse_dtd(data[:_PROLOG_MAX_BYTES])
    percent_formats = set(_BUILTIN_PERCENT_FORMATS)
    for attrs in _NUM_FMT.findall(data):
        number, code = _NUM_FMT_ID.search(attrs), _FORMAT_CODE.search(attrs)
        if (
            number
            and code
            and _is_percent_format(html.unescape(code[1].decode("utf-8", "replace")))
        ):
            percent_formats.add(int(number[1]))
    block = _CELL_XFS.search(data)
    xfs = _XF.findall(block[1]) if block else []
    return frozenset(
        i
        for i, attrs in enumerate(xfs)
        if int((_NUM_FMT_ID.search(attrs) or (b"", b"0"))[1]) in percent_formats
    )


def _is_percent_format(code: str) -> bool:
    """A ``%`` outside quoted text, escapes and brackets: ``0%``, ``0.00%``, not ``"%"0``."""
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in bare


def _ooxml_producer(zf, members, root_rels) -> str | None:
    app_part = next(
        (t for kind, t in root_rels.values() if kind == "extended-properties"), "docprops/app.xml"
    )
    info = members.get(app_part)
    if info is None:
        return None
    texts = {tag: text for tag, _attrs, text in _elements(zf, info)}
    name = texts.get("Application", "").strip()
    version = texts.get("AppVersion", "").strip()
    return (f"{name} {version}".strip() if name else None) or None


# Every producer writes the worksheet in the default namespace with each cell opening as
# <c r="B7" ...>: the fast scan relies on that shape and checks it (otherwise: streaming scan).
# r, s, t is the attribute order every producer uses; other orders are handled per cell.
_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?([^>]*)>')
_ROW = re.compile(rb"<row ([^>]*)>")
_COL = re.compile(rb"<col ([^>]*)>")
_MERGE = re.compile(rb'<mergeCell [^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
_ATTR_R = re.compile(rb'\br="([0-9]+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_STYLE = re.compile(rb'\bs="([0-9]+)"')
_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_COL_SPAN = re.compile(
    rb'\bmin="([0-9]+)"[^>]*?\bmax="([0-9]+)"|\bmax="([0-9]+)"[^>]*?\bmin="([0-9]+)"'
)
_CELL_BODY = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"([^>]*?)(?<!/)>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _scan_worksheet(zf, info, name: str, percent_styles, limits: Limits) -> SheetScan:
    """Used range and metadata of one worksheet part (fast path when its XML allows; the
    streaming parser refuses DTDs itself)."""
    if info.file_size <= _FAST_SCAN_MAX_BYTES:
        data = zf.read(info)
        _refuse_dtd(data[:_PROLOG_MAX_BYTES])
        scan = _fast_scan(data, percent_styles)
        if scan is not None:
            _check_extent(name, scan.n_rows, scan.n_cols, limits)
            return _clip(scan)
    with zf.open(info) as fh:
        return _clip(_stream_scan(fh, _SheetTarget(name, percent_styles, limits)))


def _fast_scan(data: bytes, percent_styles: frozenset[int]) -> SheetScan | None:
    """The scan by regular expressions, or None when the XML does not have the usual shape
    (prefixed elements, cells without a leading ``r``, malformed references): then only a real
    parser can place every cell. Per-cell Python work is avoided (columns are unzipped and
    deduplicated in C); each optional pass runs only when its marker occurs in the sheet."""
    if b"<sheetData" not in data or b"<c>" in data or b"<c/>" in data or b":c " in data:
        return None
    cells = _CELL.findall(data)
    if len(cells) != data.count(b"<c "):
        return None
    scan = SheetScan()
    if not cells:
        return scan
    cols, rows, styles, kinds, rests = zip(*cells, strict=True)
    if b"/" in b"".join(rests):  # styled empty cells (<c .../>): no value, calamine skips them
        filled = [(c, r) for c, r, rest in zip(cols, rows, rests, strict=True) if rest[-1:] != b"/"]
        cols, rows = (tuple(x) for x in zip(*filled, strict=True)) if filled else ((), ())
    scan.n_rows = max(map(int, set(rows)), default=0)
    scan.n_cols = max(map(_col_index, set(cols)), default=0)
    if b't="e"' in data or b"<f>" in data or b"<f " in data:  # not <formula1> of validations
        for col, row, attrs, body in _CELL_BODY.findall(data):
            where = (int(row), _col_index(col))
            kind = _TYPE.search(attrs)
            if kind and kind[1] == b"e":
                value = _VALUE.search(body)
                scan.errors[where] = _text(value[1]) if value else "#N/A"
            elif b"<f" in body and not _has_cached_value(body):
                scan.formulas_without_value.add(where)
    if b'hidden="1"' in data or b'hidden="true"' in data:
        for attrs in _ROW.findall(data):
            if _HIDDEN.search(attrs) and (number := _ATTR_R.search(attrs)):
                scan.hidden_rows.add(int(number[1]))
        for attrs in _COL.findall(data):
            if _HIDDEN.search(attrs) and (span := _COL_SPAN.search(attrs)):
                low, high = (span[1], span[2]) if span[1] else (span[4], span[3])
                scan.hidden_cols.update(range(int(low), min(int(high), scan.n_cols) + 1))
    if b"<mergeCell " in data:
        scan.merged = [_range(ref.decode("ascii")) for ref in _MERGE.findall(data)]
    if percent_styles:
        percent = _percent_cells(cells, styles, rests, percent_styles)
        scan.percent = percent - scan.formulas_without_value
    return scan


def _percent_cells(cells, styles, rests, percent_styles) -> set[tuple[int, int]]:
    """Numeric cells with a value whose style shows a percentage."""
    keys = {str(i).encode() for i in percent_styles}
    if b"=" in b"".join(rests):  # some cell has its attributes in another order: read them all
        styles = [
            s or (_STYLE.search(rest) or (b"", b"0"))[1]
            for s, rest in zip(styles, rests, strict=True)
        ]
    out = set()
    for i in [i for i, style in enumerate(styles) if (style or b"0") in keys]:
        col, row, _style, kind, rest = cells[i]
        kind = kind or (_TYPE.search(rest) or (b"", b""))[1]
        if kind in (b"", b"n") and not rest.endswith(b"/"):
            out.add((int(row), _col_index(col)))
    return out


def _has_cached_value(body: bytes) -> bool:
    value = _VALUE.search(body)
    return bool(value and value[1].strip()) or b"<is>" in body


class _SheetTarget:
    """Streaming scan of a worksheet: the same rules as :func:`_fast_scan`, cell by cell, with
    implicit positions for cells and rows that carry no reference."""

    def __init__(self, name: str, percent_styles, limits: Limits):
        self.name = name
        self.limits = limits
        self.percent_styles = percent_styles
        self.scan = SheetScan()
        self.row = 0
        self.col = 0
        self.cell: dict | None = None
        self.in_value = False

    def start(self, tag, attrib):
        local = _local(tag)
        if local == "c":
            ref = attrib.get("r")
            row, col = _parse_ref(ref) if ref else (self.row, self.col + 1)
            self.row, self.col = row or self.row, col
            self.cell = {"t": attrib.get("t", "n"), "s": attrib.get("s"), "f": False, "v": ""}
            self.cell["has"] = False
        elif self.cell is not None and local in ("f", "v", "is"):
            self.cell["f"] = self.cell["f"] or local == "f"
            self.cell["has"] = self.cell["has"] or local == "is"
            self.in_value = local == "v"
        elif local == "row":
            self.row = _int(attrib.get("r")) or self.row + 1
            self.col = 0
            if attrib.get("hidden") in ("1", "true"):
                self.scan.hidden_rows.add(self.row)
        elif local == "col" and attrib.get("hidden") in ("1", "true"):
            high = min(_int(attrib.get("max")), self.limits.max_cols)
            self.scan.hidden_cols.update(range(_int(attrib.get("min")), high + 1))
        elif local == "mergeCell" and attrib.get("ref"):
            self.scan.merged.append(_range(attrib["ref"]))

    def data(self, text):
        if self.in_value and len(self.cell["v"]) < 64:
            self.cell["v"] += text

    def end(self, tag):
        local = _local(tag)
        if local == "v":
            self.in_value = False
            self.cell["has"] = self.cell["has"] or bool(self.cell["v"].strip())
        elif local == "c" and self.cell is not None:
            self._close_cell(self.cell)
            self.cell = None

    def _close_cell(self, cell: dict) -> None:
        where = (self.row, self.col)
        if cell["has"] or cell["f"]:
            scan = self.scan
            scan.n_rows = max(scan.n_rows, self.row)
            scan.n_cols = max(scan.n_cols, self.col)
            _check_extent(self.name, scan.n_rows, scan.n_cols, self.limits)
        if cell["t"] == "e":
            self.scan.errors[where] = cell["v"].strip() or "#N/A"
        elif cell["f"] and not cell["has"]:
            self.scan.formulas_without_value.add(where)
        elif cell["t"] == "n" and cell["has"] and _int(cell["s"]) in self.percent_styles:
            self.scan.percent.add(where)

    def close(self):
        return self.scan


# --- ODS --------------------------------------------------------------------------------------

_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CALCEXT_VALUE_TYPE = (
    "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}value-type"
)
_TEXT_P = "urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"


def _scan_ods(zf: zipfile.ZipFile, limits: Limits) -> WorkbookScan:
    """Limits and metadata of an OpenDocument spreadsheet (content.xml streamed once)."""
    members = _check_zip(zf, limits)
    manifest = members.get("meta-inf/manifest.xml")
    if manifest is not None and any(
        tag == "encryption-data" for tag, _a, _t in _elements(zf, manifest)
    ):
        raise _encrypted()
    content = members.get("content.xml")
    if content is None:
        raise ReadFailure("RB-E003", "Berkas rusak: bagian isi (content.xml) tidak ada.")
    for name in ("styles.xml", "meta.xml", "settings.xml"):
        if name in members:
            _check_prolog(zf, members[name])
    scan = WorkbookScan(
        producer=_ods_producer(zf, members),
        has_macros=any(n.startswith(("basic/", "scripts/")) for n in members),
    )
    with zf.open(content) as fh:
        scan.sheets = _stream_scan(fh, _OdsTarget(limits))
    for sheet in scan.sheets.values():
        _clip(sheet)
    return scan


def _ods_producer(zf, members) -> str | None:
    info = members.get("meta.xml")
    if info is None:
        return None
    texts = {tag: text for tag, _attrs, text in _elements(zf, info)}
    return texts.get("generator", "").strip()[:200] or None


_ODS_TABLE = _TABLE_NS + "table"
_ODS_COLUMN = _TABLE_NS + "table-column"
_ODS_ROW = _TABLE_NS + "table-row"
_ODS_CELLS = frozenset({_TABLE_NS + "table-cell", _TABLE_NS + "covered-table-cell"})
_ODS_NAME = _TABLE_NS + "name"
_ODS_VISIBILITY = _TABLE_NS + "visibility"
_ODS_FORMULA = _TABLE_NS + "formula"
_ODS_VALUE_TYPE = _OFFICE_NS + "value-type"
_ODS_COLS_REPEATED = _TABLE_NS + "number-columns-repeated"
_ODS_ROWS_REPEATED = _TABLE_NS + "number-rows-repeated"
_ODS_COLS_SPANNED = _TABLE_NS + "number-columns-spanned"
_ODS_ROWS_SPANNED = _TABLE_NS + "number-rows-spanned"


class _OdsTarget:
    """Streaming scan of content.xml: each table's used range (repeats honoured, so a cell
    repeated 16,384 times across 1,048,576 rows counts as what calamine would allocate),
    percentages, formulas without value, errors, spans and hidden rows/columns. A cell's
    attributes are only looked at when it closes, and only when it holds something."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.sheets: dict[str, SheetScan] = {}
        self.scan: SheetScan | None = None
        self.name = ""
        self.row = 0  # 1-based index of the current row (first row of a repeated block)
        self.row_repeat = 1
        self.col = 0  # columns consumed so far in the current row
        self.columns = 0  # columns declared so far in the current table
        self.cell: dict | None = None  # attributes of the open cell
        self.cell_text = False
        self.error_text: list[str] = []

    def start(self, tag, attrib):
        if self.cell is not None:
            self.cell_text = self.cell_text or tag == _TEXT_P
        elif tag in _ODS_CELLS:
            self.cell, self.cell_text = attrib, False
        elif tag == _ODS_ROW and self.scan is not None:
            self.row += 1
            self.col = 0
            self.row_repeat = _repeat(attrib, _ODS_ROWS_REPEATED)
            if attrib.get(_ODS_VISIBILITY, "visible") != "visible":
                last = min(self.row + self.row_repeat - 1, self.limits.max_rows_per_sheet)
                self.scan.hidden_rows.update(range(self.row, last + 1))
        elif tag == _ODS_COLUMN and self.scan is not None:
            repeat = _repeat(attrib, _ODS_COLS_REPEATED)
            if attrib.get(_ODS_VISIBILITY, "visible") != "visible":
                last = min(self.columns + repeat, self.limits.max_cols)
                self.scan.hidden_cols.update(range(self.columns + 1, last + 1))
            self.columns += repeat
        elif tag == _ODS_TABLE:
            self.name = attrib.get(_ODS_NAME, "")
            self.scan = self.sheets.setdefault(self.name, SheetScan())
            self.row = self.columns = 0
            if len(self.sheets) > self.limits.max_sheets:
                raise _over_limit(f"jumlah lembar melebihi batas {self.limits.max_sheets}")

    def data(self, text):
        if self.cell is not None and len(self.error_text) < 8:
            self.error_text.append(text)

    def end(self, tag):
        if tag == _ODS_ROW:
            self.row += self.row_repeat - 1
        elif tag in _ODS_CELLS and self.cell is not None:
            self._close_cell(self.cell)
            self.cell = None
            self.error_text = []

    def _close_cell(self, attrib: dict) -> None:
        first_col = self.col + 1
        self.col += _repeat(attrib, _ODS_COLS_REPEATED)
        kind = attrib.get(_ODS_VALUE_TYPE)
        formula = _ODS_FORMULA in attrib
        if not (kind or formula or self.cell_text) or self.scan is None:
            return
        scan = self.scan
        last_row = self.row + self.row_repeat - 1
        scan.n_rows = max(scan.n_rows, last_row)
        scan.n_cols = max(scan.n_cols, self.col)
        _check_extent(self.name, scan.n_rows, scan.n_cols, self.limits)
        rows, cols = range(self.row, last_row + 1), range(first_col, self.col + 1)
        if attrib.get(_CALCEXT_VALUE_TYPE) == "error":
            text = "".join(self.error_text).strip()[:32] or "#N/A"
            scan.errors.update({(r, c): text for r in rows for c in cols})
        elif formula and not kind:
            scan.formulas_without_value.update((r, c) for r in rows for c in cols)
        elif kind == "percentage":
            scan.percent.update((r, c) for r in rows for c in cols)
        rows_spanned = _repeat(attrib, _ODS_ROWS_SPANNED)
        cols_spanned = _repeat(attrib, _ODS_COLS_SPANNED)
        if rows_spanned > 1 or cols_spanned > 1:
            scan.merged.append(
                (self.row, first_col, self.row + rows_spanned - 1, first_col + cols_spanned - 1)
            )

    def close(self):
        return self.sheets


def _repeat(attrib, key: str) -> int:
    value = attrib.get(key)
    return max(1, int(value)) if value and value.isascii() and value.isdigit() else 1


# --- BIFF (xls) -------------------------------------------------------------------------------

_BIFF_BOF = frozenset({0x0809, 0x0409, 0x0209, 0x0009})
_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
_BIFF_NUMBER, _BIFF_RK, _BIFF_MULRK, _BIFF_FORMULA = 0x0203, 0x027E, 0x00BD, 0x0006
_BIFF_BOOLERR, _BIFF_LABELSST, _BIFF_LABEL, _BIFF_RSTRING = 0x0205, 0x00FD, 0x0204, 0x00D6
_BIFF_ROW, _BIFF_COLINFO, _BIFF_EOF = 0x0208, 0x007D, 0x000A
_BIFF_FILEPASS, _BIFF_FORMAT, _BIFF_XF, _BIFF_BOUNDSHEET = 0x002F, 0x041E, 0x00E0, 0x0085


def _scan_xls(path: Path, limits: Limits) -> WorkbookScan:
    """Limits and metadata of a BIFF5/BIFF8 workbook from its ``Workbook`` stream's records:
    the used range of every sheet (checked before calamine allocates it), percent-formatted
    numbers (XF -> FORMAT), error values (BOOLERR, FORMULA results), hidden rows (ROW) and
    columns (COLINFO); FILEPASS means encrypted. Merged ranges come from calamine. Without a
    readable stream (a workbook under 4 KiB lives in the OLE mini stream) the scan is empty and
    only the worker's memory limit bounds calamine."""
    stream = ole_stream(path, ("Workbook", "Book"), limits.max_uncompressed_bytes)
    if stream is None:
        return WorkbookScan()
    try:
        return _BiffScan(stream, limits).run()
    except struct.error:
        raise ReadFailure("RB-E003", "Berkas rusak: catatan BIFF terpotong.") from None


class _BiffScan:
    """One pass over the BIFF records of a Workbook stream."""

    def __init__(self, stream: bytes, limits: Limits):
        self.data = stream
        self.limits = limits
        self.biff8 = True
        self.formats: dict[int, str] = {}
        self.xf_formats: list[int] = []
        self.sheet_at: dict[int, tuple[str, int]] = {}  # BOF offset -> (name, sheet type)
        self.scan = WorkbookScan()
        self.sheet: SheetScan | None = None
        self.name = ""
        self.percent_xfs: frozenset[int] = frozenset()

    def run(self) -> WorkbookScan:
        data, pos, end = self.data, 0, len(self.data)
        globals_done = False
        while pos + 4 <= end:
            rid, size = struct.unpack_from("<HH", data, pos)
            body = pos + 4
            if rid in _BIFF_BOF:
                if not globals_done and pos == 0:
                    self.biff8 = struct.unpack_from("<H", data, body)[0] >= 0x0600
                else:
                    globals_done = True
                    self._enter_sheet(pos)
            elif rid == _BIFF_EOF:
                self._leave_sheet()
            elif self.sheet is not None:
                self._sheet_record(rid, body, size)
            elif not globals_done:
                self._globals_record(rid, body, size)
            pos = body + size
        self._leave_sheet()
        return self.scan

    def _globals_record(self, rid: int, body: int, size: int) -> None:
        data = self.data
        if rid == _BIFF_FILEPASS:
            raise _encrypted()
        if rid == _BIFF_XF:
            self.xf_formats.append(struct.unpack_from("<H", data, body + 2)[0])
        elif rid == _BIFF_FORMAT:
            number = struct.unpack_from("<H", data, body)[0]
            self.formats[number] = self._string(body + 2, wide_length=self.biff8)
        elif rid == _BIFF_BOUNDSHEET:
            offset, _state, kind = struct.unpack_from("<IBB", data, body)
            self.sheet_at[offset] = (self._string(body + 6, wide_length=False), kind)

    def _string(self, at: int, *, wide_length: bool) -> str:
        """A BIFF8 XLUnicodeString (16-bit length when ``wide_length``, else 8-bit) or a BIFF5
        byte string, as text."""
        data = self.data
        if wide_length:
            count, at = struct.unpack_from("<H", data, at)[0], at + 2
        else:
            count, at = data[at], at + 1
        if not self.biff8:
            return data[at : at + count].decode("cp1252", "replace")
        wide, at = data[at] & 0x1, at + 1
        raw = data[at : at + count * (2 if wide else 1)]
        return raw.decode("utf-16-le" if wide else "latin-1", "replace")

    def _enter_sheet(self, offset: int) -> None:
        self._leave_sheet()
        name, kind = self.sheet_at.get(offset, ("", -1))
        if kind != 0:  # chart, macro or VB module: not cells
            return
        if not self.percent_xfs and self.xf_formats:
            percent = {n for n, code in self.formats.items() if _is_percent_format(code)}
            percent |= _BUILTIN_PERCENT_FORMATS
            self.percent_xfs = frozenset(
                i for i, number in enumerate(self.xf_formats) if number in percent
            )
        self.name = name
        self.sheet = self.scan.sheets.setdefault(name, SheetScan())

    def _leave_sheet(self) -> None:
        if self.sheet is not None:
            _clip(self.sheet)
        self.sheet = None

    def _cell(self, row: int, col: int, xf: int | None, *, number: bool) -> None:
        """A cell holding a value at 0-based (row, col), with its XF index."""
        sheet = self.sheet
        if row >= sheet.n_rows or col >= sheet.n_cols:
            sheet.n_rows, sheet.n_cols = max(sheet.n_rows, row + 1), max(sheet.n_cols, col + 1)
            _check_extent(self.name, sheet.n_rows, sheet.n_cols, self.limits)
        if number and xf in self.percent_xfs:
            sheet.percent.add((row + 1, col + 1))

    def _sheet_record(self, rid: int, body: int, size: int) -> None:
        data, sheet = self.data, self.sheet
        if rid in (_BIFF_NUMBER, _BIFF_RK):
            row, col, xf = struct.unpack_from("<HHH", data, body)
            self._cell(row, col, xf, number=True)
        elif rid == _BIFF_MULRK:
            row, first = struct.unpack_from("<HH", data, body)
            for i in range((size - 6) // 6):
                self._cell(
                    row, first + i, struct.unpack_from("<H", data, body + 4 + 6 * i)[0], number=True
                )
        elif rid == _BIFF_FORMULA:
            row, col, xf = struct.unpack_from("<HHH", data, body)
            result = data[body + 6 : body + 14]
            special = result[6:8] == b"\xff\xff"
            self._cell(row, col, xf, number=not special)
            if special and result[0] == 2:
                sheet.errors[(row + 1, col + 1)] = _BIFF_ERRORS.get(result[2], "#N/A")

        elif rid == _BIFF_BOOLERR:
            row, col, xf, value, is_error = struct.unpack_from("<HHHBB", data, body)
            self._cell(row, col, xf, number=False)
            if is_error:
                sheet.errors[(row + 1, col + 1)] = _BIFF_ERRORS.get(value, "#N/A")
        elif rid in (_BIFF_LABELSST, _BIFF_LABEL, _BIFF_RSTRING):
            row, col = struct.unpack_from("<HH", data, body)
            self._cell(row, col, None, number=False)
        elif rid == _BIFF_ROW and size >= 14:
            row, flags = (
                struct.unpack_from("<H", data, body)[0],
                struct.unpack_from("<H", data, body + 12)[0],
            )
            if flags & 0x20:
                sheet.hidden_rows.add(row + 1)
        elif rid == _BIFF_COLINFO and size >= 10:
            first, last, _width, _xf, flags = struct.unpack_from("<HHHHH", data, body)
            if flags & 0x1:
                sheet.hidden_cols.update(range(first + 1, min(last + 1, self.limits.max_cols) + 1))


# --- shared scan helpers ----------------------------------------------------------------------


def _stream_scan(fh, target):
    """Feed a part to ``target`` (``start``/``end``/``data``/``close``) in chunks through a
    guarded expat parser; the target raises ReadFailure as soon as a limit is exceeded, so a
    huge part costs only what was read up to that point."""
    parser = _guarded_expat()
    parser.StartElementHandler = target.start
    parser.EndElementHandler = target.end
    parser.CharacterDataHandler = target.data
    while chunk := fh.read(_STREAM_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return target.close()


def _check_extent(sheet: str, rows: int, cols: int, limits: Limits) -> None:
    """Raise RB-E007 when a used range of ``rows`` x ``cols`` (from A1) is over a limit."""
    if rows > limits.max_rows_per_sheet:
        raise _over_limit(
            f"lembar '{sheet}' memakai {number(rows)} baris, melebihi batas "
            f"{number(limits.max_rows_per_sheet)} baris"
        )
    if cols > limits.max_cols:
        raise _over_limit(
            f"lembar '{sheet}' memakai {number(cols)} kolom, melebihi batas {number(limits.max_cols)} kolom"
        )
    if rows * cols > limits.max_cells:
        raise _over_limit(
            f"lembar '{sheet}' mencakup {number(rows * cols)} sel (A1 sampai sel terisi terakhir), "
            f"melebihi batas {number(limits.max_cells)} sel"
        )


def _clip(scan: SheetScan) -> SheetScan:
    """Metadata reduced to the used range: hiding every unused row/column below or right of the
    data is a common tidy-up and must not become millions of entries; merges are cut likewise."""
    rows, cols = scan.n_rows, scan.n_cols
    scan.hidden_rows = {r for r in scan.hidden_rows if r <= rows}
    scan.hidden_cols = {c for c in scan.hidden_cols if c <= cols}
    scan.merged = sorted(
        {
            (r0, c0, min(r1, max(rows, r0)), min(c1, max(cols, c0)))
            for r0, c0, r1, c1 in scan.merged
            if r0 <= max(rows, 1) and c0 <= max(cols, 1)
        }
    )
    return scan


def _col_index(letters: bytes | str) -> int:
    return column_index(letters if isinstance(letters, str) else letters.decode("ascii"))


def _parse_ref(ref: str) -> tuple[int, int]:
    """``"AB12"`` -> (12, 28); (0, 0) for a malformed reference."""
    match = re.fullmatch(r"\$?([A-Za-z]{1,4})\$?([0-9]{1,8})", ref.strip())
    if not match:
        return 0, 0
    return int(match[2]), _col_index(match[1])


def _range(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    r0, c0 = _parse_ref(first)
    r1, c1 = _parse_ref(last or first)
    return min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)


def _int(value) -> int:
    """``int(value)``, 0 for None or anything that is not a plain decimal number."""
    return int(value) if value and value.isascii() and value.isdigit() else 0


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()[:32]


# --- values through calamine ------------------------------------------------------------------


@contextlib.contextmanager
def _path_with_suffix(path: Path, fmt: str) -> Iterator[Path]:
    """``path`` itself when its extension matches the content, else a symlink that does:
    calamine picks its parser by extension, and we have already decided by content."""
    suffix = ".xlsx" if fmt == "xlsm" else f".{fmt}"
    if path.suffix.lower() in (suffix, f".{fmt}"):
        yield path
        return
    folder = tempfile.mkdtemp(prefix="rbpipe-read-")
    link = Path(folder) / f"berkas{suffix}"
    try:
        os.symlink(path.resolve(), link)
        yield link
    finally:
        with contextlib.suppress(OSError):
            link.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _read_values(path: Path, fmt: str, meta: WorkbookScan, limits: Limits) -> list[SheetData]:
    """Every sheet's values through calamine, joined with the scanned metadata."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        with _path_with_suffix(path, fmt) as readable:
            book = CalamineWorkbook.from_path(str(readable))
            described = book.sheets_metadata
            if len(described) > limits.max_sheets:
                raise _over_limit(
                    f"jumlah lembar {len(described)} melebihi batas {limits.max_sheets}"
                )
            sheets = []
            for info in described:
                sheet_meta = meta.sheets.get(info.name)
                if sheet_meta is None and str(info.typ) != "SheetTypeEnum.WorkSheet":
                    # A chart, dialog or macro sheet: no cells to read.
                    sheets.append(SheetData(name=info.name, state=_state(info)))
                    continue
                values = book.get_sheet_by_name(info.name)
                sheets.append(_sheet_data(info, values, sheet_meta, fmt, limits))
            return sheets
    except PasswordError:
        raise _encrypted() from None
    except (CalamineError, ValueError, OSError, UnicodeDecodeError, EOFError, OverflowError) as exc:
        raise _corrupt(exc) from None


def _state(info) -> str:
    return _STATES.get(str(info.visible), "visible")


def _sheet_data(info, values, meta: SheetScan | None, fmt: str, limits: Limits) -> SheetData:
    """One SheetData from calamine's sheet and the sheet's scanned metadata (merged ranges from
    calamine for .xls, and for any sheet the scan did not reach)."""
    end = values.end
    if end is not None:
        _check_extent(info.name, end[0] + 1, end[1] + 1, limits)
    rows = values.to_python(skip_empty_area=False) if end is not None else []
    cells = _clean_cells(rows, info.name, limits)
    scanned = meta is not None and fmt != "xls"
    meta = meta or SheetScan()
    if not scanned:
        extent = SheetScan(n_rows=len(cells), n_cols=max(map(len, cells), default=0))
        extent.merged = [
            (r0 + 1, c0 + 1, r1 + 1, c1 + 1)
            for (r0, c0), (r1, c1) in (values.merged_cell_ranges or [])
        ]
        meta.merged = _clip(extent).merged
    return SheetData(
        name=info.name,
        state=_state(info),
        cells=cells,
        merged=meta.merged,
        percent=meta.percent,
        formulas_without_value=meta.formulas_without_value,
        errors=meta.errors,
        hidden_rows=meta.hidden_rows,
        hidden_cols=meta.hidden_cols,
    )


def _clean_cells(rows: list[list], sheet: str, limits: Limits) -> list[list]:
    """Calamine's rows with empty strings as None, trailing empties cut and text made safe
    (over-long text rejects the file, control characters are removed). The text checks run
    once over the sheet's strings joined (C speed); only a sheet that has a control character
    is fixed cell by cell."""
    out = []
    for row in rows:
        line = [None if v == "" else v for v in row]
        while line and line[-1] is None:
            line.pop()
        out.append(line)
    while out and not out[-1]:
        out.pop()
    texts = [v for line in out for v in line if v.__class__ is str]
    if not texts:
        return out
    longest = max(map(len, texts))
    if longest > limits.max_cell_chars:
        raise _over_limit(
            f"lembar '{sheet}' berisi teks sel sepanjang {number(longest)} karakter, "
            f"melebihi batas {number(limits.max_cell_chars)} karakter"
        )
    if _CONTROL_CHARS.search("\n".join(texts)):
        out = [
            [_CONTROL_CHARS.sub("", v) if v.__class__ is str else v for v in line] for line in out
        ]
    return out


def _has_content(sheet: SheetData) -> bool:
    return bool(sheet.errors or sheet.formulas_without_value) or any(
        v is not None for row in sheet.cells for v in row
    )


# --- failures ---------------------------------------------------------------------------------


def _over_limit(what: str) -> ReadFailure:
    return ReadFailure("RB-E007", f"Berkas melampaui batas aman: {what}.")


def _entity_failure() -> ReadFailure:
    return _over_limit(
        "berkas memuat deklarasi DTD/entitas XML (pola serangan 'billion laughs'), "
        "yang tidak pernah ditulis oleh Excel atau LibreOffice"
    )


def _encrypted() -> ReadFailure:
    return ReadFailure(
        "RB-E002", "Berkas dilindungi kata sandi (terenkripsi) sehingga tidak dapat dibaca."
    )


def _corrupt(exc: BaseException) -> ReadFailure:
    return ReadFailure(
        "RB-E003", f"Berkas rusak dan tidak dapat dibaca (rincian teknis: {_short(exc)})."
    )


def _mib(size: int) -> str:
    return f"{number(size / (1 << 20), 1)} MiB"


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]
