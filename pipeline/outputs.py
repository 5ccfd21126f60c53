"""Every name and path of a month's outputs, in one place: :class:`OutputLayout`.

    <outputs>/
      .rbpipe.lock                      one writer at a time (pipeline.locking)
      riwayat.sqlite                    the history of every recorded month
      <YYYY-MM>/
        Konsolidasi_RB_<YYYY-MM>.xlsx   the regency workbook
        Laporan_RB_<YYYY-MM>.html       the regency report as a web page
        umpan_balik/<KODE>_<YYYY-MM>_umpan_balik.xlsx
        umpan_balik/TIDAK-DIKENAL_<file stem>_<YYYY-MM>_umpan_balik.xlsx
        belum_mengirim.xlsx             units whose report was not received
        manifest.json                   what the run did, for machines
        rbpipe.log                      the run's log
        surel/                          e-mails prepared for the units
    <inputs>/
      <YYYY-MM>/                        the month's submissions (never written by a run)
      kedatangan/<YYYY-MM>.csv          arrival log kept by the analysts (optional)

The run, the history, the publishers and the portal take names and paths from here; the tests
state the same names once, as a contract (``tests/conftest.py``), and check this module
against them. A file name that holds a received file's name keeps only letters, digits and
hyphens of it (:func:`safe_file_part`).

Example::

    layout = OutputLayout(outputs=Path("outputs"), period=Period.parse("2025-10"))
    layout.regency_workbook   # outputs/2025-10/Konsolidasi_RB_2025-10.xlsx
    layout.feedback_workbook("DINKES")  # outputs/2025-10/umpan_balik/DINKES_2025-10_umpan_balik.xlsx
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.registry import Period

LOCK_FILE = ".rbpipe.lock"
HISTORY_FILE = "riwayat.sqlite"
FEEDBACK_FOLDER = "umpan_balik"
FEEDBACK_SUFFIX = "_umpan_balik.xlsx"
UNKNOWN_SENDER = "TIDAK-DIKENAL"  # the code part of the feedback name of an unidentified file
REMINDERS_FILE = "belum_mengirim.xlsx"
MANIFEST_FILE = "manifest.json"
LOG_FILE = "rbpipe.log"
MAIL_FOLDER = "surel"
ARRIVALS_FOLDER = "kedatangan"


def regency_workbook_name(period: Period | str) -> str:
    """``Konsolidasi_RB_<YYYY-MM>.xlsx``."""
    return f"Konsolidasi_RB_{period}.xlsx"


def report_name(period: Period | str) -> str:
    """``Laporan_RB_<YYYY-MM>.html``: the regency figures as a web page."""
    return f"Laporan_RB_{period}.html"


def feedback_name(kode: str, period: Period | str) -> str:
    """``<KODE>_<YYYY-MM>_umpan_balik.xlsx``."""
    return f"{kode}_{period}{FEEDBACK_SUFFIX}"


def safe_file_part(text: str, *, limit: int = 60) -> str:
    """``text`` reduced to letters, digits and single hyphens, for a file name built from a
    received file's name (``laporan rb (final)`` -> ``laporan-rb-final``)."""
    part = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    return part[:limit].strip("-") or "berkas"


def unknown_sender_names(file_names: Iterable[str], period: Period | str) -> dict[str, str]:
    """Feedback file name of each received file whose unit is unknown:
    ``TIDAK-DIKENAL_<file stem as [A-Za-z0-9-]>_<YYYY-MM>_umpan_balik.xlsx``, with ``-2``,
    ``-3`` appended to the stem when two files reduce to the same one (in name order)."""
    taken: Counter[str] = Counter()
    out = {}
    for name in sorted(file_names):
        stem = safe_file_part(Path(name).stem)
        taken[stem] += 1
        if taken[stem] > 1:
            stem = f"{stem}-{taken[stem]}"
        out[name] = feedback_name(f"{UNKNOWN_SENDER}_{stem}", period)
    return out


@dataclass(frozen=True, kw_only=True)
class OutputLayout:
    """The outputs of one month under ``outputs`` (and the inputs it reads beside them)."""

    outputs: Path
    period: Period
    inputs: Path = Path("inputs")

    @property
    def lock(self) -> Path:
        return self.outputs / LOCK_FILE

    @property
    def history(self) -> Path:
        return self.outputs / HISTORY_FILE

    @property
    def month(self) -> Path:
        """``<outputs>/<YYYY-MM>/``: every file of the month below."""
        return self.outputs / str(self.period)

    @property
    def regency_workbook(self) -> Path:
        return self.month / regency_workbook_name(self.period)

    @property
    def report(self) -> Path:
        return self.month / report_name(self.period)

    @property
    def feedback_folder(self) -> Path:
        return self.month / FEEDBACK_FOLDER

    def feedback_workbook(self, kode: str) -> Path:
        return self.feedback_folder / feedback_name(kode, self.period)

    def feedback_workbooks(self) -> list[Path]:
        """The feedback workbooks now in the month's folder (of this run or an earlier one)."""
        if not self.feedback_folder.is_dir():
            return []
        return sorted(self.feedback_folder.glob(f"*{FEEDBACK_SUFFIX}"))

    @property
    def reminders(self) -> Path:
        return self.month / REMINDERS_FILE

    @property
    def manifest(self) -> Path:
        return self.month / MANIFEST_FILE

    @property
    def log(self) -> Path:
        return self.month / LOG_FILE

    @property
    def mail_folder(self) -> Path:
        return self.month / MAIL_FOLDER

    @property
    def month_inputs(self) -> Path:
        """``<inputs>/<YYYY-MM>/``: the month's submissions."""
        return self.inputs / str(self.period)

    @property
    def arrivals(self) -> Path:
        """``<inputs>/kedatangan/<YYYY-MM>.csv``: the arrival log, when the analysts keep one."""
        return self.inputs / ARRIVALS_FOLDER / f"{self.period}.csv"
