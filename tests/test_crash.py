"""A run killed at any moment (SIGKILL) leaves the previous outputs and history intact and
readable, and the next run succeeds (issue 7) — taking from the run cache only what is sound
(issue 17): its workbooks are the first run's bytes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from conftest import HISTORY_FILE, MANIFEST_FILE, RBPIPE, guarded_env, rbpipe, regency_workbook_name

PERIOD = "2025-10"
KILLS = 10

pytestmark = pytest.mark.slow


def _outputs_intact(out: Path) -> None:
    """Every output is whole: workbooks are valid zips, the manifest parses and lists files that
    exist, the history database passes its integrity check and holds one complete month."""
    month = out / PERIOD
    manifest = json.loads((month / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["period"] == PERIOD
    books = sorted(month.rglob("*.xlsx"))
    assert any(p.name == regency_workbook_name(month.name) for p in books)
    for path in books:
        if path.name.startswith("."):
            continue  # a killed writer's temporary file: never read, cleaned by the next run
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None, path.name
            assert "xl/workbook.xml" in z.namelist()
    db = sqlite3.connect(out / HISTORY_FILE)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    from pipeline.history import History
    from pipeline.registry import Period

    with History(out / HISTORY_FILE) as history:
        trend = history.trend(Period.parse(PERIOD))
    assert sorted(set(trend["period"])) == [PERIOD]
    assert len(trend) == 52  # 51 units + the regency row: one complete snapshot


def _digest(out: Path) -> dict[str, bytes]:
    month = out / PERIOD
    return {
        str(p.relative_to(month)): p.read_bytes()
        for p in sorted(month.rglob("*.xlsx"))
        if not p.name.startswith(".")
    }


def _kill_at(args: list[str], env: dict[str, str], cwd: Path, moment: float) -> bool:
    """Start a run without the cache and SIGKILL it with its workers after `moment` seconds;
    True when the kill landed while it was still working."""
    # Without the run cache, each killed run does all the work of the first (whose length the
    # moments are taken from) and rewrites the cache as it goes: kills land in cache writes too,
    # and the final run must still take only sound entries from it.
    proc = subprocess.Popen(
        [str(RBPIPE), *args, "--tanpa-cache"],
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(moment)
    running = proc.poll() is None
    # The run and its ingest workers; a run that already ended leaves no group to kill.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return running


def test_killed_runs_leave_previous_outputs_intact_and_the_next_run_succeeds(tmp_path):
    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    inputs, out = tmp_path / "inputs", tmp_path / "outputs"
    generate_month(inputs / PERIOD, Period.parse(PERIOD), load_registry(), seed=3)
    args = ["run", "--period", PERIOD, "--inputs", str(inputs), "--outputs", str(out)]

    start = time.monotonic()
    first = rbpipe(*args, cwd=tmp_path)
    duration = time.monotonic() - start
    assert first.returncode == 0, first.stderr
    _outputs_intact(out)
    baseline = _digest(out)

    env, _ = guarded_env(tmp_path)
    moments = [duration * (i + 0.5) / KILLS for i in range(KILLS)]
    killed_while_running = 0
    for moment in moments:
        # A run that ended before its moment (this one ran faster than the first, on a machine
        # whose load changed) is tried again with the moment halved: every kill lands while a
        # run is working, whatever the machine's pace, and the moments stay spread over the run.
        for _attempt in range(4):
            if _kill_at(args, env, tmp_path, moment):
                killed_while_running += 1
                break
            moment /= 2
        _outputs_intact(out)
    assert killed_while_running == KILLS, "kills must land while the run is working"

    final = rbpipe(*args, cwd=tmp_path)
    assert final.returncode == 0, final.stderr
    _outputs_intact(out)
    assert _digest(out) == baseline  # same inputs, same run time: the same workbooks
    leftovers = [p.name for p in (out / PERIOD).rglob(".*") if p.is_file()]
    assert leftovers == [], "temporary files of killed runs are cleaned by the next run"
