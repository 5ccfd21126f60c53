"""A unit re-sends its workbook: the bench's way of making a month change between two runs.

The cached inputs are never touched: a round works on :func:`work_copy` (hard links), and
:func:`resend` replaces a file's directory entry with a corrected workbook (a new file, so the
cached one behind the link stays as it was)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench.scenarios import PERIOD

# The correction a unit sends: its third-quarter realisation of one plan, one higher.
CORRECTED_FIELDS = ("realisasi_tw3", "realisasi_tw2", "realisasi_tw1", "target_tw4")
RESENT_LATER_SECONDS = 3600  # the corrected file arrives an hour after the original


def work_copy(inputs: Path, dest: Path) -> Path:
    """``inputs`` (a month folder and its registry files) as hard links under ``dest``
    (copies where links are impossible); returns ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    for source in sorted(inputs.rglob("*")):
        target = dest / source.relative_to(inputs)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    return dest


def resend(inputs: Path, count: int) -> list[str]:
    """Replace ``count`` accepted ``.xlsx`` files of ``inputs``'s month, spread evenly over the
    month's files in name order, by corrected versions, as units re-sending their report would;
    return the names changed."""
    if count <= 0:
        return []
    month = inputs / PERIOD
    names = sorted(p.name for p in month.glob("*.xlsx"))
    step = max(len(names) // count, 1)
    spread = names[::step]
    changed: list[str] = []
    # The evenly spread picks first; the other files only when too few of those are accepted.
    for batch in (spread[: count * 2], [n for n in names if n not in spread]):
        changed += _correct_accepted(inputs, batch, count - len(changed))
        if len(changed) == count:
            break
    return changed


def _correct_accepted(inputs: Path, names: list[str], count: int) -> list[str]:
    """Correct up to ``count`` of ``names`` that the run accepts (found by ingesting them)."""
    from pipeline.ingest import ingest_files
    from pipeline.registry import Period, load_registry

    if not names or count <= 0:
        return []
    month = inputs / PERIOD
    ingested = ingest_files(
        [month / n for n in names],
        load_registry(inputs),
        Period.parse(PERIOD),
        base=month,
        workers=1,
    )
    rows = ingested.rows
    changed: list[str] = []
    for sub in ingested.submissions:
        mine = rows[rows["_file"] == sub.name]
        if len(changed) < count and sub.accepted and sub.format == "xlsx" and not mine.empty:
            _correct(month / sub.name, mine.iloc[0])
            changed.append(sub.name)
    return changed


def _correct(path: Path, plan) -> None:
    """Rewrite ``path`` with one number of ``plan`` (a staged row) raised by one, keeping the
    file's modification time an hour later than the original's."""
    import openpyxl

    field = next(f for f in CORRECTED_FIELDS if isinstance(plan[f"_col_{f}"], str))
    modified = path.stat().st_mtime
    book = openpyxl.load_workbook(path)
    cell = book[plan["_sheet"]][f"{plan[f'_col_{field}']}{int(plan['_row'])}"]
    cell.value = (cell.value + 1) if isinstance(cell.value, int | float) else 1
    fresh = path.with_name(f".{path.name}.kirim-ulang")
    book.save(fresh)
    os.replace(fresh, path)  # a new file: the cached original behind a hard link is untouched
    os.utime(path, (modified + RESENT_LATER_SECONDS, modified + RESENT_LATER_SECONDS))
