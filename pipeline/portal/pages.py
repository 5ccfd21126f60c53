"""The web pages: server-rendered shells (Jinja2) that the page script fills from the JSON API.

Each page route is guarded like the API (its own action in the permissions table), so a unit
asking for the board gets a 403 page, not an empty board; the data itself comes only through
the API, which checks again. No inline script or style: the Content-Security-Policy is
``default-src 'self'``.

The month picker of the unit page and the board is a ``<select>`` rendered here, its options
labelled ``Oktober 2025`` (:attr:`Period.label`) whatever the browser's language (a browser's
own month input speaks the browser's language): the months that have inputs, outputs or uploads,
the month open for reporting, and the month asked for in ``?periode=``.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline import __version__
from pipeline.errors import RunError
from pipeline.portal.web import guarded, portal
from pipeline.registry import Period

TEMPLATES = Path(__file__).parent / "templates"

# (path, action of the permissions table, template, title): every page but the root redirect.
PAGES = (
    ("/masuk", "halaman", "masuk.html", "Masuk"),
    ("/sandi", "halaman.sandi", "sandi.html", "Ganti kata sandi"),
    ("/unit", "halaman.unit", "unit.html", "Beranda unit"),
    ("/papan", "halaman.papan", "papan.html", "Papan pemantauan"),
    ("/akun", "halaman.akun", "akun.html", "Akun pengguna"),
    ("/audit", "halaman.audit", "audit.html", "Log audit"),
)

PICKER_PAGES = frozenset({"unit.html", "papan.html"})
MONTH_FOLDER = re.compile(r"\d{4}-\d{2}")


def months_offered(p, asked: str | None) -> tuple[list[Period], Period]:
    """(the picker's months, newest first; the month shown): every month with an inputs or
    outputs folder or an upload, the month open for reporting, and ``asked`` (``?periode=``)
    when it is a month; shown: ``asked``, else the open month."""
    shown = _month(asked) or p.current_period()
    names = [month for (month,) in p.db.all("SELECT DISTINCT periode FROM kiriman")]
    for folder in (p.data.inputs, p.data.outputs):
        if folder.is_dir():
            names += [c.name for c in folder.iterdir() if MONTH_FOLDER.fullmatch(c.name)]
    found = {p.current_period(), shown} | {m for name in names if (m := _month(name))}
    return sorted(found, reverse=True), shown


def _month(text: str | None) -> Period | None:
    try:
        return Period.parse(text) if text else None
    except RunError:
        return None


NAV = {
    "unit": [("/unit", "Beranda")],
    "analis": [("/papan", "Papan"), ("/akun", "Akun"), ("/audit", "Log Audit")],
    "pimpinan": [("/papan", "Papan")],
}


class Pages:
    def __init__(self) -> None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
        )

    def render(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        p = portal(request)
        if name in PICKER_PAGES:
            context["bulan"], context["bulan_tampil"] = months_offered(
                p, request.query_params.get("periode")
            )
        if name == "akun.html":
            context["units"] = p.registry().units  # the unit code field's suggestions
        html = self.env.get_template(name).render(
            user=user,
            nav=NAV.get(user.peran, []) if user and not user.sandi_sementara else [],
            path=request.url.path,
            pemda=p.registry().settings.nama_pemda,
            instansi=p.registry().settings.nama_instansi,
            nama_unit=p.registry().name_of(user.unit) if user and user.unit else "",
            version=__version__,
            **context,
        )
        return HTMLResponse(html, status)

    async def forbidden(self, request: Request) -> Response:
        return self.render(request, "terlarang.html", 403, judul="Tidak berhak")

    def routes(self) -> list[Route]:
        routes = [Route("/", self._home, methods=["GET"])]
        for path, action, template, title in PAGES:
            routes.append(Route(path, self._page(action, template, title), methods=["GET"]))
        return routes

    @staticmethod
    @guarded("halaman")
    async def _home(request: Request) -> Response:
        user = request.state.user
        if user is None:
            return RedirectResponse("/masuk", 303)
        if user.sandi_sementara:
            return RedirectResponse("/sandi", 303)
        return RedirectResponse("/unit" if user.peran == "unit" else "/papan", 303)

    def _page(self, action: str, template: str, title: str):
        @guarded(action, page=action != "halaman")
        async def page(request: Request) -> Response:
            return self.render(request, template, judul=title)

        page.__name__ = template.removesuffix(".html")
        return page
