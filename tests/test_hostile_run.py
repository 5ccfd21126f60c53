"""A month folder full of trouble: the whole foreign corpus, crafted hostile files and a unit's
formula-like text, beside genuine submissions (issues 3 and 7). The run must finish (exit 0),
reject every bad file with a catalogue code, consolidate the genuine ones, stay within its
memory bounds and write unit text as text, never as a formula."""

from __future__ import annotations

import importlib.util
import resource
import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    CORPUS,
    FEEDBACK_FOLDER,
    MANIFEST_FILE,
    feedback_name,
    needs_corpus,
    rbpipe,
    regency_workbook_name,
    snapshot,
)

from pipeline.problems import load_catalogue

PERIOD = "2025-10"
FIXTURES = Path(__file__).parent / "fixtures" / "reader"
INJECTIONS = (
    '=HYPERLINK("http://contoh.invalid","klik")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
)
# Bounds documented in pipeline/ingest/limits.py: each worker may add 1 GiB to its start size;
# the parent holds pandas + Great Expectations (~0.3-0.5 GiB). The whole tree stays under this.
MAX_RSS_BYTES = int(1.5 * (1 << 30))


def _hostile_module():
    spec = importlib.util.spec_from_file_location("hostile", FIXTURES / "hostile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hostile_files(folder: Path) -> dict[str, str]:
    """Crafted files (small on disk) and the code each must be rejected with."""
    h = _hostile_module()
    h.zip_bomb(folder / "bom_zip.xlsx", gib=1)
    h.billion_laughs(folder / "tawa_strings.xlsx", "sharedStrings")
    h.billion_laughs(folder / "tawa_workbook.xlsx", "workbook")
    h.far_cell(folder / "sel_jauh.xlsx")
    h.million_rows(folder / "sejuta_baris.xlsx")
    h.long_text(folder / "teks_panjang.xlsx", 40_000)
    h.many_members(folder / "banyak_bagian.xlsx", 10_007)
    h.control_characters(folder / "karakter_kendali.xlsx")
    return {
        "bom_zip.xlsx": "RB-E007",
        "tawa_strings.xlsx": "RB-E007",
        "tawa_workbook.xlsx": "RB-E007",
        "sel_jauh.xlsx": "RB-E007",
        "sejuta_baris.xlsx": "RB-E007",
        "teks_panjang.xlsx": "RB-E007",
        "banyak_bagian.xlsx": "RB-E007",
        "karakter_kendali.xlsx": None,  # readable, but not a submission: any rejection code
    }


def _inject(path: Path) -> list[str]:
    """Put formula-like texts into text cells of the first two action plans, as text cells."""
    book = openpyxl.load_workbook(path)
    ws = book["RB Umum"]
    header = {c.value: c.column for c in ws[4]}
    places = [(row, header[h]) for row in (5, 6) for h in ("Indikator", "Rencana Aksi", "Output")]
    for (row, col), text in zip(places, INJECTIONS, strict=True):
        cell = ws.cell(row=row, column=col)
        cell.value = text
        cell.data_type = "s"
    book.save(path)
    return list(INJECTIONS)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, corpus):
    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    base = tmp_path_factory.mktemp("hostile")
    demo_dir = base / "demo"
    plan = generate_month(demo_dir, Period.parse(PERIOD), load_registry(), seed=11)
    genuine = [f for f in plan.files if f.expected_status == "accepted" and not f.messes][:4]
    month = base / "inputs" / PERIOD
    month.mkdir(parents=True)
    for f in genuine:
        shutil.copy2(demo_dir / f.name, month / f.name)
    injected = genuine[3]
    _inject(month / injected.name)
    for path in sorted(corpus.iterdir()):
        shutil.copy2(path, month / f"asing_{path.name}")
    expected = _hostile_files(month)
    before = snapshot(base / "inputs")
    run = rbpipe(
        "run",
        "--period",
        PERIOD,
        "--inputs",
        str(base / "inputs"),
        "--outputs",
        str(base / "outputs"),
        cwd=base,
        RBPIPE_READONLY_DIR=str(base / "inputs"),
    )
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    import json

    manifest = json.loads((base / "outputs" / PERIOD / MANIFEST_FILE).read_text())
    return {
        "run": run,
        "manifest": manifest,
        "genuine": genuine,
        "injected": injected,
        "expected": expected,
        "outputs": base / "outputs" / PERIOD,
        "rss": rss,
        "unchanged": snapshot(base / "inputs") == before,
    }


pytestmark = [needs_corpus, pytest.mark.slow]


def test_the_run_finishes_and_reports_instead_of_crashing(hostile_run):
    run = hostile_run["run"]
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert hostile_run["unchanged"], "inputs were modified"
    assert run.network_attempts == []
    assert run.input_writes == []


def test_every_foreign_and_hostile_file_is_rejected_with_a_catalogue_code(hostile_run):
    catalogue = load_catalogue()
    files = {f["name"]: f for f in hostile_run["manifest"]["files"]}
    foreign = [n for n in files if n.startswith("asing_")]
    assert len(foreign) == len(list(CORPUS.iterdir()))
    for name in foreign + list(hostile_run["expected"]):
        f = files[name]
        assert f["status"] == "rejected", name
        assert f["problems"] and all(code in catalogue for code in f["problems"]), name
        assert any(catalogue[c].severity == "error" for c in f["problems"]), name
        assert f["rows_consolidated"] == 0
    for name, code in hostile_run["expected"].items():
        if code:
            assert code in files[name]["problems"], (name, files[name]["problems"])


def test_the_limit_is_named_in_the_problem(hostile_run):
    problems = {
        p["file"]: p["message"]
        for p in hostile_run["manifest"]["problems"]
        if p["code"] == "RB-E007"
    }
    assert "rasio" in problems["bom_zip.xlsx"].lower() or "kompresi" in problems["bom_zip.xlsx"]
    assert "baris" in problems["sejuta_baris.xlsx"]


def test_genuine_files_beside_them_are_consolidated(hostile_run):
    files = {f["name"]: f for f in hostile_run["manifest"]["files"]}
    for demo_file in hostile_run["genuine"]:
        got = files[demo_file.name]
        assert got["status"] == "accepted"
        assert got["rows_consolidated"] == len(demo_file.rows)


def test_memory_stays_within_the_documented_bounds(hostile_run):
    assert 0 < hostile_run["rss"] < MAX_RSS_BYTES


def _cells_with(path: Path, texts) -> dict[str, list[str]]:
    book = openpyxl.load_workbook(path)
    found: dict[str, list[str]] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value in texts:
                    found.setdefault(c.value, []).append(c.data_type)
                assert c.data_type != "f", (
                    f"formula written in {path.name} {ws.title}!{c.coordinate}"
                )
    return found


def test_formula_like_unit_text_is_written_as_text_everywhere(hostile_run):
    out = hostile_run["outputs"]
    unit = hostile_run["injected"].unit
    for path in (
        out / regency_workbook_name(PERIOD),
        out / FEEDBACK_FOLDER / feedback_name(unit, PERIOD),
    ):
        # ingest strips surrounding whitespace: "\t=1+1" arrives as "=1+1", still text
        expected = {t.strip() for t in INJECTIONS}
        found = _cells_with(path, expected)
        for text in expected:
            assert found.get(text), f"{text!r} missing from {path.name}"
            assert set(found[text]) == {"s"}, (path.name, text, found[text])
