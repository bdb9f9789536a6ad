"""The three channel kinds on the wire: webhook (httpx), email (smtplib, STARTTLS), syslog
(RFC 5424 over UDP, or TCP with octet-counting framing, RFC 6587).

Syslog is written here rather than through ``logging.handlers.SysLogHandler`` or the
rfc5424-logging-handler package: logging handlers swallow send errors (``handleError``), and a
delivery must know whether it went out to be retried and recorded.

``ROUTERWATCH_ALERT_TARGETS`` (comma-separated networks, e.g. ``127.0.0.0/8``) restricts where
alerts may go: a channel whose host resolves outside them fails without connecting.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Sequence
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx

from routerwatch import __version__
from routerwatch.server.alerts import render
from routerwatch.server.alerts.specs import EmailSpec, SyslogSpec, WebhookSpec

TARGETS_ENV = "ROUTERWATCH_ALERT_TARGETS"


class SendError(Exception):
    """A delivery attempt failed; ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message[:500])
        self.permanent = permanent
        self.retry_after = retry_after


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    raw = os.environ.get(TARGETS_ENV, "").strip()
    if not raw:
        return None
    return [ipaddress.ip_network(x.strip(), strict=False) for x in raw.split(",") if x.strip()]


def check_target(host: str, port: int) -> None:
    """Under an allowlist, the channel's host must be an address (or ``localhost``) inside
    it: names are refused rather than looked up, so no query leaves the machine."""
    nets = allowed_networks()
    if nets is None:
        return
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host != "localhost":
            raise SendError(f"{host} is a name; with {TARGETS_ENV} set, give an address",
                            permanent=True) from None
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise SendError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not any(addr in n for n in nets):
            raise SendError(f"{host} ({addr}) is outside {TARGETS_ENV}", permanent=True)


# ---------------------------------------------------------------------------- webhook
class WebhookSender:
    """POSTs to one webhook over a kept-alive connection."""

    def __init__(self, spec: WebhookSpec) -> None:
        self.spec = spec
        self.client = httpx.Client(timeout=spec.timeout_seconds, follow_redirects=False,
                                   headers={"User-Agent": f"routerwatch/{__version__}"})

    def send(self, delivery_id: int, body: bytes, event_type: str) -> None:
        parts = urlsplit(self.spec.url)
        check_target(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        ts = int(time.time())
        headers = {**self.spec.headers, "Content-Type": "application/json",
                   render.DELIVERY_HEADER: str(delivery_id), "X-Routerwatch-Event": event_type,
                   render.TIMESTAMP_HEADER: str(ts)}
        if self.spec.secret is not None:
            headers[render.SIGNATURE_HEADER] = render.sign(
                self.spec.secret.get_secret_value(), ts, body)
        try:
            r = self.client.post(self.spec.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}" if str(exc)
                            else type(exc).__name__) from None
        if r.is_success:
            return
        retry_after = _retry_after(r.headers.get("retry-after"))
        permanent = 400 <= r.status_code < 500 and r.status_code not in (408, 425, 429)
        raise SendError(f"HTTP {r.status_code}", permanent=permanent, retry_after=retry_after)

    def close(self) -> None:
        self.client.close()


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(min(int(value.strip()), 86400))
    return None


# ---------------------------------------------------------------------------- email
class EmailSender:
    def __init__(self, spec: EmailSpec) -> None:
        self.spec = spec

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.spec.ca_pem or None)

    def send(self, message: EmailMessage) -> None:
        s = self.spec
        check_target(s.host, s.port)
        try:
            smtp: smtplib.SMTP
            if s.tls == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                        context=self.context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            with smtp:
                smtp.ehlo()
                if s.tls == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise SendError(f"{s.host}:{s.port} does not offer STARTTLS")
                    smtp.starttls(context=self.context())
                    smtp.ehlo()
                if s.username and s.password is not None:
                    smtp.login(s.username, s.password.get_secret_value())
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise SendError(f"SMTP {exc.smtp_code} {_msg(exc.smtp_error)}",
                            permanent=permanent) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            raise SendError(f"recipients refused ({', '.join(map(str, codes))})",
                            permanent=all(500 <= c < 600 for c in codes)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        pass


def _msg(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:200]


# ---------------------------------------------------------------------------- syslog
class SyslogSender:
    def __init__(self, spec: SyslogSpec) -> None:
        self.spec = spec

    def send(self, messages: Sequence[bytes]) -> None:
        s = self.spec
        check_target(s.host, s.port)
        try:
            if s.transport == "udp":
                family = socket.AF_INET6 if ":" in s.host else socket.AF_INET
                with socket.socket(family, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(s.timeout_seconds)
                    sock.connect((s.host, s.port))
                    for m in messages:
                        sock.send(m[:8192])
            else:
                with socket.create_connection((s.host, s.port), s.timeout_seconds) as sock:
                    sock.sendall(b"".join(str(len(m)).encode() + b" " + m for m in messages))
        except OSError as exc:
            raise SendError(f"{type(exc).__name__}: {exc.strerror or exc}") from None

    def close(self) -> None:
        pass
