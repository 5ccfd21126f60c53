"""Recognise a file's format from its content (magic bytes and container directory), never its name.

Units rename files freely (a PDF saved as ``laporan.xlsx``, an ``.xls`` that is really an HTML
table), so the reader decides what a file is from its bytes. Sniffing is cheap: it reads the
first bytes and, for containers, only their directory: the ZIP central directory (plus
``[Content_Types].xml`` / ``mimetype``, a few hundred bytes) or the OLE2 (Compound File) sector
chain of the directory stream. Nothing here parses cell data.

In: a path. Out: :func:`sniff_format` gives ``"xlsx" | "xlsm" | "xls" | "ods" | "xlsb" |
"encrypted"`` or None; :func:`sniff` also says, in Indonesian, what a non-workbook looks like.
The OLE2 helpers (:func:`ole_directory`, :func:`ole_stream`) also serve the reader, which reads
an .xls file's ``Workbook`` stream for the metadata calamine does not give.
"""

from __future__ import annotations

import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
HEAD_BYTES = 4096

# Content types of the main part of each OOXML spreadsheet flavour ([Content_Types].xml).
_OOXML_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.main+xml": "xlsm",
    "application/vnd.ms-excel.template.macroenabled.main+xml": "xlsm",
    "application/vnd.ms-excel.addin.macroenabled.main+xml": "xlsm",
    "application/vnd.ms-excel.sheet.binary.macroenabled.main": "xlsb",
}
_ODS_MIMETYPES = (
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet-template",
)
# Other office documents, named so the unit knows what it sent instead.
_OTHER_ZIP_DOCUMENTS = {
    "wordprocessingml": "dokumen Word (.docx)",
    "presentationml": "presentasi PowerPoint (.pptx)",
    "opendocument.text": "dokumen teks OpenDocument (.odt)",
    "opendocument.presentation": "presentasi OpenDocument (.odp)",
}
_OLE_OTHER_STREAMS = {
    "worddocument": "dokumen Word lama (.doc)",
    "powerpoint document": "presentasi PowerPoint lama (.ppt)",
}
_MAGIC_DESCRIPTIONS = (
    (b"%PDF", "dokumen PDF"),
    (b"\x89PNG", "gambar PNG"),
    (b"\xff\xd8\xff", "gambar JPEG"),
    (b"GIF8", "gambar GIF"),
    (b"Rar!", "arsip RAR"),
    (b"7z\xbc\xaf", "arsip 7-Zip"),
    (b"\x1f\x8b", "arsip GZIP"),
    (b"{\\rtf", "dokumen RTF"),
)


@dataclass(frozen=True, kw_only=True)
class Sniff:
    """What the bytes say. ``format`` as in :func:`sniff_format`, or ``"csv"`` / ``"html"`` /
    ``"xml2003"`` for spreadsheets saved in a text format we do not read; ``looks_like`` is an
    Indonesian noun phrase for the problem message ("dokumen PDF") when ``format`` is not a
    readable workbook; ``has_macros`` when the container holds a VBA project; ``damaged`` when
    the bytes start like a container (ZIP, OLE2) whose directory is broken or truncated."""

    format: str | None
    looks_like: str | None = None
    has_macros: bool = False
    damaged: bool = False


WORKBOOK_FORMATS = frozenset({"xlsx", "xlsm", "xls", "ods"})
TEXT_SPREADSHEETS = frozenset({"csv", "html", "xml2003"})


def sniff_format(path: Path) -> str | None:
    """``"xlsx" | "xlsm" | "xls" | "ods" | "xlsb" | "encrypted"``, or None when the content is
    not a workbook we recognise (PDF, text, image, empty, truncated garbage)."""
    fmt = sniff(path).format
    return None if fmt in TEXT_SPREADSHEETS else fmt


def sniff(path: Path) -> Sniff:
    """Classify ``path`` by content; never raises for bad content (only for an unreadable path)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head:
        return Sniff(format=None, looks_like="berkas kosong (0 byte)")
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    for magic, description in _MAGIC_DESCRIPTIONS:
        if head.startswith(magic):
            return Sniff(format=None, looks_like=description)
    return _sniff_text(head)


# --- ZIP containers (OOXML, ODF) ------------------------------------------------------------

ZIP_EOCD = b"PK\x05\x06"
ZIP64_LOCATOR = b"PK\x06\x07"


def zip_member_count(path: Path) -> int | None:
    """Number of entries the ZIP's end-of-central-directory record declares (ZIP64 aware), read
    from the file's tail only; None when no such record is found (not a complete ZIP)."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        tail_len = min(size, 65536 + 22)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        pos = tail.rfind(ZIP_EOCD)
        if pos < 0 or len(tail) - pos < 22:
            return None
        count = struct.unpack_from("<H", tail, pos + 10)[0]
        locator = pos - 20
        if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == ZIP64_LOCATOR:
            eocd64 = struct.unpack_from("<Q", tail, locator + 8)[0]
            fh.seek(eocd64)
            record = fh.read(56)
            if len(record) == 56 and record.startswith(b"PK\x06\x06"):
                count = struct.unpack_from("<Q", record, 32)[0]
        return count


def _read_member_head(zf: zipfile.ZipFile, member, limit: int = 65536) -> bytes:
    """The first ``limit`` bytes of a member (decompressing only that much)."""
    with zf.open(member) as fh:
        return fh.read(limit)


def _sniff_zip(path: Path) -> Sniff:
    try:
        with zipfile.ZipFile(path) as zf:
            return sniff_zip(zf)
    except _ZIP_ERRORS:
        return Sniff(format=None, looks_like="arsip ZIP yang rusak atau terpotong", damaged=True)


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    NotImplementedError,
    ValueError,
    RuntimeError,
)


def sniff_zip(zf: zipfile.ZipFile) -> Sniff:
    """Classify an open ZIP by its member names and its content-type or mimetype member."""
    try:
        lower = {info.filename.replace("\\", "/").lower(): info for info in zf.infolist()}
        if "[content_types].xml" in lower:
            types = _read_member_head(zf, lower["[content_types].xml"])
            return _classify_ooxml(types.decode("utf-8", "replace"), lower)
        if "mimetype" in lower:
            mimetype = _read_member_head(zf, lower["mimetype"], 256).decode("ascii", "replace")
            return _classify_odf(mimetype.strip(), lower)
        if "meta-inf/manifest.xml" in lower:
            manifest = _read_member_head(zf, lower["meta-inf/manifest.xml"])
            manifest_text = manifest.decode("utf-8", "replace")
            media = re.search(r'full-path="/"[^>]*media-type="([^"]+)"', manifest_text)
            media = media or re.search(r'media-type="([^"]+)"[^>]*full-path="/"', manifest_text)
            return _classify_odf(media.group(1) if media else "", lower)
    except _ZIP_ERRORS:
        return Sniff(format=None, looks_like="arsip ZIP yang rusak atau terpotong", damaged=True)
    return Sniff(format=None, looks_like="arsip ZIP tanpa lembar kerja di dalamnya")


def _classify_ooxml(content_types: str, lower_names: dict[str, zipfile.ZipInfo]) -> Sniff:
    text = content_types.lower()
    has_vba = any(n.endswith("vbaproject.bin") for n in lower_names)
    for content_type, fmt in _OOXML_MAIN_TYPES.items():
        if content_type in text:
            return Sniff(format=fmt, has_macros=has_vba or fmt == "xlsm")
    for marker, description in _OTHER_ZIP_DOCUMENTS.items():
        if marker in text:
            return Sniff(format=None, looks_like=description)
    if "xl/workbook.bin" in lower_names:
        return Sniff(format="xlsb")
    if "xl/workbook.xml" in lower_names:
        return Sniff(format="xlsm" if has_vba else "xlsx", has_macros=has_vba)
    return Sniff(format=None, looks_like="arsip ZIP tanpa lembar kerja di dalamnya")


def _classify_odf(mimetype: str, lower_names: dict[str, zipfile.ZipInfo]) -> Sniff:
    has_basic = any(n.startswith("basic/") and n.endswith(".xml") for n in lower_names)
    if mimetype in _ODS_MIMETYPES:
        return Sniff(format="ods", has_macros=has_basic)
    for marker, description in _OTHER_ZIP_DOCUMENTS.items():
        if marker in mimetype:
            return Sniff(format=None, looks_like=description)
    return Sniff(format=None, looks_like="arsip ZIP tanpa lembar kerja di dalamnya")


# --- OLE2 compound files (xls, encrypted OOXML, doc, ppt) -----------------------------------

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
_MAX_DIRECTORY_SECTORS = 4096  # 4096 x 4 KiB: far beyond any real workbook's directory
_MINI_STREAM_CUTOFF = 4096


@dataclass(frozen=True, kw_only=True)
class OleEntry:
    """One entry of an OLE2 directory: ``kind`` 1 storage, 2 stream, 5 root; ``start`` its
    first sector, ``size`` its length in bytes."""

    name: str
    kind: int
    start: int
    size: int


class _Compound:
    """Sector-level access to an OLE2 compound file through an open handle: only the sectors
    asked for are read, every chain walk is bounded (cycles and out-of-range sectors end it)."""

    def __init__(self, fh, header: bytes, file_size: int):
        self.fh = fh
        self.file_size = file_size
        self.sector_size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
        self.first_dir = struct.unpack_from("<I", header, 0x30)[0]
        difat = struct.unpack_from("<109I", header, 0x4C)
        self.fat_sectors = [s for s in difat if s not in (_FREE, _END_OF_CHAIN)]
        self._difat_next = struct.unpack_from("<I", header, 0x44)[0]
        self._fat_blocks: dict[int, tuple[int, ...]] = {}
        self.mini_sector_size = 1 << struct.unpack_from("<H", header, 0x20)[0]
        self.first_mini_fat = struct.unpack_from("<I", header, 0x3C)[0]

    def sector(self, index: int) -> bytes | None:
        offset = (index + 1) * self.sector_size
        if offset + self.sector_size > self.file_size:
            return None
        self.fh.seek(offset)
        return self.fh.read(self.sector_size)

    def next_sector(self, index: int) -> int | None:
        per_block = self.sector_size // 4
        fat_index, slot = divmod(index, per_block)
        while fat_index >= len(self.fat_sectors) and self._more_fat_sectors():
            pass
        if fat_index >= len(self.fat_sectors):
            return None
        if fat_index not in self._fat_blocks:
            block = self.sector(self.fat_sectors[fat_index])
            if block is None:
                return None
            self._fat_blocks[fat_index] = struct.unpack(f"<{per_block}I", block)
        return self._fat_blocks[fat_index][slot]

    def _more_fat_sectors(self) -> bool:
        """Extend the FAT sector list from the next DIFAT sector (files over ~7 MiB)."""
        if self._difat_next in (_FREE, _END_OF_CHAIN) or len(self.fat_sectors) > (1 << 20):
            return False
        block = self.sector(self._difat_next)
        if block is None:
            self._difat_next = _END_OF_CHAIN
            return False
        values = struct.unpack(f"<{self.sector_size // 4}I", block)
        self.fat_sectors.extend(s for s in values[:-1] if s not in (_FREE, _END_OF_CHAIN))
        self._difat_next = values[-1]
        return True

    def chain(self, start: int, limit: int) -> list[int]:
        """The sector chain from ``start``, at most ``limit`` sectors, stopping where it breaks."""
        out: list[int] = []
        seen: set[int] = set()
        sector = start
        while sector not in (_END_OF_CHAIN, _FREE) and len(out) < limit and sector not in seen:
            seen.add(sector)
            out.append(sector)
            follow = self.next_sector(sector)
            if follow is None:
                break
            sector = follow
        return out

    def directory(self) -> list[OleEntry]:
        entries = []
        for index in self.chain(self.first_dir, _MAX_DIRECTORY_SECTORS):
            block = self.sector(index)
            if block is None:
                break
            for offset in range(0, self.sector_size, 128):
                length = struct.unpack_from("<H", block, offset + 64)[0]
                kind = block[offset + 66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    entries.append(
                        OleEntry(
                            name=block[offset : offset + length - 2].decode("utf-16-le", "replace"),
                            kind=kind,
                            start=struct.unpack_from("<I", block, offset + 116)[0],
                            size=struct.unpack_from("<I", block, offset + 120)[0],
                        )
                    )
        return entries

    def read(self, start: int, size: int) -> bytes | None:
        """``size`` bytes of the regular stream starting at sector ``start``; None when its
        chain is broken."""
        needed = -(-size // self.sector_size)
        sectors = self.chain(start, needed)
        blocks = [self.sector(index) for index in sectors]
        found = [block for block in blocks if block is not None]
        if len(sectors) < needed or len(found) < len(blocks):
            return None
        return b"".join(found)[:size]

    def read_mini(self, root: OleEntry, start: int, size: int) -> bytes | None:
        """``size`` bytes of a stream kept in the mini stream (streams under 4 KiB): its
        64-byte sectors are chained through the MiniFAT and stored inside the root entry's
        stream."""
        container = self.read(root.start, root.size)
        mini_fat_sectors = self.chain(self.first_mini_fat, 1 << 16)
        blocks = [self.sector(index) for index in mini_fat_sectors]
        found = [block for block in blocks if block is not None]
        if container is None or len(found) < len(blocks):
            return None
        mini_fat = struct.unpack(f"<{len(found) * self.sector_size // 4}I", b"".join(found))
        out, seen, sector, step = bytearray(), set(), start, self.mini_sector_size
        while len(out) < size and sector < len(mini_fat) and sector not in seen:
            seen.add(sector)
            out += container[sector * step : (sector + 1) * step]
            sector = mini_fat[sector]
        return bytes(out[:size]) if len(out) >= size else None


def _open_compound(fh) -> _Compound | None:
    header = fh.read(512)
    if len(header) < 512 or not header.startswith(OLE_MAGIC):
        return None
    if struct.unpack_from("<H", header, 0x1E)[0] not in (9, 12):
        return None
    fh.seek(0, 2)
    return _Compound(fh, header, fh.tell())


def ole_directory(path: Path) -> list[OleEntry] | None:
    """The entries of an OLE2 compound file's directory, read by following the directory's
    sector chain through the FAT (only the sectors needed). A broken chain (truncated file,
    cycle, sector out of range) ends the walk: the entries found so far are returned, so a
    damaged workbook is still recognised and left to the reader to fail on; None when not even
    the first directory sector can be read."""
    with open(path, "rb") as fh:
        compound = _open_compound(fh)
        return (compound.directory() or None) if compound else None


def ole_stream(path: Path, names: tuple[str, ...], max_bytes: int) -> bytes | None:
    """The content of the first stream called one of ``names`` (case-insensitive), or None when
    there is none, it exceeds ``max_bytes`` or its chain is broken."""
    wanted = {n.lower() for n in names}
    with open(path, "rb") as fh:
        compound = _open_compound(fh)
        if compound is None:
            return None
        directory = compound.directory()
        entry = next((e for e in directory if e.kind == 2 and e.name.lower() in wanted), None)
        if entry is None or entry.size > max_bytes:
            return None
        if entry.size >= _MINI_STREAM_CUTOFF:
            return compound.read(entry.start, entry.size)
        root = next((e for e in directory if e.kind == 5), None)
        return compound.read_mini(root, entry.start, entry.size) if root else None


def _sniff_ole(path: Path) -> Sniff:
    entries = ole_directory(path)
    if entries is None:
        return Sniff(
            format=None, looks_like="berkas Office lama yang rusak atau terpotong", damaged=True
        )
    lower = {entry.name.lower() for entry in entries}
    if "encryptedpackage" in lower:
        return Sniff(format="encrypted")
    if "workbook" in lower or "book" in lower:
        has_vba = "_vba_project_cur" in lower or "vba" in lower
        return Sniff(format="xls", has_macros=has_vba)
    for stream, description in _OLE_OTHER_STREAMS.items():
        if stream in lower:
            return Sniff(format=None, looks_like=description)
    return Sniff(format=None, looks_like="berkas Office lama yang bukan lembar kerja")


# --- Text ------------------------------------------------------------------------------------


def _sniff_text(head: bytes) -> Sniff:
    """HTML tables and Excel 2003 XML saved as ``.xls`` are common exports from web apps; CSV is
    common too. They are spreadsheets we do not read (RB-E012); other bytes are RB-E001."""
    text = _decode_text(head)
    if text is None:
        return Sniff(format=None, looks_like="berkas biner yang tidak dikenal")
    start = text.lstrip("\ufeff \t\r\n").lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in text or 'progid="excel.sheet"' in start:
        return Sniff(format="xml2003", looks_like="lembar kerja XML Excel 2003")
    if start.startswith(("<!doctype html", "<html")) or "<table" in start:
        return Sniff(format="html", looks_like="halaman web (HTML)")
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    for separator in (";", ",", "\t"):
        counts = {line.count(separator) for line in lines[:-1] or lines}
        if len(lines) >= 2 and len(counts) == 1 and counts.pop() >= 1:
            return Sniff(format="csv", looks_like="berkas teks CSV")
    return Sniff(format=None, looks_like="berkas teks")


def _decode_text(head: bytes) -> str | None:
    """``head`` as text when it looks like text (UTF-8/UTF-16 with BOM/Latin-1 without control
    bytes), else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "replace")
    text = head.decode("utf-8", "replace") if b"\x00" not in head else None
    if text is None:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    replaced = text.count("\ufffd")
    if controls > len(text) // 100 or replaced > max(3, len(text) // 50):
        return None
    return text
