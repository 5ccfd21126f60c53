"""The bench: each scenario's inputs, its measured runs and its floor; then the tables, the
targets and the JSON file."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

import click

from bench.floor import measure_floor
from bench.machine import (
    commit,
    demo_source_hash,
    ensure_inputs,
    machine,
    measure_help,
    parallelism_probe,
)
from bench.measure import measure_run
from bench.report import ScenarioResult, format_scenario, results_json, target_lines
from bench.scenarios import PERIOD, Scenario
from bench.styled import measure_styled_blanks, styled_line
from pipeline.locale_id import number


def _workers_label(workers: int | None) -> str:
    return "bawaan" if workers is None else str(workers)


def run_scenario(
    scenario: Scenario, data: Path, work: Path, echo, *, regenerate=False
) -> ScenarioResult:
    inputs, generated = ensure_inputs(data, scenario, regenerate=regenerate)
    stamp = json.loads((inputs / "dibuat.json").read_text(encoding="utf-8"))
    if generated:
        echo(f"  data dibuat dalam {number(generated, 1)} detik: {inputs}")
    elif stamp.get("demo_source_sha256") != demo_source_hash():
        echo(
            "  catatan: data ini dibuat oleh versi pembuat data contoh (pipeline/demo*.py) yang "
            "lain; jalankan dengan --buat-ulang untuk membuatnya lagi."
        )
    result = ScenarioResult(
        scenario=scenario, inputs=str(inputs), generated_s=generated, inputs_stamp=stamp
    )
    for workers in scenario.workers:
        runs = []
        for i in range(scenario.repeats):
            run = measure_run(inputs, work / f"{scenario.name}-{workers}-{i}", workers=workers)
            echo(
                f"  run {i + 1}/{scenario.repeats} (--workers {_workers_label(workers)}): "
                f"{number(run.wall_s, 1)} detik"
            )
            runs.append(run)
        result.runs[_workers_label(workers)] = runs
    result.floor = measure_floor(inputs / PERIOD, result.main_run().rows)
    return result


def run_bench(
    scenarios: tuple[Scenario, ...], *, data: Path, out: Path, echo=click.echo, regenerate=False
) -> Path:
    """Run ``scenarios``, print their tables and the targets, write the JSON; return its path.
    ``regenerate``: make the inputs again even when cached."""
    data.mkdir(parents=True, exist_ok=True)
    (data / ".gitignore").write_text("*\n", encoding="utf-8")  # generated inputs stay local
    started = time.perf_counter()
    meta = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "parallelism_probe": parallelism_probe(),
        "demo_source_sha256": demo_source_hash(),
    }
    echo(
        f"rbpipe bench — {meta['machine']['cpus']} CPU, beban {number(meta['machine']['load_average'][0], 2)}, "
        f"paralelisme tersedia {number(meta['parallelism_probe'], 2)}x"
    )
    help_times = measure_help()
    meta["styled_blanks"] = measure_styled_blanks()
    echo(styled_line(meta["styled_blanks"]))
    results: dict[str, ScenarioResult] = {}
    with tempfile.TemporaryDirectory(prefix="rbpipe-bench-") as work:
        for scenario in scenarios:
            echo(f"Skenario {scenario.name} ({scenario.label}) ...")
            results[scenario.name] = run_scenario(
                scenario, data, Path(work), echo, regenerate=regenerate
            )
    echo("")
    for result in results.values():
        for line in format_scenario(result):
            echo(line)
        echo("")
    for line in target_lines(results, help_times, meta["parallelism_probe"]):
        echo(line)
    meta["bench_s"] = time.perf_counter() - started
    meta["machine"]["load_average_end"] = list(os.getloadavg())
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"bench-{stamp}-{(meta['commit']['hash'] or 'tanpa-git')[:10]}.json"
    path.write_text(
        json.dumps(results_json(results, help_times, meta), indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    echo(f"\nBench selesai dalam {number(meta['bench_s'], 0)} detik; hasil: {path}")
    return path
