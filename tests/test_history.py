"""The run history: created and migrated by the tool, one snapshot per month, crash-safe."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import HISTORY_FILE

from pipeline import staged
from pipeline.errors import RunError
from pipeline.history import SCHEMA_VERSION, TREND_COLUMNS, History, trend_rows
from pipeline.metrics import compute_metrics
from pipeline.model import RunInfo, RunResult, Submission
from pipeline.problems import Problem
from pipeline.registry import Period, Registry, Settings, Unit, load_registry
from pipeline.schema import FIELDS, NUMBER_FIELDS, SHEETS

ROOT = Path(__file__).resolve().parent.parent
SEPTEMBER, OCTOBER, NOVEMBER = Period(2025, 9), Period(2025, 10), Period(2025, 11)
REGISTRY = Registry(
    units=tuple(Unit(kode=c, nama=f"Unit {c}", jenis="Dinas") for c in ("A", "B", "C")),
    references=load_registry().references,
    settings=Settings(batas_hari=5),
)


def staged_rows(period: Period, plans_per_unit: int, target_tw4: float = 4.0) -> pd.DataFrame:
    """A staged frame (docs/contracts.md) for units A and B, as ingest would hand it over."""
    records = []
    for unit in ("A", "B"):
        for i in range(plans_per_unit):
            kind = "umum" if i % 2 == 0 else "tematik"
            sheet = SHEETS[kind]
            row = {"_unit": unit, "_file": f"{unit}_{period}.xlsx", "_sheet": sheet.name}
            row |= {"_kind": kind, "_row": 5 + i}
            for f in FIELDS:
                carried = f.name in sheet.field_names
                row[f"_col_{f.name}"] = sheet.column_letter(f.name) if carried else None
                row[f.name] = math.nan if f.is_number else None
            for f in NUMBER_FIELDS:
                row[f"_raw_{f}"] = None
            row |= {"kode": f"{sheet.code_prefix}-{i:02d}", "satuan": "Dokumen"}
            row["sasaran" if kind == "umum" else "tema"] = (
                "Birokrasi yang Kapabel" if kind == "umum" else "Pengendalian Inflasi"
            )
            row |= {"target_tw1": 1.0, "target_tw2": 2.0, "target_tw3": 3.0}
            row |= {"target_tw4": target_tw4, "realisasi_tw1": 1.0, "realisasi_tw2": 2.0}
            row |= {"realisasi_tw3": 2.5 if i == 1 else 3.0, "data_dukung": "https://bukti"}
            row["_raw_anggaran"] = "Rp 1.2.3" if i == 0 else None
            records.append(row)
    return staged.conform(pd.DataFrame(records))


def month_run(period: Period, plans_per_unit: int = 3, target_tw4: float = 4.0) -> RunResult:
    rows = staged_rows(period, plans_per_unit, target_tw4)
    submissions = [
        Submission(
            path=Path(f"{u}_{period}.xlsx"),
            name=f"{u}_{period}.xlsx",
            sha256=f"{i}" * 64,
            size=1000 + i,
            modified=dt.datetime(period.year, period.month, 28, 9),
            unit=u,
            rows_read=plans_per_unit,
            rows_consolidated=plans_per_unit,
        )
        for i, u in enumerate(("A", "B"))
    ]
    problems = [
        Problem(code="RB-E103", severity="error", message="Bukan angka", unit="A",
                file=f"A_{period}.xlsx", sheet="RB Umum", row=5, column="Q", field="anggaran",
                value="Rp 1.2.3"),
        Problem(code="RB-W002", severity="warning", message="Identitas", unit="B",
                file=f"B_{period}.xlsx"),
    ]  # fmt: skip
    metrics = compute_metrics(
        rows, problems, submissions, period=period, registry=REGISTRY, catalogue={}
    )
    return RunResult(
        period=period,
        registry=REGISTRY,
        submissions=submissions,
        rows=rows,
        problems=problems,
        metrics=metrics,
        trend=pd.DataFrame(columns=list(TREND_COLUMNS)),
        started=dt.datetime(2025, 11, 6, 8),
        finished=dt.datetime(2025, 11, 6, 8, 1),
        info=RunInfo(
            versions={"rbpipe": "uji"},
            gx_seconds=1.5,
            inputs=str(Path("x")),
            stages={"ingest": {"wall_s": math.nan, "cpu_s": 0.25}},
        ),
    )


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {
            t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("runs", "submissions", "plans", "problems", "unit_metrics",
                      "group_metrics", "regency_metrics")
        }  # fmt: skip


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "outputs" / HISTORY_FILE


# --------------------------------------------------------------------------------------------
# Creation and migration
# --------------------------------------------------------------------------------------------


def test_a_new_history_is_created_with_the_current_schema(db_path):
    with History(db_path) as history:
        assert history.periods() == []
        assert history.previous_rows(OCTOBER) is None
        assert history.trend(OCTOBER).empty
        assert list(history.trend(OCTOBER).columns) == list(TREND_COLUMNS)
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_an_empty_file_is_migrated(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    with History(db_path) as history:
        history.record(month_run(OCTOBER))
    assert counts(db_path)["runs"] == 1


def test_opening_twice_does_not_migrate_twice(db_path):
    History(db_path).close()
    with History(db_path) as history:
        history.record(month_run(OCTOBER))
        assert history.periods() == ["2025-10"]


def test_a_schema_1_history_gains_the_e_mail_log_and_keeps_its_months(db_path):
    """A history written before ``rbpipe kirim`` existed (schema 1) is migrated on open."""
    from pipeline.history import MIGRATIONS

    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path, isolation_level=None) as db:
        for statement in dict(MIGRATIONS)[1]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
    with History(db_path) as history:
        history.record(month_run(OCTOBER))
    with History(db_path) as history:
        assert history.periods() == ["2025-10"]
        key = {
            "period": "2025-10",
            "unit": "A",
            "kind": "umpan_balik",
            "recipients": "a@contoh.id",
            "content_sha256": "ab" * 32,
        }
        assert not history.was_sent(**key)
        history.record_message(**key, subject="s", status="gagal", error="550", at="2025-11-06")
        assert not history.was_sent(**key)  # a refused message is not "sent"
        history.record_message(**key, subject="s", status="terkirim", at="2025-11-06")
        assert history.was_sent(**key)
        assert not history.was_sent(**(key | {"content_sha256": "cd" * 32}))
        history.record(month_run(OCTOBER))  # recording the month again keeps the log
        assert [m["status"] for m in history.messages("2025-10")] == ["gagal", "terkirim"]
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_file_that_is_not_a_database_stops_with_advice(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"ini bukan basis data SQLite sama sekali" * 100)
    with pytest.raises(RunError, match="rusak atau bukan basis data rbpipe.*ganti nama"):
        History(db_path)


def test_a_history_from_a_newer_rbpipe_is_refused(db_path):
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RunError, match="versi rbpipe yang lebih baru"):
        History(db_path)


# --------------------------------------------------------------------------------------------
# Recording, trend, previous rows
# --------------------------------------------------------------------------------------------


def test_two_months_recorded_both_show_in_the_trend(db_path):
    september, october = month_run(SEPTEMBER), month_run(OCTOBER, plans_per_unit=4)
    with History(db_path) as history:
        history.record(september)
        history.record(october)
        trend = history.trend(OCTOBER)
        assert history.trend(SEPTEMBER)["period"].unique().tolist() == ["2025-09"]
    assert list(trend.columns) == list(TREND_COLUMNS)
    assert trend[["period", "kode"]].values.tolist() == [
        [p, k] for p in ("2025-09", "2025-10") for k in ("A", "B", "C", "KABUPATEN")
    ]
    # What was recorded is what the month computed, value for value.
    expected = pd.concat(
        [trend_rows(september.metrics, SEPTEMBER), trend_rows(october.metrics, OCTOBER)],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(trend, expected)
    kab = trend[(trend["kode"] == "KABUPATEN") & (trend["period"] == "2025-10")].iloc[0]
    assert kab["submitted"] == 2 and kab["reporting_rate"] == pytest.approx(2 / 3)
    assert kab["data_quality"] == pytest.approx(7 / 8)  # one row of 8 has an error
    c = trend[(trend["kode"] == "C") & (trend["period"] == "2025-10")].iloc[0]
    assert c["submitted"] == 0 and pd.isna(c["on_time"]) and math.isnan(c["completion_rate"])


def test_re_recording_a_month_replaces_it(db_path):
    with History(db_path) as history:
        history.record(month_run(SEPTEMBER))
        history.record(month_run(OCTOBER, plans_per_unit=3))
        before = counts(db_path)
        history.record(month_run(OCTOBER, plans_per_unit=3))
        assert counts(db_path) == before
        history.record(month_run(OCTOBER, plans_per_unit=5))
        trend = history.trend(OCTOBER)
    after = counts(db_path)
    assert after["runs"] == 2 and after["regency_metrics"] == 2
    assert after["plans"] == 2 * 3 + 2 * 5
    assert len(trend) == 8 and not trend.duplicated(["period", "kode"]).any()


def test_previous_rows_are_the_latest_earlier_months_staged_rows(db_path):
    september = month_run(SEPTEMBER)
    with History(db_path) as history:
        history.record(september)
        history.record(month_run(NOVEMBER, target_tw4=9.0))
        previous = history.previous_rows(OCTOBER)
        assert history.previous_rows(SEPTEMBER) is None
        assert history.previous_rows(Period(2025, 12))["target_tw4"].unique().tolist() == [9.0]
        # targets are set once a year: January compares with nothing from December
        assert history.previous_rows(Period(2026, 1)) is None
    pd.testing.assert_frame_equal(previous, september.rows)


@pytest.fixture
def b_skipped_october(db_path) -> Path:
    """A history where units A and B sent September (target 5) and only A October (6)."""
    october = month_run(OCTOBER, target_tw4=6.0)
    october.rows = october.rows[october.rows["_unit"] == "A"].reset_index(drop=True)
    with History(db_path) as history:
        history.record(month_run(SEPTEMBER, target_tw4=5.0))
        history.record(october)
    return db_path


def test_a_unit_that_skipped_a_month_is_compared_with_its_last_accepted_month(b_skipped_october):
    with History(b_skipped_october) as history:
        previous = history.previous_rows(NOVEMBER)
    by_unit = previous.groupby("_unit")["target_tw4"].unique().map(list).to_dict()
    assert by_unit == {"A": [6.0], "B": [5.0]}


def test_previous_rows_of_some_units_are_those_units_rows_of_the_whole_frame(b_skipped_october):
    with History(b_skipped_october) as history:
        whole = history.previous_rows(NOVEMBER)
        for units in (["B"], ["A"], {"A", "B"}, ["B", "A", "Z"]):
            some = history.previous_rows(NOVEMBER, units)
            expected = whole[whole["_unit"].isin(list(units))].reset_index(drop=True)
            pd.testing.assert_frame_equal(
                some.sort_values(["_unit", "_row"]).reset_index(drop=True),
                expected.sort_values(["_unit", "_row"]).reset_index(drop=True),
            )
        assert history.previous_rows(NOVEMBER, ["Z"]) is None
        assert history.previous_rows(NOVEMBER, []) is None
        assert history.previous_rows(SEPTEMBER, ["A"]) is None


def test_everything_of_the_month_is_kept_for_audits(db_path):
    with History(db_path) as history:
        history.record(month_run(OCTOBER))
    with sqlite3.connect(db_path) as db:
        sub = db.execute("SELECT name, sha256, unit, status, rows_read FROM submissions").fetchall()
        assert sub[0] == ("A_2025-10.xlsx", "0" * 64, "A", "accepted", 3)
        problem = db.execute("SELECT code, row, col, value, message FROM problems").fetchone()
        assert problem == ("RB-E103", 5, "Q", "Rp 1.2.3", "Bukan angka")
        raw = db.execute(
            "SELECT json_extract(data, '$._raw_anggaran') FROM plans WHERE unit='A' AND row=5"
        ).fetchone()
        assert raw == ("Rp 1.2.3",)
        info = json.loads(db.execute("SELECT info FROM runs").fetchone()[0])
        assert info == {
            "versions": {"rbpipe": "uji"},
            "suite_versions": {},
            "gx_seconds": 1.5,
            "inputs": "x",
            "stages": {"ingest": {"wall_s": None, "cpu_s": 0.25}},
        }
        groups = db.execute("SELECT kind, grp FROM group_metrics ORDER BY position").fetchall()
        assert ("tematik", "Pengendalian Inflasi") in groups


def test_a_failing_record_leaves_the_previous_snapshot(db_path):
    broken = month_run(OCTOBER, plans_per_unit=5)
    broken.metrics.regency = None  # fails after plans and problems were written
    with History(db_path) as history:
        history.record(month_run(OCTOBER))
        before = counts(db_path)
        with pytest.raises(AttributeError):
            history.record(broken)
        assert counts(db_path) == before
        history.record(month_run(NOVEMBER))  # the connection is still usable
    assert counts(db_path)["runs"] == 2


# --------------------------------------------------------------------------------------------
# Crash safety
# --------------------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import itertools, sys
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from test_history import History, RunInfo, month_run, OCTOBER, NOVEMBER
    runs = {{p: month_run(p, plans_per_unit=800) for p in (OCTOBER, NOVEMBER)}}
    history = History({path!r})
    for version in itertools.count():
        run = runs[OCTOBER if version % 2 else NOVEMBER]
        run.rows["kendala"] = f"v{{version}}"
        run.info = RunInfo(inputs=str(version))
        history.record(run)
        print(version, flush=True)
    """
)


def assert_consistent(path: Path) -> None:
    """Every recorded month is whole: its plans all belong to the version its run row names."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = db.execute("SELECT period, plans, info FROM runs").fetchall()
        for period, n_plans, info in runs:
            version = json.loads(info)["inputs"]
            kendala = db.execute(
                "SELECT json_extract(data, '$.kendala'), COUNT(*) FROM plans WHERE period = ? "
                "GROUP BY 1",
                (period,),
            ).fetchall()
            assert kendala == [(f"v{version}", n_plans)]
            for table, expected in (("unit_metrics", 3), ("regency_metrics", 1),
                                    ("submissions", 2), ("problems", 2)):  # fmt: skip
                n = db.execute(f"SELECT COUNT(*) FROM {table} WHERE period = ?", (period,))
                assert n.fetchone()[0] == expected, table
        recorded = {p for p, _, _ in runs}
        for table in ("plans", "unit_metrics", "regency_metrics", "submissions", "problems"):
            found = {p for (p,) in db.execute(f"SELECT DISTINCT period FROM {table}")}
            assert found <= recorded, table


@pytest.mark.slow
def test_a_writer_killed_mid_record_leaves_a_consistent_history(db_path, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(
        WRITER.format(root=str(ROOT), tests=str(ROOT / "tests"), path=str(db_path)),
        encoding="utf-8",
    )
    journal = db_path.with_name(db_path.name + "-journal")
    interrupted = 0
    for attempt in range(8):
        writer = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
        )
        try:
            # Wait until it has committed at least one record in this attempt, then let it
            # get into the next one before killing it.
            assert writer.stdout.readline().strip().isdigit()
            time.sleep(0.05 + 0.04 * attempt)
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait()
            writer.stdout.close()
        interrupted += journal.exists()  # a hot journal: the kill landed inside a transaction
        with History(db_path) as history:  # opening rolls an interrupted write back
            assert set(history.periods()) <= {"2025-10", "2025-11"}
            assert len(history.trend(NOVEMBER)) in (4, 8)
        assert_consistent(db_path)
        if interrupted >= 2:
            break
    assert interrupted >= 1, "no kill landed inside a write transaction"
    with History(db_path) as history:
        history.record(month_run(OCTOBER))
        assert history.periods() == ["2025-10", "2025-11"]


def test_trend_with_shows_this_month_before_it_is_recorded(db_path):
    september, old_october = month_run(SEPTEMBER), month_run(OCTOBER, plans_per_unit=2)
    october = month_run(OCTOBER, plans_per_unit=6)
    with History(db_path) as history:
        history.record(september)
        history.record(old_october)
        history.record(month_run(NOVEMBER))
        shown = history.trend_with(OCTOBER, october.metrics)
        history.record(october)
        pd.testing.assert_frame_equal(shown, history.trend(OCTOBER))
    assert shown["period"].unique().tolist() == ["2025-09", "2025-10"]
    with History(db_path.with_name("baru.sqlite")) as fresh:
        pd.testing.assert_frame_equal(
            fresh.trend_with(OCTOBER, october.metrics), trend_rows(october.metrics, OCTOBER)
        )


def test_the_plans_frame_with_metric_columns_comes_back_whole(db_path):
    september = month_run(SEPTEMBER)
    september.rows = september.metrics.plans  # what run.py records
    with History(db_path) as history:
        history.record(september)
        previous = history.previous_rows(OCTOBER)
    assert list(previous.columns) == list(september.rows.columns)
    pd.testing.assert_series_equal(previous["capaian_pct"], september.rows["capaian_pct"])
    assert previous["status"].fillna("-").tolist() == september.rows["status"].fillna("-").tolist()
    assert previous["_excl_status"].tolist() == september.rows["_excl_status"].tolist()


def test_the_arrival_log_reader_is_reachable_from_history():
    from pipeline import deliveries, history

    assert history.read_arrivals is deliveries.read_arrivals
