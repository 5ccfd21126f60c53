"""``rbpipe template --isi-dari-riwayat`` and the portal's pre-filled template: a unit's plans
from its last accepted month come back through ingest as they were recorded, with the running
quarter's realisations left to update."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import rbpipe

from pipeline import schema
from pipeline.ingest import ingest_files
from pipeline.registry import Period, load_registry

NEXT = "2025-11"


def recorded(outputs, kode):
    db = sqlite3.connect(outputs / "riwayat.sqlite")
    rows = [
        json.loads(d)
        for (d,) in db.execute(
            "SELECT data FROM plans WHERE period = '2025-10' AND unit = ? ORDER BY position",
            (kode,),
        )
    ]
    db.close()
    return rows


@pytest.mark.parametrize("kode", ["DLH", "DISDUKCAPIL"])
def test_prefilled_template_round_trips_through_ingest(demo_run, tmp_path, kode):
    assert demo_run.run.returncode == 0
    out = tmp_path / "templat"
    result = rbpipe(
        "template",
        "--period",
        NEXT,
        "--out",
        str(out),
        "--unit",
        kode,
        "--isi-dari-riwayat",
        "--outputs",
        str(demo_run.outputs),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "1 terisi dari riwayat" in result.stdout
    path = out / f"{kode}_{NEXT}.xlsx"
    ingested = ingest_files([path], load_registry(), Period.parse(NEXT), workers=1)
    assert [s.status for s in ingested.submissions] == ["accepted"]
    assert ingested.submissions[0].unit == kode
    source = recorded(demo_run.outputs, kode)
    assert source and len(ingested.rows) == len(source)
    # November is in quarter IV: realisations of quarters I-III are kept, IV is left to update.
    kept = [f.name for f in schema.FIELDS if f.name != "realisasi_tw4"]
    got = ingested.rows.to_dict("records")
    by_key = {(r["_kind"], r["kode"]): r for r in got}
    for before in source:
        after = by_key[(before["_kind"], before["kode"])]
        assert after["realisasi_tw4"] != after["realisasi_tw4"] or after["realisasi_tw4"] is None
        for name in kept:
            a, b = after.get(name), before.get(name)
            if isinstance(b, float) and b != b:
                b = None
            if isinstance(a, float) and a != a:
                a = None
            assert a == b, (kode, before["kode"], name, a, b)


def test_without_history_the_template_is_blank(tmp_path):
    result = rbpipe(
        "template",
        "--period",
        NEXT,
        "--out",
        str(tmp_path / "t"),
        "--unit",
        "DLH",
        "--isi-dari-riwayat",
        "--outputs",
        str(tmp_path / "kosong"),
        cwd=tmp_path,
    )
    assert result.returncode == 0 and "0 terisi dari riwayat, 1 kosong" in result.stdout


def test_portal_template_is_prefilled_for_the_unit(portal_server, month_run, tmp_path):
    r = portal_server.client("dlh").get(f"/api/templat?periode={NEXT}")
    assert r.status_code == 200 and r.headers["x-rbpipe-isi-dari"] == "2025-10"
    path = tmp_path / f"DLH_{NEXT}.xlsx"
    path.write_bytes(r.content)
    ingested = ingest_files([path], load_registry(), Period.parse(NEXT), workers=1)
    assert ingested.submissions[0].unit == "DLH"
    assert len(ingested.rows) == len(recorded(portal_server.root / "outputs", "DLH"))
