"""``rbpipe kirim``: each unit's feedback or reminder as an e-mail, written as ``.eml`` files for
review and, when asked, sent over SMTP.

In: a finished month (``outputs/<YYYY-MM>/manifest.json`` and the feedback workbooks beside it)
and the registry read from the inputs folder, as ``rbpipe run`` reads it (addresses in the
``email`` column). Out: ``outputs/<YYYY-MM>/surel/<KODE>_<YYYY-MM>_<jenis>.eml``, one per unit
with an address (earlier ``.eml`` files of units that no longer get one are removed); with
``send``, the same messages handed to the SMTP server one by one, each attempt logged in
``outputs/riwayat.sqlite`` (table ``messages``) as soon as the server answered.

**The same message** is the same (period, unit, kind, recipients, content): the content is the
SHA-256 of the subject, the text, the attachment's name and the attachment's bytes. Texts are
functions of the month's results (never of the clock) and the feedback workbooks are
byte-reproducible, so calling ``kirim`` again, or running the month again on the same inputs,
gives the same messages, which are not sent again unless ``again`` (``--ulang``). A message
whose content changed (a re-run after a unit's correction changed its feedback) or whose
recipients changed (an address corrected in the registry) is a new message and is sent. A
message the server refused is logged as ``gagal`` and tried again by the next call.

A message is logged as sent once the server accepted it; a crash between the two (a fraction of
a second) would send it again next time: at least once, never silently lost.

**Transport.** STARTTLS with certificate verification by default (port 587 when none is given);
``tls=False`` (``--tanpa-tls``) only for a server on this machine (a loopback address or
``localhost``), which is refused otherwise. User and password come only from the environment
(``RBPIPE_SMTP_USER``, ``RBPIPE_SMTP_PASSWORD``). A server that cannot be reached, refuses
STARTTLS, fails verification or refuses the login stops the command before anything is sent
(:class:`RunError`); a refusal of one message (an unknown mailbox, a dropped connection) costs
that message only: the others go on, on a new connection when needed.

**Isolation.** Each message is built from one :class:`UnitNotice` (its own figures and
problems) and goes to that unit's own addresses. ISOLATION: the attachment is the unit's own
feedback workbook, chosen by its code, and is checked before attaching: the workbook's own title
(``docProps/core.xml``) must name the unit's code and the month, so a misplaced or renamed file
is never sent to the wrong unit (that message fails instead).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import smtplib
import socket
import ssl
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path

from defusedxml import ElementTree

from pipeline import __version__
from pipeline.contact import parse_emails
from pipeline.deliver.notices import (
    KIND_LABEL,
    UnitNotice,
    body,
    notices_from_manifest,
    subject,
)
from pipeline.errors import RunError
from pipeline.fsutil import write_bytes_atomic
from pipeline.history import MESSAGE_FAILED, MESSAGE_SENT, History
from pipeline.locale_id import number
from pipeline.locking import OutputLock
from pipeline.outputs import OutputLayout
from pipeline.registry import Period, load_registry

log = logging.getLogger("rbpipe")

DEFAULT_PORT = 587  # message submission with STARTTLS
LOCAL_PORT = 25  # a server on this machine, without TLS
TIMEOUT = 30  # seconds for each SMTP exchange
ENV_USER = "RBPIPE_SMTP_USER"
ENV_PASSWORD = "RBPIPE_SMTP_PASSWORD"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def eml_name(notice: UnitNotice) -> str:
    return f"{notice.kode}_{notice.period}_{notice.kind}.eml"


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """One unit's message, ready to write and send."""

    notice: UnitNotice
    message: EmailMessage
    recipients: str  # the addresses, lower case, sorted, joined by "; " (part of the key)
    content_sha256: str
    attachment_sha256: str | None
    eml: Path

    @property
    def key(self) -> dict[str, str]:
        """What makes it "the same message" (module docstring)."""
        return {
            "period": str(self.notice.period),
            "unit": self.notice.kode,
            "kind": self.notice.kind,
            "recipients": self.recipients,
            "content_sha256": self.content_sha256,
        }


@dataclass(kw_only=True)
class Refused:
    """A unit whose message could not be prepared or sent, and why (Indonesian)."""

    kode: str
    reason: str


@dataclass(kw_only=True)
class DeliveryReport:
    """What ``kirim`` did: prepared messages, units left without one, and with ``send`` what
    was sent, skipped (sent before) and refused."""

    period: Period
    folder: Path
    prepared: list[Outgoing] = field(default_factory=list)
    without_address: list[str] = field(default_factory=list)
    unprepared: list[Refused] = field(default_factory=list)
    sent: list[Outgoing] = field(default_factory=list)
    skipped: list[Outgoing] = field(default_factory=list)
    failed: list[Refused] = field(default_factory=list)
    server: str | None = None
    registry_notes: tuple[str, ...] = ()  # unusable registry contacts (Indonesian)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unprepared


# --------------------------------------------------------------------------------------------
# Composing
# --------------------------------------------------------------------------------------------


def message_clock() -> dt.datetime:
    """The Date of messages: now (aware, local), or SOURCE_DATE_EPOCH when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now().astimezone().replace(microsecond=0)


def check_attachment(path: Path, notice: UnitNotice) -> bytes:
    """The bytes of ``notice``'s feedback workbook at ``path``, after checking that it is a
    workbook whose title names the unit's code and the month. ISOLATION: the last guard before
    a file leaves the machine. Raises :class:`RunError` with the reason otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunError(
            f"berkas umpan balik {path.name} tidak ditemukan; jalankan ulang "
            f"'rbpipe run --period {notice.period}'"
        ) from None
    except OSError as exc:
        raise RunError(f"berkas umpan balik {path.name} tidak dapat dibaca: {exc}") from None
    try:
        with zipfile.ZipFile(path) as archive:
            core = ElementTree.fromstring(archive.read("docProps/core.xml"))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError) as exc:
        raise RunError(f"berkas umpan balik {path.name} rusak ({exc})") from None
    title = core.findtext("{http://purl.org/dc/elements/1.1/}title") or ""
    if f"({notice.kode})" not in title or notice.period.label not in title:
        raise RunError(
            f"berkas {path.name} bukan umpan balik {notice.kode} periode {notice.period.label} "
            f"(judulnya: '{title}'); tidak dilampirkan, pesan tidak dibuat"
        )
    return data


def compose(
    notice: UnitNotice,
    *,
    sender: str | None,
    attachment: bytes | None,
    when: dt.datetime,
    folder: Path,
) -> Outgoing:
    """The e-mail of ``notice`` (to its own addresses, with its own attachment)."""
    text, title = body(notice), subject(notice)
    message = EmailMessage(policy=SMTP_POLICY)
    if sender:
        message["From"] = Address(display_name=notice.settings.nama_instansi, addr_spec=sender)
    message["To"] = ", ".join(notice.email)
    message["Subject"] = title
    message["Date"] = format_datetime(when)
    domain = sender.rpartition("@")[2] if sender else "rbpipe.invalid"
    message["Message-ID"] = make_msgid(
        idstring=f"rbpipe.{notice.period}.{notice.kind}", domain=domain
    )
    message["X-Mailer"] = f"rbpipe {__version__}"
    message["X-Rbpipe-Unit"] = notice.kode
    message["X-Rbpipe-Period"] = str(notice.period)
    message["X-Rbpipe-Kind"] = notice.kind
    message.set_content(text, charset="utf-8")
    content = hashlib.sha256()
    for part in (title, text, notice.attachment or ""):
        content.update(part.encode("utf-8") + b"\0")
    attachment_sha256 = None
    if attachment is not None and notice.attachment:
        message.add_attachment(
            attachment, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=notice.attachment
        )
        content.update(attachment)
        attachment_sha256 = hashlib.sha256(attachment).hexdigest()
    return Outgoing(
        notice=notice,
        message=message,
        recipients="; ".join(sorted(a.lower() for a in notice.email)),
        content_sha256=content.hexdigest(),
        attachment_sha256=attachment_sha256,
        eml=folder / eml_name(notice),
    )


def prepare(
    notices: Iterable[UnitNotice],
    layout: OutputLayout,
    *,
    sender: str | None,
    report: DeliveryReport,
) -> None:
    """Compose every notice's message into ``report.prepared`` and write it as an ``.eml``
    under the month's ``surel/``; earlier ``.eml`` files not written now are removed."""
    folder = layout.mail_folder
    when = message_clock()
    for notice in notices:
        if not notice.email:
            report.without_address.append(notice.kode)
            continue
        try:
            attachment = (
                check_attachment(layout.feedback_folder / notice.attachment, notice)
                if notice.attachment
                else None
            )
        except RunError as exc:
            report.unprepared.append(Refused(kode=notice.kode, reason=str(exc)))
            continue
        outgoing = compose(notice, sender=sender, attachment=attachment, when=when, folder=folder)
        write_bytes_atomic(outgoing.eml, outgoing.message.as_bytes())
        report.prepared.append(outgoing)
    keep = {o.eml.name for o in report.prepared}
    if folder.is_dir():
        for stale in folder.glob("*.eml"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Server:
    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" + (" (STARTTLS)" if self.tls else " (tanpa TLS)")


def is_local_host(host: str) -> bool:
    """``localhost`` or a loopback address (no name is looked up)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_server(text: str, *, tls: bool) -> Server:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` -> :class:`Server`; :class:`RunError` when
    malformed, or when TLS is off for a server that is not on this machine."""
    text = text.strip()
    host, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or (port is not None and not (port.isdigit() and 0 < int(port) < 65536)):
        raise RunError(
            f"Server surel '{text}' tidak valid: tulis HOST:PORT, misalnya mail.go.id:587."
        )
    if not tls and not is_local_host(host):
        raise RunError(
            f"--tanpa-tls hanya boleh untuk server surel di komputer ini (localhost), bukan "
            f"{host}: tanpa TLS, isi surel dan sandi terbaca di jaringan."
        )
    return Server(
        host=host, port=int(port) if port else DEFAULT_PORT if tls else LOCAL_PORT, tls=tls
    )


def connect(server: Server, *, user: str | None, password: str | None) -> smtplib.SMTP:
    """An SMTP session, STARTTLS-protected and logged in as asked. Raises :class:`RunError`
    (Indonesian, saying what to check) when that cannot be had."""
    where = f"{server.host}:{server.port}"
    try:
        # The client's name is given: smtplib would look it up in DNS (socket.getfqdn).
        smtp = smtplib.SMTP(
            server.host, server.port, local_hostname=socket.gethostname(), timeout=TIMEOUT
        )
    except (OSError, smtplib.SMTPException) as exc:
        raise RunError(
            f"Tidak dapat terhubung ke server surel {where}: {_reason(exc)}. Periksa alamat "
            "server (--smtp) dan jaringan."
        ) from None
    try:
        smtp.ehlo()
        if server.tls:
            if not smtp.has_extn("starttls"):
                raise RunError(
                    f"Server surel {where} tidak menawarkan STARTTLS: surel tidak dikirim tanpa "
                    "enkripsi. Gunakan server lain atau port 587 (--tanpa-tls hanya untuk "
                    "server di komputer ini)."
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if user:
            smtp.login(user, password or "")
    except RunError:
        _close(smtp)
        raise
    except ssl.SSLCertVerificationError as exc:
        _close(smtp)
        raise RunError(
            f"Sertifikat server surel {where} tidak dapat diverifikasi ({exc.verify_message}). "
            "Periksa nama server."
        ) from None
    except smtplib.SMTPAuthenticationError:
        _close(smtp)
        raise RunError(
            f"Server surel {where} menolak nama pengguna atau sandi ({ENV_USER}, {ENV_PASSWORD})."
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        _close(smtp)
        raise RunError(f"Server surel {where} gagal melayani: {_reason(exc)}.") from None
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _reason(exc: BaseException) -> str:
    """An SMTP or socket failure in a few words (the server's own answer when it gave one)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace')}"
            for addr, (code, msg) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "waktu habis"
    if isinstance(exc, ConnectionRefusedError):
        return "koneksi ditolak"
    return str(exc) or type(exc).__name__


def send(
    report: DeliveryReport,
    server: Server,
    *,
    sender: str,
    history: History,
    again: bool = False,
    user: str | None = None,
    password: str | None = None,
) -> None:
    """Send ``report.prepared`` through ``server``, skipping what was sent before unless
    ``again``; every attempt logged in ``history`` (:class:`pipeline.history.History`) at once."""
    report.server = str(server)
    due = [o for o in report.prepared if again or not history.was_sent(**o.key)]
    report.skipped = [o for o in report.prepared if o not in due]
    if not due:
        return
    smtp: smtplib.SMTP | None = connect(server, user=user, password=password)
    try:
        for outgoing in due:
            error = None
            try:
                if smtp is None:
                    smtp = connect(server, user=user, password=password)
                smtp.send_message(
                    outgoing.message, from_addr=sender, to_addrs=list(outgoing.notice.email)
                )
            except RunError as exc:  # the reconnection failed
                error = str(exc)
            except smtplib.SMTPServerDisconnected as exc:
                error = f"koneksi terputus ({_reason(exc)})"
                smtp = None
            except (OSError, smtplib.SMTPException) as exc:
                error = _reason(exc)
                if isinstance(exc, OSError):
                    smtp = None
            _log(history, outgoing, error)
            if error is None:
                report.sent.append(outgoing)
            else:
                report.failed.append(Refused(kode=outgoing.notice.kode, reason=error))
    finally:
        if smtp is not None:
            _close(smtp)


def _log(history: History, outgoing: Outgoing, error: str | None) -> None:
    n = outgoing.notice
    history.record_message(
        **outgoing.key,
        subject=str(outgoing.message["Subject"]),
        attachment=n.attachment if outgoing.attachment_sha256 else None,
        attachment_sha256=outgoing.attachment_sha256,
        message_id=str(outgoing.message["Message-ID"]),
        status=MESSAGE_SENT if error is None else MESSAGE_FAILED,
        error=error,
        at=dt.datetime.now().isoformat(timespec="seconds"),
    )
    if error is None:
        log.info("surel %s untuk %s terkirim ke %s", n.kind, n.kode, outgoing.recipients)
    else:
        log.warning("surel %s untuk %s gagal: %s", n.kind, n.kode, error)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def read_manifest(path: Path, period: Period) -> dict:
    """The month's manifest; :class:`RunError` when the month was not run (or not completely)."""
    import json

    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(
            f"Hasil rekap {period.label} belum ada ({path} tidak ditemukan). Jalankan dulu "
            f"'rbpipe run --period {period}' dengan folder --outputs yang sama."
        ) from None
    except (OSError, ValueError) as exc:
        raise RunError(
            f"{path} tidak dapat dibaca ({exc}). Jalankan ulang rekap bulan itu."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("period") != str(period):
        raise RunError(f"{path} bukan manifest rekap {period}. Jalankan ulang rekap bulan itu.")
    return manifest


def sender_address(given: str | None, configured: str) -> str | None:
    """The From address: ``--dari``, else ``surel_pengirim`` in pengaturan.toml; checked."""
    text = (given or configured or "").strip()
    if not text:
        return None
    addresses, notes = parse_emails(text)
    if notes or len(addresses) != 1:
        raise RunError(
            f"Alamat pengirim '{text}' tidak valid: tulis satu alamat, misalnya organisasi@lampungselatankab.go.id."
        )
    return addresses[0]


def deliver_month(
    period: Period,
    *,
    inputs: Path = Path("inputs"),
    outputs: Path = Path("outputs"),
    send_mail: bool = False,
    smtp: str | None = None,
    tls: bool = True,
    sender: str | None = None,
    again: bool = False,
) -> DeliveryReport:
    """``rbpipe kirim``: prepare every unit's message of a finished month as ``.eml`` files and,
    with ``send_mail``, send them (module docstring). Everything that can be checked before a
    file is written or a message sent is checked first (:class:`RunError`)."""
    inputs, outputs = Path(inputs), Path(outputs)
    registry = load_registry(inputs)
    layout = OutputLayout(outputs=outputs, period=period, inputs=inputs)
    manifest = read_manifest(layout.manifest, period)
    sender = sender_address(sender, registry.settings.surel_pengirim)
    server = user = password = None
    if send_mail:
        if not sender:
            raise RunError(
                "Alamat pengirim belum ditentukan: gunakan --dari ALAMAT atau isi "
                "surel_pengirim di pengaturan.toml."
            )
        where = smtp or registry.settings.surel_server
        if not where:
            raise RunError(
                "Server surel belum ditentukan: gunakan --smtp HOST:PORT atau isi surel_server "
                "di pengaturan.toml."
            )
        server = parse_server(where, tls=tls)
        user = os.environ.get(ENV_USER) or None
        password = os.environ.get(ENV_PASSWORD)
        if user and password is None:
            raise RunError(f"{ENV_USER} diisi tetapi {ENV_PASSWORD} belum: isi keduanya.")
    report = DeliveryReport(period=period, folder=layout.mail_folder, registry_notes=registry.notes)
    with OutputLock(outputs):
        prepare(notices_from_manifest(manifest, registry), layout, sender=sender, report=report)
        if server is not None:
            assert sender  # checked above when sending
            with History(layout.history) as history:
                send(
                    report,
                    server,
                    sender=sender,
                    history=history,
                    again=again,
                    user=user,
                    password=password,
                )
    return report


def summary_lines(report: DeliveryReport, *, send_mail: bool) -> list[str]:
    """What ``rbpipe kirim`` prints (Indonesian)."""
    kinds = {kind: sum(o.notice.kind == kind for o in report.prepared) for kind in KIND_LABEL}
    lines = [
        f"Surel {report.period.label}: {number(len(report.prepared))} pesan disiapkan di "
        f"{report.folder}/ ("
        + ", ".join(f"{number(n)} {KIND_LABEL[k]}" for k, n in kinds.items())
        + ")."
    ]
    if report.without_address:
        lines.append(
            f"  Tanpa alamat surel: {number(len(report.without_address))} unit "
            f"({', '.join(report.without_address)}); isi kolom email di unit_kerja.csv."
        )
    for refused in report.unprepared:
        lines.append(f"  Tidak disiapkan: {refused.kode}: {refused.reason}.")
    if not send_mail:
        lines.append(
            f"  Periksa berkas .eml-nya, lalu kirim dengan: rbpipe kirim --period {report.period} --kirim"
        )
        return lines
    lines.append(f"  Terkirim : {number(len(report.sent))} pesan lewat {report.server}")
    if report.skipped:
        lines.append(
            f"  Dilewati : {number(len(report.skipped))} pesan sudah pernah terkirim "
            "(kirim ulang dengan --ulang)"
        )
    if report.failed:
        lines.append(
            f"  Gagal    : {number(len(report.failed))} pesan (dicoba lagi pada panggilan berikutnya):"
        )
        lines += [f"             {f.kode}: {f.reason}" for f in report.failed]
    return lines
