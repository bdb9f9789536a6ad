"""SOCKS5 probe (Quad7's proxy on TCP 11288): does the port accept the no-auth greeting?

Sends exactly ``05 01 00`` and reads at most 2 bytes; never a CONNECT, never credentials.
Pure half: :func:`parse_socks_reply`. I/O half: :func:`probe_socks`.
"""

from __future__ import annotations

import asyncio

from routerwatch.models import Banner
from routerwatch.scan.guard import Guard
from routerwatch.scan.probes.banner import decode_banner

GREETING = b"\x05\x01\x00"  # version 5, one method offered: 00 "no authentication"


def parse_socks_reply(data: bytes, port: int) -> Banner | None:
    """The ≤2-byte answer to the greeting → Banner (protocol "socks5" when it speaks SOCKS5;
    raw_hex "0500" means it accepted no-auth). None when the server said nothing."""
    data = data[:2]
    if not data:
        return None
    if data[0] == 0x05:
        return Banner(port=port, protocol="socks5", text="", raw_hex=data.hex())
    return decode_banner(data, port)


async def probe_socks(
    guard: Guard, address: str, port: int, *, connect_timeout: float, timeout: float
) -> Banner | None:
    reader, writer = await guard.open_stream(address, port, connect_timeout)
    data = b""
    try:
        writer.write(GREETING)
        async with asyncio.timeout(timeout):
            await writer.drain()
            while len(data) < 2:
                chunk = await reader.read(2 - len(data))
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        pass
    finally:
        writer.transport.abort()
    return parse_socks_reply(data, port)
