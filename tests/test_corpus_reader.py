"""Every file of ``../shared/corpus/foreign`` (calamine's own test files: odd, damaged, hostile)
through the real pool and reader: each one is either read or refused with a catalogue code,
no worker dies, nothing hangs, and every worker stays small.
"""

import pytest
from conftest import CORPUS, needs_corpus

from pipeline.ingest.limits import Limits
from pipeline.ingest.pool import run_bounded
from pipeline.ingest.reader import read_workbook
from pipeline.ingest.workbook import WorkbookData
from pipeline.problems import load_catalogue

pytestmark = needs_corpus

# Files crafted against readers, and what must become of them.
HOSTILE = {
    "issue_594_dos.ods": "RB-E007",  # rows repeated 10^9 times: refused before calamine
    "OOM_alloc3.xls": "RB-E003",  # broken sector chain
    "pass_protected.xlsx": "RB-E002",
    "pass_protected.ods": "RB-E002",
    "pass_protected.xlsb": "RB-E002",
    "issue_385.xls": "RB-E002",
    "issue_666_panic.xlsb": "RB-E012",
    "too_small.xls": "RB-E001",
    "README.md": "RB-E001",
}
# Damaged or odd files calamine handles: read, not refused.
READ = ("OOM_alloc.xls", "OOM_alloc2.xls", "issue_530.xlsx", "nonstandard-xml-ns-prefix.xlsx")


@pytest.fixture(scope="module")
def outcomes(corpus):
    files = sorted(p for p in corpus.iterdir() if p.is_file())
    limits = Limits(seconds_per_file=30)
    return limits, {
        o.item.name: o for o in run_bounded(read_workbook, files, workers=2, limits=limits)
    }


def test_every_file_is_read_or_refused_with_a_catalogue_code(outcomes):
    limits, by_name = outcomes
    catalogue = load_catalogue()
    assert len(by_name) == len([p for p in CORPUS.iterdir() if p.is_file()]) >= 130
    for name, outcome in by_name.items():
        if outcome.ok:
            assert isinstance(outcome.value, WorkbookData), name
            assert outcome.value.sheets, name
        else:
            assert outcome.failure.code in catalogue, (name, outcome.failure.code)
            assert outcome.failure.message, name


def test_no_worker_dies_or_hangs_and_every_worker_stays_small(outcomes):
    limits, by_name = outcomes
    for name, outcome in by_name.items():
        assert outcome.peak_rss_bytes is not None, f"{name}: {outcome.failure.message}"
        assert outcome.peak_rss_bytes < 300 << 20, name
        if outcome.failure is not None:
            assert "batas waktu" not in outcome.failure.message, name


def test_hostile_files_get_the_expected_code(outcomes):
    _limits, by_name = outcomes
    assert {name: by_name[name].failure.code for name in HOSTILE} == HOSTILE
    assert all(by_name[name].ok for name in READ)


def test_unsupported_formats_and_empty_files(outcomes):
    _limits, by_name = outcomes
    for name, outcome in by_name.items():
        if name.endswith(".xlsb") and not name.startswith("pass_protected"):
            assert outcome.failure.code == "RB-E012", name
    assert by_name["empty_sheet.xlsx"].failure.code == "RB-E004"
    assert by_name["picture.xlsx"].failure.code == "RB-E004"
