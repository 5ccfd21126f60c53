"""Packaging beyond what pyproject.toml can say: the default rules and registry as package data.

The repository keeps them where people edit them, ``expectations/*.json`` and ``inputs/``
(``unit_kerja.csv``, ``referensi.csv``, ``pengaturan.toml``); the wheel carries them as the
packages ``pipeline.defaults.expectations`` and ``pipeline.defaults.registry``, mapped from those
folders. ``pipeline.resources`` decides which copy a run uses.
"""

from setuptools import find_packages, setup

DEFAULTS = {
    "pipeline.defaults.expectations": ("expectations", ["*.json"]),
    "pipeline.defaults.registry": (
        "inputs",
        ["unit_kerja.csv", "referensi.csv", "pengaturan.toml"],
    ),
}

setup(
    packages=[*find_packages(include=["pipeline", "pipeline.*"]), *DEFAULTS],
    package_dir={name: folder for name, (folder, _) in DEFAULTS.items()},
    package_data={
        "pipeline": ["py.typed", "publish/templates/*", "portal/templates/*", "portal/static/*"],
        **{name: files for name, (_, files) in DEFAULTS.items()},
    },
)
