"""``portal.sqlite``: accounts, sessions, failed sign-ins, uploads, month-run tasks, audit log.

WAL mode (readers never wait for the writer), ``synchronous=FULL`` (a committed upload record
survives a power cut), a busy timeout instead of "database is locked" errors. The schema is a
list of migrations applied in order; ``PRAGMA user_version`` records how many ran. One
connection per thread (:class:`Database` hands them out), so the event loop, the checker thread
and the run threads never share one.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE akun (
            nama TEXT PRIMARY KEY,
            peran TEXT NOT NULL CHECK (peran IN ('unit', 'analis', 'pimpinan')),
            unit TEXT,
            sandi TEXT NOT NULL,
            sandi_sementara INTEGER NOT NULL DEFAULT 0,
            aktif INTEGER NOT NULL DEFAULT 1,
            dibuat TEXT NOT NULL,
            diubah TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX akun_unit ON akun (unit) WHERE peran = 'unit' AND aktif = 1",
        """CREATE TABLE sesi (
            kunci TEXT PRIMARY KEY,
            nama TEXT,
            csrf TEXT NOT NULL,
            dibuat TEXT NOT NULL,
            dilihat TEXT NOT NULL
        )""",
        "CREATE INDEX sesi_nama ON sesi (nama)",
        "CREATE TABLE gagal_masuk (nama TEXT NOT NULL, waktu TEXT NOT NULL)",
        "CREATE INDEX gagal_masuk_nama ON gagal_masuk (nama, waktu)",
        """CREATE TABLE kiriman (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            unit TEXT,
            periode TEXT NOT NULL,
            berkas TEXT NOT NULL,
            disimpan TEXT,
            karantina INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT NOT NULL,
            ukuran INTEGER NOT NULL,
            diterima TEXT NOT NULL,
            status TEXT NOT NULL,
            kesalahan INTEGER NOT NULL,
            peringatan INTEGER NOT NULL,
            masalah TEXT NOT NULL,
            oleh TEXT NOT NULL
        )""",
        "CREATE INDEX kiriman_periode ON kiriman (periode, unit, id)",
        """CREATE TABLE rekap (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            periode TEXT NOT NULL,
            status TEXT NOT NULL,
            tahap TEXT,
            dibuat TEXT NOT NULL,
            selesai TEXT,
            ringkasan TEXT,
            oleh TEXT NOT NULL
        )""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            waktu TEXT NOT NULL,
            nama TEXT,
            peran TEXT,
            aksi TEXT NOT NULL,
            rincian TEXT NOT NULL,
            alamat TEXT
        )""",
    ),
    (
        # issue 15: failed sign-ins also counted per client (the address asking)
        "ALTER TABLE gagal_masuk ADD COLUMN alamat TEXT",
        "CREATE INDEX gagal_masuk_alamat ON gagal_masuk (alamat, waktu)",
    ),
]


def one_line(text: str | None) -> str | None:
    """``text`` with every control or format character (newlines, NUL, bidirectional
    overrides) replaced by a space."""
    if text is None:
        return None
    return "".join(" " if unicodedata.category(c)[0] == "C" else c for c in str(text))


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(conn):
            for sql in statements:
                conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {number}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        _rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        # A COMMIT that fails (SQLITE_FULL on a full disk) may leave the transaction open:
        # the connection must not carry it into the next request.
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back what is open (SQLite may already have rolled back on its own, e.g. after
    SQLITE_FULL); never hides the error being handled."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Database:
    """``portal.sqlite`` at ``path``, migrated on first use; :meth:`conn` is per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        migrate(self.conn())

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.conn().execute(sql, params)

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn().execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn().execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with transaction(self.conn()) as conn:
            yield conn

    def audit(self, aksi: str, rincian: str, *, nama=None, peran=None, alamat=None) -> None:
        """One line of the audit log. Text that came from a request (names of files and
        accounts) loses its control characters: one entry is one line, never two."""
        self.execute(
            "INSERT INTO audit (waktu, nama, peran, aksi, rincian, alamat) VALUES (?,?,?,?,?,?)",
            (now(), one_line(nama), peran, aksi, one_line(rincian), one_line(alamat)),
        )

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
