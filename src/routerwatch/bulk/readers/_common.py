"""Pieces every reader needs: HTTP from header maps or raw response text, banners, certificates.

They reuse the scanner's own pure parsers (routerwatch.scan.probes), so a banner or an HTTP
answer read from a dataset becomes exactly what the scanner would have made of it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Literal

from routerwatch.models import Banner, HttpObservation, TlsCertificate
from routerwatch.scan.probes.banner import decode_banner
from routerwatch.scan.probes.http import (
    _BINARY_TYPES,
    MAX_HEADER_VALUE,
    MAX_HEADERS,
    MAX_TITLE,
    RawResponse,
    _TitleParser,
    build_http_observation,
    decode_headers,
    extract_title,
)
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


def split_raw(raw: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """A raw response (status line, headers, maybe a body) → (status, raw header pairs, body
    bytes), or None without a status line."""
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
    return int(m.group(1)), headers, body


def head_from_raw(raw: bytes) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """(status, headers) of a raw response as http_from_raw decodes them (the scanner's
    decode_headers), without building the exchange; None without a status line."""
    parts = split_raw(raw)
    return None if parts is None else (parts[0], decode_headers(parts[1]))


def http_from_raw(
    raw: bytes, port: int, scheme: Literal["http", "https"] = "http", path: str = "/"
) -> HttpObservation | None:
    """A raw response (status line, headers, maybe a body) → HttpObservation, or None."""
    parts = split_raw(raw)
    if parts is None:
        return None
    status, headers, body = parts
    response = RawResponse(status=status, headers=tuple(headers), body=body[:MAX_BODY])
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
    favicon_mmh3: int | None = None,
) -> HttpObservation:
    """An exchange whose headers and body text the dataset already decoded.

    Made as the scanner's build_http_observation makes it (header names lower-cased and values
    stripped and bounded, binary bodies dropped, NULs replaced, the first <title>), without the
    bytes round trip; tests/bulk/test_readers.py checks both agree.
    """
    pairs = tuple(
        (str(k).strip().lower(), str(v).strip()[:MAX_HEADER_VALUE])
        for k, v in list(headers)[:MAX_HEADERS]
    )
    content_type = next((v for k, v in pairs if k == "content-type"), None)
    truncated = len(body) > MAX_BODY
    text = body[:MAX_BODY]
    if content_type and content_type.strip().lower().startswith(_BINARY_TYPES):
        text = ""
    text = text.replace("\x00", "\ufffd")
    return HttpObservation(
        port=port,
        scheme=scheme,
        method=method,
        path=path,
        status=status,
        headers=pairs,
        body=text,
        title=title if title is not None else first_title(text),
        favicon_md5=favicon_md5,
        favicon_mmh3=favicon_mmh3,
        truncated=truncated,
    )


_TITLE_END = re.compile(r"</title", re.I)


@lru_cache(maxsize=4096)
def first_title(html: str) -> str | None:
    """extract_title (the scanner's) of ``html``, computed on the prefix that ends with the
    first ``</title...>`` when that already yields a title (the HTML parser reads the prefix
    exactly as it reads the whole page up to there); the whole page otherwise. Cached: scan data
    repeats the same default pages millions of times."""
    m = _TITLE_END.search(html, 0, 65536)
    if m is not None:
        close = html.find(">", m.end())
        if close >= 0:
            parser = _TitleParser()
            try:
                parser.feed(html[: close + 1])
                parser.close()
            except Exception:
                parser.parts, parser.done = [], False
            if parser.done and parser.parts:
                text = " ".join("".join(parser.parts).split())
                if text:
                    return text[:MAX_TITLE]
    return extract_title(html)


def banner(port: int, text: str | bytes, protocol: str | None = None) -> Banner:
    """A service greeting → Banner, decoded like the scanner's (telnet IAC stripped)."""
    raw = text if isinstance(text, bytes) else to_bytes(text)
    b = decode_banner(raw, port)
    if protocol and b.protocol == "tcp" and protocol in ("ssh", "ftp", "telnet", "socks5"):
        from routerwatch.models import replace

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
