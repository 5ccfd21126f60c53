"""The Problem record and the catalogue of problem codes.

A problem is data, never an exception: one record per thing wrong with a file, a row or a cell,
with a stable code, a severity and Indonesian text for the unit. The catalogue (code -> title,
description, hint, severity) is generated from the rule files in ``expectations/``:

* each Great Expectations suite carries, in its suite-level ``meta["katalog"]``, the catalogue
  entries of the codes its expectations use (each expectation's own ``meta`` holds ``code``,
  ``severity``, ``pesan`` and ``saran`` for that one check);
* ``expectations/berkas.json`` holds, in the same ``katalog`` shape, the file-level codes raised
  while reading files (not a GX suite: reading is not a data rule).

Code ranges: ``RB-E0xx``/``RB-W0xx`` file and structure level, ``RB-E1xx``/``RB-W1xx`` rows and
cells. ``E`` codes are errors, ``W`` codes warnings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

from pipeline.plain import display_value
from pipeline.resources import default_folder
from pipeline.schema import cell_ref, column_index

Severity = Literal["error", "warning"]
SEVERITY_ORDER = {"error": 0, "warning": 1}
SEVERITY_LABEL = {"error": "Kesalahan", "warning": "Peringatan"}

# The rule suites: the checkout's expectations/, or the copy packaged in the wheel
# (pipeline.resources decides).
EXPECTATIONS_DIR = default_folder("expectations")
FILE_RULES = "berkas.json"


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong, located as precisely as possible in the unit's own file."""

    code: str
    severity: Severity
    message: str
    hint: str = ""
    unit: str | None = None
    file: str | None = None
    sheet: str | None = None  # sheet name as in the unit's file
    row: int | None = None  # 1-based Excel row in the unit's file
    column: str | None = None  # Excel column letter in the unit's file
    field: str | None = None  # canonical field name (schema.FIELDS)
    value: str | None = None  # the offending value as the unit wrote it (display text)

    @property
    def cell(self) -> str | None:
        """``RB Tematik!H12``, or None for file- and sheet-level problems."""
        return cell_ref(self.sheet, self.column, self.row)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[object, ...]:
        """Severity first, then position in the unit's file (sheet, row, column)."""
        return (
            SEVERITY_ORDER.get(self.severity, 9),
            self.unit or "",
            self.file or "",
            self.sheet or "",
            self.row or 0,
            column_index(self.column) if self.column else 0,
            self.code,
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cell"] = self.cell
        return out


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A catalogue entry: what a code means and how to fix it, in Indonesian."""

    code: str
    severity: Severity
    title: str
    description: str
    hint: str
    source: str  # file in expectations/ that defines it
    metrics: tuple[str, ...] = ()  # metrics an error of this code excludes the row from


def _entries(path: Path) -> dict[str, Rule]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    katalog = (raw.get("meta") or {}).get("katalog") or raw.get("katalog") or {}
    out = {}
    for code, entry in katalog.items():
        severity = entry.get("severity") or ("error" if code.startswith("RB-E") else "warning")
        out[code] = Rule(
            code=code,
            severity=cast(Severity, severity),
            title=entry["judul"],
            description=entry.get("deskripsi", ""),
            hint=entry.get("saran", ""),
            source=path.name,
            metrics=tuple(entry.get("metrik", ())),
        )
    return out


@lru_cache(maxsize=4)
def load_catalogue(folder: Path = EXPECTATIONS_DIR) -> dict[str, Rule]:
    """Every code defined in ``folder``'s JSON files, sorted by code.

    A code may appear in several files (each suite is self-contained, and ``rb_umum`` and
    ``rb_tematik`` share their row codes) as long as every entry says the same; the first file
    in name order is kept as its source."""
    rules: dict[str, Rule] = {}
    for path in sorted(Path(folder).glob("*.json")):
        for code, rule in _entries(path).items():
            if code in rules and rules[code] != replace(rule, source=rules[code].source):
                raise ValueError(f"code {code} defined twice ({rules[code].source}, {path.name})")
            rules.setdefault(code, rule)
    return dict(sorted(rules.items()))


def make_problem(code: str, message: str | None = None, **where: Any) -> Problem:
    """A Problem for a catalogue code: severity and hint come from the catalogue; ``message``
    defaults to the catalogue description. ``where`` holds unit/file/sheet/row/column/field/value
    (``value`` is turned into display text)."""
    rule = load_catalogue()[code]
    if "value" in where:
        where["value"] = display_value(where["value"])
    hint = where.pop("hint", None) or rule.hint
    return Problem(
        code=code, severity=rule.severity, message=message or rule.description, hint=hint, **where
    )


def sort_problems(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=Problem.sort_key)
