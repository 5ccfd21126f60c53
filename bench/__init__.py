"""``make bench``: the real pipeline at three sizes, stage by stage, against the I/O floor.

    python -m bench [--quick] [--out bench/results] [--data bench/data] [--buat-ulang]

Scenarios (:data:`SCENARIOS`): (a) the standard demo month, run three times (median reported);
(b) 1,000 units of 40 action plans each, run with ``--workers 2`` and ``--workers 1`` (the
speed-up); (c) 5,000 units of 40 plans. ``--quick`` runs a smaller smoke variant
(:data:`QUICK_SCENARIOS`). Inputs come from :func:`pipeline.demo.generate_month` and are cached
under ``--data`` keyed by size, plans and seed, so a second bench skips generation (each folder's
``dibuat.json`` records the generator's source hash; ``--buat-ulang`` makes them again).

**What is measured.** Every run is the real ``rbpipe run`` CLI in a fresh interpreter
(:data:`CHILD`: ``pipeline.cli.run_cli`` then ``exit_now``, as the console script does), so
interpreter start and the Great Expectations import are included. Stage times come from inside that
process: a logging handler catches the run's own ``tahap <stage> dimulai/selesai`` lines and reads
the wall clock and the process's CPU at each. Worker processes (the ingest pool, the feedback pool)
are not children the run waits for, so their CPU and memory are read from ``/proc`` by a sampler in
this process (:class:`TreeSampler`, every 0.2 s: CPU a worker spent after its last sample is
missed, a few hundredths of a second per worker), and each worker's CPU is counted in the stage
during which it started. Memory: the peak RSS of the run's main process (its own ``ru_maxrss``,
also at the end of each stage) and of the largest worker, and the largest PSS summed over the whole
process tree at any sample (pages the processes share counted once).

**The I/O floor**, measured in the same bench on the same files, in a separate single process
(:func:`bench.floor.floor_main`): read every input the run reads with python-calamine (values of every
sheet), and write as many rows as the run consolidated — each row an input row with at least
three values, in reading order — with xlsxwriter in ``constant_memory`` mode; nothing else.
``ratio`` = run wall time / floor time.

That floor writes one workbook; a run writes one more per unit that sent anything (its feedback).
For the scenarios of at most :data:`PER_UNIT_FLOOR_MAX_FILES` files the floor process also
writes, per input file, a workbook holding that file's rows (same rule, same mode), and the
table shows ``ratio_per_unit`` = run wall / (floor + that time): the floor of the outputs a run
must produce, not only of the consolidated sheet.

Results are printed as one table per scenario (Indonesian, like all output of the tool) and
written as JSON to ``--out`` (one file per bench, with the commit, the machine and every
figure), for comparison across commits. Timing lives here and only here: tests never assert
wall-clock times.

The bench lives beside the package, not in it: it is a developer's tool, never installed.
Modules: :mod:`bench.scenarios` (sizes, targets), :mod:`bench.measure` (one measured run),
:mod:`bench.floor`, :mod:`bench.machine` (inputs, machine, commit), :mod:`bench.report`
(tables, targets, JSON), :mod:`bench.runner` (the bench), ``__main__`` (the command).
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
