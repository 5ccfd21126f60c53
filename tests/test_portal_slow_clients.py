"""Slow, stuck and lying clients (issue 15), against the real server with short deadlines
(``--setelan``: a request head within 2 s, no body pause over 2 s, a body whole within 8 s,
files up to 2 MiB). Every case is answered or cut off, leaves nothing in the staging folder or
the month, and the server answers ``/api/sehat`` throughout."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import pytest
from attack_support import (
    HealthPoller,
    multipart,
    raw_exchange,
    request_head,
    run_files,
    upload_head,
)
from portal_support import ACCOUNTS, PERIOD, add_accounts, make_data, start_server, stop_server

LIMIT = 2 * 1024 * 1024
SETTINGS = (
    "header_seconds=2",
    "body_idle_seconds=2",
    "body_seconds=8",
    f"max_upload_bytes={LIMIT}",
)


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    root, _ = make_data(tmp_path_factory.mktemp("lambat"))
    add_accounts(root, ACCOUNTS)
    args = tuple(a for s in SETTINGS for a in ("--setelan", s))
    server = start_server(root, args=args)
    yield server
    out = stop_server(server)
    assert "Traceback" not in out, out
    assert server.network_attempts == []


@pytest.fixture
def unit(strict_server):
    """A signed-in unit; while its test runs the server answers /api/sehat; afterwards nothing
    of its requests is left half-received."""
    client = strict_server.client("dinsos")
    with HealthPoller(strict_server.url) as health:
        yield client
    assert health.failures == [] and health.answers > 0
    assert list((strict_server.root / "portal" / "unggah").rglob("*")) == []


@pytest.fixture
def refused(strict_server, unit):
    """The request is refused: nothing reaches the month folder."""
    month = strict_server.root / "inputs" / PERIOD
    before = run_files(month)
    yield unit
    assert run_files(month) == before


def _pesan(answer) -> str:
    return json.loads(answer.body)["pesan"]


def test_a_stalled_upload_is_cut_off(strict_server, refused):
    boundary, body = multipart(b"laporan.xlsx", b"PK\x03\x04" + b"x" * 5000)
    head = request_head("POST", "/api/kiriman", headers=upload_head(refused, boundary, len(body)))
    answer = raw_exchange(strict_server.url, head + body[:3000])  # then nothing
    assert answer.status == 408 and answer.closed
    assert "terlalu lambat atau terhenti" in _pesan(answer)


def test_a_trickling_upload_is_cut_off_at_the_body_deadline(strict_server, refused):
    """One byte every half second: never idle for 2 s, so only the 8 s deadline stops it."""
    boundary, body = multipart(b"laporan.xlsx", b"PK\x03\x04" + b"x" * 5000)
    head = request_head("POST", "/api/kiriman", headers=upload_head(refused, boundary, len(body)))
    drip = [(body[i : i + 1], 0.5) for i in range(200, 400)]
    answer = raw_exchange(strict_server.url, head + body[:200], trickle=drip)
    assert answer.status == 408 and answer.closed
    assert answer.seconds > 6  # the 8 s body deadline ended it, not the 2 s pause limit


def test_content_length_larger_than_sent_is_a_stall(strict_server, refused):
    boundary, body = multipart(b"laporan.xlsx", b"PK\x03\x04" + b"x" * 5000)
    head = request_head(
        "POST", "/api/kiriman", headers=upload_head(refused, boundary, len(body) + 10)
    )
    answer = raw_exchange(strict_server.url, head + body)
    assert answer.status == 408 and answer.closed


def test_content_length_smaller_than_sent_stores_nothing_truncated(strict_server, refused):
    """The declared length ends inside the file's bytes: the server must not keep the first
    part as if it were the file (it did: 201 for a truncated workbook)."""
    boundary, body = multipart(b"laporan.xlsx", b"PK\x03\x04" + b"x" * 5000)
    head = request_head(
        "POST", "/api/kiriman", headers=upload_head(refused, boundary, len(body) - 2000)
    )
    answer = raw_exchange(strict_server.url, head + body)
    assert answer.status == 400 and "tidak lengkap" in _pesan(answer)
    assert answer.closed  # the rest of the body is not read as a next request


def test_a_body_without_its_closing_boundary_is_refused(strict_server, refused):
    boundary, body = multipart(b"laporan.xlsx", b"PK\x03\x04" + b"x" * 500)
    body = body[: -len(f"--{boundary}--\r\n")]
    head = request_head("POST", "/api/kiriman", headers=upload_head(refused, boundary, len(body)))
    answer = raw_exchange(strict_server.url, head + body)
    assert answer.status == 400 and "tidak lengkap" in _pesan(answer)


def test_chunked_body_over_the_limit_is_refused_while_streaming(strict_server, refused):
    boundary, _ = multipart(b"x.xlsx", b"")
    head = request_head(
        "POST",
        "/api/kiriman",
        headers=upload_head(refused, boundary, None, **{"Transfer-Encoding": "chunked"}),
    )
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="berkas"; '
        'filename="besar.xlsx"\r\n\r\n'
    ).encode()
    block = b"\0" * 65536

    def chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    # Up to 3 MiB in 64 KiB chunks, stopping as soon as the server answers.
    drip = [(chunk(block), 0.01) for _ in range(48)]
    answer = raw_exchange(strict_server.url, head + chunk(start), trickle=drip)
    assert answer.status == 413 and answer.closed
    assert "2 MiB" in _pesan(answer)


def test_content_length_and_chunked_together_are_refused(strict_server, refused):
    """Request smuggling's classic: both framings in one request."""
    boundary, body = multipart(b"laporan.xlsx", b"PK\x03\x04")
    headers = upload_head(refused, boundary, len(body), **{"Transfer-Encoding": "chunked"})
    answer = raw_exchange(
        strict_server.url, request_head("POST", "/api/kiriman", headers=headers) + body
    )
    assert answer.status == 400 and answer.closed


def test_a_stalled_json_body_is_cut_off_too(strict_server, refused):
    headers = {
        "Cookie": f"rbpipe_sesi={refused.http.cookies.get('rbpipe_sesi')}",
        "X-CSRF-Token": refused.csrf,
        "Content-Type": "application/json",
        "Content-Length": "200",
    }
    answer = raw_exchange(
        strict_server.url, request_head("POST", "/api/masuk", headers=headers) + b'{"nama": '
    )
    assert answer.status == 408 and answer.closed


def test_slow_request_heads_are_closed_and_do_not_crowd_out_others(strict_server, unit):
    """200 connections that never finish their request line (slowloris): each is closed after
    the head deadline, and the health poller (the fixture) never failed meanwhile."""
    where = (
        strict_server.url.split("//")[1].split(":")[0],
        int(strict_server.url.rsplit(":", 1)[1]),
    )
    socks = []
    for i in range(200):
        s = socket.create_connection(where, timeout=30)
        s.sendall(b"GET /api/sehat HTTP/1.1\r\nHost: x\r\nX-Lambat-" + str(i).encode())
        socks.append(s)
    closed = 0
    deadline = time.monotonic() + 60
    for s in socks:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(OSError):
            closed += s.recv(100) == b""
        s.close()
    assert closed == len(socks)


def test_idle_keep_alive_connections_are_kept(strict_server, unit):
    """The head deadline does not end an idle kept-alive connection (uvicorn's keep-alive
    timeout, 65 s, does): a client may reuse it."""
    where = (
        strict_server.url.split("//")[1].split(":")[0],
        int(strict_server.url.rsplit(":", 1)[1]),
    )
    with socket.create_connection(where, timeout=30) as s:
        s.sendall(b"GET /api/sehat HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _one_answer(s).startswith(b"HTTP/1.1 200")
        time.sleep(4)  # twice the head deadline
        s.sendall(b"GET /api/sehat HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _one_answer(s).startswith(b"HTTP/1.1 200")


def _one_answer(s: socket.socket) -> bytes:
    """One whole HTTP answer from a kept-alive connection: its head, then exactly the body its
    Content-Length announces (head and body may arrive in separate segments)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, "connection closed before the answer's head"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = s.recv(4096)
        assert chunk, "connection closed inside the answer's body"
        body += chunk
    assert len(body) == length, "more bytes than one answer"
    return head + b"\r\n\r\n" + body


def test_a_normal_upload_still_works_after_all_that(strict_server, unit):
    r = unit.upload(strict_server.root / "inputs" / PERIOD / "DINSOS_2025-10.xlsx")
    assert r.status_code == 201, r.text


def test_parallel_stalls_do_not_block_uploads(strict_server, unit):
    """20 stalled uploads at once, and meanwhile a real one is checked and stored."""
    boundary, body = multipart(b"laporan.xlsx", b"PK\x03\x04" + b"x" * 5000)
    head = request_head("POST", "/api/kiriman", headers=upload_head(unit, boundary, len(body)))
    answers = []

    def stall():
        answers.append(raw_exchange(strict_server.url, head + body[:1000]))

    threads = [threading.Thread(target=stall) for _ in range(20)]
    for t in threads:
        t.start()
    ok = unit.upload(strict_server.root / "inputs" / PERIOD / "DINSOS_2025-10.xlsx")
    for t in threads:
        t.join()
    assert ok.status_code == 201
    assert [a.status for a in answers] == [408] * 20


def test_a_body_of_many_small_fields_is_refused(strict_server, refused):
    """Small form fields are kept in memory: 20,000 of them (under the size limit) would add
    up, per request; the parts are counted."""
    boundary, _ = multipart(b"x.xlsx", b"")
    fields = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode()
        for i in range(20_000)
    )
    body = fields + f"--{boundary}--\r\n".encode()
    head = request_head("POST", "/api/kiriman", headers=upload_head(refused, boundary, len(body)))
    answer = raw_exchange(strict_server.url, head + body)
    assert answer.status == 400 and "Terlalu banyak kolom" in _pesan(answer)
