"""The request guard every route goes through, the security headers, and small helpers.

:func:`guarded` wraps a view with its *action* (see :mod:`pipeline.portal.permissions`): it loads
the session from the cookie, refuses a state-changing request without the session's CSRF token
(403), asks :func:`~pipeline.portal.permissions.decide` and only then calls the view. So no view
can forget a check, and the role x route matrix test reads every route's action from the route
itself (``endpoint.action``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from pipeline.fsutil import disk_full
from pipeline.portal.auth import Session, load_session, new_session
from pipeline.portal.permissions import decide

log = logging.getLogger("rbpipe.portal")
COOKIE = "rbpipe_sesi"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# The month's HTML report (issue 16) is one self-contained file with inline CSS and SVG and no
# script: shown in the browser under this policy, which allows exactly that.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

MESSAGES = {
    401: "Silakan masuk terlebih dahulu.",
    403: "Anda tidak berhak melakukan ini.",
    404: "Tidak ditemukan.",
}
ONE_TIME_MESSAGE = "Ganti kata sandi sementara Anda terlebih dahulu."
DISK_FULL_MESSAGE = (
    "Ruang penyimpanan server penuh: permintaan ini tidak dapat disimpan. Beri tahu Bagian "
    "Organisasi; coba lagi setelah ruang tersedia."
)
CSRF_MESSAGE = (
    "Token keamanan (CSRF) tidak ada atau tidak cocok. Muat ulang halaman, lalu coba lagi."
)


def error(status: int, message: str | None = None) -> JSONResponse:
    return JSONResponse({"pesan": message or MESSAGES.get(status, "Permintaan ditolak.")}, status)


def portal(request: Request):
    return request.app.state.portal


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        session.key,
        httponly=True,
        samesite="lax",
        secure=portal(request).settings.https,
        path="/",
    )


def session_of(request: Request) -> Session | None:
    return load_session(portal(request).db, request.cookies.get(COOKIE))


def ensure_session(request: Request) -> tuple[Session, bool]:
    """The request's session, or a new anonymous one (True when new: set the cookie)."""
    session = session_of(request)
    if session is not None:
        return session, False
    return new_session(portal(request).db, None), True


def csrf_ok(session: Session | None, token: str | None) -> bool:
    return bool(session and token and secrets.compare_digest(token, session.csrf))


View = Callable[[Request], Awaitable[Response]]


def guarded(action: str, *, page: bool = False, csrf_in_form: bool = False):
    """Wrap a view: session, CSRF (unsafe methods), permission. ``page``: answer like a web page
    (anonymous -> redirect to the sign-in page; one-time password -> password page).
    ``csrf_in_form``: the view checks a form field ``csrf`` itself when the header is absent
    (multipart uploads from an HTML form)."""

    def wrap(view: View) -> View:
        async def endpoint(request: Request) -> Response:
            try:
                return await guarded_call(request)
            except Exception as exc:
                if not disk_full(exc):
                    raise
                log.error("%s: ruang penyimpanan penuh (%s)", request.url.path, exc)
                return error(507, DISK_FULL_MESSAGE)

        async def guarded_call(request: Request) -> Response:
            session = session_of(request)
            user = session.user if session else None
            request.state.session = session
            request.state.user = user
            request.state.csrf_checked = False
            if request.method not in SAFE_METHODS:
                token = request.headers.get("x-csrf-token")
                if token is None and csrf_in_form:
                    pass  # the view checks the form field
                elif not csrf_ok(session, token):
                    return error(403, CSRF_MESSAGE)
                else:
                    request.state.csrf_checked = True
            status = decide(user, action)
            if status is not None:
                if page:
                    if user is None:
                        return RedirectResponse("/masuk", 303)
                    if user.sandi_sementara:
                        return RedirectResponse("/sandi", 303)
                    return await portal(request).pages.forbidden(request)
                if status == 403 and user is not None and user.sandi_sementara:
                    return error(403, ONE_TIME_MESSAGE)
                return error(status)
            return await view(request)

        endpoint.action = action  # type: ignore[attr-defined]
        endpoint.__name__ = view.__name__
        endpoint.__doc__ = view.__doc__
        return endpoint

    return wrap


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, ``no-store`` on the API."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                own = {name for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in own)
                if is_api:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def fd_response(
    fd: int,
    *,
    media_type: str | None,
    filename: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Stream the open file ``fd`` (closed when done): what was checked is what is sent, even
    if its path is replaced meanwhile. ``filename``: sent as an attachment under that name."""
    import os
    from urllib.parse import quote

    from starlette.concurrency import run_in_threadpool
    from starlette.responses import StreamingResponse

    size = os.fstat(fd).st_size

    async def chunks():
        try:
            while block := await run_in_threadpool(os.read, fd, 256 * 1024):
                yield block
        finally:
            os.close(fd)

    extra = {"content-length": str(size), **(headers or {})}
    if filename:
        quoted = quote(filename)
        extra["content-disposition"] = (
            f'attachment; filename="{filename}"'
            if quoted == filename
            else f"attachment; filename*=utf-8''{quoted}"
        )
    return StreamingResponse(chunks(), media_type=media_type, headers=extra)
