"""The bench's results: one table per scenario, the targets, and the JSON record (Indonesian
text, numbers written the Indonesian way)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field

from bench.measure import RunMeasure, median_run
from bench.scenarios import (
    TARGET_DEMO_SECONDS,
    TARGET_HELP_SECONDS,
    TARGET_LINEARITY,
    TARGET_RATIO,
    TARGET_RSS_BYTES,
    TARGET_SPEEDUP,
    Scenario,
)
from pipeline.locale_id import number


@dataclass(kw_only=True)
class ScenarioResult:
    scenario: Scenario
    inputs: str
    generated_s: float
    inputs_stamp: dict  # the inputs' dibuat.json: how and by which generator they were made
    runs: dict[str, list[RunMeasure]] = field(default_factory=dict)  # workers label -> runs
    floor: dict = field(default_factory=dict)

    def main_run(self) -> RunMeasure:
        """The median run of the scenario's first workers setting."""
        return median_run(next(iter(self.runs.values())))

    @property
    def ratio(self) -> float:
        return self.main_run().wall_s / self.floor["total_s"] if self.floor else float("nan")

    @property
    def ratio_per_unit(self) -> float | None:
        """Run wall time over the floor that also writes one workbook per input file."""
        extra = self.floor.get("per_unit_write_s") if self.floor else None
        if extra is None:
            return None
        return self.main_run().wall_s / (self.floor["total_s"] + extra)

    @property
    def speedup(self) -> float | None:
        """``--workers 1`` wall over ``--workers 2`` wall, when both were run."""
        one, two = self.runs.get("1"), self.runs.get("2")
        if not one or not two:
            return None
        return median_run(one).wall_s / median_run(two).wall_s


def _short(value: float) -> str:
    """A target as people write it: ``6``, ``1,6``, ``0,3``."""
    return number(value, 2).rstrip("0").rstrip(",")


def _mib(value: float) -> str:
    return f"{number(value / (1 << 20))} MiB"


def format_scenario(result: ScenarioResult) -> list[str]:
    """The scenario's table (Indonesian)."""
    run = result.main_run()
    s = result.scenario
    lines = [
        f"Skenario {s.name}: {s.label} ({number(run.files)} berkas, "
        f"{number(run.rows)} rencana aksi)"
    ]
    for label, runs in result.runs.items():
        walls = ", ".join(f"{number(r.wall_s, 1)}" for r in runs)
        lines.append(
            f"  --workers {label}: {len(runs)} kali jalan, waktu {walls} detik; median "
            f"{number(median_run(runs).wall_s, 1)} detik"
        )
    lines.append(f"  Rincian run median (--workers {next(iter(result.runs))}):")
    lines.append(
        f"    {'tahap':<10} {'waktu (s)':>10} {'CPU (s)':>9} {'baris/detik':>12} "
        f"{'RSS utama s.d. tahap':>21}"
    )
    rows = [
        (name, fig["wall_s"], fig["cpu_s"], _mib(fig["main_peak_rss_bytes"]))
        for name, fig in run.stages.items()
    ]
    other_cpu = run.cpu_s - sum(fig["cpu_s"] for fig in run.stages.values())
    rows.append(("lainnya", run.other_wall_s, other_cpu, ""))
    rows.append(("total", run.wall_s, run.cpu_s, _mib(run.main_peak_rss_bytes)))
    for name, wall, cpu, rss in rows:
        rate = number(run.rows / wall) if wall > 0 else "-"
        lines.append(
            f"    {name:<10} {number(wall, 2):>10} {number(cpu, 2):>9} {rate:>12} {rss:>21}"
        )
    lines.append(
        f"  RSS puncak: proses utama {_mib(run.main_peak_rss_bytes)}, pekerja terbesar "
        f"{_mib(run.worker_peak_rss_bytes)}; seluruh proses bersamaan (PSS) "
        f"{_mib(run.tree_peak_pss_bytes)}"
    )
    f = result.floor
    lines.append(
        f"  Lantai I/O (1 proses): baca {number(f['read_s'], 2)} + tulis {number(f['write_s'], 2)} = "
        f"{number(f['total_s'], 2)} detik ({number(f['files'])} berkas, {f['unreadable']} tak "
        f"terbaca, {number(f['rows_written'])} baris ditulis); rasio run/lantai = "
        f"{number(result.ratio, 2)}"
    )
    if result.ratio_per_unit is not None:
        lines.append(
            f"  Lantai I/O dengan satu buku kerja per berkas masuk (seperti umpan balik): "
            f"{number(f['total_s'] + f['per_unit_write_s'], 2)} detik; rasio run/lantai ini = "
            f"{number(result.ratio_per_unit, 2)}"
        )
    speedup = result.speedup
    if speedup is not None:
        lines.append(f"  Percepatan --workers 2 dibanding --workers 1: {number(speedup, 2)}x")
    lines.append(f"  Waktu per berkas: {number(run.wall_s / max(run.files, 1) * 1000, 1)} ms")
    return lines


def target_lines(
    results: dict[str, ScenarioResult], help_times: list[float], parallelism: float
) -> list[str]:
    """Each issue-8 target with the measured figure and whether it is met (Indonesian);
    ``parallelism`` is :func:`parallelism_probe`'s figure, the ceiling of any speed-up."""

    def verdict(ok: bool) -> str:
        return "tercapai" if ok else "TIDAK tercapai"

    lines = ["Target (issue 8):"]
    if "demo" in results:
        demo = results["demo"].main_run().wall_s
        lines.append(
            f"  bulan contoh < {_short(TARGET_DEMO_SECONDS)} detik: median {number(demo, 2)} detik — "
            f"{verdict(demo < TARGET_DEMO_SECONDS)}"
        )
    big = results.get("1000") or results.get("200")
    if big:
        lines.append(
            f"  {big.scenario.name} unit: rasio run/lantai <= {_short(TARGET_RATIO)}: "
            f"{number(big.ratio, 2)} — {verdict(big.ratio <= TARGET_RATIO)}"
        )
        if big.ratio_per_unit is not None:
            lines.append(
                f"    terhadap lantai yang juga menulis satu buku kerja per berkas: "
                f"{number(big.ratio_per_unit, 2)} — {verdict(big.ratio_per_unit <= TARGET_RATIO)}"
            )
        if big.speedup is not None:
            lines.append(
                f"  {big.scenario.name} unit: --workers 2 >= {_short(TARGET_SPEEDUP)}x lebih cepat: "
                f"{number(big.speedup, 2)}x — {verdict(big.speedup >= TARGET_SPEEDUP)} (paralelisme "
                f"yang tersedia saat bench diukur: {number(parallelism, 2)}x)"
            )
    if "5000" in results:
        huge = results["5000"].main_run()
        peak = max(huge.main_peak_rss_bytes, huge.tree_peak_pss_bytes)
        lines.append(
            f"  5000 unit: memori puncak < 1,5 GB: {number(peak / 1e9, 2)} GB (proses utama "
            f"{number(huge.main_peak_rss_bytes / 1e9, 2)} GB, seluruh proses "
            f"{number(huge.tree_peak_pss_bytes / 1e9, 2)} GB) — {verdict(peak < TARGET_RSS_BYTES)}"
        )
        if "1000" in results:
            small = results["1000"].main_run()
            per_small = small.wall_s / small.files
            per_huge = huge.wall_s / huge.files
            drift = per_huge / per_small - 1
            lines.append(
                f"  5000 unit: waktu per berkas dalam 15% dari 1000 unit: {number(per_huge * 1000, 1)} "
                f"vs {number(per_small * 1000, 1)} ms ({drift:+.0%}) — "
                f"{verdict(abs(drift) <= TARGET_LINEARITY)}"
            )
    if help_times:
        median = statistics.median(help_times)
        lines.append(
            f"  rbpipe --help < {_short(TARGET_HELP_SECONDS)} detik: median {number(median, 3)} detik — "
            f"{verdict(median < TARGET_HELP_SECONDS)}"
        )
    return lines


def results_json(results: dict[str, ScenarioResult], help_times: list[float], meta: dict) -> dict:
    scenarios = {}
    for name, result in results.items():
        scenarios[name] = {
            "scenario": asdict(result.scenario),
            "inputs": result.inputs,
            "inputs_stamp": result.inputs_stamp,
            "generated_s": result.generated_s,
            "runs": {label: [asdict(r) for r in runs] for label, runs in result.runs.items()},
            "median_wall_s": result.main_run().wall_s,
            "floor": result.floor,
            "ratio": result.ratio,
            "ratio_per_unit": result.ratio_per_unit,
            "speedup_workers_2_over_1": result.speedup,
            "seconds_per_file": result.main_run().wall_s / max(result.main_run().files, 1),
        }
    return {
        **meta,
        "help_s": help_times,
        "help_median_s": statistics.median(help_times) if help_times else None,
        "scenarios": scenarios,
    }
