"""Deadline day: 51 units upload at once (and 12 upload again) while the analyst starts the
month run. Every acknowledged upload is in ``inputs/<period>/`` whole, and in the run's
manifest when it was acknowledged before the analyst asked for the run, else at the latest in
the next run's (docs/decisions.md); no answer is a 5xx."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

import httpx
import pytest
from portal_support import PASSWORD, add_accounts, run_month, start_server, stop_server

from pipeline.registry import Period, load_registry
from pipeline.template import template_bytes

pytestmark = pytest.mark.slow
PERIOD = "2025-11"


@pytest.fixture(scope="module")
def crowd(tmp_path_factory):
    from pipeline.demo import generate_month

    root = tmp_path_factory.mktemp("crowd")
    registry = load_registry()
    source = root / "sumber"
    plan = generate_month(source, Period.parse(PERIOD), registry, seed=11)
    files = {}
    for f in plan.files:
        if f.unit and f.expected_status == "accepted" and f.unit not in files:
            files[f.unit] = (f.name, (source / f.name).read_bytes())
    for unit in registry.units:  # units without a demo file send their blank template
        files.setdefault(
            unit.kode,
            (f"{unit.kode}_{PERIOD}.xlsx", template_bytes(unit, Period.parse(PERIOD), registry)),
        )
    accounts = {u.kode.lower(): ("unit", u.kode) for u in registry.units}
    accounts["ana"] = ("analis", None)
    add_accounts(root, accounts)
    (root / "inputs" / PERIOD).mkdir(parents=True)
    server = start_server(root, period=PERIOD)
    yield server, files
    out = stop_server(server)
    assert "Traceback" not in out, out
    assert server.network_attempts == []


async def _session(client: httpx.AsyncClient, name: str) -> str:
    csrf = (await client.get("/api/sesi")).json()["csrf"]
    r = await client.post(
        "/api/masuk", json={"nama": name, "sandi": PASSWORD}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text
    return r.json()["csrf"]


async def _campaign(url: str, files: dict) -> dict:
    limits = httpx.Limits(max_connections=200)
    clients = {kode: httpx.AsyncClient(base_url=url, timeout=600, limits=limits) for kode in files}
    analyst = httpx.AsyncClient(base_url=url, timeout=600)
    try:
        tokens = dict(
            zip(
                clients,
                await asyncio.gather(*(_session(c, k.lower()) for k, c in clients.items())),
                strict=True,
            )
        )
        ana_csrf = await _session(analyst, "ana")
        answers = []

        async def upload(kode: str, again: bool):
            name, data = files[kode]
            r = await clients[kode].post(
                "/api/kiriman",
                files={"berkas": (name, data)},
                data={"periode": PERIOD},
                headers={"X-CSRF-Token": tokens[kode]},
            )
            answers.append((kode, again, r.status_code, r.json(), time.monotonic()))

        async def start_run():
            await asyncio.sleep(2.0)
            sent = time.monotonic()
            r = await analyst.post(
                "/api/rekap", json={"periode": PERIOD}, headers={"X-CSRF-Token": ana_csrf}
            )
            return r.status_code, r.json(), sent

        again = list(files)[::4][:12]
        jobs = [upload(k, False) for k in files] + [upload(k, True) for k in again]
        results = await asyncio.gather(start_run(), *jobs)
        status, body, started = results[0]
        assert status == 202, body
        task = body["tugas"]
        while True:
            info = (await analyst.get(f"/api/rekap/{task}")).json()
            if info["status"] in ("selesai", "gagal"):
                break
            await asyncio.sleep(0.5)
        return {"answers": answers, "run_started": started, "run": info}
    finally:
        for c in [*clients.values(), analyst]:
            await c.aclose()


def test_51_units_upload_at_once_while_the_month_runs(crowd):
    server, files = crowd
    result = asyncio.run(_campaign(server.url, files))
    answers = result["answers"]
    assert result["run"]["status"] == "selesai", result["run"]
    assert len(answers) == 51 + 12
    assert all(status < 500 for _, _, status, _, _ in answers)
    acked = [(kode, body, at) for kode, _, status, body, at in answers if status == 201]
    assert len(acked) == len(answers)

    month = server.root / "inputs" / PERIOD
    for kode, body, _ in acked:
        stored = month / body["disimpan"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == body["sha256"]
        assert body["unit"] == kode

    manifest = json.loads((server.root / "outputs" / PERIOD / "manifest.json").read_text())
    in_run = {f["name"] for f in manifest["files"]}
    before_run = [b for _, b, at in acked if at < result["run_started"]]
    assert all(b["disimpan"] in in_run for b in before_run)

    run_month(server, PERIOD)  # the next run holds every acknowledged upload
    manifest = json.loads((server.root / "outputs" / PERIOD / "manifest.json").read_text())
    names = {f["name"]: f for f in manifest["files"]}
    for _, body, _ in acked:
        assert names[body["disimpan"]]["sha256"] == body["sha256"]
    assert sum(1 for f in manifest["files"] if f["status"] == "superseded") >= 12
