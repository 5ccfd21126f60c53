"""The bounded worker pool: one outcome per item in input order, and a crash, hang or memory
blow-up in one task costs that item only.

The task functions live at module level so the workers (forkserver) can import them.
"""

import ctypes
import os
import signal
import time
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest

from pipeline.ingest.limits import Limits
from pipeline.ingest.pool import Outcome, run_bounded
from pipeline.ingest.reader import read_workbook
from pipeline.ingest.workbook import ReadFailure

FIXTURES = Path(__file__).parent / "fixtures" / "reader"
FAST = Limits(seconds_per_file=20)
_spec = spec_from_file_location("reader_hostile", FIXTURES / "hostile.py")
hostile = module_from_spec(_spec)
_spec.loader.exec_module(hostile)


def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def misbehave(how: str):
    """A task that fails in one of the ways a reader can: ``ok`` returns normally."""
    if how == "abort":
        os.abort()
    if how == "segfault":
        ctypes.string_at(0)
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "exit":
        os._exit(3)
    if how == "hang":
        time.sleep(60)
    if how == "memory":
        return len(bytearray(4 << 30))
    if how == "read-failure":
        raise ReadFailure("RB-E002", "Berkas dilindungi kata sandi.")
    if how == "bug":
        raise KeyError("xl/workbook.xml")
    if how == "unpicklable":
        return lambda: None
    return how


def calamine_without_checks(path: str) -> int:
    """Read a file with calamine directly, skipping the reader's checks."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    return sum(len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names)


def test_outcomes_come_back_in_input_order_whatever_finishes_first():
    delays = [0.3, 0.0, 0.2, 0.0, 0.1, 0.0]
    outcomes = run_bounded(pid_after, delays, workers=2, limits=FAST)
    assert [o.item for o in outcomes] == delays
    assert all(o.ok and isinstance(o.value, int) for o in outcomes)


def test_workers_are_reused_not_started_per_item():
    outcomes = run_bounded(pid_after, [0.0] * 30, workers=2, limits=FAST)
    assert len({o.value for o in outcomes}) <= 2
    assert os.getpid() not in {o.value for o in outcomes}


def test_one_worker_still_isolates_the_parent():
    outcomes = run_bounded(misbehave, ["abort", "ok"], workers=1, limits=FAST)
    assert outcomes[0].failure.code == "RB-E007"
    assert outcomes[1].value == "ok"


@pytest.mark.parametrize("how", ["abort", "segfault", "sigkill", "exit"])
def test_a_dying_worker_costs_its_item_only(how):
    items = ["ok", how, "ok", how, "ok"]
    outcomes = run_bounded(misbehave, items, workers=2, limits=FAST)
    assert [o.value for o in outcomes] == ["ok", None, "ok", None, "ok"]
    for dead in (outcomes[1], outcomes[3]):
        assert dead.failure.code == "RB-E007"
        assert "berhenti mendadak" in dead.failure.message
        assert dead.peak_rss_bytes is None


def test_a_hanging_task_is_stopped_at_the_time_limit():
    limits = Limits(seconds_per_file=1)
    started = time.monotonic()
    outcomes = run_bounded(misbehave, ["hang", "ok", "ok"], workers=1, limits=limits)
    assert time.monotonic() - started < 30
    assert outcomes[0].failure.code == "RB-E007"
    assert "batas waktu" in outcomes[0].failure.message and "1 detik" in outcomes[0].failure.message
    assert [o.value for o in outcomes[1:]] == ["ok", "ok"]


def test_a_memory_blow_up_fails_inside_the_worker_and_is_named():
    limits = Limits(memory_bytes_per_worker=256 << 20, seconds_per_file=20)
    outcomes = run_bounded(misbehave, ["memory", "ok"], workers=1, limits=limits)
    assert outcomes[0].failure.code == "RB-E007"
    assert "memori" in outcomes[0].failure.message
    assert outcomes[1].value == "ok"


def test_exceptions_become_failures_a_read_failure_passes_through():
    items = ["read-failure", "bug", "unpicklable", "ok"]
    outcomes = run_bounded(misbehave, items, workers=2, limits=FAST)
    assert (outcomes[0].failure.code, outcomes[0].failure.message) == (
        "RB-E002",
        "Berkas dilindungi kata sandi.",
    )
    assert outcomes[1].failure.code == "RB-E003" and "KeyError" in outcomes[1].failure.message
    assert outcomes[2].failure.code == "RB-E003"
    assert outcomes[3].value == "ok"


def test_calamines_own_abort_on_a_far_cell_is_contained(tmp_path):
    far = hostile.far_cell(tmp_path / "jauh.xlsx")
    items = [str(far), str(FIXTURES / "sample.lo.xlsx")]
    outcomes = run_bounded(calamine_without_checks, items, workers=1, limits=FAST)
    assert outcomes[0].failure.code == "RB-E007"
    assert "memory allocation" in outcomes[0].failure.message
    assert outcomes[1].value == 10  # rows of its three sheets


def test_progress_callback_sees_every_item_once():
    seen: list[Outcome] = []
    outcomes = run_bounded(
        misbehave, ["a", "exit", "b"], workers=2, limits=FAST, on_done=seen.append
    )
    assert sorted(o.item for o in seen) == ["a", "b", "exit"]
    assert len(outcomes) == 3


def test_nothing_to_do_and_more_workers_than_items():
    assert run_bounded(misbehave, [], workers=4, limits=FAST) == []
    assert [o.value for o in run_bounded(misbehave, ["x"], workers=8, limits=FAST)] == ["x"]


def test_results_do_not_depend_on_the_number_of_workers():
    files = [FIXTURES / n for n in ("sample.xlsx", "sample.xls", "sample.ods", "sample.lo.xlsx")]
    one = run_bounded(read_workbook, files * 2, workers=1, limits=FAST)
    two = run_bounded(read_workbook, files * 2, workers=2, limits=FAST)
    assert [o.value for o in one] == [o.value for o in two]
    assert all(o.ok for o in one)


def test_hostile_files_are_refused_in_the_pool_with_small_workers_and_the_next_file_read(tmp_path):
    hostile_files = {
        hostile.zip_bomb(tmp_path / "bom.xlsx"): "zip bomb",
        hostile.billion_laughs(tmp_path / "lol-sst.xlsx", "sharedStrings"): "billion laughs",
        hostile.billion_laughs(tmp_path / "lol-wb.xlsx", "workbook"): "billion laughs",
        hostile.far_cell(tmp_path / "jauh.xlsx"): "batas 100.000 baris",
        hostile.million_rows(tmp_path / "sejuta.xlsx"): "batas 100.000 baris",
        hostile.long_text(tmp_path / "panjang.xlsx", 40_000): "32.767 karakter",
    }
    normal = FIXTURES / "sample.lo.xlsx"
    items = [path for bad in hostile_files for path in (bad, normal)]
    limits = Limits()
    outcomes = run_bounded(read_workbook, items, workers=2, limits=limits)
    for outcome in outcomes:
        # Every answer came from a live worker whose peak stayed far below its cap.
        assert outcome.peak_rss_bytes is not None
        assert outcome.peak_rss_bytes < min(limits.memory_bytes_per_worker, 300 << 20)
        if outcome.item == normal:
            assert outcome.ok and outcome.value.sheet("RB Umum").value(5, 1) == "U-01"
        else:
            assert outcome.failure.code == "RB-E007"
            assert hostile_files[outcome.item] in outcome.failure.message


def test_log_folders_of_killed_pools_are_removed_and_live_ones_kept(tmp_path, monkeypatch):
    import fcntl
    import tempfile

    from pipeline.ingest import pool

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # A pool that was killed: its lock file exists, nobody holds it.
    orphan = tmp_path / f"{pool.LOG_DIR_PREFIX}mati"
    orphan.mkdir()
    (orphan / pool.LOCK_NAME).write_text("")
    (orphan / "worker-1.log").write_text("")
    # A live pool (here: this process holds the lock).
    live = tmp_path / f"{pool.LOG_DIR_PREFIX}hidup"
    live.mkdir()
    held = os.open(live / pool.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)
    # Folders without a lock file: an old one goes, a fresh one (being made) stays.
    old, fresh = tmp_path / f"{pool.LOG_DIR_PREFIX}lama", tmp_path / f"{pool.LOG_DIR_PREFIX}baru"
    old.mkdir()
    fresh.mkdir()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    try:
        outcomes = pool.run_bounded(misbehave, ["ok"], workers=1, limits=FAST)
    finally:
        os.close(held)
    assert [o.value for o in outcomes] == ["ok"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, fresh.name])
