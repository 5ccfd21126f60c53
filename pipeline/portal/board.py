"""The board: every registry unit's state for a month, from the uploads and the last run.

Per unit the board shows the upload the run would use: the latest accepted one (the run's
"latest file wins" rule among accepted files), else the latest. ``status``: ``belum`` (nothing),
``diterima`` (accepted, no error), ``ada_kesalahan`` (accepted with errors), ``ditolak``
(rejected). ``tepat_waktu`` compares the unit's FIRST stored upload of the month with the
deadline (``batas_hari`` of ``pengaturan.toml``), as the run's on-time rule does. Units that sent
nothing through the portal (files put in the folder by hand, the demo month) are shown from the
month's last run (``manifest.json``) when there is one. Quarantined uploads (a workbook that
identifies as another unit) never count.

For the analyst (``whatsapp=True``) each unit with a ``telepon`` in the registry that needs a
nudge carries ``whatsapp`` ``{"tautan", "jenis"}``: a click-to-chat link with the text of
:mod:`pipeline.deliver.notices`. Not sent (``belum``) or rejected (``ditolak``): a reminder;
accepted with errors: its errors. When the month's last run saw the unit's latest upload (or the
unit sent nothing through the portal) the text is the run's own (the same as the e-mail,
``belum_mengirim.xlsx`` and the report); when the unit uploaded since, or the month has not run,
it is built from that upload's check (:func:`~pipeline.deliver.notices.upload_notice`).
``whatsapp`` is null for a unit without a number or with nothing to fix. ISOLATION: a unit's
link reads that unit's own upload row and its own notice only.
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


def board(
    db: Database,
    registry: Registry,
    period: Period,
    manifest: dict | None,
    *,
    whatsapp: bool = False,
) -> dict:
    deadline = period.deadline(registry.settings.batas_hari)
    uploads: dict[str, list] = {}
    for row in db.all(
        "SELECT id, unit, berkas, disimpan, status, kesalahan, peringatan, diterima FROM kiriman "
        "WHERE periode = ? AND karantina = 0 AND unit IS NOT NULL ORDER BY id",
        (str(period),),
    ):
        uploads.setdefault(row["unit"], []).append(row)
    from_run = {u["kode"]: u for u in (manifest or {}).get("units", [])}
    files_of: dict[str, list] = {}
    for f in (manifest or {}).get("files", []):
        if f.get("unit"):
            files_of.setdefault(f["unit"], []).append(f)
    seen_by_run = {f.get("name") for f in (manifest or {}).get("files", [])}
    links = _Links(db, registry, period, manifest) if whatsapp else None
    units = []
    for unit in registry.units:
        entry: dict[str, Any] = {"kode": unit.kode, "nama": unit.nama, "sumber": None}
        mine = uploads.get(unit.kode)
        used = None
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
        if links is not None:
            newer = used if mine and mine[-1]["disimpan"] not in seen_by_run else None
            entry["whatsapp"] = links.link(unit, entry["status"], newer)
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


class _Links:
    """The board's WhatsApp links (see the module docstring)."""

    def __init__(self, db: Database, registry: Registry, period: Period, manifest: dict | None):
        self.db, self.registry, self.period = db, registry, period
        self.manifest = manifest
        self._run: dict | None = None

    def _run_notice(self, kode: str):
        from pipeline.deliver.notices import notices_from_manifest

        if self._run is None:
            self._run = {}
            if self.manifest:
                try:
                    notices = notices_from_manifest(self.manifest, self.registry)
                except (KeyError, TypeError, ValueError):
                    notices = []
                self._run = {n.kode: n for n in notices}
        return self._run.get(kode)

    def link(self, unit, status: str, newer) -> dict | None:
        """``newer``: the upload the board counts, when the month's last run has not seen the
        unit's latest upload (else None)."""
        from pipeline.deliver.notices import reminder_notice, upload_notice, whatsapp_url

        if not unit.telepon or status == "diterima":
            return None
        settings = self.registry.settings
        if newer is not None:
            row = self.db.one("SELECT masalah FROM kiriman WHERE id = ?", (newer["id"],))
            notice = upload_notice(
                unit,
                self.period,
                settings,
                file=newer["berkas"],
                accepted=newer["status"] == "accepted",
                warnings=newer["peringatan"],
                problems=json.loads(row["masalah"]) if row else [],
            )
        else:
            notice = self._run_notice(unit.kode) or reminder_notice(unit, self.period, settings)
        url = whatsapp_url(notice)
        return {"tautan": url, "jenis": notice.kind} if url else None
