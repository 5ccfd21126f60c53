"""One writer at a time on an outputs folder."""

import subprocess
import sys
import time

import pytest

from pipeline.errors import RunError
from pipeline.locking import OutputLock

HOLD = """
import sys, time
from pipeline.locking import OutputLock
with OutputLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    print("releasing", flush=True)
"""


def _holder(folder, seconds):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_is_refused_with_an_indonesian_message(tmp_path):
    proc = _holder(tmp_path, 30)
    try:
        refused = pytest.raises(
            RunError, match=r"sedang dipakai oleh rekap lain \(PID \d+\).*--tunggu"
        )
        with refused, OutputLock(tmp_path):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_waiting_writer_gets_the_lock_when_the_first_finishes(tmp_path, capsys):
    proc = _holder(tmp_path, 1)
    told: list[str] = []
    try:
        with OutputLock(tmp_path, wait=True, poll=0.05, on_wait=told.append):
            # we only got in after the holder let go
            assert proc.stdout.readline().strip() == "releasing"
    finally:
        proc.wait()
    assert told == [f"Menunggu rekap lain (PID {proc.pid}) selesai ..."]
    assert capsys.readouterr() == ("", "")  # the library itself prints nothing


def test_lock_of_a_killed_run_is_released(tmp_path):
    proc = _holder(tmp_path, 60)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            with OutputLock(tmp_path):
                break
        except RunError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
