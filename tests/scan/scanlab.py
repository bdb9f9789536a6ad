"""Loopback servers for the scanner's I/O tests: well-behaved and hostile devices.

Every server binds to an address in 127.0.0.0/8 chosen by the test; nothing else is touched.
Used by test_scan_io.py and by netns_child.py (inside a network namespace).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Route = tuple[int, list[tuple[str, str]], bytes]

# unprivileged stand-ins for the router ports (the scan options map them to the probes)
HTTP = 18080
HTTPS = 18443
SSH = 12222
TELNET = 12323
XLOGIN = 17777
SOCKS = 11288
SSDP = 19000
PORTS = (HTTP, HTTPS, SSH, TELNET, XLOGIN, SOCKS)


def scan_options(**overrides: Any) -> Any:
    """ScanOptions with the test port map, short timeouts and no ARP table."""
    from routerwatch.scan.scanner import ScanOptions

    base: dict[str, Any] = {
        "ports": PORTS,
        "http_ports": (HTTP,),
        "https_ports": (HTTPS,),
        "admin_ports": (HTTP, HTTPS),
        "socks_ports": (SOCKS,),
        "ssdp_port": SSDP,
        "arp_table": None,
        "connect_timeout": 0.5,
        "probe_timeout": 0.5,
        "host_timeout": 3.0,
        "rate": 5000.0,
    }
    base.update(overrides)
    return ScanOptions(**base)


class Servers:
    """Starts servers, counts what they see, and shuts everything down."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []
        self.transports: list[asyncio.BaseTransport] = []
        self.writers: set[asyncio.StreamWriter] = set()
        self.counts: Counter[str] = Counter()
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()

    async def __aenter__(self) -> Servers:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        for transport in self.transports:
            transport.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        await asyncio.sleep(0)

    async def tcp(
        self, host: str, port: int, handler: Handler, *, tls: ssl.SSLContext | None = None
    ) -> None:
        name = f"{host}:{port}"

        async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.add(writer)
            self.counts[name] += 1
            self.counts[host] += 1
            self.active[host] += 1
            self.active["*"] += 1
            self.peak[host] = max(self.peak[host], self.active[host])
            self.peak["*"] = max(self.peak["*"], self.active["*"])
            try:
                await handler(reader, writer)
            except (Exception, asyncio.CancelledError):
                pass
            finally:
                self.active[host] -= 1
                self.active["*"] -= 1
                self.writers.discard(writer)
                writer.transport.abort()

        server = await asyncio.start_server(
            wrapped,
            host,
            port,
            ssl=tls,
            reuse_address=True,
            ssl_handshake_timeout=2 if tls else None,
        )
        self.servers.append(server)

    async def udp(
        self, host: str, port: int, answer: Callable[[bytes], bytes | None] | None = None
    ) -> None:
        """A UDP endpoint that counts datagrams and answers with ``answer(data)`` if given."""
        counts = self.counts
        name = f"udp:{host}:{port}"

        class Protocol(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: Any) -> None:
                counts[name] += 1
                counts[host] += 1
                reply = answer(data) if answer else None
                if reply is not None:
                    self.transport.sendto(reply, addr)  # type: ignore[attr-defined]

        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            Protocol, local_addr=(host, port)
        )
        self.transports.append(transport)


# --------------------------------------------------------------------------- handlers


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    body = b""
    if int(headers.get("content-length", "0") or 0):
        body = await reader.readexactly(int(headers["content-length"]))
    return method, path, headers, body


def response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    reason = {200: "OK", 302: "Found", 401: "Unauthorized", 404: "Not Found"}.get(status, "X")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def http_site(
    routes: dict[str, Route], seen: list[tuple[str, str, dict[str, str], bytes]]
) -> Handler:
    """A small web server: routes keyed "METHOD /path"; anything else is a 404."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method, path, headers, body = await read_request(reader)
        seen.append((method, path, headers, body))
        status, extra, payload = routes.get(
            f"{method} {path}", (404, [("Content-Type", "text/html")], b"<title>404</title>")
        )
        writer.write(response(status, extra, payload))
        await writer.drain()

    return handle


async def tarpit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accepts and never answers (reads and discards until the client gives up)."""
    while await reader.read(4096):
        pass


def endless_body(sent: Counter[str]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><title>endless")
        chunk = b"A" * 16384
        while True:
            writer.write(chunk)
            sent["endless"] += len(chunk)
            await writer.drain()

    return handle


def banner_then_wait(data: bytes) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        while await reader.read(4096):
            pass

    return handle


def endless_banner() -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        garbage = bytes(range(256)) * 64
        while True:
            writer.write(garbage)
            await writer.drain()

    return handle


async def tls_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers a TLS ClientHello with a fatal handshake_failure alert."""
    await reader.read(1024)
    writer.write(b"\x15\x03\x01\x00\x02\x02\x28")
    await writer.drain()


async def socks5(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    greeting = await reader.readexactly(3)
    if greeting == b"\x05\x01\x00":
        writer.write(b"\x05\x00")
        await writer.drain()
    while await reader.read(4096):  # a CONNECT would arrive here; the scanner never sends one
        pass


async def counter(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Out-of-scope listener: just being connected to is the failure."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()


def ssdp_reply(
    location: str, server: str = "ipos/7.0 UPnP/1.0 TL-WR841N/8.0"
) -> Callable[[bytes], bytes | None]:
    def answer(data: bytes) -> bytes | None:
        if not data.startswith(b"M-SEARCH * HTTP/1.1"):
            return None
        return (
            "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=100\r\nEXT:\r\n"
            f"LOCATION: {location}\r\nSERVER: {server}\r\nST: upnp:rootdevice\r\n"
            "USN: uuid:test::upnp:rootdevice\r\n\r\n"
        ).encode()

    return answer


def server_tls_context(common_name: str = "Archer C7", org_unit: str = "RV340") -> ssl.SSLContext:
    """A TLS server context with a fresh self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cisco Systems, Inc."),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, org_unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path, key_path)
    return ctx
