"""HTTP(S) probe: the admin UI's first page, favicon and the known unauthenticated info pages.

Pure half (fed by recorded responses in the tests): :func:`build_http_observation`,
:func:`decode_body`, :func:`extract_title`, :func:`parse_realm`, :func:`parse_currentsetting`,
:func:`parse_luci_locale`, :func:`redirect_target`.

I/O half: :class:`HttpFetcher` and :func:`probe_http`, which runs the request set of the probe
plan against one port. The fetcher writes each request with h11 (the HTTP/1.1 state machine
httpx and httpcore are built on) over a socket the Guard opened itself: no proxies (from the
environment or anywhere), no automatic redirects (the one allowed redirect is followed by hand,
through the Guard), one connection per request, a bounded body and a time budget per
exchange. It costs a sixth of the CPU of an httpx request, which keeps a 254-host scan within
its timeouts on a small machine.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import hashlib
import json
import re
import ssl
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import h11
import mmh3
import netaddr
import webencodings

from routerwatch import __version__
from routerwatch.models import HttpObservation, www_authenticate_realms
from routerwatch.scan.guard import Guard
from routerwatch.scan.scope import OutOfScope, ScopeError

Scheme = Literal["http", "https"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
LUCI_PATH = "/cgi-bin/luci/;stok=/locale?form=lang"
LUCI_BODY = b"operation=read"
USER_AGENT = f"Mozilla/5.0 (compatible; routerwatch/{__version__}; read-only scan)"
BASE_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "identity",
    "Connection": "close",
}
#: What a failed exchange may raise (anything else is a bug).
FETCH_ERRORS = (OSError, TimeoutError, ScopeError, ssl.SSLError, h11.ProtocolError, ValueError)
MAX_HEADERS = 100
MAX_HEADER_VALUE = 2048
MAX_TITLE = 256
_BINARY_TYPES = ("image/", "audio/", "video/", "application/octet-stream", "font/")


@dataclass(frozen=True)
class RawResponse:
    """One HTTP response as read off the wire, body already bounded."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    truncated: bool = False


# =========================================================================== pure half


def decode_headers(raw: Sequence[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    """(lower-case name, value) pairs, latin-1 decoded, bounded in number and length."""
    out = []
    for name, value in list(raw)[:MAX_HEADERS]:
        key = name.decode("latin-1").strip().lower()
        text = value.decode("latin-1").strip()[:MAX_HEADER_VALUE]
        out.append((key, text))
    return tuple(out)


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def decode_content(body: bytes, encoding: str | None, limit: int) -> tuple[bytes, bool]:
    """Undo gzip/deflate content coding without ever producing more than ``limit`` bytes.

    Returns (bytes, truncated). Unknown codings (br, zstd) and corrupt data come back as is.
    """
    coding = (encoding or "").strip().lower()
    if coding not in ("gzip", "x-gzip", "deflate"):
        return body, False
    for wbits in (31,) if "gzip" in coding else (15, -15):
        try:
            inflater = zlib.decompressobj(wbits)
            data = inflater.decompress(body, limit)
            return data, bool(inflater.unconsumed_tail)
        except zlib.error:
            continue
    return body, False


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _charset(content_type: str | None, body: bytes) -> codecs.CodecInfo:
    """The text encoding a browser would use: the first declared label (header, then meta
    tag) that the WHATWG Encoding Standard knows, else UTF-8. Python codec names that are no
    text encoding of the web (rot13, idna, punycode, zlib, base64, unicode_escape...) are not
    labels there, so a page cannot make itself unreadable by declaring one."""
    candidates = []
    if content_type:
        match = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", content_type, re.I)
        if match:
            candidates.append(match.group(1))
    meta = _META_CHARSET.search(body[:2048])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "replace"))
    for name in candidates:
        encoding = webencodings.lookup(name)
        if encoding is not None and encoding.name != "replacement":
            return encoding.codec_info
    return codecs.lookup("utf-8")


def decode_body(body: bytes, content_type: str | None) -> str:
    """Body text: the declared charset (header or meta tag), else UTF-8; bad bytes replaced."""
    if content_type and content_type.strip().lower().startswith(_BINARY_TYPES):
        return ""
    text, _ = _charset(content_type, body).decode(body, "replace")
    return str(text).replace("\x00", "\ufffd")


class _TitleDone(Exception):
    """Raised by the title parser to stop reading once the title has ended."""


class _TitleParser(HTMLParser):
    def __init__(self, stop_early: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.parts: list[str] = []
        self.done = False
        self.stop_early = stop_early

    def _finish(self) -> None:
        self.inside = False
        self.done = True
        if self.stop_early:
            raise _TitleDone

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "title":
            self.inside = True
        elif self.inside:  # an unclosed <title> ends at the next tag
            self._finish()

    def handle_endtag(self, tag: str) -> None:
        if self.inside:
            self._finish()

    def handle_data(self, data: str) -> None:
        if self.inside and not self.done:
            self.parts.append(data)


_TITLE_RE = re.compile(r"<title[^>]*>(.*?)(?:</title\s*>|<|$)", re.I | re.S)
_TITLE_TAG = re.compile("<title", re.I)  # how a <title> start tag begins (either way)


def extract_title(html: str) -> str | None:
    """The text of the first <title> (entities decoded, whitespace collapsed), else None.

    Tolerates upper-case tags, attributes, a missing </title>, comments and scripts that
    mention "<title>".
    """
    head = html[:65536]
    if _TITLE_TAG.search(head) is None:  # neither the parser nor the regex could find one
        return None
    text: str | None = None
    # Parse only as far as the end of the title: nothing after it can change the title's text.
    # The one exception: HTMLParser raises on some "<![" marked sections, and a page where it
    # raises falls back to the regex below; a page with "<![" anywhere is parsed whole.
    parser = _TitleParser(stop_early="<![" not in head)
    try:
        try:
            parser.feed(head)
            parser.close()
        except _TitleDone:
            pass
        if parser.parts or parser.done:
            text = "".join(parser.parts)
    except Exception:  # HTMLParser can trip over garbage; fall back to a regex
        text = None
    if text is None:
        match = _TITLE_RE.search(head)
        if match is None:
            return None
        from html import unescape

        text = unescape(match.group(1))
    text = " ".join(text.split())
    return text[:MAX_TITLE] or None


def parse_realm(www_authenticate: str | None) -> str | None:
    """The realm of the first challenge in a WWW-Authenticate value (see
    :func:`routerwatch.models.www_authenticate_realms`)."""
    realms = www_authenticate_realms(www_authenticate)
    return realms[0] if realms else None


def parse_currentsetting(text: str) -> dict[str, str]:
    """NETGEAR /currentsetting.htm: ``Key=Value`` lines (CR, LF or CRLF) → dict."""
    out: dict[str, str] = {}
    for line in re.split(r"\r\n|\r|\n", text):
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key):
            out.setdefault(key, value.strip())
    return out


def parse_luci_locale(text: str) -> dict[str, Any] | None:
    """TP-Link LuCI locale answer → its ``data`` object (``model``, ``locale``...), else None."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    data = doc.get("data")
    return data if isinstance(data, dict) else None


def url_for(scheme: str, address: str, port: int, path: str = "/") -> str:
    """``scheme://host[:port]path``; the port is left out when it is the scheme's default, as a
    browser writes it (the LuCI probe's Referer must look like the router's own origin)."""
    host = f"[{address}]" if ":" in address else address
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}{'' if port == default else f':{port}'}{path}"


@dataclass(frozen=True)
class Url:
    """An http(s) URL whose host is an IP address (names are never resolved)."""

    scheme: Scheme
    host: str
    port: int
    target: str  # path + query, as sent on the request line

    def __str__(self) -> str:
        return url_for(self.scheme, self.host, self.port, self.target)


def parse_url(url: str) -> Url:
    """Split an http(s) URL; ValueError for other schemes or bad ports, OutOfScope for host
    names (which are never resolved)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url[:120]!r}")
    host = parts.hostname or ""
    try:
        address = str(netaddr.IPAddress(host))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise OutOfScope(f"not an IP address in {url[:120]!r} (names are never resolved)") from None
    port = parts.port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = target.replace(" ", "%20")
    if any(ch in target for ch in "\r\n\t\x00"):
        raise ValueError(f"unusable path in {url[:120]!r}")
    return Url("https" if scheme == "https" else "http", address, port, target)


def redirect_target(request_url: str, location: str | None, address: str) -> str | None:
    """The absolute URL a redirect points to when it stays on ``address`` (any port), else None."""
    if not location:
        return None
    try:
        url = parse_url(urljoin(request_url, location.strip()))
        if netaddr.IPAddress(url.host) != netaddr.IPAddress(address):
            return None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    return str(url)


def favicon_hashes(data: bytes) -> tuple[str, int]:
    """(MD5 hex, mmh3) of a favicon. The mmh3 is the one Shodan (``http.favicon.hash``) and
    nuclei (``mmh3(base64_py(body))``) use: MurmurHash3 x86 32-bit, signed, of the base64 text
    with a newline every 76 characters and at the end (Python's ``base64.encodebytes``)."""
    return (
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        mmh3.hash(base64.encodebytes(data)),
    )


def build_http_observation(
    port: int,
    scheme: Scheme,
    method: str,
    path: str,
    raw: RawResponse,
    *,
    max_body: int = 65536,
    favicon: bool = False,
) -> HttpObservation:
    """One exchange → HttpObservation: headers, decoded body, title, favicon hash."""
    headers = decode_headers(raw.headers)
    content, inflated_cut = decode_content(raw.body, _header(headers, "content-encoding"), max_body)
    truncated = raw.truncated or inflated_cut or len(content) > max_body
    content = content[:max_body]
    content_type = _header(headers, "content-type")
    favicon_md5 = None
    favicon_mmh3 = None
    body = ""
    title = None
    if favicon:
        if raw.status == 200 and content and not truncated:
            favicon_md5, favicon_mmh3 = favicon_hashes(content)
        if content_type and "html" in content_type.lower():
            body = decode_body(content, content_type)
    else:
        body = decode_body(content, content_type)
        title = extract_title(body)
    return HttpObservation(
        port=port,
        scheme=scheme,
        method=method,
        path=path,
        status=raw.status,
        headers=headers,
        body=body,
        title=title,
        favicon_md5=favicon_md5,
        truncated=truncated,
        favicon_mmh3=favicon_mmh3,
    )


def describe_error(exc: BaseException, budget: float | None = None) -> str:
    """A short, user-facing description of a failed exchange."""
    if isinstance(exc, OutOfScope):
        return f"refused by the scope guard: {exc}"
    if isinstance(exc, ScopeError):
        return f"refused: {exc}"
    if isinstance(exc, TimeoutError):
        return f"no answer within {budget:g} s" if budget else "timed out"
    if isinstance(exc, h11.ProtocolError):
        return f"not valid HTTP ({_short(exc)})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({_short(exc)})"
    if isinstance(exc, ConnectionError | OSError):
        # the system's words ("Connection refused"), not Python's ("[Errno 111] ...")
        return f"connection failed ({(exc.strerror or _short(exc)).lower()})"
    return "the device's answer could not be read (malformed or unexpected reply)"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


# =========================================================================== I/O half


class HttpFetcher:
    """Bounded HTTP/1.1 exchanges on sockets the Guard opens; holds no connection between
    requests (so nothing to close)."""

    def __init__(
        self,
        guard: Guard,
        *,
        connect_timeout: float = 1.0,
        probe_timeout: float = 2.0,
        max_body: int = 65536,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        from routerwatch.scan.probes.tls import insecure_context

        self.guard = guard
        self.connect_timeout = min(connect_timeout, probe_timeout)
        self.probe_timeout = probe_timeout
        self.max_body = max_body
        self.ssl_context = ssl_context or insecure_context()

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        max_body: int | None = None,
    ) -> RawResponse:
        """One request on a new connection. The Guard checks the address and hands out a
        rate-limit token first (queueing for it is not probe time); then connect, TLS,
        request and response share one ``probe_timeout`` budget, so a server dripping an
        endless body cannot hold the probe. The body is cut at ``max_body`` bytes."""
        parsed = parse_url(url)
        limit = self.max_body if max_body is None else max_body
        await self.guard.permit(parsed.host)
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=16384)
        request = _request_bytes(conn, parsed, method, headers, content)
        async with asyncio.timeout(self.probe_timeout):
            transport, reader = await self.guard.open_connection(
                parsed.host,
                parsed.port,
                self.connect_timeout,
                lambda: _ResponseReader(conn, limit),
                tls=self.ssl_context if parsed.scheme == "https" else None,
                prepaid=True,
            )
            try:
                transport.write(request)
                return await reader.result
            finally:
                transport.abort()


def _request_bytes(
    conn: h11.Connection,
    url: Url,
    method: str,
    extra: dict[str, str] | None,
    content: bytes | None,
) -> bytes:
    default_port = 443 if url.scheme == "https" else 80
    host = f"[{url.host}]" if ":" in url.host else url.host
    if url.port != default_port:
        host = f"{host}:{url.port}"
    headers = {"Host": host, **BASE_HEADERS, **(extra or {})}
    if content is not None:
        headers["Content-Length"] = str(len(content))
    data = conn.send(h11.Request(method=method, target=url.target, headers=list(headers.items())))
    if content:
        data += conn.send(h11.Data(data=content))
    data += conn.send(h11.EndOfMessage())
    return data or b""


class _ResponseReader(asyncio.Protocol):
    """Reads one response with h11 as the bytes arrive (no stream reader in between: a
    scan makes thousands of these exchanges). ``result`` gets the RawResponse, or the error:
    h11's ProtocolError for what is not HTTP, the socket's OSError, ``no response``."""

    def __init__(self, conn: h11.Connection, limit: int) -> None:
        self.conn = conn
        self.limit = limit
        self.result: asyncio.Future[RawResponse] = asyncio.get_running_loop().create_future()
        self.status = 0
        self.headers: tuple[tuple[bytes, bytes], ...] = ()
        self.body = bytearray()

    def data_received(self, data: bytes) -> None:
        self._feed(data)

    def eof_received(self) -> bool:
        self._feed(b"")
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if self.result.done():
            return
        if exc is not None:
            self.result.set_exception(exc)
        else:
            self._feed(b"")
        if not self.result.done():  # h11 still waits for data that cannot come
            self.result.set_exception(h11.RemoteProtocolError("connection closed"))

    def _feed(self, data: bytes) -> None:
        if self.result.done():
            return
        conn = self.conn
        try:
            conn.receive_data(data)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.Response):
                    self.status = event.status_code
                    self.headers = tuple(
                        (bytes(k), bytes(v)) for k, v in event.headers.raw_items()
                    )
                elif isinstance(event, h11.Data):
                    self.body += event.data
                    if len(self.body) > self.limit:
                        del self.body[self.limit:]
                        self._finish(truncated=True)
                        return
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    self._finish(truncated=False)
                    return
                # h11.InformationalResponse (1xx): keep reading
        except Exception as exc:  # h11.ProtocolError mostly: the caller describes it
            self.result.set_exception(exc)

    def _finish(self, truncated: bool) -> None:
        if not self.status:
            self.result.set_exception(h11.RemoteProtocolError("no response"))
            return
        self.result.set_result(RawResponse(
            status=self.status, headers=self.headers, body=bytes(self.body), truncated=truncated
        ))


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    favicon: bool = False
    luci: bool = False


PLAN = (
    _Request("GET", "/"),
    _Request("GET", "/favicon.ico", favicon=True),
    _Request("GET", "/currentsetting.htm"),
    _Request("POST", LUCI_PATH, luci=True),
)


async def probe_http(
    fetcher: HttpFetcher,
    address: str,
    port: int,
    scheme: Scheme,
    record: Callable[[HttpObservation], None],
    error: Callable[[str], None],
    *,
    plan: Sequence[_Request] = PLAN,
) -> None:
    """Run the request plan against one port, reporting each exchange as it completes.

    ``GET /`` may follow one redirect, and only to the same address. After a timeout or a
    failed connection the rest of the plan is skipped (a tarpit costs one budget, not four).
    """
    label = f"{scheme}/{port}"
    for step in plan:
        url = url_for(scheme, address, port, step.path)
        headers: dict[str, str] = {}
        content = None
        if step.luci:
            origin = url_for(scheme, address, port, "/")
            headers = {
                "Referer": origin,
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Requested-With": "XMLHttpRequest",
            }
            content = LUCI_BODY
        try:
            raw = await fetcher.fetch(url, method=step.method, headers=headers, content=content)
        except FETCH_ERRORS as exc:
            reason = describe_error(exc, fetcher.probe_timeout)
            error(f"{label} {step.method} {step.path}: {reason}")
            if isinstance(exc, TimeoutError | ConnectionError | ssl.SSLError):
                return
            continue
        if raw.status < 500:
            record(
                build_http_observation(
                    port, scheme, step.method, step.path, raw,
                    max_body=fetcher.max_body, favicon=step.favicon,
                )
            )  # fmt: skip
        if step.path == "/" and raw.status in REDIRECTS:
            await _follow(fetcher, address, port, scheme, url, raw, record, error)


async def _follow(
    fetcher: HttpFetcher,
    address: str,
    port: int,
    scheme: Scheme,
    url: str,
    raw: RawResponse,
    record: Callable[[HttpObservation], None],
    error: Callable[[str], None],
) -> None:
    location = _header(decode_headers(raw.headers), "location")
    target = redirect_target(url, location, address)
    label = f"{scheme}/{port}"
    if target is None:
        shown = (location or "")[:120]
        error(f"{label} GET /: redirect to {shown!r} not followed (not this host)")
        return
    parsed = parse_url(target)
    try:
        followed = await fetcher.fetch(target)
    except FETCH_ERRORS as exc:
        error(f"{label} GET / → {target}: {describe_error(exc, fetcher.probe_timeout)}")
        return
    if followed.status < 500:
        record(
            build_http_observation(
                parsed.port,
                parsed.scheme,
                "GET",
                parsed.target,
                followed,
                max_body=fetcher.max_body,
            )
        )
