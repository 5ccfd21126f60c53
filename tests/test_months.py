"""Two consecutive months through the real CLI (issue 5): the trend shows both, targets changed
since last month are flagged exactly, and re-running a month replaces its snapshot."""

from __future__ import annotations

import json
import sqlite3

import openpyxl
import pytest
from conftest import HISTORY_FILE, MANIFEST_FILE, rbpipe, regency_workbook_name

pytestmark = pytest.mark.slow
SEED = 17


@pytest.fixture(scope="module")
def two_months(tmp_path_factory):
    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    base = tmp_path_factory.mktemp("months")
    inputs, outputs = base / "inputs", base / "outputs"
    registry = load_registry()
    plans = {
        p: generate_month(inputs / p, Period.parse(p), registry, seed=SEED)
        for p in ("2025-09", "2025-10")
    }
    runs = [
        rbpipe("run", "--period", p, "--inputs", str(inputs), "--outputs", str(outputs), cwd=base)
        for p in ("2025-09", "2025-10", "2025-09")  # the last one: September again
    ]
    return {"plans": plans, "runs": runs, "outputs": outputs}


def _manifest(outputs, period):
    return json.loads((outputs / period / MANIFEST_FILE).read_text(encoding="utf-8"))


def test_all_three_runs_complete(two_months):
    for run in two_months["runs"]:
        assert run.returncode == 0, run.stderr[-2000:]


def test_the_second_months_trend_shows_both_months(two_months):
    book = openpyxl.load_workbook(
        two_months["outputs"] / "2025-10" / regency_workbook_name("2025-10")
    )
    texts = {str(c) for row in book["Tren"].iter_rows(values_only=True) for c in row if c}
    assert any("September 2025" in t or "2025-09" in t for t in texts)
    assert any("Oktober 2025" in t or "2025-10" in t for t in texts)


def test_targets_changed_since_last_month_are_flagged_exactly(two_months):
    october = two_months["plans"]["2025-10"]
    expected = {(p.file, p.cell) for p in october.target_changes}
    assert expected, "the demo plants at least one target change"
    reported = {
        (p["file"], p["cell"])
        for p in _manifest(two_months["outputs"], "2025-10")["problems"]
        if p["code"] == "RB-W102"
    }
    assert reported == expected


def test_the_first_month_has_no_target_change_warnings(two_months):
    problems = _manifest(two_months["outputs"], "2025-09")["problems"]
    assert not [p for p in problems if p["code"] == "RB-W102"]


def test_rerunning_a_month_replaces_its_snapshot(two_months):
    db = sqlite3.connect(two_months["outputs"] / HISTORY_FILE)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables
    finally:
        db.close()
    from pipeline.history import History
    from pipeline.registry import Period

    with History(two_months["outputs"] / HISTORY_FILE) as history:
        trend = history.trend(Period.parse("2025-10"))
        assert sorted(set(trend["period"])) == ["2025-09", "2025-10"]
        assert len(trend) == 2 * 52  # 51 units + the regency row, once per month
        assert history.periods() == ["2025-09", "2025-10"]
