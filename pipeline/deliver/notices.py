"""One notice per registry unit: what its e-mail and WhatsApp message say.

In: a month's results in the manifest's shapes (``manifest.json``'s ``units``, ``problems``,
``files`` and ``outputs``; or, during a run, the same records from the :class:`RunResult`) and
the registry (names, contacts, settings). Out: one :class:`UnitNotice` per registry unit,
and its texts (:func:`subject`, :func:`body`, :func:`whatsapp_text`, :func:`whatsapp_url`).

* A unit whose report was received and consolidated gets **feedback** (``umpan_balik``): its
  status, the errors it must fix with the deadline, its rank, its feedback workbook attached.
* Every other registry unit gets a **reminder** (``pengingat``): the report was not received,
  the deadline; when its files were rejected, why, with its feedback workbook attached (the
  workbook explains the rejection).
* The portal's board also nudges a unit whose latest upload the month run has not seen yet
  (:func:`upload_notice`): rejected, a reminder saying why; accepted with errors, the result of
  the portal's check (``hasil_periksa``: how many errors, the first one, "fix and upload again
  before the month is run") — not feedback, which speaks of a consolidated report, its rank and
  next month's deadline.

**Isolation by construction** (the places a unit's message could carry another unit's data are
marked ``ISOLATION`` below): :func:`build_notices` cuts the month into per-unit slices first —
the unit's own row of ``units``, the problems whose ``unit`` is its code, the files whose
``unit`` is its code, the feedback workbook named by its own code — and every text is a
function of one :class:`UnitNotice` alone. The only figures about other units a notice holds
are counts (how many units were ranked), never their names, codes or values.

Texts depend on the month's results only (never on the clock), so the same results give the
same message: that is what ``rbpipe kirim`` compares to avoid sending a message twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.contact import whatsapp_link
from pipeline.locale_id import number, percent, tanggal
from pipeline.outputs import FEEDBACK_FOLDER, feedback_name
from pipeline.registry import Period, Registry, Settings, Unit

if TYPE_CHECKING:
    from pipeline.model import RunResult

KIND_FEEDBACK = "umpan_balik"
KIND_REMINDER = "pengingat"
KIND_LABEL = {KIND_FEEDBACK: "umpan balik", KIND_REMINDER: "pengingat"}  # a month's messages
KIND_CHECK = "hasil_periksa"  # the portal's check of an upload the month run has not seen yet
MAX_FIXES = 10  # errors listed in an e-mail; the workbook lists them all
MAX_WHATSAPP_REASON = 160  # characters of a rejection reason in a WhatsApp text


@dataclass(frozen=True, kw_only=True)
class Fix:
    """One error the unit must fix: where (its own cell, or its file) and what is wrong."""

    where: str
    message: str


@dataclass(frozen=True, kw_only=True)
class UnitNotice:
    """Everything one unit's message may say. Built by :func:`build_notices` from that unit's
    own records only; the texts read nothing else."""

    kind: str  # KIND_FEEDBACK | KIND_REMINDER | KIND_CHECK (portal only)
    kode: str
    nama: str
    period: Period
    settings: Settings
    email: tuple[str, ...]
    telepon: str | None
    file: str | None  # the accepted file, or files joined by " dan " (feedback only)
    on_time: bool | None
    rows: int
    errors: int
    warnings: int
    completion_rate: float | None
    capaian_mean: float | None
    rank: int | None
    ranked: int  # how many units have a rank (a count, nothing about them)
    fixes: tuple[Fix, ...]  # the unit's errors, in the manifest's order (severity, position)
    rejected: tuple[tuple[str, str], ...]  # (file name, why) of the unit's rejected files
    attachment: str | None  # its feedback workbook under umpan_balik/, when there is one

    @property
    def deadline(self) -> dt.date:
        """This month's submission deadline."""
        return self.period.deadline(self.settings.batas_hari)

    @property
    def fix_deadline(self) -> tuple[Period, dt.date]:
        """Errors are fixed in next month's report: that month and its deadline."""
        nxt = self.period.next()
        return nxt, nxt.deadline(self.settings.batas_hari)


def _get(record: Any, key: str) -> Any:
    """A field of a manifest record (dict) or of the object it was made from (Problem,
    Submission): the builder takes either."""
    return record.get(key) if isinstance(record, Mapping) else getattr(record, key, None)


def build_notices(
    *,
    period: Period,
    registry: Registry,
    units: Iterable[Mapping[str, Any]],
    problems: Iterable[Any],
    files: Iterable[Any],
    outputs: Iterable[str],
) -> list[UnitNotice]:
    """One notice per unit of ``units`` (manifest ``units`` records) that the registry still
    lists, in that order. ``problems`` and ``files``: manifest records or Problem/Submission
    objects; ``outputs``: the month's output paths relative to its folder."""
    units = list(units)
    ranked = sum(1 for u in units if u.get("rank") is not None)
    # ISOLATION: every slice below is keyed by the unit's own code; a record without a unit
    # (a file nobody could be identified as sending) belongs to no notice.
    fixes: dict[str, list[Fix]] = {}
    first_error: dict[tuple[str, str], str] = {}
    for p in problems:
        unit = _get(p, "unit")
        if not unit or _get(p, "severity") != "error":
            continue
        message, file = _get(p, "message") or "", _get(p, "file") or ""
        fixes.setdefault(unit, []).append(Fix(where=_get(p, "cell") or file, message=message))
        first_error.setdefault((unit, file), message)
    rejected: dict[str, list[tuple[str, str]]] = {}
    accepted: dict[str, list[str]] = {}  # a report may be split by sheet kind over two files
    for f in sorted(files, key=lambda f: _get(f, "name") or ""):
        unit, name = _get(f, "unit"), _get(f, "name")
        if unit and _get(f, "status") == "rejected":
            reason = first_error.get((unit, name), "berkas tidak dapat direkap")
            rejected.setdefault(unit, []).append((name, reason))
        elif unit and _get(f, "status") == "accepted":
            accepted.setdefault(unit, []).append(name)
    written = {str(o).replace("\\", "/") for o in outputs}
    out = []
    for u in units:
        kode = u["kode"]
        unit = registry.unit(kode)
        if unit is None:
            continue
        # ISOLATION: the attachment is chosen by the unit's own code, never by position.
        attachment = feedback_name(kode, period)
        submitted = bool(u.get("submitted"))
        out.append(
            UnitNotice(
                kind=KIND_FEEDBACK if submitted else KIND_REMINDER,
                kode=kode,
                nama=unit.nama,
                period=period,
                settings=registry.settings,
                email=unit.email,
                telepon=unit.telepon,
                file=(" dan ".join(accepted.get(kode, ())) or u.get("file")) if submitted else None,
                on_time=u.get("on_time") if submitted else None,
                rows=int(u.get("rows") or 0),
                errors=int(u.get("errors") or 0),
                warnings=int(u.get("warnings") or 0),
                completion_rate=u.get("completion_rate"),
                capaian_mean=u.get("capaian_mean"),
                rank=u.get("rank"),
                ranked=ranked,
                fixes=tuple(fixes.get(kode, ())),
                rejected=tuple(rejected.get(kode, ())),
                attachment=attachment if f"{FEEDBACK_FOLDER}/{attachment}" in written else None,
            )
        )
    return out


def notices_from_manifest(manifest: Mapping[str, Any], registry: Registry) -> list[UnitNotice]:
    """The notices of a finished month, from its ``manifest.json`` (as a dict)."""
    return build_notices(
        period=Period.parse(manifest["period"]),
        registry=registry,
        units=manifest["units"],
        problems=manifest["problems"],
        files=manifest["files"],
        outputs=manifest.get("outputs", ()),
    )


def notices_from_run(run: RunResult) -> list[UnitNotice]:
    """The notices of a run being published (the same records its manifest will hold)."""
    from pipeline.publish.manifest import unit_records

    return build_notices(
        period=run.period,
        registry=run.registry,
        units=unit_records(run),
        problems=run.problems,
        files=run.submissions,
        outputs=(f"{Path(o).parent.name}/{Path(o).name}" for o in run.outputs),
    )


def reminder_notice(unit: Unit, period: Period, settings: Settings) -> UnitNotice:
    """A reminder for a unit whose report has not arrived, before the month is run (the
    portal's board knows only that): no files, no figures."""
    return UnitNotice(
        kind=KIND_REMINDER,
        kode=unit.kode,
        nama=unit.nama,
        period=period,
        settings=settings,
        email=unit.email,
        telepon=unit.telepon,
        file=None,
        on_time=None,
        rows=0,
        errors=0,
        warnings=0,
        completion_rate=None,
        capaian_mean=None,
        rank=None,
        ranked=0,
        fixes=(),
        rejected=(),
        attachment=None,
    )


def upload_notice(
    unit: Unit,
    period: Period,
    settings: Settings,
    *,
    file: str,
    accepted: bool,
    warnings: int,
    problems: Iterable[Any],
) -> UnitNotice:
    """The notice of a unit whose latest upload to the portal the month run has not seen:
    ``problems`` are that upload's own (the portal's check, as ``rbpipe check --json``).
    Rejected: a reminder naming the file and its first error; accepted with errors: a
    :data:`KIND_CHECK` notice with the errors; accepted without: feedback without figures (the
    board sends nothing for it). ISOLATION: the caller passes one upload of ``unit``."""
    fixes = tuple(
        Fix(where=_get(p, "cell") or file, message=_get(p, "message") or "")
        for p in problems
        if _get(p, "severity") == "error"
    )
    base = reminder_notice(unit, period, settings)
    if not accepted:
        reason = fixes[0].message if fixes else "berkas tidak dapat direkap"
        return replace(base, rejected=((file, reason),))
    return replace(
        base,
        kind=KIND_CHECK if fixes else KIND_FEEDBACK,
        file=file,
        errors=len(fixes),
        warnings=warnings,
        fixes=fixes,
    )


def whatsapp_links(outputs: Path, period: Period, registry: Registry) -> dict[str, str]:
    """For the portal's board: unit code -> WhatsApp click-to-chat link of every registry unit
    with a number. After the month has run (its manifest exists): the same feedback or
    reminder text as ``belum_mengirim.xlsx``, the report and the e-mails; before: a reminder
    (:func:`reminder_notice`) for every unit, for the board to show beside those not yet in."""
    import json

    from pipeline.outputs import OutputLayout

    manifest = OutputLayout(outputs=Path(outputs), period=period).manifest
    try:
        notices = notices_from_manifest(json.loads(manifest.read_text(encoding="utf-8")), registry)
    except (OSError, ValueError, KeyError):
        notices = [reminder_notice(u, period, registry.settings) for u in registry.units]
    return {n.kode: url for n in notices if (url := whatsapp_url(n))}


# --------------------------------------------------------------------------------------------
# Texts (Bahasa Indonesia). Each reads one notice only.
# --------------------------------------------------------------------------------------------


def _who(n: UnitNotice) -> str:
    return f"{n.nama} ({n.kode})"


def _shorten(text: str) -> str:
    if len(text) > MAX_WHATSAPP_REASON:
        return text[: MAX_WHATSAPP_REASON - 1].rstrip() + "…"
    return text


def _first_fix(n: UnitNotice) -> str:
    """``"yaitu di RB Tematik!K5: ..."`` / ``"antara lain di ..."``: the unit's first error."""
    lead = "yaitu" if len(n.fixes) == 1 else "antara lain"
    first = n.fixes[0]
    return f"{lead} di {first.where}: {_shorten(first.message.rstrip('.'))}"


def subject(n: UnitNotice) -> str:
    if n.kind == KIND_CHECK:
        return (
            f"Hasil pemeriksaan laporan RB {n.period.label}: {_who(n)}, "
            f"{n.errors} kesalahan perlu diperbaiki"
        )
    if n.kind == KIND_FEEDBACK:
        state = f"{n.errors} kesalahan perlu diperbaiki" if n.errors else "tanpa kesalahan"
        return f"Umpan balik laporan RB {n.period.label}: {_who(n)}, {state}"
    return f"Pengingat: laporan RB {n.period.label} {_who(n)} belum diterima"


def _timeliness(n: UnitNotice) -> str:
    if n.on_time is None:
        return ""
    verdict = "tepat waktu" if n.on_time else "melewati batas waktu"
    return f", {verdict} (batas {tanggal(n.deadline)})"


def _rank_line(n: UnitNotice) -> str:
    # ISOLATION: the rank line names this unit's place and a count, never another unit.
    if n.rank is None:
        return "Peringkat: belum dapat ditentukan."
    return (
        f"Peringkat: {n.rank} dari {n.ranked} unit yang laporannya diterima (menurut tingkat "
        "penyelesaian, lalu rata-rata capaian)."
    )


def _capaian(value: float | None) -> str:
    return "–" if value is None else f"{number(value, 1)}%"


def body(n: UnitNotice) -> str:
    """The e-mail text. ISOLATION: built from ``n`` alone (its own figures and problems)."""
    s = n.settings
    lines = [f"Yth. Pimpinan dan operator {_who(n)},", ""]
    if n.kind == KIND_CHECK:
        lines += [
            f"Berkas {n.file} untuk laporan Rencana Aksi Reformasi Birokrasi periode "
            f"{n.period.label} sudah masuk ke portal dan diperiksa: ada {number(n.errors)} "
            "kesalahan yang perlu diperbaiki sebelum bulan ini direkap (batas pengiriman "
            f"{tanggal(n.deadline)}):",
        ]
        lines += [f"{i}. {f.where}: {f.message}" for i, f in enumerate(n.fixes[:MAX_FIXES], 1)]
        if len(n.fixes) > MAX_FIXES:
            lines.append(f"(dan {number(len(n.fixes) - MAX_FIXES)} kesalahan lainnya)")
        lines += [
            "",
            "Perbaiki di Excel lalu unggah lagi di portal; letak dan cara memperbaiki setiap "
            "kesalahan ada di hasil pemeriksaan pada portal.",
        ]
    elif n.kind == KIND_FEEDBACK:
        lines += [
            f"Laporan Rencana Aksi Reformasi Birokrasi periode {n.period.label} dari unit Anda "
            f"telah kami terima dan direkap: berkas {n.file}{_timeliness(n)}.",
            "",
            "Ringkasan:",
            f"- Rencana aksi direkap: {number(n.rows)}",
            f"- Tingkat penyelesaian: {percent(n.completion_rate)}; rata-rata capaian: "
            f"{_capaian(n.capaian_mean)}",
            f"- {_rank_line(n)}",
            f"- Kesalahan: {number(n.errors)}; peringatan: {number(n.warnings)}",
            "",
        ]
        if n.errors:
            nxt, due = n.fix_deadline
            lines.append(
                f"Kesalahan yang harus diperbaiki paling lambat {tanggal(due)}, pada laporan "
                f"{nxt.label}:"
            )
            lines += [f"{i}. {f.where}: {f.message}" for i, f in enumerate(n.fixes[:MAX_FIXES], 1)]
            if len(n.fixes) > MAX_FIXES:
                lines.append(f"(dan {number(len(n.fixes) - MAX_FIXES)} kesalahan lainnya)")
        else:
            lines.append("Tidak ada kesalahan yang harus diperbaiki. Terima kasih.")
        if n.warnings:
            lines.append(
                "Peringatan tidak wajib diperbaiki: mohon periksa kembali; bila datanya memang "
                "benar, tidak perlu diubah."
            )
    else:
        lines += [
            f"Sampai rekap periode {n.period.label}, laporan Rencana Aksi Reformasi Birokrasi "
            f"unit Anda belum kami terima. Batas pengiriman: {tanggal(n.deadline)}.",
            "",
        ]
        if n.rejected:
            lines.append("Berkas yang Anda kirim belum dapat direkap:")
            lines += [f"- {name}: {why}" for name, why in n.rejected]
            lines.append("")
        lines.append(
            f"Mohon kirim laporan dengan templat resmi periode {n.period.label} (Kode Unit "
            f"{n.kode}) secepatnya kepada {s.nama_instansi}."
        )
    if n.attachment:
        lines += [
            "",
            f"Rincian setiap masalah, dengan alamat sel dan cara memperbaikinya, ada di lampiran "
            f"{n.attachment}.",
        ]
    lines += [
        "",
        "Salam,",
        s.nama_instansi,
        s.nama_pemda,
        "",
        "--",
        "Pesan ini dibuat oleh rbpipe dari hasil rekap bulanan. Bila ada yang keliru, balas "
        "pesan ini.",
    ]
    return "\n".join(lines) + "\n"


def whatsapp_text(n: UnitNotice) -> str:
    """The short WhatsApp text. ISOLATION: built from ``n`` alone."""
    head = f"{n.settings.nama_instansi}, {n.settings.nama_pemda}."
    if n.kind == KIND_CHECK:
        parts = [
            f"Hasil pemeriksaan laporan RB {n.period.label} untuk {_who(n)} di portal: berkas "
            f"{n.file} sudah masuk, tetapi ada {number(n.errors)} kesalahan yang perlu "
            f"diperbaiki, {_first_fix(n)}.",
            "Mohon perbaiki di Excel lalu unggah lagi di portal sebelum bulan ini direkap "
            f"(batas pengiriman {tanggal(n.deadline)}); letak dan cara memperbaiki setiap "
            "kesalahan ada di hasil pemeriksaan pada portal.",
        ]
    elif n.kind == KIND_FEEDBACK:
        parts = [
            f"Umpan balik laporan RB {n.period.label} untuk {_who(n)}: laporan diterima"
            f"{_timeliness(n)}, {number(n.rows)} rencana aksi direkap.",
            _rank_line(n),
        ]
        if n.errors:
            nxt, due = n.fix_deadline
            parts.append(
                f"{number(n.errors)} kesalahan perlu diperbaiki paling lambat {tanggal(due)} "
                f"(pada laporan {nxt.label}); rinciannya ada di berkas umpan balik."
            )
        else:
            parts.append("Tidak ada kesalahan. Terima kasih.")
    else:
        parts = [
            f"Pengingat laporan RB {n.period.label} untuk {_who(n)}: laporan belum kami terima "
            f"(batas {tanggal(n.deadline)})."
        ]
        if n.rejected:
            name, why = n.rejected[-1]
            parts.append(f"Berkas {name} belum dapat direkap: {_shorten(why)}")
        parts.append("Mohon kirim segera dengan templat resmi.")
    return " ".join([*parts, head])


def whatsapp_url(n: UnitNotice) -> str | None:
    """The click-to-chat link to the unit's number with :func:`whatsapp_text`; None without a
    number."""
    return whatsapp_link(n.telepon, whatsapp_text(n)) if n.telepon else None
