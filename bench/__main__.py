"""``make bench`` (``python -m bench``): see the package docstring."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click

from bench.runner import run_bench
from bench.scenarios import QUICK_SCENARIOS, REPO, SCENARIOS, cache_root
from pipeline import cli_i18n

cli_i18n.install()


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, options_metavar="[OPSI]")
@click.option("--quick", is_flag=True, help="Varian kecil untuk uji asap (tanpa 5.000 unit).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO / "bench" / "results",
    show_default=True,
    help="Folder hasil JSON dan tabel Markdown.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder data masukan yang dibuat, di luar klon (bawaan: "
    "${XDG_CACHE_HOME:-~/.cache}/rbpipe-bench).",
)
@click.option(
    "--buat-ulang", "regenerate", is_flag=True, help="Buat ulang data masukan walau sudah ada."
)
@click.option(
    "--putaran",
    "rounds",
    type=click.IntRange(min=1),
    default=None,
    help="Jumlah putaran setiap skenario (bawaan: menurut skenario).",
)
@click.option(
    "--skenario",
    "only",
    multiple=True,
    help="Hanya skenario ini (boleh diulang), mis. --skenario 51x300.",
)
@click.option(
    "--tanpa-portal", "skip_portal", is_flag=True, help="Jangan ukur portal (juga hari tenggat)."
)
@click.option(
    "--pembanding",
    "peers",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder skrip pembanding bersama (scale.py, floor.py, naive.py).",
)
def main(
    quick: bool,
    out: Path,
    data: Path | None,
    regenerate: bool,
    rounds: int | None,
    only: tuple[str, ...],
    peers: Path | None,
    skip_portal: bool,
) -> None:
    """Ukur kecepatan rbpipe: bulan contoh, 51 x 300, 1.000 dan 5.000 unit, dibanding lantai I/O
    dan pembanding naif, serta run ulang setelah unit mengirim ulang berkasnya; lalu portal
    (pemeriksaan hangat vs dingin, 51 unggahan bersamaan) dan hari tenggat (51 unit mengunggah
    dan mengunggah ulang, papan dipantau, rekap di tengah)."""
    if peers is not None:
        os.environ["RBPIPE_BENCH_PEERS"] = str(peers)
    scenarios = QUICK_SCENARIOS if quick else SCENARIOS
    if only:
        scenarios = tuple(s for s in scenarios if s.name in set(only))
    if rounds is not None:
        scenarios = tuple(dataclasses.replace(s, rounds=rounds) for s in scenarios)
    run_bench(
        scenarios,
        data=data or cache_root(),
        out=out,
        regenerate=regenerate,
        sources=QUICK_SCENARIOS + SCENARIOS,
        portal=not skip_portal,
    )


if __name__ == "__main__":
    main()
