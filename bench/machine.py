"""The bench's inputs (generated once, cached), and what it records of the machine and commit."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.scenarios import HELP_RUNS, PERIOD, REPO, SEED, Scenario


def read_proc(path: str) -> str:
    """A ``/proc`` file's text, empty when it cannot be read (the process is gone)."""
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def ensure_inputs(data: Path, scenario: Scenario, *, regenerate=False) -> tuple[Path, float]:
    """The inputs folder of ``scenario`` (``<data>/<key>/``, holding ``<PERIOD>/`` and, for a
    synthetic registry, ``unit_kerja.csv``), generated unless cached (or ``regenerate``); and
    the seconds spent generating (0 when cached). ``dibuat.json`` in it says how it was made."""
    inputs = data / scenario.key
    stamp = inputs / "dibuat.json"
    if stamp.is_file() and not regenerate:
        return inputs, 0.0
    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    shutil.rmtree(inputs, ignore_errors=True)
    started = time.perf_counter()
    plan = generate_month(
        inputs / PERIOD,
        Period.parse(PERIOD),
        load_registry(None),
        seed=SEED,
        n_units=scenario.units,
        n_plans=scenario.plans,
    )
    seconds = time.perf_counter() - started
    stamp.write_text(
        json.dumps(
            {
                "units": scenario.units,
                "plans": scenario.plans,
                "seed": SEED,
                "period": PERIOD,
                "files": len(plan.files),
                "accepted_plans": sum(
                    len(f.rows) for f in plan.files if f.expected_status == "accepted"
                ),
                "generated_s": round(seconds, 1),
                "demo_source_sha256": demo_source_hash(),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return inputs, seconds


def demo_source_hash() -> str:
    """SHA-256 of the demo generator's source: cached inputs are stale when it changes."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "pipeline" / "demo").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def measure_help(runs: int = HELP_RUNS) -> list[float]:
    """Wall seconds of ``rbpipe --help`` (the installed console script when present)."""
    script = Path(sys.executable).with_name("rbpipe")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([*command, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def parallelism_probe(seconds: float = 0.4) -> float:
    """How many CPU cores this bench actually gets now: the speed-up of two processes
    spinning over one doing the same work (other load on the machine lowers it)."""
    code = (
        f"import time\nend = time.process_time() + {seconds!r}\nn = 0\n"
        "while time.process_time() < end:\n    n += 1\n"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    one = time.perf_counter() - started
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    for p in procs:
        p.wait()
    two = time.perf_counter() - started
    return round(2 * one / two, 2) if two else 0.0


def machine() -> dict:
    memory = read_proc("/proc/meminfo").splitlines()
    total = next((int(line.split()[1]) for line in memory if line.startswith("MemTotal")), 0)
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in read_proc("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_bytes": total * 1024,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()),
    }


def commit() -> dict:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    return {"hash": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
