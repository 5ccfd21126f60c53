"""Where the default rules and registry come from: one resolver for every command.

rbpipe ships two kinds of data a deployment may edit: the rule suites (``expectations/*.json``)
and the default registry (``unit_kerja.csv``, ``referensi.csv``, ``pengaturan.toml``). They live
in the repository at ``expectations/`` and ``inputs/``, where people edit them, and the wheel
carries a copy of both as package data (``pipeline/defaults/expectations/`` and
``pipeline/defaults/registry/``, mapped from those folders in ``pyproject.toml``).

Which copy wins, file by file (:func:`resolve`):

1. the folder the user named (``--registry``, or ``--inputs`` for ``rbpipe run``), when it holds
   the file;
2. the repository checkout's copy, when rbpipe runs from a checkout (the folder holding
   ``pipeline/`` also holds ``pyproject.toml`` and ``expectations/``): an edit there takes effect
   at once, without reinstalling;
3. the copy packaged in the installed wheel.

Example::

    resolve("unit_kerja.csv", "registry", folder=Path("inputs"))
    default_folder("expectations")   # <checkout>/expectations, or <site-packages>/pipeline/defaults/expectations
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

Kind = Literal["expectations", "registry"]

# The folder holding pipeline/: a repository checkout, or site-packages of an installed wheel.
CHECKOUT = Path(__file__).resolve().parent.parent
CHECKOUT_FOLDERS: dict[Kind, str] = {"expectations": "expectations", "registry": "inputs"}
PACKAGED = "defaults"  # pipeline/defaults/<kind>/ inside the wheel


def from_checkout() -> bool:
    """True when rbpipe runs from a repository checkout (editable install or source tree)."""
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "expectations").is_dir()


def default_folder(kind: Kind) -> Path:
    """The folder of the defaults of ``kind``: the checkout's when running from one, else the
    packaged copy."""
    if from_checkout():
        return CHECKOUT / CHECKOUT_FOLDERS[kind]
    return Path(str(resources.files("pipeline") / PACKAGED / kind))


def resolve(name: str, kind: Kind, *, folder: Path | None = None) -> Path:
    """The file ``name`` of ``kind``: from ``folder`` when it holds it, else the default copy
    (see the module docstring for the order)."""
    if folder is not None and (Path(folder) / name).exists():
        return Path(folder) / name
    return default_folder(kind) / name
