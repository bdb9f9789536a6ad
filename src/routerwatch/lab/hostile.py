"""TCP behaviours of the hostile devices: what a scanner must survive.

Each one stays bounded on the lab's side: the tarpit holds one byte at a time, the endless
body is written only as fast as the client reads it (``drain``), junk is a fixed seeded
buffer, and the runner caps every connection's lifetime and the number of connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random

from routerwatch.lab.context import DeviceContext
from routerwatch.lab.profiles import Service
from routerwatch.lab.tcp import HEAD_TIMEOUT, IDLE_TIMEOUT, http_response, read_request

__all__ = ["HOSTILE_HANDLERS", "TLS_ALERT_HANDSHAKE_FAILURE", "junk"]

# TLS record: content type 21 (alert), TLS 1.2, length 2, level fatal (2), handshake_failure (40)
TLS_ALERT_HANDSHAKE_FAILURE = bytes.fromhex("15030300020228")
CHUNK = 16 * 1024
# byte sequences that are invalid UTF-8 however they are cut: lone continuation bytes,
# bytes never valid in UTF-8, a truncated 3-byte sequence, an overlong encoding, NUL
_BAD_UTF8 = (b"\xff\xfe", b"\xc3\x28", b"\x80\x81", b"\xe2\x82", b"\xc0\xaf", b"\x00", b"\xf8")


def junk(seed: int, address: str, port: int, size: int) -> bytes:
    """``size`` bytes of seeded binary junk that is certainly not valid UTF-8."""
    digest = hashlib.sha256(f"{seed}|{address}|{port}".encode()).digest()
    rng = random.Random(digest)
    out = bytearray()
    while len(out) < size:
        out += rng.randbytes(rng.randint(8, 64))
        out += _BAD_UTF8[rng.randrange(len(_BAD_UTF8))]
    return bytes(out[:size])


async def serve_tarpit(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Accept and never answer; read one byte a second so the client's writes back up."""
    while True:
        data = await reader.read(1)
        if not data:
            return
        await asyncio.sleep(1.0)


async def serve_endless_http(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """HTTP 200 with neither Content-Length nor an end: the route's body, then ``greeting``
    (or filler) repeated for as long as the client keeps reading."""
    assert svc.site is not None
    site = ctx.profile.sites[svc.site]
    request = await read_request(reader)
    if request is None:
        return
    method, path, query, _headers, _body = request
    route = site.route(method, path, query, ctx.render_text)
    head = http_response(ctx, site, route, head_only=True)
    writer.write(head)
    if method == "HEAD":
        await writer.drain()
        return
    writer.write(ctx.body(route.body, route.body_file, route.template))
    filler = svc.greeting or b"<!-- routerwatch lab: this body never ends -->\n"
    block = filler * max(1, CHUNK // len(filler))
    while True:
        writer.write(block)
        await writer.drain()  # back-pressure: never more than a socket buffer queued


async def serve_drip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Write the greeting one byte every ``interval`` seconds, then ``reply`` (or "a") the
    same way, forever: a response that is always almost there."""
    tail = svc.reply or b"a"
    for byte in itertools.chain(ctx.render(svc.greeting), itertools.cycle(tail)):
        writer.write(bytes((byte,)))
        await writer.drain()
        await asyncio.sleep(svc.interval)


async def serve_tls_fail(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """Read the ClientHello, answer a fatal handshake_failure alert, close."""
    try:
        data = await asyncio.wait_for(reader.read(16 * 1024), HEAD_TIMEOUT)
    except TimeoutError:
        return
    if data:
        writer.write(svc.greeting or TLS_ALERT_HANDSHAKE_FAILURE)
        await writer.drain()


async def serve_garbage(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ctx: DeviceContext, svc: Service
) -> None:
    """``greeting`` then ``size`` bytes of seeded junk (invalid UTF-8, NULs), then wait for the
    client to leave."""
    writer.write(ctx.render(svc.greeting) + junk(ctx.seed, ctx.address, svc.port, svc.size))
    await writer.drain()
    for _ in range(12):
        try:
            data = await asyncio.wait_for(reader.read(1024), IDLE_TIMEOUT)
        except TimeoutError:
            return
        if not data:
            return


HOSTILE_HANDLERS = {
    "tarpit": serve_tarpit,
    "endless-http": serve_endless_http,
    "drip": serve_drip,
    "tls-fail": serve_tls_fail,
    "garbage": serve_garbage,
}
