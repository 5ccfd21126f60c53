"""Screenshots of the portal for the README (not a test): ``python tests/gambar_portal.py``.

Starts the real server on a demo month (as the tests do), signs in as a unit and as the
analyst in Debian's Chromium, and writes to ``docs/gambar/``: the unit page with the result
table of a flawed upload, and the board after the month run, at 1366x768 and on a 360 px phone
(there filtered to the units not yet in).
The data folder's registry gets made-up WhatsApp numbers (every third unit) so the board shows
its WhatsApp links; the repository's registry has none.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import conftest  # noqa: E402,F401  (first: portal_support imports from it, and it from portal_support)
from portal_support import (  # noqa: E402
    ACCOUNTS,
    add_accounts,
    browser_context,
    make_data,
    run_month,
    sign_in_page,
    start_server,
    stop_server,
)

OUT = HERE.parent / "docs" / "gambar"
SIZES = {"desktop": (1366, 768), "ponsel": (360, 740)}


def with_made_up_numbers(inputs: Path) -> None:
    """The default registry, copied into ``inputs`` with a ``telepon`` for every third unit."""
    from pipeline.registry import DEFAULT_INPUTS, REGISTRY_FILE

    with (DEFAULT_INPUTS / REGISTRY_FILE).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (inputs / REGISTRY_FILE).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, [*rows[0], "telepon"], lineterminator="\n")
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow({**row, "telepon": f"0812-0000-{i:04d}" if i % 3 == 0 else ""})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rbpipe-gambar-") as tmp:
        root, _ = make_data(Path(tmp))
        with_made_up_numbers(root / "inputs")
        add_accounts(root, ACCOUNTS)
        flawed = Path(tmp) / "BAPENDA_2025-10.xlsx"
        flawed.write_bytes((root / "inputs" / "2025-10" / "BAPENDA_2025-10.xlsx").read_bytes())
        server = start_server(root)
        try:
            run_month(server)
            server.client("ana").upload(root / "inputs" / "2025-10" / "DISHUB_2025-10.xlsx")
            for label, size in SIZES.items():
                phone = label == "ponsel"
                extra = {"is_mobile": True, "has_touch": True} if phone else {}
                with browser_context(viewport=size, **extra) as context:
                    page = sign_in_page(context, server.url, "bapenda")
                    page.set_input_files("#berkas", str(flawed))
                    page.wait_for_selector("#tabel-masalah tbody tr", timeout=60_000)
                    page.screenshot(path=OUT / f"portal-unit-{label}.png", full_page=phone)
                    page.locator("#hasil").screenshot(path=OUT / f"portal-hasil-{label}.png")
                    board = sign_in_page(context, server.url, "ana")
                    board.wait_for_selector("#tabel-papan tbody tr")
                    board.wait_for_selector("#daftar-hasil a")
                    if phone:  # 51 cards are too long a picture: the units not yet in
                        board.select_option("#saring-status", "belum")
                    board.screenshot(path=OUT / f"portal-papan-{label}.png", full_page=phone)
                    print(f"{label}: {context.outside or 'tanpa permintaan keluar'}")
        finally:
            stop_server(server)
    for path in sorted(OUT.glob("portal-*.png")):
        print(path.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
