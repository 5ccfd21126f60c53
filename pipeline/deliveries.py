"""Who reported this month, and when: each unit's delivery and the analysts' arrival log.

A unit *delivered* when it has an accepted file. It is *on time* when its first file (accepted
or superseded) arrived by the end of the deadline day of the following month: a correction sent
after the feedback does not make a punctual unit late. When a file arrived comes from the
arrival log analysts may keep (``inputs/kedatangan/<YYYY-MM>.csv``, read by
:func:`read_arrivals`), else from the file's own times.

Example::

    deliveries = unit_deliveries(submissions, period=period, registry=registry)
    deliveries["DINKES"].on_time
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline import schema
from pipeline.errors import RunError
from pipeline.model import Submission
from pipeline.registry import MONTH_ABBREVIATIONS, MONTHS_ID, Period, Registry


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """What one unit sent this month."""

    unit: str
    file: str  # the accepted file (of several, the latest to arrive)
    received: dt.datetime  # arrival of the accepted file (of several, the latest)
    first_received: dt.datetime  # earliest arrival among the unit's accepted/superseded files
    on_time: bool


@dataclass(frozen=True, kw_only=True)
class KindSource:
    """Where one kind of a unit's plans came from: a report may be split by sheet kind over
    several files (:mod:`pipeline.ingest`)."""

    kind: str  # "umum" | "tematik"
    file: str  # the accepted file
    sheet: str  # its sheet, as named in the file
    reader: str | None  # the library that read the file ("calamine", or a second reader)
    rows: int  # action plans consolidated from that sheet


def report_sources(submissions: Iterable[Submission]) -> dict[str, dict[str, KindSource]]:
    """Each unit with an accepted file -> kind -> the sheet whose plans were consolidated (the
    ``used`` sheets of ``Submission.sheets``), kinds in ``schema.KINDS`` order. A kind no file
    of the unit has is absent."""
    found: dict[str, dict[str, KindSource]] = {}
    for s in submissions:
        if not (s.unit and s.accepted):
            continue
        for a in s.sheets:
            if a.use == "used":
                found.setdefault(s.unit, {})[a.kind] = KindSource(
                    kind=a.kind,
                    file=s.name,
                    sheet=a.sheet,
                    reader=s.reader,
                    rows=a.rows_consolidated,
                )
    return {
        unit: {kind: kinds[kind] for kind in schema.KINDS if kind in kinds}
        for unit, kinds in found.items()
    }


def deadline_end(period: Period, day: int) -> dt.datetime:
    """The moment submissions become late: the end of the deadline day (local time), i.e.
    midnight starting the day after ``period.deadline(day)``."""
    return dt.datetime.combine(period.deadline(day) + dt.timedelta(days=1), dt.time())


def arrival_time(submission: Submission, arrivals: Mapping[str, dt.datetime] | None) -> dt.datetime:
    """When a file arrived: the arrival log's entry for its name (exact, else ignoring case and
    slash direction), else ``submission.received``, else its modification time. Local, naive."""
    if arrivals:
        if submission.name in arrivals:
            return _local(arrivals[submission.name])
        folded = {_name_key(k): v for k, v in arrivals.items()}
        if _name_key(submission.name) in folded:
            return _local(folded[_name_key(submission.name)])
    return _local(submission.received or submission.modified)


def unit_deliveries(
    submissions: Iterable[Submission],
    *,
    period: Period,
    registry: Registry,
    arrivals: Mapping[str, dt.datetime] | None = None,
) -> dict[str, Delivery]:
    """Each unit with an accepted file -> its delivery. On time when its *first* file (accepted
    or superseded) arrived by the deadline: a correction sent later, after feedback, does not
    make a punctual unit late. Several accepted files of one unit (a report split by sheet
    kind): ``file`` and ``received`` are the latest arrival's, on time is still judged by the
    first file."""
    end = deadline_end(period, registry.settings.batas_hari)
    by_unit: dict[str, list[tuple[dt.datetime, Submission]]] = {}
    for s in submissions:
        if s.unit and s.status in ("accepted", "superseded"):
            by_unit.setdefault(s.unit, []).append((arrival_time(s, arrivals), s))
    out = {}
    for unit, sent in by_unit.items():
        accepted = sorted((t, s.name) for t, s in sent if s.accepted)
        if not accepted:
            continue
        first = min(t for t, _ in sent)
        received, name = accepted[-1]
        out[unit] = Delivery(
            unit=unit, file=name, received=received, first_received=first, on_time=first < end
        )
    return out


ARRIVAL_COLUMNS = ("berkas", "diterima")
_MONTH_NAMES = {name.lower(): i for i, name in enumerate(MONTHS_ID, start=1)} | MONTH_ABBREVIATIONS
_NUMERIC_DATE = re.compile(
    r"(?P<a>\d{1,4})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{1,4})"
    r"(?:[ T]+(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?)?"
)
_NAMED_DATE = re.compile(
    r"(?P<d>\d{1,2})\s+(?P<m>[a-z]+)\.?\s+(?P<y>\d{4})"
    r"(?:[ ,]+(?:pukul\s+)?(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?)?"
)


def parse_arrival(text: str) -> dt.datetime | None:
    """An arrival time as analysts type it, or None when it is not one. Accepted:
    ``2025-11-04 14:30[:00]`` (ISO, ``T`` allowed, a UTC offset is turned into local time),
    ``04/11/2025 14.30`` or ``04-11-2025`` (day first, as in Indonesia), ``4 November 2025
    14:30`` or ``4 Nov 2025``. A date without a time means the start of that day."""
    text = " ".join(str(text).strip().split())
    try:
        return _local(dt.datetime.fromisoformat(text))
    except ValueError:
        pass
    lowered = text.lower()
    m = _NUMERIC_DATE.fullmatch(lowered)
    if m:
        a, b, c = m.group("a"), m.group("b"), m.group("c")
        year, month, day = (int(a), int(b), int(c)) if len(a) == 4 else (int(c), int(b), int(a))
    else:
        m = _NAMED_DATE.fullmatch(lowered)
        if not m or m.group("m") not in _MONTH_NAMES:
            return None
        year, month, day = int(m.group("y")), _MONTH_NAMES[m.group("m")], int(m.group("d"))
    if year < 1000:
        return None
    try:
        return dt.datetime(
            year,
            month,
            day,
            int(m.group("h") or 0),
            int(m.group("mi") or 0),
            int(m.group("s") or 0),
        )
    except ValueError:
        return None


def read_arrivals(path: Path) -> dict[str, dt.datetime]:
    """Read an arrival log: a CSV (UTF-8, separator ``,`` ``;`` or tab, as Excel saves it) with
    the header ``berkas,diterima``: the file name as in the month folder and when it arrived
    (formats of :func:`parse_arrival`). Blank lines are skipped. Raises :class:`RunError`
    (Indonesian, naming the line) when the log is missing, unreadable, lacks a column, holds a
    time it cannot read, or gives one file two different times."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RunError(f"Catatan kedatangan berkas {path} tidak ditemukan.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"Catatan kedatangan berkas {path} tidak dapat dibaca: {exc}.") from None
    lines = text.splitlines()
    try:
        dialect = csv.Sniffer().sniff(lines[0] if lines else "", delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in ARRIVAL_COLUMNS if c not in header]
    if missing:
        raise RunError(
            f"Catatan kedatangan {path} harus memiliki kolom 'berkas' dan 'diterima' di baris "
            f"pertama; kolom {', '.join(repr(c) for c in missing)} tidak ada."
        )
    name_at, time_at = header.index("berkas"), header.index("diterima")
    out: dict[str, dt.datetime] = {}
    for number, record in enumerate(reader, start=2):
        cells = [c.strip() for c in record]
        if not any(cells):
            continue
        name = cells[name_at] if name_at < len(cells) else ""
        value = cells[time_at] if time_at < len(cells) else ""
        if not name:
            raise RunError(f"Catatan kedatangan {path}, baris {number}: nama berkas kosong.")
        when = parse_arrival(value)
        if when is None:
            raise RunError(
                f"Catatan kedatangan {path}, baris {number}: waktu diterima '{value}' tidak "
                "dapat dibaca. Gunakan misalnya 2025-11-04 14:30 atau 04/11/2025 14.30."
            )
        if name in out and out[name] != when:
            raise RunError(
                f"Catatan kedatangan {path}, baris {number}: berkas '{name}' tercatat dua kali "
                "dengan waktu berbeda. Sisakan satu baris untuk setiap berkas."
            )
        out[name] = when
    return out


def _local(moment: dt.datetime) -> dt.datetime:
    """Naive local time: an aware datetime is converted to this machine's zone."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def _name_key(name: str) -> str:
    return name.replace("\\", "/").strip().casefold()
