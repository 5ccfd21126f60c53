"""Who may do what: one table and one function (datasette-style).

Every route names an *action*; :data:`ALLOWED` says which roles may take it. ``None`` in the
table means "anyone, signed in or not". Object-level rules (a unit sees only its own uploads
and feedback; another unit's object answers 404, not 403, so its existence is not revealed) are
in :func:`may_see_upload` and :func:`may_download_output`, called by the views that load objects.
"""

from __future__ import annotations

from pipeline.portal.auth import User

ANYONE = None
SIGNED_IN = frozenset({"unit", "analis", "pimpinan"})

ALLOWED: dict[str, frozenset[str] | None] = {
    "halaman": ANYONE,  # sign-in page, the root redirect, static files
    "halaman.sandi": SIGNED_IN,
    "halaman.unit": frozenset({"unit"}),
    "halaman.papan": frozenset({"analis", "pimpinan"}),
    "halaman.akun": frozenset({"analis"}),
    "halaman.audit": frozenset({"analis"}),
    "sehat": ANYONE,
    "sesi": ANYONE,
    "masuk": ANYONE,
    "keluar": SIGNED_IN,
    "sandi": SIGNED_IN,
    "kiriman.unggah": frozenset({"unit", "analis"}),
    "kiriman.daftar": SIGNED_IN,
    "kiriman.lihat": SIGNED_IN,  # object rule: may_see_upload
    "kiriman.umpan_balik": frozenset({"unit", "analis"}),  # object rule: may_see_upload
    "papan": frozenset({"analis", "pimpinan"}),
    "rekap.mulai": frozenset({"analis"}),
    "rekap.lihat": frozenset({"analis", "pimpinan"}),
    "hasil": SIGNED_IN,  # object rule: may_download_output
    "templat": frozenset({"unit"}),
    "akun.kelola": frozenset({"analis"}),
    "audit": frozenset({"analis"}),
}

# Actions an account with a one-time password may still take (it must change it first).
ONE_TIME_OK = frozenset({"halaman", "halaman.sandi", "sehat", "sesi", "masuk", "keluar", "sandi"})


def decide(user: User | None, action: str) -> int | None:
    """None when ``user`` may take ``action``; else the HTTP status to answer (401 or 403)."""
    roles = ALLOWED[action]
    if roles is ANYONE:
        return None
    if user is None:
        return 401
    if user.peran not in roles:
        return 403
    if user.sandi_sementara and action not in ONE_TIME_OK:
        return 403
    return None


def may_see_upload(user: User, upload_unit: str | None, uploaded_by: str) -> bool:
    if user.peran in ("analis", "pimpinan"):
        return True
    return user.peran == "unit" and upload_unit == user.unit and upload_unit is not None


def may_download_output(user: User, name: str, official_feedback_name: str | None) -> bool:
    """``name`` is relative to the month's outputs folder; a unit gets only its own feedback."""
    if user.peran in ("analis", "pimpinan"):
        return True
    return user.peran == "unit" and name == official_feedback_name
