"""Accounts, passwords, sessions and sign-in throttling (used by the server and ``rbpipe akun``).

* Passwords: argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile), rehashed on sign-in
  when the parameters change. A generated password is one-time: the account may only change it.
* Sessions: a random 256-bit id in the cookie; the database keeps only its SHA-256, so a copy of
  ``portal.sqlite`` does not hand out live sessions. Anonymous visitors get a session too (it
  carries the CSRF token the sign-in form needs); signing in replaces it with a new id and a new
  token (no fixation). Sessions idle for :data:`SESSION_IDLE` end.
* Throttling: :data:`LOCK_FAILURES` failed sign-ins of one account name within
  :data:`LOCK_WINDOW` lock it: every attempt then answers "locked", a right password included,
  until the window has passed. Names that do not exist are counted the same way, so the answer
  never tells whether an account exists. Besides, :data:`CLIENT_FAILURES` failed sign-ins from
  one client (any names) within the window refuse that client's sign-ins (guessing across many
  accounts). An attempt is counted before its password is verified, so a burst of parallel
  attempts gets no more tries than a sequence.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import sqlite3
import string
from dataclasses import dataclass

from pipeline.errors import RunError
from pipeline.portal.db import Database, now

ROLES = ("unit", "analis", "pimpinan")
LOCK_FAILURES = 5
LOCK_WINDOW = dt.timedelta(minutes=15)
CLIENT_FAILURES = 20  # failed sign-ins of one client, any names, within LOCK_WINDOW
SESSION_IDLE = dt.timedelta(hours=8)
MIN_PASSWORD = 10
GENERATED_LENGTH = 14
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


@dataclass(frozen=True, kw_only=True)
class User:
    nama: str
    peran: str
    unit: str | None
    sandi_sementara: bool

    def public(self) -> dict:
        return {"nama": self.nama, "peran": self.peran, "unit": self.unit}


@dataclass(frozen=True, kw_only=True)
class Session:
    key: str  # the cookie value (never stored)
    csrf: str
    user: User | None


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def generate_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


def password_problem(nama: str, password: str) -> str | None:
    """Why ``password`` is too weak for account ``nama`` (Indonesian), or None."""
    if len(password) < MIN_PASSWORD:
        return f"Kata sandi baru terlalu pendek: minimal {MIN_PASSWORD} karakter."
    if nama.casefold() in password.casefold():
        return "Kata sandi baru tidak boleh memuat nama pengguna."
    return None


def _user(row) -> User:
    return User(
        nama=row["nama"],
        peran=row["peran"],
        unit=row["unit"],
        sandi_sementara=bool(row["sandi_sementara"]),
    )


# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------


def create_account(
    db: Database,
    nama: str,
    peran: str,
    *,
    unit: str | None,
    password: str | None,
    known_units: tuple[str, ...],
    by: str = "cli",
) -> str | None:
    """Create an account; returns the generated one-time password when ``password`` is None.
    Raises :class:`RunError` (Indonesian) for a bad name, role, unit or weak password."""
    nama = nama.strip()
    if not nama or len(nama) > 64 or any(c.isspace() for c in nama) or "/" in nama:
        raise RunError("Nama akun harus 1-64 karakter tanpa spasi dan tanpa '/'.")
    if peran not in ROLES:
        raise RunError(f"Peran '{peran}' tidak dikenal: pilih unit, analis atau pimpinan.")
    if peran == "unit":
        if not unit or unit not in known_units:
            raise RunError(f"Akun unit memerlukan --unit KODE dari daftar unit kerja ({unit}).")
    else:
        unit = None
    generated = password is None
    secret = generate_password() if password is None else password
    if not generated and (problem := password_problem(nama, secret)):
        raise RunError(problem)
    digest = hash_password(secret)
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM akun WHERE nama = ?", (nama,)).fetchone():
            raise RunError(f"Akun '{nama}' sudah ada.")
        if (
            peran == "unit"
            and conn.execute(
                "SELECT 1 FROM akun WHERE peran = 'unit' AND unit = ? AND aktif = 1", (unit,)
            ).fetchone()
        ):
            raise RunError(f"Unit {unit} sudah memiliki akun aktif.")
        stamp = now()
        conn.execute(
            "INSERT INTO akun (nama, peran, unit, sandi, sandi_sementara, aktif, dibuat, diubah)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            (nama, peran, unit, digest, int(generated), stamp, stamp),
        )
    db.audit("akun.tambah", f"akun {nama} ({peran}{', ' + unit if unit else ''})", nama=by)
    return secret if generated else None


def list_accounts(db: Database) -> list[dict]:
    return [
        {
            "nama": r["nama"],
            "peran": r["peran"],
            "unit": r["unit"],
            "aktif": bool(r["aktif"]),
            "sandi_sementara": bool(r["sandi_sementara"]),
            "dibuat": r["dibuat"],
        }
        for r in db.all("SELECT * FROM akun ORDER BY peran, unit, nama")
    ]


def reset_password(db: Database, nama: str, *, by: str = "cli") -> str:
    """A new one-time password for ``nama``; its open sessions end."""
    password = generate_password()
    with db.transaction() as conn:
        cur = conn.execute(
            "UPDATE akun SET sandi = ?, sandi_sementara = 1, diubah = ? WHERE nama = ?",
            (hash_password(password), now(), nama),
        )
        if cur.rowcount == 0:
            raise RunError(f"Akun '{nama}' tidak ditemukan.")
        conn.execute("DELETE FROM sesi WHERE nama = ?", (nama,))
        conn.execute("DELETE FROM gagal_masuk WHERE nama = ?", (nama,))
    db.audit("akun.sandi-baru", f"sandi sementara baru untuk {nama}", nama=by)
    return password


def deactivate(db: Database, nama: str, *, by: str = "cli") -> None:
    with db.transaction() as conn:
        cur = conn.execute("UPDATE akun SET aktif = 0, diubah = ? WHERE nama = ?", (now(), nama))
        if cur.rowcount == 0:
            raise RunError(f"Akun '{nama}' tidak ditemukan.")
        conn.execute("DELETE FROM sesi WHERE nama = ?", (nama,))
    db.audit("akun.nonaktif", f"akun {nama} dinonaktifkan", nama=by)


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_session(db: Database, nama: str | None) -> Session:
    key, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    stamp = now()
    db.execute(
        "INSERT INTO sesi (kunci, nama, csrf, dibuat, dilihat) VALUES (?, ?, ?, ?, ?)",
        (_digest(key), nama, csrf, stamp, stamp),
    )
    user = None
    if nama is not None:
        row = db.one("SELECT * FROM akun WHERE nama = ?", (nama,))
        assert row is not None, nama
        user = _user(row)
    return Session(key=key, csrf=csrf, user=user)


def load_session(db: Database, key: str | None) -> Session | None:
    """The live session of cookie value ``key`` (touching it), or None."""
    if not key or len(key) > 100:
        return None
    row = db.one(
        "SELECT s.csrf, s.nama, s.dilihat, a.peran, a.unit, a.sandi_sementara, a.aktif "
        "FROM sesi s LEFT JOIN akun a ON a.nama = s.nama WHERE s.kunci = ?",
        (_digest(key),),
    )
    if row is None:
        return None
    seen = dt.datetime.fromisoformat(row["dilihat"])
    if dt.datetime.now() - seen > SESSION_IDLE or (row["nama"] and not row["aktif"]):
        end_session(db, key)
        return None
    if (dt.datetime.now() - seen).total_seconds() > 60:
        # Best effort: on a full disk the session is still good for reading.
        with contextlib.suppress(sqlite3.Error):
            db.execute("UPDATE sesi SET dilihat = ? WHERE kunci = ?", (now(), _digest(key)))
    user = None
    if row["nama"]:
        user = User(
            nama=row["nama"],
            peran=row["peran"],
            unit=row["unit"],
            sandi_sementara=bool(row["sandi_sementara"]),
        )
    return Session(key=key, csrf=row["csrf"], user=user)


def end_session(db: Database, key: str) -> None:
    db.execute("DELETE FROM sesi WHERE kunci = ?", (_digest(key),))


def purge_sessions(db: Database) -> None:
    limit = (dt.datetime.now() - SESSION_IDLE).isoformat(timespec="seconds")
    db.execute("DELETE FROM sesi WHERE dilihat < ?", (limit,))
    window = (dt.datetime.now() - LOCK_WINDOW).isoformat(timespec="seconds")
    db.execute("DELETE FROM gagal_masuk WHERE waktu < ?", (window,))


# --------------------------------------------------------------------------------------------
# Sign-in and password change
# --------------------------------------------------------------------------------------------


class SignInError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _minutes_left(oldest: str) -> int:
    until = dt.datetime.fromisoformat(oldest) + LOCK_WINDOW
    return max(1, int((until - dt.datetime.now()).total_seconds() // 60) + 1)


def _reserve_attempt(
    db: Database, nama: str, client: str | None, client_limit: int
) -> tuple[int, int]:
    """Count the attempt as a failure *before* the password is verified (in one transaction
    with the checks), so that attempts arriving together cannot all slip under a limit; a
    right password removes it again. Returns (the attempt's row id, earlier failures of the
    account). Raises :class:`SignInError` 429 when the client or the account is throttled."""
    since = (dt.datetime.now() - LOCK_WINDOW).isoformat(timespec="seconds")
    with db.transaction() as conn:
        if client is not None:
            row = conn.execute(
                "SELECT count(*), min(waktu) FROM gagal_masuk WHERE alamat = ? AND waktu >= ?",
                (client, since),
            ).fetchone()
            if row[0] >= client_limit:
                raise SignInError(
                    429,
                    f"Terlalu banyak percobaan masuk yang gagal dari komputer ini ({row[0]} kali "
                    f"dalam 15 menit). Coba lagi dalam {_minutes_left(row[1])} menit.",
                )
        failures = [
            r[0]
            for r in conn.execute(
                "SELECT waktu FROM gagal_masuk WHERE nama = ? AND waktu >= ? ORDER BY waktu",
                (nama, since),
            ).fetchall()
        ]
        if len(failures) >= LOCK_FAILURES:
            raise SignInError(
                429,
                f"Akun dikunci sementara karena {LOCK_FAILURES} kali gagal masuk. "
                f"Coba lagi dalam {_minutes_left(failures[-LOCK_FAILURES])} menit.",
            )
        cur = conn.execute(
            "INSERT INTO gagal_masuk (nama, waktu, alamat) VALUES (?, ?, ?)",
            (nama, now(), client),
        )
        return int(cur.lastrowid or 0), len(failures)


def verify_sign_in(
    db: Database,
    nama: str,
    password: str,
    *,
    client: str | None = None,
    client_limit: int = CLIENT_FAILURES,
) -> User:
    """The user when ``nama``/``password`` may sign in; else :class:`SignInError` (401 or 429).
    ``client``: who is asking (the address, see docs/decisions.md), throttled on its own after
    ``client_limit`` failures within :data:`LOCK_WINDOW`, whatever the account names."""
    from argon2.exceptions import InvalidHashError, VerificationError

    attempt, earlier = _reserve_attempt(db, nama, client, client_limit)
    row = db.one("SELECT * FROM akun WHERE nama = ? AND aktif = 1", (nama,))
    hasher = _hasher()
    ok = False
    if row is not None:
        try:
            ok = hasher.verify(row["sandi"], password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        # Same cost as a real check, so timing does not reveal whether the account exists.
        hasher.hash(password)
    if not ok:
        left = LOCK_FAILURES - earlier - 1
        tail = (
            f" Sisa {left} kali percobaan sebelum akun dikunci 15 menit."
            if left > 0
            else " Akun kini dikunci 15 menit."
        )
        raise SignInError(401, "Nama pengguna atau kata sandi salah." + tail)
    assert row is not None  # ok is True only for an existing account
    if hasher.check_needs_rehash(row["sandi"]):
        db.execute("UPDATE akun SET sandi = ? WHERE nama = ?", (hasher.hash(password), nama))
    db.execute("DELETE FROM gagal_masuk WHERE nama = ? OR rowid = ?", (nama, attempt))
    return _user(row)


def change_password(db: Database, user: User, old: str, new: str) -> Session:
    """Change ``user``'s password. Every session of the account ends, the one asking too; the
    new session returned replaces it (a new id and CSRF token)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    row = db.one("SELECT sandi FROM akun WHERE nama = ?", (user.nama,))
    if row is None:
        raise SignInError(400, "Akun tidak ditemukan.")
    try:
        _hasher().verify(row["sandi"], old)
    except (VerificationError, InvalidHashError):
        raise SignInError(400, "Kata sandi lama salah.") from None
    if problem := password_problem(user.nama, new):
        raise SignInError(400, problem)
    if new == old:
        raise SignInError(400, "Kata sandi baru harus berbeda dari yang lama.")
    with db.transaction() as conn:
        conn.execute(
            "UPDATE akun SET sandi = ?, sandi_sementara = 0, diubah = ? WHERE nama = ?",
            (hash_password(new), now(), user.nama),
        )
        conn.execute("DELETE FROM sesi WHERE nama = ?", (user.nama,))
    return new_session(db, user.nama)
