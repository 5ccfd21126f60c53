"""A unit that splits its report by sheet kind loses nothing (issue 12), through the real CLI.

DINKES sends RB Umum in one file (A) and RB Tematik in a later one (B), both the official
template with the other sheet left empty; B reuses one of A's codes, so the report holds a
duplicate across its two files (RB-E114). The month is run; then DINKES sends a correction of
RB Umum alone (C: a workbook without the RB Tematik sheet, after the deadline) and the month is
run again into the same outputs (the run cache warm) and into fresh ones (cold). C replaces A's
plans and keeps B's; the unit stays on time (its first file decides); the manifest, the feedback
and ``rbpipe check`` say which file each kind came from.

DINSOS splits its report over two workbooks that each hold a single action-plan sheet: neither
file's missing sheet is reported (RB-W004), since the other file supplies it.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
from pathlib import Path

import openpyxl
import pytest
from conftest import FEEDBACK_FOLDER, MANIFEST_FILE, rbpipe, snapshot
from producers.content import TEMATIK, UMUM

from pipeline import schema
from pipeline.registry import Period, load_registry
from pipeline.template import template_bytes

PERIOD = Period(2025, 10)  # deadline: 5 November 2025
REGISTRY = load_registry()
A, B, C = "DINKES_RB_Umum.xlsx", "DINKES_RB_Tematik.xlsx", "DINKES_RB_Umum_revisi.xlsx"
D1, D2 = "DINSOS umum.xlsx", "DINSOS tematik.xlsx"

UMUM_A = [dict(p) for p in UMUM] + [dict(UMUM[0], kode="U-03", indikator="Jumlah SOP baru")]
TEMATIK_B = [dict(TEMATIK[0]), dict(TEMATIK[1], kode="U-02")]  # U-02: also in A (and in C)
UMUM_C = [dict(p) for p in UMUM_A] + [dict(UMUM[1], kode="U-04", indikator="Inovasi kedua")]
UMUM_C[0]["realisasi_tw3"] = 75.0  # the correction: A has 70
VOLATILE_INFO = ("stages", "gx_seconds", "gx_runs", "cache")


def _workbook(
    path: Path, unit: str, plans: dict, when: dt.datetime, *, without: str | None = None
) -> None:
    """The unit's template holding ``plans``, modified at ``when``; ``without``: a kind whose
    sheet is deleted (with openpyxl, as an operator deleting a sheet in Excel)."""
    data = template_bytes(REGISTRY.unit(unit), PERIOD, REGISTRY, plans=plans)
    if without:
        wb = openpyxl.load_workbook(io.BytesIO(data))
        del wb[schema.SHEETS[without].name]
        wb.save(path)
    else:
        path.write_bytes(data)
    os.utime(path, (when.timestamp(), when.timestamp()))


def _manifest(outputs: Path) -> dict:
    return json.loads((outputs / str(PERIOD) / MANIFEST_FILE).read_text(encoding="utf-8"))


def _files(manifest: dict) -> dict[str, dict]:
    return {f["name"]: f for f in manifest["files"]}


def _unit(manifest: dict, kode: str) -> dict:
    return next(u for u in manifest["units"] if u["kode"] == kode)


def _consolidated(outputs: Path, kode: str) -> dict[str, list[tuple]]:
    """Per kind, the unit's rows of the regency workbook: (Berkas, Baris Asal, Kode RA,
    Realisasi TW III)."""
    wb = openpyxl.load_workbook(
        outputs / str(PERIOD) / f"Konsolidasi_RB_{PERIOD}.xlsx", read_only=True
    )
    out = {}
    for kind in schema.KINDS:
        rows = wb[schema.SHEETS[kind].name].iter_rows(values_only=True)
        header = list(next(rows))
        at = [header.index(h) for h in ("Kode Unit", "Berkas", "Baris Asal", "Kode RA")]
        tw3 = header.index(schema.FIELD_BY_NAME["realisasi_tw3"].header)
        out[kind] = sorted((r[at[1]], r[at[2]], r[at[3]], r[tw3]) for r in rows if r[at[0]] == kode)
    wb.close()
    return out


def _summary_table(outputs: Path, kode: str, title: str) -> list[tuple]:
    """The rows of the table under ``title`` on the unit's feedback ``Ringkasan`` sheet."""
    path = outputs / str(PERIOD) / FEEDBACK_FOLDER / f"{kode}_{PERIOD}_umpan_balik.xlsx"
    ws = openpyxl.load_workbook(path)["Ringkasan"]
    lines = [tuple(c.value for c in row[:4]) for row in ws.iter_rows()]
    start = next(i for i, line in enumerate(lines) if line[0] == title) + 2  # title, header
    end = next((i for i in range(start, len(lines)) if not any(lines[i])), len(lines))
    return lines[start:end]


def _check_sums(manifest: dict) -> None:
    for f in manifest["files"]:
        assert f["rows_read"] == f["rows_consolidated"] + f["rows_skipped"], f["name"]
        assert len(f["skipped"]) == f["rows_skipped"], f["name"]
        for s in f["sheets"]:
            assert s["rows_read"] == s["rows_consolidated"] + s["rows_skipped"], (f["name"], s)
        assert sum(s["rows_read"] for s in f["sheets"]) == f["rows_read"], f["name"]
        assert sum(s["rows_consolidated"] for s in f["sheets"]) == f["rows_consolidated"]


def _run(work: Path, outputs: str) -> None:
    done = rbpipe("run", "--period", str(PERIOD), "--inputs", "masuk", "--outputs", outputs,
                  cwd=work)  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("terpisah")
    month = work / "masuk" / str(PERIOD)
    month.mkdir(parents=True)
    _workbook(month / A, "DINKES", {"umum": UMUM_A}, dt.datetime(2025, 11, 3, 9))
    _workbook(month / B, "DINKES", {"tematik": TEMATIK_B}, dt.datetime(2025, 11, 4, 9))
    _workbook(month / D1, "DINSOS", {"umum": UMUM}, dt.datetime(2025, 11, 2, 8), without="tematik")
    _workbook(
        month / D2, "DINSOS", {"tematik": TEMATIK}, dt.datetime(2025, 11, 2, 9), without="umum"
    )
    sent = snapshot(month)
    _run(work, "hangat")
    before = _manifest(work / "hangat")
    before_rows = _consolidated(work / "hangat", "DINKES")
    before_sources = _summary_table(work / "hangat", "DINKES", "Asal rencana aksi yang direkap")
    check = rbpipe("check", "--json", str(month / A), str(month / B), cwd=work)
    _workbook(
        month / C, "DINKES", {"umum": UMUM_C}, dt.datetime(2025, 11, 20, 14), without="tematik"
    )
    resent = snapshot(month)
    _run(work, "hangat")  # the run cache of the first run is used
    _run(work, "dingin")
    return {
        "work": work,
        "inputs": (sent, resent, snapshot(month)),
        "before": before,
        "before_rows": before_rows,
        "before_sources": before_sources,
        "check": check,
        "after": _manifest(work / "hangat"),
        "cold": _manifest(work / "dingin"),
    }


def test_both_halves_of_a_split_report_are_consolidated(runs):
    manifest = runs["before"]
    files = _files(manifest)
    assert (files[A]["status"], files[A]["rows_consolidated"]) == ("accepted", len(UMUM_A))
    assert (files[B]["status"], files[B]["rows_consolidated"]) == ("accepted", len(TEMATIK_B))
    assert runs["before_rows"] == {
        "umum": [(A, 5 + i, p["kode"], p["realisasi_tw3"]) for i, p in enumerate(UMUM_A)],
        "tematik": [(B, 5 + i, p["kode"], p["realisasi_tw3"]) for i, p in enumerate(TEMATIK_B)],
    }
    dinkes = _unit(manifest, "DINKES")
    assert dinkes["rows"] == len(UMUM_A) + len(TEMATIK_B)
    assert dinkes["sumber"] == {
        "umum": {"file": A, "sheet": "RB Umum", "reader": "calamine", "rows": len(UMUM_A)},
        "tematik": {"file": B, "sheet": "RB Tematik", "reader": "calamine", "rows": 2},
    }
    # The empty sheet of each half is not used: the other file supplies that kind.
    assert [(s["kind"], s["use"], s["replaced_by"]) for s in files[A]["sheets"]] == [
        ("umum", "used", None),
        ("tematik", "superseded", B),
    ]
    assert "RB-W001" not in files[A]["problems"] + files[B]["problems"]
    _check_sums(manifest)


def test_a_later_file_replaces_only_the_kinds_it_holds(runs):
    manifest = runs["after"]
    files = _files(manifest)
    assert [files[n]["status"] for n in (A, B, C)] == ["superseded", "accepted", "accepted"]
    assert (files[C]["rows_consolidated"], files[B]["rows_consolidated"]) == (len(UMUM_C), 2)
    assert files[A]["rows_consolidated"] == 0
    assert {k["reason"] for k in files[A]["skipped"]} == {
        f"berkas digantikan: RB Umum diambil dari berkas {C}"
    }
    assert len(files[A]["skipped"]) == len(UMUM_A)
    rows = _consolidated(runs["work"] / "hangat", "DINKES")
    assert rows["umum"] == [(C, 5 + i, p["kode"], p["realisasi_tw3"]) for i, p in enumerate(UMUM_C)]
    assert rows["umum"][0][3] == 75.0  # the corrected value, not A's 70
    assert rows["tematik"] == runs["before_rows"]["tematik"]
    dinkes = _unit(manifest, "DINKES")
    assert dinkes["rows"] == len(UMUM_C) + len(TEMATIK_B)
    assert (dinkes["sumber"]["umum"]["file"], dinkes["sumber"]["tematik"]["file"]) == (C, B)
    [w001] = [p for p in manifest["problems"] if p["code"] == "RB-W001"]
    assert w001["file"] == A and C in w001["message"] and "20/11/2025 14:00" in w001["message"]
    # C has no RB Tematik sheet, but B supplies the kind: no RB-W004 for C.
    assert files[C]["problems"].count("RB-W004") == 0
    assert [(s["kind"], s["use"]) for s in files[C]["sheets"]] == [("umum", "used")]
    _check_sums(manifest)


def test_on_time_is_judged_by_the_units_first_file(runs):
    dinkes = _unit(runs["after"], "DINKES")
    # C arrived on 20 November, after the deadline (5 November); A on 3 November.
    assert dinkes["submitted"] is True and dinkes["on_time"] is True
    assert runs["after"]["regency"]["units_on_time"] == 2


def test_a_duplicate_code_is_found_across_the_two_files_of_a_report(runs):
    for manifest, umum_file in ((runs["before"], A), (runs["after"], C)):
        found = sorted(
            (p["file"], p["cell"]) for p in manifest["problems"] if p["code"] == "RB-E114"
        )
        assert found == sorted([(umum_file, "RB Umum!A6"), (B, "RB Tematik!A6")])
        e114 = next(p for p in manifest["problems"] if p["code"] == "RB-E114")
        assert f"RB Umum!A6 (berkas {umum_file})" in e114["message"]
        assert f"RB Tematik!A6 (berkas {B})" in e114["message"]


def test_a_report_split_over_single_sheet_workbooks_has_no_missing_sheet_warning(runs):
    files = _files(runs["after"])
    for name in (D1, D2):
        assert files[name]["status"] == "accepted"
        assert "RB-W004" not in files[name]["problems"], name
    assert _unit(runs["after"], "DINSOS")["rows"] == len(UMUM) + len(TEMATIK)


def test_the_feedback_says_which_file_each_kind_came_from(runs):
    assert runs["before_sources"] == [
        ("RB Umum", A, "RB Umum", f"{len(UMUM_A)} rencana aksi direkap."),
        ("RB Tematik", B, "RB Tematik", "2 rencana aksi direkap."),
    ]
    outputs = runs["work"] / "hangat"
    assert _summary_table(outputs, "DINKES", "Asal rencana aksi yang direkap") == [
        ("RB Umum", C, "RB Umum", f"{len(UMUM_C)} rencana aksi direkap."),
        ("RB Tematik", B, "RB Tematik", "2 rencana aksi direkap."),
    ]
    left_out = _summary_table(outputs, "DINKES", "Lembar yang dibaca tetapi tidak direkap")
    assert left_out == [
        (
            A,
            "RB Umum",
            len(UMUM_A),
            f"Tidak direkap: rencana aksi RB Umum diambil dari berkas {C}, kiriman Anda yang "
            "lebih baru.",
        )
    ]
    received = _summary_table(outputs, "DINKES", "Berkas yang kami terima")
    notes = {line[0]: line[3] for line in received}
    assert notes[A] == f"Digantikan oleh {C}, berkas yang lebih baru; tidak direkap."
    assert notes[B] == "Direkap: 2 rencana aksi RB Tematik."
    assert notes[C] == f"Direkap: {len(UMUM_C)} rencana aksi RB Umum."


def test_a_warm_rerun_gives_the_manifest_of_a_cold_run(runs):
    warm, cold = runs["after"], runs["cold"]
    # The cache's grain is a unit's report: DINSOS's is unchanged and taken from the cache;
    # DINKES's changed with C, so B is checked again with C (RB-E114 spans both files).
    assert warm["info"]["cache"]["periksa_dipakai"] == 1
    assert warm["info"]["cache"]["berkas_diperiksa_gx"] == 2
    warm, cold = copy.deepcopy(warm), copy.deepcopy(cold)
    for manifest in (warm, cold):
        for key in VOLATILE_INFO:
            manifest["info"].pop(key, None)
        manifest.pop("started"), manifest.pop("finished")
        manifest["info"].pop("inputs", None)
        manifest["outputs"] = None
    assert warm == cold


def test_check_reports_each_sheet_and_the_duplicate_across_files(runs):
    check = runs["check"]
    assert check.returncode == 1  # RB-E114 is an error
    report = json.loads(check.stdout)
    by_name = {f["nama"]: f for f in report["berkas"]}
    assert by_name[A]["pembaca"] == "calamine"
    assert [(s["nama"], s["penggunaan"], s["diganti_oleh"]) for s in by_name[B]["lembar"]] == [
        ("RB Umum", "superseded", A),
        ("RB Tematik", "used", None),
    ]
    assert {p["file"] for p in report["masalah"] if p["code"] == "RB-E114"} == {A, B}


def test_the_inputs_are_untouched(runs):
    sent, resent, after = runs["inputs"]
    assert set(resent) == set(sent) | {C}
    assert {name: resent[name] for name in sent} == sent
    assert after == resent


def test_the_regency_workbook_and_the_email_name_both_files(runs):
    from pipeline.deliver.notices import body, notices_from_manifest

    outputs = runs["work"] / "hangat" / str(PERIOD)
    wb = openpyxl.load_workbook(outputs / f"Konsolidasi_RB_{PERIOD}.xlsx", read_only=True)
    rows = list(wb["Status Pengiriman"].iter_rows(values_only=True))
    header = next(r for r in rows if r and r[0] == "Kode Unit")
    dinkes = next(r for r in rows if r and r[0] == "DINKES")
    wb.close()
    assert dinkes[header.index("Berkas Direkap")] == f"{B}\n{C}"
    assert dinkes[header.index("Berkas Digantikan")] == A
    [notice] = [n for n in notices_from_manifest(runs["after"], REGISTRY) if n.kode == "DINKES"]
    assert f"direkap: berkas {B} dan {C}" in body(notice)


# --------------------------------------------------------------------------------------------
# Which file supplies each kind (ingest alone, real files, real reader)
# --------------------------------------------------------------------------------------------


def _ingest(tmp_path: Path, files: list[tuple[str, dict, dt.datetime, str | None]]):
    from pipeline.ingest import ingest_files

    paths = []
    for name, plans, when, without in files:
        _workbook(tmp_path / name, "DINKES", plans, when, without=without)
        paths.append(tmp_path / name)
    result = ingest_files(paths, REGISTRY, PERIOD, workers=1)
    return {s.name: s for s in result.submissions}, result.rows


NOV = dt.datetime(2025, 11, 1, 9)
BOTH = {"umum": UMUM, "tematik": TEMATIK}


def test_a_correction_of_one_kind_keeps_the_other_kind_of_the_earlier_file(tmp_path):
    later = [dict(p, realisasi_tw3=1000.0) for p in TEMATIK]
    subs, rows = _ingest(
        tmp_path,
        [("lengkap.xlsx", BOTH, NOV, None),
         ("tematik.xlsx", {"tematik": later}, NOV + dt.timedelta(days=2), "umum")],
    )  # fmt: skip
    full, part = subs["lengkap.xlsx"], subs["tematik.xlsx"]
    assert (full.status, part.status) == ("accepted", "accepted")
    assert [(a.kind, a.use, a.replaced_by) for a in full.sheets] == [
        ("umum", "used", None),
        ("tematik", "superseded", "tematik.xlsx"),
    ]
    assert (full.rows_consolidated, full.rows_skipped) == (len(UMUM), len(TEMATIK))
    [w001] = [p for p in full.problems if p.code == "RB-W001"]
    assert "RB Tematik oleh tematik.xlsx (diubah 03/11/2025 09:00)" in w001.message
    assert "Rencana aksi RB Umum dari berkas ini tetap direkap" in w001.message
    assert [p.code for p in part.problems] == []  # its missing RB Umum is supplied
    assert sorted(zip(rows["_file"], rows["_kind"], rows["realisasi_tw3"], strict=True)) == sorted(
        [("lengkap.xlsx", "umum", p["realisasi_tw3"]) for p in UMUM]
        + [("tematik.xlsx", "tematik", 1000.0)] * len(TEMATIK)
    )


def test_an_emptied_sheet_in_a_later_file_replaces_nothing(tmp_path):
    subs, rows = _ingest(
        tmp_path,
        [("awal.xlsx", BOTH, NOV, None),
         ("ulang.xlsx", {"tematik": TEMATIK}, NOV + dt.timedelta(days=1), None)],
    )  # fmt: skip
    first, second = subs["awal.xlsx"], subs["ulang.xlsx"]
    assert (first.status, second.status) == ("accepted", "accepted")
    assert sorted(set(zip(rows["_file"], rows["_kind"], strict=True))) == [
        ("awal.xlsx", "umum"),
        ("ulang.xlsx", "tematik"),
    ]
    # The later file's empty RB Umum is not used; it read no row, so no row is skipped for it.
    assert [(a.kind, a.use, a.replaced_by, a.rows_read) for a in second.sheets] == [
        ("umum", "superseded", "awal.xlsx", 0),
        ("tematik", "used", None, len(TEMATIK)),
    ]
    assert not any(p.code == "RB-W001" for p in second.problems)


def test_a_file_replaced_kind_by_kind_by_two_later_files_names_both(tmp_path):
    subs, rows = _ingest(
        tmp_path,
        [("a.xlsx", BOTH, NOV, None),
         ("b.xlsx", {"tematik": TEMATIK}, NOV + dt.timedelta(days=1), "umum"),
         ("c.xlsx", {"umum": UMUM}, NOV + dt.timedelta(days=2), "tematik")],
    )  # fmt: skip
    assert [subs[n].status for n in ("a.xlsx", "b.xlsx", "c.xlsx")] == [
        "superseded",
        "accepted",
        "accepted",
    ]
    [w001] = [p for p in subs["a.xlsx"].problems if p.code == "RB-W001"]
    assert "RB Umum oleh c.xlsx" in w001.message and "RB Tematik oleh b.xlsx" in w001.message
    assert {k.reason for k in subs["a.xlsx"].skipped} == {
        "berkas digantikan: RB Umum diambil dari berkas c.xlsx",
        "berkas digantikan: RB Tematik diambil dari berkas b.xlsx",
    }
    assert len(rows) == len(UMUM) + len(TEMATIK)
    for sub in subs.values():
        assert sub.rows_read == sub.rows_consolidated + sub.rows_skipped
