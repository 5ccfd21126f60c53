"""Workbooks written by producers nobody on this project wrote, read through the real CLI.

The fixtures (``tests/fixtures/producers/``, rebuilt by ``tests/producers/build.py``) hold the
same four action plans (``tests/producers/content.py``), each as the report of its own unit, so
one ``rbpipe run`` over all of them checks every producer: rows consolidated equal the plans the
fixture holds, values exact, the reader recorded, and the manifest's ``rows_read =
rows_consolidated + rows_skipped`` for every file and every sheet.
"""

from __future__ import annotations

import json
import lzma
import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import rbpipe
from producers.content import PERIOD, PLANS, UNITS

from pipeline import schema
from pipeline.publish.regency import consolidated_headers

FIXTURES = Path(__file__).parent / "fixtures" / "producers"

# fixture -> (kinds of plans it holds, reader, problem codes the run must report for it)
EXPECTED = {
    "template.xlsx": (("umum", "tematik"), "calamine", set()),
    "gnumeric.ods": (("umum", "tematik"), "odfpy", set()),  # indented XML: calamine fails
    "gnumeric.xlsx": (("umum", "tematik"), "calamine", set()),  # ~1M styled empty cells
    "libreoffice.ods": (("umum", "tematik"), "calamine", set()),
    "libreoffice.xlsx": (("umum", "tematik"), "calamine", set()),
    "libreoffice.xls": (("umum", "tematik"), "calamine", set()),
    "sheetjs.xlsx": (("umum", "tematik"), "calamine", set()),
    "exceljs.xlsx": (("umum", "tematik"), "calamine", set()),
    "exceljs_foto.xlsx": (("umum", "tematik"), "calamine", set()),
    "strict.xlsx": (("umum", "tematik"), "calamine", set()),
    "salinan_lembar.xlsx": (("umum", "tematik"), "calamine", set()),  # filled copy, empty original
    "hanya_tematik.xlsx": (("tematik",), "calamine", {"RB-W004"}),
    "DISPERKIM_2025-10_umpan_balik.xlsx": (("umum", "tematik"), "calamine", set()),
}


def test_every_producer_fixture_is_listed():
    on_disk = {p.name.removesuffix(".xz") for p in FIXTURES.iterdir()}
    assert on_disk == set(EXPECTED) == set(UNITS)


@pytest.fixture(scope="module")
def producers_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("produsen")
    month = work / "masuk" / PERIOD
    month.mkdir(parents=True)
    for path in FIXTURES.iterdir():
        if path.suffix == ".xz":
            (month / path.stem).write_bytes(lzma.decompress(path.read_bytes()))
        else:
            shutil.copy(path, month / path.name)
    run = rbpipe("run", "--period", PERIOD, "--inputs", "masuk", "--outputs", "keluar", cwd=work)
    assert run.returncode == 0, run.stderr
    out = work / "keluar" / PERIOD
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return manifest, out


def test_each_producer_file_is_accepted_whole_by_the_expected_reader(producers_run):
    manifest, _ = producers_run
    files = {f["name"]: f for f in manifest["files"]}
    for name, (kinds, reader, codes) in EXPECTED.items():
        f = files[name]
        held = sum(len(PLANS[k]) for k in kinds)
        assert (f["unit"], f["status"], f["reader"]) == (UNITS[name], "accepted", reader), name
        assert f["rows_consolidated"] == held, name
        assert set(f["problems"]) == codes, (name, f["problems"])
        used = sorted(s["kind"] for s in f["sheets"] if s["use"] == "used")
        assert used == sorted(kinds), name


def test_rows_read_are_consolidated_or_skipped_for_every_file_and_sheet(producers_run):
    manifest, _ = producers_run
    for f in manifest["files"]:
        assert f["rows_read"] == f["rows_consolidated"] + f["rows_skipped"], f["name"]
        assert f["rows_read"] == sum(s["rows_read"] for s in f["sheets"]), f["name"]
        assert f["rows_consolidated"] == sum(s["rows_consolidated"] for s in f["sheets"])
        for s in f["sheets"]:
            assert s["rows_read"] == s["rows_consolidated"] + s["rows_skipped"], (f["name"], s)
            skipped_here = [k for k in f["skipped"] if k["sheet"] == s["sheet"]]
            assert len(skipped_here) == s["rows_skipped"], (f["name"], s)
    copy = next(f for f in manifest["files"] if f["name"] == "salinan_lembar.xlsx")
    assert {(s["sheet"], s["use"]) for s in copy["sheets"]} == {
        ("RB Umum (2)", "used"),
        ("RB Tematik", "used"),
        ("RB Umum", "unused"),
    }


def test_consolidated_values_are_exactly_the_plans_of_every_producer(producers_run):
    _, out = producers_run
    book = openpyxl.load_workbook(out / f"Konsolidasi_RB_{PERIOD}.xlsx", read_only=True)
    for kind, plans in PLANS.items():
        sheet = book[schema.SHEETS[kind].name]
        headers = consolidated_headers(kind)
        rows = [
            dict(zip(headers, r, strict=False))
            for r in sheet.iter_rows(min_row=2, values_only=True)
        ]
        by_file: dict[str, list[dict]] = {}
        for row in rows:
            by_file.setdefault(row["Berkas"], []).append(row)
        for name, (kinds, _reader, _codes) in EXPECTED.items():
            if kind not in kinds:
                assert name not in by_file
                continue
            got = sorted(by_file[name], key=lambda r: r["Kode RA"])
            assert [r["Kode Unit"] for r in got] == [UNITS[name]] * len(plans)
            for plan, row in zip(plans, got, strict=True):
                for field in schema.SHEETS[kind].fields:
                    assert row[field.header] == plan.get(field.name), (name, field.name)
    book.close()


def test_the_feedback_names_each_kinds_file_and_a_second_reader(producers_run):
    """The feedback's "Asal rencana aksi" lists, per kind, the file and sheet the plans came
    from, and the reader when it was not calamine."""
    _, out = producers_run
    for name, (kinds, reader, _) in EXPECTED.items():
        path = out / "umpan_balik" / f"{UNITS[name]}_{PERIOD}_umpan_balik.xlsx"
        ws = openpyxl.load_workbook(path)["Ringkasan"]
        lines = [tuple(c.value for c in row[:4]) for row in ws.iter_rows()]
        top = next(i for i, line in enumerate(lines) if line[0] == "Asal rencana aksi yang direkap")
        sources = {line[0]: line for line in lines[top + 2 : top + 2 + len(schema.KINDS)]}
        for kind in schema.KINDS:
            printed = schema.SHEETS[kind].name
            kind_file, _sheet, note = sources[printed][1:]
            if kind not in kinds:
                assert kind_file == "–" and f"tidak memuat lembar {printed}" in note, name
                continue
            assert kind_file == name, name
            assert note.startswith(f"{len(PLANS[kind])} rencana aksi direkap."), name
            assert (f"pembaca kedua ({reader})" in note) == (reader != "calamine"), name
