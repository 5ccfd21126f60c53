"""One measured ``rbpipe run``: a fresh interpreter, its stages clocked from its own log lines,
its process tree sampled from ``/proc`` (see the package docstring for what is measured)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from bench.machine import read_proc
from bench.scenarios import PERIOD, SAMPLE_SECONDS, STAGES, TICKS
from pipeline.outputs import OutputLayout
from pipeline.registry import Period

# Run as ``python -c CHILD run --period ...``: the rbpipe CLI, plus a logging handler that
# clocks each stage from the run's own "tahap %s dimulai" / "tahap %s selesai ..." lines and
# writes what it saw to $RBPIPE_BENCH_CLOCK when the process ends.
CHILD = r"""
import json, logging, os, resource, sys, time

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def hwm():
    # The process's own peak RSS. Not ru_maxrss: Linux carries that over from the parent
    # across fork and exec, so a big parent (pytest) would show as the run's peak.
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))

class StageClock(logging.Handler):
    def __init__(self):
        super().__init__()
        self.stages = {}

    def emit(self, record):
        if not record.args or not isinstance(record.msg, str):
            return
        name = record.args[0]
        if record.msg == "tahap %s dimulai":
            self.stages[name] = {"start": time.time(), "w": time.perf_counter(), "c": cpu()}
        elif record.msg.startswith("tahap %s selesai") and name in self.stages:
            s = self.stages[name]
            s.update(end=time.time(), wall_s=time.perf_counter() - s.pop("w"),
                     cpu_s=cpu() - s.pop("c"),
                     maxrss_kib=hwm())

clock = StageClock()
logging.getLogger("rbpipe").addHandler(clock)
sys.argv = ["rbpipe", *sys.argv[1:]]
from pipeline.cli import exit_now, run_cli
code = 3
try:
    code = run_cli()
finally:
    with open(os.environ["RBPIPE_BENCH_CLOCK"], "w", encoding="utf-8") as fh:
        json.dump({"stages": clock.stages, "cpu_s": cpu(),
                   "maxrss_kib": hwm()}, fh)
exit_now(code)
"""


@dataclass(kw_only=True)
class _Proc:
    """What the sampler saw of one process of the tree."""

    first_seen: float
    cpu_s: float = 0.0
    hwm_kib: int = 0


class TreeSampler(threading.Thread):
    """Samples CPU time and memory of a process and all its descendants from ``/proc`` until
    stopped: per process its CPU (last seen) and peak RSS (``VmHWM``), and the peak of the
    tree's summed proportional set size (PSS: pages shared between processes, such as a fork
    server's, counted once; RSS where PSS is not available)."""

    def __init__(self, root: int, interval: float = SAMPLE_SECONDS) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.procs: dict[int, _Proc] = {}
        self.peak_total_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def sample(self) -> None:
        total = 0
        now = time.time()
        for pid in _tree(self.root):
            stat, status = read_proc(f"/proc/{pid}/stat"), read_proc(f"/proc/{pid}/status")
            if not stat or not status:
                continue
            fields = stat.rpartition(")")[2].split()
            proc = self.procs.setdefault(pid, _Proc(first_seen=now))
            proc.cpu_s = (int(fields[11]) + int(fields[12])) / TICKS
            memory = _status_kib(status)
            proc.hwm_kib = max(proc.hwm_kib, memory.get("VmHWM", 0))
            total += _pss_kib(pid) or memory.get("VmRSS", 0)
        self.peak_total_kib = max(self.peak_total_kib, total)


def _status_kib(status: str) -> dict[str, int]:
    out = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0])
    return out


def _pss_kib(pid: int) -> int:
    for line in read_proc(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (the children lists of every thread of each process)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            todo.extend(int(c) for c in read_proc(f"/proc/{pid}/task/{tid}/children").split())
    return out


@dataclass(kw_only=True)
class RunMeasure:
    """One measured run."""

    workers: int | None
    wall_s: float
    cpu_s: float  # main process and every worker
    stages: dict[str, dict[str, float]]  # stage -> wall_s, cpu_s (workers included)
    other_wall_s: float  # interpreter start, imports before the first stage, lock, summary
    main_peak_rss_bytes: int
    worker_peak_rss_bytes: int
    tree_peak_pss_bytes: int  # the whole process tree at once, shared pages counted once
    files: int
    rows: int
    exit_code: int
    warm: bool = False  # run again into the outputs of an earlier run (the incremental cache)
    cache: dict | None = None  # the run's cache figures (manifest info.cache), when it has one
    resent: list[str] = field(default_factory=list)  # files re-sent before this (warm) run


def measure_run(
    inputs: Path, outputs: Path, *, workers: int | None, period: str = PERIOD, warm: bool = False
) -> RunMeasure:
    """Run ``rbpipe run`` on ``inputs`` into ``outputs`` in a new interpreter and measure it
    (see the module docstring). ``outputs`` is emptied first unless ``warm``: then the run
    finds the earlier run's outputs and cache there, as an analyst's re-run does."""
    if not warm:
        shutil.rmtree(outputs, ignore_errors=True)
    clock_file = Path(tempfile.mkstemp(prefix="rbpipe-bench-", suffix=".json")[1])
    args = ["run", "--period", period, "--inputs", str(inputs), "--outputs", str(outputs)]
    if workers is not None:
        args += ["--workers", str(workers)]
    env = {**os.environ, "RBPIPE_BENCH_CLOCK": str(clock_file)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    try:
        clock = json.loads(clock_file.read_text(encoding="utf-8"))
    finally:
        clock_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise click.ClickException(
            f"rbpipe run gagal (kode {proc.returncode}) pada {inputs}:\n{out}\n{err}"
        )
    layout = OutputLayout(outputs=outputs, period=Period.parse(period))
    manifest = json.loads(layout.manifest.read_text(encoding="utf-8"))
    stages = _stage_figures(clock["stages"], sampler, proc.pid)
    workers_cpu = sum(p.cpu_s for pid, p in sampler.procs.items() if pid != proc.pid)
    return RunMeasure(
        workers=workers,
        wall_s=wall,
        cpu_s=clock["cpu_s"] + workers_cpu,
        stages=stages,
        other_wall_s=wall - sum(s["wall_s"] for s in stages.values()),
        main_peak_rss_bytes=clock["maxrss_kib"] * 1024,
        worker_peak_rss_bytes=max(
            (p.hwm_kib for pid, p in sampler.procs.items() if pid != proc.pid), default=0
        )
        * 1024,
        tree_peak_pss_bytes=sampler.peak_total_kib * 1024,
        files=manifest["totals"]["files"],
        rows=manifest["totals"]["rows_consolidated"],
        exit_code=proc.returncode,
        warm=warm,
        cache=manifest.get("info", {}).get("cache"),
    )


@dataclass(kw_only=True)
class ProcessMeasure:
    """One measured run of another program (a shared reference script)."""

    wall_s: float
    cpu_s: float  # the process and the children it waited for
    tree_peak_pss_bytes: int


def measure_process(command: list[str]) -> ProcessMeasure:
    """Run ``command`` to its end, timing it and sampling its process tree; a failure stops
    the bench with the program's error output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    if proc.returncode != 0:
        raise click.ClickException(f"{' '.join(command)} gagal (kode {proc.returncode}):\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ProcessMeasure(
        wall_s=wall,
        cpu_s=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        tree_peak_pss_bytes=sampler.peak_total_kib * 1024,
    )


def _stage_figures(clocked: dict, sampler: TreeSampler, main_pid: int) -> dict:
    """Per stage: wall seconds, CPU seconds of the main process plus the workers that started
    during the stage, and the main process's peak RSS at the stage's end."""
    out = {}
    for name in STAGES:
        stage = clocked.get(name)
        if stage is None or "wall_s" not in stage:
            continue
        workers = sum(
            p.cpu_s
            for pid, p in sampler.procs.items()
            if pid != main_pid and stage["start"] <= p.first_seen <= stage["end"]
        )
        out[name] = {
            "wall_s": stage["wall_s"],
            "cpu_s": stage["cpu_s"] + workers,
            "main_peak_rss_bytes": stage["maxrss_kib"] * 1024,  # so far, at the stage's end
        }
    return out


def median_run(runs: list[RunMeasure]) -> RunMeasure:
    """The run of median wall time (the middle one of an odd count)."""
    ordered = sorted(runs, key=lambda r: r.wall_s)
    return ordered[(len(ordered) - 1) // 2]
