"""The one gate every outgoing connection and datagram of a scan passes through.

:class:`Guard` checks the destination against the :class:`~routerwatch.scan.scope.Scope`
(raising :class:`~routerwatch.scan.scope.OutOfScope` before any socket exists), then takes a
token from the global rate limiter, then connects. Probes never create sockets themselves:
TCP (probes, banners, TLS, every HTTP request) goes through :meth:`Guard.connect`,
:meth:`Guard.open_stream` or :meth:`Guard.open_connection`, UDP (SSDP, SNMP) through
:meth:`Guard.udp_conversation`: one connected socket per exchange, replies read only from
the probed address and port. Multicast discovery is the one exception to the scope and is
refused unless the scan runs with ``discover=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

import netaddr

from routerwatch.scan.scope import OutOfScope, Scope, ScopeError

SSDP_MULTICAST = ("239.255.255.250", 1900)
_P = TypeVar("_P", bound=asyncio.BaseProtocol)


class RateLimiter:
    """Global token bucket (GCRA form): at most ``burst + rate * t`` permits in any t seconds."""

    def __init__(self, rate: float, burst: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.burst = max(1, burst if burst is not None else int(rate / 20))
        self._tat = 0.0  # theoretical arrival time of the next permit

    async def acquire(self) -> None:
        now = time.monotonic()
        tat = max(self._tat, now)
        wait = tat - now - (self.burst - 1) * self.interval
        self._tat = tat + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class Guard:
    """Scope check + rate limit + the actual socket calls, for one scan."""

    def __init__(self, scope: Scope, *, rate: float = 2000.0, discover: bool = False) -> None:
        self.scope = scope
        self.limiter = RateLimiter(rate)
        self.discover = discover
        self.sent = 0  # connections attempted + datagrams sent
        self.refused: list[str] = []  # destinations the guard refused
        self._allowed: dict[str, str] = {}  # address text → normalised, for in-scope addresses

    # ------------------------------------------------------------------ checks

    def check(self, address: str) -> str:
        """The normalised address when it is inside the scope; OutOfScope otherwise."""
        known = self._allowed.get(address)
        if known is not None:  # the scope never changes: a yes stays a yes
            return known
        text = str(address).strip("[]")
        try:
            ip = netaddr.IPAddress(text)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            self.refused.append(text)
            raise OutOfScope(
                f"{text!r} is not an IP address (host names are never resolved)"
            ) from None
        if ip not in self.scope:
            self.refused.append(str(ip))
            raise OutOfScope(f"{ip} is outside the scan scope")
        self._allowed[address] = str(ip)
        return str(ip)

    async def permit(self, address: str) -> str:
        """Check the scope, then wait for a rate-limit token. Call before every send."""
        checked = self.check(address)
        await self.limiter.acquire()
        self.sent += 1
        return checked

    # ------------------------------------------------------------------ TCP

    async def connect(self, address: str, port: int, timeout: float) -> socket.socket:
        """A connected non-blocking TCP socket (caller closes it). The wait for a rate-limit
        token does not count against ``timeout``."""
        checked = await self.permit(address)
        return await self._connect_checked(checked, port, timeout)

    async def _connect_checked(self, checked: str, port: int, timeout: float) -> socket.socket:
        family = socket.AF_INET6 if ":" in checked else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            async with asyncio.timeout(timeout):
                await asyncio.get_running_loop().sock_connect(sock, (checked, port))
        except BaseException:
            sock.close()
            raise
        return sock

    async def open_stream(
        self,
        address: str,
        port: int,
        timeout: float,
        *,
        tls: ssl.SSLContext | None = None,
        limit: int = 65536,
        prepaid: bool = False,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect (and TLS handshake when ``tls``), all within ``timeout`` seconds (counted
        from when the rate limiter lets the connection go). ``prepaid``: the caller already
        called :meth:`permit` for this connection (the scope is checked again regardless)."""
        checked = self.check(address) if prepaid else await self.permit(address)
        async with asyncio.timeout(timeout):
            # asyncio creates and owns the socket: on a failed or cancelled handshake it closes
            # it itself, after the transport let go of the descriptor (closing it here could
            # free a descriptor number the event loop still maps to the dying transport).
            # ``checked`` is an IP literal, so no name lookup happens.
            return await asyncio.open_connection(
                checked,
                port,
                ssl=tls,
                server_hostname="" if tls is not None else None,
                ssl_handshake_timeout=timeout if tls is not None else None,
                limit=limit,
            )

    async def open_connection(
        self,
        address: str,
        port: int,
        timeout: float,
        protocol_factory: Callable[[], _P],
        *,
        tls: ssl.SSLContext | None = None,
        prepaid: bool = False,
    ) -> tuple[asyncio.Transport, _P]:
        """Like :meth:`open_stream`, for a caller with its own :class:`asyncio.Protocol`
        (the HTTP probe: no stream reader and writer between it and the socket)."""
        checked = self.check(address) if prepaid else await self.permit(address)
        async with asyncio.timeout(timeout):
            # as in open_stream: asyncio creates, owns and (on failure) closes the socket
            transport, protocol = await asyncio.get_running_loop().create_connection(
                protocol_factory,
                checked,
                port,
                ssl=tls,
                server_hostname="" if tls is not None else None,
                ssl_handshake_timeout=timeout if tls is not None else None,
            )
        return transport, protocol

    # ------------------------------------------------------------------ UDP

    async def udp_exchange(
        self,
        address: str,
        port: int,
        payload: bytes,
        timeout: float,
        *,
        max_bytes: int = 8192,
        want: int = 1,
    ) -> list[bytes]:
        """Send one datagram to address:port and collect up to ``want`` replies from it.

        Returns the replies seen within ``timeout`` (possibly none). An ICMP "port
        unreachable" ends the wait early with ConnectionRefusedError.
        """
        replies, _ = await self.udp_conversation(
            address, port, payload, timeout, max_bytes=max_bytes, want=want
        )
        return replies

    async def udp_conversation(
        self,
        address: str,
        port: int,
        payload: bytes,
        timeout: float,
        *,
        accept: Callable[[bytes], bool] | None = None,
        max_bytes: int = 8192,
        want: int = 1,
        max_ignored: int = 256,
    ) -> tuple[list[bytes], int]:
        """One request datagram on its own connected UDP socket; (accepted replies, ignored).

        The socket is connected to address:port, so the kernel delivers only datagrams from
        there; the source is checked again here. ``accept`` judges each reply: those it
        refuses are counted and dropped, and after ``max_ignored`` of them the wait ends.
        """
        checked = await self.permit(address)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        replies: list[bytes] = []
        ignored = 0
        expected = netaddr.IPAddress(checked)

        def from_peer(addr: Any) -> bool:
            try:
                return bool(
                    netaddr.IPAddress(str(addr[0]).split("%")[0]) == expected
                    and int(addr[1]) == port
                )
            except (netaddr.AddrFormatError, ValueError, TypeError, IndexError):
                return False

        class _Collector(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                nonlocal ignored
                if done.done():
                    return
                data = bytes(data[:max_bytes])
                if not from_peer(addr) or (accept is not None and not accept(data)):
                    ignored += 1
                    if ignored >= max_ignored:
                        done.set_result(None)
                    return
                replies.append(data)
                if len(replies) >= want:
                    done.set_result(None)

            def error_received(self, exc: Exception) -> None:
                if not done.done():
                    done.set_exception(exc)

        family = socket.AF_INET6 if ":" in checked else socket.AF_INET
        transport, _ = await loop.create_datagram_endpoint(
            _Collector, remote_addr=(checked, port), family=family
        )
        try:
            transport.sendto(payload)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await done
        finally:
            transport.close()
            if done.done() and not done.cancelled():
                done.exception()  # mark retrieved
        return replies, ignored

    # ------------------------------------------------------------------ discovery

    async def multicast_ssdp(
        self, payload: bytes, timeout: float, *, max_replies: int = 256
    ) -> list[tuple[str, bytes]]:
        """Send ONE SSDP M-SEARCH to the link-local multicast group (TTL 1) and collect replies.

        Only with ``discover=True`` (the ``--discover`` flag): otherwise ScopeError before any
        socket exists. Replies from outside the scope are dropped here.
        """
        if not self.discover:
            raise ScopeError("multicast discovery is off (pass --discover to allow it)")
        await self.limiter.acquire()
        self.sent += 1
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

        class _Listener(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                queue.put_nowait((str(addr[0]), bytes(data[:8192])))

        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(_Listener, sock=sock)
        out: list[tuple[str, bytes]] = []
        try:
            transport.sendto(payload, SSDP_MULTICAST)
            deadline = loop.time() + timeout
            while len(out) < max_replies:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        source, data = await queue.get()
                except TimeoutError:
                    break
                if source in self.scope:
                    out.append((source, data))
        finally:
            transport.close()
        return out
