"""Deadline day under load (issue 15), part of ``make bench``; a shorter plan runs in
``make test`` (tests/test_portal_deadline.py).

    python -m bench.deadline [--out bench/results] [--unggahan N] [--jeda-maks S]

Everything is real: ``rbpipe serve`` in a subprocess on a loopback port, every registry unit
(51) signed in with its own session (argon2id, CSRF and all) from an asyncio client (httpx),
and in the same minutes:

* each unit opens its page (``/api/sesi``, its upload history, its template), uploads its
  workbook, looks at the answer and its history, downloads the instant feedback workbook of its
  first upload, thinks (a random pause) and uploads again, :attr:`Plan.uploads` times;
* the bureau (one analyst) polls the board every :attr:`Plan.board_every` seconds and reads the
  audit log, and starts the month run when half of all uploads were acknowledged, then polls
  its progress; leadership (:attr:`Plan.leaders` sessions) polls the board and the outputs;
* at the end the month is run again and its outputs listed and the regency workbook downloaded.

Reported: requests and their throughput, p50/p95/max per endpoint, answers by status, errors
other than 4xx (target 0), and lost uploads (target 0): an upload answered 201 whose file is
not in ``inputs/<period>/`` with the SHA-256 of the answer, or that the analyst's upload list
or the final run's manifest does not hold. Also the server's process tree memory (peak PSS)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from pipeline.locale_id import number

PERIOD = "2025-11"
PASSWORD = "Tenggat-Hari-2025"
RBPIPE = Path(sys.executable).with_name("rbpipe")


@dataclass(frozen=True)
class Plan:
    uploads: int = 4  # uploads per unit (the first, then re-uploads)
    think: tuple[float, float] = (1.0, 8.0)  # a unit's pause between actions, seconds
    board_every: float = 2.0  # the analyst's board poll
    leaders: int = 2  # leadership sessions
    leader_every: float = 5.0
    run_at: float = 0.5  # start the month run when this share of uploads is acknowledged
    seed: int = 15


QUICK = Plan(uploads=2, think=(0.2, 2.0), leaders=1)


@dataclass
class Record:
    """Every request: endpoint label, status (0: no answer), seconds."""

    calls: list[tuple[str, int, float]] = field(default_factory=list)
    acked: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # non-4xx answers and transport errors
    run_started_at: float | None = None
    runs: list[dict] = field(default_factory=list)

    async def call(self, label: str, send, *args, **kwargs):
        import httpx

        start = time.perf_counter()
        try:
            r = await send(*args, **kwargs)
        except httpx.HTTPError as exc:
            self.calls.append((label, 0, time.perf_counter() - start))
            self.errors.append(f"{label}: {type(exc).__name__}: {exc}")
            return None
        self.calls.append((label, r.status_code, time.perf_counter() - start))
        if r.status_code >= 500 or r.status_code < 200:
            self.errors.append(f"{label}: {r.status_code} {r.text[:200]}")
        return r


# --------------------------------------------------------------------------------------------
# Data and server
# --------------------------------------------------------------------------------------------


def prepare(work: Path, *, leaders: int) -> tuple[Path, dict[str, tuple[str, bytes]]]:
    """A data folder with an account per registry unit, an analyst and ``leaders`` leaders;
    each unit's workbook (its demo file, or its blank template)."""
    from pipeline.demo import generate_month
    from pipeline.portal.auth import create_account
    from pipeline.portal.db import Database
    from pipeline.registry import Period, load_registry
    from pipeline.template import template_bytes

    registry = load_registry()
    period = Period.parse(PERIOD)
    plan = generate_month(work / "sumber", period, registry, seed=2025)
    files: dict[str, tuple[str, bytes]] = {}
    for f in plan.files:
        if f.unit and f.expected_status == "accepted" and f.unit not in files:
            files[f.unit] = (f.name, (work / "sumber" / f.name).read_bytes())
    for unit in registry.units:
        files.setdefault(
            unit.kode, (f"{unit.kode}_{PERIOD}.xlsx", template_bytes(unit, period, registry))
        )
    root = work / "data"
    (root / "inputs" / PERIOD).mkdir(parents=True)
    db = Database(root / "portal.sqlite")
    accounts = [(u.kode.lower(), "unit", u.kode) for u in registry.units]
    accounts += [("ana", "analis", None)] + [(f"pim{i}", "pimpinan", None) for i in range(leaders)]
    for name, role, unit in accounts:
        create_account(db, name, role, unit=unit, password=PASSWORD, known_units=registry.codes)
    db.close()
    return root, files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(root: Path, *, env: dict | None = None, log: Path | None = None):
    """``rbpipe serve`` on ``root``; yields (url, process)."""
    import httpx

    port = _free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(RBPIPE), "serve", "--data", str(root), "--port", str(port), "--periode", PERIOD],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/sehat", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise click.ClickException("Server portal tidak siap.")
            time.sleep(0.25)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


# --------------------------------------------------------------------------------------------
# The day
# --------------------------------------------------------------------------------------------


async def _session(rec: Record, client, name: str) -> str | None:
    r = await rec.call("GET /api/sesi", client.get, "/api/sesi")
    if r is None or r.status_code != 200:
        return None
    r = await rec.call(
        "POST /api/masuk",
        client.post,
        "/api/masuk",
        json={"nama": name, "sandi": PASSWORD},
        headers={"X-CSRF-Token": r.json()["csrf"]},
    )
    if r is None or r.status_code != 200:
        rec.errors.append(f"{name} tidak dapat masuk: {r.status_code if r else '-'}")
        return None
    return r.json()["csrf"]


async def _unit(rec: Record, url: str, kode: str, file: tuple[str, bytes], plan: Plan, rng, total):
    import httpx

    name, data = file
    async with httpx.AsyncClient(base_url=url, timeout=900) as client:
        await asyncio.sleep(rng.uniform(0, plan.think[1]))
        csrf = await _session(rec, client, kode.lower())
        if csrf is None:
            return
        await rec.call("GET /api/kiriman", client.get, f"/api/kiriman?periode={PERIOD}")
        await rec.call("GET /api/templat", client.get, f"/api/templat?periode={PERIOD}")
        first_id = None
        for _ in range(plan.uploads):
            await asyncio.sleep(rng.uniform(*plan.think))
            r = await rec.call(
                "POST /api/kiriman",
                client.post,
                "/api/kiriman",
                files={"berkas": (name, data)},
                data={"periode": PERIOD},
                headers={"X-CSRF-Token": csrf},
            )
            if r is None or r.status_code != 201:
                continue
            body = r.json()
            rec.acked.append(body)
            total["acked"] += 1
            first_id = first_id or body["id"]
            await rec.call("GET /api/kiriman/{id}", client.get, f"/api/kiriman/{body['id']}")
            await rec.call("GET /api/kiriman", client.get, f"/api/kiriman?periode={PERIOD}")
        if first_id is not None:
            await rec.call(
                "GET /api/kiriman/{id}/umpan-balik",
                client.get,
                f"/api/kiriman/{first_id}/umpan-balik",
            )


async def _start_run(rec: Record, client, csrf: str) -> int | None:
    """The analyst presses the run button: the task id, or None."""
    r = await rec.call(
        "POST /api/rekap",
        client.post,
        "/api/rekap",
        json={"periode": PERIOD},
        headers={"X-CSRF-Token": csrf},
    )
    return r.json()["tugas"] if r is not None and r.status_code == 202 else None


async def _run_state(rec: Record, client, task: int) -> dict | None:
    r = await rec.call("GET /api/rekap/{tugas}", client.get, f"/api/rekap/{task}")
    return r.json() if r is not None and r.status_code == 200 else None


async def _wait_run(rec: Record, client, task: int) -> dict:
    while True:
        info = await _run_state(rec, client, task)
        if info and info["status"] in ("selesai", "gagal"):
            return info
        await asyncio.sleep(1.0)


async def _bureau(rec: Record, url: str, plan: Plan, total, done: asyncio.Event):
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=900) as client:
        csrf = await _session(rec, client, "ana")
        if csrf is None:
            return
        started = None
        polls = 0
        while not done.is_set():
            await rec.call("GET /api/papan", client.get, f"/api/papan?periode={PERIOD}")
            polls += 1
            if polls % 10 == 0:
                await rec.call("GET /api/audit", client.get, "/api/audit?batas=200")
            if started is None and total["acked"] >= plan.run_at * total["expected"]:
                started = await _start_run(rec, client, csrf)
                if started is not None:
                    rec.run_started_at = time.monotonic()
            if started is not None and not rec.runs:
                info = await _run_state(rec, client, started)
                if info and info["status"] in ("selesai", "gagal"):
                    rec.runs.append(info)
            await asyncio.sleep(plan.board_every)
        if started is not None and not rec.runs:
            rec.runs.append(await _wait_run(rec, client, started))
        # The day ends: the month is run once more, on everything acknowledged.
        final = await _start_run(rec, client, csrf)
        if final is not None:
            rec.runs.append(await _wait_run(rec, client, final))
        await rec.call("GET /api/hasil/{periode}", client.get, f"/api/hasil/{PERIOD}")
        await rec.call(
            "GET /api/hasil/{periode}/{nama}",
            client.get,
            f"/api/hasil/{PERIOD}/Konsolidasi_RB_{PERIOD}.xlsx",
        )


async def _leader(rec: Record, url: str, name: str, plan: Plan, done: asyncio.Event):
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=900) as client:
        if await _session(rec, client, name) is None:
            return
        while not done.is_set():
            await rec.call("GET /api/papan", client.get, f"/api/papan?periode={PERIOD}")
            await rec.call("GET /api/hasil/{periode}", client.get, f"/api/hasil/{PERIOD}")
            await asyncio.sleep(plan.leader_every)


async def day(url: str, files: dict[str, tuple[str, bytes]], plan: Plan) -> Record:
    rec = Record()
    rng = random.Random(plan.seed)
    total = {"acked": 0, "expected": len(files) * plan.uploads}
    done = asyncio.Event()
    units = [
        _unit(rec, url, kode, file, plan, random.Random(rng.random()), total)
        for kode, file in files.items()
    ]
    watchers = [asyncio.create_task(_bureau(rec, url, plan, total, done))]
    watchers += [
        asyncio.create_task(_leader(rec, url, f"pim{i}", plan, done)) for i in range(plan.leaders)
    ]
    await asyncio.gather(*units)
    done.set()
    await asyncio.gather(*watchers)
    return rec


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[q - 1]


def lost_uploads(rec: Record, root: Path, listed: list[dict]) -> list[str]:
    """Acknowledged uploads not found whole where they must be: in the month folder, in the
    analyst's upload list, and in the last run's manifest."""
    month = root / "inputs" / PERIOD
    by_id = {k["id"]: k for k in listed}
    manifest_path = root / "outputs" / PERIOD / "manifest.json"
    in_run = {}
    if manifest_path.exists():
        in_run = {f["name"]: f["sha256"] for f in json.loads(manifest_path.read_text())["files"]}
    lost = []
    for body in rec.acked:
        path = month / body["disimpan"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != body["sha256"]:
            lost.append(f"{body['disimpan']}: tidak utuh di inputs/")
        elif by_id.get(body["id"], {}).get("sha256") != body["sha256"]:
            lost.append(f"{body['disimpan']}: tidak ada di daftar kiriman")
        elif in_run.get(body["disimpan"]) != body["sha256"]:
            lost.append(f"{body['disimpan']}: tidak ada di manifest rekap terakhir")
    return lost


def summarise(rec: Record, seconds: float, lost: list[str], peak_pss_kib: int) -> dict:
    by_label: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    for label, status, took in rec.calls:
        by_label[label].append(took)
        statuses[label][str(status)] += 1
    endpoints = {
        label: {
            "n": len(times),
            "p50_s": _pct(times, 50),
            "p95_s": _pct(times, 95),
            "max_s": max(times),
            "status": dict(sorted(statuses[label].items())),
        }
        for label, times in sorted(by_label.items())
    }
    uploads = [t for label, s, t in rec.calls if label == "POST /api/kiriman" and s == 201]
    return {
        "seconds": seconds,
        "requests": len(rec.calls),
        "requests_per_s": len(rec.calls) / seconds,
        "uploads_acked": len(rec.acked),
        "uploads_per_min": len(uploads) / seconds * 60,
        "non_4xx_errors": len(rec.errors),
        "errors": rec.errors[:20],
        "lost_uploads": len(lost),
        "lost": lost[:20],
        "runs": [
            {
                "status": r["status"],
                "tugas": r["tugas"],
                "dibuat": r["dibuat"],
                "selesai": r["selesai"],
            }
            for r in rec.runs
        ],
        "endpoints": endpoints,
        "server_peak_pss_mib": peak_pss_kib / 1024,
    }


def run_day(plan: Plan, work: Path, *, echo=click.echo, env: dict | None = None) -> dict:
    """Prepare, serve, run the day, check for lost uploads; the summary (see module doc)."""
    import httpx

    from bench.measure import TreeSampler

    echo(f"Hari tenggat: menyiapkan 51 unit, {plan.uploads} unggahan per unit ...")
    root, files = prepare(work, leaders=plan.leaders)
    load = [os.getloadavg()[0]]
    with server(root, env=env, log=work / "server.log") as (url, proc):
        sampler = TreeSampler(proc.pid, interval=0.5)
        sampler.start()
        start = time.monotonic()
        try:
            rec = asyncio.run(day(url, files, plan))
        finally:
            seconds = time.monotonic() - start
            sampler.stop()
        with httpx.Client(base_url=url, timeout=120) as client:
            csrf = client.get("/api/sesi").json()["csrf"]
            client.post(
                "/api/masuk",
                json={"nama": "ana", "sandi": PASSWORD},
                headers={"X-CSRF-Token": csrf},
            )
            listed = client.get(f"/api/kiriman?periode={PERIOD}").json()["kiriman"]
    load.append(os.getloadavg()[0])
    lost = lost_uploads(rec, root, listed)
    result = summarise(rec, seconds, lost, sampler.peak_total_kib)
    result["plan"] = asdict(plan)
    result["units"] = len(files)
    result["load_average"] = load
    result["server_log_traceback"] = "Traceback" in (work / "server.log").read_text(
        errors="replace"
    )
    return result


def format_day(r: dict) -> list[str]:
    def s(x: float) -> str:
        return number(x, 2)

    lines = [
        f"Hari tenggat: {r['units']} unit x {r['plan']['uploads']} unggahan, papan dipantau "
        f"analis dan {r['plan']['leaders']} pimpinan, rekap di tengah "
        f"(beban mesin {s(r['load_average'][0])} -> {s(r['load_average'][1])})",
        f"  {number(r['requests'])} permintaan dalam {s(r['seconds'])} detik "
        f"({s(r['requests_per_s'])}/detik); {number(r['uploads_acked'])} unggahan diterima "
        f"({s(r['uploads_per_min'])}/menit)",
        f"  galat selain 4xx: {r['non_4xx_errors']}; unggahan hilang: {r['lost_uploads']}; "
        f"rekap: {', '.join(x['status'] for x in r['runs']) or '-'}; "
        f"memori puncak server (PSS): {number(r['server_peak_pss_mib'])} MiB",
        f"  {'titik akhir':<36}{'n':>6}{'p50 (d)':>10}{'p95 (d)':>10}{'maks (d)':>10}  status",
    ]
    for label, e in r["endpoints"].items():
        codes = " ".join(f"{k}:{v}" for k, v in e["status"].items())
        lines.append(
            f"  {label:<36}{e['n']:>6}{s(e['p50_s']):>10}{s(e['p95_s']):>10}{s(e['max_s']):>10}"
            f"  {codes}"
        )
    return lines


def run_deadline_bench(out: Path, plan: Plan = Plan(), echo=click.echo) -> Path:
    with tempfile.TemporaryDirectory(prefix="rbpipe-bench-tenggat-") as tmp:
        result = run_day(plan, Path(tmp), echo=echo)
    for line in format_day(result):
        echo(line)
    from bench.portal import save_result

    path = save_result(out, "bench-tenggat", result)
    echo(f"Hasil hari tenggat: {path}")
    return path


@click.command()
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bench/results")
)
@click.option("--unggahan", "uploads", type=click.IntRange(1, 20), default=Plan.uploads)
@click.option("--jeda-maks", "think_max", type=click.FloatRange(0.1, 60), default=Plan.think[1])
def main(out: Path, uploads: int, think_max: float) -> None:
    """Ukur portal pada hari tenggat: 51 unit mengunggah dan mengunggah ulang, papan dipantau,
    rekap di tengah."""
    plan = Plan(uploads=uploads, think=(min(Plan.think[0], think_max), think_max))
    run_deadline_bench(out, plan)


if __name__ == "__main__":
    main()
