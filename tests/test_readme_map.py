"""The README's "Where things live" map matches the tree: every module of the package is on it,
and everything it names exists."""

from __future__ import annotations

import re

from conftest import REPO

SECTION = "## Where things live"
TOP_LEVEL = ("expectations/", "inputs/", "bench/", "tests/")


def _rows() -> list[tuple[list[str], str]]:
    """(paths of the first column, the whole row) of every table row of the map."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, "README has no module map"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            rows.append((re.findall(r"`([^`]+)`", first), line))
    return rows


def _modules(folder) -> list:
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("__"))


def test_every_path_on_the_map_exists():
    for paths, _ in _rows():
        for path in paths:
            assert (REPO / path).exists(), f"{path} is on the map but not in the tree"


def test_every_module_and_package_is_on_the_map():
    listed = {path for paths, _ in _rows() for path in paths}
    package = REPO / "pipeline"
    for module in _modules(package):
        assert f"pipeline/{module.name}" in listed, f"pipeline/{module.name} is not on the map"
    for folder in sorted(p for p in package.iterdir() if (p / "__init__.py").is_file()):
        assert f"pipeline/{folder.name}/" in listed, f"pipeline/{folder.name}/ is not on the map"
    for top in TOP_LEVEL:
        assert top in listed, f"{top} is not on the map"


def test_a_package_row_names_each_of_its_modules_and_no_other():
    for paths, row in _rows():
        for path in paths:
            folder = REPO / path
            if not (path.startswith("pipeline/") and path.endswith("/") and folder.is_dir()):
                continue
            inside = {p.name for p in folder.rglob("*.py") if not p.name.startswith("__")}
            named = {n.rsplit("/", 1)[-1] for n in re.findall(r"`([\w/]+\.py)`", row)}
            named.discard("__init__.py")
            assert inside - named == set(), f"{path}: modules missing from the map"
            assert named - inside == set(), f"{path}: the map names modules that do not exist"
            subpackages = {p.parent.name for p in folder.rglob("__init__.py") if p.parent != folder}
            for sub in subpackages:
                assert f"`{sub}/`" in row, f"{path}: subpackage {sub}/ missing from the map"
