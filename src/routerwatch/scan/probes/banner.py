"""Banner probe: what a service says first (SSH, FTP, Telnet, botnet shells, anything).

Pure half: :func:`decode_banner` (bytes → Banner: protocol guess, Telnet negotiation removed,
invalid UTF-8 and control bytes escaped, bounded). I/O half: :func:`read_banner`, which only
connects and listens — it never sends a byte.
"""

from __future__ import annotations

import asyncio
import re

from routerwatch.models import Banner
from routerwatch.scan.guard import Guard
from routerwatch.telnet import IAC, strip_telnet

__all__ = ["decode_banner", "guess_protocol", "printable", "read_banner", "strip_telnet"]

MAX_BANNER = 4096
MAX_TEXT = 1024
RAW_HEX_BYTES = 64
PORT_PROTOCOLS = {21: "ftp", 22: "ssh", 23: "telnet"}

_FTP = re.compile(rb"^(?:220|120|421)[ -]")
_SAFE = re.compile(r"[\x20-\x7e\n\t]*")


def _escape(ch: str) -> str:
    if ch in "\n\t" or ch.isprintable():
        return ch
    code = ord(ch)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def printable(text: str) -> str:
    """Line ends normalised to \\n; every other non-printable character shown as an escape."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _SAFE.fullmatch(text):
        return text
    return "".join(_escape(ch) for ch in text)


def guess_protocol(data: bytes, port: int, telnet: bool = False) -> str:
    """ssh / ftp / telnet by what the service said, else by port, else "tcp"."""
    if data.startswith(b"SSH-"):
        return "ssh"
    if _FTP.match(data):
        return "ftp"
    if telnet:
        return "telnet"
    return PORT_PROTOCOLS.get(port, "tcp")


def decode_banner(raw: bytes, port: int, *, max_text: int = MAX_TEXT) -> Banner:
    """Bytes a service sent first → Banner. Never raises; garbage comes out escaped."""
    raw = raw[:MAX_BANNER]
    if raw[:1] == bytes((IAC,)) or port == 23:  # Telnet servers open with IAC negotiation
        clean, telnet = strip_telnet(raw)
    else:
        clean, telnet = raw, False
    protocol = guess_protocol(clean.lstrip(b"\r\n"), port, telnet)
    text = printable(clean.decode("utf-8", errors="backslashreplace")).strip()
    return Banner(
        port=port, protocol=protocol, text=text[:max_text], raw_hex=raw[:RAW_HEX_BYTES].hex()
    )


async def read_banner(
    guard: Guard,
    address: str,
    port: int,
    *,
    connect_timeout: float,
    timeout: float,
    max_bytes: int = MAX_BANNER,
    idle: float = 0.3,
) -> bytes:
    """Connect and read what the server sends within ``timeout`` s: at most ``max_bytes``,
    ending early ``idle`` s after the last bytes or at EOF. Sends nothing."""
    reader, writer = await guard.open_stream(address, port, connect_timeout)
    loop = asyncio.get_running_loop()
    data = bytearray()
    try:
        deadline = loop.time() + timeout
        while len(data) < max_bytes:
            wait = deadline - loop.time()
            if data:
                wait = min(wait, idle)
            if wait <= 0:
                break
            try:
                async with asyncio.timeout(wait):
                    chunk = await reader.read(max_bytes - len(data))
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        writer.transport.abort()
    return bytes(data[:max_bytes])
