"""Issue 19 item 9: a page cannot make itself unreadable by declaring a non-text codec.

Before the fix ``Content-Type: text/html; charset=rot13`` (or idna, punycode, zlib, base64)
was looked up with ``codecs.lookup`` and used: the title became rot13 or the page was lost.
A real HTTP server on 127.1.9.1 serves each page; the real scanner reads it.
"""

from __future__ import annotations

import asyncio

import pytest

from routerwatch.scan.probes.http import decode_body
from routerwatch.scan.scanner import ScanOptions, scan_async
from routerwatch.scan.scope import parse_scope

ADDRESS = "127.1.9.1"
PORT = 18080
TITLE = "TP-LINK Wireless N Router WR841N"
PAGE = f"<html><head><title>{TITLE}</title></head><body>login</body></html>".encode()


async def _serve_and_scan(content_type: str, body: bytes) -> str | None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type.encode() + b"\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, ADDRESS, PORT)
    try:
        options = ScanOptions(ports=(PORT,), http_ports=(PORT,), https_ports=(),
                              admin_ports=(PORT,), upnp=False, arp_table=None,
                              probe_timeout=2.0, host_timeout=6.0)
        found = await scan_async(parse_scope([ADDRESS]), options)
    finally:
        server.close()
        await server.wait_closed()
    titles = [h.title for o in found for h in o.http if h.path == "/"]
    return titles[0] if titles else None


@pytest.mark.parametrize("codec", ["rot13", "rot_13", "idna", "punycode", "zlib", "zlib_codec",
                                   "base64", "hex", "bz2", "uu", "quopri", "unicode_escape",
                                   "raw_unicode_escape", "undefined"])
def test_non_text_codecs_are_ignored(codec: str) -> None:
    assert asyncio.run(_serve_and_scan(f"text/html; charset={codec}", PAGE)) == TITLE
    meta = PAGE.replace(b"<head>", f'<head><meta charset="{codec}">'.encode())
    assert asyncio.run(_serve_and_scan("text/html", meta)) == TITLE


def test_real_charsets_still_decode() -> None:
    russian = "Вход в маршрутизатор"
    page = f"<html><head><title>{russian}</title></head></html>".encode("windows-1251")
    assert asyncio.run(_serve_and_scan("text/html; charset=windows-1251", page)) == russian
    assert decode_body("\u6a5f\u5668".encode("shift_jis"), "text/html; charset=Shift_JIS") == (
        "\u6a5f\u5668")
    # web labels as browsers read them: latin1 means windows-1252
    assert decode_body(b"\x80", "text/html; charset=latin1") == "\u20ac"
