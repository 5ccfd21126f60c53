"""The bench harness on a tiny month, and the promise it relies on: the number of worker
processes changes how fast a month is consolidated, never what comes out."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import FEEDBACK_FOLDER, MANIFEST_FILE, REMINDERS_FILE, regency_workbook_name

import bench
from pipeline.demo import generate_month
from pipeline.publish import feedback
from pipeline.publish.regency import INFO_LABELS, SHEET_INFO
from pipeline.registry import Period, load_registry
from pipeline.run import run_month

PERIOD = Period.parse(bench.PERIOD)
# Everything a run writes that depends on the clock or on the machine, not on the inputs.
VOLATILE_INFO = ("stages", "gx_seconds", "workers")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[dict, list[str]]:
    """One bench over a month of three units: its JSON results and the lines it printed."""
    root = tmp_path_factory.mktemp("bench")
    scenario = bench.Scenario(name="kecil", label="3 unit x 4 rencana aksi", units=3, plans=4)
    printed: list[str] = []
    path = bench.run_bench((scenario,), data=root / "data", out=root / "hasil", echo=printed.append)
    return json.loads(path.read_text(encoding="utf-8")), printed, root


def test_bench_times_every_stage_of_a_real_run(tiny):
    results, _, root = tiny
    scenario = results["scenarios"]["kecil"]
    run = scenario["runs"]["bawaan"][0]
    assert list(run["stages"]) == list(bench.STAGES)
    for figures in run["stages"].values():
        assert figures["wall_s"] > 0 and figures["cpu_s"] >= 0
    assert run["wall_s"] > sum(s["wall_s"] for s in run["stages"].values())
    assert run["other_wall_s"] > 0  # interpreter start and imports are part of the run
    stamp = json.loads((root / "data" / "u3-p4-s2025" / "dibuat.json").read_text())
    assert run["rows"] == stamp["accepted_plans"] > 0
    assert run["files"] == stamp["files"]
    assert run["main_peak_rss_bytes"] > 50 << 20  # pandas alone is bigger than that
    assert run["tree_peak_pss_bytes"] >= run["main_peak_rss_bytes"] * 0.5


def test_floor_reads_every_input_and_writes_as_many_rows_as_the_run(tiny):
    results, _, root = tiny
    scenario = results["scenarios"]["kecil"]
    floor = scenario["floor"]
    month = root / "data" / "u3-p4-s2025" / bench.PERIOD
    inputs = [p for p in month.rglob("*") if p.is_file() and not p.name.startswith(("~$", "."))]
    assert floor["files"] == len(inputs)
    assert floor["rows_written"] == scenario["runs"]["bawaan"][0]["rows"]
    assert floor["total_s"] == pytest.approx(floor["read_s"] + floor["write_s"])
    assert scenario["ratio"] == pytest.approx(scenario["median_wall_s"] / floor["total_s"])


def test_bench_prints_a_table_and_records_the_machine_and_commit(tiny):
    results, printed, root = tiny
    text = "\n".join(printed)
    for stage in (*bench.STAGES, "lainnya", "total"):
        assert f"\n    {stage} " in text
    assert "Lantai I/O" in text and "rasio run/lantai" in text
    assert "rbpipe --help" in text
    assert len(results["help_s"]) == bench.HELP_RUNS
    assert results["machine"]["cpus"] >= 1
    assert len(results["commit"]["hash"]) == 40
    assert results["parallelism_probe"] > 0
    # The generated month is cached: a second bench does not generate it again.
    scenario = bench.Scenario(name="kecil", label="", units=3, plans=4)
    assert bench.ensure_inputs(root / "data", scenario)[1] == 0.0


# --------------------------------------------------------------------------------------------
# --workers 1 and --workers 2 give the same outputs
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """The demo month consolidated with one reader process and serial feedback, and with two
    reader processes and the feedback written by a pool (forced on for this small month)."""
    root = tmp_path_factory.mktemp("workers")
    generate_month(root / "inputs" / str(PERIOD), PERIOD, load_registry(None), seed=7)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1764547200")
        run_month(PERIOD, inputs=root / "inputs", outputs=root / "satu", workers=1)
        patch.setattr(feedback, "POOL_MIN_WORKBOOKS", 1)
        run_month(PERIOD, inputs=root / "inputs", outputs=root / "dua", workers=2)
    return root / "satu" / str(PERIOD), root / "dua" / str(PERIOD)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.xlsx"))
    }


def test_feedback_and_reminders_are_byte_identical(two_runs):
    one, two = (_files(f) for f in two_runs)
    names = [n for n in one if n != regency_workbook_name(PERIOD)]
    assert len([n for n in names if n.startswith(f"{FEEDBACK_FOLDER}/")]) > 10
    assert REMINDERS_FILE in names
    assert set(one) == set(two)
    assert [n for n in names if one[n] != two[n]] == []


def test_regency_workbook_differs_only_in_the_worker_count_it_reports(two_runs):
    name = regency_workbook_name(PERIOD)
    with zipfile.ZipFile(two_runs[0] / name) as a, zipfile.ZipFile(two_runs[1] / name) as b:
        assert a.namelist() == b.namelist()
        differing = [n for n in a.namelist() if a.read(n) != b.read(n)]
    books = [openpyxl.load_workbook(folder / name) for folder in two_runs]
    info_part = f"xl/worksheets/sheet{books[0].sheetnames.index(SHEET_INFO) + 1}.xml"
    assert differing == [info_part]
    rows = [[[c.value for c in row] for row in book[SHEET_INFO].iter_rows()] for book in books]
    changed = [(a, b) for a, b in zip(*rows, strict=True) if a != b]
    label = INFO_LABELS["workers"]
    assert changed == [
        (
            [label, 1, *[None] * (len(changed[0][0]) - 2)],
            [label, 2, *[None] * (len(changed[0][0]) - 2)],
        )
    ]


def test_manifests_are_equal_but_for_timing_and_worker_count(two_runs):
    one, two = (
        json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8")) for folder in two_runs
    )
    assert (one["info"]["workers"], two["info"]["workers"]) == (1, 2)
    for manifest in (one, two):
        for key in VOLATILE_INFO:
            manifest["info"].pop(key)
    assert one == two
    assert one["totals"]["rows_consolidated"] > 100
