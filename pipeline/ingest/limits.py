"""Safety limits for reading untrusted workbooks.

Every file a unit sends is read under these limits. A file over any of them is rejected with
``RB-E007`` naming the limit; the run goes on with the other files. The cheap checks run before
any heavy read (file size, the ZIP's member count, declared sizes and ratios, each sheet's real
used range scanned from its XML or BIFF records); the worker process's memory cap and the
per-file wall-clock limit catch whatever the cheap checks miss (a reader crash or hang then
costs that one file only, see :mod:`pipeline.ingest.pool`).

Default limits and why (a real submission is a ~20-60 KB workbook of 5-7 sheets, ~40-200 rows,
~25 columns, read in ~5 ms):

==========================  ===============  ===================================================
limit                       default          why
==========================  ===============  ===================================================
max_file_bytes              50 MiB           pictures of evidence pasted in make genuine files
                                             a few MB; 50 MiB is 1,000x a typical file
max_uncompressed_bytes      256 MiB          sum of the ZIP members' declared sizes (zip bombs)
max_compression_ratio       200              per member of >= 1 MiB: real sheet XML compresses
                                             5-60x, a zip bomb 400-1,000x
max_zip_members             10,000           read from the end-of-central-directory record
                                             before the central directory is loaded
max_sheets                  100              the template has 6 sheets
max_rows_per_sheet          100,000          used range: the last row holding a value
max_cols                    1,024            used range: the last column holding a value
max_cells                   2,000,000        used-range area from A1, rows x columns: what
                                             calamine allocates (one value in XFD1048576 =
                                             17e9 cells = a 512 GiB request and an abort)
max_cell_chars              32,767           Excel's own maximum: such cells are read whole;
                                             a longer string (only crafted files have one)
                                             rejects the file
seconds_per_file            30 s             wall clock per file in its worker (typical:
                                             5 ms; the worst corpus file: 0.1 s)
memory_bytes_per_worker     1 GiB            address space (``RLIMIT_AS``) a worker may add to
                                             the ~30 MiB it holds at start; peak RSS seen on
                                             the whole foreign corpus: < 40 MiB
==========================  ===============  ===================================================

The declared ``<dimension>`` of a sheet is not a limit: calamine allocates for the cells
actually present, so only the scanned used range counts (a declared A1:XFD1048576 over one
value is harmless and read). Control characters (C0 except tab, line feed, carriage return;
DEL and C1) are removed from cell text on reading: they have no meaning in an action plan and
break terminals, CSV and XML output.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.ingest.workbook import ReadFailure
from pipeline.locale_id import number

MIB = 1 << 20


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds for reading one file (see the module docstring for the defaults and reasons)."""

    max_file_bytes: int = 50 * MIB
    max_uncompressed_bytes: int = 256 * MIB
    max_compression_ratio: float = 200.0
    max_zip_members: int = 10_000
    max_sheets: int = 100
    max_rows_per_sheet: int = 100_000
    max_cols: int = 1_024
    max_cells: int = 2_000_000
    max_cell_chars: int = 32_767
    seconds_per_file: float = 30.0
    memory_bytes_per_worker: int = 1024 * MIB


DEFAULT_LIMITS = Limits()


def over_limit(what: str) -> ReadFailure:
    """RB-E007 naming the limit a file exceeds (``what``: an Indonesian clause)."""
    return ReadFailure("RB-E007", f"Berkas melampaui batas aman: {what}.")


def check_extent(sheet: str, rows: int, cols: int, limits: Limits) -> None:
    """Raise RB-E007 when a used range of ``rows`` x ``cols`` (from A1) is over a limit."""
    if rows > limits.max_rows_per_sheet:
        raise over_limit(
            f"lembar '{sheet}' memakai {number(rows)} baris, melebihi batas "
            f"{number(limits.max_rows_per_sheet)} baris"
        )
    if cols > limits.max_cols:
        raise over_limit(
            f"lembar '{sheet}' memakai {number(cols)} kolom, melebihi batas {number(limits.max_cols)} kolom"
        )
    if rows * cols > limits.max_cells:
        raise over_limit(
            f"lembar '{sheet}' mencakup {number(rows * cols)} sel (A1 sampai sel terisi terakhir), "
            f"melebihi batas {number(limits.max_cells)} sel"
        )


def mib(size: int) -> str:
    """A byte count in MiB, the Indonesian way (``50 MiB``, ``1,5 MiB``)."""
    return f"{number(size / MIB, 1)} MiB"
