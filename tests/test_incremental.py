"""Incremental months: a re-run takes what it can from the run cache and still writes exactly
the bytes a run from scratch writes on the same inputs.

The month is the demo's October after its September (so RB-W102 compares targets with the
history), run cold, then a unit re-sends its corrected workbook and the month is run again into
the same outputs (warm); a second outputs folder runs September and the changed October from
scratch. Every workbook of the month must be byte-identical between the two (SOURCE_DATE_EPOCH
fixed), the manifests equal but for what a run took from the cache and its timings, the history
the same. Then the cache is damaged in the ways a disk or a person can damage it: each run
still gives the cold bytes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from conftest import FEEDBACK_FOLDER, MANIFEST_FILE

from bench.resend import resend
from pipeline import cache as run_cache
from pipeline.demo import generate_month
from pipeline.registry import Period, load_registry
from pipeline.run import run_month

SEPTEMBER, OCTOBER = Period.parse("2025-09"), Period.parse("2025-10")
VOLATILE_INFO = ("stages", "gx_seconds", "gx_runs", "cache")


def _run(inputs: Path, outputs: Path, period: Period):
    return run_month(period, inputs=inputs, outputs=outputs, workers=1)


def _month_files(outputs: Path) -> dict[str, bytes]:
    """Every workbook and the HTML report of October (the manifest and the log hold timings)."""
    folder = outputs / str(OCTOBER)
    found = [*folder.rglob("*.xlsx"), *folder.rglob("*.html")]
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(found)}


def _manifest(outputs: Path) -> dict:
    manifest = json.loads((outputs / str(OCTOBER) / MANIFEST_FILE).read_text(encoding="utf-8"))
    for key in VOLATILE_INFO:
        manifest["info"].pop(key, None)
    return manifest


def _history(outputs: Path) -> dict[str, list]:
    """October's snapshot in the history, without the time it was recorded and the run info
    (which holds the timings)."""
    db = sqlite3.connect(outputs / "riwayat.sqlite")
    try:
        tables = ("submissions", "plans", "problems", "unit_metrics", "group_metrics")
        out = {
            t: db.execute(
                f"SELECT * FROM {t} WHERE period = ? ORDER BY position", (str(OCTOBER),)
            ).fetchall()
            for t in tables
        }
        out["runs"] = db.execute(
            "SELECT period, started, finished, plan_columns, plans FROM runs WHERE period = ?",
            (str(OCTOBER),),
        ).fetchall()
        return out
    finally:
        db.close()


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> dict:
    """Warm and cold outputs of the same changed October (see the module docstring)."""
    root = tmp_path_factory.mktemp("inkremental")
    inputs = root / "inputs"
    for period in (SEPTEMBER, OCTOBER):
        generate_month(inputs / str(period), period, load_registry(None), seed=11)
    warm, cold = root / "hangat", root / "dingin"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1764547200")
        _run(inputs, warm, SEPTEMBER)
        first = _run(inputs, warm, OCTOBER)
        before = _month_files(warm)
        changed = resend(inputs, 1)
        rerun = _run(inputs, warm, OCTOBER)
        _run(inputs, cold, SEPTEMBER)
        fresh = _run(inputs, cold, OCTOBER)
    return {
        "root": root,
        "inputs": inputs,
        "warm": warm,
        "cold": cold,
        "first": first,
        "rerun": rerun,
        "fresh": fresh,
        "before": before,
        "changed": changed,
    }


def test_a_rerun_after_a_resend_writes_the_bytes_of_a_cold_run(months):
    assert len(months["changed"]) == 1
    warm, cold = _month_files(months["warm"]), _month_files(months["cold"])
    assert len([n for n in warm if n.startswith(f"{FEEDBACK_FOLDER}/")]) > 10
    assert any(n.endswith(".html") for n in warm)
    assert set(warm) == set(cold)
    assert [name for name in warm if warm[name] != cold[name]] == []
    # The re-sent file changed the month: this is not a comparison of two identical runs.
    assert months["before"] != warm


def test_the_rerun_read_and_validated_only_the_resent_file(months):
    stats = months["rerun"].info.cache
    files = len(months["rerun"].submissions)
    accepted = sum(s.accepted for s in months["rerun"].submissions)
    unreadable = sum(not s.format for s in months["rerun"].submissions)
    assert stats["berkas_diperiksa_gx"] == 1
    assert stats["periksa_dipakai"] == accepted - 1
    assert stats["baca_dipakai"] >= files - unreadable - 1
    assert months["rerun"].info.gx_runs == 3  # one batch: each suite once, for that file
    # Feedback: the units whose view is unchanged keep their workbook, the others are rendered.
    kept, written = stats.get("umpan_balik_tetap", 0), stats["umpan_balik_ditulis"]
    feedback = [p for p in months["rerun"].outputs if p.parent.name == FEEDBACK_FOLDER]
    assert kept + written == len(feedback)
    assert written >= 1 and kept >= 1
    # Regency workbook: the unchanged units' consolidated rows written from their renderings.
    assert stats["rekap_dipakai"] >= 1 and stats["rekap_disimpan"] >= 1
    # History: the unchanged units' plan rows as stored, the re-sent unit's made again.
    assert stats["riwayat_dipakai"] >= 1 and stats["riwayat_disimpan"] >= 1
    # The cold runs had nothing to take.
    assert "baca_dipakai" not in months["first"].info.cache
    assert months["first"].info.cache["berkas_diperiksa_gx"] == accepted


def test_manifest_and_history_match_the_cold_run(months):
    assert _manifest(months["warm"]) == _manifest(months["cold"])
    assert _history(months["warm"]) == _history(months["cold"])


def test_target_changes_against_the_previous_month_survive_the_cache(months):
    warnings = [p for p in months["rerun"].problems if p.code == "RB-W102"]
    assert warnings
    assert warnings == [p for p in months["fresh"].problems if p.code == "RB-W102"]


def _rerun_is_cold(months, outputs_damage) -> dict:
    """Damage the warm outputs' cache with ``outputs_damage(cache folder)``, run October again
    and return the run's cache figures; its workbooks must be the cold run's."""
    warm = months["warm"]
    outputs_damage(warm / run_cache.CACHE_FOLDER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1764547200")
        again = _run(months["inputs"], warm, OCTOBER)
    warm_files, cold_files = _month_files(warm), _month_files(months["cold"])
    assert [n for n in warm_files if warm_files[n] != cold_files[n]] == []
    assert _manifest(warm) == _manifest(months["cold"])
    return again.info.cache


def test_a_torn_or_edited_cache_entry_is_never_used(months):
    def damage(folder: Path) -> None:
        index = folder / str(OCTOBER) / run_cache.ENTRIES_INDEX
        entries = [folder / f"{name}.json" for name in json.loads(index.read_text())]
        for path in entries[:3]:  # cut short
            path.write_bytes(path.read_bytes()[:-40])
        for path in entries[3:6]:  # a value changed, the header left as it was
            head, _, body = path.read_bytes().partition(b"\n")
            path.write_bytes(
                head + b"\n" + body.replace(b"RB-E", b"RB-X", 1).replace(b"1", b"2", 1)
            )
        entries[6].write_bytes(b"bukan json")

    stats = _rerun_is_cold(months, damage)
    damaged = stats.get("periksa_rusak", 0) + stats.get("baca_rusak", 0)
    assert damaged == 7


def test_a_torn_or_edited_rendering_of_regency_rows_is_never_used(months):
    def damage(folder: Path) -> None:
        index = folder / str(OCTOBER) / run_cache.ENTRIES_INDEX
        entries = [
            folder / f"{name}.json"
            for name in json.loads(index.read_text())
            if name.startswith(f"{run_cache.KIND_PLAN_ROWS}/")
        ]
        entries[0].write_bytes(entries[0].read_bytes()[:-40])
        head, _, body = entries[1].read_bytes().partition(b"\n")
        entries[1].write_bytes(head + b"\n" + body.replace(b"<c r=", b"<c q=", 1))

    stats = _rerun_is_cold(months, damage)
    assert stats.get("rekap_rusak", 0) == 2


def test_a_cache_of_other_code_or_removed_is_a_cold_run(months, monkeypatch):
    monkeypatch.setattr(run_cache, "code_version", lambda: "versi-lain")
    stats = _rerun_is_cold(months, lambda folder: None)
    assert "baca_dipakai" not in stats and "periksa_dipakai" not in stats
    monkeypatch.undo()

    import shutil

    stats = _rerun_is_cold(months, lambda folder: shutil.rmtree(folder))
    assert "periksa_dipakai" not in stats and stats.get("umpan_balik_tetap", 0) == 0


def test_a_feedback_workbook_changed_on_disk_is_rendered_again(months):
    folder = months["warm"] / str(OCTOBER) / FEEDBACK_FOLDER
    victim = sorted(folder.glob("*.xlsx"))[0]
    book = openpyxl.load_workbook(victim)
    book.active["A1"] = "diubah tangan"
    book.save(victim)

    stats = _rerun_is_cold(months, lambda cache_folder: None)
    assert stats["umpan_balik_ditulis"] >= 1


def test_cache_entries_are_json_and_only_the_latest_run_of_each_month_is_kept(months):
    folder = months["warm"] / run_cache.CACHE_FOLDER
    entries = list((folder / run_cache.KIND_PARSED).iterdir())
    entries += list((folder / run_cache.KIND_PROBLEMS).iterdir())
    for path in entries:
        head, _, body = path.read_bytes().partition(b"\n")
        assert json.loads(head)["format"] == run_cache.FORMAT
        json.loads(body)
    named = {
        name
        for index in folder.glob(f"*/{run_cache.ENTRIES_INDEX}")
        for name in json.loads(index.read_text(encoding="utf-8"))
    }
    assert {f"{p.parent.name}/{p.stem}" for p in entries} <= named
    # September and October: two months' entries, not the re-sent file's old version too.
    october = json.loads((folder / str(OCTOBER) / run_cache.ENTRIES_INDEX).read_text())
    files = len(months["rerun"].submissions)
    assert len([n for n in october if n.startswith(run_cache.KIND_PARSED)]) <= files


def test_a_run_without_the_cache_reads_everything_and_refreshes_it(months):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1764547200")
        again = run_month(
            OCTOBER, inputs=months["inputs"], outputs=months["warm"], workers=1, use_cache=False
        )
    stats = again.info.cache
    assert not any(key.endswith(("_dipakai", "_tetap")) for key in stats)
    assert stats["berkas_diperiksa_gx"] == sum(s.accepted for s in again.submissions)
    warm, cold = _month_files(months["warm"]), _month_files(months["cold"])
    assert [n for n in warm if warm[n] != cold[n]] == []


def test_plan_rows_hash_with_their_types():
    """A feedback workbook is kept only when its unit's rows hash the same: text "1.0" and the
    number 1.0 are written differently, so they must not hash alike."""
    import numpy as np
    import pandas as pd

    from pipeline.incremental import row_hashes

    text = pd.DataFrame({"isi": ["1.0", None, "a"], "n": [1.0, 2.0, 3.0]})
    number = pd.DataFrame({"isi": [1.0, np.nan, "a"], "n": [1.0, 2.0, 3.0]})
    assert row_hashes(text)[0] != row_hashes(number)[0]
    assert (row_hashes(text) == row_hashes(text.copy())).all()
