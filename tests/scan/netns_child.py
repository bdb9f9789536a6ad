"""Run inside a fresh network namespace (``unshare -n``): only ``lo`` exists.

Captures every packet on every interface of the namespace with a raw AF_PACKET socket, then

  phase "refused": public, private and out-of-scope targets: parse_scope and the Guard refuse
                   them; the capture must stay empty;
  phase "scan":    a scan of 127.0.200.1 whose HTTP redirects and SSDP LOCATION point at
                   127.0.201.1 (listening, counting), 192.168.1.1 and 8.8.8.8; every captured
                   packet must be between 127.0.0.1 and 127.0.200.1.

Prints one JSON object with what it saw; test_scan_netns.py judges it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import scanlab
from scanlab import HTTP, SSDP, Servers

from routerwatch.scan.guard import Guard
from routerwatch.scan.probes import http, upnp
from routerwatch.scan.scanner import scan_async
from routerwatch.scan.scope import ScopeError, parse_scope

ETH_P_ALL = 0x0003
INSIDE, OUTSIDE = "127.0.200.1", "127.0.201.1"


class Capture:
    """All frames on all interfaces of this namespace, as (src, dst, proto) tuples."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.settimeout(0.1)
        self.packets: list[tuple[str, str, int, str]] = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            try:
                frame, meta = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.packets.append(self._decode(frame, meta))

    @staticmethod
    def _decode(frame: bytes, meta: Any) -> tuple[str, str, int, str]:
        iface = meta[0]
        ethertype = struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
        ip = frame[14:]
        if ethertype == 0x0800 and len(ip) >= 20:
            return socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), ip[9], iface
        if ethertype == 0x86DD and len(ip) >= 40:
            src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
            dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
            return src, dst, ip[6], iface
        return f"ethertype {ethertype:#06x}", "", 0, iface

    def take(self) -> list[tuple[str, str, int, str]]:
        time.sleep(0.3)  # let the last frames arrive
        taken, self.packets = self.packets, []
        return taken

    def stop(self) -> None:
        self.running = False
        self.thread.join(1)
        self.sock.close()


async def refused_phase() -> dict[str, Any]:
    refusals = []
    for targets in (["8.8.8.8"], ["1.1.1.0/24"], ["239.255.255.250"], ["255.255.255.255"]):
        try:
            parse_scope(targets)
        except ScopeError as exc:
            refusals.append(str(exc))
    guard = Guard(parse_scope([INSIDE]))
    fetcher = http.HttpFetcher(guard, probe_timeout=0.5)
    for target in ("8.8.8.8", "192.168.1.1", "10.0.0.138", OUTSIDE, "224.0.0.251"):
        for attempt in (
            guard.connect(target, 80, 0.5),
            guard.udp_exchange(target, 1900, b"M-SEARCH", 0.5),
            fetcher.fetch(f"http://{target}/"),
        ):
            try:
                await attempt
            except ScopeError as exc:
                refusals.append(str(exc))
    try:
        await upnp.discover(guard)
    except ScopeError as exc:
        refusals.append(str(exc))
    return {"refusals": refusals, "sent": guard.sent}


async def scan_phase() -> dict[str, Any]:
    async with Servers() as s:
        routes = {
            "GET /": (302, [("Location", f"http://{OUTSIDE}:{HTTP}/")], b""),
            "GET /favicon.ico": (302, [("Location", "http://192.168.1.1/favicon.ico")], b""),
            "GET /currentsetting.htm": (302, [("Location", "http://8.8.8.8/")], b""),
        }
        await s.tcp(INSIDE, HTTP, scanlab.http_site(routes, []))
        await s.udp(INSIDE, SSDP, scanlab.ssdp_reply(f"http://{OUTSIDE}:{HTTP}/desc.xml"))
        await s.tcp(OUTSIDE, HTTP, scanlab.counter)
        await s.udp(OUTSIDE, SSDP)
        result = await scan_async(parse_scope([INSIDE]), scanlab.scan_options())
        return {
            "outside_contacts": s.counts[OUTSIDE],
            "inside_contacts": s.counts[INSIDE],
            "observations": [
                {"address": o.address, "open_ports": list(o.open_ports), "errors": list(o.errors)}
                for o in result
            ],
        }


def main() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    capture = Capture()
    try:
        refused = asyncio.run(refused_phase())
        refused["packets"] = capture.take()
        scanned = asyncio.run(scan_phase())
        scanned["packets"] = capture.take()
    finally:
        capture.stop()
    print(json.dumps({"links": links, "refused": refused, "scan": scanned}))


if __name__ == "__main__":
    main()
