"""A real SMTP server on loopback for the delivery tests (aiosmtpd), and a certificate for it.

``LoopbackSMTP`` runs aiosmtpd's server in a thread of the test process on 127.0.0.1 and keeps
every message it accepted (envelope and parsed message). It can refuse given recipients (550)
the way a real server refuses an unknown mailbox, offer STARTTLS with a certificate the test
makes, and require a login.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 Mailbox tidak dikenal"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackSMTP:
    """``with LoopbackSMTP() as server:`` -> ``server.address`` ("127.0.0.1:PORT"),
    ``server.received``; ``server.handler.refuse`` may be changed between calls."""

    def __init__(
        self,
        *,
        refuse: set[str] | None = None,
        cert: tuple[Path, Path] | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.handler = Handler(refuse={a.lower() for a in refuse or ()})
        self.port = free_port()
        kwargs: dict = {}
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
            kwargs.update(tls_context=context, require_starttls=True)
        if login is not None:
            user, password = login

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                ) == (user, password)
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticator, auth_required=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def __enter__(self) -> LoopbackSMTP:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (``cert.pem``, ``key.pem``): clients trust it
    when ``SSL_CERT_FILE`` names ``cert.pem``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file
