"""``Laporan_RB_<YYYY-MM>.html``: the month for leadership, as one self-contained web page.

In: a :class:`RunResult` (the figures metrics computed, the units' records as the manifest
holds them, the groups, the plans' obstacle texts, the problems). Out: one HTML file that needs
nothing else: CSS in one ``<style>`` element, charts as inline SVG (:mod:`pipeline.publish.svg`),
no script, no image, no font, no request of any kind (its Content-Security-Policy says so, with
the hash of its one style element: no ``style`` attribute anywhere). It prints on A4
(``@media print``, page breaks between sections, page numbers in ``@page`` margin boxes where the
browser supports them) and reads on a 360 px phone (tables scroll sideways in their box).

Contents, in order: the month's KPIs with the change against the previous recorded month;
submission status (chart and one row per registry unit); completion by unit (chart); capaian by
Sasaran and by Tema; units that need attention (not received, late, most errors) with their
e-mail and WhatsApp click-to-chat links; the main obstacles (kendala) and follow-ups (tindak
lanjut) by theme; target changes since last month; how the figures are computed.

**Same numbers as the regency workbook**: every figure is read from what metrics computed (the
regency figures, ``Metrics.units`` through the manifest's unit records, ``Metrics.groups``);
this module formats, sorts and picks, it does not count. The figures carry their exact value in
``data-nilai`` attributes (``data-angka`` names the figure) so a test can compare them with
``manifest.json``.

**Untrusted text**: unit names, kendala, tindak lanjut and problem messages are unit-supplied;
the template autoescapes everything (Jinja2), and SVG text is escaped by :mod:`svg`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import schema
from pipeline.deliver.notices import KIND_FEEDBACK, UnitNotice, notices_from_run, whatsapp_url
from pipeline.fsutil import write_text_atomic
from pipeline.locale_id import number, percent, tanggal
from pipeline.metrics import GROUP_FIELDS, INVALID_GROUP, STATUS_TERLAMBAT
from pipeline.model import RunResult
from pipeline.plain import as_float, to_plain
from pipeline.publish.regency import PLAN_STATUS_NOT_COUNTED, TERMS
from pipeline.publish.styles import METRIC_LABELS
from pipeline.publish.svg import Bar, bar_chart
from pipeline.registry import MONTHS_ID, Period

TEMPLATE = "laporan.html"
STATUS_GOOD, STATUS_FAIR = 0.8, 0.5  # the regency workbook's red/amber/green thresholds
MAX_ERROR_UNITS = 10  # "most errors" list
MAX_OBSTACLES = 6  # distinct kendala shown per theme
MAX_TARGET_CHANGES = 30  # rows of the target-change table
UNIT_STATUS = {
    "tepat": "Tepat waktu",
    "terlambat": "Terlambat",
    "ditolak": "Berkas ditolak",
    "belum": "Belum mengirim",
}
UNIT_STATUS_TONE = {"tepat": "good", "terlambat": "fair", "ditolak": "poor", "belum": "none"}
KPI_METRICS = (
    "reporting_rate",
    "on_time_rate",
    "completion_rate",
    "capaian_mean",
    "evidence_completeness",
    "budget_absorption",
    "data_quality",
)
REPORT_TERMS = (
    "Tingkat Pelaporan",
    "Ketepatan Waktu",
    "Tingkat Penyelesaian",
    "Capaian (%)",
    "Selesai",
    "Sesuai Target",
    "Terlambat",
    "Belum Dilaporkan",
    PLAN_STATUS_NOT_COUNTED,
    "Kelengkapan Data Dukung",
    "Penyerapan Anggaran",
    "Kualitas Data",
    "Dikecualikan",
)


# --------------------------------------------------------------------------------------------
# The view: everything the template shows, formatted
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Kpi:
    key: str  # the figure's manifest name
    label: str
    value: float | None  # exact, for data-nilai
    shown: str
    change: str  # "▲ 4,2 poin dibanding September 2025", or why there is none
    tone: str  # "naik" | "turun" | "tetap" | "" (no comparison)
    detail: str
    excluded: str = ""


@dataclass(frozen=True, kw_only=True)
class UnitRow:
    kode: str
    nama: str
    status: str  # key of UNIT_STATUS
    received: str
    record: Mapping[str, Any]  # the manifest record (data-* attributes)
    rows: str
    completion: str
    capaian: str
    errors: str
    warnings: str
    rank: str


@dataclass(frozen=True, kw_only=True)
class Attention:
    kode: str
    nama: str
    reason: str
    email: tuple[str, ...]
    whatsapp: str | None


@dataclass(frozen=True, kw_only=True)
class Obstacle:
    kendala: str
    tindak_lanjut: tuple[str, ...]
    units: tuple[str, ...]
    behind: bool  # a plan behind target (Terlambat) carries it


@dataclass(frozen=True, kw_only=True)
class ObstacleGroup:
    kind: str
    group: str
    items: tuple[Obstacle, ...]
    more: int  # distinct kendala not shown


@dataclass(kw_only=True)
class ReportView:
    title: str
    period_label: str
    pemda: str
    instansi: str
    made: str
    deadline: str
    previous_label: str | None
    kpis: list[Kpi]
    problems: dict[str, str]
    status_counts: list[tuple[str, str, int]]  # (key, label, units)
    status_chart: Any
    units: list[UnitRow]
    completion_chart: Any
    groups: list[dict[str, Any]]  # per kind: title, rows, chart
    attention: dict[str, list[Attention]]
    obstacles: list[ObstacleGroup]
    obstacle_count: int
    target_changes: list[dict[str, str]]
    target_changes_total: int
    target_units: int
    terms: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)


def _defined(value: float) -> float | None:
    """A figure as the page holds it: None where undefined (NaN)."""
    return None if value is None or math.isnan(value) else float(value)


def _shown(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{number(value, 1)}%" if metric.startswith("capaian") else percent(value)


def _short_date(day: dt.date) -> str:
    """``3 Nov 2025`` (a table column)."""
    return f"{day.day} {MONTHS_ID[day.month - 1][:3]} {day.year}"


def _rupiah(value: float) -> str:
    """A budget sum as leaders read it: ``Rp 55,5 miliar``, ``Rp 820,0 juta``."""
    for size, word in ((1e12, "triliun"), (1e9, "miliar"), (1e6, "juta")):
        if abs(value) >= size:
            return f"Rp {number(value / size, 1)} {word}"
    return f"Rp {number(value)}"


def _tone(rate: float | None) -> str:
    if rate is None:
        return "none"
    return "good" if rate >= STATUS_GOOD else "fair" if rate >= STATUS_FAIR else "poor"


def _kpis(run: RunResult) -> tuple[list[Kpi], str | None]:
    reg = run.metrics.regency
    prev = Period.parse(reg.change.previous_period) if reg.change else None

    def change(metric: str) -> tuple[str, str]:
        if prev is None or reg.change is None:
            return "belum ada data bulan sebelumnya", ""
        points = reg.change.points(metric)
        if math.isnan(points):
            return f"tidak dapat dibandingkan dengan {prev.label}", ""
        if abs(points) < 0.05:
            return f"tetap dibanding {prev.label}", "tetap"
        arrow = "▲" if points > 0 else "▼"
        return (
            f"{arrow} {number(abs(points), 1)} poin dibanding {prev.label}",
            "naik" if points > 0 else "turun",
        )

    def excluded(count: int) -> str:
        return f"{number(count)} baris dikecualikan (ada kesalahan)" if count else ""

    deadline = tanggal(run.period.deadline(run.registry.settings.batas_hari))
    details = {
        "reporting_rate": (
            f"{number(reg.units_submitted)} dari {number(reg.units_expected)} unit laporannya "
            "diterima",
            0,
        ),
        "on_time_rate": (
            f"{number(reg.units_on_time)} unit mengirim sebelum batas {deadline}",
            0,
        ),
        "completion_rate": (
            f"{number(reg.plans_done)} dari {number(reg.plans_counted)} rencana aksi selesai "
            "atau sesuai target",
            reg.completion_excluded,
        ),
        "capaian_mean": (
            f"median {_shown('capaian_median', _defined(reg.capaian_median))}",
            reg.capaian_excluded,
        ),
        "evidence_completeness": (
            "rencana aksi berealisasi yang mencantumkan bukti",
            reg.evidence_excluded,
        ),
        "budget_absorption": (
            f"{_rupiah(reg.realisasi_anggaran_total)} dari {_rupiah(reg.anggaran_total)} "
            "terealisasi",
            reg.budget_excluded,
        ),
        "data_quality": (
            f"{number(reg.plans_clean)} dari {number(reg.plans)} baris tanpa kesalahan",
            0,
        ),
    }
    kpis = []
    for metric in KPI_METRICS:
        value = _defined(reg.metric(metric))
        text, tone = change(metric)
        detail, count = details[metric]
        kpis.append(
            Kpi(
                key=metric,
                label=METRIC_LABELS[metric].removesuffix(" (%)"),
                value=value,
                shown=_shown(metric, value),
                change=text,
                tone=tone,
                detail=detail,
                excluded=excluded(count),
            )
        )
    return kpis, prev.label if prev else None


def _unit_status(notice: UnitNotice) -> str:
    if notice.kind == KIND_FEEDBACK:
        return "tepat" if notice.on_time else "terlambat"
    return "ditolak" if notice.rejected else "belum"


def _made(run: RunResult) -> str:
    moment = run.finished or run.started
    return f"{tanggal(moment.date())} pukul {moment:%H.%M}"


def _units(run: RunResult, notices: dict[str, UnitNotice]) -> list[UnitRow]:
    from pipeline.publish.manifest import unit_records

    received = {u["kode"]: to_plain(u["received"]) for u in run.metrics.units.to_dict("records")}
    rows = []
    for record in unit_records(run):
        kode = record["kode"]
        notice = notices.get(kode)
        status = _unit_status(notice) if notice else "belum"
        when = received.get(kode)
        rank = record.get("rank")
        rows.append(
            UnitRow(
                kode=kode,
                nama=record["nama"],
                status=status,
                received=_short_date(when) if isinstance(when, dt.datetime) else "–",
                record=record,
                rows=number(record["rows"]) if record["submitted"] else "–",
                completion=_shown("completion_rate", record.get("completion_rate")),
                capaian=_shown("capaian_mean", record.get("capaian_mean")),
                errors=number(record["errors"]),
                warnings=number(record["warnings"]),
                rank=number(rank) if rank is not None else "–",
            )
        )
    return rows


def _attention(units: list[UnitRow], notices: dict[str, UnitNotice]) -> dict[str, list[Attention]]:
    def entry(row: UnitRow, reason: str) -> Attention:
        notice = notices.get(row.kode)
        return Attention(
            kode=row.kode,
            nama=row.nama,
            reason=reason,
            email=notice.email if notice else (),
            whatsapp=whatsapp_url(notice) if notice else None,
        )

    missing = []
    for row in units:
        if row.status == "belum":
            missing.append(entry(row, "Belum mengirim berkas"))
        elif row.status == "ditolak":
            files = notices[row.kode].rejected
            missing.append(
                entry(row, "Berkas ditolak: " + "; ".join(f"{n} — {why}" for n, why in files))
            )
    late = [entry(row, f"Diterima {row.received}") for row in units if row.status == "terlambat"]
    with_errors = sorted(
        (row for row in units if row.record["submitted"] and row.record["errors"]),
        key=lambda row: (-row.record["errors"], row.kode),
    )[:MAX_ERROR_UNITS]
    errors = [
        entry(row, f"{row.errors} kesalahan, {row.warnings} peringatan") for row in with_errors
    ]
    return {"missing": missing, "late": late, "errors": errors}


def _group_tables(run: RunResult) -> list[dict[str, Any]]:
    groups = run.metrics.groups.to_dict("records")
    out = []
    for kind, field_name in GROUP_FIELDS.items():
        rows = [g for g in groups if g["kind"] == kind]
        title = "Sasaran RB" if field_name == "sasaran" else "Tema RB Tematik"
        bars = [
            Bar(
                label=g["group"],
                value=as_float(g["capaian_mean"]) or 0.0,
                shown=_shown("capaian_mean", as_float(g["capaian_mean"])),
                tone=_tone(
                    None if to_plain(g["capaian_mean"]) is None else g["capaian_mean"] / 100
                ),
                key=g["group"],
            )
            for g in rows
        ]
        out.append(
            {
                "kind": kind,
                "title": f"Capaian per {title}",
                "sheet": schema.SHEETS[kind].name,
                "rows": [
                    {
                        "group": g["group"],
                        "record": g,
                        "plans": number(g["plans"]),
                        "units": number(g["units"]),
                        "completion": _shown("completion_rate", as_float(g["completion_rate"])),
                        "capaian": _shown("capaian_mean", as_float(g["capaian_mean"])),
                        "evidence": _shown(
                            "evidence_completeness", as_float(g["evidence_completeness"])
                        ),
                        "budget": _shown("budget_absorption", as_float(g["budget_absorption"])),
                    }
                    for g in rows
                ],
                "chart": bar_chart(
                    bars,
                    title=f"Rata-rata capaian per {title}, {run.period.label}",
                    scale_max=max([100.0, *(b.value for b in bars)]),
                    chart_id=f"grafik-capaian-{kind}",
                    stacked=True,
                ),
            }
        )
    return out


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _obstacles(run: RunResult) -> tuple[list[ObstacleGroup], int]:
    """Distinct kendala texts per sasaran/tema (most units first, behind-target plans first),
    with their tindak lanjut and the units that wrote them."""
    plans = run.metrics.plans
    if not len(plans) or "kendala" not in plans:
        return [], 0
    order = [(g["kind"], g["group"]) for g in run.metrics.groups.to_dict("records")]
    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    columns = ["_kind", "_unit", "kendala", "tindak_lanjut", "status", *GROUP_FIELDS.values()]
    for record in plans[columns].to_dict("records"):
        kendala = to_plain(record["kendala"])
        if not isinstance(kendala, str) or not kendala.strip():
            continue
        kind = record["_kind"]
        group = to_plain(record[GROUP_FIELDS[kind]])
        key = (str(kind), str(group) if (kind, group) in order else INVALID_GROUP)
        item = found.setdefault(key, {}).setdefault(
            _normal(kendala), {"kendala": kendala.strip(), "tl": [], "units": [], "behind": False}
        )
        follow = to_plain(record["tindak_lanjut"])
        if isinstance(follow, str) and follow.strip() and follow.strip() not in item["tl"]:
            item["tl"].append(follow.strip())
        if record["_unit"] not in item["units"]:
            item["units"].append(record["_unit"])
        item["behind"] |= record["status"] == STATUS_TERLAMBAT
    out = []
    total = 0
    for kind, group in order:
        items = sorted(
            found.get((kind, group), {}).values(),
            key=lambda i: (-len(i["units"]), not i["behind"], _normal(i["kendala"])),
        )
        total += len(items)
        if not items:
            continue
        out.append(
            ObstacleGroup(
                kind=schema.SHEETS[kind].name,
                group=group,
                items=tuple(
                    Obstacle(
                        kendala=i["kendala"],
                        tindak_lanjut=tuple(i["tl"][:2]),
                        units=tuple(i["units"]),
                        behind=i["behind"],
                    )
                    for i in items[:MAX_OBSTACLES]
                ),
                more=max(0, len(items) - MAX_OBSTACLES),
            )
        )
    return out, total


def _target_changes(run: RunResult) -> tuple[list[dict[str, str]], int, int]:
    changes = [p for p in run.problems if p.code == "RB-W102"]
    units = {p.unit for p in changes}
    rows = [
        {
            "kode": p.unit or "–",
            "nama": run.registry.name_of(p.unit) or "–",
            "cell": p.cell or "–",
            "message": p.message,
        }
        for p in changes[:MAX_TARGET_CHANGES]
    ]
    return rows, len(changes), len(units)


def report_view(run: RunResult) -> ReportView:
    """Everything the page shows, formatted (Indonesian), from the run's computed figures."""
    settings = run.registry.settings
    notices = {n.kode: n for n in notices_from_run(run)}
    kpis, previous_label = _kpis(run)
    units = _units(run, notices)
    reg = run.metrics.regency
    counts = {
        "tepat": reg.units_on_time,
        "terlambat": reg.units_late,
        "ditolak": reg.units_rejected,
        "belum": reg.units_missing,
    }
    expected = reg.units_expected
    status_chart = bar_chart(
        [
            Bar(
                label=label,
                value=float(counts[key]),
                shown=f"{number(counts[key])} unit",
                tone=UNIT_STATUS_TONE[key],
                key=key,
            )
            for key, label in UNIT_STATUS.items()
        ],
        title=f"Status pengiriman {expected} unit kerja, {run.period.label}",
        scale_max=float(expected),
        label_width=110,
        chart_id="grafik-status",
    )
    ranked = sorted(
        (u for u in units if u.record.get("completion_rate") is not None),
        key=lambda u: (-u.record["completion_rate"], u.kode),
    )
    completion_chart = bar_chart(
        [
            Bar(
                label=f"{u.kode}",
                value=u.record["completion_rate"] * 100,
                shown=u.completion,
                tone=_tone(u.record["completion_rate"]),
                key=u.kode,
            )
            for u in ranked
        ],
        title=f"Tingkat penyelesaian rencana aksi per unit kerja, {run.period.label}",
        scale_max=100.0,
        chart_id="grafik-penyelesaian",
    )
    obstacles, obstacle_count = _obstacles(run)
    changes, changes_total, change_units = _target_changes(run)
    terms = dict(TERMS)
    return ReportView(
        title=f"Laporan Rencana Aksi Reformasi Birokrasi {run.period.label}",
        period_label=run.period.label,
        pemda=settings.nama_pemda,
        instansi=settings.nama_instansi,
        made=_made(run),
        deadline=tanggal(run.period.deadline(settings.batas_hari)),
        previous_label=previous_label,
        kpis=kpis,
        problems={
            "errors": number(reg.errors),
            "warnings": number(reg.warnings),
            "errors_raw": repr(reg.errors),
            "warnings_raw": repr(reg.warnings),
        },
        status_counts=[(k, UNIT_STATUS[k], counts[k]) for k in UNIT_STATUS],
        status_chart=status_chart,
        units=units,
        completion_chart=completion_chart,
        groups=_group_tables(run),
        attention=_attention(units, notices),
        obstacles=obstacles,
        obstacle_count=obstacle_count,
        target_changes=changes,
        target_changes_total=changes_total,
        target_units=change_units,
        terms=[(name, terms[name]) for name in REPORT_TERMS if name in terms],
    )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@cache
def _environment() -> Any:  # a jinja2 Environment
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("pipeline.publish", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["nilai"] = lambda v: "" if v is None else repr(v)
    return env


def style_hash(css: str) -> str:
    """The CSP source (``'sha256-…'``) allowing exactly the report's ``<style>`` element."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def render_report(view: ReportView) -> str:
    env = _environment()
    css = env.get_template("laporan.css").render()
    return str(
        env.get_template(TEMPLATE).render(
            v=view, css=css, style_src=style_hash(css), status_label=UNIT_STATUS
        )
    )


def write_report(path: Path, run: RunResult) -> None:
    """Write ``run``'s report to ``path`` (atomically)."""
    write_text_atomic(Path(path), render_report(report_view(run)))
