"""``make bench``: the real pipeline at four sizes, stage by stage, beside the I/O floor and the
naive peer, cold and re-run after units re-send their files.

    python -m bench [--quick] [--putaran N] [--skenario NAME] [--out bench/results]
                    [--data DIR] [--buat-ulang] [--pembanding DIR]

Scenarios (:data:`SCENARIOS`, issue 17): (a) the standard demo month; (b) 51 units x 300 action
plans per sheet, made by the shared ``scale.py``, measured side by side with the shared
``floor.py`` (python-calamine read, xlsxwriter constant_memory write of the consolidated rows and
of one workbook per unit) and ``naive.py`` (per file pandas+openpyxl and one GX run); (c) 1,000
units of 40 plans, ``--workers 2`` and ``--workers 1``, against :mod:`bench.floor` writing one
workbook per file; (d) 5,000 units of 40 plans. (a)-(c) are also run again after 1 (10 for the
1,000 month) of their files are re-sent (:mod:`bench.resend`): the warm re-run the incremental
cache is for. ``--quick`` runs a smaller smoke variant (:data:`QUICK_SCENARIOS`).

**Rounds, medians, spreads.** Each scenario runs ``rounds`` rounds; in a round its measurements
are made one after another on the same inputs (cold run(s), re-send and warm run, peers,
floor). Every figure is the median over the rounds with its min-max spread; a ratio is taken per
round, from the two measurements of that round, before its median: the machine is shared and only
measurements made together compare. ``--putaran`` overrides the rounds of every scenario.

**Inputs** are made once and kept outside the clone, in ``${XDG_CACHE_HOME:-~/.cache}/
rbpipe-bench/`` (``--data``), each folder with a ``dibuat.json`` saying how and by which version of
its generator (the demo generator's source, or ``scale.py``) it was made; a stale one is made
again. The 1,000-unit month is not generated: it is the first 1,000 units of the 5,000-unit month
(their files as hard links, the registry cut to them). The first bench spends a few minutes
making inputs (printed, and kept out of the bench's duration figure).

**What is measured.** Every run is the real ``rbpipe run`` CLI in a fresh interpreter
(:data:`CHILD`: ``pipeline.cli.run_cli`` then ``exit_now``, as the console script does), so
interpreter start and the Great Expectations import are included. Stage times come from inside that
process: a logging handler catches the run's own ``tahap <stage> dimulai/selesai`` lines and reads
the wall clock and the process's CPU at each. Worker processes (the ingest pool, the feedback pool)
are not children the run waits for, so their CPU and memory are read from ``/proc`` by a sampler in
this process (:class:`TreeSampler`, every 0.2 s: CPU a worker spent after its last sample is
missed, a few hundredths of a second per worker), and each worker's CPU is counted in the stage
during which it started. Memory: the peak RSS of the run's main process (its own ``VmHWM``,
also at the end of each stage) and of the largest worker, and the largest PSS summed over the whole
process tree at any sample (pages the processes share counted once). The shared scripts are timed
as whole processes the same way (:func:`bench.measure.measure_process`).

Results are printed as one table per scenario and a summary of every figure with its target
(Indonesian, like all output of the tool), and written to ``--out`` as JSON (the commit, the
machine, its load, every measurement) and as a Markdown table for ``docs/decisions.md``. Timing
lives here and only here: tests never assert wall-clock times.

The bench lives beside the package, not in it: it is a developer's tool, never installed.
Modules: :mod:`bench.scenarios` (sizes, targets), :mod:`bench.machine` (inputs, machine, commit),
:mod:`bench.resend`, :mod:`bench.measure` (one measured run), :mod:`bench.floor`,
:mod:`bench.report` (tables, targets, JSON, Markdown), :mod:`bench.runner` (the bench),
:mod:`bench.portal` (warm check against a cold ``rbpipe check``, 51 uploads at once),
:mod:`bench.deadline` (deadline day: 51 unit sessions uploading and re-uploading while the board
is polled and the month runs; throughput, p50/p95 per endpoint, errors, lost uploads),
``__main__`` (the command).
"""

from bench.machine import ensure_inputs
from bench.runner import run_bench
from bench.scenarios import HELP_RUNS, PERIOD, QUICK_SCENARIOS, SCENARIOS, STAGES, Scenario

__all__ = [
    "HELP_RUNS",
    "PERIOD",
    "QUICK_SCENARIOS",
    "SCENARIOS",
    "STAGES",
    "Scenario",
    "ensure_inputs",
    "run_bench",
]
