"""The portal's instant check knows last month (RB-W102): a unit whose target differs from its
last accepted month learns it at upload, at the same cell and in the same words as the month
run and ``rbpipe check --outputs`` say it."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from conftest import rbpipe
from portal_support import run_month

pytestmark = pytest.mark.slow
PERIOD = "2025-10"


def w102(problems, unit):
    return {
        (p["cell"], p["value"], p["message"], p["severity"])
        for p in problems
        if p["code"] == "RB-W102" and p.get("unit") == unit
    }


def test_a_target_change_is_reported_at_upload_as_the_month_run_reports_it(year_server, tmp_path):
    root = year_server.root
    october = year_server.plans[PERIOD]
    assert october.target_changes, "the demo changes a target in October"
    planted = october.target_changes[0]
    unit, name = planted.unit, planted.file
    cells = {p.cell for p in october.target_changes if p.unit == unit}
    source = root / "inputs" / PERIOD / name

    c = year_server.client(f"unit{int(unit.split('-')[1])}")
    r = c.upload(source)
    assert r.status_code == 201, r.text
    body = r.json()
    portal = w102(body["masalah"], unit)
    assert {cell for cell, *_ in portal} == cells
    assert all(severity == "warning" for *_, severity in portal)
    change = next(p for p in body["masalah"] if p["code"] == "RB-W102")
    assert change["kolom"].startswith("Target TW") and change["hint"]

    # The instant feedback workbook lists it too.
    wb = openpyxl.load_workbook(io.BytesIO(c.get(body["umpan_balik"]).content))
    sheet, cell = next(iter(cells)).split("!")
    assert wb[sheet][cell].comment is not None and "RB-W102" in wb[sheet][cell].comment.text

    # The CLI's self-check with the outputs folder says the same.
    check = rbpipe(
        "check", str(source), "--period", PERIOD, "--json",
        "--registry", str(root / "inputs"), "--outputs", str(root / "outputs"),
        cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode in (0, 1), check.stderr
    assert w102(json.loads(check.stdout)["masalah"], unit) == portal

    # The month run (started from the portal, the real rbpipe run) says the same.
    run_month(year_server, PERIOD)
    manifest = json.loads((root / "outputs" / PERIOD / "manifest.json").read_text())
    assert w102(manifest["problems"], unit) == portal
