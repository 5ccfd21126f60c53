"""The board: every registry unit's state for a month, from the uploads and the last run.

Per unit the board shows the upload the run would use: the latest accepted one (the run's
"latest file wins" rule among accepted files), else the latest. ``status``: ``belum`` (nothing),
``diterima`` (accepted, no error), ``ada_kesalahan`` (accepted with errors), ``ditolak``
(rejected). ``tepat_waktu`` compares the unit's FIRST stored upload of the month with the
deadline (``batas_hari`` of ``pengaturan.toml``), as the run's on-time rule does. Units that sent
nothing through the portal (files put in the folder by hand, the demo month) are shown from the
month's last run (``manifest.json``) when there is one. Quarantined uploads (a workbook that
identifies as another unit) never count.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pipeline.portal.db import Database
from pipeline.registry import Period, Registry

STATUSES = ("belum", "diterima", "ada_kesalahan", "ditolak")


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _status(accepted: bool, errors: int) -> str:
    if not accepted:
        return "ditolak"
    return "ada_kesalahan" if errors else "diterima"


def board(db: Database, registry: Registry, period: Period, manifest: dict | None) -> dict:
    deadline = period.deadline(registry.settings.batas_hari)
    uploads: dict[str, list] = {}
    for row in db.all(
        "SELECT unit, status, kesalahan, peringatan, diterima FROM kiriman "
        "WHERE periode = ? AND karantina = 0 AND unit IS NOT NULL ORDER BY id",
        (str(period),),
    ):
        uploads.setdefault(row["unit"], []).append(row)
    from_run = {u["kode"]: u for u in (manifest or {}).get("units", [])}
    files_of: dict[str, list] = {}
    for f in (manifest or {}).get("files", []):
        if f.get("unit"):
            files_of.setdefault(f["unit"], []).append(f)
    units = []
    for unit in registry.units:
        entry: dict[str, Any] = {"kode": unit.kode, "nama": unit.nama, "sumber": None}
        mine = uploads.get(unit.kode)
        if mine:
            accepted = [r for r in mine if r["status"] == "accepted"]
            used = accepted[-1] if accepted else mine[-1]
            first = dt.datetime.fromisoformat(mine[0]["diterima"]).date()
            entry.update(
                status=_status(used["status"] == "accepted", used["kesalahan"]),
                terakhir=mine[-1]["diterima"],
                tepat_waktu=first <= deadline,
                kesalahan=used["kesalahan"],
                peringatan=used["peringatan"],
                kiriman=len(mine),
                sumber="portal",
            )
        elif from_run.get(unit.kode, {}).get("submitted") or files_of.get(unit.kode):
            u = from_run.get(unit.kode, {})
            files = files_of.get(unit.kode, [])
            kept = bool(u.get("submitted")) and any(f.get("status") == "accepted" for f in files)
            times = [f.get("received") or f.get("modified") for f in files]
            times = [t for t in times if t]
            entry.update(
                status=_status(kept, u.get("errors") or 0),
                terakhir=max(times) if times else None,
                tepat_waktu=u.get("on_time"),
                kesalahan=u.get("errors") or 0,
                peringatan=u.get("warnings") or 0,
                kiriman=len(files),
                sumber="rekap",
            )
        else:
            entry.update(
                status="belum",
                terakhir=None,
                tepat_waktu=None,
                kesalahan=0,
                peringatan=0,
                kiriman=0,
            )
        units.append(entry)
    counts = {s: sum(1 for u in units if u["status"] == s) for s in STATUSES}
    sent = len(units) - counts["belum"]
    return {
        "periode": str(period),
        "label": period.label,
        "batas": deadline.isoformat(),
        "unit": units,
        "kpi": {
            "unit": len(units),
            "mengirim": sent,
            "tepat_waktu": sum(1 for u in units if u["tepat_waktu"]),
            **counts,
            "kesalahan": sum(u["kesalahan"] for u in units),
            "peringatan": sum(u["peringatan"] for u in units),
        },
        "rekap_terakhir": (manifest or {}).get("finished"),
    }
