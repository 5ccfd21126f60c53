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

import click

from bench.scenarios import HELP_RUNS, PERIOD, REPO, SEED, Scenario, peers_dir
from pipeline.registry import REGISTRY_FILE


def read_proc(path: str) -> str:
    """A ``/proc`` file's text, empty when it cannot be read (the process is gone)."""
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def ensure_inputs(
    data: Path,
    scenario: Scenario,
    *,
    regenerate=False,
    scenarios: dict[str, Scenario] | None = None,
) -> tuple[Path, float]:
    """The inputs folder of ``scenario`` (``<data>/<key>/``, holding ``<PERIOD>/`` and, for a
    synthetic registry, ``unit_kerja.csv``), made unless cached (or ``regenerate``); and the
    seconds spent making it (0 when cached; for a derived month, the bigger month's generation
    is included when it had to be made too). ``dibuat.json`` in it says how it was made; a
    month made by another version of its generator is made again.

    ``scenarios`` (by name) resolves ``derive_from``."""
    inputs = data / scenario.key
    stamp = inputs / STAMP
    if not regenerate and stamp.is_file() and _fresh(scenario, stamp):
        return inputs, 0.0
    shutil.rmtree(inputs, ignore_errors=True)
    started = time.perf_counter()
    if scenario.derive_from:
        parent = (scenarios or {})[scenario.derive_from]
        parent_inputs, parent_seconds = ensure_inputs(data, parent, regenerate=regenerate)
        facts = _derive(parent_inputs, inputs, scenario)
        facts["derived_from"] = parent.key
        seconds = time.perf_counter() - started
        facts["generated_s"] = round(seconds, 1)
        seconds = max(seconds, parent_seconds)
    else:
        facts = _scale(inputs, scenario) if scenario.source == "scale" else _demo(inputs, scenario)
        seconds = time.perf_counter() - started
        facts["generated_s"] = round(seconds, 1)
    facts["generator_sha256"] = generator_hash(scenario)
    stamp.write_text(json.dumps(facts, indent=2, ensure_ascii=False), encoding="utf-8")
    return inputs, seconds


STAMP = "dibuat.json"


def _fresh(scenario: Scenario, stamp: Path) -> bool:
    try:
        facts = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return facts.get("generator_sha256") == generator_hash(scenario)


def _demo(inputs: Path, scenario: Scenario) -> dict:
    """The demo generator's month (the standard one, or ``units`` synthetic units)."""
    from pipeline.demo import generate_month
    from pipeline.registry import Period, load_registry

    plan = generate_month(
        inputs / PERIOD,
        Period.parse(PERIOD),
        load_registry(None),
        seed=SEED,
        n_units=scenario.units,
        n_plans=scenario.plans,
    )
    return {
        "source": scenario.source,
        "units": scenario.units,
        "plans": scenario.plans,
        "seed": SEED,
        "period": PERIOD,
        "files": len(plan.files),
        "accepted_plans": sum(len(f.rows) for f in plan.files if f.expected_status == "accepted"),
        # For months derived from this one: who sent each file, and how many plans it gives.
        "file_units": {
            f.name: [f.unit, len(f.rows) if f.expected_status == "accepted" else 0]
            for f in plan.files
        },
        "ignored": list(plan.ignored),
    }


def _scale(inputs: Path, scenario: Scenario) -> dict:
    """The shared ``scale.py`` month, made by running that script as it is."""
    script = peers_dir() / "scale.py"
    if not script.is_file():
        raise click.ClickException(
            f"Skrip pembanding {script} tidak ditemukan (atur RBPIPE_BENCH_PEERS atau --pembanding)."
        )
    month = inputs / PERIOD
    subprocess.run(
        [sys.executable, str(script), str(month), PERIOD, str(scenario.plans)],
        check=True,
        capture_output=True,
    )
    files = sorted(p.name for p in month.iterdir())
    return {
        "source": "scale",
        "plans_per_sheet": scenario.plans,
        "period": PERIOD,
        "files": len(files),
        "accepted_plans": 2 * scenario.plans * len(files),
    }


def _derive(parent: Path, inputs: Path, scenario: Scenario) -> dict:
    """The first ``scenario.units`` units of ``parent``'s synthetic month: their files
    (hard links where possible), the files of unknown senders and the ignored ones, and the
    registry cut to those units."""
    facts = json.loads((parent / STAMP).read_text(encoding="utf-8"))
    with (parent / REGISTRY_FILE).open(encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines(keepends=True)
    kept_lines = lines[: 1 + scenario.units]
    codes = {line.split(",", 1)[0] for line in kept_lines[1:]}
    month, source = inputs / PERIOD, parent / PERIOD
    month.mkdir(parents=True)
    (inputs / REGISTRY_FILE).write_text("".join(kept_lines), encoding="utf-8")
    taken, plans = [], 0
    for name, (unit, count) in facts["file_units"].items():
        if unit is None or unit in codes:
            taken.append(name)
            plans += count
    files = len(taken)
    taken += facts.get("ignored", [])
    for name in taken:
        target = month / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source / name, target)
        except OSError:
            shutil.copy2(source / name, target)
    return {
        "source": "synthetic",
        "units": scenario.units,
        "plans": scenario.plans,
        "seed": SEED,
        "period": PERIOD,
        "files": files,
        "accepted_plans": plans,
    }


def generator_hash(scenario: Scenario) -> str:
    """SHA-256 of what makes the scenario's inputs: the demo generator's source, or the shared
    scale.py (a cached month is stale when it changes)."""
    if scenario.source == "scale":
        script = peers_dir() / "scale.py"
        return hashlib.sha256(script.read_bytes()).hexdigest() if script.is_file() else ""
    return demo_source_hash()


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
