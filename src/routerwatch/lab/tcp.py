"""TCP services of well-behaved devices: HTTP(S) sites, banners, telnet, Quad7 prompts, SOCKS5.

Every handler reads with a bounded buffer (the StreamReader limit set by the runner) and a
time limit, answers like the device, and returns; the runner closes the connection and caps
each connection's lifetime.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus

from routerwatch.lab.context import DeviceContext
from routerwatch.lab.profiles import Route, Service, Site

__all__ = ["HANDLERS", "http_response", "parse_request_head"]

HEAD_TIMEOUT = 10.0  # seconds to send a request head
IDLE_TIMEOUT = 30.0  # seconds a line protocol waits for the next line
MAX_BODY = 64 * 1024  # request bodies beyond this get 413
MAX_LINES = 12  # lines a banner/telnet service answers before it hangs up


def _encode_header(text: str) -> bytes:
    """Header text -> bytes. Latin-1 keeps "\\xff" written in a profile as the byte 0xff (the
    garbage device needs invalid UTF-8 in headers); other text goes out as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def parse_request_head(head: bytes) -> tuple[str, str, str, dict[str, str]] | None:
    """``b"GET /a?b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"`` -> ("GET", "/a", "b", {"host": "x"})."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    method, target, _version = parts
    path, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        headers[name.strip().lower()] = value.strip()
    return method.upper(), path, query, headers


def http_response(ctx: DeviceContext, site: Site, route: Route, head_only: bool = False) -> bytes:
    """The bytes one route answers with (status line, headers, body)."""
    code = route.status
    body = ctx.body(route.body, route.body_file, route.template)
    try:
        reason = route.reason or HTTPStatus(code).phrase
    except ValueError:
        reason = "Unknown"
    headers: list[tuple[str, str]] = []
    for name, value in (*site.headers, *route.headers):
        headers.append((name, ctx.render_text(value) if route.template else value))
    if route.auto_headers:
        names = {n.lower() for n, _ in headers}
        if "content-length" not in names:
            headers.append(("Content-Length", str(len(body))))
        if "connection" not in names:
            headers.append(("Connection", "close"))
    out = bytearray(f"{site.version} {code} {reason}\r\n".encode("latin-1"))
    for name, value in headers:
        out += _encode_header(name) + b": " + _encode_header(value) + b"\r\n"
    out += b"\r\n"
    if not head_only:
        out += body
    return bytes(out)


def _own_origin(ctx: DeviceContext, referer: str | None) -> bool:
    if not referer:
        return False
    for scheme in ("http://", "https://"):
        if referer.startswith(scheme + ctx.address):
            rest = referer[len(scheme + ctx.address) :]
            return rest == "" or rest[0] in "/:"
    return False


async def read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, str, dict[str, str], bytes] | None:
    """One request (head + a bounded body), or None when the client sent nothing usable."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        return None
    parsed = parse_request_head(head)
    if parsed is None:
        return None
    method, path, query, headers = parsed
    body = b""
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit() or int(length) > MAX_BODY:
            return method, path, query, headers, b"\x00too-large"
        try:
            body = await asyncio.wait_for(reader.readexactly(int(length)), HEAD_TIMEOUT)
        except (asyncio.IncompleteReadError, TimeoutError):
            return None
    return method, path, query, headers, body


async def serve_http(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Answer one request from the service's site, then close (Connection: close)."""
    assert svc.site is not None
    site = ctx.profile.sites[svc.site]
    request = await read_request(reader)
    if request is None:
        return
    method, path, query, headers, body = request
    route = site.route(method, path, query, ctx.render_text)
    if body == b"\x00too-large":
        writer.write(http_response(ctx, site, Route(status=413, body=b"")))
    elif route.need_referer and not _own_origin(ctx, headers.get("referer")):
        forbidden = Route(status=403, headers=(("Content-Type", "text/html"),), body=b"")
        writer.write(http_response(ctx, site, forbidden, head_only=method == "HEAD"))
    else:
        writer.write(http_response(ctx, site, route, head_only=method == "HEAD"))
    await writer.drain()


async def _read_line(reader: asyncio.StreamReader) -> bytes | None:
    """Next line (or chunk without a newline, as telnet clients send), None at EOF/timeout."""
    try:
        data = await asyncio.wait_for(reader.read(1024), IDLE_TIMEOUT)
    except TimeoutError:
        return None
    return data or None


async def serve_banner(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Greeting first (FTP 220, SSH identification ...), then ``reply`` to each line.

    With no reply (SSH) the service hangs up on the client's first bytes: a scanner only
    reads the identification line and the lab never speaks the binary protocol after it.
    """
    writer.write(ctx.render(svc.greeting))
    await writer.drain()
    for _ in range(MAX_LINES):
        line = await _read_line(reader)
        if line is None or not svc.reply:
            return
        if svc.protocol == "ftp" and line.strip().upper().startswith(b"QUIT"):
            writer.write(b"221 Goodbye.\r\n")
            await writer.drain()
            return
        writer.write(ctx.render(svc.reply))
        await writer.drain()


def _has_text(data: bytes) -> bool:
    """True when telnet input holds a typed line, not only IAC option negotiation."""
    i = 0
    while i < len(data):
        if data[i] == 0xFF and i + 1 < len(data):
            i += 3 if data[i + 1] in (0xFB, 0xFC, 0xFD, 0xFE) else 2
            continue
        if data[i] in (0x0A, 0x0D):
            return True
        i += 1
    return False


async def serve_login(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Telnet-style login: greeting + prompt, password prompt after a name, then ``fail``
    (or hang up) after a password. Never a shell."""
    writer.write(ctx.render(svc.greeting) + ctx.render(svc.prompt))
    await writer.drain()
    asked_password = False
    lines = 0
    while lines < MAX_LINES:
        data = await _read_line(reader)
        if data is None:
            return
        if not _has_text(data):
            continue
        lines += 1
        if not asked_password:
            writer.write(ctx.render(svc.reply))
            asked_password = True
        else:
            if not svc.fail:
                return
            writer.write(ctx.render(svc.fail) + ctx.render(svc.prompt))
            asked_password = False
        await writer.drain()


async def serve_socks5(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Accept exactly the no-auth greeting 05 01 00 with 05 00; close on anything else,
    including the CONNECT that would follow (the lab never relays)."""
    try:
        greeting = await asyncio.wait_for(reader.readexactly(3), IDLE_TIMEOUT)
    except (asyncio.IncompleteReadError, TimeoutError):
        return
    if greeting != b"\x05\x01\x00":
        return
    writer.write(b"\x05\x00")
    await writer.drain()
    await _read_line(reader)  # whatever comes next ends the conversation


async def serve_silent(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Wait for the client to speak first (e.g. MikroTik winbox) and hang up when it does."""
    await _read_line(reader)


HANDLERS = {
    "http": serve_http,
    "https": serve_http,
    "banner": serve_banner,
    "telnet": serve_login,
    "xlogin": serve_login,
    "socks5": serve_socks5,
    "silent": serve_silent,
}
