"""The child process of a portal month run: ``python -m pipeline.portal.runner DATA YYYY-MM``.

Runs the real CLI command ``rbpipe run`` on ``DATA/inputs`` and ``DATA/outputs`` (waiting for
the output lock when a CLI run holds it), with the run's stage log lines on standard error for
the portal's progress bar.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def main() -> None:
    from pipeline.cli import exit_now, run_cli
    from pipeline.portal.children import exit_with_parent

    exit_with_parent()
    data, period = Path(sys.argv[1]), sys.argv[2]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: record.getMessage().startswith("tahap "))
    logger = logging.getLogger("rbpipe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    sys.argv = [
        "rbpipe",
        "run",
        "--period",
        period,
        "--inputs",
        str(data / "inputs"),
        "--outputs",
        str(data / "outputs"),
        "--tunggu",
    ]
    exit_now(run_cli())


if __name__ == "__main__":
    main()
