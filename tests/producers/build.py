"""Rebuild ``tests/fixtures/producers/``: DINKES's four action plans (``content.py``) written by
producers nobody on this project wrote, and the workbook shapes units really send.

``python tests/producers/build.py [NAME ...]`` (from the repository root, with the project's
virtual environment). Needs, per producer: ``ssconvert`` (Debian ``gnumeric``), ``soffice``
(LibreOffice), ``node``/``npm`` (``npm install`` in ``tests/producers/`` fetches SheetJS and
ExcelJS, pinned in ``package.json``). ``make test`` needs none of them: it reads the committed
results. ``FIXTURES`` in ``tests/test_producers.py`` says what each file must yield.

Each fixture is the report of its own unit (``content.UNITS``), from that unit's template.

============================  ===============================================================
fixture                       producer / case
============================  ===============================================================
template.xlsx                 our own template writer (xlsxwriter): the source of the others
gnumeric.ods                  Gnumeric ``ssconvert`` (indented XML: calamine cannot read it)
gnumeric.xlsx.xz              Gnumeric ``ssconvert``: ~1 million styled empty cells per
                              action-plan sheet (5.7 MB as .xlsx, stored xz-compressed)
libreoffice.ods / .xlsx /     LibreOffice ``soffice --convert-to``
libreoffice.xls
sheetjs.xlsx                  SheetJS 0.18.5 (``aoa_to_sheet``), as a web app exports
exceljs.xlsx                  ExcelJS 4.4.0 (``addRow``), as a web app exports
exceljs_foto.xlsx             ExcelJS with photos of evidence pasted over both action sheets
strict.xlsx                   Excel "Strict Open XML": no producer of it runs here, so the
                              template is rewritten to the Strict namespaces (ISO/IEC 29500-1
                              strict: ``purl.oclc.org/ooxml/...``, ``conformance="strict"``)
salinan_lembar.xlsx           openpyxl: the operator duplicated RB Umum (``RB Umum (2)``,
                              filled) and emptied the original
hanya_tematik.xlsx            openpyxl: a unit with RB Tematik plans only (RB Umum deleted)
DISPERKIM_2025-10_umpan_      rbpipe's own feedback workbook, sent back as the correction
balik.xlsx                    under the name rbpipe gave it
============================  ===============================================================
"""

from __future__ import annotations

import base64
import json
import lzma
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "tests" / "fixtures" / "producers"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE.parent))

from pipeline import schema  # noqa: E402
from pipeline.registry import Period, load_registry  # noqa: E402
from pipeline.template import template_bytes  # noqa: E402
from producers.content import PERIOD, PLANS, UNITS  # noqa: E402


def template(out: Path, fixture: str) -> Path:
    """The filled template of the unit whose report ``fixture`` is."""
    registry = load_registry()
    unit = next(u for u in registry.units if u.kode == UNITS[fixture])
    out.write_bytes(template_bytes(unit, Period.parse(PERIOD), registry, plans=PLANS))
    return out


def gnumeric(work: Path) -> None:
    for suffix in ("ods", "xlsx"):
        base = template(work / f"gnumeric-{suffix}.xlsx", f"gnumeric.{suffix}")
        target = work / f"gnumeric.{suffix}"
        subprocess.run(["ssconvert", str(base), str(target)], check=True, capture_output=True)
        if suffix == "ods":
            shutil.copy(target, OUT / target.name)
        else:
            (OUT / "gnumeric.xlsx.xz").write_bytes(lzma.compress(target.read_bytes(), preset=9))


def libreoffice(work: Path) -> None:
    for suffix, target in (("ods", "ods"), ("xlsx", "xlsx:Calc MS Excel 2007 XML"), ("xls", "xls")):
        base = template(work / f"lo-{suffix}.xlsx", f"libreoffice.{suffix}")
        subprocess.run(
            ["soffice", "--headless", "--convert-to", target, "--outdir", str(work), str(base)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.copy(work / f"{base.stem}.{suffix}", OUT / f"libreoffice.{suffix}")


def web_apps(work: Path) -> None:
    """SheetJS and ExcelJS fed the plans as a web application holds them: rows of values."""
    for name in ("sheetjs.xlsx", "exceljs.xlsx", "exceljs_foto.xlsx"):
        folder = work / name
        folder.mkdir()
        _web_app(folder, UNITS[name])
        shutil.copy(folder / name, OUT / name)


def _web_app(work: Path, kode: str) -> None:
    nama = next(u.nama for u in load_registry().units if u.kode == kode)
    sheets = [
        {
            "name": "Identitas",
            "rows": [
                ["IDENTITAS UNIT KERJA"],
                [],
                ["Kode Unit", kode],
                ["Nama Unit", nama],
                ["Periode (YYYY-MM)", PERIOD],
            ],
        }
    ]
    for kind, plans in PLANS.items():
        sheet = schema.SHEETS[kind]
        rows = [[sheet.title], [], list(sheet.headers)]
        rows += [[plan.get(name) for name in sheet.field_names] for plan in plans]
        sheets.append({"name": sheet.name, "rows": rows})
    spec = work / "web.json"
    spec.write_text(json.dumps({"sheets": sheets, "photo": base64.b64encode(_png()).decode()}))
    subprocess.run(["node", str(HERE / "web_export.js"), str(spec), str(work)], check=True)


def _png(width: int = 64, height: int = 48) -> bytes:
    """A small photo-like PNG (a colour gradient), written with zlib alone."""
    raw = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 4, y * 5, 120)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


STRICT_NAMESPACES = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    ),
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
    b"http://schemas.openxmlformats.org/drawingml/2006/main": (
        b"http://purl.oclc.org/ooxml/drawingml/main"
    ),
    b"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": (
        b"http://purl.oclc.org/ooxml/officeDocument/extendedProperties"
    ),
}


def strict(work: Path) -> None:
    """The template in Strict Open XML namespaces, as Excel's "Strict Open XML Spreadsheet"
    writes them (no Strict producer runs on this machine)."""
    base = template(work / "strict-base.xlsx", "strict.xlsx")
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(OUT / "strict.xlsx", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith((".xml", ".rels")):
                for old, new in STRICT_NAMESPACES.items():
                    data = data.replace(old, new)
                if info.filename == "xl/workbook.xml":
                    data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


def openpyxl_cases(work: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(template(work / "salinan.xlsx", "salinan_lembar.xlsx"))
    original = wb["RB Umum"]
    copy = wb.copy_worksheet(original)
    copy.title = "RB Umum (2)"
    wb.move_sheet(copy, offset=wb.sheetnames.index("RB Umum") + 1 - wb.sheetnames.index(copy.title))
    for row in original.iter_rows(min_row=schema.TEMPLATE_FIRST_DATA_ROW):
        for cell in row:
            cell.value = None
    wb.save(OUT / "salinan_lembar.xlsx")

    wb = openpyxl.load_workbook(template(work / "tematik.xlsx", "hanya_tematik.xlsx"))
    del wb["RB Umum"]
    wb.save(OUT / "hanya_tematik.xlsx")


def feedback(work: Path) -> None:
    """rbpipe's own feedback workbook, as the unit sends it back as its correction."""
    name = next(n for n in UNITS if "umpan_balik" in n)
    kode = UNITS[name]
    month = work / "masuk" / PERIOD
    month.mkdir(parents=True)
    template(month / f"{kode}_{PERIOD}.xlsx", name)
    rbpipe = Path(sys.executable).with_name("rbpipe")
    subprocess.run(
        [str(rbpipe), "run", "--period", PERIOD, "--inputs", str(work / "masuk"),
         "--outputs", str(work / "keluar")],
        check=True,
        capture_output=True,
    )  # fmt: skip
    shutil.copy(work / "keluar" / PERIOD / "umpan_balik" / name, OUT / name)


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rbpipe-producers-") as tmp:
        work = Path(tmp)
        steps = {
            "template": lambda: template(OUT / "template.xlsx", "template.xlsx"),
            "gnumeric": lambda: gnumeric(work),
            "libreoffice": lambda: libreoffice(work),
            "web": lambda: web_apps(work),
            "strict": lambda: strict(work),
            "openpyxl": lambda: openpyxl_cases(work),
            "feedback": lambda: feedback(work),
        }
        for name, step in steps.items():
            if not names or name in names:
                step()
                print(f"{name}: done")


if __name__ == "__main__":
    main(sys.argv[1:])
