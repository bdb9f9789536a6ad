"""Device profiles of the lab: what each emulated device is and what it serves, as data.

A profile is one YAML file in ``lab/devices/`` (page, XML and JSON bodies live in
``lab/pages/``). The true identity is in the profile; the services only reveal what the real
device reveals without logging in. This module reads and checks those files; it does no I/O
beyond that.

Profile file shape (every key but ``id`` and ``services`` optional)::

    id: tplink-tl-wr841n-v8-quad7
    summary: one line for people
    identity: {vendor: TP-Link, model: TL-WR841N, hardware: "8", firmware: "..."}
    hostile: null            # or tarpit / endless-body / xml-bomb / garbage / tls-fail / drip
    decoy: false             # a non-router that looks like an indicator (near miss)
    reveals: [vendor, model, hardware]        # without credentials, by the probe plan
    reveals_with_snmp: [firmware]             # extra when the owner's community is given
    sources: ["Recog http_wwwauth.xml: ..."]  # where the response shapes come from
    vars: {key: value}       # extra {{key}} template values for bodies and headers
    tls: {subject: "CN=...,OU=RV340,O=...", not_before: 2019-01-01, not_after: 2039-01-01}
    ssdp: {server: "...", port: 1900, path: /rootDesc.xml, types: [...]}
    snmp: {sysdescr: "...", community: routerwatch-lab}
    services:
      - {port: 80, kind: http, site: web}
      - {port: 21, kind: banner, protocol: ftp, greeting: "220 ...\\r\\n", reply: "530 ...\\r\\n"}
    sites:
      web:
        headers: [[Server, "Router Webserver"]]
        routes: [{path: /, status: 401, headers: [...], body_file: tplink/x.html}]
        default: {status: 404, body: "..."}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from routerwatch.models import DeviceIdentity

__all__ = [
    "HOSTILE_KINDS",
    "SERVICE_KINDS",
    "DeviceProfile",
    "ProfileError",
    "Route",
    "Service",
    "Site",
    "SnmpSpec",
    "SsdpSpec",
    "TlsSpec",
    "load_profiles",
    "page_text",
]

DEFAULT_COMMUNITY = "routerwatch-lab"

HOSTILE_KINDS = frozenset(
    {"tarpit", "endless-body", "xml-bomb", "garbage", "tls-fail", "drip", "snmp-spoof"}
)

# kind -> what it does (docs/lab.md lists them for people)
SERVICE_KINDS = frozenset(
    {
        "http",  # HTTP/1.x site from `sites`
        "https",  # the same over TLS with the profile's certificate
        "banner",  # greeting, then a fixed reply per line (FTP, SSH identification, ...)
        "telnet",  # IAC negotiation + login prompt, "Login incorrect" on input
        "xlogin",  # Quad7 style `xlogin:` prompt (or another prompt given as greeting)
        "socks5",  # answers 05 00 to the no-auth greeting, closes on anything else
        "silent",  # accepts and waits for the client to speak first (winbox, ...)
        # hostile behaviours
        "tarpit",  # accepts, never writes, reads one byte a second
        "endless-http",  # HTTP 200 whose body never ends
        "drip",  # writes its greeting one byte at a time, slowly, forever
        "tls-fail",  # reads the ClientHello, answers a fatal TLS alert, closes
        "garbage",  # seeded binary junk (invalid UTF-8), then waits
    }
)

_IDENTITY_KEYS = ("vendor", "model", "hardware", "firmware")
_REVEAL_WORDS = frozenset(_IDENTITY_KEYS)


class ProfileError(ValueError):
    """A device profile file is malformed (the message names the file and the key)."""


@dataclass(frozen=True)
class Route:
    """One HTTP answer: matched on method, path and (optionally) query."""

    path: str | None = None  # None: the site's default route
    methods: tuple[str, ...] = ("GET", "HEAD")
    query: str | None = None  # exact query string to match, None = any
    status: int = 200
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    body_file: str | None = None  # relative to lab/pages
    template: bool = True  # replace {{var}} in body and headers
    auto_headers: bool = True  # add Content-Length and Connection: close
    need_referer: bool = False  # 403 unless Referer is this device's own origin

    def matches(
        self, method: str, path: str, query: str, render: Callable[[str], str] | None = None
    ) -> bool:
        if self.path is None:
            return False
        mine = render(self.path) if render is not None and "{{" in self.path else self.path
        if mine != path:
            return False
        if method not in self.methods:
            return False
        return self.query is None or self.query == query


@dataclass(frozen=True)
class Site:
    """An HTTP virtual site: headers every answer carries, routes, the answer to the rest."""

    name: str
    version: str = "HTTP/1.1"
    headers: tuple[tuple[str, str], ...] = ()
    routes: tuple[Route, ...] = ()
    default: Route = field(default_factory=lambda: Route(status=404, body=b""))

    def route(
        self, method: str, path: str, query: str, render: Callable[[str], str] | None = None
    ) -> Route:
        """The route answering a request; ``render`` fills {{vars}} in route paths."""
        for r in self.routes:
            if r.matches(method, path, query, render):
                return r
        return self.default


@dataclass(frozen=True)
class Service:
    """One TCP listener of a device."""

    port: int
    kind: str
    site: str | None = None  # http / https / endless-http
    protocol: str | None = None  # banner: ftp / ssh / tcp ...
    greeting: bytes = b""
    reply: bytes = b""  # banner: answer to each line; telnet / xlogin: the password prompt
    prompt: bytes = b""  # telnet / xlogin: the login prompt
    fail: bytes = b""  # telnet / xlogin: said after a password (empty: just close)
    interval: float = 1.0  # drip: seconds between bytes
    size: int = 8192  # garbage: bytes of junk


@dataclass(frozen=True)
class TlsSpec:
    subject: str  # RFC 4514, as the real device's certificate reads
    issuer: str | None = None  # None: self-signed
    not_before: date = date(2019, 1, 1)
    not_after: date = date(2039, 1, 1)


@dataclass(frozen=True)
class SsdpSpec:
    server: str
    port: int
    path: str
    device_type: str = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    location_host: str | None = None  # None: the device's own address (hostile: another)
    extra_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SnmpSpec:
    sysdescr: str
    community: str = DEFAULT_COMMUNITY
    sysobjectid: str | None = None
    sysname: str | None = None
    spoof: bool = False  # hostile: answer any community, spray GetResponses and garbage


@dataclass(frozen=True)
class DeviceProfile:
    """One kind of emulated device, as read from its data file."""

    id: str
    summary: str
    identity: DeviceIdentity | None
    hostile: str | None
    decoy: bool
    services: tuple[Service, ...]
    sites: dict[str, Site]
    reveals: tuple[str, ...] = ()
    reveals_with_snmp: tuple[str, ...] = ()
    tls: TlsSpec | None = None
    ssdp: SsdpSpec | None = None
    snmp: SnmpSpec | None = None
    udp_silent: tuple[int, ...] = ()  # UDP ports bound but never answered (hostile)
    vars: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    path: str = ""

    @property
    def tcp_ports(self) -> tuple[int, ...]:
        return tuple(sorted({s.port for s in self.services}))

    @property
    def udp_ports(self) -> tuple[int, ...]:
        ports = []
        if self.ssdp is not None:
            ports.append(1900)
        if self.snmp is not None:
            ports.append(161)
        ports.extend(self.udp_silent)
        return tuple(sorted(set(ports)))

    def identity_dict(self) -> dict[str, str | None] | None:
        if self.identity is None:
            return None
        return {k: getattr(self.identity, k) for k in _IDENTITY_KEYS}


# --------------------------------------------------------------------------- loading


def _pages() -> Any:
    return resources.files("routerwatch.lab").joinpath("pages")


def page_text(rel: str) -> bytes:
    """Bytes of a body file under lab/pages (``rel`` like ``tplink/userrpm-401.html``)."""
    if rel.startswith("/") or ".." in Path(rel).parts:
        raise ProfileError(f"body_file {rel!r} must be a relative path inside lab/pages")
    node = _pages()
    for part in rel.split("/"):
        node = node.joinpath(part)
    try:
        data: bytes = node.read_bytes()
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise ProfileError(f"body_file {rel!r} not found under lab/pages") from exc
    return data


def _text_bytes(value: Any, where: str) -> bytes:
    """YAML scalar -> bytes: strings are UTF-8 (escapes like \\r\\n written in YAML "..."),
    ``{hex: "ff fd 01"}`` gives raw bytes, lists concatenate."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) == {"hex"}:
        try:
            return bytes.fromhex(str(value["hex"]))
        except ValueError as exc:
            raise ProfileError(f"{where}: bad hex {value['hex']!r}") from exc
    if isinstance(value, list):
        return b"".join(_text_bytes(v, where) for v in value)
    raise ProfileError(f"{where}: expected text, {{hex: ...}} or a list of those, got {value!r}")


def _pairs(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    if isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
        return tuple((str(k), str(v)) for k, v in value)
    raise ProfileError(f"{where}: headers must be [[name, value], ...] or a mapping")


def _route(raw: dict[str, Any], where: str, default: bool = False) -> Route:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: a route must be a mapping")
    unknown = set(raw) - {
        "path", "method", "methods", "query", "status", "reason", "headers", "body",
        "body_file", "template", "auto_headers", "need_referer",
    }  # fmt: skip
    if unknown:
        raise ProfileError(f"{where}: unknown route keys {sorted(unknown)}")
    path = raw.get("path")
    if not default and not isinstance(path, str):
        raise ProfileError(f"{where}: a route needs a path")
    if "methods" in raw:
        methods = tuple(str(m).upper() for m in raw["methods"])
    elif "method" in raw:
        methods = (str(raw["method"]).upper(),)
    else:
        methods = ("GET", "HEAD")
    if "body" in raw and "body_file" in raw:
        raise ProfileError(f"{where}: give body or body_file, not both")
    body_file = raw.get("body_file")
    if body_file is not None:
        page_text(str(body_file))  # fail early on a missing file
    status = raw.get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ProfileError(f"{where}: status {status!r} is not an HTTP status")
    return Route(
        path=None if default else path,
        methods=methods,
        query=raw.get("query"),
        status=status,
        reason=raw.get("reason"),
        headers=_pairs(raw.get("headers"), where),
        body=_text_bytes(raw["body"], where) if "body" in raw else None,
        body_file=str(body_file) if body_file is not None else None,
        template=bool(raw.get("template", True)),
        auto_headers=bool(raw.get("auto_headers", True)),
        need_referer=bool(raw.get("need_referer", False)),
    )


def _site(name: str, raw: dict[str, Any], where: str) -> Site:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: site {name!r} must be a mapping")
    routes = tuple(
        _route(r, f"{where} sites.{name}.routes[{i}]") for i, r in enumerate(raw.get("routes", []))
    )
    default = (
        _route(raw["default"], f"{where} sites.{name}.default", default=True)
        if "default" in raw
        else Route(status=404, body=b"")
    )
    return Site(
        name=name,
        version=str(raw.get("version", "HTTP/1.1")),
        headers=_pairs(raw.get("headers"), f"{where} sites.{name}.headers"),
        routes=routes,
        default=default,
    )


def _service(raw: dict[str, Any], where: str, sites: dict[str, Site]) -> Service:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: a service must be a mapping")
    port = raw.get("port")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ProfileError(f"{where}: port {port!r} is not a TCP port")
    kind = raw.get("kind")
    if kind not in SERVICE_KINDS:
        raise ProfileError(f"{where}: kind {kind!r} is not one of {sorted(SERVICE_KINDS)}")
    site = raw.get("site")
    if kind in {"http", "https", "endless-http"} and site not in sites:
        raise ProfileError(f"{where}: site {site!r} is not defined under sites")
    return Service(
        port=port,
        kind=kind,
        site=site,
        protocol=raw.get("protocol"),
        greeting=_text_bytes(raw.get("greeting"), where),
        reply=_text_bytes(raw.get("reply"), where),
        prompt=_text_bytes(raw.get("prompt"), where),
        fail=_text_bytes(raw.get("fail"), where),
        interval=float(raw.get("interval", 1.0)),
        size=int(raw.get("size", 8192)),
    )


def _identity(raw: Any, where: str) -> DeviceIdentity | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - set(_IDENTITY_KEYS):
        raise ProfileError(f"{where}: identity must map only {', '.join(_IDENTITY_KEYS)}")
    values = {k: (None if raw.get(k) is None else str(raw[k])) for k in _IDENTITY_KEYS}
    if not values["vendor"] or not values["model"]:
        raise ProfileError(f"{where}: identity needs at least vendor and model")
    return DeviceIdentity(
        vendor=values["vendor"],
        model=values["model"],
        hardware=values["hardware"],
        firmware=values["firmware"],
    )


def _words(raw: Any, where: str) -> tuple[str, ...]:
    words = tuple(str(w) for w in (raw or ()))
    bad = set(words) - _REVEAL_WORDS
    if bad:
        raise ProfileError(f"{where}: unknown words {sorted(bad)} (use {sorted(_REVEAL_WORDS)})")
    return words


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ProfileError(f"{where}: {value!r} is not an ISO date") from exc


_ID = re.compile(r"[a-z0-9][a-z0-9.-]*")


def parse_profile(data: dict[str, Any], where: str) -> DeviceProfile:
    """Build a DeviceProfile from one YAML document (``where`` names it in errors)."""
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile must be a mapping")
    known = {
        "id", "summary", "identity", "hostile", "decoy", "reveals", "reveals_with_snmp",
        "sources", "vars", "tls", "ssdp", "snmp", "services", "sites", "udp_silent",
    }  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    pid = data.get("id")
    if not isinstance(pid, str) or not _ID.fullmatch(pid):
        raise ProfileError(f"{where}: id {pid!r} must be lower-case letters, digits, '-' or '.'")
    hostile = data.get("hostile")
    if hostile is not None and hostile not in HOSTILE_KINDS:
        raise ProfileError(f"{where}: hostile {hostile!r} is not one of {sorted(HOSTILE_KINDS)}")
    identity = _identity(data.get("identity"), where)
    decoy = bool(data.get("decoy", False))
    if hostile is None and not decoy and identity is None:
        raise ProfileError(f"{where}: a router profile needs an identity")
    if (hostile is not None or decoy) and identity is not None:
        raise ProfileError(f"{where}: hostile and decoy devices carry no identity")
    raw_sites = data.get("sites") or {}
    if not isinstance(raw_sites, dict):
        raise ProfileError(f"{where}: sites must be a mapping")
    sites = {str(n): _site(str(n), s, where) for n, s in raw_sites.items()}
    raw_services = data.get("services")
    if not isinstance(raw_services, list) or not raw_services:
        raise ProfileError(f"{where}: services must be a non-empty list")
    services = tuple(
        _service(s, f"{where} services[{i}]", sites) for i, s in enumerate(raw_services)
    )
    ports = [s.port for s in services]
    if len(ports) != len(set(ports)):
        raise ProfileError(f"{where}: a TCP port is listed twice")
    tls = None
    if data.get("tls") is not None:
        t = data["tls"]
        if not isinstance(t, dict) or not isinstance(t.get("subject"), str):
            raise ProfileError(f"{where}: tls needs a subject (RFC 4514 text)")
        tls = TlsSpec(
            subject=t["subject"],
            issuer=t.get("issuer"),
            not_before=_as_date(t.get("not_before", "2019-01-01"), f"{where} tls.not_before"),
            not_after=_as_date(t.get("not_after", "2039-01-01"), f"{where} tls.not_after"),
        )
    if any(s.kind == "https" for s in services) and tls is None:
        raise ProfileError(f"{where}: an https service needs the profile's tls subject")
    ssdp = None
    if data.get("ssdp") is not None:
        s = data["ssdp"]
        if not isinstance(s, dict) or not {"server", "port", "path"} <= set(s):
            raise ProfileError(f"{where}: ssdp needs server, port and path")
        ssdp = SsdpSpec(
            server=str(s["server"]),
            port=int(s["port"]),
            path=str(s["path"]),
            device_type=str(s.get("device_type", SsdpSpec.device_type)),
            location_host=s.get("location_host"),
            extra_headers=_pairs(s.get("extra_headers"), f"{where} ssdp.extra_headers"),
        )
    snmp = None
    if data.get("snmp") is not None:
        s = data["snmp"]
        if not isinstance(s, dict) or not isinstance(s.get("sysdescr"), str):
            raise ProfileError(f"{where}: snmp needs sysdescr")
        snmp = SnmpSpec(
            sysdescr=s["sysdescr"],
            community=str(s.get("community", DEFAULT_COMMUNITY)),
            sysobjectid=s.get("sysobjectid"),
            sysname=s.get("sysname"),
            spoof=bool(s.get("spoof", False)),
        )
    udp_silent = tuple(int(p) for p in data.get("udp_silent") or ())
    if (ssdp is not None and 1900 in udp_silent) or (snmp is not None and 161 in udp_silent):
        raise ProfileError(f"{where}: a UDP port is both served and silent")
    raw_vars = data.get("vars") or {}
    if not isinstance(raw_vars, dict):
        raise ProfileError(f"{where}: vars must be a mapping")
    return DeviceProfile(
        id=pid,
        summary=str(data.get("summary", "")),
        identity=identity,
        hostile=hostile,
        decoy=decoy,
        services=services,
        sites=sites,
        reveals=_words(data.get("reveals"), f"{where} reveals"),
        reveals_with_snmp=_words(data.get("reveals_with_snmp"), f"{where} reveals_with_snmp"),
        tls=tls,
        ssdp=ssdp,
        snmp=snmp,
        udp_silent=udp_silent,
        vars={str(k): str(v) for k, v in raw_vars.items()},
        sources=tuple(str(x) for x in data.get("sources") or ()),
        path=where,
    )


@cache
def _load_all() -> tuple[DeviceProfile, ...]:
    folder = resources.files("routerwatch.lab").joinpath("devices")
    profiles = []
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))
    for name in names:
        where = f"lab/devices/{name}"
        try:
            data = yaml.safe_load(folder.joinpath(name).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ProfileError(f"{where}: not valid YAML: {exc}") from exc
        profiles.append(parse_profile(data, where))
    ids = [p.id for p in profiles]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ProfileError(f"lab/devices: duplicate profile ids {dupes}")

    def order(p: DeviceProfile) -> tuple[int, str]:
        return (2 if p.hostile else 1 if p.decoy else 0, p.path)

    return tuple(sorted(profiles, key=order))


def load_profiles(include_hostile: bool = True) -> list[DeviceProfile]:
    """Every device profile shipped in lab/devices: routers first (by file name), then the
    decoy(s), then the hostile devices (left out when ``include_hostile`` is False)."""
    return [p for p in _load_all() if include_hostile or p.hostile is None]
