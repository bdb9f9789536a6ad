"""Port-agnostic probing: TLS and HTTP on any open port that speaks them, favicon hashes.

Real servers on this helper's loopback range (127.2.0.0/16): an HTTPS admin UI on 9443 and a
plain web server on 8888 - ports outside the scanner's HTTP/HTTPS lists - must still give a
certificate, a title and a favicon hash, and the TLS one must not be mistaken for a banner.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import threading
from collections.abc import Iterator

import mmh3
import pytest

from routerwatch.lab.profiles import TlsSpec
from routerwatch.lab.tls import server_context
from routerwatch.scan.probes.http import favicon_hashes
from routerwatch.scan.scanner import ScanOptions, scan
from routerwatch.scan.scope import parse_scope

ADDRESS = "127.2.0.7"
FAVICON = bytes(range(256)) * 3
PAGE = b"<html><head><title>Odd Port Router</title></head><body>x</body></html>"


def _answer(path: bytes) -> bytes:
    body, ctype = (FAVICON, b"image/x-icon") if path == b"/favicon.ico" else (PAGE, b"text/html")
    return (
        b"HTTP/1.1 200 OK\r\nServer: oddport\r\nContent-Type: " + ctype
        + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        + body
    )  # fmt: skip


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
        path = head.split(b" ", 2)[1] if b" " in head else b"/"
        writer.write(_answer(path))
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ssl.SSLError):
        pass
    finally:
        writer.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[None]:
    loop = asyncio.new_event_loop()
    ctx = server_context(TlsSpec(subject="x"), "CN=oddport,O=TP-Link Systems Inc.")
    started = threading.Event()

    async def main() -> None:
        await asyncio.start_server(_serve, ADDRESS, 9443, ssl=ctx)
        await asyncio.start_server(_serve, ADDRESS, 8888)
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(main()), loop.run_forever()))
    thread.daemon = True
    thread.start()
    assert started.wait(10)
    yield
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_tls_and_http_on_unexpected_ports(servers: None) -> None:
    options = ScanOptions(
        ports=(9443, 8888), upnp=False, arp_table=None, probe_timeout=2.0, host_timeout=8.0
    )
    (obs,) = scan(parse_scope([ADDRESS]), options)
    assert obs.open_ports == (8888, 9443)
    assert [c.port for c in obs.tls] == [9443]
    assert "O=TP-Link Systems Inc." in obs.tls[0].subject
    by_port = {(h.port, h.scheme): h for h in obs.http if h.path == "/"}
    assert by_port[(9443, "https")].title == "Odd Port Router"
    assert by_port[(8888, "http")].title == "Odd Port Router"
    assert not [b for b in obs.banners if b.port == 9443]  # TLS is no banner
    md5, mm = favicon_hashes(FAVICON)
    icons = {(h.port, h.favicon_md5, h.favicon_mmh3) for h in obs.http if h.favicon_md5}
    assert icons == {(9443, md5, mm), (8888, md5, mm)}


def test_favicon_hashes_are_shodans() -> None:
    md5, mm = favicon_hashes(FAVICON)
    assert md5 == hashlib.md5(FAVICON).hexdigest()
    # Shodan/nuclei: mmh3 of the base64 text with a newline every 76 characters
    text = base64.b64encode(FAVICON).decode()
    wrapped = "".join(text[i : i + 76] + "\n" for i in range(0, len(text), 76))
    assert mm == mmh3.hash(wrapped.encode())
    assert mm != mmh3.hash(text.encode())  # without the newlines it would differ
