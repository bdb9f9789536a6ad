"""Pieces every reader needs: HTTP from header maps or raw response text, banners, certificates.

They reuse the scanner's own pure parsers (routerwatch.scan.probes), so a banner or an HTTP
answer read from a dataset becomes exactly what the scanner would have made of it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any, Literal

from routerwatch.models import Banner, HttpObservation, TlsCertificate
from routerwatch.scan.probes.banner import decode_banner
from routerwatch.scan.probes.http import RawResponse, build_http_observation
from routerwatch.scan.probes.tls import TlsError, parse_certificate

MAX_BODY = 65536
MAX_RAW = 1 << 20
_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)?\s+(\d{3})")
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def text(value: Any, default: str = "") -> str:
    """``value`` when it is a string, else ``default``."""
    return value if isinstance(value, str) else default


def items(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def port_number(value: Any) -> int | None:
    try:
        port = int(value)
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def unescape_hex(text: str) -> bytes:
    """masscan's -oL form (``\\x0d\\x0a``) back to bytes."""
    return _ESCAPE.sub(
        lambda m: bytes((int(m.group(1), 16),)), text.encode("utf-8", "surrogateescape")
    )


def to_bytes(text: str) -> bytes:
    """Text a JSON dataset decoded (bytes as U+0000..U+00FF) back to bytes where it can."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def http_from_raw(
    raw: bytes, port: int, scheme: Literal["http", "https"] = "http", path: str = "/"
) -> HttpObservation | None:
    """A raw response (status line, headers, maybe a body) → HttpObservation, or None."""
    raw = raw[:MAX_RAW]
    m = _STATUS.match(raw)
    if m is None:
        return None
    head, _, body = raw.partition(b"\r\n\r\n")
    if not _:
        head, _, body = raw.partition(b"\n\n")
    headers: list[tuple[bytes, bytes]] = []
    for line in re.split(rb"\r?\n", head)[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    response = RawResponse(status=int(m.group(1)), headers=tuple(headers), body=body[:MAX_BODY])
    return build_http_observation(port, scheme, "GET", path, response, max_body=MAX_BODY)


def http_from_parts(
    port: int,
    scheme: Literal["http", "https"],
    status: int,
    headers: Iterable[tuple[str, str]],
    body: str = "",
    *,
    path: str = "/",
    method: str = "GET",
    title: str | None = None,
    favicon_md5: str | None = None,
) -> HttpObservation:
    """An exchange whose headers the dataset already split: decoded like the scanner's."""
    raw_headers = tuple((to_bytes(k), to_bytes(v)) for k, v in headers)
    response = RawResponse(status=status, headers=raw_headers, body=to_bytes(body)[:MAX_BODY])
    obs = build_http_observation(port, scheme, method, path, response, max_body=MAX_BODY)
    if (title is not None and obs.title is None) or favicon_md5:
        from dataclasses import replace

        obs = replace(obs, title=obs.title or title, favicon_md5=favicon_md5 or obs.favicon_md5)
    return obs


def banner(port: int, text: str | bytes, protocol: str | None = None) -> Banner:
    """A service greeting → Banner, decoded like the scanner's (telnet IAC stripped)."""
    raw = text if isinstance(text, bytes) else to_bytes(text)
    b = decode_banner(raw, port)
    if protocol and b.protocol == "tcp" and protocol in ("ssh", "ftp", "telnet", "socks5"):
        from dataclasses import replace

        b = replace(b, protocol=protocol)
    return b


def certificate_from_b64(value: str, port: int) -> TlsCertificate | None:
    """A base64 DER certificate (ZGrab2 ``raw``, masscan ``X509``) → TlsCertificate, or None."""
    try:
        der = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return None
    try:
        return parse_certificate(der, port)
    except TlsError:
        return None


def rfc4514(parts: dict[str, Any] | None) -> str:
    """A subject/issuer given as {"CN": ..., "O": ...} → an RFC 4514-style string."""
    if not isinstance(parts, dict):
        return ""
    order = ("CN", "OU", "O", "L", "ST", "C", "emailAddress")
    keys = [k for k in order if k in parts] + [k for k in parts if k not in order]
    out = []
    for k in keys:
        v = parts[k]
        if isinstance(v, list):
            v = v[0] if v else ""
        out.append(f"{k}={v}")
    return ",".join(out)


def dn_to_rfc4514(dn: str) -> str:
    """ZGrab2/Censys ``C=US, O=x, CN=y`` (most significant first) → ``CN=y,O=x,C=US``."""
    parts = [p.strip() for p in re.split(r",\s*(?=[A-Za-z.0-9]+=)", dn) if p.strip()]
    return ",".join(reversed(parts))
