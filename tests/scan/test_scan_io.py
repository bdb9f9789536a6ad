"""The scanner's I/O halves against real loopback servers, well-behaved and hostile.

Every address used here is in 127.0.0.0/8 (127.0.200.x-127.0.219.x, one block per test).
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import scanlab
from scanlab import HTTP, HTTPS, SOCKS, SSDP, SSH, TELNET, XLOGIN, Servers

from routerwatch.models import Observation
from routerwatch.scan.guard import Guard, RateLimiter
from routerwatch.scan.probes import http, upnp
from routerwatch.scan.scanner import ScanOptions, scan, scan_async
from routerwatch.scan.scope import OutOfScope, ScopeError, parse_scope

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples"
ICON = bytes(range(256)) * 2


def by_address(observations: list[Observation]) -> dict[str, Observation]:
    return {o.address: o for o in observations}


def errors_of(obs: Observation) -> str:
    return "\n".join(obs.errors)


# --------------------------------------------------------------------------- a hostile LAN


def test_hostile_devices_do_not_stop_the_scan() -> None:
    """Good router, tarpit, endless body + XML bomb, garbage banners, TLS failure + redirect
    out of scope, UPnP-only host, empty address: on time, bounded, errors recorded."""
    net = "127.0.210"
    outside = "127.0.211.1"
    seen: list[Any] = []
    desc_seen: list[Any] = []
    good_routes: dict[str, scanlab.Route] = {
        "GET /": (200, [("Server", "TP-LINK HTTPD/1.0"), ("Set-Cookie", "sid=1; path=/"),
                        ("Content-Type", "text/html")],
                  b"<html><head><title>TL-WR841N</title></head></html>"),
        "GET /favicon.ico": (200, [("Content-Type", "image/x-icon")], ICON),
        "GET /currentsetting.htm": (200, [("Content-Type", "text/html")],
                                    b"Firmware=V1.0.4.84_10.0.58\r\nModel=R7000\r\n"),
        f"POST {http.LUCI_PATH}": (200, [("Content-Type", "application/json")],
                                   b'{"success":true,"data":{"model":"Archer AX21"}}'),
        "GET /rootDesc.xml": (200, [("Content-Type", "text/xml")],
                              (SAMPLES / "upnp/miniupnpc/linksys_WAG200G_desc.xml").read_bytes()),
    }  # fmt: skip

    async def scenario() -> tuple[list[Observation], float, Servers]:
        async with Servers() as s:
            tls_ctx = scanlab.server_tls_context()
            # .1 a well-behaved router
            await s.tcp(f"{net}.1", HTTP, scanlab.http_site(good_routes, seen))
            await s.tcp(f"{net}.1", HTTPS, scanlab.http_site(good_routes, []), tls=tls_ctx)
            await s.tcp(f"{net}.1", SSH, scanlab.banner_then_wait(b"SSH-2.0-dropbear_2019.78\r\n"))
            await s.tcp(f"{net}.1", SOCKS, scanlab.socks5)
            await s.tcp(f"{net}.1", 18000, scanlab.http_site(good_routes, []))  # silent, HTTP
            await s.udp(f"{net}.1", SSDP, scanlab.ssdp_reply(f"http://{net}.1:{HTTP}/rootDesc.xml"))
            # .2 a tarpit on HTTP and SSH
            await s.tcp(f"{net}.2", HTTP, scanlab.tarpit)
            await s.tcp(f"{net}.2", SSH, scanlab.tarpit)
            await s.tcp(f"{net}.2", HTTPS, scanlab.tarpit)
            # .3 an endless body, and an XML bomb behind its SSDP LOCATION
            await s.tcp(f"{net}.3", HTTP, scanlab.endless_body(s.counts))
            bomb = (DATA / "upnp_xml_bomb.xml").read_bytes()
            await s.tcp(
                f"{net}.3", 19080,
                scanlab.http_site({"GET /bomb.xml": (200, [], bomb)}, desc_seen),
            )  # fmt: skip
            await s.udp(f"{net}.3", SSDP, scanlab.ssdp_reply(f"http://{net}.3:19080/bomb.xml"))
            # .4 garbage banners: endless binary, Telnet negotiation, the Quad7 shell
            await s.tcp(f"{net}.4", SSH, scanlab.endless_banner())
            await s.tcp(
                f"{net}.4", TELNET,
                scanlab.banner_then_wait((DATA / "banner_telnet_busybox.bin").read_bytes()),
            )  # fmt: skip
            await s.tcp(f"{net}.4", XLOGIN, scanlab.banner_then_wait(b"\r\nxlogin: "))
            # .5 TLS that fails, a redirect and a LOCATION pointing outside the scope
            await s.tcp(f"{net}.5", HTTPS, scanlab.tls_garbage)
            redirect = {"GET /": (302, [("Location", f"http://{outside}:{HTTP}/login")], b"")}
            await s.tcp(f"{net}.5", HTTP, scanlab.http_site(redirect, []))
            await s.udp(f"{net}.5", SSDP, scanlab.ssdp_reply(f"http://{outside}:{HTTP}/d.xml"))
            # .6 UPnP only (its LOCATION port is closed)
            await s.udp(f"{net}.6", SSDP, scanlab.ssdp_reply(f"http://{net}.6:19999/d.xml"))
            # .7 nothing at all;  the out-of-scope listener counts every contact
            await s.tcp(outside, HTTP, scanlab.counter)
            await s.udp(outside, SSDP)

            scope = parse_scope([f"{net}.1-7"])
            options = scanlab.scan_options(
                ports=(*scanlab.PORTS, 18000), probe_timeout=0.5, host_timeout=3.0
            )
            started = time.monotonic()
            result = await scan_async(scope, options)
            return result, time.monotonic() - started, s

    result, elapsed, servers = asyncio.run(scenario())
    hosts = by_address(result)
    assert elapsed < 3.0 + 1.0, f"the scan took {elapsed:.1f} s, over the host budget"
    assert sorted(hosts) == [f"{net}.{i}" for i in range(1, 7)]  # .7 silent: not reported
    assert [o.address for o in result] == sorted(hosts, key=lambda a: int(a.split(".")[-1]))

    good = hosts[f"{net}.1"]
    assert good.open_ports == (SOCKS, SSH, 18000, HTTP, HTTPS)
    plain = [h for h in good.http if h.port == HTTP]
    assert [(h.method, h.path, h.status) for h in plain] == [
        ("GET", "/", 200),
        ("GET", "/favicon.ico", 200),
        ("GET", "/currentsetting.htm", 200),
        ("POST", http.LUCI_PATH, 200),
    ]
    assert plain[0].title == "TL-WR841N" and plain[0].header("server") == "TP-LINK HTTPD/1.0"
    assert plain[1].favicon_md5 == hashlib.md5(ICON).hexdigest()
    assert http.parse_currentsetting(plain[2].body)["Model"] == "R7000"
    assert http.parse_luci_locale(plain[3].body) == {"model": "Archer AX21"}
    luci = next(r for r in seen if r[0] == "POST")
    assert luci[2]["referer"] == f"http://{net}.1:{HTTP}/"
    assert luci[2]["content-type"] == "application/x-www-form-urlencoded"
    assert luci[3] == b"operation=read"
    assert all(r[2].get("connection") == "close" for r in seen)
    assert {h.scheme for h in good.http if h.port == HTTPS} == {"https"}
    # HTTP fallback on a silent port: the page and its favicon (port-agnostic probing)
    assert [h.path for h in good.http if h.port == 18000] == ["/", "/favicon.ico"]
    assert len(good.tls) == 1 and "OU=RV340" in good.tls[0].subject and good.tls[0].self_signed
    ssh_banner = good.banner(SSH)
    assert ssh_banner is not None and ssh_banner.text == "SSH-2.0-dropbear_2019.78"
    socks_banner = good.banner(SOCKS)
    assert socks_banner is not None
    assert (socks_banner.protocol, socks_banner.raw_hex) == ("socks5", "0500")
    assert good.upnp is not None and good.upnp.model_number == "WAG200G"
    assert good.upnp.server == "ipos/7.0 UPnP/1.0 TL-WR841N/8.0"
    assert good.errors == ()

    tarpit = hosts[f"{net}.2"]
    assert tarpit.open_ports == (SSH, HTTP, HTTPS)
    assert "no answer within 0.5 s" in errors_of(tarpit)
    assert tarpit.http == () and tarpit.banners == ()

    endless = hosts[f"{net}.3"]
    root = next(h for h in endless.http if h.path == "/")
    assert root.truncated and len(root.body) == 65536
    assert root.title is not None and root.title.startswith("endless")
    assert servers.counts["endless"] < 16 * 1024 * 1024, "the scanner kept reading"
    assert endless.upnp is not None and endless.upnp.model_name is None
    assert "unsafe XML refused" in errors_of(endless)
    assert desc_seen and desc_seen[0][1] == "/bomb.xml"

    garbage = hosts[f"{net}.4"]
    endless_banner = garbage.banner(SSH)
    assert endless_banner is not None and len(endless_banner.text) <= 1024
    assert all(ch.isprintable() or ch in "\n\t" for ch in endless_banner.text)
    telnet = garbage.banner(TELNET)
    assert telnet is not None
    assert (telnet.protocol, telnet.text) == ("telnet", "TL-WR841N login:")
    quad7 = garbage.banner(XLOGIN)
    assert quad7 is not None and quad7.text == "xlogin:"

    broken = hosts[f"{net}.5"]
    assert "tls/18443: " in errors_of(broken)
    assert f"redirect to 'http://{outside}:{HTTP}/login' not followed" in errors_of(broken)
    assert f"LOCATION 'http://{outside}:{HTTP}/d.xml' not fetched" in errors_of(broken)
    assert broken.http[0].status == 302

    upnp_only = hosts[f"{net}.6"]
    assert upnp_only.open_ports == ()
    assert upnp_only.upnp is not None and upnp_only.upnp.server is not None
    assert "connection failed" in errors_of(upnp_only)

    assert servers.counts[outside] == 0, "a host outside the scope was contacted"


# --------------------------------------------------------------------------- scope guard


def test_nothing_outside_the_scope_receives_a_packet() -> None:
    """Scope 127.0.200.1 only: its redirects and SSDP LOCATION point at 127.0.201.1, where a
    listener counts every TCP connection and datagram. Then the guard alone is tested by
    asking the probes directly to talk to 127.0.201.1: refused, still zero."""
    inside, outside = "127.0.200.1", "127.0.201.1"

    async def scenario() -> tuple[list[Observation], Servers, list[str], list[str]]:
        async with Servers() as s:
            redirects = {
                "GET /": (302, [("Location", f"http://{outside}:{HTTP}/")], b""),
                "GET /favicon.ico": (301, [("Location", f"//{outside}/favicon.ico")], b""),
            }
            await s.tcp(inside, HTTP, scanlab.http_site(redirects, []))
            await s.udp(inside, SSDP, scanlab.ssdp_reply(f"http://{outside}:{HTTP}/desc.xml"))
            for port in (HTTP, HTTPS, SSH, 19080):
                await s.tcp(outside, port, scanlab.counter)
            await s.udp(outside, SSDP)
            scope = parse_scope([inside])
            result = await scan_async(scope, scanlab.scan_options())
            # below the same-host checks: the guard itself must refuse
            guard = Guard(scope)
            fetcher = http.HttpFetcher(guard, probe_timeout=0.5)
            errors: list[str] = []
            records: list[str] = []
            await http.probe_http(
                fetcher, outside, HTTP, "http", lambda o: records.append(o.path), errors.append
            )
            desc, more = await upnp.describe(
                fetcher, outside, {"location": f"http://{outside}:19080/d.xml"}
            )
            errors += more
            for call in (
                guard.connect(outside, SSH, 0.5),
                guard.open_stream(outside, HTTPS, 0.5),
                guard.udp_exchange(outside, SSDP, b"M-SEARCH", 0.5),
                fetcher.fetch(f"http://{outside}:{HTTP}/"),
            ):
                with pytest.raises(OutOfScope):
                    await call
            assert desc.model_name is None
            return result, s, errors, records

    result, servers, errors, records = asyncio.run(scenario())
    assert servers.counts[outside] == 0, dict(servers.counts)
    assert servers.counts[inside] > 0
    obs = result[0]
    assert "not followed (not this host)" in errors_of(obs)
    assert "not fetched (not this host)" in errors_of(obs)
    assert records == []
    assert errors and all("refused by the scope guard" in e for e in errors)


@pytest.mark.parametrize(
    "target", ["192.168.1.1", "10.0.0.1", "172.16.0.1", "8.8.8.8", "127.0.215.2", "224.0.0.251",
               "255.255.255.255", "router.lan", "::1"],
)  # fmt: skip
def test_guard_refuses_before_any_socket_exists(target: str) -> None:
    """Private, public, out-of-scope loopback, multicast, broadcast, names: refused by the
    guard before a socket is even created (socket.socket is booby-trapped)."""

    async def scenario() -> list[Any]:
        made: list[Any] = []

        def trap(*args: Any, **kwargs: Any) -> Any:
            made.append(args)
            raise AssertionError("a socket was created")

        guard = Guard(parse_scope(["127.0.215.1"]))
        fetcher = http.HttpFetcher(guard, probe_timeout=0.5)
        with patch.object(socket, "socket", trap):
            with pytest.raises(OutOfScope):
                await guard.connect(target, 80, 0.5)
            with pytest.raises(OutOfScope):
                await guard.udp_exchange(target, 1900, b"x", 0.5)
            host = f"[{target}]" if ":" in target else target
            with pytest.raises(OutOfScope):
                await fetcher.fetch(f"http://{host}/")
            with pytest.raises(ScopeError, match="--discover"):
                await upnp.discover(guard)
        assert guard.sent == 0
        return made

    assert asyncio.run(scenario()) == []


def test_public_and_private_targets_refused_before_scanning() -> None:
    for targets, allow_public in (
        (["8.8.8.8"], False),
        (["127.0.215.1", "1.1.1.1"], False),
        (["192.168.1.0/24", "100.64.0.0/24"], False),
        (["239.255.255.250"], True),
    ):
        with pytest.raises(ScopeError):
            parse_scope(targets, allow_public=allow_public)


def test_multicast_discovery_is_never_used_without_the_flag() -> None:
    calls: list[Any] = []

    async def spy(self: Guard, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(args)
        raise AssertionError("multicast discovery attempted")

    async def scenario() -> list[Observation]:
        async with Servers() as s:
            await s.tcp("127.0.216.1", HTTP, scanlab.http_site({}, []))
            return await scan_async(parse_scope(["127.0.216.1"]), scanlab.scan_options())

    with patch.object(Guard, "multicast_ssdp", spy):
        result = asyncio.run(scenario())
    assert calls == []
    assert result[0].open_ports == (HTTP,)
    assert ScanOptions().discover is False


# --------------------------------------------------------------------------- time and rate


def test_host_budget_ends_a_tarpit_and_keeps_what_was_seen() -> None:
    address = "127.0.212.1"

    async def scenario() -> tuple[list[Observation], float]:
        async with Servers() as s:
            for port in scanlab.PORTS:
                await s.tcp(address, port, scanlab.tarpit)
            options = scanlab.scan_options(probe_timeout=5.0, host_timeout=1.0)
            started = time.monotonic()
            result = await scan_async(parse_scope([address]), options)
            return result, time.monotonic() - started

    result, elapsed = asyncio.run(scenario())
    assert elapsed < 2.0
    assert result[0].open_ports == tuple(sorted(scanlab.PORTS))
    assert "host time budget of 1 s used up" in errors_of(result[0])
    assert result[0].elapsed < 1.5


def test_per_host_concurrency_cap() -> None:
    """Five tarpit probes of 0.4 s: one at a time they take ≥ 2 s, eight at a time ~0.4 s."""
    address = "127.0.213.1"

    async def run(cap: int) -> float:
        async with Servers() as s:
            for port in (HTTP, SSH, TELNET, XLOGIN, SOCKS):
                await s.tcp(address, port, scanlab.tarpit)
            options = scanlab.scan_options(
                per_host_concurrency=cap, probe_timeout=0.4, host_timeout=10.0, upnp=False
            )
            started = time.monotonic()
            await scan_async(parse_scope([address]), options)
            return time.monotonic() - started

    serial = asyncio.run(run(1))
    parallel = asyncio.run(run(8))
    assert serial >= 5 * 0.4 - 0.05
    assert parallel < 1.2


def test_host_concurrency_cap() -> None:
    hosts = [f"127.0.219.{i}" for i in (1, 2, 3)]

    async def run(concurrency: int) -> float:
        async with Servers() as s:
            for host in hosts:
                await s.tcp(host, SSH, scanlab.tarpit)
            options = scanlab.scan_options(
                ports=(SSH,), host_concurrency=concurrency, probe_timeout=0.4, upnp=False
            )
            started = time.monotonic()
            result = await scan_async(parse_scope(hosts), options)
            assert [o.address for o in result] == hosts
            return time.monotonic() - started

    assert asyncio.run(run(1)) >= 3 * 0.4 - 0.05
    assert asyncio.run(run(64)) < 1.0


def test_global_rate_limit() -> None:
    async def permits(rate: float, n: int) -> float:
        limiter = RateLimiter(rate, burst=1)
        started = time.monotonic()
        for _ in range(n):
            await limiter.acquire()
        return time.monotonic() - started

    assert asyncio.run(permits(100, 31)) >= 0.29
    assert asyncio.run(permits(100000, 31)) < 0.05

    async def scan_at(rate: float) -> tuple[float, int]:
        scope = parse_scope(["127.0.214.1-2"])  # nothing listens: closed ports, ICMP on UDP
        options = scanlab.scan_options(rate=rate)
        job_guard: list[Guard] = []
        real_init = Guard.__init__

        def spy_init(self: Guard, *args: Any, **kwargs: Any) -> None:
            real_init(self, *args, **kwargs)
            self.limiter = RateLimiter(rate, burst=1)
            job_guard.append(self)

        with patch.object(Guard, "__init__", spy_init):
            started = time.monotonic()
            await scan_async(scope, options)
        return time.monotonic() - started, job_guard[0].sent

    elapsed, sent = asyncio.run(scan_at(20.0))
    assert sent == 2 * (len(scanlab.PORTS) + 1)  # 6 connects + 1 SSDP datagram per host
    assert elapsed >= (sent - 1) / 20.0 - 0.05


# --------------------------------------------------------------------------- SNMP, progress


def test_snmp_sysdescr_only_with_a_community() -> None:
    address = "127.0.217.1"
    communities: list[str] = []

    def agent(data: bytes) -> bytes | None:
        from pyasn1.codec.ber import decoder, encoder
        from pysnmp.proto import api

        module = api.PROTOCOL_MODULES[int(api.decodeMessageVersion(data))]
        request, _ = decoder.decode(data, asn1Spec=module.Message())
        communities.append(str(module.apiMessage.get_community(request)))
        reply = module.apiMessage.get_response(request)
        pdu = module.apiMessage.get_pdu(reply)
        oids = [oid for oid, _ in module.apiPDU.get_varbinds(module.apiMessage.get_pdu(request))]
        text = module.OctetString(b"Router Model: Vigor2960, Version: 1.5.1.4_Beta/1.5.1.4")
        module.apiPDU.set_varbinds(pdu, [(oid, text) for oid in oids])
        return encoder.encode(reply)

    async def scenario(community: str | None) -> list[Observation]:
        async with Servers() as s:
            await s.udp(address, 16161, agent)
            options = scanlab.scan_options(snmp_community=community, snmp_port=16161, upnp=False)
            return await scan_async(parse_scope([address]), options)

    assert asyncio.run(scenario(None)) == []
    assert communities == []  # no community given: not a single SNMP datagram
    result = asyncio.run(scenario("s3cret"))
    assert communities == ["s3cret"]
    assert result[0].snmp_sysdescr == "Router Model: Vigor2960, Version: 1.5.1.4_Beta/1.5.1.4"
    assert result[0].open_ports == ()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start(self, label: str, total: int | None = None) -> None:
        self.calls.append(("start", (label, total)))

    def advance(self, n: int = 1) -> None:
        self.calls.append(("advance", n))

    def finish(self) -> None:
        self.calls.append(("finish", None))


def test_progress_and_sync_wrapper() -> None:
    """scan() runs its own loop; the servers run in a thread with theirs."""
    import threading

    ready = threading.Event()
    stop: list[Any] = []

    def serve() -> None:
        async def main() -> None:
            async with Servers() as s:
                await s.tcp("127.0.218.3", HTTP, scanlab.http_site({}, []))
                done = asyncio.Event()
                stop.append((asyncio.get_running_loop(), done))
                ready.set()
                await done.wait()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    try:
        progress = Recorder()
        scope = parse_scope(["127.0.218.0/29"])
        result = scan(scope, scanlab.scan_options(), progress)
    finally:
        loop, done = stop[0]
        loop.call_soon_threadsafe(done.set)
        thread.join(5)
    assert [o.address for o in result] == ["127.0.218.3"]
    assert progress.calls[0] == ("start", ("scanning", 6))
    assert progress.calls.count(("advance", 1)) == 6
    assert progress.calls[-1] == ("finish", None)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="ports"):
        ScanOptions(ports=(0,))
    with pytest.raises(ValueError, match="rate"):
        ScanOptions(rate=0)
    with pytest.raises(ValueError, match="timeouts"):
        ScanOptions(host_timeout=0)


def test_same_host_redirect_is_followed_once() -> None:
    address = "127.0.216.2"
    seen: list[Any] = []
    routes: dict[str, scanlab.Route] = {
        "GET /": (302, [("Location", "/webpages/login.html")], b""),
        "GET /webpages/login.html": (302, [("Location", "/again")], b"<title>hop</title>"),
        "GET /again": (200, [], b"<title>should not be reached</title>"),
    }

    async def scenario() -> list[Observation]:
        async with Servers() as s:
            await s.tcp(address, HTTP, scanlab.http_site(routes, seen))
            return await scan_async(parse_scope([address]), scanlab.scan_options())

    obs = asyncio.run(scenario())[0]
    assert [(h.path, h.status) for h in obs.http][:2] == [("/", 302), ("/webpages/login.html", 302)]
    assert "/again" not in [path for _method, path, _h, _b in seen]
    assert [path for _method, path, _h, _b in seen].count("/webpages/login.html") == 1


def test_proxy_settings_in_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy would be a destination outside the scope: HTTP_PROXY & co. must not divert."""
    inside, proxy = "127.0.216.3", "127.0.201.2"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, f"http://{proxy}:{HTTP}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    async def scenario() -> tuple[list[Observation], Servers]:
        async with Servers() as s:
            await s.tcp(inside, HTTP, scanlab.http_site({}, []))
            await s.tcp(proxy, HTTP, scanlab.counter)
            return await scan_async(parse_scope([inside]), scanlab.scan_options()), s

    result, servers = asyncio.run(scenario())
    assert result[0].http[0].path == "/"
    assert servers.counts[inside] > 1
    assert servers.counts[proxy] == 0
