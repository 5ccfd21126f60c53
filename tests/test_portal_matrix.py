"""Role x route matrix: every route of the app, for anonymous, a unit, a second unit, the
analyst and leadership, against the real server. The routes are read from the app itself, so a
new route without a row here fails :func:`test_matrix_covers_every_route`."""

from __future__ import annotations

import pytest
from portal_support import PERIOD

ACTORS = ("anon", "unit", "unit2", "analis", "pimpinan")
LOGINS = {"unit": "dlh", "unit2": "dishub", "analis": "ana", "pimpinan": "pim"}
OWN_FEEDBACK = f"umpan_balik/DLH_{PERIOD}_umpan_balik.xlsx"


def row(anon, unit, unit2, analis, pimpinan):
    return dict(zip(ACTORS, (anon, unit, unit2, analis, pimpinan), strict=True))


ALL = lambda code: row(code, code, code, code, code)  # noqa: E731
SIGNED_IN = lambda code: row(401, code, code, code, code)  # noqa: E731

# (method, route path) -> expected status per actor. Requests are made with a valid CSRF token
# (state changes without one are tested separately: always 403). Bodies are chosen so that an
# allowed request does not change anything lasting (wrong old password, unknown account...).
MATRIX = {
    ("GET", "/api/sehat"): ALL(200),
    ("GET", "/api/sesi"): ALL(200),
    ("POST", "/api/masuk"): ALL(401),
    ("POST", "/api/sandi"): SIGNED_IN(400),
    ("POST", "/api/kiriman"): row(401, 400, 400, 400, 403),
    ("GET", "/api/kiriman"): SIGNED_IN(200),
    ("GET", "/api/kiriman/{id}"): row(401, 200, 404, 200, 200),
    ("GET", "/api/kiriman/{id}/umpan-balik"): row(401, 200, 404, 200, 403),
    ("GET", "/api/papan"): row(401, 403, 403, 200, 200),
    ("POST", "/api/rekap"): row(401, 403, 403, 409, 403),
    ("GET", "/api/rekap/{tugas}"): row(401, 403, 403, 200, 200),
    ("GET", "/api/hasil/{periode}"): SIGNED_IN(200),
    ("GET", "/api/hasil/{periode}/{nama:path}"): row(401, 200, 404, 200, 200),
    ("GET", "/api/templat"): row(401, 200, 200, 403, 403),
    ("GET", "/api/akun"): row(401, 403, 403, 200, 403),
    ("POST", "/api/akun"): row(401, 403, 403, 400, 403),
    ("POST", "/api/akun/{nama}/sandi-baru"): row(401, 403, 403, 404, 403),
    ("POST", "/api/akun/{nama}/nonaktif"): row(401, 403, 403, 404, 403),
    ("GET", "/api/audit"): row(401, 403, 403, 200, 403),
    ("GET", "/"): ALL(303),
    ("GET", "/masuk"): ALL(200),
    ("GET", "/sandi"): row(303, 200, 200, 200, 200),
    ("GET", "/unit"): row(303, 200, 200, 403, 403),
    ("GET", "/papan"): row(303, 403, 403, 200, 200),
    ("GET", "/akun"): row(303, 403, 403, 200, 403),
    ("GET", "/audit"): row(303, 403, 403, 200, 403),
    ("GET", "/static"): ALL(200),
    # Last: it ends the session.
    ("POST", "/api/keluar"): SIGNED_IN(200),
}

BODIES = {
    "/api/masuk": {"json": {"nama": "tidak-ada-sama-sekali", "sandi": "x"}},
    "/api/sandi": {"json": {"sandi_lama": "bukan-sandi-lama", "sandi_baru": "Apa-Saja-12345"}},
    "/api/kiriman": {"json": {}},
    "/api/rekap": {"json": {"periode": "2024-01"}},
    "/api/akun": {"json": {}},
}


def app_routes() -> set[tuple[str, str]]:
    import tempfile
    from pathlib import Path

    from starlette.routing import Mount, Route

    from pipeline.portal.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Path(tmp))
        app.state.portal.db.close()
        found = set()
        for route in app.routes:
            if isinstance(route, Mount):
                found.add(("GET", route.path))
            elif isinstance(route, Route):
                found.update((m, route.path) for m in route.methods if m != "HEAD")
        return found


def test_matrix_covers_every_route():
    assert set(MATRIX) == app_routes()


@pytest.fixture(scope="module")
def objects(portal_server, month_run, demo_files):
    owner = portal_server.client("dlh")
    upload = owner.upload(demo_files / "DLH_2025-10.xlsx")
    assert upload.status_code == 201
    return {
        "id": str(upload.json()["id"]),
        "tugas": str(month_run["tugas"]),
        "periode": PERIOD,
        "nama:path": OWN_FEEDBACK,
        "nama": "tidak-ada",
    }


def concrete(path: str, objects: dict) -> str:
    if path == "/static":
        return "/static/app.js"
    for key, value in objects.items():
        path = path.replace("{" + key + "}", value)
    return path


def test_role_route_matrix(portal_server, objects):
    clients = {actor: portal_server.client(LOGINS.get(actor)) for actor in ACTORS}
    failures = []
    for (method, path), expected in MATRIX.items():
        url = concrete(path, objects)
        for actor in ACTORS:
            c = clients[actor]
            kwargs = dict(BODIES.get(path, {}))
            r = c.get(url) if method == "GET" else c.post(url, **kwargs)
            if r.status_code != expected[actor]:
                failures.append(f"{method} {url} as {actor}: {r.status_code} != {expected[actor]}")
            assert r.status_code < 500
    assert failures == []


def test_unit_lists_only_its_own_outputs(portal_server, objects):
    names = portal_server.client("dlh").get(f"/api/hasil/{PERIOD}").json()["berkas"]
    assert names == [OWN_FEEDBACK]
    everything = portal_server.client("pim").get(f"/api/hasil/{PERIOD}").json()["berkas"]
    assert f"Konsolidasi_RB_{PERIOD}.xlsx" in everything and len(everything) > 40


@pytest.mark.parametrize("method,path", [k for k in MATRIX if k[0] == "POST"])
def test_every_state_change_needs_the_csrf_token(portal_server, objects, method, path):
    c = portal_server.client("ana")
    r = c.post(concrete(path, objects), csrf=False, **BODIES.get(path, {}))
    assert r.status_code == 403
