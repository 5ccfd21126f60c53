"""The portal's check is the CLI's check: the same problems whether the suites run in the
server's GX worker processes or in-process, whether an upload is checked alone or in a batch
with others, and (with the history) the same target changes (RB-W102) as the month run."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from pipeline.ingest import ingest_files
from pipeline.outputs import HISTORY_FILE
from pipeline.portal.checks import Checker, _Job
from pipeline.registry import Period, load_registry
from pipeline.run import check_files
from pipeline.validate import preload_suites, validate

PERIOD = Period.parse("2025-10")


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    from pipeline.demo import generate_month

    folder = tmp_path_factory.mktemp("periksa") / "2025-10"
    generate_month(folder, PERIOD, load_registry(), seed=5)
    return sorted(p for p in folder.glob("*.xls*") if not p.name.startswith("~$"))


def _dicts(problems):
    return [p.to_dict() for p in problems]


def test_suites_in_worker_processes_find_what_one_process_finds(month):
    registry = load_registry()
    ingested = ingest_files(month, registry, PERIOD, workers=2)
    alone = validate(ingested.rows, ingested.submissions, period=PERIOD, registry=registry)
    with ProcessPoolExecutor(
        2, mp_context=multiprocessing.get_context("spawn"), initializer=preload_suites
    ) as pool:
        side_by_side = validate(
            ingested.rows, ingested.submissions, period=PERIOD, registry=registry, suite_pool=pool
        )
    assert alone.problems and _dicts(side_by_side.problems) == _dicts(alone.problems)
    assert side_by_side.suite_versions == alone.suite_versions


def test_a_batch_finds_per_file_what_rbpipe_check_finds(month):
    checker = Checker(None, batch_max=16)
    try:
        files = [p for p in month if p.name.split("_")[0].isupper()][:6]
        jobs = [_Job(path=p, period=PERIOD, key=str(i)) for i, p in enumerate(files)]
        checked = checker._check(jobs)
        assert [job for job, _ in checked] == jobs
        for job, outcome in checked:
            expected = check_files([job.path], period=PERIOD)
            assert _dicts(outcome.problems) == _dicts(expected.problems), job.path.name
            assert outcome.submission.status == expected.submissions[0].status
        assert checker.batches[-1] == len(jobs)
    finally:
        checker.stop()


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """Six units, September consolidated (the history), October's files to check."""
    from portal_support import make_year_data

    root, plans = make_year_data(tmp_path_factory.mktemp("tahun"))
    return root, plans["2025-10"]


def test_a_batch_with_the_history_reports_target_changes_like_rbpipe_check_outputs(year):
    root, october = year
    inputs, outputs = root / "inputs", root / "outputs"
    month = inputs / "2025-10"
    changed = {(p.file, p.cell) for p in october.target_changes}
    assert changed, "the demo changes a target in October"
    files = sorted(p for p in month.glob("UNIT-*.xlsx"))
    checker = Checker(inputs, history=outputs / HISTORY_FILE, batch_max=16)
    try:
        jobs = [_Job(path=p, period=PERIOD, key=str(i)) for i, p in enumerate(files)]
        checked = checker._check(jobs)
        assert checker.batches[-1] == len(jobs)  # one GX run for every unit's file
        found = set()
        for job, outcome in checked:
            expected = check_files([job.path], period=PERIOD, registry_dir=inputs, outputs=outputs)
            assert _dicts(outcome.problems) == _dicts(expected.problems), job.path.name
            found |= {(p.file, p.cell) for p in outcome.problems if p.code == "RB-W102"}
            without = check_files([job.path], period=PERIOD, registry_dir=inputs)
            assert not [p for p in without.problems if p.code == "RB-W102"]
        assert found == changed
    finally:
        checker.stop()


def test_rbpipe_check_says_when_the_outputs_hold_no_history(year, tmp_path):
    from conftest import rbpipe

    root, october = year
    name = sorted({p.file for p in october.target_changes})[0]
    path = root / "inputs" / "2025-10" / name
    args = ["check", str(path), "--period", "2025-10", "--registry", str(root / "inputs")]
    with_history = rbpipe(*args, "--outputs", str(root / "outputs"), cwd=tmp_path)
    assert "RB-W102" in with_history.stdout and with_history.stderr == ""
    empty = rbpipe(*args, "--outputs", str(tmp_path / "kosong"), cwd=tmp_path)
    assert "RB-W102" not in empty.stdout
    assert "Riwayat rekap" in empty.stderr and "RB-W102" in empty.stderr
    assert not (tmp_path / "kosong").exists()  # only read, never created
    assert empty.network_attempts == [] and with_history.network_attempts == []
