"""Benchmark of the fingerprint engine: rule loading and identify() per observation.

Run: .venv/bin/python bench/bench_fingerprint.py
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable

from routerwatch.fingerprint import Fingerprinter, load_rules, shipped_recog
from routerwatch.fingerprint.engine import _shipped
from routerwatch.models import (
    Banner,
    HttpObservation,
    Observation,
    TlsCertificate,
    UpnpDescription,
)


def _http(
    path: str = "/",
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
    body: str = "",
    title: str | None = None,
    method: str = "GET",
) -> HttpObservation:
    return HttpObservation(80, "http", method, path, status, tuple(headers), body, title)


TYPICAL = Observation(
    address="127.0.0.11",
    open_ports=(22, 23, 80, 1900),
    http=(
        _http(
            status=401,
            title="401 Unauthorized",
            body="<html><title>401 Unauthorized</title></html>",
            headers=(
                ("server", "Router Webserver"),
                ("www-authenticate", 'Basic realm="TP-LINK Wireless N Router WR841N"'),
            ),
        ),
        _http("/favicon.ico", 404, (("server", "Router Webserver"),)),
        _http("/currentsetting.htm", 404, (("server", "Router Webserver"),)),
        _http(
            "/cgi-bin/luci/;stok=/locale?form=lang",
            404,
            (("server", "Router Webserver"),),
            method="POST",
        ),
    ),
    banners=(Banner(22, "ssh", "SSH-2.0-dropbear_2019.78"), Banner(23, "telnet", "login: ")),
    upnp=UpnpDescription(
        server="ipos/7.0 UPnP/1.0 TL-WR841N/8.0",
        manufacturer="TP-LINK",
        model_name="TL-WR841N",
        model_number="8.0",
    ),
)
FULL = Observation(
    address="127.0.0.21",
    open_ports=(21, 22, 23, 80, 443, 1900),
    http=(
        _http(
            status=401,
            headers=(
                ("www-authenticate", 'Basic realm="NETGEAR R7000"'),
                ("server", "httpd"),
                ("set-cookie", "sid=1; path=/"),
            ),
        ),
        _http(
            "/currentsetting.htm",
            body="Firmware=V1.0.9.88_10.2.88\nRegionTag=R7000_NA\nModel=R7000\n",
        ),
        _http("/favicon.ico", body="", headers=(("server", "httpd"),)),
        _http("/", body="<html><head><title>NETGEAR Router R7000</title></head>" + "x" * 60000),
    ),
    banners=(
        Banner(21, "ftp", "220 ProFTPD 1.3.3g Server (NETGEAR ReadyNAS) [127.0.0.21]"),
        Banner(22, "ssh", "SSH-2.0-OpenSSH_7.4"),
        Banner(23, "telnet", "\r\nlogin: "),
    ),
    tls=(TlsCertificate(443, "CN=routerlogin.net,O=NETGEAR,C=US", "CN=routerlogin.net"),),
    upnp=UpnpDescription(
        server="Linux/3.4 UPnP/1.0 miniupnpd/1.9",
        manufacturer="NETGEAR, Inc.",
        model_name="R7000",
        model_number="R7000",
        friendly_name="R7000 (Gateway)",
    ),
    snmp_sysdescr="Linux R7000 2.6.36.4brcmarm #1 SMP PREEMPT",
    mac_vendor="Netgear",
)
GARBAGE = "\x00\xff" + "A(" * 2000
HOSTILE = Observation(
    address="127.0.0.66",
    http=(
        _http(
            headers=(("server", GARBAGE), ("www-authenticate", 'Basic realm="' + GARBAGE + '"')),
            body="<title>" + GARBAGE + "</title>",
        ),
    ),
    banners=(
        Banner(21, "ftp", GARBAGE),
        Banner(22, "ssh", "SSH-2.0-" + GARBAGE),
        Banner(23, "telnet", GARBAGE),
    ),
    upnp=UpnpDescription(server=GARBAGE, manufacturer=GARBAGE),
    snmp_sysdescr=GARBAGE,
)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and max CPU time of one call (process CPU time: the machine is shared)."""
    samples = []
    for _ in range(runs):
        t = time.process_time()
        fn()
        samples.append(time.process_time() - t)
    return statistics.median(samples) * 1000, max(samples) * 1000


def main() -> None:
    t = time.perf_counter()
    own = load_rules()
    print(
        f"load own rules:            {(time.perf_counter() - t) * 1000:8.1f} ms  ({len(own)} rules)"
    )
    t = time.perf_counter()
    recog, notes = shipped_recog()
    examples = sum(len(r.examples) for r in recog)
    print(
        f"load Recog (10 databases): {(time.perf_counter() - t) * 1000:8.1f} ms  "
        f"({len(recog)} rules, {examples} examples, {len(notes)} skipped/notes)"
    )
    t = time.perf_counter()
    _shipped(True)
    fp = Fingerprinter()
    fp_own = Fingerprinter(use_recog=False)
    print(f"Fingerprinter() after load: {(time.perf_counter() - t) * 1000:7.2f} ms")
    for name, obs in (("typical", TYPICAL), ("full", FULL), ("hostile", HOSTILE)):
        for label, engine in (("own+Recog", fp), ("own only", fp_own)):
            engine.identify(obs)
            med, worst = timed(functools.partial(engine.identify, obs), 300)
            ident = engine.identify(obs)
            print(
                f"identify {name:8s} {label:10s} median {med:6.3f} ms  max {worst:6.3f} ms CPU  "
                f"-> {ident.label()} conf {ident.confidence} ({len(ident.evidence)} evidence)"
            )


if __name__ == "__main__":
    main()
