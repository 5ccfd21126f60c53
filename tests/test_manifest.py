"""manifest.json: the keys other tools rely on (architecture.md), exactly and deterministically."""

from __future__ import annotations

import json
import math
import random

import pytest
from conftest import (
    FEEDBACK_FOLDER,
    HISTORY_FILE,
    MANIFEST_FILE,
    MANIFEST_FILE_KEYS,
    MANIFEST_UNIT_KEYS,
    feedback_name,
    regency_workbook_name,
)
from factories import PERIOD, make_run, problem

from pipeline import __version__
from pipeline.publish.manifest import build_manifest, manifest_text, write_manifest


@pytest.fixture(scope="module")
def run():
    return make_run(hostile=True)


@pytest.fixture(scope="module")
def manifest(run):
    return build_manifest(run)


def test_top_level_keys_in_a_fixed_order(manifest):
    assert list(manifest) == [
        "period",
        "tool_version",
        "started",
        "finished",
        "files",
        "units",
        "problems",
        "regency",
        "totals",
        "outputs",
        "info",
    ]
    assert manifest["info"]["suite_versions"]["rb_umum"] == "2025.1"
    assert manifest["period"] == "2025-10"
    assert manifest["tool_version"] == __version__
    assert manifest["started"] == "2025-11-06T08:00:00"
    assert manifest["finished"] == "2025-11-06T08:00:41"


def test_files_say_what_became_of_each_input(run, manifest):
    files = {f["name"]: f for f in manifest["files"]}
    assert list(files) == sorted(s.name for s in run.submissions)
    for f in files.values():
        assert list(f)[: len(MANIFEST_FILE_KEYS)] == MANIFEST_FILE_KEYS
        assert f["rows_read"] == f["rows_consolidated"] + f["rows_skipped"]
    dinsos = files["Renaksi RB Dinsos Okt 2025.xlsx"]
    assert dinsos["status"] == "accepted" and dinsos["unit"] == "DINSOS"
    assert dinsos["problems"] == ["RB-E103", "RB-E111", "RB-W010", "RB-W101"]
    assert dinsos["skipped"] == [
        {"sheet": "RB UMUM 2025", "row": 8, "reason": "baris nomor kolom"},
        {"sheet": "RB UMUM 2025", "row": 11, "reason": "baris subtotal (JUMLAH)"},
    ]
    assert files["DINSOS_2025-10_draft.xlsx"]["status"] == "superseded"
    unknown = files["laporan rb (final).xlsx"]
    assert unknown["unit"] is None and unknown["status"] == "rejected"
    assert unknown["problems"] == ["RB-E005"]


def test_units_cover_the_registry_with_metrics_and_nulls(run, manifest):
    units = {u["kode"]: u for u in manifest["units"]}
    assert list(units) == list(run.registry.codes)
    for u in units.values():
        assert list(u)[: len(MANIFEST_UNIT_KEYS)] == MANIFEST_UNIT_KEYS
    frame = run.metrics.units.set_index("kode")
    dinkes = units["DINKES"]
    assert dinkes["submitted"] is True and dinkes["on_time"] is True
    assert dinkes["capaian_mean"] == pytest.approx(frame.loc["DINKES", "capaian_mean"])
    assert dinkes["capaian_mean"] > 1  # percent, not a fraction
    assert 0 <= dinkes["completion_rate"] <= 1
    assert dinkes["rows"] == 8 and dinkes["errors"] == 2 and dinkes["warnings"] == 1
    natar = units["KEC-NATAR"]
    assert natar["submitted"] is False and natar["on_time"] is None
    assert all(natar[k] is None for k in MANIFEST_UNIT_KEYS[7:])
    assert units["DISKOMINFO"]["on_time"] is False
    assert units["INSPEKTORAT"]["completion_rate"] is None  # undefined: every row excluded


def test_every_problem_with_its_cell(run, manifest):
    problems = manifest["problems"]
    assert len(problems) == len(run.problems)
    for p in problems:
        assert list(p)[:8] == [
            "code",
            "severity",
            "unit",
            "file",
            "cell",
            "field",
            "value",
            "message",
        ]
        assert p["severity"] in ("error", "warning")
    cells = {(p["code"], p["cell"]) for p in problems}
    assert ("RB-E111", "RB UMUM 2025!S9") in cells
    assert ("RB-E006", None) in cells
    hostile = next(p for p in problems if p["code"] == "RB-E103" and p["unit"] == "DINKES")
    assert hostile["value"] == "=SUM(A1:A9)"  # JSON keeps the text exactly


def test_totals(run, manifest):
    totals = manifest["totals"]
    assert totals["rows_read"] == 19 and totals["rows_consolidated"] == 17
    assert totals["rows_skipped"] == 2
    assert totals["errors"] == sum(p.is_error for p in run.problems) == 9
    assert totals["warnings"] == 4


def test_no_nan_and_unicode_kept(tmp_path):
    run = make_run()
    run.problems.append(
        problem(
            "RB-W101", "Realisasi “jauh” di atas target — periksa.", "Periksa ±.", unit="DINKES"
        )
    )
    path = tmp_path / "2025-10" / MANIFEST_FILE
    write_manifest(path, run)
    raw = path.read_bytes()
    assert "“jauh” di atas target — periksa".encode() in raw
    text = raw.decode("utf-8")
    assert "NaN" not in text and "Infinity" not in text
    loaded = json.loads(text)
    regency = loaded["regency"]
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in regency.values())
    assert not list(path.parent.glob(".*tmp*"))


def test_outputs_are_relative_to_the_manifest_folder(tmp_path):
    run = make_run()
    month = tmp_path / "outputs" / "2025-10"
    run.outputs = [
        month / FEEDBACK_FOLDER / feedback_name("DINKES", PERIOD),
        month / regency_workbook_name(PERIOD),
        tmp_path / "outputs" / HISTORY_FILE,
    ]
    write_manifest(month / MANIFEST_FILE, run)
    loaded = json.loads((month / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert loaded["outputs"] == [
        f"../{HISTORY_FILE}",
        regency_workbook_name(PERIOD),
        f"{FEEDBACK_FOLDER}/{feedback_name('DINKES', PERIOD)}",
    ]


def test_same_run_same_text_whatever_the_input_order(run):
    shuffled = make_run(hostile=True)
    rng = random.Random(11)
    rng.shuffle(shuffled.submissions)
    rng.shuffle(shuffled.problems)
    assert manifest_text(build_manifest(shuffled)) == manifest_text(build_manifest(run))
