"""``rbpipe akun``: accounts made, listed, reset and deactivated from the command line, as the
bureau does it on the server (real CLI in a subprocess)."""

from __future__ import annotations

import csv
import subprocess

from conftest import RBPIPE, rbpipe

from pipeline.portal.auth import verify_sign_in
from pipeline.portal.db import Database
from pipeline.registry import load_registry


def akun(tmp_path, *args, stdin: str | None = None):
    return subprocess.run(
        [str(RBPIPE), "akun", *args, "--data", str(tmp_path)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_password_from_standard_input_or_generated_once(tmp_path):
    r = akun(tmp_path, "tambah", "analis1", "--peran", "analis", stdin="Rahasia-Bagian-2025\n")
    assert r.returncode == 0 and "dibuat" in r.stdout and "sementara" not in r.stdout
    db = Database(tmp_path / "portal.sqlite")
    assert verify_sign_in(db, "analis1", "Rahasia-Bagian-2025").peran == "analis"
    weak = akun(tmp_path, "tambah", "analis2", "--peran", "analis", stdin="pendek\n")
    assert weak.returncode == 2 and "10 karakter" in weak.stderr
    no_unit = akun(tmp_path, "tambah", "x", "--peran", "unit", "--unit", "TIDAKADA", stdin="\n")
    assert no_unit.returncode == 2 and "--unit" in no_unit.stderr
    generated = akun(tmp_path, "tambah", "dinkes", "--peran", "unit", "--unit", "DINKES", stdin="")
    assert generated.returncode == 0
    password = generated.stdout.rsplit(":", 1)[1].strip()
    user = verify_sign_in(db, "dinkes", password)
    assert user.unit == "DINKES" and user.sandi_sementara


def test_accounts_for_every_unit_list_reset_and_deactivate(tmp_path):
    out = tmp_path / "akun.csv"
    r = akun(tmp_path, "buat-semua", "--out", str(out))
    registry = load_registry()
    assert r.returncode == 0 and f"{len(registry.units)} akun unit dibuat" in r.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["kode_unit"] for row in rows] == list(registry.codes)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    db = Database(tmp_path / "portal.sqlite")
    first = rows[0]
    assert verify_sign_in(db, first["nama"], first["sandi_sementara"]).sandi_sementara
    again = akun(tmp_path, "buat-semua", "--out", str(tmp_path / "lagi.csv"))
    assert "0 akun unit dibuat" in again.stdout  # units with an account are left alone

    listed = akun(tmp_path, "daftar")
    assert f"{len(rows)} akun." in listed.stdout and "sandi sementara" in listed.stdout

    reset = akun(tmp_path, "sandi-baru", first["nama"])
    new = reset.stdout.rsplit(":", 1)[1].strip()
    assert new != first["sandi_sementara"]
    assert verify_sign_in(db, first["nama"], new).nama == first["nama"]

    assert akun(tmp_path, "nonaktif", first["nama"]).returncode == 0
    assert "nonaktif" in akun(tmp_path, "daftar").stdout
    missing = akun(tmp_path, "nonaktif", "tidak-ada")
    assert missing.returncode == 2 and "tidak ditemukan" in missing.stderr


def test_help_of_the_portal_commands_is_indonesian(tmp_path):
    for args in (["serve", "--help"], ["akun", "--help"], ["akun", "tambah", "--help"]):
        r = rbpipe(*args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "Contoh" in r.stdout or "Kelola akun" in r.stdout
