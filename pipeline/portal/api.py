"""The JSON API (docs: ../shared/docs/portal.md and docs/contracts.md "Portal"). Views are thin:
parse the request, ask the library, answer JSON in Bahasa Indonesia."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import stat
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from pipeline.errors import RunError
from pipeline.fsutil import disk_full
from pipeline.portal import auth, uploads
from pipeline.portal.app import Busy
from pipeline.portal.board import board, read_manifest
from pipeline.portal.checks import QueueFull
from pipeline.portal.permissions import may_download_output, may_see_upload
from pipeline.portal.web import (
    COOKIE,
    CSRF_MESSAGE,
    REPORT_CSP,
    client_address,
    csrf_ok,
    ensure_session,
    error,
    fd_response,
    guarded,
    portal,
    set_session_cookie,
)
from pipeline.registry import Period

log = logging.getLogger("rbpipe.portal")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_JSON_BYTES = 16 * 1024
BUSY_SIGN_IN = "Server sedang sibuk melayani banyak permintaan masuk. Coba lagi sebentar."
AUDIT_REFUSED = {
    408: "unggahan terhenti atau terlalu lambat: diputus",
    413: "berkas lebih dari batas ukuran",
}


def _audit(request: Request, aksi: str, rincian: str) -> None:
    user = request.state.user
    portal(request).db.audit(
        aksi,
        rincian,
        nama=user.nama if user else None,
        peran=user.peran if user else None,
        alamat=client_address(request),
    )


async def _json_body(request: Request) -> dict:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise ValueError("terlalu panjang")
    data = json.loads(body or b"{}")
    if not isinstance(data, dict):
        raise ValueError("bukan objek")
    return data


def _period_param(request: Request, value: str | None) -> Period:
    if not value:
        return portal(request).current_period()
    return Period.parse(value)


def upload_json(row) -> dict:
    return {
        "id": row["id"],
        "unit": row["unit"],
        "periode": row["periode"],
        "berkas": row["berkas"],
        "disimpan": row["disimpan"],
        "sha256": row["sha256"],
        "ukuran": row["ukuran"],
        "diterima": row["diterima"],
        "status": row["status"],
        "karantina": bool(row["karantina"]),
        "masalah": json.loads(row["masalah"]),
        "ada_kesalahan": row["kesalahan"] > 0,
        "kesalahan": row["kesalahan"],
        "peringatan": row["peringatan"],
        "umpan_balik": f"/api/kiriman/{row['id']}/umpan-balik",
    }


# --------------------------------------------------------------------------------------------
# Health, session, sign-in
# --------------------------------------------------------------------------------------------


@guarded("sehat")
async def sehat(request: Request) -> Response:
    if portal(request).checker.ready.is_set():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "menyiapkan"}, 503)


@guarded("sesi")
async def sesi(request: Request) -> Response:
    session, fresh = ensure_session(request)
    user = session.user
    p = portal(request)
    period = p.current_period()
    deadline = period.deadline(p.registry().settings.batas_hari)
    pengguna: dict[str, Any] | None = None
    if user:
        pengguna = {**user.public(), "sandi_sementara": user.sandi_sementara}
        if user.unit:
            pengguna["nama_unit"] = p.registry().name_of(user.unit)
    body = {
        "pengguna": pengguna,
        "csrf": session.csrf,
        "bulan": {
            "periode": str(period),
            "label": period.label,
            "batas": deadline.isoformat(),
            "sisa_hari": (deadline - dt.date.today()).days,
        },
    }
    response = JSONResponse(body)
    if fresh:
        set_session_cookie(request, response, session)
    return response


@guarded("masuk")
async def masuk(request: Request) -> Response:
    p = portal(request)
    try:
        data = await _json_body(request)
        nama, sandi = str(data["nama"]).strip(), str(data["sandi"])
    except (ValueError, KeyError, TypeError):
        return error(400, "Isi nama pengguna dan kata sandi.")
    try:
        user = await p.password_work(
            auth.verify_sign_in,
            p.db,
            nama,
            sandi,
            client=client_address(request),
            client_limit=p.settings.client_failures,
        )
    except Busy:
        return error(503, BUSY_SIGN_IN)
    except auth.SignInError as exc:
        p.db.audit(
            "masuk.gagal" if exc.status == 401 else "masuk.dikunci",
            f"percobaan masuk sebagai {nama[:64]}",
            nama=nama[:64],
            alamat=client_address(request),
        )
        return error(exc.status, exc.message)
    old = request.state.session
    if old is not None:
        auth.end_session(p.db, old.key)
    session = auth.new_session(p.db, user.nama)
    p.db.audit(
        "masuk", "berhasil masuk", nama=user.nama, peran=user.peran, alamat=client_address(request)
    )
    response = JSONResponse(
        {
            "pengguna": {**user.public(), "sandi_sementara": user.sandi_sementara},
            "csrf": session.csrf,
        }
    )
    set_session_cookie(request, response, session)
    return response


@guarded("keluar")
async def keluar(request: Request) -> Response:
    auth.end_session(portal(request).db, request.state.session.key)
    _audit(request, "keluar", "keluar")
    response = JSONResponse({"pesan": "Anda telah keluar."})
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=portal(request).settings.https
    )
    return response


@guarded("sandi")
async def sandi(request: Request) -> Response:
    p = portal(request)
    try:
        data = await _json_body(request)
        old, new = str(data["sandi_lama"]), str(data["sandi_baru"])
    except (ValueError, KeyError, TypeError):
        return error(400, "Isi kata sandi lama dan kata sandi baru.")
    try:
        session = await p.password_work(auth.change_password, p.db, request.state.user, old, new)
    except Busy:
        return error(503, BUSY_SIGN_IN)
    except auth.SignInError as exc:
        return error(exc.status, exc.message)
    _audit(request, "akun.sandi", "kata sandi diganti")
    # Every session of the account ended, this one too: the page goes on with a new id and
    # token (a session id seen before the change is worth nothing after it).
    response = JSONResponse({"pesan": "Kata sandi berhasil diganti.", "csrf": session.csrf})
    set_session_cookie(request, response, session)
    return response


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------


@guarded("kiriman.unggah", csrf_in_form=True)
async def kiriman_unggah(request: Request) -> Response:
    p = portal(request)
    user = request.state.user
    try:
        received = await uploads.receive(request, p.data.staging, p.settings.max_upload_bytes)
    except uploads.UploadError as exc:
        if not request.state.csrf_checked:
            return error(403, CSRF_MESSAGE)
        if exc.status in (408, 413):
            with contextlib.suppress(Exception):  # the answer matters more than its audit line
                _audit(request, "unggah.ditolak", AUDIT_REFUSED[exc.status])
        # A body that broke off, lied about its length or was cut off: the connection is not
        # reused (what is left of it on the wire is not a next request).
        response = error(exc.status, exc.message)
        response.headers["connection"] = "close"
        return response
    if not request.state.csrf_checked and not csrf_ok(
        request.state.session, received.fields.get("csrf")
    ):
        uploads.discard(received)
        return error(403, CSRF_MESSAGE)
    try:
        period = _period_param(request, received.fields.get("periode"))
    except RunError as exc:
        uploads.discard(received)
        return error(400, str(exc))
    try:
        status, body = await p.accept_upload(received, period, user)
    except QueueFull:
        uploads.discard(received)
        return error(503, "Server sedang sibuk memeriksa banyak berkas. Coba lagi sebentar.")
    except Exception as exc:  # noqa: BLE001 - the upload was not kept; say so in Indonesian
        uploads.discard(received)
        if disk_full(exc):
            log.error("unggahan tidak dapat disimpan: ruang penyimpanan penuh (%s)", exc)
            with contextlib.suppress(Exception):
                _audit(request, "unggah.gagal", "ruang penyimpanan server penuh")
            return error(507, uploads.DISK_FULL_UPLOAD)
        log.exception("pemeriksaan unggahan gagal")
        _audit(request, "unggah.gagal", f"pemeriksaan {received.filename[:100]} gagal (internal)")
        return error(
            500,
            "Pemeriksaan gagal karena kesalahan internal server; berkas TIDAK disimpan. "
            "Coba unggah lagi; bila terulang, hubungi Bagian Organisasi.",
        )
    return JSONResponse(body, status)


@guarded("kiriman.daftar")
async def kiriman_daftar(request: Request) -> Response:
    user = request.state.user
    try:
        period = _period_param(request, request.query_params.get("periode"))
    except RunError as exc:
        return error(400, str(exc))
    db = portal(request).db
    if user.peran == "unit":
        rows = db.all(
            "SELECT * FROM kiriman WHERE periode = ? AND unit = ? ORDER BY id DESC",
            (str(period), user.unit),
        )
    else:
        rows = db.all("SELECT * FROM kiriman WHERE periode = ? ORDER BY id DESC", (str(period),))
    return JSONResponse({"periode": str(period), "kiriman": [upload_json(r) for r in rows]})


def _visible_upload(request: Request):
    try:
        upload_id = int(request.path_params["id"])
    except ValueError:
        return None
    row = portal(request).db.one("SELECT * FROM kiriman WHERE id = ?", (upload_id,))
    if row is None or not may_see_upload(request.state.user, row["unit"], row["oleh"]):
        return None
    return row


@guarded("kiriman.lihat")
async def kiriman_lihat(request: Request) -> Response:
    row = _visible_upload(request)
    return error(404) if row is None else JSONResponse(upload_json(row))


@guarded("kiriman.umpan_balik")
async def kiriman_umpan_balik(request: Request) -> Response:
    row = _visible_upload(request)
    if row is None:
        return error(404)
    p = portal(request)
    path = await p.instant_feedback(row)
    if path is None:
        return error(404, "Umpan balik untuk kiriman ini tidak tersedia.")
    _audit(request, "unduh", f"umpan balik instan kiriman {row['id']} ({row['unit']})")
    name = f"{row['unit'] or 'BERKAS'}_{row['periode']}_umpan_balik_kiriman_{row['id']}.xlsx"
    return FileResponse(path, media_type=XLSX, filename=name)


# --------------------------------------------------------------------------------------------
# Board, month runs, outputs, template
# --------------------------------------------------------------------------------------------


@guarded("papan")
async def papan(request: Request) -> Response:
    p = portal(request)
    try:
        period = _period_param(request, request.query_params.get("periode"))
    except RunError as exc:
        return error(400, str(exc))
    manifest = read_manifest(p.data.manifest(period))
    # WhatsApp links for the analyst only: the bureau sends reminders (docs/decisions.md).
    whatsapp = request.state.user.peran == "analis"
    return JSONResponse(board(p.db, p.registry(), period, manifest, whatsapp=whatsapp))


@guarded("rekap.mulai")
async def rekap_mulai(request: Request) -> Response:
    p = portal(request)
    try:
        data = await _json_body(request)
        period = _period_param(request, data.get("periode"))
    except (ValueError, RunError) as exc:
        return error(400, str(exc) if isinstance(exc, RunError) else "Isi periode (YYYY-MM).")
    if not p.data.month_inputs(period).is_dir():
        return error(409, f"Belum ada kiriman untuk {period.label}: folder kiriman kosong.")
    task = p.runs.start(str(period), request.state.user.nama)
    _audit(request, "rekap.mulai", f"rekap {period} (tugas {task})")
    return JSONResponse({"tugas": task}, 202)


@guarded("rekap.lihat")
async def rekap_lihat(request: Request) -> Response:
    try:
        task = int(request.path_params["tugas"])
    except ValueError:
        return error(404)
    info = portal(request).runs.get(task)
    return error(404) if info is None else JSONResponse(info)


def _month_folder(request: Request) -> tuple[Period, Path] | None:
    try:
        period = Period.parse(request.path_params["periode"])
    except RunError:
        return None
    if request.path_params["periode"] != str(period):
        return None
    return period, portal(request).data.month_outputs(period)


def output_files(folder: Path) -> list[str]:
    """Names (relative, ``/``-separated) of the month's outputs a person may download."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        info = path.lstat()
        # Regular files with one link only: never a symlink, a hard link planted from
        # elsewhere, a FIFO (DataDir.open_output refuses them too).
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        out.append(rel.as_posix())
    return out


@guarded("hasil")
async def hasil_daftar(request: Request) -> Response:
    found = _month_folder(request)
    if found is None:
        return error(404)
    period, folder = found
    user = request.state.user
    own = portal(request).data.official_feedback_name(user.unit, period) if user.unit else None
    names = [n for n in output_files(folder) if may_download_output(user, n, own)]
    return JSONResponse({"periode": str(period), "berkas": names})


@guarded("hasil")
async def hasil_unduh(request: Request) -> Response:
    found = _month_folder(request)
    if found is None:
        return error(404)
    period, folder = found
    user = request.state.user
    name = request.path_params["nama"]
    own = portal(request).data.official_feedback_name(user.unit, period) if user.unit else None
    if not may_download_output(user, name, own) or name not in output_files(folder):
        return error(404)
    fd = portal(request).data.open_output(period, name)
    if fd is None:
        return error(404)
    _audit(request, "unduh", f"hasil {period}/{name}")
    if name.endswith(".html"):
        return fd_response(
            fd,
            media_type="text/html; charset=utf-8",
            headers={"content-security-policy": REPORT_CSP},
        )
    media = XLSX if name.endswith(".xlsx") else None
    return fd_response(fd, media_type=media, filename=Path(name).name)


@guarded("templat")
async def templat(request: Request) -> Response:
    from pipeline.prefill import prefilled_template

    p = portal(request)
    user = request.state.user
    try:
        period = _period_param(request, request.query_params.get("periode"))
    except RunError as exc:
        return error(400, str(exc))
    registry = p.registry()
    unit = registry.unit(user.unit)
    if unit is None:
        return error(404, "Unit akun ini tidak ada di daftar unit kerja.")
    month, data = await asyncio.to_thread(
        prefilled_template, p.data.history, unit, period, registry
    )
    _audit(request, "unduh", f"templat {unit.kode} {period} (isi dari {month or '-'})")
    headers = {
        "content-disposition": f'attachment; filename="{unit.kode}_{period}.xlsx"',
        "x-rbpipe-isi-dari": month or "",
    }
    return Response(data, media_type=XLSX, headers=headers)


# --------------------------------------------------------------------------------------------
# Accounts and audit log (analis)
# --------------------------------------------------------------------------------------------


@guarded("akun.kelola")
async def akun_daftar(request: Request) -> Response:
    return JSONResponse({"akun": auth.list_accounts(portal(request).db)})


@guarded("akun.kelola")
async def akun_tambah(request: Request) -> Response:
    p = portal(request)
    try:
        data = await _json_body(request)
        nama, peran = str(data["nama"]), str(data["peran"])
        unit = data.get("unit") or None
    except (ValueError, KeyError, TypeError):
        return error(400, "Isi nama, peran dan (untuk akun unit) kode unit.")
    try:
        password = await p.password_work(
            auth.create_account,
            p.db,
            nama,
            peran,
            unit=unit,
            password=None,
            known_units=p.registry().codes,
            by=request.state.user.nama,
        )
    except Busy:
        return error(503, BUSY_SIGN_IN)
    except RunError as exc:
        return error(400, str(exc))
    return JSONResponse({"nama": nama, "sandi": password}, 201)


@guarded("akun.kelola")
async def akun_sandi_baru(request: Request) -> Response:
    try:
        password = await portal(request).password_work(
            auth.reset_password,
            portal(request).db,
            request.path_params["nama"],
            by=request.state.user.nama,
        )
    except Busy:
        return error(503, BUSY_SIGN_IN)
    except RunError:
        return error(404)
    return JSONResponse({"nama": request.path_params["nama"], "sandi": password})


@guarded("akun.kelola")
async def akun_nonaktif(request: Request) -> Response:
    try:
        auth.deactivate(portal(request).db, request.path_params["nama"], by=request.state.user.nama)
    except RunError:
        return error(404)
    return JSONResponse({"pesan": "Akun dinonaktifkan."})


@guarded("audit")
async def audit(request: Request) -> Response:
    try:
        limit = max(1, min(1000, int(request.query_params.get("batas", "200"))))
    except ValueError:
        limit = 200
    rows = portal(request).db.all("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
    return JSONResponse({"audit": [dict(r) for r in rows]})
