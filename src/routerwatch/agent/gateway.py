"""The default gateway and the network this machine is on, read from the OS.

Each OS's commands are run through a ``Runner`` (injected: tests hand recorded outputs, never
the real machine's) and parsed by the pure ``parse_*`` functions below:

- Linux: ``ip -j route show default`` and ``ip -j -6 route show default`` (fallbacks
  ``/proc/net/route``, ``ip -6 route`` text); MAC ``ip -j neigh show ADDR``; SSID
  ``nmcli -t -f active,ssid dev wifi``.
- macOS: ``route -n get default`` and ``route -n get -inet6 default`` (fallback
  ``netstat -rn``); MAC ``arp -n ADDR``; SSID ``networksetup -getairportnetwork IF``
  (``airport -I`` text is read too).
- Windows: ``Get-NetRoute`` as JSON (fallback ``route print``); MAC ``arp -a ADDR``; SSID
  ``netsh wlan show interfaces``.

The formats are hand-parsed: no maintained library reads these commands' outputs across the
three OSes (``netifaces`` is unmaintained and gives no MAC of the gateway nor the SSID).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import platform
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routerwatch.scan.scope import default_gateway
from routerwatch.schema.ids import normalise_mac

Runner = Callable[[Sequence[str]], str]


class DiscoveryError(Exception):
    """The gateway could not be found; the message is one line."""


@dataclass(frozen=True)
class Route:
    """One default route: the next hop, its interface, metric and what said so."""

    gateway: str
    family: int  # 4 or 6
    interface: str | None = None
    metric: int = 0
    source: str = ""


@dataclass(frozen=True)
class Network:
    """The network the machine is on: what tells home, café and office apart."""

    gateway: str | None  # the IPv4 default gateway
    gateway6: str | None = None  # the IPv6 default gateway (often link-local)
    interface: str | None = None
    mac: str | None = None  # the gateway's MAC (from the neighbour/ARP table)
    ssid: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def target(self) -> str | None:
        """The one address the agent may probe: the IPv4 gateway, else a routable IPv6 one
        (a link-local next hop needs an interface zone the probes do not carry)."""
        if self.gateway:
            return self.gateway
        if self.gateway6 and not ipaddress.IPv6Address(self.gateway6.split("%")[0]).is_link_local:
            return self.gateway6.split("%")[0]
        return None

    @property
    def key(self) -> str:
        """A stable id of this network: ``net:`` + hash of gateway MAC (else address), SSID."""
        text = "|".join([self.mac or self.gateway or self.gateway6 or "", self.ssid or ""])
        return "net:" + hashlib.sha256(text.encode()).hexdigest()[:16]

    def device_key(self) -> str:
        """The fleet device key of the gateway: its MAC when known (the same key a scan on
        that LAN gives it), else this network's key: never the bare address, which is
        192.168.1.1 in half the homes."""
        return f"mac:{self.mac}" if self.mac else self.key

    def to_dict(self) -> dict[str, Any]:
        return {"gateway": self.gateway, "gateway6": self.gateway6, "interface": self.interface,
                "mac": self.mac, "ssid": self.ssid, "key": self.key,
                "sources": list(self.sources)}


# ------------------------------------------------------------------------------ parsers

def _best(routes: list[Route]) -> Route | None:
    """The route the kernel would pick: lowest metric, first on a tie."""
    return min(routes, key=lambda r: r.metric) if routes else None


def _addr(text: str, family: int) -> str | None:
    try:
        ip = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if ip.version != family or ip.is_unspecified:
        return None
    return text if "%" in text and family == 6 else str(ip)


def parse_ip_json(text: str, family: int = 4) -> list[Route]:
    """``ip -j route show default`` (or ``ip -j -6 route show default``)."""
    try:
        rows = json.loads(text or "[]")
    except ValueError as exc:
        raise DiscoveryError(f"ip -j route: not JSON: {exc}") from None
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or row.get("dst") != "default":
            continue
        gw = _addr(str(row.get("gateway", "")), family)
        if gw is None:
            continue
        out.append(Route(gw, family, row.get("dev"), int(row.get("metric") or 0), "ip -j route"))
    return out


def parse_ip_text(text: str, family: int = 6) -> list[Route]:
    """``ip -6 route show default`` text: ``default via fe80::1 dev wlan0 proto ra metric 600``."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if not f or f[0] != "default" or "via" not in f:
            continue
        gw = _addr(f[f.index("via") + 1] if f.index("via") + 1 < len(f) else "", family)
        if gw is None:
            continue
        dev = f[f.index("dev") + 1] if "dev" in f and f.index("dev") + 1 < len(f) else None
        metric = int(f[f.index("metric") + 1]) if "metric" in f and \
            f[f.index("metric") + 1].isdigit() else 0
        out.append(Route(gw, family, dev, metric, "ip route"))
    return out


def parse_proc_route(text: str) -> list[Route]:
    """``/proc/net/route`` (IPv4 only), through the scanner's own reader."""
    gw = default_gateway(text)
    if gw is None:
        return []
    iface = next((line.split()[0] for line in text.splitlines()[1:]
                  if len(line.split()) > 2 and line.split()[1] == "00000000"), None)
    return [Route(gw, 4, iface, 0, "/proc/net/route")]


_KV = re.compile(r"^\s*([a-z ]+):\s*(\S.*)$")


def parse_route_get(text: str, family: int = 4) -> list[Route]:
    """macOS ``route -n get default`` (``-inet6`` for IPv6): ``gateway:`` and ``interface:``."""
    values = {}
    for line in text.splitlines():
        m = _KV.match(line)
        if m:
            values[m.group(1).strip()] = m.group(2).strip()
    gw = _addr(values.get("gateway", ""), family)
    if gw is None:
        return []
    return [Route(gw, family, values.get("interface"), 0, "route get")]


def parse_netstat_rn(text: str) -> list[Route]:
    """macOS ``netstat -rn``: ``default`` rows of the Internet and Internet6 tables."""
    out = []
    family = 4
    for line in text.splitlines():
        if line.startswith("Internet6"):
            family = 6
        elif line.startswith("Internet"):
            family = 4
        f = line.split()
        if len(f) >= 4 and f[0] == "default":
            gw = _addr(f[1], family)
            if gw is not None:
                iface = f[3] if not f[3].isdigit() else (f[4] if len(f) > 4 else None)
                out.append(Route(gw, family, iface, 0, "netstat -rn"))
    return out


def parse_get_netroute(text: str) -> list[Route]:
    """Windows ``Get-NetRoute -DestinationPrefix 0.0.0.0/0,::/0 | ConvertTo-Json`` (an object
    or a list of them; ``RouteMetric`` + ``InterfaceMetric`` is what Windows compares)."""
    try:
        rows = json.loads(text or "[]")
    except ValueError as exc:
        raise DiscoveryError(f"Get-NetRoute: not JSON: {exc}") from None
    rows = [rows] if isinstance(rows, dict) else rows
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        prefix = row.get("DestinationPrefix")
        family = 4 if prefix == "0.0.0.0/0" else 6 if prefix == "::/0" else 0
        gw = _addr(str(row.get("NextHop", "")), family) if family else None
        if gw is None:
            continue
        metric = int(row.get("RouteMetric") or 0) + int(row.get("InterfaceMetric") or 0)
        out.append(Route(gw, family, row.get("InterfaceAlias"), metric, "Get-NetRoute"))
    return out


def parse_route_print(text: str) -> list[Route]:
    """Windows ``route print``: ``0.0.0.0 0.0.0.0 GW IF METRIC`` rows of the IPv4 table and
    ``IF METRIC ::/0 GW`` rows of the IPv6 one (active routes only)."""
    out = []
    section = ""
    for line in text.splitlines():
        if "IPv4 Route Table" in line:
            section = "4"
        elif "IPv6 Route Table" in line:
            section = "6"
        elif line.startswith("Persistent Routes"):
            section = section + "p"
        f = line.split()
        if section == "4" and len(f) == 5 and f[0] == "0.0.0.0" and f[1] == "0.0.0.0":
            gw = _addr(f[2], 4)
            if gw is not None and f[4].isdigit():
                out.append(Route(gw, 4, f[3], int(f[4]), "route print"))
        elif section == "6" and len(f) == 4 and f[2] == "::/0" and f[1].isdigit():
            gw = _addr(f[3], 6)
            if gw is not None:
                out.append(Route(gw, 6, f[0], int(f[1]), "route print"))
    return out


_MACISH = re.compile(r"\b([0-9a-fA-F]{1,2}(?:[:-][0-9a-fA-F]{1,2}){5})\b")


def _mac(text: str) -> str | None:
    """A MAC as the tables print it (macOS drops leading zeros: ``0:1b:2c:3d:4e:5f``)."""
    parts = re.split(r"[:-]", text)
    if len(parts) != 6:
        return None
    return normalise_mac(":".join(p.zfill(2) for p in parts))


def parse_ip_neigh(text: str, address: str) -> str | None:
    """``ip -j neigh show ADDR`` (JSON) or ``ip neigh`` text: the gateway's MAC."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
        except ValueError:
            return None
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("dst") == address and row.get("lladdr"):
                state = row.get("state") or []
                if "FAILED" in state or "INCOMPLETE" in state:
                    continue
                return _mac(str(row["lladdr"]))
        return None
    for line in stripped.splitlines():
        f = line.split()
        if f and f[0] == address and "lladdr" in f and "FAILED" not in f:
            return _mac(f[f.index("lladdr") + 1])
    return None


def parse_arp(text: str, address: str) -> str | None:
    """macOS ``arp -n ADDR`` (``? (ADDR) at 0:1b:2c:3d:4e:5f on en0 ...``) or Windows
    ``arp -a ADDR`` (``ADDR  a0-b1-c2-d3-e4-f5  dynamic``)."""
    for line in text.splitlines():
        if f"({address})" in line or line.split()[:1] == [address]:
            m = _MACISH.search(line.split(address, 1)[1] if address in line else line)
            if m:
                return _mac(m.group(1))
    return None


def _unescape_nmcli(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_nmcli(text: str) -> str | None:
    """``nmcli -t -f active,ssid dev wifi``: the SSID of the ``yes`` row (``\\:`` escapes)."""
    for line in text.splitlines():
        if line.startswith("yes:"):
            ssid = _unescape_nmcli(line[4:]).strip()
            return ssid or None
    return None


def parse_macos_ssid(text: str) -> str | None:
    """``networksetup -getairportnetwork en0`` or ``airport -I``."""
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Current Wi-Fi Network:"):
            return s.split(":", 1)[1].strip() or None
        if s.startswith("SSID:"):
            return s.split(":", 1)[1].strip() or None
    return None


def parse_netsh(text: str) -> str | None:
    """``netsh wlan show interfaces``: the ``SSID`` line of a connected interface."""
    connected = True
    for line in text.splitlines():
        if ":" not in line:
            continue
        name, value = (x.strip() for x in line.split(":", 1))
        if name == "State":
            connected = value.lower() == "connected"
        elif name == "SSID" and connected:
            return value or None
    return None


# ------------------------------------------------------------------------------ discovery

def run_command(argv: Sequence[str]) -> str:
    """Run one read-only OS command (5 s at most); its stdout, or DiscoveryError."""
    try:
        done = subprocess.run(list(argv), capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiscoveryError(f"{argv[0]}: {exc}") from None
    if done.returncode != 0:
        raise DiscoveryError(f"{' '.join(argv)} exited {done.returncode}")
    return done.stdout.decode("utf-8", "replace")[:1_000_000]


def _try(run: Runner, argv: Sequence[str], sources: list[str]) -> str | None:
    try:
        out = run(argv)
    except DiscoveryError:
        return None
    sources.append(" ".join(argv))
    return out


def _linux(run: Runner, sources: list[str]) -> tuple[list[Route], list[Route], str | None]:
    text = _try(run, ["ip", "-j", "route", "show", "default"], sources)
    v4 = parse_ip_json(text, 4) if text is not None else []
    if not v4:
        text = _try(run, ["cat", "/proc/net/route"], sources)
        v4 = parse_proc_route(text) if text else []
    text = _try(run, ["ip", "-j", "-6", "route", "show", "default"], sources)
    v6 = parse_ip_json(text, 6) if text is not None else []
    if not v6:
        text = _try(run, ["ip", "-6", "route", "show", "default"], sources)
        v6 = parse_ip_text(text, 6) if text else []
    ssid_text = _try(run, ["nmcli", "-t", "-f", "active,ssid", "dev", "wifi"], sources)
    return v4, v6, parse_nmcli(ssid_text) if ssid_text else None


def _macos(run: Runner, sources: list[str]) -> tuple[list[Route], list[Route], str | None]:
    text = _try(run, ["route", "-n", "get", "default"], sources)
    v4 = parse_route_get(text, 4) if text else []
    text = _try(run, ["route", "-n", "get", "-inet6", "default"], sources)
    v6 = parse_route_get(text, 6) if text else []
    if not v4 or not v6:
        text = _try(run, ["netstat", "-rn"], sources)
        table = parse_netstat_rn(text) if text else []
        v4 = v4 or [r for r in table if r.family == 4]
        v6 = v6 or [r for r in table if r.family == 6]
    iface = (_best(v4) or _best(v6) or Route("", 4, "en0")).interface or "en0"
    text = _try(run, ["networksetup", "-getairportnetwork", iface], sources)
    return v4, v6, parse_macos_ssid(text) if text else None


_PS = ("Get-NetRoute -DestinationPrefix 0.0.0.0/0,::/0 | Select-Object DestinationPrefix,"
       "NextHop,RouteMetric,InterfaceMetric,InterfaceAlias | ConvertTo-Json")


def _windows(run: Runner, sources: list[str]) -> tuple[list[Route], list[Route], str | None]:
    text = _try(run, ["powershell", "-NoProfile", "-Command", _PS], sources)
    routes = parse_get_netroute(text) if text else []
    if not routes:
        text = _try(run, ["route", "print"], sources)
        routes = parse_route_print(text) if text else []
    text = _try(run, ["netsh", "wlan", "show", "interfaces"], sources)
    return ([r for r in routes if r.family == 4], [r for r in routes if r.family == 6],
            parse_netsh(text) if text else None)


def discover(system: str | None = None, run: Runner = run_command) -> Network:
    """The network this machine is on, from the OS (``system``: Linux, Darwin, Windows)."""
    system = system or platform.system()
    sources: list[str] = []
    if system == "Linux":
        v4, v6, ssid = _linux(run, sources)
    elif system == "Darwin":
        v4, v6, ssid = _macos(run, sources)
    elif system == "Windows":
        v4, v6, ssid = _windows(run, sources)
    else:
        raise DiscoveryError(f"finding the gateway on {system} is not supported")
    r4, r6 = _best(v4), _best(v6)
    if r4 is None and r6 is None:
        raise DiscoveryError("no default gateway: the machine has no default route "
                             f"(read {', '.join(sources) or 'nothing'})")
    mac = None
    if r4 is not None:
        if system == "Linux":
            text = _try(run, ["ip", "-j", "neigh", "show", r4.gateway], sources)
            mac = parse_ip_neigh(text, r4.gateway) if text else None
        else:
            argv = ["arp", "-n", r4.gateway] if system == "Darwin" else ["arp", "-a", r4.gateway]
            text = _try(run, argv, sources)
            mac = parse_arp(text, r4.gateway) if text else None
    first = r4 or r6
    return Network(
        gateway=r4.gateway if r4 else None, gateway6=r6.gateway if r6 else None,
        interface=first.interface if first else None, mac=mac, ssid=ssid,
        sources=tuple(sources))


def recorded(directory: Path) -> Runner:
    """A Runner that answers from recorded outputs: ``directory/<argv joined by _>.txt``
    (what tests and ``--recorded DIR`` use; a missing file is a failed command)."""

    def run(argv: Sequence[str]) -> str:
        words = " ".join(a.split()[0] if " " in a else a for a in argv)  # a script: 1st word
        name = re.sub(r"[^A-Za-z0-9.-]+", "_", words).strip("_")[:120] + ".txt"
        path = directory / name
        if not path.is_file():
            raise DiscoveryError(f"no recorded output {path.name}")
        return path.read_text(encoding="utf-8")

    return run
