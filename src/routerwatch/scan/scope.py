"""What may be scanned: targets → a Scope, the single source of truth for every packet.

A :class:`Scope` is a set of addresses (a ``netaddr.IPSet``). :func:`parse_scope` builds it
from what the user typed — IP addresses, CIDRs, ranges (``a.b.c.d-e.f.g.h`` and
``a.b.c.d-h``), target files (``@path`` or an existing path, one target per line, ``#``
comments) — minus ``--exclude``. It refuses, naming the offending target:

* multicast, broadcast and unspecified addresses, always (224.0.0.0/4, 255.255.255.255,
  0.0.0.0/8, ::, ff00::/8 — and the first three written as IPv4-mapped ``::ffff:…``,
  NAT64 ``64:ff9b::…`` or 6to4 ``2002:…`` IPv6 addresses); the network and broadcast
  addresses of a given IPv4 CIDR are dropped from the set so nothing is ever sent to them;
* public addresses unless ``allow_public`` (private, loopback and link-local ranges are the
  user's own network and allowed);
* more than ``max_hosts`` addresses, host names (no DNS lookups), and anything unparsable.

Every probe sends through :class:`routerwatch.scan.guard.Guard`, which asks the Scope first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import netaddr

__all__ = [
    "DEFAULT_PORTS",
    "OutOfScope",
    "Scope",
    "ScopeError",
    "default_gateway",
    "parse_scope",
]

#: The router port set of the probe plan: admin UIs, remote management (TR-069 7547, Winbox
#: 8291), UPnP description servers (1900, 5000, 49152) and the botnet ports (Quad7 7777 and
#: 11288, the ASUS cluster 63256, AyySSHush 53282, Mirai-family telnet 2323).
DEFAULT_PORTS: tuple[int, ...] = (
    21, 22, 23, 53, 80, 443, 1900, 7547, 8080, 8443, 8291,
    7777, 11288, 63256, 53282, 49152, 5000, 2323,
)  # fmt: skip


class ScopeError(ValueError):
    """A target that cannot or must not be scanned; the message names it."""


class OutOfScope(ScopeError):
    """A connection or datagram to an address outside the scope was refused by the guard."""


_V4_FORBIDDEN = ("0.0.0.0/8", "224.0.0.0/4", "255.255.255.255/32")
_V4_PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
#: IPv6 prefixes that carry an IPv4 address in their low bits, with the bit position it starts
#: at: IPv4-mapped (::ffff:a.b.c.d), NAT64 well-known (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::)
_MAPPED = (0xFFFF << 32, 0)
_NAT64 = (0x64FF9B << 96, 0)
_SIXTOFOUR = (0x2002 << 112, 80)


def _embedded(v4_cidrs: tuple[str, ...], prefixes: tuple[tuple[int, int], ...]) -> list[str]:
    """The IPv6 networks that carry the given IPv4 networks inside the given prefixes."""
    out = []
    for text in v4_cidrs:
        net = netaddr.IPNetwork(text)
        for prefix, shift in prefixes:
            value = prefix | (int(net.network) << shift)
            length = (128 - 32 - shift) + net.prefixlen
            out.append(str(netaddr.IPNetwork((value, length), version=6).cidr))
    return out


#: Never a destination, whatever the flags: multicast, limited broadcast, "this network",
#: unspecified — also written as IPv4-mapped, NAT64 or 6to4 IPv6 addresses
#: (``::ffff:239.255.255.250`` is the SSDP group).
FORBIDDEN = netaddr.IPSet(
    [*_V4_FORBIDDEN, "::/128", "ff00::/8",
     *_embedded(_V4_FORBIDDEN, (_MAPPED, _NAT64, _SIXTOFOUR))]
)
#: The user's own networks: allowed without --allow-public (also as IPv4-mapped addresses).
PRIVATE = netaddr.IPSet(
    [*_V4_PRIVATE, "::1/128", "fc00::/7", "fe80::/10", *_embedded(_V4_PRIVATE, (_MAPPED,))]
)

_V4_MAPPED = netaddr.IPNetwork("::ffff:0:0/96")
_RANGE = re.compile(r"^([^-\s]+)-([^-\s]+)$")
_SPLIT = re.compile(r"[\s,]+")


class Scope:
    """The set of addresses a scan may send to. Immutable; wraps a ``netaddr.IPSet``.

    Build it with :func:`parse_scope`. Built directly, it still drops multicast/broadcast/
    unspecified addresses and refuses public ones unless ``allow_public``.
    """

    def __init__(
        self, ipset: netaddr.IPSet, targets: Sequence[str] = (), *, allow_public: bool = False
    ) -> None:
        self._set = netaddr.IPSet(ipset) - FORBIDDEN
        if not allow_public and self._set - PRIVATE:
            raise ScopeError(
                f"the scope contains public addresses ({_first(self._set - PRIVATE)}); "
                "pass allow_public=True (--allow-public) if you are allowed to scan them"
            )
        self.targets: tuple[str, ...] = tuple(targets)

    @property
    def ipset(self) -> netaddr.IPSet:
        return netaddr.IPSet(self._set)

    def __contains__(self, address: object) -> bool:
        if isinstance(address, netaddr.IPAddress):
            ip = address
        elif isinstance(address, str):
            try:
                ip = netaddr.IPAddress(address.strip("[]"))
            except (netaddr.AddrFormatError, ValueError, TypeError):
                return False
        else:
            return False
        return ip in self._set

    def hosts(self) -> Iterator[str]:
        """Every address in the scope, in address order (IPv4 first)."""
        for cidr in self._set.iter_cidrs():
            for ip in cidr:
                yield str(ip)

    def __len__(self) -> int:
        return int(self._set.size)

    def __repr__(self) -> str:
        return f"Scope({len(self)} hosts: {', '.join(str(c) for c in self._set.iter_cidrs()[:4])})"


def parse_scope(
    targets: Sequence[str],
    *,
    exclude: Sequence[str] = (),
    allow_public: bool = False,
    max_hosts: int = 65536,
) -> Scope:
    """Build the scan scope from targets as the user typed them; raise ScopeError naming a bad one.

    A target file is given as ``@path`` or as a path that exists; it holds one target per line
    (several per line may be separated by spaces or commas) and ``#`` comments.
    """
    excluded = netaddr.IPSet()
    for text, origin in _expand(exclude):
        excluded |= _parse_one(text, origin)[0]

    included = netaddr.IPSet()
    edges = netaddr.IPSet()  # network + broadcast addresses of the given IPv4 CIDRs
    seen = False
    for text, origin in _expand(targets):
        seen = True
        addresses, edge = _parse_one(text, origin)
        wanted = addresses - excluded
        bad = wanted & FORBIDDEN
        if bad:
            raise ScopeError(
                f"{_at(origin)}target {text!r} contains multicast, broadcast or unspecified "
                f"addresses ({_first(bad)}); these are never scanned"
            )
        if not allow_public:
            public = wanted - PRIVATE
            if public:
                raise ScopeError(
                    f"{_at(origin)}target {text!r} contains public addresses ({_first(public)}); "
                    "scan only networks you own, or pass --allow-public if you are allowed to"
                )
        included |= addresses
        edges |= edge
    if not seen:
        raise ScopeError("no targets given")
    final = included - excluded - edges - FORBIDDEN
    size = int(final.size)
    if size == 0:
        raise ScopeError("nothing to scan: the targets are empty after --exclude")
    if size > max_hosts:
        raise ScopeError(
            f"the targets hold {size} addresses, more than the limit of {max_hosts}; "
            "scan a smaller range"
        )
    return Scope(final, targets=tuple(targets), allow_public=allow_public)


def _at(origin: str) -> str:
    return f"{origin}: " if origin else ""


def _first(ipset: netaddr.IPSet) -> str:
    cidr = ipset.iter_cidrs()[0]
    return str(cidr.ip) if cidr.size == 1 else str(cidr)


def _expand(items: Sequence[str]) -> Iterator[tuple[str, str]]:
    """Yield (target text, origin) pairs, reading target files."""
    if isinstance(items, str):  # a lone string is a common mistake: treat it as one target
        items = [items]
    for raw in items:
        item = (raw or "").strip()
        if not item:
            raise ScopeError(f"empty target {raw!r}")
        path: str | None = None
        if item.startswith("@"):
            path = item[1:]
        elif os.path.isfile(item):
            path = item
        if path is None:
            for part in _SPLIT.split(item):
                if part:
                    yield part, ""
            continue
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ScopeError(f"cannot read target file {path!r}: {exc.strerror or exc}") from exc
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            for part in _SPLIT.split(line):
                if part:
                    yield part, f"{path}:{lineno}"


def _parse_one(text: str, origin: str) -> tuple[netaddr.IPSet, netaddr.IPSet]:
    """One target → (its addresses, the network/broadcast addresses to drop)."""
    edge = netaddr.IPSet()
    try:
        if "/" in text:
            net = netaddr.IPNetwork(text, expand_partial=False)
            cidr = net.cidr
            addresses = netaddr.IPSet([cidr])
            if cidr.version == 4 and cidr.prefixlen < 31:
                edge = netaddr.IPSet([cidr.network, cidr.broadcast])
            elif cidr in _V4_MAPPED and cidr.prefixlen < 127:  # the same, IPv4-mapped
                edge = netaddr.IPSet([netaddr.IPAddress(cidr.first, 6),
                                      netaddr.IPAddress(cidr.last, 6)])
            return addresses, edge
        match = _RANGE.match(text)
        if match:
            start_text, end_text = match.groups()
            start = netaddr.IPAddress(start_text)
            if start.version == 4 and end_text.isdigit() and "." not in end_text:
                last = int(end_text)
                if last > 255:
                    raise ScopeError(f"{_at(origin)}bad range {text!r}: {last} is not 0-255")
                end = netaddr.IPAddress((int(start) & 0xFFFFFF00) | last, 4)
            else:
                end = netaddr.IPAddress(end_text)
            if start.version != end.version:
                raise ScopeError(f"{_at(origin)}bad range {text!r}: mixes IPv4 and IPv6")
            if end < start:
                raise ScopeError(f"{_at(origin)}bad range {text!r}: the end is before the start")
            return netaddr.IPSet(netaddr.IPRange(start, end)), edge
        return netaddr.IPSet([netaddr.IPAddress(text)]), edge
    except ScopeError:
        raise
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        hint = ""
        if re.fullmatch(r"[A-Za-z0-9.-]+", text) and re.search(r"[A-Za-z]", text):
            hint = " (host names are not resolved: give addresses)"
        raise ScopeError(f"{_at(origin)}not an IP address, CIDR or range: {text!r}{hint}") from exc


# --------------------------------------------------------------------------- default gateway

_RTF_UP = 0x1
_RTF_GATEWAY = 0x2


def default_gateway(route_table: str) -> str | None:
    """The IPv4 default gateway from the text of ``/proc/net/route`` (None when there is none).

    With several default routes the one with the lowest metric wins (the first on a tie),
    as the kernel would choose.
    """
    best: tuple[int, int, str] | None = None
    for index, line in enumerate(route_table.splitlines()):
        fields = line.split()
        if len(fields) < 8 or fields[0] == "Iface":
            continue
        try:
            dest = int(fields[1], 16)
            gateway = int(fields[2], 16)
            flags = int(fields[3], 16)
            metric = int(fields[6])
            mask = int(fields[7], 16)
        except ValueError:
            continue
        if dest != 0 or mask != 0 or gateway == 0:
            continue
        if flags & (_RTF_UP | _RTF_GATEWAY) != (_RTF_UP | _RTF_GATEWAY):
            continue
        # the kernel prints the address in host (little-endian) byte order
        address = str(netaddr.IPAddress(int.from_bytes(gateway.to_bytes(4, "little"), "big")))
        candidate = (metric, index, address)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None
