"""The scheduler: every host of a Scope through the probe plan, concurrently and on time.

Per host: TCP connect on the port set (with the UDP probes — unicast SSDP, SNMP when a
community is given — running alongside), then on the open ports HTTP(S) + TLS certificate,
banners, the SOCKS5 greeting; then the MAC from the ARP table. Limits:

* ``host_concurrency`` hosts at once, ``per_host_concurrency`` probes at once per host;
* a global rate limit (connections + datagrams per second) in the Guard;
* ``connect_timeout`` per connect, ``probe_timeout`` per exchange/banner/datagram wait,
  ``host_timeout`` per host (asyncio.timeout: a tarpit cannot stall the scan; what was seen
  until then is kept and the overrun is recorded in Observation.errors);
* bodies ≤ ``max_body`` bytes, banners ≤ 4 KiB, XML through defusedxml.

Every socket is opened by the Guard, which refuses anything outside the scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate, UpnpDescription
from routerwatch.progress import NullProgress, Progress
from routerwatch.scan.guard import Guard
from routerwatch.scan.probes import arp, banner, http, snmp, socks, tcp, tls, upnp
from routerwatch.scan.scope import DEFAULT_PORTS, Scope, ScopeError

__all__ = ["DEFAULT_PORTS", "PROBES", "ProbeSpec", "ScanOptions", "port_probe", "register",
           "scan", "scan_async"]

HTTP_PORTS: tuple[int, ...] = (80, 1900, 5000, 7547, 8080, 49152)
HTTPS_PORTS: tuple[int, ...] = (443, 8443)
#: Admin-UI ports get the whole request plan (/, favicon, currentsetting, LuCI locale); the
#: other web ports (UPnP description servers, TR-069) only ``GET /``.
ADMIN_PORTS: tuple[int, ...] = (80, 443, 8080, 8443)
SOCKS_PORTS: tuple[int, ...] = (11288,)
#: Client-speaks-first services where waiting for a banner only wastes the budget.
SILENT_PORTS: tuple[int, ...] = (53,)
MAX_ERROR = 240


@dataclass(frozen=True)
class ScanOptions:
    """How hard and how long to probe. Defaults suit a home LAN and the loopback lab.

    ``rate`` counts TCP connections and UDP datagrams per second over the whole scan; lower
    it (``--rate 200``) for fragile or slow networks.
    """

    ports: tuple[int, ...] = DEFAULT_PORTS
    rate: float = 2000.0
    host_concurrency: int = 128
    per_host_concurrency: int = 8
    connect_timeout: float = 1.0
    probe_timeout: float = 2.0
    host_timeout: float = 10.0
    max_body: int = 65536
    snmp_community: str | None = None
    discover: bool = False
    # which open ports get which probe (tests move them to unprivileged ports)
    http_ports: tuple[int, ...] = HTTP_PORTS
    https_ports: tuple[int, ...] = HTTPS_PORTS
    admin_ports: tuple[int, ...] = ADMIN_PORTS
    socks_ports: tuple[int, ...] = SOCKS_PORTS
    ssdp_port: int = upnp.SSDP_PORT
    snmp_port: int = 161
    upnp: bool = True
    arp_table: str | None = arp.ARP_TABLE
    banner_idle: float = 0.3

    def __post_init__(self) -> None:
        problems = []
        if not self.ports or any(not 0 < p < 65536 for p in self.ports):
            problems.append("ports must be 1-65535")
        if self.rate <= 0:
            problems.append("rate must be positive")
        if self.host_concurrency < 1 or self.per_host_concurrency < 1:
            problems.append("concurrency must be at least 1")
        if min(self.connect_timeout, self.probe_timeout, self.host_timeout) <= 0:
            problems.append("timeouts must be positive")
        if self.max_body < 1024:
            problems.append("max_body must be at least 1024 bytes")
        if problems:
            raise ValueError("invalid scan options: " + "; ".join(problems))


@dataclass
class _Host:
    """What has been seen of one host so far (kept when the host budget runs out)."""

    address: str
    open_ports: list[int] = field(default_factory=list)
    http: list[HttpObservation] = field(default_factory=list)
    banners: list[Banner] = field(default_factory=list)
    tls: list[TlsCertificate] = field(default_factory=list)
    upnp: UpnpDescription | None = None
    upnp_more: list[UpnpDescription] = field(default_factory=list)
    snmp: str | None = None
    snmp_oid: str | None = None
    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 64:
            self.errors.append(text[:MAX_ERROR])

    def reportable(self) -> bool:
        return bool(self.open_ports) or self.upnp is not None or self.snmp is not None

    def observation(self, mac: str | None, elapsed: float) -> Observation:
        # probes finish in any order: sort so the output is stable
        http_sorted = sorted(
            enumerate(self.http), key=lambda item: (item[1].port, item[1].scheme, item[0])
        )
        return Observation(
            address=self.address,
            open_ports=tuple(sorted(self.open_ports)),
            http=tuple(h for _, h in http_sorted),
            banners=tuple(sorted(self.banners, key=lambda b: b.port)),
            tls=tuple(sorted(self.tls, key=lambda t: t.port)),
            upnp=self.upnp,
            upnp_more=tuple(self.upnp_more),
            snmp_sysdescr=self.snmp,
            snmp_sysobjectid=self.snmp_oid,
            mac=mac,
            mac_vendor=arp.mac_vendor(mac) if mac else None,
            errors=tuple(self.errors),
            elapsed=round(elapsed, 3),
            observed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


class _Scan:
    def __init__(self, scope: Scope, options: ScanOptions) -> None:
        self.scope = scope
        self.options = options
        self.guard = Guard(scope, rate=options.rate, discover=options.discover)
        self.snmp = (
            snmp.SnmpProbe(self.guard, options.snmp_community, port=options.snmp_port)
            if options.snmp_community
            else None
        )
        self.arp = arp.read_arp_table(options.arp_table) if options.arp_table else {}
        self.seeded: dict[str, dict[str, str]] = {}
        self.fetcher = http.HttpFetcher(
            self.guard,
            connect_timeout=options.connect_timeout,
            probe_timeout=options.probe_timeout,
            max_body=options.max_body,
        )

    async def close(self) -> None:
        if self.snmp is not None:
            self.snmp.close()

    # ------------------------------------------------------------------ one host

    async def host(self, address: str) -> Observation | None:
        o = self.options
        state = _Host(address)
        started = time.monotonic()
        try:
            async with asyncio.timeout(o.host_timeout):
                await self._probe_host(state)
        except TimeoutError:
            state.error(f"host time budget of {o.host_timeout:g} s used up; results are partial")
        elapsed = time.monotonic() - started
        if not state.reportable():
            return None
        return state.observation(self.arp.get(address), elapsed)

    async def _probe_host(self, state: _Host) -> None:
        o = self.options
        address = state.address
        limit = asyncio.Semaphore(o.per_host_concurrency)

        async def run(label: str, make: Callable[[], Awaitable[None]]) -> None:
            async with limit:
                try:
                    await make()
                except ScopeError as exc:
                    state.error(f"{label}: refused by the scope guard: {exc}")
                except (OSError, TimeoutError) as exc:
                    state.error(f"{label}: {http.describe_error(exc, o.probe_timeout)}")
                except Exception as exc:  # a hostile device must not end the scan
                    # user terms in the report, never Python's exception text
                    state.error(f"{label}: {http.describe_error(exc, o.probe_timeout)}")

        async with asyncio.TaskGroup() as group:
            for spec in PROBES.values():  # host probes (UDP) run alongside the connect scan
                if spec.kind == "host" and spec.enabled(self):
                    group.create_task(run(spec.label(o, None), _bind(spec, self, state, None)))
            open_ports, errors = await tcp.connect_scan(
                self.guard, address, o.ports, o.connect_timeout, limit
            )
            state.open_ports.extend(open_ports)
            for text in errors:
                state.error(text)
            for port in open_ports:
                chosen = port_probe(o, port)
                if chosen is not None:
                    group.create_task(run(chosen.label(o, port),
                                          _bind(chosen, self, state, port)))

    # ------------------------------------------------------------------ probes

    async def _http(self, state: _Host, port: int, scheme: http.Scheme) -> None:
        plan = http.PLAN if port in self.options.admin_ports else http.PLAN[:1]
        await http.probe_http(
            self.fetcher, state.address, port, scheme, state.http.append, state.error,
            plan=plan,
        )  # fmt: skip

    async def _https(self, state: _Host, port: int) -> None:
        o = self.options
        try:
            cert = await tls.fetch_certificate(self.guard, state.address, port, o.probe_timeout)
        except (OSError, TimeoutError, tls.TlsError) as exc:
            state.error(f"tls/{port}: {http.describe_error(exc, o.probe_timeout)}")
            return  # the HTTPS requests would fail the same way
        state.tls.append(cert)
        await self._http(state, port, "https")

    async def _banner(self, state: _Host, port: int) -> None:
        o = self.options
        raw = await banner.read_banner(
            self.guard,
            state.address,
            port,
            connect_timeout=o.connect_timeout,
            timeout=o.probe_timeout,
            idle=o.banner_idle,
        )
        if raw:
            state.banners.append(banner.decode_banner(raw, port))
            if not raw.startswith(b"HTTP/"):
                return
        elif port in banner.PORT_PROTOCOLS:
            return
        # A silent service (or one that talks HTTP first) on another port: services live on
        # unexpected ports, so try TLS and plain HTTP at once (a tarpit costs one probe
        # timeout, not two); the favicon is asked for only where GET / was answered.
        tls_try = asyncio.create_task(self._tls_anywhere(state, port)) if not raw else None
        plain: list[HttpObservation] = []
        await http.probe_http(
            self.fetcher, state.address, port, "http", plain.append,
            lambda _text: None, plan=http.PLAN[:1],
        )  # fmt: skip
        if tls_try is not None and await tls_try:
            return  # a TLS port: the plain request only saw a handshake failure
        state.http.extend(plain)
        if any(h.status < 500 for h in plain):
            await http.probe_http(
                self.fetcher, state.address, port, "http", state.http.append,
                lambda _text: None, plan=http.PLAN[1:2],
            )  # fmt: skip

    async def _tls_anywhere(self, state: _Host, port: int) -> bool:
        """True when ``port`` completed a TLS handshake (certificate kept, HTTPS GET / and
        favicon done)."""
        o = self.options
        try:
            cert = await tls.fetch_certificate(self.guard, state.address, port, o.probe_timeout)
        except (OSError, TimeoutError, tls.TlsError):
            return False  # not TLS (or not willing): a guess that failed is no error
        state.tls.append(cert)
        await http.probe_http(
            self.fetcher, state.address, port, "https", state.http.append,
            lambda _text: None, plan=http.PLAN[:2],
        )  # fmt: skip
        return True

    async def _socks(self, state: _Host, port: int) -> None:
        o = self.options
        found = await socks.probe_socks(
            self.guard,
            state.address,
            port,
            connect_timeout=o.connect_timeout,
            timeout=o.probe_timeout,
        )
        if found is not None:
            state.banners.append(found)

    async def _upnp(self, state: _Host) -> None:
        o = self.options
        description, errors = await upnp.probe_upnp(
            self.guard,
            self.fetcher,
            state.address,
            timeout=o.probe_timeout,
            port=o.ssdp_port,
            seeded=self.seeded.get(state.address),
        )
        state.upnp = description
        if description is not None:
            more, tr64_errors = await upnp.probe_tr64(
                self.guard, self.fetcher, state.address,
                timeout=o.probe_timeout, port=o.ssdp_port, known=description.location,
            )  # fmt: skip
            errors = errors + tr64_errors
            if more is not None:
                state.upnp_more.append(more)
        for text in errors:
            state.error(text)

    async def _snmp(self, state: _Host) -> None:
        assert self.snmp is not None
        try:
            answer = await self.snmp.system(state.address, self.options.probe_timeout)
            if answer is not None:
                state.snmp, state.snmp_oid = answer.sysdescr, answer.sysobjectid
        except snmp.SnmpError as exc:
            state.error(f"udp/{self.options.snmp_port} snmp: {exc}")


# --------------------------------------------------------------------------- probe registry
#
# One registry for the probe seam: each entry says what a probe is for, which hosts/ports it
# runs on and how it runs. The scheduler, `docs/scanning.md` and the tests all follow it, so a
# new probe is one module under routerwatch.scan.probes plus one ``register`` line here.

ProbeRun = Callable[[_Scan, _Host, int | None], Awaitable[None]]


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of the plan.

    ``kind`` "host": runs once per host, alongside the TCP connect scan, when ``enabled``.
    ``kind`` "port": runs on an open port that ``selects`` accepts; port probes are tried in
    registration order and the first that accepts a port is the one run there (an HTTPS port
    is not also banner-grabbed).
    """

    name: str
    kind: str  # "host" or "port"
    summary: str
    run: ProbeRun
    label: Callable[[ScanOptions, int | None], str]
    selects: Callable[[ScanOptions, int], bool] = lambda _o, _p: False
    enabled: Callable[[_Scan], bool] = lambda _job: True


PROBES: dict[str, ProbeSpec] = {}


def register(spec: ProbeSpec) -> None:
    if spec.name in PROBES:
        raise ValueError(f"probe {spec.name!r} is registered twice")
    if spec.kind not in ("host", "port"):
        raise ValueError(f"probe {spec.name!r}: kind must be 'host' or 'port'")
    PROBES[spec.name] = spec


def port_probe(options: ScanOptions, port: int) -> ProbeSpec | None:
    """The probe that runs on an open ``port`` (None: the port is only reported open)."""
    for spec in PROBES.values():
        if spec.kind == "port" and spec.selects(options, port):
            return spec
    return None


def _bind(spec: ProbeSpec, job: _Scan, state: _Host, port: int | None,
          ) -> Callable[[], Awaitable[None]]:
    return lambda: spec.run(job, state, port)


def _port(port: int | None) -> int:
    assert port is not None, "a port probe runs on a port"
    return port


register(ProbeSpec(
    "ssdp", "host", "unicast SSDP M-SEARCH, then the UPnP device description and TR-064 "
    "tr64desc.xml it announces",
    run=lambda job, state, _p: job._upnp(state),
    label=lambda o, _p: f"udp/{o.ssdp_port} ssdp",
    enabled=lambda job: job.options.upnp,
))
register(ProbeSpec(
    "snmp", "host", "SNMP GET of sysDescr and sysObjectID (only with --snmp-community)",
    run=lambda job, state, _p: job._snmp(state),
    label=lambda o, _p: f"udp/{o.snmp_port} snmp",
    enabled=lambda job: job.snmp is not None,
))
register(ProbeSpec(
    "https", "port", "TLS certificate, then the HTTP request plan over TLS",
    run=lambda job, state, port: job._https(state, _port(port)),
    label=lambda _o, port: f"https/{port}",
    selects=lambda o, port: port in o.https_ports,
))
register(ProbeSpec(
    "http", "port", "the HTTP request plan (admin ports: /, favicon, currentsetting, LuCI "
    "locale; other web ports: GET /)",
    run=lambda job, state, port: job._http(state, _port(port), "http"),
    label=lambda _o, port: f"http/{port}",
    selects=lambda o, port: port in o.http_ports,
))
register(ProbeSpec(
    "socks", "port", "SOCKS5 greeting (proxy implants such as Quad7's 11288)",
    run=lambda job, state, port: job._socks(state, _port(port)),
    label=lambda _o, port: f"socks/{port}",
    selects=lambda o, port: port in o.socks_ports,
))
register(ProbeSpec(
    "banner", "port", "read what the service says first; a silent or HTTP-speaking port also "
    "gets TLS and plain HTTP (services live on unexpected ports)",
    run=lambda job, state, port: job._banner(state, _port(port)),
    label=lambda _o, port: f"banner/{port}",
    selects=lambda _o, port: port not in SILENT_PORTS,
))


def _raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-files limit towards ``wanted``; return the limit in force."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        return int(soft) if soft != resource.RLIM_INFINITY else wanted
    return 1024


async def scan_async(
    scope: Scope,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
    collected: list[Observation] | None = None,
) -> list[Observation]:
    """Scan every host of the scope; one Observation per host that had an open port or
    answered UPnP/SNMP, in address order. ``collected`` (optional) gets each Observation as
    its host finishes, so a caller keeps what finished when the scan is interrupted."""
    options = options or ScanOptions()
    progress = progress or NullProgress()
    total = len(scope)
    progress.start("scanning", total=total)
    # one socket per probe slot, plus headroom for the event loop and the rest of the process
    per_host = options.per_host_concurrency + 2
    fd_limit = _raise_fd_limit(options.host_concurrency * per_host + 256)
    workers = max(1, min(options.host_concurrency, total, (fd_limit - 128) // per_host))
    job = _Scan(scope, options)
    results: list[tuple[int, Observation]] = []
    try:
        if options.discover:
            job.seeded = await upnp.discover(job.guard)
        hosts = enumerate(scope.hosts())

        async def worker() -> None:
            for index, address in hosts:  # shared iterator: each host is taken once
                observation = await job.host(address)
                if observation is not None:
                    results.append((index, observation))
                    if collected is not None:
                        collected.append(observation)
                progress.advance()

        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
    finally:
        await job.close()
        progress.finish()
    return [obs for _, obs in sorted(results, key=lambda item: item[0])]


def scan(
    scope: Scope,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
    collected: list[Observation] | None = None,
) -> list[Observation]:
    """Blocking wrapper of :func:`scan_async` (runs its own event loop; Ctrl-C cancels the
    probes, closes every socket and raises KeyboardInterrupt, ``collected`` holding what
    finished)."""
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(scan_async(scope, options, progress, collected))


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (a dependency on Linux and macOS), else None
    (asyncio's own). A scan is thousands of short connections: uvloop's loop (libuv, in C)
    costs less CPU per connection than asyncio's pure-Python selector loop, and the probes
    only use the standard asyncio API, so both give the same results.
    ``ROUTERWATCH_EVENT_LOOP=asyncio`` forces asyncio's loop."""
    if os.environ.get("ROUTERWATCH_EVENT_LOOP", "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
