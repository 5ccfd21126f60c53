"""Run history: every monthly run recorded in an embedded SQLite database.

``outputs/riwayat.sqlite`` (standard-library ``sqlite3``) keeps, per month, one snapshot: the
run, its submissions (with their SHA-256), the staged action plans, the problems, and the unit,
group and regency metrics. Recording a month again replaces that month's snapshot in one
transaction (delete, then insert): history never holds a month twice, and a run killed mid-write
leaves the previous snapshot in place (SQLite rolls the interrupted transaction back on the next
open).

Journal mode: SQLite's default rollback journal with ``synchronous=FULL``, not WAL. WAL needs
shared memory and is unsafe on network folders (offices often keep outputs on a shared drive),
leaves ``-wal``/``-shm`` files beside the database, and one writer a month gains nothing from it.

The schema carries its version in ``PRAGMA user_version``; :data:`MIGRATIONS` lists the steps
from each version to the next and :class:`History` applies the missing ones on open. A step's
statements are history: never edit one, add a step.

Tables (``period`` is ``YYYY-MM`` everywhere; ``position`` keeps the order things came in;
``data`` columns hold the whole record as JSON, readable with SQLite's ``json_extract``):

* ``runs``: one row per recorded month: times, tool version, run info, the staged frame's
  column list and its number of plans;
* ``submissions``: every file of the month: name, sha256, size, times, unit, status, rows;
* ``plans``: the staged action plans (unit, kind, kode, file, sheet, row + every column);
* ``problems``: every problem (code, severity, where, value, message, hint);
* ``unit_metrics``, ``group_metrics``, ``regency_metrics``: the metrics frames.

Schema 2 adds ``messages``: every e-mail ``rbpipe kirim --kirim`` tried to send (period, unit,
kind, recipients, the SHA-256 of its content, subject, attachment and its SHA-256, Message-ID,
``status`` ``terkirim``/``gagal`` with the server's answer, time). It is a log, not part of a
month's snapshot: recording a month again keeps it. :meth:`History.was_sent` is how ``kirim``
knows a message went out already (see :mod:`pipeline.deliver.mail` for what "the same message"
means).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from pipeline import __version__, staged
from pipeline.deliveries import read_arrivals
from pipeline.errors import RunError
from pipeline.figures import METRIC_KEYS
from pipeline.metrics import REGENCY_CODE
from pipeline.model import Metrics, RunResult
from pipeline.plain import JsonScalar, flag, json_scalar, json_tree
from pipeline.registry import Period

__all__ = ["History", "migrate", "plan_rows", "read_arrivals", "trend_rows", "TREND_COLUMNS"]

TREND_COLUMNS = (
    "period",
    "kode",
    "nama",
    "submitted",  # unit: 1/0; KABUPATEN: units that submitted
    "on_time",  # unit: 1/0, null when not submitted; KABUPATEN: units on time
    "reporting_rate",  # KABUPATEN only
    "on_time_rate",  # KABUPATEN only
    *METRIC_KEYS,
)

_V1 = (
    """CREATE TABLE runs (
        period TEXT PRIMARY KEY,
        started TEXT,
        finished TEXT,
        recorded TEXT NOT NULL,
        tool_version TEXT,
        plan_columns TEXT NOT NULL,
        plans INTEGER NOT NULL,
        info TEXT
    )""",
    """CREATE TABLE submissions (
        period TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        sha256 TEXT,
        size INTEGER,
        modified TEXT,
        received TEXT,
        format TEXT,
        producer TEXT,
        unit TEXT,
        status TEXT NOT NULL,
        rows_read INTEGER,
        rows_consolidated INTEGER,
        rows_skipped INTEGER,
        problems TEXT
    )""",
    "CREATE INDEX submissions_period ON submissions (period, position)",
    """CREATE TABLE plans (
        period TEXT NOT NULL,
        position INTEGER NOT NULL,
        unit TEXT,
        kind TEXT,
        kode TEXT,
        file TEXT,
        sheet TEXT,
        row INTEGER,
        data TEXT NOT NULL
    )""",
    "CREATE INDEX plans_period ON plans (period, position)",
    "CREATE INDEX plans_unit ON plans (unit, kind, kode)",
    """CREATE TABLE problems (
        period TEXT NOT NULL,
        position INTEGER NOT NULL,
        code TEXT NOT NULL,
        severity TEXT NOT NULL,
        unit TEXT,
        file TEXT,
        sheet TEXT,
        row INTEGER,
        col TEXT,
        field TEXT,
        value TEXT,
        message TEXT,
        hint TEXT
    )""",
    "CREATE INDEX problems_period ON problems (period, position)",
    """CREATE TABLE unit_metrics (
        period TEXT NOT NULL,
        position INTEGER NOT NULL,
        kode TEXT NOT NULL,
        nama TEXT,
        submitted INTEGER NOT NULL,
        on_time INTEGER,
        completion_rate REAL,
        capaian_mean REAL,
        capaian_median REAL,
        evidence_completeness REAL,
        budget_absorption REAL,
        data_quality REAL,
        data TEXT NOT NULL
    )""",
    "CREATE INDEX unit_metrics_period ON unit_metrics (period, position)",
    """CREATE TABLE group_metrics (
        period TEXT NOT NULL,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL,
        grp TEXT NOT NULL,
        data TEXT NOT NULL
    )""",
    """CREATE TABLE regency_metrics (
        period TEXT PRIMARY KEY,
        nama TEXT,
        units_expected INTEGER,
        units_submitted INTEGER,
        units_on_time INTEGER,
        reporting_rate REAL,
        on_time_rate REAL,
        completion_rate REAL,
        capaian_mean REAL,
        capaian_median REAL,
        evidence_completeness REAL,
        budget_absorption REAL,
        data_quality REAL,
        data TEXT NOT NULL
    )""",
)
_V2 = (
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        period TEXT NOT NULL,
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,
        recipients TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        subject TEXT NOT NULL,
        attachment TEXT,
        attachment_sha256 TEXT,
        message_id TEXT,
        status TEXT NOT NULL,
        error TEXT,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX messages_key ON messages (period, unit, kind, content_sha256)",
)
# (version reached, statements): applied in order to databases below that version.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = ((1, _V1), (2, _V2))
MESSAGE_SENT = "terkirim"
MESSAGE_FAILED = "gagal"
SCHEMA_VERSION = MIGRATIONS[-1][0]
# Tables holding one month's snapshot (deleted and re-inserted together).
SNAPSHOT_TABLES = (
    "runs",
    "submissions",
    "plans",
    "problems",
    "unit_metrics",
    "group_metrics",
    "regency_metrics",
)


class History:
    """The run history database at ``path`` (created, or migrated to :data:`SCHEMA_VERSION`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise RunError(f"Riwayat proses {self.path} tidak dapat dibuka: {exc}.") from None
        try:
            self._db.execute("PRAGMA journal_mode = DELETE")
            self._db.execute("PRAGMA synchronous = FULL")
            migrate(self._db)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise RunError(
                f"Riwayat proses {self.path} rusak atau bukan basis data rbpipe ({exc}). "
                "Pindahkan atau ganti nama berkas itu, lalu jalankan ulang: riwayat baru akan "
                "dibuat."
            ) from None
        except RunError:
            self._db.close()
            raise

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def periods(self) -> list[str]:
        """Recorded months (``YYYY-MM``), oldest first."""
        return [r[0] for r in self._db.execute("SELECT period FROM runs ORDER BY period")]

    def previous_rows(
        self, period: Period, units: Iterable[str] | None = None
    ) -> pd.DataFrame | None:
        """Each unit's staged rows (accepted submissions) from its latest recorded month before
        ``period`` **in the same year** — targets are set once a year, so January compares with
        nothing, and a unit that skipped a month is compared with the last month it was
        accepted. None when nothing earlier is recorded this year. The staged-row columns as
        :mod:`pipeline.staged` declares them (text as str or None, numbers as float, ``_row``
        as int), then the other columns recorded by the latest such month.

        ``units``: only these units' rows (a check of a few files: ``rbpipe check --outputs``,
        the portal), read through the unit index; they are exactly the rows (and columns) the
        frame of every unit holds for them."""
        bounds = (f"{period.year:04d}-01", str(period))
        if units is None:
            latest = self._db.execute(
                "SELECT unit, MAX(period) FROM plans WHERE period >= ? AND period < ? "
                "GROUP BY unit",
                bounds,
            ).fetchall()
        else:
            latest = [
                (unit, month)
                for unit in sorted(set(units))
                for (month,) in self._db.execute(
                    "SELECT MAX(period) FROM plans WHERE unit = ? AND period >= ? AND period < ?",
                    (unit, *bounds),
                )
                if month is not None
            ]
        if not latest:
            return None
        (newest,) = self._db.execute(
            "SELECT MAX(period) FROM plans WHERE period >= ? AND period < ?", bounds
        ).fetchone()
        columns = json.loads(
            self._db.execute(
                "SELECT plan_columns FROM runs WHERE period = ?", (newest,)
            ).fetchone()[0]
        )
        records = [
            json.loads(data)
            for unit, month in sorted(latest, key=lambda x: (x[1], x[0] or ""))
            for (data,) in self._db.execute(
                "SELECT data FROM plans WHERE period = ? AND unit IS ? ORDER BY position",
                (month, unit),
            )
        ]
        return staged.conform(pd.DataFrame.from_records(records, columns=columns))

    def unit_plans(self, unit: str, before: Period) -> tuple[str | None, list[dict]]:
        """The accepted rows of ``unit`` (as recorded: staged fields plus ``_kind``, ``_row``...)
        from its latest recorded month before ``before`` in the same year, and that month;
        (None, []) when there is none."""
        first_of_year = f"{before.year:04d}-01"
        (month,) = self._db.execute(
            "SELECT MAX(period) FROM plans WHERE unit = ? AND period >= ? AND period < ?",
            (unit, first_of_year, str(before)),
        ).fetchone()
        if month is None:
            return None, []
        rows = self._db.execute(
            "SELECT data FROM plans WHERE period = ? AND unit = ? ORDER BY position",
            (month, unit),
        )
        return month, [json.loads(data) for (data,) in rows]

    def record(self, run: RunResult, *, plans: list[tuple] | None = None) -> None:
        """Store ``run`` as its month's snapshot, replacing any earlier one, in one transaction.

        ``plans``: :func:`plan_rows` of ``run.rows``, when the caller made them earlier (the
        run does, while worker processes write the feedback: it is most of this work)."""
        period = str(run.period)
        rows = run.rows
        if plans is None:
            plans = plan_rows(rows)
        with self._transaction():
            for table in SNAPSHOT_TABLES:
                self._db.execute(f"DELETE FROM {table} WHERE period = ?", (period,))
            self._db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    period,
                    _plain(run.started),
                    _plain(run.finished),
                    dt.datetime.now().isoformat(timespec="seconds"),
                    __version__,
                    json.dumps([str(c) for c in rows.columns]),
                    len(rows),
                    _json(run.info.as_dict()),
                ),
            )
            self._db.executemany(
                "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        period,
                        i,
                        s.name,
                        s.sha256,
                        s.size,
                        _plain(s.modified),
                        _plain(s.received),
                        s.format,
                        s.producer,
                        s.unit,
                        s.status,
                        s.rows_read,
                        s.rows_consolidated,
                        s.rows_skipped,
                        json.dumps([p.code for p in s.problems]),
                    )
                    for i, s in enumerate(run.submissions)
                ),
            )
            self._db.executemany(
                "INSERT INTO plans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((period, i, *plan) for i, plan in enumerate(plans)),
            )
            self._db.executemany(
                "INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        period,
                        i,
                        p.code,
                        p.severity,
                        p.unit,
                        p.file,
                        p.sheet,
                        p.row,
                        p.column,
                        p.field,
                        p.value,
                        p.message,
                        p.hint,
                    )
                    for i, p in enumerate(run.problems)
                ),
            )
            self._record_metrics(period, run.metrics)

    def trend(self, upto: Period) -> pd.DataFrame:
        """:data:`TREND_COLUMNS` for every recorded month <= ``upto``: per month, one row per
        unit (in registry order of that month) then the ``KABUPATEN`` row."""
        units = self._db.execute(
            "SELECT period, kode, nama, submitted, on_time, NULL, NULL, "
            f"{', '.join(METRIC_KEYS)} FROM unit_metrics "
            "WHERE period <= ? ORDER BY period, position",
            (str(upto),),
        ).fetchall()
        regency = self._db.execute(
            "SELECT period, ?, nama, units_submitted, units_on_time, reporting_rate, "
            f"on_time_rate, {', '.join(METRIC_KEYS)} FROM regency_metrics "
            "WHERE period <= ? ORDER BY period",
            (REGENCY_CODE, str(upto)),
        ).fetchall()
        by_period: dict[str, list[tuple]] = {}
        for record in [*units, *regency]:
            by_period.setdefault(record[0], []).append(record)
        return _trend_frame([r for p in sorted(by_period) for r in by_period[p]])

    def trend_with(self, period: Period, metrics: Metrics) -> pd.DataFrame:
        """The trend as it will read once ``metrics`` is recorded for ``period``: the recorded
        months before ``period``, then this month's rows (an earlier snapshot of ``period`` is
        superseded, later months are left out). Publishers show it before the run is recorded."""
        earlier = self.trend(period.previous())
        current = trend_rows(metrics, period)
        return pd.concat([earlier, current], ignore_index=True) if len(earlier) else current

    # ----------------------------------------------------------------------------------------
    # E-mail log (rbpipe kirim)

    def was_sent(
        self, *, period: str, unit: str, kind: str, recipients: str, content_sha256: str
    ) -> bool:
        """True when a message with this key was sent (``status`` terkirim) before."""
        found = self._db.execute(
            "SELECT 1 FROM messages WHERE period = ? AND unit = ? AND kind = ? AND "
            "recipients = ? AND content_sha256 = ? AND status = ? LIMIT 1",
            (period, unit, kind, recipients, content_sha256, MESSAGE_SENT),
        ).fetchone()
        return found is not None

    def record_message(self, **fields: object) -> None:
        """Log one attempt (the ``messages`` columns but ``id``), committed at once, so a
        failure later in the batch never loses the record of what already went out."""
        columns = (
            "period",
            "unit",
            "kind",
            "recipients",
            "content_sha256",
            "subject",
            "attachment",
            "attachment_sha256",
            "message_id",
            "status",
            "error",
            "at",
        )
        with self._transaction():
            self._db.execute(
                f"INSERT INTO messages ({', '.join(columns)}) VALUES "
                f"({', '.join('?' * len(columns))})",
                tuple(_plain(fields.get(c)) for c in columns),
            )

    def messages(self, period: str | None = None) -> list[dict[str, object]]:
        """The e-mail log (of ``period``, or all), oldest first, as dicts."""
        cursor = self._db.execute(
            "SELECT * FROM messages WHERE ? IS NULL OR period = ? ORDER BY id", (period, period)
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    # ----------------------------------------------------------------------------------------

    def _record_metrics(self, period: str, metrics: Metrics) -> None:
        self._db.executemany(
            "INSERT INTO unit_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    period,
                    i,
                    u["kode"],
                    u["nama"],
                    int(bool(u["submitted"])),
                    _flag(u["on_time"]),
                    *(_plain(u[m]) for m in METRIC_KEYS),
                    _record_json(u),
                )
                for i, u in enumerate(_records(metrics.units))
            ),
        )
        self._db.executemany(
            "INSERT INTO group_metrics VALUES (?, ?, ?, ?, ?)",
            (
                (period, i, g["kind"], g["group"], _record_json(g))
                for i, g in enumerate(_records(metrics.groups))
            ),
        )
        r = metrics.regency
        self._db.execute(
            "INSERT INTO regency_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                period,
                r.nama,
                r.units_expected,
                r.units_submitted,
                r.units_on_time,
                _plain(r.reporting_rate),
                _plain(r.on_time_rate),
                *(_plain(r.metric(m)) for m in METRIC_KEYS),
                _json(r.as_dict()),
            ),
        )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (SQLITE_FULL on a full disk): rolling back
            # again would raise and hide the real error.
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise


def plan_rows(rows: pd.DataFrame) -> list[tuple]:
    """The ``plans`` table's rows of a month's plans frame, but for the period and position:
    unit, kind, kode, file, sheet, Excel row and the whole row as JSON."""
    return [
        (
            _plain(r.get("_unit")),
            _plain(r.get("_kind")),
            _plain(r.get("kode")),
            _plain(r.get("_file")),
            _plain(r.get("_sheet")),
            _plain(r.get("_row")),
            _record_json(r),
        )
        for r in _records(rows)
    ]


def migrate(db: sqlite3.Connection) -> int:
    """Bring ``db`` (autocommit connection) to :data:`SCHEMA_VERSION`, one transaction per
    step; return the version found before. Raises :class:`RunError` for a database written by a
    newer rbpipe."""
    found = db.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise RunError(
            f"Riwayat proses ditulis oleh versi rbpipe yang lebih baru (skema {found}, versi ini "
            f"mengenal sampai {SCHEMA_VERSION}). Perbarui rbpipe lalu jalankan ulang."
        )
    for version, statements in MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if db.execute("PRAGMA user_version").fetchone()[0] < version:
                for statement in statements:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {int(version)}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return found


def trend_rows(metrics: Metrics, period: Period) -> pd.DataFrame:
    """The :data:`TREND_COLUMNS` rows of one month's metrics, exactly as :meth:`History.trend`
    returns them once recorded (so a run can show its own month before recording it)."""
    units = [
        (
            str(period),
            u["kode"],
            u["nama"],
            int(bool(u["submitted"])),
            _flag(u["on_time"]),
            None,
            None,
            *(_plain(u[m]) for m in METRIC_KEYS),
        )
        for u in _records(metrics.units)
    ]
    r = metrics.regency
    regency = (
        str(period),
        REGENCY_CODE,
        r.nama,
        r.units_submitted,
        r.units_on_time,
        _plain(r.reporting_rate),
        _plain(r.on_time_rate),
        *(_plain(r.metric(m)) for m in METRIC_KEYS),
    )
    return _trend_frame([*units, regency])


def _trend_frame(records: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(TREND_COLUMNS))
    floats = ["reporting_rate", "on_time_rate", *METRIC_KEYS]
    return frame.astype(
        {"period": object, "kode": object, "nama": object, "submitted": "Int64", "on_time": "Int64"}
        | dict.fromkeys(floats, float)
    )


def _flag(value: object) -> int | None:
    """A nullable boolean as SQLite stores it: 1, 0 or None."""
    yes = flag(value)
    return None if yes is None else int(yes)


def _plain(value: object) -> JsonScalar:
    """A value as the history stores it: :func:`~pipeline.plain.json_scalar`, times as given
    (to the microsecond)."""
    return json_scalar(value, timespec="auto")


def _json(value: object) -> str:
    """``value`` (dicts, lists, records) as JSON text (:func:`~pipeline.plain.json_tree`)."""
    return json.dumps(json_tree(value, timespec="auto"), ensure_ascii=False, allow_nan=False)


_RECORD_BLOCK = 4096  # rows converted at a time by _records


def _records(frame: pd.DataFrame) -> Iterator[dict[str, object]]:
    """A frame's rows as dicts of Python values, None wherever pandas has a missing value;
    converted a block of rows at a time, so a month's plans are never all in memory twice."""
    names = [str(c) for c in frame.columns]
    for start in range(0, len(frame), _RECORD_BLOCK):
        block = frame.iloc[start : start + _RECORD_BLOCK]
        clean = block.astype(object).where(block.notna(), None)
        for values in clean.to_numpy().tolist():
            yield dict(zip(names, values, strict=True))


# One encoder for every plan row: json.dumps with options builds a new one per call.
_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_plain)


def _record_json(record: dict[str, object]) -> str:
    """One row of :func:`_records` as JSON text (the fast path of :func:`_json`: its values are
    already plain apart from the odd timestamp)."""
    return _RECORD_ENCODER.encode(record)
