"""Run emulated devices on loopback addresses: one asyncio loop in a background thread.

    with Lab(base="127.0.110.0") as lab:          # 127.0.110.1, .2, ... one per profile
        for d in lab.devices():
            print(d.address, d.profile_id, d.identity, d.ports)

Every device gets its own 127.x.y.z address (Linux routes all of 127.0.0.0/8 to ``lo``, so
binding needs no setup; ports below 1024 need root). Only 127.0.0.0/8 is ever bound.

Bounds: connections per device and in total are capped (extra ones are closed at once),
every connection has a lifetime limit, request heads are read with a fixed buffer, and the
hostile services write only as fast as the client reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import resource
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any

from routerwatch.lab.context import DeviceContext
from routerwatch.lab.hostile import HOSTILE_HANDLERS
from routerwatch.lab.profiles import DeviceProfile, Service, load_profiles
from routerwatch.lab.tcp import HANDLERS
from routerwatch.lab.tls import server_context
from routerwatch.lab.udp import SilentProtocol, SnmpProtocol, SnmpSpoofProtocol, SsdpProtocol
from routerwatch.models import DeviceIdentity

__all__ = ["Lab", "LabBindError", "LabDevice", "lab_addresses"]

log = logging.getLogger("routerwatch.lab")

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
MAX_CONNECTIONS_PER_DEVICE = 64
MAX_CONNECTIONS_TOTAL = 4096
LIFETIME = 120.0  # seconds a well-behaved service keeps a connection at most
HOSTILE_LIFETIME = 600.0  # tarpit, drip, endless body: ten minutes, then the lab hangs up
READ_LIMIT = 16 * 1024  # StreamReader buffer: request heads and lines beyond this are refused
START_TIMEOUT = 60.0

Handler = Callable[
    [asyncio.StreamReader, asyncio.StreamWriter, DeviceContext, Service], Awaitable[None]
]


class LabBindError(OSError):
    """A lab socket could not be bound (the message names address:port and why)."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


@dataclass(frozen=True)
class LabDevice:
    """One emulated host as the lab runs it."""

    address: str
    profile_id: str
    identity: DeviceIdentity | None  # the true identity; None for hostile devices and decoys
    hostile: str | None
    ports: tuple[int, ...]  # TCP
    udp_ports: tuple[int, ...] = ()
    decoy: bool = False
    reveals: tuple[str, ...] = ()  # identity fields a credential-less scan can learn
    reveals_with_snmp: tuple[str, ...] = ()  # more with the SNMP community below
    snmp_community: str | None = None
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        ident = None
        if self.identity is not None:
            ident = {
                "vendor": self.identity.vendor,
                "model": self.identity.model,
                "hardware": self.identity.hardware,
                "firmware": self.identity.firmware,
            }
        return {
            "address": self.address,
            "profile": self.profile_id,
            "identity": ident,
            "hostile": self.hostile,
            "decoy": self.decoy,
            "ports": list(self.ports),
            "udp_ports": list(self.udp_ports),
            "reveals": list(self.reveals),
            "reveals_with_snmp": list(self.reveals_with_snmp),
            "snmp_community": self.snmp_community,
            "summary": self.summary,
        }


def lab_addresses(base: str, count: int) -> list[str]:
    """``count`` addresses after ``base`` (base+1, base+2, ...), skipping x.y.z.0 and x.y.z.255.

    Raises ValueError when ``base`` is not an IPv4 address in 127.0.0.0/8 or the addresses
    would leave it."""
    try:
        start = ipaddress.IPv4Address(base)
    except ValueError as exc:
        raise ValueError(f"base {base!r} is not an IPv4 address") from exc
    if start not in LOOPBACK:
        raise ValueError(
            f"base {base} is outside 127.0.0.0/8: the lab only ever runs on loopback addresses"
        )
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    out: list[str] = []
    value = int(start)
    while len(out) < count:
        value += 1
        addr = ipaddress.IPv4Address(value) if value < 2**32 else None
        if addr is None or addr not in LOOPBACK:
            raise ValueError(f"{count} addresses from base {base} would leave 127.0.0.0/8")
        if value & 0xFF in (0, 255):
            continue
        out.append(str(addr))
    return out


def _raise_fd_limit(needed: int) -> None:
    """Lift the soft open-files limit towards the hard one when the lab needs more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or needed <= soft:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and needed > soft:
        raise LabBindError(
            errno.EMFILE,
            f"the lab needs about {needed} open files but the limit is {soft} "
            "(raise `ulimit -n` or use a smaller --count)",
        )


class _Device:
    """Runtime state of one host inside the loop."""

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx = ctx
        self.active = 0


class Lab:
    """Emulated routers (and hostile hosts) on consecutive loopback addresses.

    ``count=None``: one host per profile. ``count=N``: N hosts cycling through the profiles
    (the 254-host benchmark uses ``Lab(base="127.0.20.0", count=254)``). ``seed`` makes the
    per-host values (MAC, serial, UUID, junk bytes) reproducible. ``profiles`` replaces the
    shipped set (a test can serve one device, or the same device before and after a change).
    """

    def __init__(
        self,
        base: str = "127.0.10.0",
        count: int | None = None,
        include_hostile: bool = True,
        seed: int = 0,
        profiles: Sequence[DeviceProfile] | None = None,
    ) -> None:
        self.base = base
        self.seed = seed
        self.include_hostile = include_hostile
        # ``profiles``: another profile set (the credentialed lab, routerwatch.lab.credlab)
        self.profiles: list[DeviceProfile] = (
            list(profiles) if profiles is not None else load_profiles(include_hostile)
        )
        if not self.profiles:
            raise ValueError("no device profiles found")
        n = len(self.profiles) if count is None else count
        self.addresses = lab_addresses(base, n)
        self._hosts = [
            DeviceContext(addr, self.profiles[i % len(self.profiles)], seed)
            for i, addr in enumerate(self.addresses)
        ]
        self.max_per_device = MAX_CONNECTIONS_PER_DEVICE
        self.max_total = MAX_CONNECTIONS_TOTAL
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.Server] = []
        self._transports: list[asyncio.BaseTransport] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._active_total = 0
        self._started = False
        self.startup_seconds: float | None = None

    # ------------------------------------------------------------------ public API

    def devices(self) -> list[LabDevice]:
        out = []
        for host in self._hosts:
            p = host.profile
            out.append(
                LabDevice(
                    address=host.address,
                    profile_id=p.id,
                    identity=p.identity,
                    hostile=p.hostile,
                    ports=p.tcp_ports,
                    udp_ports=p.udp_ports,
                    decoy=p.decoy,
                    reveals=p.reveals,
                    reveals_with_snmp=p.reveals_with_snmp,
                    snmp_community=p.snmp.community if p.snmp else None,
                    summary=p.summary,
                )
            )
        return out

    def status_json(self) -> dict[str, Any]:
        return {"devices": [d.to_dict() for d in self.devices()]}

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> None:
        """Bind every socket in a background event loop; return once all of them listen.

        Raises LabBindError (an OSError) naming the address:port that could not be bound;
        nothing stays bound in that case."""
        if self._started:
            raise RuntimeError("this lab is already running")
        listeners = sum(len(h.profile.tcp_ports) + len(h.profile.udp_ports) for h in self._hosts)
        _raise_fd_limit(listeners + min(self.max_total, 1024) + 256)
        began = time.monotonic()
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._exception_handler)
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._bind_all())
            except BaseException as exc:
                failure.append(exc)
                loop.run_until_complete(self._close_all())
                loop.close()
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._close_all())
                loop.close()

        self._thread = threading.Thread(
            target=run, name=f"routerwatch-lab-{self.base}", daemon=True
        )
        self._thread.start()
        if not ready.wait(START_TIMEOUT):
            self._stop_loop()
            raise TimeoutError(f"the lab did not start within {START_TIMEOUT:.0f} s")
        if failure:
            self._thread.join(timeout=10)
            self._loop = None
            self._thread = None
            raise failure[0]
        self._started = True
        self.startup_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Close every socket and connection and end the loop thread (idempotent)."""
        if not self._started:
            return
        self._stop_loop()
        self._started = False

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ loop side

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=30)
        self._loop = None
        self._thread = None

    @staticmethod
    def _exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # failed TLS handshakes, resets by scanners: expected in a lab, not worth a traceback
        log.debug("lab loop: %s", context.get("message"), exc_info=context.get("exception"))

    async def _bind_all(self) -> None:
        loop = asyncio.get_running_loop()
        for host in self._hosts:
            device = _Device(host)
            p = host.profile
            for svc in p.services:
                await self._bind_tcp(device, svc)
            if p.ssdp is not None:
                await self._bind_udp(host.address, 1900, partial(SsdpProtocol, host), loop)
            if p.snmp is not None:
                agent = SnmpSpoofProtocol if p.snmp.spoof else SnmpProtocol
                await self._bind_udp(host.address, 161, partial(agent, host), loop)
            for port in p.udp_silent:
                await self._bind_udp(host.address, port, SilentProtocol, loop)

    async def _bind_tcp(self, device: _Device, svc: Service) -> None:
        ctx = device.ctx
        ssl_ctx: ssl.SSLContext | None = None
        if svc.kind == "https":
            tls = ctx.profile.tls
            assert tls is not None
            subject = ctx.render_text(tls.subject)
            issuer = ctx.render_text(tls.issuer) if tls.issuer else None
            ssl_ctx = server_context(tls, subject, issuer)
        handler: Handler = HANDLERS.get(svc.kind) or HOSTILE_HANDLERS[svc.kind]
        lifetime = HOSTILE_LIFETIME if svc.kind in HOSTILE_HANDLERS else LIFETIME

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if device.active >= self.max_per_device or self._active_total >= self.max_total:
                writer.transport.abort()
                return
            device.active += 1
            self._active_total += 1
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            self._writers.add(writer)
            try:
                async with asyncio.timeout(lifetime):
                    await handler(reader, writer, ctx, svc)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                pass
            except asyncio.CancelledError:
                writer.transport.abort()
                raise
            finally:
                device.active -= 1
                self._active_total -= 1
                if task is not None:
                    self._tasks.discard(task)
                self._writers.discard(writer)
                with contextlib.suppress(Exception):
                    writer.close()

        try:
            server = await asyncio.start_server(
                on_connect,
                host=ctx.address,
                port=svc.port,
                ssl=ssl_ctx,
                ssl_handshake_timeout=10.0 if ssl_ctx else None,
                limit=READ_LIMIT,
                backlog=128,
                reuse_address=True,
            )
        except OSError as exc:
            raise self._bind_error(ctx, svc.port, "tcp", exc) from exc
        self._servers.append(server)

    async def _bind_udp(
        self,
        address: str,
        port: int,
        factory: Callable[[], asyncio.DatagramProtocol],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        try:
            transport, _ = await loop.create_datagram_endpoint(factory, local_addr=(address, port))
        except OSError as exc:
            host = next(h for h in self._hosts if h.address == address)
            raise self._bind_error(host, port, "udp", exc) from exc
        self._transports.append(transport)

    def _bind_error(self, ctx: DeviceContext, port: int, proto: str, exc: OSError) -> LabBindError:
        where = f"{ctx.address}:{port}/{proto} ({ctx.profile.id})"
        if exc.errno == errno.EADDRINUSE:
            why = "address already in use: another lab or program listens there; use another --base"
        elif exc.errno == errno.EACCES:
            why = "permission denied: ports below 1024 need root (or CAP_NET_BIND_SERVICE)"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = "address not available: is 127.0.0.0/8 routed to the loopback interface?"
        elif exc.errno == errno.EMFILE:
            why = "too many open files: raise `ulimit -n` or use a smaller --count"
        else:
            why = exc.strerror or str(exc)
        return LabBindError(exc.errno or 0, f"cannot bind {where}: {why}")

    async def _close_all(self) -> None:
        for server in self._servers:
            server.close()
        for transport in self._transports:
            transport.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)
        self._servers.clear()
        self._transports.clear()
        self._writers.clear()
        self._tasks.clear()
