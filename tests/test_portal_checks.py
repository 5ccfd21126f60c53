"""The portal's check is the CLI's check: the same problems whether the suites run in the
server's GX worker processes or in-process, and whether an upload is checked alone or in a
batch with others."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from pipeline.ingest import ingest_files
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
