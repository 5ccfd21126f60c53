"""The I/O floor: read every input with python-calamine, write as many rows with xlsxwriter.

python -m bench.floor MONTH ROWS [--per-file]   (prints the figures as JSON; run by
:func:`measure_floor`)

This is the floor of issue 8, kept for the 1,000-workbook month, where the shared ``floor.py``
(which the 51 x 300 month is compared with) would not read the synthetic month's other formats
the same way: it reads every file the run reads (any format calamine opens), and with
``--per-file`` also writes each file's rows to a workbook of its own, the outputs a run writes
per sender.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from bench.scenarios import REPO


def measure_floor(month: Path, rows: int, *, per_file: bool = False) -> dict:
    """The I/O floor of ``month`` (see the module docstring), measured in a fresh single
    process so that its memory and any reader crash stay its own."""
    # bench/ is not installed: the child finds it through the checkout on its path.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-m", "bench.floor", str(month), str(rows)]
        + (["--per-file"] if per_file else []),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    if out.returncode != 0:
        raise click.ClickException(f"Pengukuran lantai I/O gagal pada {month}:\n{out.stderr}")
    return json.loads(out.stdout)


def floor_main(month: Path, rows: int, *, per_file: bool = False) -> dict:
    """Read every input file of ``month`` with python-calamine, write ``rows`` of their rows
    with xlsxwriter (constant_memory); return the times (seconds), counts and peak RSS. With
    ``per_file``, also time writing each file's rows to a workbook of its own
    (``per_unit_write_s``)."""
    from python_calamine import CalamineWorkbook
    from xlsxwriter import Workbook

    from pipeline.ingest import is_ignored

    files = sorted(
        (p for p in month.rglob("*") if p.is_file() and not is_ignored(p.relative_to(month))),
        key=lambda p: p.relative_to(month).as_posix(),
    )
    folder = Path(tempfile.mkdtemp(prefix="rbpipe-floor-"))
    read_s = write_s = per_unit_s = 0.0
    per_unit = per_file
    cpu0 = time.process_time()
    unreadable = written = 0
    try:
        started = time.perf_counter()
        book = Workbook(str(folder / "lantai.xlsx"), {"constant_memory": True})
        sheet = book.add_worksheet("Rekap")
        write_s += time.perf_counter() - started
        for position, path in enumerate(files):
            started = time.perf_counter()
            try:
                workbook = CalamineWorkbook.from_path(str(path))
                values = [workbook.get_sheet_by_name(n).to_python() for n in workbook.sheet_names]
            except Exception:  # noqa: BLE001 - a junk input is part of a month: count, go on
                unreadable += 1
                values = []
            read_s += time.perf_counter() - started
            started = time.perf_counter()
            for table in values:
                for row in table:
                    if written < rows and sum(1 for v in row if v != "") >= 3:
                        sheet.write_row(written, 0, row)
                        written += 1
            write_s += time.perf_counter() - started
            if per_unit:
                started = time.perf_counter()
                own = Workbook(str(folder / f"unit-{position}.xlsx"), {"constant_memory": True})
                own_sheet = own.add_worksheet("Rekap")
                own_rows = (r for t in values for r in t if sum(1 for v in r if v != "") >= 3)
                for at, row in enumerate(own_rows):
                    own_sheet.write_row(at, 0, row)
                own.close()
                per_unit_s += time.perf_counter() - started
        started = time.perf_counter()
        book.close()
        write_s += time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "read_s": read_s,
        "write_s": write_s,
        "total_s": read_s + write_s,
        "per_unit_write_s": per_unit_s if per_unit else None,
        "cpu_s": time.process_time() - cpu0,
        "files": len(files),
        "unreadable": unreadable,
        "rows_written": written,
        "peak_rss_bytes": _peak_rss_kib() * 1024,
    }


def _peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM; ru_maxrss would carry the parent's over)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))


if __name__ == "__main__":
    print(
        json.dumps(
            floor_main(Path(sys.argv[1]), int(sys.argv[2]), per_file="--per-file" in sys.argv)
        )
    )
