"""``rbpipe kirim``: the month's feedback and reminders as e-mails, written as .eml files and
sent to a real SMTP server on loopback (aiosmtpd), read back as the units would receive them.

The demo month is run once by the real CLI with a registry that carries e-mail addresses (a few
units have none) and WhatsApp numbers; each test works on its own copy of the outputs, and every
``rbpipe`` call runs under the network guard with only the test server's address allowed.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sqlite3
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl
import pytest
from conftest import PERIOD, rbpipe
from smtp_server import LoopbackSMTP, make_certificate

from pipeline.registry import load_registry

SENDER = "organisasi@lampungselatankab.go.id"
NO_ADDRESS = {"SATPOLPP", "DISPAR", "KEC-SRAGI"}


def address(kode: str) -> str:
    return f"{kode.lower()}@lampungselatankab.go.id"


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """(inputs, outputs, plan) of the demo month run with a registry holding contacts."""
    from pipeline.demo import generate_month
    from pipeline.registry import Period

    base = tmp_path_factory.mktemp("kirim")
    inputs = base / "inputs"
    registry = load_registry()
    plan = generate_month(inputs / PERIOD, Period.parse(PERIOD), registry, seed=2025)
    with (inputs / "unit_kerja.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kode", "nama", "jenis", "singkatan", "email", "telepon"])
        for i, u in enumerate(registry.units):
            writer.writerow(
                [
                    u.kode,
                    u.nama,
                    u.jenis,
                    ";".join(u.singkatan),
                    "" if u.kode in NO_ADDRESS else address(u.kode),
                    f"0812-{i:04d}-{i:04d}",
                ]
            )
    done = rbpipe(
        "run", "--period", PERIOD, "--inputs", str(inputs), "--outputs", str(base / "out"), cwd=base
    )
    assert done.returncode == 0, done.stderr
    return inputs, base / "out", plan


@pytest.fixture
def outputs(month, tmp_path) -> Path:
    """A fresh copy of the month's outputs for one test (history included)."""
    copy = tmp_path / "outputs"
    shutil.copytree(month[1], copy)
    return copy


def kirim(month, outputs: Path, *args: str, server: LoopbackSMTP | None = None, **env: str):
    inputs = month[0]
    extra = {"RBPIPE_NET_ALLOW": server.address} if server else {}
    run = rbpipe(
        "kirim",
        "--period",
        PERIOD,
        "--inputs",
        str(inputs),
        "--outputs",
        str(outputs),
        *args,
        cwd=outputs.parent,
        **extra,
        **env,
    )
    assert run.network_attempts == [], run.network_attempts
    return run


def send_args(server: LoopbackSMTP, *more: str) -> tuple[str, ...]:
    return ("--kirim", "--smtp", server.address, "--tanpa-tls", "--dari", SENDER, *more)


def expected_units(month) -> tuple[set[str], set[str]]:
    """(units that get feedback, units that get a reminder), among those with an address."""
    plan = month[2]
    codes = {u.kode for u in load_registry().units} - NO_ADDRESS
    return set(plan.submitting_units) & codes, set(plan.missing_units) & codes


def attachment_of(message) -> tuple[str, bytes] | None:
    parts = [p for p in message.iter_attachments()]
    assert len(parts) <= 1
    return (parts[0].get_filename(), parts[0].get_content()) if parts else None


def unit_of_workbook(data: bytes) -> str:
    """The unit a feedback workbook is about, as its reader sees it (Ringkasan subtitle)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    subtitle = book["Ringkasan"]["A2"].value
    found = re.search(r"\(([A-Z0-9-]+)\) · Periode", subtitle)
    assert found, subtitle
    return found.group(1)


def assert_isolated(kode: str, message, outputs: Path) -> None:
    """ISOLATION: the message goes to the unit's own address, names no other unit, and carries
    the unit's own feedback workbook (byte for byte), which is about that unit."""
    assert message["To"] == address(kode)
    text = message.get_body(("plain",)).get_content() + str(message["Subject"])
    for other in load_registry().codes:
        if other != kode:
            assert not re.search(rf"(?<![\w-]){re.escape(other)}(?![\w-])", text), (kode, other)
    attached = attachment_of(message)
    if attached is not None:
        name, data = attached
        assert name == f"{kode}_{PERIOD}_umpan_balik.xlsx"
        assert data == (outputs / PERIOD / "umpan_balik" / name).read_bytes()
        assert unit_of_workbook(data) == kode


# --------------------------------------------------------------------------------------------


def test_without_kirim_messages_are_written_as_eml_for_review(month, outputs):
    done = kirim(month, outputs, "--dari", SENDER)
    assert done.returncode == 0, done.stderr
    feedback, reminders = expected_units(month)
    folder = outputs / PERIOD / "surel"
    names = sorted(p.name for p in folder.glob("*.eml"))
    assert names == sorted(
        [f"{k}_{PERIOD}_umpan_balik.eml" for k in feedback]
        + [f"{k}_{PERIOD}_pengingat.eml" for k in reminders]
    )
    assert f"{len(names)} pesan disiapkan" in done.stdout
    assert f"({len(feedback)} umpan balik, {len(reminders)} pengingat)" in done.stdout
    assert "Tanpa alamat surel: 3 unit" in done.stdout
    for path in folder.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        kode = path.name.split(f"_{PERIOD}_")[0]
        assert message["From"].addresses[0].addr_spec == SENDER
        assert_isolated(kode, message, outputs)
        is_feedback = kode in feedback
        assert (attachment_of(message) is not None) == (
            is_feedback
            or (outputs / PERIOD / "umpan_balik" / f"{kode}_{PERIOD}_umpan_balik.xlsx").exists()
        )
    with sqlite3.connect(outputs / "riwayat.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_kirim_delivers_one_message_per_unit_once_and_ulang_sends_again(month, outputs):
    feedback, reminders = expected_units(month)
    with LoopbackSMTP() as server:
        first = kirim(month, outputs, *send_args(server), server=server)
        assert first.returncode == 0, first.stdout + first.stderr
        received = {r.message["X-Rbpipe-Unit"]: r for r in server.received}
        assert len(server.received) == len(received) == len(feedback) + len(reminders)
        assert set(received) == feedback | reminders
        for kode, r in received.items():
            assert r.mail_from == SENDER and r.rcpt_tos == [address(kode)]
            assert_isolated(kode, r.message, outputs)
            kind = r.message["X-Rbpipe-Kind"]
            assert kind == ("umpan_balik" if kode in feedback else "pengingat")
            if kind == "umpan_balik":
                assert attachment_of(r.message) is not None
        assert (
            f"Terkirim : {len(received)} pesan lewat {server.address} (tanpa TLS)" in first.stdout
        )

        second = kirim(month, outputs, *send_args(server), server=server)
        assert second.returncode == 0
        assert len(server.received) == len(received)  # nothing sent twice
        assert "Terkirim : 0 pesan" in second.stdout
        assert f"Dilewati : {len(received)} pesan sudah pernah terkirim" in second.stdout

        third = kirim(month, outputs, *send_args(server, "--ulang"), server=server)
        assert third.returncode == 0
        assert len(server.received) == 2 * len(received)
    with sqlite3.connect(outputs / "riwayat.sqlite") as db:
        rows = db.execute("SELECT unit, kind, status FROM messages").fetchall()
    assert len(rows) == 2 * len(received) and {s for _, _, s in rows} == {"terkirim"}


def test_a_rerun_of_the_month_on_the_same_inputs_sends_nothing_new(month, outputs):
    with LoopbackSMTP() as server:
        assert kirim(month, outputs, *send_args(server), server=server).returncode == 0
        sent = len(server.received)
        again = rbpipe(
            "run",
            "--period",
            PERIOD,
            "--inputs",
            str(month[0]),
            "--outputs",
            str(outputs),
            cwd=outputs.parent,
        )
        assert again.returncode == 0, again.stderr
        after = kirim(month, outputs, *send_args(server), server=server)
        assert after.returncode == 0
        assert len(server.received) == sent
        assert f"Dilewati : {sent} pesan" in after.stdout


def test_a_refused_recipient_costs_only_that_message(month, outputs):
    feedback, reminders = expected_units(month)
    victim = sorted(feedback)[0]
    with LoopbackSMTP(refuse={address(victim)}) as server:
        first = kirim(month, outputs, *send_args(server), server=server)
        assert first.returncode == 1
        delivered = {r.message["X-Rbpipe-Unit"] for r in server.received}
        assert delivered == (feedback | reminders) - {victim}
        assert "Gagal    : 1 pesan" in first.stdout
        assert f"{victim}: {address(victim)}: 550 5.1.1 Mailbox tidak dikenal" in first.stdout

        server.handler.refuse.clear()
        retry = kirim(month, outputs, *send_args(server), server=server)
        assert retry.returncode == 0
        assert [r.message["X-Rbpipe-Unit"] for r in server.received[len(delivered) :]] == [victim]
    with sqlite3.connect(outputs / "riwayat.sqlite") as db:
        statuses = db.execute(
            "SELECT status, error FROM messages WHERE unit = ? ORDER BY id", (victim,)
        ).fetchall()
    assert statuses[0][0] == "gagal" and "550" in statuses[0][1]
    assert statuses[1] == ("terkirim", None)


def test_starttls_and_login_are_used_by_default(month, outputs, tmp_path):
    cert = make_certificate(tmp_path / "tls")
    with LoopbackSMTP(cert=cert, login=("operator", "rahasia-123")) as server:
        done = kirim(
            month,
            outputs,
            "--kirim",
            "--smtp",
            server.address,
            "--dari",
            SENDER,
            server=server,
            SSL_CERT_FILE=str(cert[0]),
            RBPIPE_SMTP_USER="operator",
            RBPIPE_SMTP_PASSWORD="rahasia-123",
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "(STARTTLS)" in done.stdout
        assert len(server.received) == sum(map(len, expected_units(month)))
        assert "rahasia-123" not in done.stdout + done.stderr


def test_a_wrong_password_or_untrusted_certificate_sends_nothing(month, outputs, tmp_path):
    cert = make_certificate(tmp_path / "tls")
    with LoopbackSMTP(cert=cert, login=("operator", "rahasia-123")) as server:
        wrong = kirim(
            month,
            outputs,
            "--kirim",
            "--smtp",
            server.address,
            "--dari",
            SENDER,
            server=server,
            SSL_CERT_FILE=str(cert[0]),
            RBPIPE_SMTP_USER="operator",
            RBPIPE_SMTP_PASSWORD="salah",
        )
        assert wrong.returncode == 2
        assert "menolak nama pengguna atau sandi" in wrong.stderr
        untrusted = kirim(
            month,
            outputs,
            "--kirim",
            "--smtp",
            server.address,
            "--dari",
            SENDER,
            server=server,
            RBPIPE_SMTP_USER="operator",
            RBPIPE_SMTP_PASSWORD="rahasia-123",
        )
        assert untrusted.returncode == 2
        assert "tidak dapat diverifikasi" in untrusted.stderr
        assert server.received == []


def test_a_server_without_starttls_is_refused_unless_local_and_asked(month, outputs):
    with LoopbackSMTP() as server:
        done = kirim(
            month, outputs, "--kirim", "--smtp", server.address, "--dari", SENDER, server=server
        )
        assert done.returncode == 2
        assert "tidak menawarkan STARTTLS" in done.stderr
        assert server.received == []


def test_tanpa_tls_is_only_for_a_server_on_this_machine(month, outputs):
    done = kirim(
        month,
        outputs,
        "--kirim",
        "--smtp",
        "mail.lampungselatankab.go.id:25",
        "--tanpa-tls",
        "--dari",
        SENDER,
    )
    assert done.returncode == 2
    assert "--tanpa-tls hanya boleh untuk server surel di komputer ini" in done.stderr


def test_credentials_are_never_taken_from_the_command_line(month, outputs):
    done = kirim(
        month,
        outputs,
        "--kirim",
        "--smtp",
        "127.0.0.1:25",
        "--tanpa-tls",
        "--dari",
        SENDER,
        "--sandi",
        "x",
    )
    assert done.returncode == 2
    assert "Tidak ada opsi '--sandi'" in done.stderr


def test_a_month_not_yet_run_cannot_be_sent(month, tmp_path):
    done = kirim(month, tmp_path / "kosong", "--dari", SENDER)
    assert done.returncode == 2
    assert "Jalankan dulu 'rbpipe run --period 2025-10'" in done.stderr


def test_a_misplaced_feedback_workbook_is_never_attached_to_another_unit(month, outputs):
    """ISOLATION: a unit's workbook copied over another unit's file is caught before sending."""
    feedback, _ = expected_units(month)
    victim, other = sorted(feedback)[:2]
    folder = outputs / PERIOD / "umpan_balik"
    shutil.copyfile(
        folder / f"{other}_{PERIOD}_umpan_balik.xlsx",
        folder / f"{victim}_{PERIOD}_umpan_balik.xlsx",
    )
    with LoopbackSMTP() as server:
        done = kirim(month, outputs, *send_args(server), server=server)
        assert done.returncode == 1
        assert (
            f"Tidak disiapkan: {victim}: berkas {victim}_{PERIOD}_umpan_balik.xlsx bukan umpan balik {victim}"
            in done.stdout
        )
        units = [r.message["X-Rbpipe-Unit"] for r in server.received]
        assert victim not in units and units.count(other) == 1
    assert not (outputs / PERIOD / "surel" / f"{victim}_{PERIOD}_umpan_balik.eml").exists()


def test_bad_registry_contacts_are_reported_and_the_rest_goes_on(month, outputs, tmp_path):
    inputs = tmp_path / "inputs"
    shutil.copytree(month[0], inputs)
    path = inputs / "unit_kerja.csv"
    text = path.read_text(encoding="utf-8").replace(address("DINKES"), "dinkes di lamsel")
    path.write_text(text, encoding="utf-8")
    done = kirim((inputs, None, month[2]), outputs, "--dari", SENDER)
    assert done.returncode == 0
    assert re.search(
        r"Peringatan: unit_kerja.csv baris \d+ \(DINKES\): alamat surel 'dinkes di lamsel' tidak valid",
        done.stderr,
    )
    assert "DINKES" in done.stdout.split("Tanpa alamat surel")[1]
