"""Read time independent of formatting (issue 12): the Gnumeric workbook of the producer
fixtures, whose two action-plan sheets carry ~1 million styled empty cells each, read by the
real reader (worker-free: the figure is the reader's own work) against the per-file limit."""

from __future__ import annotations

import lzma
import re
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from bench.scenarios import REPO
from pipeline.locale_id import number

FIXTURE = REPO / "tests" / "fixtures" / "producers" / "gnumeric.xlsx.xz"


def measure_styled_blanks(runs: int = 3) -> dict:
    """``{"cells", "empty_styled_cells", "read_s" (median wall), "runs_s", "cpu_s" (median
    CPU: the figure that does not depend on what else the machine runs), "limit_s"}``."""
    from pipeline.ingest.limits import DEFAULT_LIMITS
    from pipeline.ingest.reader import read_workbook

    with tempfile.TemporaryDirectory(prefix="rbpipe-bench-gaya-") as tmp:
        path = Path(tmp) / "gnumeric.xlsx"
        path.write_bytes(lzma.decompress(FIXTURE.read_bytes()))
        with zipfile.ZipFile(path) as zf:
            parts = [n for n in zf.namelist() if n.startswith("xl/worksheets/")]
            cells = sum(zf.read(n).count(b"<c ") for n in parts)
            empty = sum(len(re.findall(rb"<c [^>]*/>", zf.read(n))) for n in parts)
        times, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            read_workbook(path)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    return {
        "cells": cells,
        "empty_styled_cells": empty,
        "read_s": statistics.median(times),
        "runs_s": times,
        "cpu_s": statistics.median(cpu),
        "limit_s": DEFAULT_LIMITS.seconds_per_file,
    }


def styled_line(figure: dict) -> str:
    return (
        f"Sel kosong berformat: {number(figure['empty_styled_cells'])} dari "
        f"{number(figure['cells'])} sel (Gnumeric .xlsx), dibaca dalam "
        f"{number(figure['read_s'], 2)} detik, CPU {number(figure['cpu_s'], 2)} detik "
        f"(median {len(figure['runs_s'])} kali), "
        f"batas per berkas {number(figure['limit_s'], 0)} detik"
    )
