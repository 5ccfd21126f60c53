"""The portal's part of ``make bench``: how fast an upload is checked on a warm server, compared
with a cold ``rbpipe check`` of the same file, and how long 51 simultaneous uploads take.

    python -m bench.portal [--out bench/results]

Everything is real: ``rbpipe serve`` in a subprocess on a loopback port, uploads over HTTP by
signed-in unit accounts (argon2id, CSRF and all), and ``rbpipe check FILE`` in a fresh
interpreter for the cold figure. Measured:

* **warm, demo**: each accepted workbook of the demo month uploaded once, one after another,
  by its own unit (time from sending the request to the 201 with the problem list);
* **warm, 300 plans**: one unit's workbook of 300 action plans (``rbpipe demo --plans 300``),
  uploaded :data:`LARGE_REPEATS` times;
* **cold**: ``rbpipe check`` of the same files (demo: :data:`COLD_SAMPLE` of them; 300 plans:
  :data:`LARGE_REPEATS` times);
* **51 at once**: every registry unit uploads its workbook at the same moment (units without a
  demo file send their blank template); the total time until the last 201.

Ratio = warm p95 / cold p50: the issue's target is below one third. Figures depend on the
machine's load: the header line prints the load average at the start and the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from pipeline.locale_id import number

PERIOD = "2025-10"
PASSWORD = "Bench-Portal-2025"
LARGE_PLANS = 300
LARGE_REPEATS = 5
COLD_SAMPLE = 8
RBPIPE = Path(sys.executable).with_name("rbpipe")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def _summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": _pct(values, 50), "p95": _pct(values, 95), "max": max(values)}


def _prepare(work: Path) -> tuple[Path, dict, tuple, dict]:
    """Data folder with accounts; each unit's workbook; one 300-plan workbook."""
    from pipeline.demo import generate_month
    from pipeline.portal.auth import create_account
    from pipeline.portal.db import Database
    from pipeline.registry import Period, load_registry
    from pipeline.template import template_bytes

    registry = load_registry()
    period = Period.parse(PERIOD)
    plan = generate_month(work / "demo", period, registry, seed=2025)
    files: dict[str, tuple[str, bytes]] = {}
    for f in plan.files:
        if f.unit and f.expected_status == "accepted" and f.unit not in files:
            files[f.unit] = (f.name, (work / "demo" / f.name).read_bytes())
    large_plan = generate_month(work / "besar", period, registry, seed=7, n_plans=LARGE_PLANS)
    big = next(f for f in large_plan.files if f.unit and f.expected_status == "accepted")
    large = (big.unit, big.name, (work / "besar" / big.name).read_bytes())
    root = work / "data"
    (root / "inputs" / PERIOD).mkdir(parents=True)
    db = Database(root / "portal.sqlite")
    for unit in registry.units:
        create_account(
            db,
            unit.kode.lower(),
            "unit",
            unit=unit.kode,
            password=PASSWORD,
            known_units=registry.codes,
        )
    db.close()
    blanks = {
        u.kode: (f"{u.kode}_{PERIOD}.xlsx", template_bytes(u, period, registry))
        for u in registry.units
        if u.kode not in files
    }
    return root, files, large, blanks


@contextlib.contextmanager
def _server(root: Path):
    import httpx

    port = _free_port()
    proc = subprocess.Popen(
        [str(RBPIPE), "serve", "--data", str(root), "--port", str(port), "--periode", PERIOD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/sehat", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise click.ClickException("Server portal tidak siap.")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _sign_in(client, name: str) -> str:
    csrf = (await client.get("/api/sesi")).json()["csrf"]
    r = await client.post(
        "/api/masuk", json={"nama": name, "sandi": PASSWORD}, headers={"X-CSRF-Token": csrf}
    )
    r.raise_for_status()
    return r.json()["csrf"]


async def _upload(client, csrf: str, name: str, data: bytes) -> float:
    start = time.perf_counter()
    r = await client.post(
        "/api/kiriman",
        files={"berkas": (name, data)},
        data={"periode": PERIOD},
        headers={"X-CSRF-Token": csrf},
    )
    elapsed = time.perf_counter() - start
    if r.status_code != 201:
        raise click.ClickException(f"Unggahan {name} dijawab {r.status_code}: {r.text[:200]}")
    return elapsed


async def _warm(url: str, files: dict, large: tuple) -> tuple[list[float], list[float]]:
    import httpx

    demo, big = [], []
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        for kode, (name, data) in files.items():
            csrf = await _sign_in(client, kode.lower())
            demo.append(await _upload(client, csrf, name, data))
        kode, name, data = large
        csrf = await _sign_in(client, kode.lower())
        for _ in range(LARGE_REPEATS):
            big.append(await _upload(client, csrf, name, data))
    return demo, big


async def _crowd(url: str, files: dict) -> float:
    import httpx

    limits = httpx.Limits(max_connections=200)
    clients = {k: httpx.AsyncClient(base_url=url, timeout=600, limits=limits) for k in files}
    try:
        tokens = await asyncio.gather(*(_sign_in(c, k.lower()) for k, c in clients.items()))
        start = time.perf_counter()
        await asyncio.gather(
            *(_upload(clients[k], t, *files[k]) for k, t in zip(clients, tokens, strict=True))
        )
        return time.perf_counter() - start
    finally:
        for c in clients.values():
            await c.aclose()


def _cold(paths: list[Path]) -> list[float]:
    out = []
    for path in paths:
        start = time.perf_counter()
        subprocess.run(
            [str(RBPIPE), "check", str(path), "--period", PERIOD],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        out.append(time.perf_counter() - start)
    return out


def portal_bench(echo=click.echo) -> dict:
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rbpipe-bench-portal-") as tmp:
        work = Path(tmp)
        echo("Portal: menyiapkan data dan akun ...")
        root, files, large, blanks = _prepare(work)
        with _server(root) as url:
            echo(
                f"Portal: {len(files)} unggahan berurutan dan {LARGE_REPEATS}x berkas {LARGE_PLANS} rencana aksi ..."
            )
            demo, big = asyncio.run(_warm(url, files, large))
            echo("Portal: 51 unit mengunggah bersamaan ...")
            crowd = asyncio.run(_crowd(url, {**files, **blanks}))
        echo("Portal: rbpipe check dingin pada berkas yang sama ...")
        sample = list(files.values())[:: max(1, len(files) // COLD_SAMPLE)][:COLD_SAMPLE]
        cold_dir = work / "dingin"
        cold_dir.mkdir()
        paths = []
        for name, data in sample:
            (cold_dir / name).write_bytes(data)
            paths.append(cold_dir / name)
        large_path = cold_dir / large[1]
        large_path.write_bytes(large[2])
        cold_demo = _cold(paths)
        cold_big = _cold([large_path] * LARGE_REPEATS)
    result = {
        "warm_demo": _summary(demo),
        "warm_300": _summary(big),
        "cold_demo": _summary(cold_demo),
        "cold_300": _summary(cold_big),
        "crowd_51_s": crowd,
        "crowd_units": len(files) + len(blanks),
        "load_average": [load_start, os.getloadavg()[0]],
    }
    result["ratio_demo"] = result["warm_demo"]["p95"] / result["cold_demo"]["p50"]
    result["ratio_300"] = result["warm_300"]["p95"] / result["cold_300"]["p50"]
    return result


def format_portal(r: dict) -> list[str]:
    def s(x):
        return number(x, 2)

    lines = [
        f"Portal (beban mesin {number(r['load_average'][0], 2)} -> {number(r['load_average'][1], 2)})",
        f"  {'berkas':<22}{'hangat p50':>12}{'hangat p95':>12}{'dingin p50':>12}{'rasio p95/dingin':>18}",
    ]
    for label, key in (("contoh bulan ini", "demo"), (f"{LARGE_PLANS} rencana aksi", "300")):
        w, c = r[f"warm_{key}"], r[f"cold_{key}"]
        lines.append(
            f"  {label:<22}{s(w['p50']) + ' d':>12}{s(w['p95']) + ' d':>12}"
            f"{s(c['p50']) + ' d':>12}{s(r[f'ratio_{key}']):>18}"
        )
    lines.append(
        f"  {r['crowd_units']} unit mengunggah bersamaan: semua diterima dalam "
        f"{s(r['crowd_51_s'])} detik"
    )
    ok = r["ratio_demo"] < 1 / 3 and r["ratio_300"] < 1 / 3
    lines.append(
        "  Target (p95 hangat < 1/3 pemeriksaan dingin): "
        + ("tercapai" if ok else "BELUM tercapai")
    )
    return lines


def save_result(out: Path, prefix: str, result: dict) -> Path:
    """Write ``result`` as ``<out>/<prefix>-<UTC time>.json``; returns the path."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{prefix}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path


def run_portal_bench(out: Path, echo=click.echo) -> Path:
    result = portal_bench(echo)
    for line in format_portal(result):
        echo(line)
    path = save_result(out, "bench-portal", result)
    echo(f"Hasil portal: {path}")
    return path


@click.command()
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bench/results")
)
def main(out: Path) -> None:
    """Ukur portal: pemeriksaan hangat vs rbpipe check dingin, dan 51 unggahan bersamaan."""
    run_portal_bench(out)


if __name__ == "__main__":
    main()
