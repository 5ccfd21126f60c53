"""Feedback workbooks (one per sender) and the reminder list of units whose report is missing.

**Isolation by construction.** :func:`feedback_views` first cuts the run into one
:class:`UnitView` per sender — that sender's own files, rows and problems, plus regency-level
aggregates (the median of each metric over the units that reported, the number of ranked units)
— and :func:`render_feedback` receives only that view. No renderer ever sees the RunResult, so a
workbook cannot show another unit's rows, names or values.

**Who gets one.** Every registry unit that sent anything (accepted, rejected or superseded
files): ``<KODE>_<YYYY-MM>_umpan_balik.xlsx``. A rejected file whose unit could not be identified
gets its own workbook, ``TIDAK-DIKENAL_<file stem reduced to letters, digits and hyphens>_
<YYYY-MM>_umpan_balik.xlsx`` (``-2``, ``-3`` appended when two stems reduce to the same text), so
the bureau can forward it to whoever sent that file.

**Cell addresses.** The re-rendered ``RB Umum`` / ``RB Tematik`` sheets put every value at the
SAME row and column as in the unit's own file (the file's column positions and header row, even
when its layout drifted from the template; headers are printed in the template's spelling on the
file's last header row). So the address in ``Perbaikan`` — always the unit's own cell, e.g.
``H12`` on their sheet ``RB TEMATIK 2025`` — is also the address of the highlighted cell here,
and each ``Perbaikan`` row links to it (``internal:'RB Tematik'!H12``). Problem cells are filled
red (error) or amber (warning) and carry the message as a cell comment.

Modules: :mod:`.views` (a sender's view), :mod:`.writer` (serial or pooled writing),
:mod:`.render` (one workbook: :mod:`.summary`, :mod:`.fixes`, :mod:`.sheets`, legend),
:mod:`.reminders` (``belum_mengirim.xlsx``); :mod:`.common` holds what the sheets share.
"""

from __future__ import annotations

from pipeline.publish.feedback.reminders import write_reminders
from pipeline.publish.feedback.render import render_feedback
from pipeline.publish.feedback.views import UnitView, feedback_views, iter_feedback_views
from pipeline.publish.feedback.writer import FeedbackWriter, write_feedback_workbooks

__all__ = [
    "FeedbackWriter",
    "UnitView",
    "feedback_views",
    "iter_feedback_views",
    "render_feedback",
    "write_feedback_workbooks",
    "write_reminders",
]
