"""OutputLayout names and places every output as the contract (tests/conftest.py) says."""

from __future__ import annotations

from pathlib import Path

from conftest import (
    FEEDBACK_FOLDER,
    HISTORY_FILE,
    LOCK_FILE,
    LOG_FILE,
    MANIFEST_FILE,
    REMINDERS_FILE,
    feedback_name,
    regency_workbook_name,
    report_name,
    unknown_feedback_name,
)

from pipeline.outputs import OutputLayout, unknown_sender_names
from pipeline.registry import Period

PERIOD = Period.parse("2025-10")


def test_every_path_of_a_month():
    layout = OutputLayout(outputs=Path("keluaran"), period=PERIOD, inputs=Path("masukan"))
    month = Path("keluaran/2025-10")
    assert layout.month == month
    assert layout.lock == Path("keluaran") / LOCK_FILE
    assert layout.history == Path("keluaran") / HISTORY_FILE
    assert layout.regency_workbook == month / regency_workbook_name(PERIOD)
    assert layout.report == month / report_name(PERIOD)
    assert layout.feedback_folder == month / FEEDBACK_FOLDER
    assert layout.feedback_workbook("DINKES") == month / FEEDBACK_FOLDER / feedback_name(
        "DINKES", PERIOD
    )
    assert layout.reminders == month / REMINDERS_FILE
    assert layout.manifest == month / MANIFEST_FILE
    assert layout.log == month / LOG_FILE
    assert layout.mail_folder == month / "surel"
    assert layout.month_inputs == Path("masukan/2025-10")
    assert layout.arrivals == Path("masukan/kedatangan/2025-10.csv")


def test_unknown_senders_get_a_name_from_their_file_each_its_own():
    names = unknown_sender_names(
        ["scan undangan.pdf", "laporan rb (final).xlsx", "laporan_rb_final.xlsx", "~~~.xlsx"],
        PERIOD,
    )
    assert names == {
        "laporan rb (final).xlsx": unknown_feedback_name("laporan-rb-final", PERIOD),
        "laporan_rb_final.xlsx": unknown_feedback_name("laporan-rb-final-2", PERIOD),
        "scan undangan.pdf": unknown_feedback_name("scan-undangan", PERIOD),
        "~~~.xlsx": unknown_feedback_name("berkas", PERIOD),
    }


def test_feedback_workbooks_found_in_the_folder(tmp_path):
    layout = OutputLayout(outputs=tmp_path, period=PERIOD)
    assert layout.feedback_workbooks() == []
    layout.feedback_folder.mkdir(parents=True)
    kept = layout.feedback_workbook("DINKES")
    kept.write_bytes(b"")
    (layout.feedback_folder / "catatan.txt").write_text("bukan umpan balik")
    assert layout.feedback_workbooks() == [kept]
