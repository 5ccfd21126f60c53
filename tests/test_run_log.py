"""A run that fails mid-way keeps its log, naming the error; the previous outputs stay whole."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import LOG_FILE, MANIFEST_FILE, regency_workbook_name

from pipeline.demo import generate_month
from pipeline.errors import RunError
from pipeline.problems import EXPECTATIONS_DIR
from pipeline.registry import Period, load_registry
from pipeline.run import run_month

PERIOD = Period.parse("2025-10")


@pytest.fixture
def month(tmp_path):
    inputs = tmp_path / "inputs"
    generate_month(inputs / str(PERIOD), PERIOD, load_registry(), seed=5, n_units=4, n_plans=3)
    return inputs, tmp_path / "outputs"


def _broken_rules(tmp_path):
    """The default suites, with one expectation type misspelt in rb_umum.json."""
    folder = tmp_path / "aturan"
    shutil.copytree(EXPECTATIONS_DIR, folder)
    path = folder / "rb_umum.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    suite["expectations"][0]["type"] = "expect_column_values_to_be_tidak_ada"
    path.write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    return folder


def test_a_run_failing_on_a_broken_suite_leaves_a_log_naming_the_error(month, tmp_path):
    inputs, outputs = month
    run_month(PERIOD, inputs=inputs, outputs=outputs, workers=1)
    folder = outputs / str(PERIOD)
    workbook = (folder / regency_workbook_name(PERIOD)).read_bytes()
    manifest = (folder / MANIFEST_FILE).read_bytes()
    assert "rekap 2025-10 selesai" in (folder / LOG_FILE).read_text(encoding="utf-8")

    with pytest.raises(RunError) as failure:
        run_month(
            PERIOD,
            inputs=inputs,
            outputs=outputs,
            workers=1,
            expectations_dir=_broken_rules(tmp_path),
        )

    log = (folder / LOG_FILE).read_text(encoding="utf-8")
    assert "tahap ingest selesai" in log  # it failed mid-way, after reading the files
    assert "rekap gagal" in log
    assert str(failure.value) in log
    assert "expect_column_values_to_be_tidak_ada" in log
    assert "berasal dari rekap sebelumnya" in log
    assert "rekap 2025-10 selesai" not in log  # the log is this run's, not the previous one's
    # The failed run changed nothing else, and left no temporary file.
    assert (folder / regency_workbook_name(PERIOD)).read_bytes() == workbook
    assert (folder / MANIFEST_FILE).read_bytes() == manifest
    assert [p.name for p in folder.rglob(".*")] == []
