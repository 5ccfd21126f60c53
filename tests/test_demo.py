"""The demo month: deterministic, realistic, messy, and honest about what it planted.

The files are read back with openpyxl (no code of ours) and checked against a small, independent
reading of the rule table of docs/contracts.md: every planted problem must show at its cell, and
no error-severity rule may fire on a row the demo calls clean.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter, defaultdict

import openpyxl
import pytest

from pipeline import schema
from pipeline.demo import MESSES, ROW_CODES, generate_month, make_plans
from pipeline.errors import RunError
from pipeline.registry import Period, load_registry

PERIOD = Period.parse("2025-10")


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def month(tmp_path_factory, registry):
    folder = tmp_path_factory.mktemp("demo") / "2025-10"
    return folder, generate_month(folder, PERIOD, registry, seed=2025)


# ---------------------------------------------------------------------------------------------
# Reading the files back (openpyxl) and an independent look at the rules
# ---------------------------------------------------------------------------------------------


def _merged_value(ws, row, col):
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
            return ws.cell(rng.min_row, rng.min_col).value
    return ws.cell(row, col).value


def _columns(ws):
    """Field -> column letter, from the header (joined over merged multi-row headers), and the
    header row/unknown header cells."""
    top = next(
        r for r in range(1, 25) if sum(schema.match_header(c.value) is not None for c in ws[r]) >= 3
    )
    bottom = max(
        [top]
        + [
            rng.max_row
            for rng in ws.merged_cells.ranges
            if rng.min_row == top and rng.min_col == rng.max_col
        ]
    )
    fields, unknown = {}, []
    for col in range(1, ws.max_column + 1):
        parts = []
        for row in range(top, bottom + 1):
            value = _merged_value(ws, row, col)
            if value is not None and (not parts or parts[-1] != value):
                parts.append(str(value))
        if not parts:
            continue
        name = schema.match_header(" ".join(parts))
        letter = schema.column_letter(col)
        if name:
            fields[name] = letter
        else:
            unknown.append(f"{ws.title}!{letter}{top}")
    return fields, unknown


_NUMBER = re.compile(r"-?\d{1,3}(\.\d{3})*(,\d+)?|-?\d+(,\d+)?")


def _number(cell, satuan):
    """(number or None, unparseable text or None) as a careful reader would see the cell."""
    value = cell.value
    if value is None:
        return None, None
    if isinstance(value, int | float):
        number = float(value)
        if "%" in cell.number_format and satuan == "persen":
            number = round(number * 100, 9)
        return number, None
    text = str(value).strip()
    if text in ("", "-"):
        return None, None
    compact = re.sub(r"\s+", "", text.replace("Rp.", "").replace("Rp", "").replace("%", ""))
    if _NUMBER.fullmatch(compact):
        return float(compact.replace(".", "").replace(",", ".")), None
    return None, text


def _norm(value) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _load(path, demo_file):
    """(cached values, formulas) workbooks; the second only where the file has formulas."""
    values = openpyxl.load_workbook(path, data_only=True)
    has_formulas = (
        any(m.startswith("rumus") for m in demo_file.messes) or "baris_subtotal" in demo_file.messes
    )
    return values, openpyxl.load_workbook(path) if has_formulas else values


@dataclasses.dataclass
class _Row:
    """One action-plan row of a sheet, read through the sheet's header mapping."""

    ws: object  # cached values
    wf: object  # formulas
    columns: dict
    row: int

    def cell(self, name):
        return self.ws[f"{self.columns[name]}{self.row}"] if name in self.columns else None

    def ref(self, name):
        return f"{self.ws.title}!{self.columns[name]}{self.row}"

    def text(self, name):
        if name not in self.columns:
            return None
        value = _merged_value(self.ws, self.row, schema.column_index(self.columns[name]))
        return None if value is None or str(value).strip() == "" else str(value)

    def formula_without_value(self, name):
        formula = self.wf[f"{self.columns[name]}{self.row}"].value
        return (
            isinstance(formula, str) and formula.startswith("=") and self.cell(name).value is None
        )


def _row_hits(r: _Row, kind, registry, period):
    """{(code, cell)} of the row-level rules of docs/contracts.md on one row (not RB-E114)."""
    hits = set()
    closed, running = period.closed_quarter, period.running_quarter
    satuan = _norm(r.text("satuan"))
    num, raw = {}, {}
    for name in schema.NUMBER_FIELDS:
        num[name] = raw[name] = None
        if name not in r.columns:
            continue
        if r.formula_without_value(name):
            hits.add(("RB-E011", r.ref(name)))
        num[name], raw[name] = _number(r.cell(name), satuan)
        if raw[name] is not None:
            hits.add(("RB-E103", r.ref(name)))
        elif num[name] is not None and num[name] < 0:
            hits.add(("RB-E104", r.ref(name)))
    for field in schema.SHEETS[kind].fields:
        if field.name not in r.columns or ("RB-E011", r.ref(field.name)) in hits:
            continue
        if field.is_number:
            empty = num[field.name] is None and raw[field.name] is None
        else:
            empty = r.text(field.name) is None
        if field.requirement == "always" and empty:
            hits.add(("RB-E101", r.ref(field.name)))
        if field.choices and not empty:
            allowed = {_norm(v) for v in registry.reference(field.choices)}
            if _norm(r.text(field.name)) not in allowed:
                hits.add(("RB-E102", r.ref(field.name)))
    for q in schema.QUARTERS:
        t, real = num[f"target_tw{q}"], num[f"realisasi_tw{q}"]
        if satuan == "persen":
            for name, v in ((f"target_tw{q}", t), (f"realisasi_tw{q}", real)):
                if v is not None and v > 100:
                    hits.add(("RB-E105", r.ref(name)))
        if q > 1:
            for base, code in (("target", "RB-E106"), ("realisasi", "RB-E107")):
                now, before = num[f"{base}_tw{q}"], num[f"{base}_tw{q - 1}"]
                if now is not None and before is not None and now < before:
                    hits.add((code, r.ref(f"{base}_tw{q}")))
        if q <= closed and real is None and ("RB-E011", r.ref(f"realisasi_tw{q}")) not in hits:
            hits.add(("RB-E109", r.ref(f"realisasi_tw{q}")))
        if q <= running and t and real is not None and real > 1.5 * t:
            hits.add(("RB-W101", r.ref(f"realisasi_tw{q}")))
    if num["target_tw4"] == 0:
        hits.add(("RB-E108", r.ref("target_tw4")))
    if (
        None not in (num["anggaran"], num["realisasi_anggaran"])
        and num["realisasi_anggaran"] > num["anggaran"]
    ):
        hits.add(("RB-E110", r.ref("realisasi_anggaran")))
    if (
        any((num[f"realisasi_tw{q}"] or 0) > 0 for q in schema.QUARTERS)
        and r.text("data_dukung") is None
    ):
        hits.add(("RB-E111", r.ref("data_dukung")))
    behind = (
        closed
        and None not in (num[f"realisasi_tw{closed}"], num[f"target_tw{closed}"])
        and num[f"realisasi_tw{closed}"] < num[f"target_tw{closed}"]
    )
    if behind and r.text("kendala") is None:
        hits.add(("RB-E112", r.ref("kendala")))
    if r.text("kendala") is not None and r.text("tindak_lanjut") is None:
        hits.add(("RB-E113", r.ref("tindak_lanjut")))
    return hits


def _rule_hits(books, demo_file, registry, period):
    """{(code, cell)} the rule table of docs/contracts.md finds on the file's action plans."""
    values, formulas = books
    hits = set()
    kodes = defaultdict(list)
    rows_by_sheet = defaultdict(list)
    for sheet, row, _ in demo_file.rows:
        rows_by_sheet[sheet].append(row)
    for sheet_name, rows in rows_by_sheet.items():
        ws = values[sheet_name]
        columns, unknown = _columns(ws)
        hits.update(("RB-W010", ref) for ref in unknown)
        kind = "tematik" if "tema" in columns else "umum"
        for field in schema.SHEETS[kind].fields:
            if field.name not in columns and field.requirement == "always":
                hits.add(("RB-E010", f"{sheet_name}:{field.name}"))
        for row in rows:
            view = _Row(ws=ws, wf=formulas[sheet_name], columns=columns, row=row)
            hits |= _row_hits(view, kind, registry, period)
            kodes[view.text("kode")].append(view.ref("kode"))
    for refs in kodes.values():
        if len(refs) > 1:
            hits.update(("RB-E114", r) for r in refs)
    return hits


def _books(folder, plan):
    return {
        f.name: _load(folder / f.name, f) for f in plan.files if f.expected_status != "rejected"
    }


def _all_hits(books, plan, registry, period):
    return {
        f.name: _rule_hits(books[f.name], f, registry, period)
        for f in plan.files
        if f.expected_status == "accepted"
    }


@pytest.fixture(scope="module")
def books(month):
    return _books(*month)


@pytest.fixture(scope="module")
def hits(month, books, registry):
    return _all_hits(books, month[1], registry, PERIOD)


# ---------------------------------------------------------------------------------------------
# The month as a whole
# ---------------------------------------------------------------------------------------------


def test_files_on_disk_are_exactly_the_planned_ones_plus_the_lock_file(month):
    folder, plan = month
    on_disk = sorted(p.name for p in folder.iterdir())
    assert on_disk == sorted([f.name for f in plan.files] + plan.ignored)
    assert len(plan.ignored) == 1 and plan.ignored[0].startswith("~$")


def test_most_units_submit_and_a_few_do_not(month, registry):
    _, plan = month
    assert plan.submitting_units + plan.missing_units != []
    assert sorted(plan.submitting_units + plan.missing_units) == sorted(registry.codes)
    assert 4 <= len(plan.missing_units) <= 6
    accepted = [f for f in plan.files if f.expected_status == "accepted"]
    assert sorted(f.unit for f in accepted) == sorted(plan.submitting_units)
    assert Counter(f.expected_status for f in plan.files) == {
        "accepted": len(plan.submitting_units),
        "rejected": 3,
        "superseded": 1,
    }


def test_every_mess_of_real_submissions_occurs(month):
    _, plan = month
    seen = {m for f in plan.files for m in f.messes}
    assert plan.ignored  # the lock file: "berkas_kunci"
    assert set(MESSES) == seen | {"berkas_kunci"}


def test_every_rule_is_planted_at_least_once(month):
    _, plan = month
    codes = Counter(p.code for p in plan.planted)
    for code in (
        *ROW_CODES,
        "RB-E010",
        "RB-W010",
        "RB-E011",
        "RB-E001",
        "RB-E005",
        "RB-E006",
        "RB-W001",
    ):
        assert codes[code] >= 1, code
    file_level = [p for p in plan.planted if p.cell is None]
    assert {p.code for p in file_level} == {"RB-E001", "RB-E005", "RB-E006", "RB-W001", "RB-E010"}


def test_arrivals_are_fixed_times_in_the_next_month_mostly_on_time(month):
    folder, plan = month
    late = [f for f in plan.files if not f.on_time]
    assert 1 <= len(late) <= 8
    for f in plan.files:
        assert f.modified.year == 2025 and f.modified.month == 11
        assert f.on_time == (f.modified.date() <= PERIOD.deadline(5))
        stat = os.stat(folder / f.name)
        assert stat.st_mtime == pytest.approx(f.modified.timestamp(), abs=1)


def test_the_superseded_file_is_older_than_its_replacement(month):
    _, plan = month
    old = next(f for f in plan.files if f.expected_status == "superseded")
    new = [f for f in plan.files if f.unit == old.unit and f.expected_status == "accepted"]
    assert len(new) == 1 and new[0].modified > old.modified
    assert new[0].name == "Dinas Sosial - RB 2025 (okt).xlsx"


def test_free_style_names_of_the_domain_brief(month):
    _, plan = month
    names = {f.name: f for f in plan.files}
    assert names["Laporan RB Dinkes Oktober 2025.xlsx"].unit == "DINKES"
    assert any(
        n.endswith("_2025-09.xlsx") and f.expected_status == "rejected" for n, f in names.items()
    )
    assert names["BAZNAS_2025-10.xlsx"].unit is None


def test_the_non_workbook_is_a_pdf(month):
    folder, plan = month
    pdf = next(f for f in plan.files if "bukan_excel" in f.messes)
    assert pdf.name.endswith(".xlsx")
    assert (folder / pdf.name).read_bytes().startswith(b"%PDF-")


# ---------------------------------------------------------------------------------------------
# Rows and cells
# ---------------------------------------------------------------------------------------------


def test_listed_rows_hold_their_action_plan_codes(month, books):
    _, plan = month
    for f in plan.files:
        if f.expected_status == "rejected":
            continue
        wb = books[f.name][0]
        for sheet, row, kode in f.rows:
            columns, _ = _columns(wb[sheet])
            assert wb[sheet][f"{columns['kode']}{row}"].value == kode, (f.name, sheet, row)


def test_skipped_rows_are_blank_subtotal_or_section_rows(month, books, registry):
    _, plan = month
    groups = set(registry.reference("sasaran")) | set(registry.reference("tema"))
    kinds = Counter()
    for f in plan.files:
        if not f.skipped:
            continue
        wb = books[f.name][1]
        for sheet, row, kind in f.skipped:
            values = [c.value for c in wb[sheet][row] if c.value is not None]
            kinds[kind] += 1
            if kind == "kosong":
                assert values == []
            elif kind == "subtotal":
                assert values[0] in ("JUMLAH", "TOTAL")
            else:
                assert kind == "bagian" and values == [values[0]] and values[0] in groups
    assert set(kinds) == {"kosong", "subtotal", "bagian"}


def _assert_planted_shown(plan, hits):
    for p in plan.planted:
        if p.code in ("RB-E001", "RB-E005", "RB-E006", "RB-W001"):
            continue
        key = p.cell if p.cell else f"{p.sheet}:{p.field}"
        assert (p.code, key) in hits[p.file], p


def test_every_planted_problem_shows_at_its_cell(month, hits):
    _assert_planted_shown(month[1], hits)


def test_no_error_on_rows_the_demo_calls_clean(month, hits):
    _assert_clean_rows_clean(month[1], hits)


def _assert_clean_rows_clean(plan, hits):
    for f in plan.files:
        if f.expected_status != "accepted":
            continue
        errors = {cell for code, cell in hits[f.name] if code.startswith("RB-E") and "!" in cell}
        rows = {(cell.split("!")[0], int(re.sub(r"\D", "", cell.split("!")[1]))) for cell in errors}
        assert not rows & f.clean_rows, (f.name, sorted(rows & f.clean_rows))
        planted = {
            (p.code, p.cell or f"{p.sheet}:{p.field}") for p in plan.planted if p.file == f.name
        }
        assert {h for h in hits[f.name] if h[0].startswith("RB-E")} <= planted, f.name


def test_messy_cells_really_are_messy(month):
    folder, plan = month
    by_mess = {
        m: next(f for f in plan.files if m in f.messes)
        for m in MESSES
        if any(m in f.messes for f in plan.files)
    }
    wb = openpyxl.load_workbook(folder / by_mess["persen_excel"].name)
    percent = [
        c
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, float) and c.number_format == "0%"
    ]
    assert percent and all(0 <= c.value <= 1.2 for c in percent)
    wb = openpyxl.load_workbook(folder / by_mess["angka_teks"].name)
    texts = {
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    assert any(re.fullmatch(r"Rp \d{1,3}(\.\d{3})+,00", t) for t in texts)
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", t) for t in texts)
    assert any(re.fullmatch(r"\d+%", t) for t in texts)
    assert any(re.fullmatch(r"\d+ %", t) for t in texts)
    assert any(re.fullmatch(r"\d+,\d+", t) for t in texts)
    assert "-" in texts
    hidden = by_mess["baris_tersembunyi"]
    wb = openpyxl.load_workbook(folder / hidden.name)
    hidden_rows = {(ws.title, r) for ws in wb for r, d in ws.row_dimensions.items() if d.hidden}
    assert hidden_rows and hidden_rows <= {(s, r) for s, r, _ in hidden.rows}
    assert any(d.hidden for ws in wb for d in ws.column_dimensions.values())
    assert schema.SHEET_META not in wb.sheetnames and schema.SHEET_IDENTITAS not in wb.sheetnames
    wb = openpyxl.load_workbook(folder / by_mess["sel_gabung"].name)
    assert any(
        rng.min_row != rng.max_row and rng.min_col == rng.max_col and rng.min_row > 8
        for ws in wb
        for rng in ws.merged_cells.ranges
    )
    wb = openpyxl.load_workbook(folder / by_mess["rumus_dengan_nilai"].name, data_only=True)
    formulas = openpyxl.load_workbook(folder / by_mess["rumus_dengan_nilai"].name)
    cached = [
        (ws.title, c.coordinate)
        for ws in formulas
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert cached and all(wb[s][c].value is not None for s, c in cached)
    assert (
        "RB TEMATIK 2025"
        in openpyxl.load_workbook(folder / by_mess["nama_lembar_beda"].name).sheetnames
    )


def test_headers_drift_yet_every_spelling_maps_to_a_field(month):
    folder, plan = month
    f = next(f for f in plan.files if "header_ejaan" in f.messes and "kolom_diacak" in f.messes)
    wb = openpyxl.load_workbook(folder / f.name)
    for ws in wb:
        headers = [c.value for c in ws[1]]
        assert "RENCANA AKSI" in headers and "PIC" in headers and "Pagu" in headers
        columns, unknown = _columns(ws)
        assert not unknown
        kind = "tematik" if "tema" in columns else "umum"
        assert set(columns) == set(schema.SHEETS[kind].field_names)
        assert list(columns) != list(schema.SHEETS[kind].field_names)  # reordered


# ---------------------------------------------------------------------------------------------
# Months of one year: the same plans, realisations moving forward, target changes listed
# ---------------------------------------------------------------------------------------------

SEPTEMBER = Period.parse("2025-09")
TEXT_FIELDS = ("indikator", "rencana_aksi", "output", "satuan", "penanggung_jawab")


@pytest.fixture(scope="module")
def september(tmp_path_factory, registry):
    folder = tmp_path_factory.mktemp("demo") / "2025-09"
    plan = generate_month(folder, SEPTEMBER, registry, seed=2025)
    return folder, plan, _books(folder, plan)


def _accepted(plan):
    return {f.unit: f for f in plan.files if f.expected_status == "accepted"}


def _plans_by_kind(books, demo_file):
    """{kind: [_Row, ...]} of a file, in the order the plans were written."""
    values, formulas = books
    out, seen = defaultdict(list), {}
    for sheet, row, _ in demo_file.rows:
        if sheet not in seen:
            columns, _ = _columns(values[sheet])
            seen[sheet] = ("tematik" if "tema" in columns else "umum", columns)
        kind, columns = seen[sheet]
        out[kind].append(_Row(ws=values[sheet], wf=formulas[sheet], columns=columns, row=row))
    return out


def _target(r: _Row, name):
    return _number(r.cell(name), _norm(r.text("satuan")))[0]


def _realisations(r: _Row):
    return [_number(r.cell(n), _norm(r.text("satuan")))[0] for n in schema.REALISASI_FIELDS]


def _changed_cells(before, after):
    """Target cells of ``after`` that differ from the first plan of ``before`` with the same
    sheet kind and Kode RA (the comparison of docs/contracts.md, RB-W102)."""
    cells = set()
    for kind, rows in after.items():
        first = {}
        for r in before.get(kind, []):
            first.setdefault("".join(str(r.text("kode")).split()).casefold(), r)
        for r in rows:
            old = first.get("".join(str(r.text("kode")).split()).casefold())
            for name in schema.TARGET_FIELDS if old else ():
                was, now = _target(old, name), _target(r, name)
                if was is not None and now is not None and was != now:
                    cells.add(r.ref(name))
    return cells


def _touched_rows(plan):
    """(file, sheet, row) of every row carrying a planted problem of any severity."""
    return {
        (p.file, p.cell.split("!")[0], int(re.sub(r"\D", "", p.cell.split("!")[1])))
        for p in plan.planted
        if p.cell
    }


def test_two_months_differ_in_targets_exactly_at_the_listed_target_changes(month, books, september):
    _, october = month
    _, sep_plan, sep_books = september
    before, after = _accepted(sep_plan), _accepted(october)
    expected = defaultdict(set)
    for p in october.target_changes:
        expected[p.file].add(p.cell)
    compared = 0
    for unit, f in after.items():
        if unit not in before:
            assert not expected[f.name], f.name
            continue
        old = _plans_by_kind(sep_books[before[unit].name], before[unit])
        new = _plans_by_kind(books[f.name], f)
        assert _changed_cells(old, new) == expected[f.name], f.name
        compared += 1
    assert compared >= 40
    assert october.uncompared_units == [u for u in october.submitting_units if u not in before]
    assert october.target_changes and sep_plan.target_changes


def test_target_changes_are_warnings_kept_apart_from_what_any_run_reports(month):
    _, plan = month
    assert all(p.code == "RB-W102" and p.field in schema.TARGET_FIELDS for p in plan.target_changes)
    assert all(p.unit and p.cell.startswith(f"{p.sheet}!") for p in plan.target_changes)
    assert "RB-W102" not in {p.code for p in plan.planted}
    accepted = {f.name for f in plan.files if f.expected_status == "accepted"}
    assert {p.file for p in plan.target_changes} <= accepted


def test_a_target_is_raised_on_purpose_in_an_otherwise_clean_file(month, books, september):
    _, october = month
    _, sep_plan, sep_books = september
    before = _accepted(sep_plan)
    clean_files = {f.name for f in october.files} - {p.file for p in october.planted}
    changes = defaultdict(list)
    for p in october.target_changes:
        changes[p.file].append(p)
    raised = []
    for name, found in changes.items():
        if name not in clean_files or len(found) != 1 or found[0].field != "target_tw4":
            continue
        f = october.file(name)
        new = _plans_by_kind(books[name], f)
        old = _plans_by_kind(sep_books[before[f.unit].name], before[f.unit])
        kind, r = next(
            (k, r) for k, rows in new.items() for r in rows if r.ref("target_tw4") == found[0].cell
        )
        was = next(o for o in old[kind] if o.text("kode") == r.text("kode"))
        if _target(r, "target_tw4") > _target(was, "target_tw4"):
            raised.append(name)
    assert raised, "no file whose only finding is a raised annual target"


def test_plans_untouched_in_both_months_keep_their_texts_and_move_forward(month, books, september):
    _, october = month
    _, sep_plan, sep_books = september
    touched = _touched_rows(october) | _touched_rows(sep_plan)
    before, after = _accepted(sep_plan), _accepted(october)
    checked = 0
    for unit in before.keys() & after.keys():
        old = _plans_by_kind(sep_books[before[unit].name], before[unit])
        new = _plans_by_kind(books[after[unit].name], after[unit])
        for kind in schema.KINDS:
            assert len(old[kind]) == len(new[kind]), (unit, kind)
            for was, now in zip(old[kind], new[kind], strict=True):
                if (before[unit].name, was.ws.title, was.row) in touched or (
                    after[unit].name,
                    now.ws.title,
                    now.row,
                ) in touched:
                    continue
                assert was.text("kode") == now.text("kode")
                for name in TEXT_FIELDS + (("tema", "permasalahan") if kind == "tematik" else ()):
                    if name in was.columns and name in now.columns:
                        assert _norm(was.text(name)) == _norm(now.text(name)), (unit, name)
                sep_real, oct_real = _realisations(was), _realisations(now)
                # September closed TW I and TW II; October closes TW III too.
                assert oct_real[:2] == sep_real[:2], (unit, now.ref("kode"))
                assert oct_real[2] is not None
                assert sep_real[2] is None or oct_real[2] >= sep_real[2], (unit, now.ref("kode"))
                checked += 1
    assert checked > 150


def test_a_unit_plans_once_a_year_and_reports_progress_monthly(registry):
    """Every month of 2025 for a few units: same plans and targets, closed quarters fixed
    once closed, and no realisation lower than the month before."""
    for kode in ("DINKES", "KEC-NATAR", "BPBD", "SETDA"):
        unit = registry.unit(kode)
        months = [make_plans(unit, Period(2025, m), registry, seed=11) for m in range(1, 13)]
        fixed = [n for n in schema.SHEETS["tematik"].field_names if n in TEXT_FIELDS]
        for earlier, later, m in zip(months, months[1:], range(2, 13), strict=False):
            closed = Period(2025, m).closed_quarter
            for kind in schema.KINDS:
                for a, b in zip(earlier[kind], later[kind], strict=True):
                    assert [a[n] for n in fixed] == [b[n] for n in fixed]
                    assert [a[n] for n in schema.TARGET_FIELDS] == [
                        b[n] for n in schema.TARGET_FIELDS
                    ]
                    assert a["anggaran"] == b["anggaran"]
                    for q in range(1, 5):
                        was, now = a[f"realisasi_tw{q}"], b[f"realisasi_tw{q}"]
                        if was is not None:
                            assert now is not None and now >= was, (kode, m, q)
                        if q <= closed and q < Period(2025, m - 1).running_quarter:
                            assert now == was, (kode, m, q)


def test_january_starts_a_new_year_so_nothing_is_compared(tmp_path, registry):
    plan = generate_month(
        tmp_path / "2026-01", Period.parse("2026-01"), registry, seed=5, n_units=8
    )
    assert plan.target_changes == [] and plan.uncompared_units == []


# ---------------------------------------------------------------------------------------------
# Determinism and scale
# ---------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_same_times_same_plan(month, tmp_path, registry):
    folder, plan = month
    again = generate_month(tmp_path / "2025-10", PERIOD, registry, seed=2025)
    assert dataclasses.asdict(again) == dataclasses.asdict(plan)
    for name in [f.name for f in plan.files] + plan.ignored:
        assert (tmp_path / "2025-10" / name).read_bytes() == (folder / name).read_bytes(), name
        assert os.stat(tmp_path / "2025-10" / name).st_mtime == os.stat(folder / name).st_mtime


def test_another_seed_gives_another_month(tmp_path, registry, month):
    _, plan = month
    other = generate_month(tmp_path / "2025-10", PERIOD, registry, seed=7, n_units=12)
    assert other.missing_units != plan.missing_units


def test_synthetic_registry_written_beside_the_month_and_plans_fixed(tmp_path, registry):
    plan = generate_month(
        tmp_path / "inputs" / "2025-10", PERIOD, registry, seed=1, n_units=30, n_plans=12
    )
    assert plan.registry_file == tmp_path / "inputs" / "unit_kerja.csv"
    synthetic = load_registry(tmp_path / "inputs")
    assert len(synthetic.units) == 30 and synthetic.units[0].kode == "UNIT-0001"
    assert len({u.nama for u in synthetic.units}) == 30
    assert sorted(plan.submitting_units + plan.missing_units) == sorted(synthetic.codes)
    for f in plan.files:
        if f.expected_status != "rejected":
            assert len(f.rows) == 12, f.name
    assert {"laporan_bebas", "header_dua_baris", "bukan_excel"} & {
        m for f in plan.files for m in f.messes
    }


def test_a_real_registry_is_never_overwritten(tmp_path, registry):
    (tmp_path / "unit_kerja.csv").write_text("kode,nama\nDINKES,Dinas Kesehatan\n")
    with pytest.raises(RunError, match="tidak akan ditimpa"):
        generate_month(tmp_path / "2025-10", PERIOD, registry, n_units=5)
    assert "DINKES" in (tmp_path / "unit_kerja.csv").read_text()


def test_a_first_quarter_month_plants_only_what_it_can_and_plants_it_right(tmp_path, registry):
    february = Period.parse("2025-02")
    plan = generate_month(tmp_path / "2025-02", february, registry, seed=3, n_units=24)
    codes = {p.code for p in plan.planted}
    assert "RB-E109" not in codes and "RB-E112" not in codes and "RB-E107" not in codes
    assert {"RB-E101", "RB-E105", "RB-E108", "RB-E114", "RB-W101"} <= codes
    synthetic = load_registry(tmp_path)
    hits = _all_hits(_books(tmp_path / "2025-02", plan), plan, synthetic, february)
    _assert_planted_shown(plan, hits)
    _assert_clean_rows_clean(plan, hits)
    assert plan.target_changes, "every month after January changes a target"
