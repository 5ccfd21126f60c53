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
from bench.measure import ProcessMeasure, RunMeasure
from bench.report import ScenarioResult
from pipeline.demo import generate_month
from pipeline.publish.feedback import writer as feedback_writer
from pipeline.publish.regency import INFO_LABELS, SHEET_INFO
from pipeline.registry import Period, load_registry
from pipeline.run import run_month

PERIOD = Period.parse(bench.PERIOD)
# Everything a run writes that depends on the clock or on the machine, not on the inputs.
VOLATILE_INFO = ("stages", "gx_seconds", "workers")


# Stand-ins for the shared reference scripts (floor.py, naive.py: called as ``python SCRIPT
# MONTH OUT.xlsx``), which a clone outside the development machine does not have: they read
# every workbook of the month and write one, as the real ones do.
PEER_SCRIPT = """
import sys
from pathlib import Path
from python_calamine import CalamineWorkbook
import xlsxwriter
month, out = Path(sys.argv[1]), sys.argv[2]
book = xlsxwriter.Workbook(out)
sheet = book.add_worksheet()
row = 0
for path in sorted(month.glob("*.xlsx")):
    try:
        names = CalamineWorkbook.from_path(str(path)).sheet_names
    except Exception:  # the demo month holds damaged files on purpose
        continue
    for name in names:
        sheet.write_row(row, 0, [path.name, name])
        row += 1
book.close()
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[dict, list[str], Path]:
    """One bench over a month of three units, two rounds, each with a re-sent file, the peer
    scripts and the per-file floor: its JSON results, the lines it printed and its folder."""
    root = tmp_path_factory.mktemp("bench")
    peers = root / "pembanding"
    peers.mkdir()
    for name in ("floor.py", "naive.py"):
        (peers / name).write_text(PEER_SCRIPT, encoding="utf-8")
    scenario = bench.Scenario(
        name="kecil",
        label="3 unit x 4 rencana aksi",
        units=3,
        plans=4,
        rounds=2,
        resend=1,
        peers=True,
        per_file_floor=True,
    )
    printed: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RBPIPE_BENCH_PEERS", str(peers))
        path = bench.run_bench(
            (scenario,), data=root / "data", out=root / "hasil", echo=printed.append
        )
    return json.loads(path.read_text(encoding="utf-8")), printed, root


def test_bench_times_every_stage_of_a_real_run(tiny):
    results, _, root = tiny
    scenario = results["scenarios"]["kecil"]
    runs = scenario["runs"]["bawaan"]
    assert len(runs) == 2  # one cold run per round
    run = runs[0]
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
    assert not run["warm"]


def test_each_round_reruns_the_month_after_a_unit_resends_its_file(tiny):
    results, _, root = tiny
    scenario = results["scenarios"]["kecil"]
    assert len(scenario["warm"]) == 2
    for warm in scenario["warm"]:
        assert warm["warm"] and len(warm["resent"]) == 1
        assert warm["rows"] == scenario["runs"]["bawaan"][0]["rows"]
    # The cached month itself is never changed: the re-sent file went to a round's copy.
    month = root / "data" / "u3-p4-s2025" / bench.PERIOD
    resent = month / scenario["warm"][0]["resent"][0]
    stamp = json.loads((root / "data" / "u3-p4-s2025" / "dibuat.json").read_text())
    assert resent.stat().st_nlink == 1
    assert resent.name in stamp["file_units"]


def test_floors_and_peers_are_measured_in_every_round(tiny):
    results, _, root = tiny
    scenario = results["scenarios"]["kecil"]
    assert len(scenario["peer_floor"]) == len(scenario["naive"]) == 2
    assert all(m["wall_s"] > 0 for m in scenario["peer_floor"] + scenario["naive"])
    floor = scenario["floors"][0]
    month = root / "data" / "u3-p4-s2025" / bench.PERIOD
    inputs = [p for p in month.rglob("*") if p.is_file() and not p.name.startswith(("~$", "."))]
    assert floor["files"] == len(inputs)
    assert floor["rows_written"] == scenario["runs"]["bawaan"][0]["rows"]
    assert floor["total_s"] == pytest.approx(floor["read_s"] + floor["write_s"])
    assert floor["per_unit_write_s"] > 0


def test_ratios_are_taken_per_round_then_their_median(tiny):
    results, _, _ = tiny
    scenario = results["scenarios"]["kecil"]
    result = ScenarioResult(
        scenario=bench.Scenario(name="kecil", label="", units=3, plans=4, rounds=2),
        inputs="",
        generated_s=0,
        inputs_stamp={},
        runs={"bawaan": [RunMeasure(**r) for r in scenario["runs"]["bawaan"]]},
        warm=[RunMeasure(**r) for r in scenario["warm"]],
        peer_floor=[ProcessMeasure(**m) for m in scenario["peer_floor"]],
    )
    cold = [r["wall_s"] for r in scenario["runs"]["bawaan"]]
    warm = [r["wall_s"] for r in scenario["warm"]]
    floor = [m["wall_s"] for m in scenario["peer_floor"]]
    for spread, ratios in (
        (result.warm_ratio(), [w / c for w, c in zip(warm, cold, strict=True)]),
        (result.floor_ratio(), [c / f for c, f in zip(cold, floor, strict=True)]),
    ):
        assert spread.n == 2
        assert (spread.low, spread.high) == (min(ratios), max(ratios))
        assert spread.median == pytest.approx(sum(ratios) / 2)


def test_bench_prints_a_table_and_records_the_machine_and_commit(tiny):
    results, printed, root = tiny
    text = "\n".join(printed)
    for stage in (*bench.STAGES, "lainnya", "total"):
        assert f"\n    {stage} " in text
    assert "floor.py (lantai bersama)" in text and "rasio run/lantai" in text
    assert "dikirim ulang" in text
    assert "rbpipe --help" in text
    assert len(results["help_s"]) == bench.HELP_RUNS
    assert results["machine"]["cpus"] >= 1
    assert len(results["commit"]["hash"]) == 40
    assert results["parallelism_probe"] > 0
    markdown = next((root / "hasil").glob("*.md")).read_text(encoding="utf-8")
    assert "| figure | median | spread (min-max, runs) | target | verdict |" in markdown
    assert "rbpipe --help" in markdown
    # The generated month is cached: a second bench does not generate it again.
    scenario = bench.Scenario(name="kecil", label="", units=3, plans=4)
    assert bench.ensure_inputs(root / "data", scenario)[1] == 0.0


def test_a_smaller_month_is_cut_from_a_bigger_one(tmp_path):
    big = bench.Scenario(name="besar", label="", units=6, plans=3)
    small = bench.Scenario(name="kecil", label="", units=2, plans=3, derive_from="besar")
    inputs, _ = bench.ensure_inputs(tmp_path, small, scenarios={"besar": big})
    parent = tmp_path / big.key
    stamp = json.loads((parent / "dibuat.json").read_text())
    registry = (inputs / "unit_kerja.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in registry] == ["kode", "UNIT-0001", "UNIT-0002"]
    names = sorted(p.name for p in (inputs / bench.PERIOD).iterdir())
    expected = sorted(
        [
            n
            for n, (unit, _) in stamp["file_units"].items()
            if unit in (None, "UNIT-0001", "UNIT-0002")
        ]
        + stamp["ignored"]
    )
    assert names == expected and len(names) < stamp["files"]
    for name in names:  # the same files, not copies of them
        assert (inputs / bench.PERIOD / name).samefile(parent / bench.PERIOD / name)
    run = run_month(PERIOD, inputs=inputs, outputs=tmp_path / "hasil", workers=1)
    derived = json.loads((inputs / "dibuat.json").read_text())
    assert len(run.rows) == derived["accepted_plans"] > 0
    assert derived["derived_from"] == big.key


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
        patch.setattr(feedback_writer, "POOL_MIN_WORKBOOKS", 1)
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
