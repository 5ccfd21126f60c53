"""``make bench`` (``python -m bench``): see the package docstring."""

from __future__ import annotations

from pathlib import Path

import click

from bench.runner import run_bench
from bench.scenarios import QUICK_SCENARIOS, REPO, SCENARIOS
from pipeline import cli_i18n

cli_i18n.install()


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, options_metavar="[OPSI]")
@click.option("--quick", is_flag=True, help="Varian kecil untuk uji asap (tanpa 5.000 unit).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO / "bench" / "results",
    show_default=True,
    help="Folder hasil JSON.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO / "bench" / "data",
    show_default=True,
    help="Folder data masukan yang dibuat (disimpan untuk bench berikutnya).",
)
@click.option(
    "--buat-ulang", "regenerate", is_flag=True, help="Buat ulang data masukan walau sudah ada."
)
def main(quick: bool, out: Path, data: Path, regenerate: bool) -> None:
    """Ukur kecepatan rbpipe: bulan contoh, 1.000 dan 5.000 unit, dibanding lantai I/O."""
    run_bench(QUICK_SCENARIOS if quick else SCENARIOS, data=data, out=out, regenerate=regenerate)


if __name__ == "__main__":
    main()
