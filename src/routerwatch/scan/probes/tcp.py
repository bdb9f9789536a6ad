"""TCP connect probe: which ports of the router port set accept a connection.

I/O half: :func:`connect_scan` (through the Guard). Pure half: :func:`classify_error`, which
turns a connect failure into a port state.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Sequence
from typing import Literal

from routerwatch.scan.guard import Guard

PortState = Literal["open", "closed", "filtered", "error"]

_CLOSED = {errno.ECONNREFUSED, errno.ECONNRESET}
_FILTERED = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.EHOSTDOWN}


def classify_error(exc: BaseException) -> PortState:
    """The port state a failed connect means: closed (RST), filtered (silence/ICMP), error."""
    if isinstance(exc, TimeoutError):
        return "filtered"
    if isinstance(exc, ConnectionRefusedError):
        return "closed"
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _CLOSED:
            return "closed"
        if exc.errno in _FILTERED:
            return "filtered"
    return "error"


async def probe_port(
    guard: Guard, address: str, port: int, timeout: float
) -> tuple[PortState, str]:
    """Connect once and close at once (no byte is sent): (state, error text if any)."""
    try:
        sock = await guard.connect(address, port, timeout)
    except (OSError, TimeoutError) as exc:
        return classify_error(exc), str(exc) or type(exc).__name__
    sock.close()
    return "open", ""


async def connect_scan(
    guard: Guard,
    address: str,
    ports: Sequence[int],
    timeout: float,
    limit: asyncio.Semaphore,
) -> tuple[list[int], list[str]]:
    """Open ports (sorted) and the errors worth telling (not closed or filtered ports)."""

    async def one(port: int) -> tuple[int, PortState, str]:
        async with limit:
            state, detail = await probe_port(guard, address, port, timeout)
            return port, state, detail

    results = await asyncio.gather(*(one(p) for p in dict.fromkeys(ports)))
    open_ports = sorted(p for p, state, _ in results if state == "open")
    errors = [
        f"tcp/{p}: connect failed: {detail}" for p, state, detail in results if state == "error"
    ]
    return open_ports, errors
