"""Read one untrusted workbook into :class:`~pipeline.ingest.workbook.WorkbookData`.

In: a path and :class:`~pipeline.ingest.limits.Limits`. Out: every sheet's values (through
python-calamine) with its visibility, plus the cell metadata calamine does not give, or a
:class:`~pipeline.ingest.workbook.ReadFailure` whose catalogue code says why the file cannot be
read (RB-E001 not a workbook, RB-E002 encrypted, RB-E003 corrupt, RB-E004 no value at all,
RB-E007 over a safety limit, RB-E012 unsupported format).

Order of work, cheapest first, so that a hostile file is refused before any heavy read:

1. file size; format from content (:mod:`pipeline.ingest.sniff`), never from the extension;
2. ZIP containers (:mod:`~pipeline.ingest.containers`): member count, declared sizes and
   compression ratios, encryption; no XML is ever parsed with a DTD (expat with defusedxml's
   guards), and the XML parts calamine parses but we only scan with regular expressions
   (worksheets, styles, shared strings) are refused when their prolog declares one ("billion
   laughs");
3. a scan of every sheet that measures its *real* used range (the declared ``<dimension>`` is
   not trusted: calamine allocates for the cells actually present, so one value in XFD1048576
   means 17e9 cells and a process abort) and collects the metadata below; then the limits
   (:mod:`~pipeline.ingest.ooxml`, :mod:`~pipeline.ingest.ods`, :mod:`~pipeline.ingest.biff`);
4. only then calamine reads the values (:mod:`~pipeline.ingest.calamine`; cell text made safe
   by :mod:`~pipeline.ingest.cells`).

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
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.parsers import expat

from pipeline.ingest.biff import scan_xls
from pipeline.ingest.calamine import read_values
from pipeline.ingest.cells import has_content
from pipeline.ingest.containers import XML_DEFENCES, ZIP_ERRORS, entity_failure
from pipeline.ingest.fallback import SECOND_READER, read_second
from pipeline.ingest.limits import DEFAULT_LIMITS, Limits, mib, over_limit
from pipeline.ingest.ods import scan_ods
from pipeline.ingest.ooxml import scan_ooxml
from pipeline.ingest.scan import WorkbookScan
from pipeline.ingest.sniff import (
    TEXT_SPREADSHEETS,
    WORKBOOK_FORMATS,
    ZIP_MAGICS,
    Sniff,
    sniff,
    sniff_zip,
    zip_member_count,
)
from pipeline.ingest.workbook import ReadFailure, WorkbookData, corrupt, encrypted, technical
from pipeline.locale_id import number


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS) -> WorkbookData:
    """The values and metadata of every sheet of ``path``; raises ReadFailure (and nothing else
    for bad content) when the file is not a readable workbook or exceeds ``limits``.

    A file that is structurally a workbook but that the scan or calamine cannot parse (RB-E003)
    is read again by the format's second reader (:mod:`pipeline.ingest.fallback`); RB-E003
    stands only when that fails too, naming both readers' reasons."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ReadFailure("RB-E003", f"Berkas tidak dapat dibuka ({exc.strerror}).") from None
    if size > limits.max_file_bytes:
        raise over_limit(f"ukuran berkas {mib(size)} melebihi batas {mib(limits.max_file_bytes)}")
    meta: WorkbookScan | ReadFailure | None
    if head.startswith(ZIP_MAGICS):
        sniffed, fmt, meta = _open_container(path, limits)
    else:
        sniffed = sniff(path)
        fmt = _readable_format(sniffed)
        meta = _scanned(lambda: scan_xls(path, limits))
    failures: list[tuple[str, ReadFailure]] = []
    if isinstance(meta, ReadFailure):
        failures.append(("pemeriksaan struktur", meta))
        meta = None
    else:
        try:
            sheets = read_values(path, fmt, meta, limits)
        except ReadFailure as failure:
            if failure.code != "RB-E003":
                raise
            failures.append(("calamine", failure))
    reader = "calamine"
    if failures:
        reader = SECOND_READER[fmt]
        try:
            sheets = read_second(path, fmt, meta, limits)
        except ReadFailure as failure:
            if failure.code != "RB-E003":
                raise
            raise _unreadable(fmt, [*failures, (reader, failure)]) from None
    if not any(has_content(sheet) for sheet in sheets):
        raise ReadFailure("RB-E004", "Berkas dapat dibuka tetapi tidak ada satu pun sel berisi.")
    return WorkbookData(
        format=fmt,
        reader=reader,
        sheets=sheets,
        producer=meta.producer if meta else None,
        has_macros=sniffed.has_macros or bool(meta and meta.has_macros),
    )


def _unreadable(fmt: str, failures: list[tuple[str, ReadFailure]]) -> ReadFailure:
    """RB-E003 once every reader failed: the file is a workbook by its structure, so the
    message says it could not be read, naming each reader's reason, never "not a workbook"."""
    reasons = "; ".join(f"{who}: {f.detail or f.message}" for who, f in failures)
    return ReadFailure(
        "RB-E003",
        f"Berkas {fmt.upper()} ini tidak dapat dibaca oleh pembaca mana pun ({reasons}); "
        "kemungkinan isinya rusak atau terpotong.",
    )


def _scanned(scan: Callable[[], WorkbookScan]) -> WorkbookScan | ReadFailure:
    """The format scan's result, or its RB-E003 failure (kept: a second reader may still read
    the file); other failures (limits, encryption) are the file's own facts and raised."""
    try:
        return scan()
    except ReadFailure as failure:
        if failure.code != "RB-E003":
            raise
        return failure
    except expat.ExpatError as exc:
        detail = technical(exc)
        return ReadFailure("RB-E003", f"Isi XML berkas rusak (rincian teknis: {detail}).", detail)
    except ZIP_ERRORS as exc:
        return corrupt(exc)
    except XML_DEFENCES:
        raise entity_failure() from None


def _open_container(path: Path, limits: Limits) -> tuple[Sniff, str, WorkbookScan | ReadFailure]:
    """Sniff and scan a ZIP container, opened once; the member count is checked before the
    central directory is loaded (a directory of millions of entries costs memory by itself)."""
    count = zip_member_count(path)
    if count is not None and count > limits.max_zip_members:
        raise over_limit(
            f"arsip berisi {number(count)} bagian, melebihi batas {number(limits.max_zip_members)}"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            sniffed = sniff_zip(zf)
            fmt = _readable_format(sniffed)
            scan = scan_ods if fmt == "ods" else scan_ooxml
            return sniffed, fmt, _scanned(lambda: scan(zf, limits))
    except ZIP_ERRORS as exc:
        raise corrupt(exc) from None


def _readable_format(sniffed: Sniff) -> str:
    """The format to read, or the ReadFailure that says why not."""
    fmt = sniffed.format
    if fmt in WORKBOOK_FORMATS:
        return fmt
    if sniffed.damaged:
        raise ReadFailure("RB-E003", f"Berkas rusak atau terpotong ({sniffed.looks_like}).")
    if fmt == "encrypted":
        raise encrypted()
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
