"""The portal application: :func:`create_app` builds the Starlette app over a data folder,
:func:`serve` runs it with uvicorn (``rbpipe serve``).

:class:`Portal` holds what the views share: the data folder, ``portal.sqlite``, the warm
:class:`~pipeline.portal.checks.Checker`, the month runs, and the settings (limits and sizes
as data, so tests and the hardening work can tighten them).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import secrets
import shutil
import sqlite3
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import schema
from pipeline.portal import auth, uploads
from pipeline.portal.board import read_manifest
from pipeline.portal.checks import Checker, CheckOutcome, render_instant_feedback
from pipeline.portal.db import Database
from pipeline.portal.paths import DataDir
from pipeline.portal.runs import Runs
from pipeline.registry import REFERENCE_FILE, REGISTRY_FILE, SETTINGS_FILE, Period, load_registry


def problem_json(problem, stored_name: str) -> dict:
    """``rbpipe check --json``'s problem object, its file the stored name, plus ``kolom``: the
    column header as printed in the template (``Target TW IV``), for people."""
    out = dataclasses.replace(problem, file=stored_name).to_dict()
    field = schema.FIELD_BY_NAME.get(problem.field or "")
    out["kolom"] = field.header if field else None
    return out


log = logging.getLogger("rbpipe.portal")
STATUS_WORD = {"accepted": "diterima", "rejected": "ditolak"}  # for the audit log's readers


class Busy(Exception):
    """Too much work of one kind is waiting: answer 503, try again shortly."""


OUTCOMES_KEPT = 256  # check results kept in memory for a later feedback download


@dataclass(frozen=True, kw_only=True)
class PortalSettings:
    periode: str | None = None  # the month open for reporting; None: the previous calendar month
    https: bool = False  # behind a TLS proxy: cookies get the Secure flag
    max_upload_bytes: int = uploads.MAX_FILE_BYTES
    check_batch_max: int = 16  # uploads validated in one GX run at most
    check_queue_max: int = 256  # uploads waiting for a check at most (then 503)
    check_workers: int = 2  # reader processes per batch
    # Idle keep-alive connections are kept this long. Short values make a client that reuses a
    # connection just as the server closes it see a reset (HTTP clients do not retry a POST);
    # proxies keep upstream connections about a minute.
    keep_alive_seconds: int = 65
    # Slow and stuck clients (pipeline/portal/guard.py; docs/decisions.md "Portal under attack").
    # A request head must arrive within header_seconds; a body may pause at most
    # body_idle_seconds and must be complete within body_seconds (50 MiB at ~60 KB/s).
    header_seconds: float = 20.0
    body_idle_seconds: float = 30.0
    body_seconds: float = 900.0
    # Failed sign-ins from one client (any account names) within auth.LOCK_WINDOW before that
    # client's sign-ins are refused (429), besides the per-account lockout.
    client_failures: int = 20
    # Open connections and running requests at most; beyond, uvicorn answers 503 at once.
    max_connections: int = 1000
    # Password hashing (argon2id, ~64 MiB and 0.1-0.4 s of CPU each) runs in its own threads,
    # one per core, so that a storm of sign-ins never queues uploads and downloads behind it;
    # past this many waiting, a sign-in is answered 503 at once.
    password_queue_max: int = 64

    def with_overrides(self, pairs: tuple[str, ...] | list[str]) -> PortalSettings:
        """These settings with ``NAME=VALUE`` pairs applied (``rbpipe serve --setelan``: tests
        and tuning), each value converted to the field's type."""
        kinds = {f.name: f.type for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in kinds:
                raise ValueError(f"setelan tidak dikenal: {pair}")
            kind = str(kinds[name])
            if kind.startswith("bool"):
                changes[name] = value.strip().lower() in ("1", "true", "ya", "yes")
            elif kind.startswith("int"):
                changes[name] = int(value)
            elif kind.startswith("float"):
                changes[name] = float(value)
            else:
                changes[name] = value or None
        return dataclasses.replace(self, **changes)


class Portal:
    def __init__(self, data: Path, settings: PortalSettings):
        self.data = DataDir(Path(data).resolve())
        self.data.prepare()
        self.settings = settings
        self.db = Database(self.data.db)
        self.checker = Checker(
            self.data.inputs,
            history=self.data.history,
            batch_max=settings.check_batch_max,
            queue_max=settings.check_queue_max,
            workers=settings.check_workers,
        )
        self.runs = Runs(self.db, self.data.root)
        # Check results of recent uploads, kept for their instant feedback workbook: it is
        # rendered at the first download (most uploads are fixed and replaced before anyone
        # downloads their workbook), so rendering never delays a check.
        self._outcomes: OrderedDict[int, CheckOutcome] = OrderedDict()
        self._render_locks: dict[int, asyncio.Lock] = {}
        self._registry_cache: tuple[tuple, object] | None = None
        self.pages: Any = None  # the Pages, set by create_app
        self._hashing = ThreadPoolExecutor(
            max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="rbpipe-sandi"
        )
        self._hashing_waiting = 0

    async def password_work(self, fn, *args, **kwargs):
        """Run ``fn`` (argon2 work: sign-in, password change, account creation) in the password
        threads; :class:`Busy` when :attr:`PortalSettings.password_queue_max` already wait."""
        if self._hashing_waiting >= self.settings.password_queue_max:
            raise Busy
        self._hashing_waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._hashing, lambda: fn(*args, **kwargs))
        finally:
            self._hashing_waiting -= 1

    # -- lifecycle ----------------------------------------------------------------------------

    def startup(self) -> None:
        uploads.clean_staging(self.data.staging)
        for leftover in self.data.staging.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        for stale in self.data.instant_feedback.glob(".*"):
            stale.unlink(missing_ok=True)
        self._remove_output_temporaries()
        try:
            auth.purge_sessions(self.db)
        except sqlite3.Error as exc:  # a full disk: the server starts all the same
            log.warning("sesi lama tidak dapat dihapus: %s", exc)
        self.checker.start()

    def _remove_output_temporaries(self) -> None:
        """Temporaries (``.<name>.tmp-*``) a month run killed with the server left in
        ``outputs/``: removed when no run holds the output lock (a CLI run's are its own)."""
        from pipeline.errors import RunError
        from pipeline.locking import OutputLock

        try:
            with OutputLock(self.data.outputs):
                for path in self.data.outputs.rglob(".*.tmp-*"):
                    if path.is_file() and not path.is_symlink():
                        path.unlink(missing_ok=True)
        except RunError:
            pass

    def shutdown(self) -> None:
        self._hashing.shutdown(wait=False, cancel_futures=True)
        self.runs.stop()
        self.checker.stop()
        self.db.close()

    # -- shared facts -------------------------------------------------------------------------

    def current_period(self) -> Period:
        if self.settings.periode:
            return Period.parse(self.settings.periode)
        today = dt.date.today()
        return Period(today.year, today.month).previous()

    def registry(self):
        key = tuple(
            (p.stat().st_mtime_ns if p.exists() else None)
            for p in (self.data.inputs / n for n in (REGISTRY_FILE, REFERENCE_FILE, SETTINGS_FILE))
        )
        if self._registry_cache is None or self._registry_cache[0] != key:
            self._registry_cache = (key, load_registry(self.data.inputs))
        return self._registry_cache[1]

    # -- uploads ------------------------------------------------------------------------------

    async def accept_upload(self, received: uploads.Received, period: Period, user) -> tuple:
        """Check an upload, then keep it: in the month's inputs (201), or in quarantine when
        it identifies as another unit (422). Returns (status, body)."""
        when = dt.datetime.now().replace(microsecond=0)
        ext = uploads.extension(received.filename)
        shown = uploads.display_name(received.filename)
        box = self.data.staging / secrets.token_hex(8)
        box.mkdir(parents=True)
        try:
            if user.peran == "unit":
                name = uploads.stored_name(user.unit, str(period), when, received.sha256, ext)
                key = user.unit
            else:
                name, key = uploads.safe_stem(received.filename), f"analis:{box.name}"
            staged = box / name
            assert received.path is not None
            received.path.rename(staged)
            outcome: CheckOutcome = await asyncio.wrap_future(
                self.checker.submit(staged, period, key)
            )
            found = outcome.submission.unit
            message = None
            if user.peran == "unit" and found not in (None, user.unit):
                message = (
                    f"Berkas ini teridentifikasi sebagai laporan unit {found} "
                    f"({self.registry().name_of(found)}), bukan unit Anda ({user.unit}). "
                    "Berkas tidak dimasukkan ke kiriman bulan ini. Unggah laporan unit Anda "
                    "sendiri."
                )
            elif user.peran != "unit" and found is None:
                message = (
                    "Unit pengirim berkas ini tidak dapat dikenali (lembar Identitas, metadata "
                    "atau nama berkas). Berkas tidak dimasukkan ke kiriman bulan ini."
                )
            kode = user.unit if user.peran == "unit" else found
            if user.peran != "unit" and found is not None:
                name = uploads.stored_name(found, str(period), when, received.sha256, ext)
            folder = self.data.quarantine if message else self.data.month_inputs(period)
            final = await asyncio.to_thread(uploads.place, staged, folder, name)
        finally:
            shutil.rmtree(box, ignore_errors=True)
        problems = [problem_json(p, final.name) for p in outcome.problems]
        status = "rejected" if message else outcome.submission.status
        # The record and its audit line are one transaction; if it fails (a full disk), the
        # file placed a moment ago is taken back: a file in the month without its record would
        # be judged by the run but never shown to the unit or on the board.
        try:
            with self.db.transaction() as conn:
                cur = conn.execute(
                    "INSERT INTO kiriman (unit, periode, berkas, disimpan, karantina, sha256, "
                    "ukuran, diterima, status, kesalahan, peringatan, masalah, oleh) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        kode,
                        str(period),
                        shown,
                        final.name,
                        int(bool(message)),
                        received.sha256,
                        received.size,
                        when.isoformat(),
                        status,
                        outcome.errors,
                        outcome.warnings,
                        json.dumps(problems, ensure_ascii=False),
                        user.nama,
                    ),
                )
                upload_id = int(cur.lastrowid or 0)
                self.db.audit(
                    "unggah.karantina" if message else "unggah",
                    f"kiriman {upload_id}: {shown} -> {'karantina/' if message else ''}"
                    f"{final.name} ({STATUS_WORD.get(status, status)}, {outcome.errors} kesalahan, "
                    f"{outcome.warnings} peringatan)",
                    nama=user.nama,
                    peran=user.peran,
                )
        except BaseException:
            await asyncio.to_thread(uploads.take_back, final)
            raise
        if not message:
            self._outcomes[upload_id] = outcome
            while len(self._outcomes) > OUTCOMES_KEPT:
                self._outcomes.popitem(last=False)
        from pipeline.portal.api import upload_json

        body = upload_json(self.db.one("SELECT * FROM kiriman WHERE id = ?", (upload_id,)))
        if message:
            return 422, {"pesan": message, **body}
        return 201, body

    async def instant_feedback(self, row) -> Path | None:
        """The instant feedback workbook of upload ``row``: rendered at the first download from
        the kept check result, or (after a restart, or once evicted) from the stored file
        checked again."""
        path = self.data.instant_feedback / f"{row['id']}.xlsx"
        if row["karantina"] or not row["disimpan"]:
            return None
        lock = self._render_locks.setdefault(row["id"], asyncio.Lock())
        async with lock:
            if path.exists():
                return path
            period = Period.parse(row["periode"])
            outcome = self._outcomes.get(row["id"])
            if outcome is None:
                source = self.data.month_inputs(period) / row["disimpan"]
                if not source.is_file():
                    return None
                checked: CheckOutcome = await asyncio.wrap_future(
                    self.checker.submit(source, period, f"ulang:{row['id']}")
                )
                outcome = checked
            manifest = read_manifest(self.data.manifest(period))
            await asyncio.to_thread(render_instant_feedback, path, outcome, manifest)
        self._render_locks.pop(row["id"], None)
        return path


def create_app(data: Path, settings: PortalSettings | None = None):
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from pipeline.portal import api
    from pipeline.portal.guard import RequestDeadlines
    from pipeline.portal.pages import Pages
    from pipeline.portal.web import SecurityHeaders

    portal = Portal(data, settings or PortalSettings())
    pages = Pages()
    portal.pages = pages

    @contextlib.asynccontextmanager
    async def lifespan(app):
        portal.startup()
        try:
            yield
        finally:
            portal.shutdown()

    routes = [
        Route("/api/sehat", api.sehat, methods=["GET"]),
        Route("/api/sesi", api.sesi, methods=["GET"]),
        Route("/api/masuk", api.masuk, methods=["POST"]),
        Route("/api/keluar", api.keluar, methods=["POST"]),
        Route("/api/sandi", api.sandi, methods=["POST"]),
        Route("/api/kiriman", api.kiriman_unggah, methods=["POST"]),
        Route("/api/kiriman", api.kiriman_daftar, methods=["GET"]),
        Route("/api/kiriman/{id}", api.kiriman_lihat, methods=["GET"]),
        Route("/api/kiriman/{id}/umpan-balik", api.kiriman_umpan_balik, methods=["GET"]),
        Route("/api/papan", api.papan, methods=["GET"]),
        Route("/api/rekap", api.rekap_mulai, methods=["POST"]),
        Route("/api/rekap/{tugas}", api.rekap_lihat, methods=["GET"]),
        Route("/api/hasil/{periode}", api.hasil_daftar, methods=["GET"]),
        Route("/api/hasil/{periode}/{nama:path}", api.hasil_unduh, methods=["GET"]),
        Route("/api/templat", api.templat, methods=["GET"]),
        Route("/api/akun", api.akun_daftar, methods=["GET"]),
        Route("/api/akun", api.akun_tambah, methods=["POST"]),
        Route("/api/akun/{nama}/sandi-baru", api.akun_sandi_baru, methods=["POST"]),
        Route("/api/akun/{nama}/nonaktif", api.akun_nonaktif, methods=["POST"]),
        Route("/api/audit", api.audit, methods=["GET"]),
        *pages.routes(),
        Mount(
            "/static",
            app=StaticFiles(packages=[("pipeline.portal", "static")]),
            name="static",
        ),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.portal = portal
    s = portal.settings
    app.add_middleware(RequestDeadlines, idle=s.body_idle_seconds, total=s.body_seconds)
    app.add_middleware(SecurityHeaders)  # outermost: the 408 of RequestDeadlines gets them too
    return app


def serve(data: Path, host: str, port: int, settings: PortalSettings) -> None:
    import click
    import uvicorn

    from pipeline.portal.guard import protocol_class

    app = create_app(data, settings)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Portal rbpipe: http://{shown}:{port}/  (folder data: {Path(data).resolve()})")
    accounts = app.state.portal.db.one("SELECT COUNT(*) FROM akun WHERE aktif = 1")[0]
    if not accounts:
        click.echo(
            "Belum ada akun. Buat akun analis dulu, misalnya: rbpipe akun tambah analis1 "
            f"--peran analis --data {data}; akun unit: rbpipe akun buat-semua --data {data} "
            "--out akun.csv"
        )
    click.echo("Tekan Ctrl+C untuk berhenti.")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        # Behind the TLS proxy (--https-di-depan) the client is the address the proxy reports
        # in X-Forwarded-For, trusted only from the proxy at 127.0.0.1/::1 (uvicorn's
        # FORWARDED_ALLOW_IPS); without it, the TCP peer: a client cannot name itself.
        proxy_headers=settings.https,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=10,
        http=protocol_class(settings.header_seconds),
        limit_concurrency=settings.max_connections,
    )
