"""Helpers of the portal-under-attack tests (issue 15): raw HTTP over a socket (for requests
no polite client sends), a health poller that runs beside an attack, the server's process tree
and its memory, and a data folder's files as the run would see them."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

from bench.measure import TreeSampler
from pipeline.ingest import is_ignored


@dataclass
class RawAnswer:
    status: int | None  # None: the server closed without answering
    head: str
    body: bytes
    closed: bool  # the server closed the connection after answering
    seconds: float


def _read_answer(sock: socket.socket, started: float) -> RawAnswer:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return RawAnswer(None, "", data, True, time.monotonic() - started)
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    text = head.decode("latin-1")
    length = 0
    for line in text.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    closed = False  # did the server close the connection after its answer (within 3 s)?
    sock.settimeout(3)
    try:
        while chunk := sock.recv(65536):
            body += chunk  # a chunked answer's body
        closed = True
    except ConnectionResetError:
        closed = True  # closed with our unread bytes in its buffer: the kernel resets
    except OSError:
        pass
    return RawAnswer(int(text.split()[1]), text, body, closed, time.monotonic() - started)


def raw_exchange(url: str, data: bytes, *, trickle=None, timeout: float = 60) -> RawAnswer:
    """Send ``data`` on a new connection to ``url``'s server, then (``trickle``: an iterable of
    (bytes, pause)) more bytes slowly, stopping when the server answers or closes; return the
    answer."""
    where = urlparse(url)
    started = time.monotonic()
    with socket.create_connection((where.hostname, where.port), timeout=timeout) as sock:
        sock.sendall(data)
        for chunk, pause in trickle or ():
            sock.settimeout(pause)
            try:
                if sock.recv(1, socket.MSG_PEEK) is not None:
                    break  # the server spoke (or closed): stop sending
            except TimeoutError:
                pass
            try:
                sock.sendall(chunk)
            except OSError:
                break
        sock.settimeout(timeout)
        return _read_answer(sock, started)


def request_head(method: str, path: str, *, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def multipart(filename: bytes, content: bytes, *, fields: dict[str, str] | None = None):
    """(boundary, body) of a multipart upload with the raw ``filename`` bytes in its header."""
    boundary = "rbpipe" + hashlib.sha256(content).hexdigest()[:16]
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (fields or {}).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="berkas"; filename="'.encode()
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return boundary, b"".join(parts)


def upload_head(client, boundary: str, length: int | None, **extra: str) -> dict[str, str]:
    """Headers of a raw upload by the signed-in ``client`` (portal_support.Client)."""
    headers = {
        "Cookie": f"rbpipe_sesi={client.http.cookies.get('rbpipe_sesi')}",
        "X-CSRF-Token": client.csrf,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    if length is not None:
        headers["Content-Length"] = str(length)
    headers.update(extra)
    return headers


@dataclass
class HealthPoller:
    """Polls ``GET /api/sehat`` every ``every`` seconds in a thread while an attack runs:
    every answer must be 200 ``{"status": "ok"}`` within ``timeout`` seconds."""

    url: str
    every: float = 0.25
    timeout: float = 30.0
    answers: int = 0
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _poll(self, client: httpx.Client) -> None:
        started = time.monotonic()
        try:
            r = client.get("/api/sehat")
            if r.status_code != 200 or r.json() != {"status": "ok"}:
                self.failures.append(f"{r.status_code} {r.text[:100]}")
        except httpx.HTTPError as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}")
        self.answers += 1
        self.slowest = max(self.slowest, time.monotonic() - started)

    def _run(self):
        with httpx.Client(base_url=self.url, timeout=self.timeout) as client:
            while not self._stop.is_set():
                self._poll(client)
                self._stop.wait(self.every)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        with httpx.Client(base_url=self.url, timeout=self.timeout) as client:
            self._poll(client)  # and once more at the end, whatever happened meanwhile


@contextlib.contextmanager
def tree_memory(pid: int, interval: float = 0.2):
    """Sample the memory of process ``pid`` and all its descendants (summed PSS: shared pages
    counted once) while the block runs; yields the sampler (``peak_total_kib``)."""
    sampler = TreeSampler(pid, interval=interval)
    sampler.sample()
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()


def tree_pss_kib(pid: int) -> int:
    sampler = TreeSampler(pid)
    sampler.sample()
    return sampler.peak_total_kib


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of every thread, recursively)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            threads = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as fh:
                    kids = [int(c) for c in fh.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids, timeout: float = 30.0) -> list[int]:
    """Wait until none of ``pids`` is alive; return those still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [p for p in left if alive(p)]
    return left


def run_files(month: Path) -> list[Path]:
    """Files of a month folder the run would read (what ``ingest_month`` does not ignore)."""
    if not month.is_dir():
        return []
    return sorted(
        p for p in month.rglob("*") if p.is_file() and not is_ignored(p.relative_to(month))
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(db: Path) -> str:
    """``PRAGMA integrity_check`` of an SQLite file, opened read-only."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def leftovers(root: Path) -> list[str]:
    """Unfinished things in a data folder: files being received or checked (staging),
    temporaries in the outputs, hidden partial files in the month folders."""
    found = [str(p.relative_to(root)) for p in (root / "portal" / "unggah").rglob("*")]
    for base in (root / "outputs", root / "inputs", root / "karantina"):
        if base.is_dir():
            found += [
                str(p.relative_to(root))
                for p in base.rglob("*")
                if p.is_file() and (".tmp-" in p.name or p.name.endswith(".part"))
            ]
    return found
