"""The bench's results: one table per scenario, the targets, and the JSON and Markdown records
(printed text in Indonesian with numbers written the Indonesian way; the Markdown table, for
docs/decisions.md, in English).

Every figure is the median over the scenario's rounds with its spread (min-max). A ratio of
two figures is computed per round, from the two measurements made side by side in that round,
and then its median and spread are taken: on a shared machine only measurements made together
compare."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from bench.measure import ProcessMeasure, RunMeasure, median_run
from bench.scenarios import (
    TARGET_BENCH_SECONDS,
    TARGET_DEMO_SECONDS,
    TARGET_HELP_SECONDS,
    TARGET_LINEARITY,
    TARGET_RATIO_FLOOR,
    TARGET_RATIO_NAIVE,
    TARGET_RATIO_PER_FILE,
    TARGET_RSS_BYTES,
    TARGET_SPEEDUP,
    TARGET_WARM,
    Scenario,
)
from pipeline.locale_id import number


@dataclass(frozen=True)
class Spread:
    """The median of some measurements, their minimum and maximum, and how many there were."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread | None:
        values = [v for v in values if v is not None]
        if not values:
            return None
        return cls(statistics.median(values), min(values), max(values), len(values))

    def text(self, digits: int = 2, unit: str = "") -> str:
        """``12,30 detik (11,90–13,00; 3 kali)`` (Indonesian)."""
        figure = f"{number(self.median, digits)}{unit}"
        if self.n == 1:
            return f"{figure} (sekali)"
        return f"{figure} ({number(self.low, digits)}–{number(self.high, digits)}; {self.n} kali)"

    def english(self, digits: int = 2, unit: str = "") -> tuple[str, str]:
        """Median and ``low-high (n)`` for the Markdown table."""
        spread = (
            "one run" if self.n == 1 else f"{self.low:.{digits}f}-{self.high:.{digits}f} ({self.n})"
        )
        return f"{self.median:.{digits}f}{unit}", spread


@dataclass(kw_only=True)
class ScenarioResult:
    scenario: Scenario
    inputs: str
    generated_s: float
    inputs_stamp: dict  # the inputs' dibuat.json: how and by which generator they were made
    runs: dict[str, list[RunMeasure]] = field(default_factory=dict)  # workers label -> cold runs
    warm: list[RunMeasure] = field(default_factory=list)  # after a re-send, one per round
    peer_floor: list[ProcessMeasure] = field(default_factory=list)  # shared floor.py
    naive: list[ProcessMeasure] = field(default_factory=list)  # shared naive.py
    floors: list[dict] = field(default_factory=list)  # bench.floor (--per-file), one per round

    @property
    def first(self) -> list[RunMeasure]:
        """The cold runs of the scenario's first workers setting, one per round."""
        return next(iter(self.runs.values()))

    def main_run(self) -> RunMeasure:
        """The median cold run of the first workers setting."""
        return median_run(self.first)

    def per_round(self, of: Callable[[int], float | None]) -> Spread | None:
        return Spread.of(of(i) for i in range(self.scenario.rounds))

    def cold(self) -> Spread | None:
        return Spread.of(r.wall_s for r in self.first)

    def warm_ratio(self) -> Spread | None:
        if not self.warm:
            return None
        return self.per_round(lambda i: self.warm[i].wall_s / self.first[i].wall_s)

    def floor_ratio(self) -> Spread | None:
        if not self.peer_floor:
            return None
        return self.per_round(lambda i: self.first[i].wall_s / self.peer_floor[i].wall_s)

    def naive_ratio(self) -> Spread | None:
        if not self.naive:
            return None
        return self.per_round(lambda i: self.first[i].wall_s / self.naive[i].wall_s)

    def per_file_floor_s(self, i: int) -> float:
        floor = self.floors[i]
        return floor["total_s"] + floor["per_unit_write_s"]

    def per_file_ratio(self) -> Spread | None:
        if not self.floors:
            return None
        return self.per_round(lambda i: self.first[i].wall_s / self.per_file_floor_s(i))

    def speedup(self) -> Spread | None:
        """``--workers 1`` wall over ``--workers 2`` wall, per round."""
        one, two = self.runs.get("1"), self.runs.get("2")
        if not one or not two:
            return None
        return self.per_round(lambda i: one[i].wall_s / two[i].wall_s)

    def ms_per_file(self) -> Spread | None:
        return Spread.of(r.wall_s / max(r.files, 1) * 1000 for r in self.first)


def _mib(value: float) -> str:
    return f"{number(value / (1 << 20))} MiB"


def _short(value: float) -> str:
    """A target as people write it: ``6``, ``1,6``, ``0,3``."""
    return number(value, 2).rstrip("0").rstrip(",")


def format_scenario(result: ScenarioResult) -> list[str]:
    """The scenario's table (Indonesian)."""
    run = result.main_run()
    s = result.scenario
    lines = [
        f"Skenario {s.name}: {s.label} ({number(run.files)} berkas, "
        f"{number(run.rows)} rencana aksi; {s.rounds} putaran)"
    ]
    for label, runs in result.runs.items():
        lines.append(
            f"  rbpipe run --workers {label}: {Spread.of(r.wall_s for r in runs).text(1, ' detik')}"
        )
    if result.warm:
        resent = len(result.warm[0].resent)
        lines.append(
            f"  rbpipe run lagi setelah {resent} berkas dikirim ulang: "
            f"{Spread.of(r.wall_s for r in result.warm).text(1, ' detik')}; dibanding run dingin "
            f"{result.warm_ratio().text(2)}"
        )
        cache = result.warm[len(result.warm) // 2].cache
        if cache:
            lines.append("    cache: " + ", ".join(f"{k} {v}" for k, v in sorted(cache.items())))
    for name, measures in (
        ("floor.py (lantai bersama)", result.peer_floor),
        ("naive.py (pembanding naif)", result.naive),
    ):
        if measures:
            lines.append(f"  {name}: {Spread.of(m.wall_s for m in measures).text(1, ' detik')}")
    for label, ratio in (("run/lantai", result.floor_ratio()), ("run/naif", result.naive_ratio())):
        if ratio:
            lines.append(f"  rasio {label}: {ratio.text(2)}")
    if result.floors:
        lines.append(
            "  lantai I/O satu buku kerja per berkas (bench.floor): "
            f"{Spread.of(result.per_file_floor_s(i) for i in range(len(result.floors))).text(1, ' detik')}"
            f"; rasio run/lantai ini {result.per_file_ratio().text(2)}"
        )
    speedup = result.speedup()
    if speedup:
        lines.append(f"  percepatan --workers 2 dibanding --workers 1: {speedup.text(2, 'x')}")
    lines.append(f"  Rincian run dingin median (--workers {next(iter(result.runs))}):")
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
    lines.append(f"  Waktu per berkas: {result.ms_per_file().text(1, ' ms')}")
    return lines


@dataclass(frozen=True)
class Figure:
    """One line of the targets table."""

    label: str  # English, for the Markdown table
    label_id: str  # Indonesian, for the printed lines
    spread: Spread | None
    digits: int
    unit: str
    target: str  # as written in the issue
    met: bool | None  # None: reported, no target


def figures(
    results: dict[str, ScenarioResult], help_times: list[float], meta: dict
) -> list[Figure]:
    """Every figure the issue asks for, with its target and verdict."""
    out: list[Figure] = []

    def add(label, label_id, spread, digits, unit, target, ok):
        if spread is not None:
            out.append(
                Figure(
                    label, label_id, spread, digits, unit, target, ok(spread.median) if ok else None
                )
            )

    if demo := results.get("demo"):
        add(
            "demo month, cold run",
            "bulan contoh, run dingin",
            demo.cold(),
            2,
            " s",
            f"< {TARGET_DEMO_SECONDS:g} s (issue 8)",
            lambda v: v < TARGET_DEMO_SECONDS,
        )
        add(
            "demo month, re-run after 1 re-send / cold",
            "bulan contoh, run ulang/dingin",
            demo.warm_ratio(),
            2,
            "",
            "reported",
            None,
        )
    if big := results.get("51x300"):
        add("51 x 300, rbpipe run", "51 x 300, rbpipe run", big.cold(), 1, " s", "", None)
        add(
            "51 x 300, shared floor.py",
            "51 x 300, floor.py",
            Spread.of(m.wall_s for m in big.peer_floor),
            1,
            " s",
            "",
            None,
        )
        add(
            "51 x 300, shared naive.py",
            "51 x 300, naive.py",
            Spread.of(m.wall_s for m in big.naive),
            1,
            " s",
            "",
            None,
        )
        add(
            "51 x 300, run / floor",
            "51 x 300, run/lantai",
            big.floor_ratio(),
            2,
            "",
            f"<= {TARGET_RATIO_FLOOR:g}",
            lambda v: v <= TARGET_RATIO_FLOOR,
        )
        add(
            "51 x 300, run / naive",
            "51 x 300, run/naif",
            big.naive_ratio(),
            2,
            "",
            f"<= {TARGET_RATIO_NAIVE:g}",
            lambda v: v <= TARGET_RATIO_NAIVE,
        )
        add(
            "51 x 300, re-run after 1 re-send / cold",
            "51 x 300, run ulang/dingin",
            big.warm_ratio(),
            2,
            "",
            f"<= {TARGET_WARM:g}",
            lambda v: v <= TARGET_WARM,
        )
    thousand = results.get("1000") or results.get("200")
    if thousand:
        n = thousand.scenario.name
        add(
            f"{n}, --workers 2",
            f"{n}, --workers 2",
            Spread.of(r.wall_s for r in thousand.runs.get("2", [])),
            1,
            " s",
            "",
            None,
        )
        add(
            f"{n}, --workers 1",
            f"{n}, --workers 1",
            Spread.of(r.wall_s for r in thousand.runs.get("1", [])),
            1,
            " s",
            "",
            None,
        )
        add(
            f"{n}, --workers 2 / --workers 1 speed-up",
            f"{n}, percepatan 2 pekerja",
            thousand.speedup(),
            2,
            "x",
            f">= {TARGET_SPEEDUP:g}x",
            lambda v: v >= TARGET_SPEEDUP,
        )
        add(
            f"{n}, run / per-file floor",
            f"{n}, run/lantai per berkas",
            thousand.per_file_ratio(),
            2,
            "",
            f"<= {TARGET_RATIO_PER_FILE:g}",
            lambda v: v <= TARGET_RATIO_PER_FILE,
        )
        resent = len(thousand.warm[0].resent) if thousand.warm else 0
        add(
            f"{n}, re-run after {resent} re-sends / cold",
            f"{n}, run ulang/dingin",
            thousand.warm_ratio(),
            2,
            "",
            f"<= {TARGET_WARM:g}",
            lambda v: v <= TARGET_WARM,
        )
    if huge := results.get("5000"):
        run = huge.main_run()
        peak = max(run.main_peak_rss_bytes, run.tree_peak_pss_bytes)
        add("5000, rbpipe run", "5000, rbpipe run", huge.cold(), 1, " s", "", None)
        add(
            "5000, peak memory of the process tree",
            "5000, memori puncak",
            Spread.of([peak / 1e9]),
            2,
            " GB",
            "< 1.5 GB",
            lambda v: v * 1e9 < TARGET_RSS_BYTES,
        )
        if thousand and thousand.scenario.name == "1000":
            small = thousand.ms_per_file().median
            drift = Spread.of(
                m / small - 1 for m in (r.wall_s / max(r.files, 1) * 1000 for r in huge.first)
            )
            add(
                "5000 vs 1000, time per workbook",
                "5000 vs 1000, waktu per berkas",
                drift,
                2,
                "",
                f"within +-{TARGET_LINEARITY:g}",
                lambda v: abs(v) <= TARGET_LINEARITY,
            )
    if portal := meta.get("portal"):
        for key, label, label_id in (
            ("demo", "demo workbooks", "bulan contoh"),
            ("300", "a 300-plan workbook", "300 rencana aksi"),
        ):
            add(
                f"portal: warm check p95 / cold check p50, {label}",
                f"portal: periksa hangat p95 / dingin p50, {label_id}",
                Spread.of([portal[f"ratio_{key}"]]),
                2,
                "",
                "< 1/3 (issue 14)",
                lambda v: v < 1 / 3,
            )
    if day := meta.get("deadline"):
        for key, label, label_id in (
            ("non_4xx_errors", "errors other than 4xx", "galat selain 4xx"),
            ("lost_uploads", "lost uploads", "unggahan hilang"),
        ):
            add(
                f"deadline day: {label}",
                f"hari tenggat: {label_id}",
                Spread.of([day[key]]),
                0,
                "",
                "0 (issue 15)",
                lambda v: v == 0,
            )
    if help_times:
        add(
            "rbpipe --help",
            "rbpipe --help",
            Spread.of(help_times),
            3,
            " s",
            f"< {TARGET_HELP_SECONDS:g} s",
            lambda v: v < TARGET_HELP_SECONDS,
        )
    bench = meta.get("bench_s", 0) - meta.get("generated_s", 0)
    add(
        "make bench, inputs cached",
        "durasi bench (data tersimpan)",
        Spread.of([bench]),
        0,
        " s",
        f"< {TARGET_BENCH_SECONDS:g} s",
        lambda v: v < TARGET_BENCH_SECONDS,
    )
    if meta.get("generated_s"):
        add(
            "input generation (first bench only)",
            "pembuatan data (bench pertama)",
            Spread.of([meta["generated_s"]]),
            0,
            " s",
            "not counted",
            None,
        )
    return out


def target_lines(
    results: dict[str, ScenarioResult], help_times: list[float], meta: dict
) -> list[str]:
    """Each figure with its target and verdict (Indonesian)."""
    lines = [
        f"Ringkasan (median dan sebaran min–maks; beban mesin {number(meta['machine']['load_average'][0], 2)} "
        f"di awal, {number(meta['machine']['load_average_end'][0], 2)} di akhir):"
    ]
    for f in figures(results, help_times, meta):
        verdict = "" if f.met is None else (" — tercapai" if f.met else " — TIDAK tercapai")
        target = f"; target {_target_id(f.target)}" if f.met is not None else ""
        lines.append(
            f"  {f.label_id}: {f.spread.text(f.digits, f.unit.replace(' s', ' detik'))}{target}{verdict}"
        )
    return lines


def _target_id(target: str) -> str:
    """A target as written in the issue, in Indonesian (decimal comma)."""
    return (
        target.replace(".", ",").replace("within +-", "dalam ±").replace("(issue 8)", "(issue 8)")
    )


def markdown_table(results: dict[str, ScenarioResult], help_times: list[float], meta: dict) -> str:
    """The figures as the Markdown table docs/decisions.md carries."""
    load = meta["machine"]["load_average"][0], meta["machine"]["load_average_end"][0]
    commit = (meta["commit"]["hash"] or "?")[:10] + (
        " (dirty)" if meta["commit"].get("dirty") else ""
    )
    lines = [
        f"Bench of {meta['started']} at commit {commit}; load average {load[0]:.2f} at the start, "
        f"{load[1]:.2f} at the end; parallelism probe {meta['parallelism_probe']:.2f}x.",
        "",
        "| figure | median | spread (min-max, runs) | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for f in figures(results, help_times, meta):
        median, spread = f.spread.english(f.digits, f.unit)
        verdict = "" if f.met is None else ("met" if f.met else "**missed**")
        lines.append(f"| {f.label} | {median} | {spread} | {f.target} | {verdict} |")
    parts = meta.get("parts_s")
    if parts:
        lines += [
            "",
            "Bench duration by part: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in parts.items())
            + ".",
        ]
    return "\n".join(lines) + "\n"


def results_json(results: dict[str, ScenarioResult], help_times: list[float], meta: dict) -> dict:
    scenarios = {}
    for name, result in results.items():
        scenarios[name] = {
            "scenario": asdict(result.scenario),
            "inputs": result.inputs,
            "inputs_stamp": {k: v for k, v in result.inputs_stamp.items() if k != "file_units"},
            "generated_s": result.generated_s,
            "runs": {label: [asdict(r) for r in runs] for label, runs in result.runs.items()},
            "warm": [asdict(r) for r in result.warm],
            "peer_floor": [asdict(m) for m in result.peer_floor],
            "naive": [asdict(m) for m in result.naive],
            "floors": result.floors,
        }
    return {
        **meta,
        "help_s": help_times,
        "figures": [
            {**asdict(f), "spread": asdict(f.spread) if f.spread else None}
            for f in figures(results, help_times, meta)
        ],
        "scenarios": scenarios,
    }
