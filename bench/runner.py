"""The bench: each scenario's inputs, its rounds of measured runs beside the reference floors and
the naive peer, its warm re-runs; then the tables, the targets and the JSON and Markdown
records."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
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
from bench.measure import measure_process, measure_run
from bench.report import (
    ScenarioResult,
    format_scenario,
    markdown_table,
    results_json,
    target_lines,
)
from bench.resend import resend, work_copy
from bench.scenarios import PERIOD, Scenario, peers_dir
from bench.styled import measure_styled_blanks, styled_line
from pipeline.locale_id import number

# The bench's parts as printed (Indonesian); the JSON and the Markdown keep the English keys.
PART_LABEL = {"setup": "persiapan", "deadline day": "hari tenggat"}


def workers_label(workers: int | None) -> str:
    return "bawaan" if workers is None else str(workers)


def run_scenario(
    scenario: Scenario,
    data: Path,
    work: Path,
    echo,
    *,
    regenerate=False,
    scenarios: dict[str, Scenario] | None = None,
) -> ScenarioResult:
    inputs, generated = ensure_inputs(data, scenario, regenerate=regenerate, scenarios=scenarios)
    stamp = json.loads((inputs / "dibuat.json").read_text(encoding="utf-8"))
    if generated:
        echo(f"  data dibuat dalam {number(generated, 1)} detik: {inputs}")
    result = ScenarioResult(
        scenario=scenario, inputs=str(inputs), generated_s=generated, inputs_stamp=stamp
    )
    first = workers_label(scenario.workers[0])
    for i in range(scenario.rounds):
        echo(f"  putaran {i + 1}/{scenario.rounds}:")
        # A round that re-sends files works on its own copy (hard links) of the cached month.
        month_inputs = (
            work_copy(inputs, work / f"{scenario.name}-masukan") if scenario.resend else inputs
        )
        for workers in scenario.workers:
            label = workers_label(workers)
            run = measure_run(month_inputs, work / f"{scenario.name}-{label}", workers=workers)
            result.runs.setdefault(label, []).append(run)
            echo(f"    rbpipe run --workers {label}: {number(run.wall_s, 1)} detik")
        if scenario.resend:
            changed = resend(month_inputs, scenario.resend)
            warm = measure_run(
                month_inputs,
                work / f"{scenario.name}-{first}",
                workers=scenario.workers[0],
                warm=True,
            )
            warm.resent = changed
            result.warm.append(warm)
            echo(
                f"    rbpipe run lagi setelah {len(changed)} berkas dikirim ulang: "
                f"{number(warm.wall_s, 1)} detik"
            )
        month = inputs / PERIOD
        if scenario.peers:
            for name, store in (("floor.py", result.peer_floor), ("naive.py", result.naive)):
                out = work / f"{scenario.name}-{name}.xlsx"
                measured = measure_process(
                    [sys.executable, str(peers_dir() / name), str(month), str(out)]
                )
                store.append(measured)
                echo(f"    {name}: {number(measured.wall_s, 1)} detik")
        if scenario.per_file_floor:
            floor = measure_floor(month, result.runs[first][-1].rows, per_file=True)
            result.floors.append(floor)
            echo(
                f"    lantai I/O per berkas (bench.floor): "
                f"{number(floor['total_s'] + floor['per_unit_write_s'], 1)} detik"
            )
    return result


def run_bench(
    scenarios: tuple[Scenario, ...],
    *,
    data: Path,
    out: Path,
    echo=click.echo,
    regenerate=False,
    sources: tuple[Scenario, ...] = (),
    portal: bool = False,
) -> Path:
    """Run ``scenarios``, print their tables and the targets, write the JSON (and a Markdown
    table for docs/decisions.md); return the JSON's path. ``regenerate``: make the inputs again
    even when cached; ``sources``: more scenarios that a derived one may come from; ``portal``:
    measure the portal too (:mod:`bench.portal`, and the deadline day of :mod:`bench.deadline`),
    its figures among the targets."""
    data.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    meta = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "parallelism_probe": parallelism_probe(),
        "demo_source_sha256": demo_source_hash(),
        "data": str(data),
    }
    echo(
        f"rbpipe bench — {meta['machine']['cpus']} CPU, beban {number(meta['machine']['load_average'][0], 2)}, "
        f"paralelisme tersedia {number(meta['parallelism_probe'], 2)}x; data masukan di {data}"
    )
    help_times = measure_help()
    meta["styled_blanks"] = measure_styled_blanks()
    echo(styled_line(meta["styled_blanks"]))
    results: dict[str, ScenarioResult] = {}
    by_name = {s.name: s for s in (*sources, *scenarios)}
    # Where the bench's own time goes: seconds per scenario (input generation included) and
    # per portal part, in the JSON and under the Markdown table.
    parts: dict[str, float] = {"setup": time.perf_counter() - started}
    meta["parts_s"] = parts
    with tempfile.TemporaryDirectory(prefix="rbpipe-bench-") as work:
        for scenario in scenarios:
            echo(f"Skenario {scenario.name} ({scenario.label}) ...")
            begun = time.perf_counter()
            results[scenario.name] = run_scenario(
                scenario, data, Path(work), echo, regenerate=regenerate, scenarios=by_name
            )
            parts[scenario.name] = time.perf_counter() - begun
    if portal:
        from bench.portal import format_portal, portal_bench

        echo("Portal ...")
        begun = time.perf_counter()
        meta["portal"] = portal_bench(echo)
        parts["portal"] = time.perf_counter() - begun
        for line in format_portal(meta["portal"]):
            echo(line)
        from bench.deadline import Plan, format_day, run_day

        begun = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="rbpipe-bench-tenggat-") as work:
            meta["deadline"] = run_day(Plan(), Path(work), echo=echo)
        parts["deadline day"] = time.perf_counter() - begun
        for line in format_day(meta["deadline"]):
            echo(line)
    echo(
        "Durasi bagian bench: "
        + ", ".join(
            f"{PART_LABEL.get(name, name)} {number(seconds, 0)} detik"
            for name, seconds in parts.items()
        )
    )
    meta["bench_s"] = time.perf_counter() - started
    meta["generated_s"] = sum(r.generated_s for r in results.values())
    meta["machine"]["load_average_end"] = list(os.getloadavg())
    echo("")
    for result in results.values():
        for line in format_scenario(result):
            echo(line)
        echo("")
    for line in target_lines(results, help_times, meta):
        echo(line)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"bench-{stamp}-{(meta['commit']['hash'] or 'tanpa-git')[:10]}.json"
    path.write_text(
        json.dumps(results_json(results, help_times, meta), indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    path.with_suffix(".md").write_text(markdown_table(results, help_times, meta), encoding="utf-8")
    echo(f"\nHasil: {path} (tabel untuk docs/decisions.md: {path.with_suffix('.md').name})")
    return path
