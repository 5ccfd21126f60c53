"""Deadline day, the short version of ``make bench``'s (bench/deadline.py, issue 15): 51 units
signed in at once upload and upload again while the analyst and leadership poll the board and
the month is run in the middle and at the end. No answer other than 4xx may be an error, and no
acknowledged upload may be lost (whole in the month folder, in the upload list, in the last
run's manifest). Timings are reported by the bench, never asserted here."""

from __future__ import annotations

import pytest
from conftest import guarded_env

from bench.deadline import QUICK, format_day, run_day

pytestmark = pytest.mark.slow


def test_deadline_day_loses_nothing_and_answers_no_5xx(tmp_path):
    env, net_log = guarded_env(tmp_path)
    result = run_day(QUICK, tmp_path, echo=lambda line: None, env=env)
    print("\n".join(format_day(result)))
    assert result["units"] == 51
    assert result["uploads_acked"] == 51 * QUICK.uploads
    assert result["non_4xx_errors"] == 0, result["errors"]
    assert result["lost_uploads"] == 0, result["lost"]
    assert [r["status"] for r in result["runs"]] == ["selesai", "selesai"]
    assert not result["server_log_traceback"]
    assert not net_log.exists() or net_log.read_text() == ""
