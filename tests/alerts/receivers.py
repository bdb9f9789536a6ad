"""Real receivers on 127.42.0.0/16 for the alert tests: an HTTP webhook endpoint, an SMTP
server with STARTTLS (aiosmtpd, self-signed certificate) and syslog over UDP and TCP."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.42.0.1"


def wait_until(check: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """An HTTP server that records every POST; ``statuses`` answers the next requests."""

    def __init__(self, host: str = HOST) -> None:
        self.hits: list[Hit] = []
        self.statuses: list[int] = []  # popped per request; empty → 200
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if outer.delay:
                    time.sleep(outer.delay)
                status = outer.statuses.pop(0) if outer.statuses else 200
                if status < 300:
                    outer.hits.append(Hit(self.path, {k.lower(): v for k, v in
                                                      self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(host: str, directory: Path) -> tuple[Path, Path, str]:
    """A certificate for ``host`` (an IP address), its key, and the PEM text."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "routerwatch test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, pem.decode()


@dataclass
class Mail:
    sender: str
    rcpts: list[str]
    message: Message
    tls: bool
    login: str | None


@dataclass
class SmtpReceiver:
    """aiosmtpd on ``host`` requiring STARTTLS before MAIL and before AUTH."""

    host: str
    directory: Path
    user: str = "alerts"
    password: str = "s3cret-smtp-pw"
    mails: list[Mail] = field(default_factory=list)

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        cert, key, self.ca_pem = self_signed(self.host, self.directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        outer = self

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:
            ok = isinstance(auth_data, LoginPassword) and \
                auth_data.login.decode() == outer.user and \
                auth_data.password.decode() == outer.password
            return AuthResult(success=ok, handled=False,
                              auth_data=auth_data.login.decode() if ok else None)

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                login = session.auth_data if session.authenticated else None
                outer.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos),
                                        message_from_bytes(envelope.content),
                                        session.ssl is not None, login))
                return "250 OK"

        with socket.socket() as s:
            s.bind((self.host, 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname=self.host, port=self.port,
                                     tls_context=context, require_starttls=True,
                                     authenticator=authenticator, auth_require_tls=True,
                                     auth_required=True,
                                     ready_timeout=10)
        self.controller.start()
        return self

    def close(self) -> None:
        self.controller.stop()


class SyslogReceiver:
    """Records syslog messages: UDP datagrams, or TCP frames with octet counting."""

    def __init__(self, transport: str, host: str = HOST) -> None:
        self.messages: list[bytes] = []
        outer = self
        if transport == "udp":
            class UdpHandler(socketserver.BaseRequestHandler):
                def handle(self) -> None:
                    outer.messages.append(self.request[0])

            self.server: socketserver.BaseServer = socketserver.ThreadingUDPServer(
                (host, 0), UdpHandler)
        else:
            class TcpHandler(socketserver.StreamRequestHandler):
                def handle(self) -> None:
                    while True:
                        size = b""
                        while (ch := self.rfile.read(1)) not in (b" ", b""):
                            size += ch
                        if not size:
                            return
                        outer.messages.append(self.rfile.read(int(size)))

            self.server = socketserver.ThreadingTCPServer((host, 0), TcpHandler)
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
