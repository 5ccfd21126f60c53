"""What the server does against slow, lying and stuck clients at the HTTP level (issue 15).

uvicorn (h11) bounds none of these on its own: a connection that sends half a request line and
then nothing, or a body that trickles a byte every few seconds, or a ``Content-Length`` larger
than what is sent, holds its connection (and an upload's staging file) for ever. Here:

* :class:`RequestDeadlines` (ASGI middleware): the body of every request must keep arriving
  (no pause longer than ``idle`` seconds) and be complete within ``total`` seconds of the
  request's start; otherwise the request is answered 408 in Indonesian (or, when a view already
  answered, ended) and the connection closed. Any answer sent before the whole body was read
  (413, 408, 403 ...) carries ``Connection: close``: the rest of a refused body is never read.
* :func:`protocol_class`: uvicorn's h11 protocol with a deadline for the request *head*: a
  connection must deliver a complete request line and headers within ``header_seconds`` of
  connecting (or of the first byte of its next request), else it is closed (slowloris).

Uploads read their body through :func:`pipeline.portal.uploads.receive`, which turns
:class:`BodyTimeout` into a 408 answer of its own after removing the partial file.
"""

from __future__ import annotations

import asyncio
import json
import time

TIMEOUT_MESSAGE = (
    "Pengiriman data terlalu lambat atau terhenti, sehingga dihentikan server. "
    "Periksa sambungan jaringan, lalu kirim ulang."
)


class BodyTimeout(Exception):
    """The request body stalled (nothing for ``idle`` seconds) or took longer than allowed."""


def _has_body(scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
    return False


class RequestDeadlines:
    """ASGI middleware: deadlines for reading a request body; ``Connection: close`` on answers
    given before the body was read whole."""

    def __init__(self, app, *, idle: float, total: float):
        self.app = app
        self.idle = idle
        self.total = total

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        state = {"body_done": not _has_body(scope), "answered": False}

        async def timed_receive():
            if state["body_done"]:
                return await receive()
            left = min(self.idle, self.total - (time.monotonic() - started))
            if left <= 0:
                raise BodyTimeout
            try:
                message = await asyncio.wait_for(receive(), left)
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def closing_send(message):
            if message["type"] == "http.response.start":
                state["answered"] = True
                if not state["body_done"]:
                    headers = [h for h in message.get("headers", []) if h[0] != b"connection"]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, timed_receive, closing_send)
        except BodyTimeout:
            if state["answered"]:
                raise
            await send_timeout(closing_send)


async def send_timeout(send) -> None:
    body = json.dumps({"pesan": TIMEOUT_MESSAGE}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def protocol_class(header_seconds: float):
    """uvicorn's h11 protocol whose connections must deliver each request head (request line and
    headers) within ``header_seconds``: from the connection's start, and from the first byte of
    each later request on a kept-alive connection (an idle kept-alive connection is governed by
    uvicorn's keep-alive timeout, as before)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadlineH11(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE:
                if self._head_timer is None:
                    self._arm()
            else:
                self._disarm()

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._head_timer = self.loop.call_later(header_seconds, self._head_expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_expired(self) -> None:
            self._head_timer = None
            waiting = self.cycle is None or self.cycle.response_complete
            if waiting and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeadDeadlineH11
