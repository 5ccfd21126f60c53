"""The rule suites in expectations/: they load fully and agree with the template's schema.

The suites are hand-maintained JSON (the source of truth for codes, messages and hints); these
tests are what keeps them honest when a field is added to :mod:`pipeline.schema` or a rule is
edited: every required field has its required check, every number field its number checks, every
code its catalogue entry, and the two sheet kinds say the same thing about the fields they share.

A per-field family (one expectation over the cell rows of every field it concerns, see
:mod:`pipeline.validate`) is read here as the per-field rules it stands for: :func:`expectations`
expands it over the cell fields of the sheet kind, naming each cell column by what it holds for
that field (``isi`` of a Target TW II cell is ``target_tw2``, its ``mentah`` is
``_raw_target_tw2``, its ``wajib`` flag means "the column exists and holds no unreadable text").
"""

from __future__ import annotations

import json
import re

import pytest

from pipeline import schema, staged
from pipeline.problems import EXPECTATIONS_DIR, load_catalogue
from pipeline.validate import (
    CELL_COLUMNS,
    ROW_SUITES,
    STRUCTURE_SUITE,
    SUITE_FILES,
    _rule_frame,
    _structure_frame,
    cell_fields,
    load_suite,
    suite_columns,
    suite_frame,
)

CONTRACT_CODES = {
    **{f"RB-E{n}": "error" for n in range(101, 115)},
    "RB-W101": "warning",
    "RB-W102": "warning",
    "RB-E010": "error",
    "RB-W010": "warning",
}
METRICS = {"capaian", "status", "bukti", "anggaran"}
SPECIAL_PLACEHOLDERS = {"judul", "nilai", "bantuan"}


def raw(name: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / name).read_text(encoding="utf-8"))


def raw_expectations(name: str, code: str | None = None) -> list[dict]:
    return [e for e in raw(name)["expectations"] if code is None or e["meta"]["code"] == code]


def expectations(name: str, code: str | None = None) -> list[dict]:
    """The suite's rules as per-field rules: each family expanded over the kind's cell fields
    (in schema order), dropped for a field whose cells can never meet it."""
    kind = {file: kind for kind, file in ROW_SUITES.items()}.get(name)
    out = []
    for e in raw_expectations(name, code):
        if kind is None or not named_columns(e) & set(CELL_COLUMNS):
            out.append(e)
            continue
        out += [one for f in cell_fields(kind) if (one := for_field(e, f)) is not None]
    return out


def named_columns(e: dict) -> set[str]:
    kwargs = e["kwargs"]
    named = {kwargs.get(k) for k in ("column", "column_A", "column_B")} - {None}
    return named | set(condition_columns(kwargs.get("row_condition")))


def _series(f: schema.Field) -> str | None:
    if f.name in schema.TARGET_FIELDS:
        return "target"
    return "realisasi" if f.name in schema.REALISASI_FIELDS else None


def cell_source(column: str, f: schema.Field) -> str | None:
    """What a value column of ``f``'s cell rows holds, named as a per-field rule would name it;
    None when it is always empty on those rows."""
    q, series = f.quarter, _series(f)
    return {
        "isi": f.name,
        "angka": f.name if f.is_number else None,
        "mentah": f"_raw_{f.name}" if f.is_number else None,
        "satuan": "satuan" if series else None,
        "sebelumnya": f"_{series}_sebelum_tw{q}" if series and q > 1 else None,
        "lalu": f"_target_lalu_tw{q}" if series == "target" else None,
        "target": f"target_tw{q}" if series == "realisasi" else None,
        "batas": f"_batas_realisasi_tw{q}" if series == "realisasi" else None,
    }[column]


def cell_test(column: str, test: object, f: schema.Field) -> dict[str, object] | None:
    """One test of a row condition on ``f``'s cell rows, as per-field tests ({} when always
    true there, None when never)."""
    fillable = {f"_col_{f.name}": "not null", **({f"_raw_{f.name}": "null"} if f.is_number else {})}
    if column == "wajib":
        return fillable if test == ("==", True) and f.requirement == "always" else None
    if column == "tutup":
        if test != ("==", True) or f.requirement != "closed_quarter":
            return None
        return {"_tw_tutup": (">=", f.quarter), **fillable}
    if column == "berjalan":
        return {"_tw_berjalan": (">=", f.quarter)} if test == ("==", True) and f.quarter else None
    if column == "seri":
        return {} if test == ("==", _series(f)) or (test == "not null" and _series(f)) else None
    if column == "field":
        return {} if test == ("==", f.name) else None
    source = cell_source(column, f)
    return None if source is None else {source: test}


def for_field(e: dict, f: schema.Field) -> dict | None:
    """A family expectation as the rule it is on ``f``'s cells, or None when it never applies."""
    kwargs = dict(e["kwargs"])
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key) in CELL_COLUMNS:
            kwargs[key] = cell_source(kwargs[key], f)
            if kwargs[key] is None:
                return None
    tests: dict[str, object] = {}
    for column, test in condition_columns(kwargs.pop("row_condition", None)).items():
        translated = cell_test(column, test, f)
        if translated is None:
            return None
        tests.update(translated)
    if tests:
        kwargs["row_condition"] = condition_json(tests)
    return {**e, "kwargs": kwargs, "meta": {**e["meta"], "field": f.name}}


def condition_json(tests: dict[str, object]) -> dict:
    """The inverse of :func:`condition_columns`."""
    parts = []
    for name, test in tests.items():
        if test in ("null", "not null"):
            parts.append({"column": {"name": name}, "is_null": test == "null", "type": "nullity"})
        else:
            operator, parameter = test
            parts.append(
                {
                    "column": {"name": name},
                    "operator": operator,
                    "parameter": parameter,
                    "type": "comparison",
                }
            )
    return parts[0] if len(parts) == 1 else {"conditions": parts, "type": "and"}


def condition_columns(condition: dict | None) -> dict[str, object]:
    """The row condition as {column: test}: ``"not null"``, ``"null"`` or (operator, value)."""
    if not condition:
        return {}
    if condition["type"] == "and":
        out: dict[str, object] = {}
        for part in condition["conditions"]:
            out.update(condition_columns(part))
        return out
    name = condition["column"]["name"]
    if condition["type"] == "nullity":
        return {name: "null" if condition["is_null"] else "not null"}
    return {name: (condition["operator"], condition["parameter"])}


def by_field(name: str, code: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for e in expectations(name, code):
        assert e["meta"]["field"] not in found, f"{name}: two {code} checks on {e['meta']['field']}"
        found[e["meta"]["field"]] = e
    return found


@pytest.mark.parametrize("name", SUITE_FILES)
def test_suite_loads_fully_into_gx(name):
    suite = load_suite(EXPECTATIONS_DIR / name)
    assert len(suite.gx_suite.expectations) == len(raw(name)["expectations"])
    assert suite.name == raw(name)["name"] == name.removesuffix(".json")
    assert suite.versi


def test_catalogue_holds_every_contract_code_with_its_severity():
    catalogue = load_catalogue()
    assert {c: catalogue[c].severity for c in CONTRACT_CODES} == CONTRACT_CODES


@pytest.mark.parametrize("name", SUITE_FILES)
def test_every_expectation_is_described_by_its_suites_catalogue(name):
    suite = raw(name)
    katalog = suite["meta"]["katalog"]
    used = {e["meta"]["code"] for e in suite["expectations"]}
    assert used == set(katalog), "a code without a check, or a check without a catalogue entry"
    for e in suite["expectations"]:
        meta = e["meta"]
        assert meta["severity"] == katalog[meta["code"]]["severity"]
        assert meta["severity"] == ("error" if meta["code"].startswith("RB-E") else "warning")
        assert meta["pesan"].strip() and meta["saran"].strip()
    for code, entry in katalog.items():
        assert entry["judul"] and entry["deskripsi"] and entry["saran"], code
        assert set(entry["metrik"]) <= METRICS, code
        if entry["severity"] == "warning":
            assert entry["metrik"] == [], f"{code}: a warning never excludes a row"


def test_both_row_suites_carry_the_same_catalogue():
    umum, tematik = (raw(ROW_SUITES[k])["meta"] for k in schema.KINDS)
    assert umum["katalog"] == tematik["katalog"]
    assert umum["versi"] == tematik["versi"]


def test_rules_on_shared_fields_are_identical_in_both_row_suites():
    def shared(name: str) -> list[dict]:
        return [
            e
            for e in expectations(name)
            if schema.FIELD_BY_NAME[e["meta"]["field"]].kinds == schema.BOTH
        ]

    assert shared(ROW_SUITES["umum"]) == shared(ROW_SUITES["tematik"])


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_reported_field_belongs_to_the_sheet(kind):
    fields = set(schema.SHEETS[kind].field_names)
    assert {e["meta"]["field"] for e in expectations(ROW_SUITES[kind])} <= fields


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_always_field_is_required_unless_its_column_is_missing_or_unreadable(kind):
    required = by_field(ROW_SUITES[kind], "RB-E101")
    always = [f for f in schema.SHEETS[kind].fields if f.requirement == "always"]
    assert set(required) == {f.name for f in always}
    for f in always:
        e = required[f.name]
        assert e["type"] == "expect_column_values_to_not_be_null"
        assert e["kwargs"]["column"] == f.name
        expected = {f"_col_{f.name}": "not null"}
        if f.is_number:
            expected[f"_raw_{f.name}"] = "null"  # unreadable text is RB-E103, not RB-E101
        assert condition_columns(e["kwargs"].get("row_condition")) == expected


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_choice_field_is_checked_against_its_registry_list(kind):
    checks = by_field(ROW_SUITES[kind], "RB-E102")
    choices = {f.name: f.choices for f in schema.SHEETS[kind].fields if f.choices}
    assert set(checks) == set(choices)
    for name, e in checks.items():
        assert e["type"] == "expect_column_values_to_be_in_set"
        # The list is deployment data (inputs/referensi.csv), never spelt in the suite.
        assert e["kwargs"]["value_set"] == {"$PARAMETER": choices[name]}


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_number_field_must_be_a_number_and_not_negative(kind):
    numbers = {f.name for f in schema.SHEETS[kind].fields if f.is_number}
    text = by_field(ROW_SUITES[kind], "RB-E103")
    negative = by_field(ROW_SUITES[kind], "RB-E104")
    assert set(text) == set(negative) == numbers
    for name in numbers:
        assert text[name]["type"] == "expect_column_values_to_be_null"
        assert text[name]["kwargs"] == {"column": f"_raw_{name}"}
        assert negative[name]["type"] == "expect_column_values_to_be_between"
        assert negative[name]["kwargs"] == {"column": name, "min_value": 0}


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_target_and_realisation_is_at_most_100_percent(kind):
    checks = by_field(ROW_SUITES[kind], "RB-E105")
    assert set(checks) == set(schema.TARGET_FIELDS + schema.REALISASI_FIELDS)
    for e in checks.values():
        assert e["kwargs"]["max_value"] == 100
        assert condition_columns(e["kwargs"]["row_condition"]) == {"satuan": ("==", "Persen")}


@pytest.mark.parametrize("kind", schema.KINDS)
@pytest.mark.parametrize(
    "code, fields", [("RB-E106", schema.TARGET_FIELDS), ("RB-E107", schema.REALISASI_FIELDS)]
)
def test_cumulative_values_never_decrease(kind, code, fields):
    checks = by_field(ROW_SUITES[kind], code)
    assert set(checks) == set(fields[1:])
    for name, e in checks.items():
        assert e["kwargs"]["column_A"] == name
        assert e["kwargs"]["or_equal"] is True
        assert e["kwargs"]["ignore_row_if"] == "either_value_is_missing"


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_closed_quarter_field_is_required_once_its_quarter_closed(kind):
    checks = by_field(ROW_SUITES[kind], "RB-E109")
    due = [f for f in schema.SHEETS[kind].fields if f.requirement == "closed_quarter"]
    assert set(checks) == {f.name for f in due}
    for f in due:
        assert condition_columns(checks[f.name]["kwargs"]["row_condition"]) == {
            "_tw_tutup": (">=", f.quarter),
            f"_col_{f.name}": "not null",
            f"_raw_{f.name}": "null",
        }


@pytest.mark.parametrize("kind", schema.KINDS)
def test_quarterly_warnings_cover_every_quarter(kind):
    assert set(by_field(ROW_SUITES[kind], "RB-W101")) == set(schema.REALISASI_FIELDS)
    assert set(by_field(ROW_SUITES[kind], "RB-W102")) == set(schema.TARGET_FIELDS)


@pytest.mark.parametrize("kind", schema.KINDS)
def test_conditional_fields_are_skipped_when_their_column_is_missing(kind):
    for code, name in (
        ("RB-E111", "data_dukung"),
        ("RB-E112", "kendala"),
        ("RB-E113", "tindak_lanjut"),
    ):
        (e,) = expectations(ROW_SUITES[kind], code)
        assert e["meta"]["field"] == e["kwargs"]["column"] == name
        assert condition_columns(e["kwargs"]["row_condition"])[f"_col_{name}"] == "not null"


def _placeholders(e: dict) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", e["meta"]["pesan"] + e["meta"]["saran"]))


@pytest.mark.parametrize("kind", schema.KINDS)
def test_row_suites_refer_only_to_columns_of_the_validated_frame(kind):
    import numpy as np

    plans = _rule_frame(
        staged.empty(),
        closed=np.zeros(0, int),
        running=np.zeros(0, int),
        previous=None,
        threshold=150.0,
    )
    frame = suite_frame(plans, kind, suite_columns(raw(ROW_SUITES[kind])))
    columns = set(frame.columns) | {"_idx"}
    for e in raw_expectations(ROW_SUITES[kind]):
        named = named_columns(e)
        assert named <= columns, e["meta"]
        # Placeholders are read from the failing row, else from its action plan.
        assert _placeholders(e) <= columns | set(plans) | SPECIAL_PLACEHOLDERS, e["meta"]


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_rule_reads_one_level_of_rows(kind):
    # A rule mixing cell and plan columns would read empty values on one of the two levels.
    for e in raw_expectations(ROW_SUITES[kind]):
        named = named_columns(e)
        assert named <= set(CELL_COLUMNS) or not named & set(CELL_COLUMNS), e["meta"]


def test_structure_suite_refers_only_to_columns_of_the_structure_frame():
    columns = set(_structure_frame([]).columns)
    for e in raw_expectations(STRUCTURE_SUITE):
        named = {e["kwargs"]["column"], *condition_columns(e["kwargs"].get("row_condition"))}
        assert named <= columns
        assert _placeholders(e) <= columns | SPECIAL_PLACEHOLDERS


def test_messages_never_spell_a_header_the_schema_owns():
    # Headers come from the schema through {judul}; a spelt header would drift from it.
    headers = {f.header for f in schema.FIELDS if " " in f.header}
    for name in SUITE_FILES:
        for e in raw_expectations(name):
            text = e["meta"]["pesan"] + " " + e["meta"]["saran"]
            assert not {h for h in headers if h in text}, (name, e["meta"])
