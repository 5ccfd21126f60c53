"""``manifest.json``: what one monthly run did, for machines (architecture.md contract).

In: a :class:`model.RunResult`. Out: a dict with, in this order, ``period``, ``tool_version``,
``started``, ``finished``, ``files``, ``units``, ``problems``, ``regency``, ``totals``,
``outputs`` and ``info`` — every key of the contract plus the regency figures and the run's
``info`` (versions, suite versions, stage timings) — written as UTF-8 JSON
(``ensure_ascii=False``, two-space indent, keys in this fixed order).

Values: times are ISO 8601 local times to the second; capaian is in percent and the other unit
metrics are fractions 0..1; NaN and other undefined values become ``null``; numpy/pandas
scalars become plain JSON numbers and booleans. Texts are stored exactly as the unit wrote them:
JSON strings cannot execute, and escaping them (as one must in CSV) would corrupt the data for
the machines that read this file. ``outputs`` are relative to the manifest's folder
(``outputs/<YYYY-MM>/``), with ``/`` separators, sorted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipeline import __version__, schema
from pipeline.deliveries import report_sources
from pipeline.figures import METRIC_KEYS
from pipeline.fsutil import write_text_atomic
from pipeline.model import RunResult
from pipeline.plain import as_float, as_int, flag, json_scalar, json_tree
from pipeline.problems import sort_problems


def _files(run: RunResult) -> list[dict[str, Any]]:
    codes: dict[str, set[str]] = {}
    for p in run.problems:
        if p.file:
            codes.setdefault(p.file, set()).add(p.code)
    out = []
    for s in sorted(run.submissions, key=lambda s: s.name):
        out.append(
            {
                "name": s.name,
                "sha256": s.sha256,
                "unit": s.unit,
                "status": s.status,
                "problems": sorted(codes.get(s.name, set()) | {p.code for p in s.problems}),
                "rows_read": s.rows_read,
                "rows_consolidated": s.rows_consolidated,
                "rows_skipped": s.rows_skipped,
                "skipped": [
                    {"sheet": k.sheet, "row": k.row, "reason": k.reason} for k in s.skipped
                ],
                "sheets": [
                    {
                        "sheet": a.sheet,
                        "kind": a.kind,
                        "use": a.use,
                        "rows_read": a.rows_read,
                        "rows_consolidated": a.rows_consolidated,
                        "rows_skipped": a.rows_skipped,
                        "replaced_by": a.replaced_by,
                    }
                    for a in s.sheets
                ],
                "format": s.format,
                "reader": s.reader,
                "size": s.size,
                "modified": json_scalar(s.modified),
                "received": json_scalar(s.received),
            }
        )
    return out


def unit_records(run: RunResult) -> list[dict[str, Any]]:
    """The manifest's ``units``: one record per registry unit, in registry order."""
    by_code = {row["kode"]: row for row in run.metrics.units.to_dict("records")}
    sources = report_sources(run.submissions)
    out = []
    for unit in run.registry.units:
        u = by_code.get(unit.kode, {})
        submitted = bool(flag(u.get("submitted")))
        record = {
            "kode": unit.kode,
            "nama": unit.nama,
            "submitted": submitted,
            "on_time": flag(u.get("on_time")) if submitted else None,
            "rows": as_int(u.get("rows")) or 0,
            "errors": as_int(u.get("errors")) or 0,
            "warnings": as_int(u.get("warnings")) or 0,
        }
        record.update({key: as_float(u.get(key)) for key in METRIC_KEYS})
        record["rank"] = as_int(u.get("rank"))
        record["file"] = u.get("file") if submitted else None
        mine = sources.get(unit.kode, {})
        record["sumber"] = (
            {
                kind: (
                    {
                        "file": mine[kind].file,
                        "sheet": mine[kind].sheet,
                        "reader": mine[kind].reader,
                        "rows": mine[kind].rows,
                    }
                    if kind in mine
                    else None
                )
                for kind in schema.KINDS
            }
            if submitted
            else None
        )
        out.append(record)
    return out


def _problems(run: RunResult) -> list[dict[str, Any]]:
    return [
        {
            "code": p.code,
            "severity": p.severity,
            "unit": p.unit,
            "file": p.file,
            "cell": p.cell,
            "field": p.field,
            "value": p.value,
            "message": p.message,
            "hint": p.hint,
            "sheet": p.sheet,
            "row": p.row,
            "column": p.column,
        }
        for p in sort_problems(run.problems)
    ]


def _totals(run: RunResult) -> dict[str, Any]:
    reg = run.metrics.regency
    return {
        "files": reg.files,
        "rows_read": reg.rows_read,
        "rows_consolidated": reg.rows_consolidated,
        "rows_skipped": reg.rows_skipped,
        "errors": reg.errors,
        "warnings": reg.warnings,
    }


def _outputs(run: RunResult, base: Path | None) -> list[str]:
    out = []
    for path in run.outputs:
        path = Path(path)
        if base is not None:
            path = Path(os.path.relpath(path.resolve(), Path(base).resolve()))
        out.append(path.as_posix())
    return sorted(out)


def build_manifest(run: RunResult, *, base: Path | None = None) -> dict[str, Any]:
    """The manifest of ``run``; ``outputs`` relative to ``base`` when given (as given else)."""
    return {
        "period": str(run.period),
        "tool_version": __version__,
        "started": json_scalar(run.started),
        "finished": json_scalar(run.finished),
        "files": _files(run),
        "units": unit_records(run),
        "problems": _problems(run),
        "regency": json_tree(run.metrics.regency.as_dict()),
        "totals": _totals(run),
        "outputs": _outputs(run, base),
        "info": json_tree(run.info.as_dict()),
    }


def manifest_text(manifest: dict[str, Any]) -> str:
    """JSON text of a manifest: UTF-8 characters as they are, two-space indent, final newline."""
    return json.dumps(manifest, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_manifest(path: Path, run: RunResult) -> None:
    """Write ``run``'s manifest to ``path`` atomically, outputs relative to its folder."""
    path = Path(path)
    write_text_atomic(path, manifest_text(build_manifest(run, base=path.parent)))
