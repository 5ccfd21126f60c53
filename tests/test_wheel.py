"""The installed package, not the checkout: a wheel built from this tree and installed into a new
virtual environment runs ``rbpipe demo`` and ``rbpipe run`` from a folder outside the checkout,
finds its rules and default registry as package data, and gives the same outputs as the
editable install on the same inputs.

Everything stays on the machine (tests use loopback only): the wheel is built without build
isolation and installed with ``--no-index --no-deps``; the new environment borrows the
third-party libraries of this test environment through a path entry (its ``.pth`` files, among
them the editable install's finder, are not processed there, so ``pipeline`` can only come from
the wheel — the test checks it does). The same check with a full ``pip install`` of the wheel
and its dependencies is in the issue-13 note.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import MANIFEST_FILE, REPO, guarded_env, rbpipe

pytestmark = pytest.mark.slow

PERIOD = "2025-10"
# What the wheel is built from: the package, its package data and the packaging files.
SOURCES = (
    "pipeline",
    "expectations",
    "inputs",
    "setup.py",
    "pyproject.toml",
    "README.md",
    "LICENSE",
)
VOLATILE_INFO = ("stages", "gx_seconds")


def _copy_sources(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "[0-9][0-9][0-9][0-9]-[0-9][0-9]")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` folder of a new virtual environment with the wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    _copy_sources(source)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(root / "dist"), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    [wheel] = (root / "dist").glob("rbpipe-*.whl")
    env = root / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, capture_output=True)
    bin_dir = env / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    purelib = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "rbpipe_test_libraries.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    return bin_dir


def _outside(tmp_path_factory, name: str) -> Path:
    folder = tmp_path_factory.mktemp(name)
    assert REPO not in folder.parents
    return folder


@pytest.fixture(scope="session")
def both_runs(installed, tmp_path_factory) -> dict:
    """The demo month made by the installed ``rbpipe demo``, consolidated by the installed and
    by the editable ``rbpipe run``, each from a folder outside the checkout."""
    work = _outside(tmp_path_factory, "di_luar")
    env, _ = guarded_env(work)
    demo = subprocess.run(
        [str(installed / "rbpipe"), "demo", "--period", PERIOD, "--out", f"inputs/{PERIOD}"],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    args = ["run", "--period", PERIOD, "--inputs", "inputs"]
    wheel_run = subprocess.run(
        [str(installed / "rbpipe"), *args, "--outputs", "keluaran_wheel"],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    editable_run = rbpipe(*args, "--outputs", "keluaran_editable", cwd=work)
    editable_demo = rbpipe(
        "demo", "--period", PERIOD, "--out", f"inputs_editable/{PERIOD}", cwd=work
    )
    return {
        "work": work,
        "wheel": wheel_run,
        "editable": editable_run,
        "editable_demo": editable_demo,
    }


def _manifest(folder: Path) -> dict:
    manifest = json.loads((folder / PERIOD / MANIFEST_FILE).read_text(encoding="utf-8"))
    for key in VOLATILE_INFO:
        manifest["info"].pop(key)
    return manifest


def test_the_installed_package_uses_its_own_code_and_packaged_rules(installed, tmp_path):
    probe = (
        "import pipeline, pipeline.resources as r, pipeline.problems as p, pipeline.registry as g;"
        "print(pipeline.__file__); print(r.from_checkout()); print(p.EXPECTATIONS_DIR);"
        "print(g.DEFAULT_INPUTS); print(len(p.load_catalogue()))"
    )
    out = subprocess.run(
        [str(installed / "python"), "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    module, checkout, rules, registry, codes = out.stdout.splitlines()
    env = installed.parent
    assert Path(module).is_relative_to(env)
    assert checkout == "False"
    assert Path(rules).is_relative_to(env) and Path(rules).parts[-2:] == (
        "defaults",
        "expectations",
    )
    assert Path(registry).is_relative_to(env) and Path(registry).parts[-2:] == (
        "defaults",
        "registry",
    )
    assert int(codes) > 30
    assert (Path(module).parent / "py.typed").is_file()


def test_demo_and_run_from_outside_the_checkout_equal_the_editable_install(both_runs):
    wheel, editable = both_runs["wheel"], both_runs["editable"]
    assert wheel.returncode == 0, wheel.stderr
    assert editable.returncode == 0, editable.stderr
    work = both_runs["work"]
    # The same demo month, byte for byte, whichever install made it.
    assert both_runs["editable_demo"].returncode == 0
    made = {
        p.relative_to(work / "inputs"): p.read_bytes()
        for p in (work / "inputs").rglob("*")
        if p.is_file()
    }
    again = {
        p.relative_to(work / "inputs_editable"): p.read_bytes()
        for p in (work / "inputs_editable").rglob("*")
        if p.is_file()
    }
    assert made == again and len(made) > 40
    # The same run: counts, files, units, problems, figures (timings aside).
    a, b = _manifest(work / "keluaran_wheel"), _manifest(work / "keluaran_editable")
    assert a["totals"] == b["totals"] and a["totals"]["rows_consolidated"] > 300
    problems = {(p["code"], p["unit"], p["file"], p["cell"]) for p in a["problems"]}
    assert problems == {(p["code"], p["unit"], p["file"], p["cell"]) for p in b["problems"]}
    assert len(problems) > 20
    assert a == b
