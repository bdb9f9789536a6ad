"""A realistic scan-dataset generator for benchmarks and tests.

Router hosts are built from the lab's device files (routerwatch/lab/devices: real pages, banners,
realms, certificates and the Quad7/AyySSHush compromise markers they copy from captures), each
rendered per host (MAC, serial, dates) and thinned at random (scans miss ports). The rest is the
long tail real Internet scans are made of: web servers, SSH/FTP daemons and odd services in many
versions, on many ports, plus junk lines (truncated JSON, binary, wrong shapes). Output in any
reader format, so every reader is exercised by the benchmark.

Addresses are drawn from 10.0.0.0/8 and 100.64.0.0/10: data only, never contacted.
"""

from __future__ import annotations

import base64
import ipaddress
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

import orjson

FORMATS = ("shodan", "zgrab2", "censys", "masscan-list", "nmap")
COUNTRIES = (
    ("US", 22),
    ("CN", 14),
    ("BR", 7),
    ("DE", 5),
    ("RU", 5),
    ("IN", 5),
    ("KR", 4),
    ("JP", 4),
    ("VN", 3),
    ("GB", 3),
    ("FR", 3),
    ("IT", 3),
    ("TW", 2),
    ("MX", 2),
    ("ID", 2),
    ("TR", 2),
    ("PL", 2),
    ("AR", 1),
    ("NL", 1),
    ("ZA", 1),
)
_T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class HostTemplate:
    """What one kind of host shows a scanner, before per-host variation."""

    name: str
    router: bool
    http: tuple[tuple[int, str, int, tuple[tuple[str, str], ...], str], ...] = ()
    banners: tuple[tuple[int, str, bytes], ...] = ()  # port, protocol, greeting bytes
    socks: tuple[int, ...] = ()
    tls: tuple[tuple[int, str, str], ...] = ()  # port, subject, issuer
    silent: tuple[int, ...] = ()  # open ports that said nothing


@dataclass
class Host:
    address: str
    template: HostTemplate
    country: str
    asn: str
    when: datetime
    http: list[tuple[int, str, int, list[tuple[str, str]], str]] = field(default_factory=list)
    banners: list[tuple[int, str, bytes]] = field(default_factory=list)
    socks: list[int] = field(default_factory=list)
    tls: list[tuple[int, str, str]] = field(default_factory=list)
    silent: list[int] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        ports = {h[0] for h in self.http} | {b[0] for b in self.banners} | set(self.socks)
        return sorted(ports | {t[0] for t in self.tls} | set(self.silent))


# --------------------------------------------------------------------------- templates


@cache
def lab_templates() -> tuple[HostTemplate, ...]:
    """One template per lab device (routers, the decoy and the hostile hosts)."""
    from routerwatch.lab.context import DeviceContext
    from routerwatch.lab.profiles import load_profiles

    out = []
    for profile in load_profiles(include_hostile=True):
        ctx = DeviceContext(address="192.0.2.1", profile=profile)
        http, banners, socks, tls, silent = [], [], [], [], []
        for s in profile.services:
            if s.kind in ("http", "https") and s.site in profile.sites:
                site = profile.sites[s.site]
                route = site.route("GET", "/", "", ctx.render_text)
                headers = [(k, ctx.render_text(v)) for k, v in (*site.headers, *route.headers)]
                body = ctx.body(route.body, route.body_file, route.template)
                http.append(
                    (
                        s.port,
                        s.kind,
                        route.status,
                        tuple(headers),
                        body[:16384].decode("utf-8", "replace"),
                    )
                )
                if s.kind == "https" and profile.tls is not None:
                    subject = ctx.render_text(profile.tls.subject)
                    issuer = ctx.render_text(profile.tls.issuer) if profile.tls.issuer else subject
                    tls.append((s.port, subject, issuer))
            elif s.kind in ("banner", "telnet", "xlogin"):
                greeting = ctx.render(s.greeting) + ctx.render(s.prompt)
                protocol = s.protocol or ("telnet" if s.kind == "telnet" else "tcp")
                banners.append((s.port, protocol, greeting))
            elif s.kind == "socks5":
                socks.append(s.port)
            else:  # tarpit, drip, garbage, silent, tls-fail, endless-http: open, nothing usable
                silent.append(s.port)
        out.append(
            HostTemplate(
                name=profile.id,
                router=profile.identity is not None,
                http=tuple(http),
                banners=tuple(banners),
                socks=tuple(socks),
                tls=tuple(tls),
                silent=tuple(silent),
            )
        )
    return tuple(out)


def capture_templates(folder: Path) -> tuple[HostTemplate, ...]:
    """Templates from the captures corpus (tests/captures/index.yaml: responses of real devices
    with provenance): its HTTP, banner and TLS captures; UPnP, SSDP and SNMP captures are not
    what Internet scan datasets hold and are left out. A title-only HTTP capture becomes the
    page ``<title>…</title>``."""
    import yaml

    index = yaml.safe_load((folder / "index.yaml").read_text("utf-8"))
    out = []
    for device in index.get("devices", []):
        http, banners, tls = [], [], []
        for cap in device.get("captures", []):
            kind = cap.get("kind")
            port = int(cap.get("port", 80 if kind == "http" else 443))
            if kind == "http":
                headers = tuple((str(k), str(v)) for k, v in (cap.get("headers") or {}).items())
                if cap.get("body"):
                    body = (folder / cap["body"]).read_bytes()[:16384].decode("utf-8", "replace")
                else:
                    body = f"<title>{_xml(str(cap['title']))}</title>" if cap.get("title") else ""
                scheme = "https" if port == 443 else "http"
                http.append((port, scheme, int(cap.get("status", 200)), headers, body))
            elif kind == "banner":
                banners.append((port, str(cap.get("protocol", "tcp")), str(cap["text"]).encode()))
            elif kind == "tls":
                tls.append((port, str(cap.get("subject", "")), str(cap.get("issuer", ""))))
        if http or banners or tls:
            out.append(
                HostTemplate(f"capture:{device['id']}", True, tuple(http), tuple(banners), (),
                             tuple(tls))
            )  # fmt: skip
    return tuple(out)


_WEB = (
    (
        "nginx",
        ["1.14.0", "1.14.2", "1.16.1", "1.18.0", "1.20.1", "1.22.1", "1.24.0", "1.25.3", "1.26.2"],
    ),
    (
        "Apache",
        [
            "2.4.29 (Ubuntu)",
            "2.4.41 (Ubuntu)",
            "2.4.52 (Ubuntu)",
            "2.4.6 (CentOS)",
            "2.4.57 (Debian)",
            "2.2.15 (CentOS)",
        ],
    ),
    ("Microsoft-IIS", ["7.5", "8.5", "10.0"]),
    ("lighttpd", ["1.4.35", "1.4.45", "1.4.59"]),
    ("openresty", ["1.19.9.1", "1.21.4.1"]),
    ("cloudflare", [""]),
    ("Boa", ["0.94.14rc21"]),
    ("mini_httpd", ["1.19 19dec2003", "1.30 26Oct2018"]),
    ("GoAhead-Webs", [""]),
    ("Jetty", ["9.4.z-SNAPSHOT", "9.4.43.v20210629"]),
)
_TITLES = (
    "Welcome to nginx!",
    "Apache2 Ubuntu Default Page: It works",
    "IIS Windows Server",
    "403 Forbidden",
    "404 Not Found",
    "Login",
    "Index of /",
    "Test Page for the Apache HTTP Server",
    "Dashboard",
    "Web Server's Default Page",
    "Document",
    "Site under construction",
    "",
)
_SSH = (
    "OpenSSH_7.4",
    "OpenSSH_7.6p1 Ubuntu-4ubuntu0.7",
    "OpenSSH_8.2p1 Ubuntu-4ubuntu0.11",
    "OpenSSH_8.9p1 Ubuntu-3ubuntu0.10",
    "OpenSSH_9.2p1 Debian-2+deb12u3",
    "OpenSSH_9.6",
    "dropbear_2019.78",
    "dropbear_2020.81",
    "dropbear_2022.83",
    "Cisco-1.25",
    "OpenSSH_for_Windows_8.1",
)
_FTP = (
    "220 (vsFTPd 3.0.3)",
    "220 ProFTPD Server (Debian) [::ffff:10.0.0.1]",
    "220 Microsoft FTP Service",
    "220-FileZilla Server 0.9.60 beta",
    "220 Welcome to Pure-FTPd [privsep] [TLS]",
)
_ODD = (
    (3306, b"J\x00\x00\x00\n5.7.44-log\x00"),
    (6379, b"-NOAUTH Authentication required.\r\n"),
    (25, b"220 mail.example.com ESMTP Postfix (Ubuntu)\r\n"),
    (110, b"+OK Dovecot ready.\r\n"),
    (5900, b"RFB 003.008\n"),
    (1883, b""),
    (8291, b""),
    (7547, b""),
    (161, b""),
)
_REALMS = ("Restricted", "admin", "Authorization Required", "Protected")
_WEB_PORTS = (80, 80, 80, 443, 443, 8080, 8443, 8000, 8888, 81, 5000)


def tail_template(rng: random.Random) -> HostTemplate:
    """One non-router host of the long tail (web, SSH, FTP, mail, databases, odd ports)."""
    http, banners, silent = [], [], []
    kind = rng.random()
    if kind < 0.65:
        product, versions = rng.choice(_WEB)
        version = rng.choice(versions)
        server = (
            f"{product}/{version}"
            if version and product != "Boa"
            else product + (f"/{version}" if version else "")
        )
        title = rng.choice(_TITLES)
        status = rng.choice((200, 200, 200, 301, 302, 403, 404, 401))
        body = (
            f"<html><head><title>{title}</title></head><body>{title}</body></html>" if title else ""
        )
        headers = [("Server", server), ("Content-Type", "text/html")]
        if status == 401:
            headers.append(
                (
                    "WWW-Authenticate",
                    f'Basic realm="{rng.choice(_REALMS)}"',
                )
            )
        http.append((rng.choice(_WEB_PORTS), "http", status, tuple(headers), body))
        if rng.random() < 0.3:
            banners.append((22, "ssh", f"SSH-2.0-{rng.choice(_SSH)}\r\n".encode()))
    elif kind < 0.85:
        banners.append(
            (rng.choice((22, 22, 22, 2222)), "ssh", f"SSH-2.0-{rng.choice(_SSH)}\r\n".encode())
        )
    elif kind < 0.92:
        banners.append((21, "ftp", (rng.choice(_FTP) + "\r\n").encode()))
    else:
        port, greeting = rng.choice(_ODD)
        if greeting:
            banners.append((port, "tcp", greeting))
        else:
            silent.append(port)
    return HostTemplate("tail", False, tuple(http), tuple(banners), (), (), tuple(silent))


# --------------------------------------------------------------------------- hosts


def _address(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return str(ipaddress.IPv4Address(0x0A000000 + rng.randrange(1 << 24)))
    return str(ipaddress.IPv4Address(0x64400000 + rng.randrange(1 << 22)))


def hosts(
    n: int,
    seed: int = 1,
    router_share: float = 0.15,
    each_lab_once: bool = False,
    extra_templates: tuple[HostTemplate, ...] = (),
) -> Iterator[Host]:
    """``n`` hosts: ``router_share`` of them from the lab templates, the rest long tail.
    With ``each_lab_once`` the first hosts are every lab template once, unthinned."""
    rng = random.Random(seed)
    labs = lab_templates() + extra_templates
    countries = [c for c, _ in COUNTRIES]
    weights = [w for _, w in COUNTRIES]
    for i in range(n):
        once = each_lab_once and i < len(labs)
        if once:
            template = labs[i]
        else:
            template = rng.choice(labs) if rng.random() < router_share else tail_template(rng)
        when = _T0 + timedelta(seconds=rng.randrange(30 * 86400))
        host = Host(
            address=_address(rng),
            template=template,
            country=rng.choices(countries, weights)[0],
            asn=f"AS{rng.randrange(1000, 270000)}",
            when=when,
        )
        keep = 0.9 if template.router and not once else 1.0
        for port, scheme, status, headers, body in template.http:
            if rng.random() < keep:
                hdrs = [*headers, ("Date", format_datetime(when, usegmt=True))]
                host.http.append((port, scheme, status, hdrs, body))
        host.banners = [b for b in template.banners if rng.random() < keep]
        host.socks = list(template.socks)
        host.tls = [t for t in template.tls if any(h[0] == t[0] for h in host.http)]
        host.silent = list(template.silent)
        if not host.ports:
            host.silent = [80]
        yield host


# --------------------------------------------------------------------------- formats


def _raw_http(status: int, headers: list[tuple[str, str]]) -> str:
    lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Status'}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return "\r\n".join(lines) + "\r\n\r\n"


def _dn_dict(rfc4514: str) -> dict[str, str]:
    out = {}
    for part in rfc4514.replace("\\,", "\x00").split(","):
        k, _, v = part.partition("=")
        if k:
            out[k.strip()] = v.replace("\x00", ",")
    return out


def _zgrab_dn(rfc4514: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in reversed(list(_dn_dict(rfc4514).items())))


def _text(b: bytes) -> str:
    return b.decode("latin-1")


def shodan_lines(h: Host) -> list[bytes]:
    ts = h.when.strftime("%Y-%m-%dT%H:%M:%S.%f")
    base = {
        "ip_str": h.address,
        "timestamp": ts,
        "asn": h.asn,
        "transport": "tcp",
        "location": {"country_code": h.country, "country_name": None, "city": None},
        "org": f"Example ISP {h.asn}",
        "hostnames": [],
    }
    out = []
    certs = {t[0]: t for t in h.tls}
    for port, scheme, status, headers, body in h.http:
        server = next((v for k, v in headers if k.lower() == "server"), None)
        rec = dict(
            base,
            port=port,
            data=_raw_http(status, headers),
            _shodan={"module": "https" if scheme == "https" else "http"},
            http={
                "status": status,
                "html": body[:4096],
                "server": server,
                "title": _title(body),
                "redirects": [],
            },
        )
        if port in certs:
            rec["ssl"] = {
                "cert": {
                    "subject": _dn_dict(certs[port][1]),
                    "issuer": _dn_dict(certs[port][2]),
                    "expires": "20390101000000Z",
                }
            }
        out.append(orjson.dumps(rec))
    for port, protocol, greeting in h.banners:
        out.append(
            orjson.dumps(
                dict(
                    base,
                    port=port,
                    data=_text(greeting),
                    _shodan={"module": protocol if protocol != "tcp" else "auto"},
                )
            )
        )
    for port in h.socks:
        out.append(
            orjson.dumps(dict(base, port=port, data="\x05\x00", _shodan={"module": "socks"}))
        )
    for port in h.silent:
        out.append(orjson.dumps(dict(base, port=port, data="", _shodan={"module": "auto"})))
    return out


def _title(body: str) -> str | None:
    lo = body.lower()
    i = lo.find("<title>")
    j = lo.find("</title>", i + 7)
    return body[i + 7 : j].strip() if i >= 0 and j > i else None


def zgrab2_lines(h: Host) -> list[bytes]:
    data: dict[str, Any] = {}
    ts = h.when.strftime("%Y-%m-%dT%H:%M:%SZ")
    certs = {t[0]: t for t in h.tls}
    for port, scheme, status, headers, body in h.http:
        hdrs: dict[str, Any] = {}
        for k, v in headers:
            hdrs.setdefault(k.lower().replace("-", "_"), []).append(v)
        request: dict[str, Any] = {
            "url": {"scheme": scheme, "host": f"{h.address}:{port}", "path": "/"},
            "method": "GET",
        }
        if port in certs:
            request["tls_log"] = {
                "handshake_log": {
                    "server_certificates": {
                        "certificate": {
                            "parsed": {
                                "subject_dn": _zgrab_dn(certs[port][1]),
                                "issuer_dn": _zgrab_dn(certs[port][2]),
                                "validity": {"end": "2039-01-01T00:00:00Z"},
                            }
                        }
                    }
                }
            }
        data[f"http-{port}"] = {
            "status": "success",
            "protocol": "http",
            "port": port,
            "timestamp": ts,
            "result": {
                "response": {
                    "status_code": status,
                    "status_line": f"{status}",
                    "headers": hdrs,
                    "body": body[:4096],
                    "request": request,
                }
            },
        }
    for port, protocol, greeting in h.banners:
        if protocol == "ssh":
            data[f"ssh-{port}"] = {
                "status": "success",
                "protocol": "ssh",
                "port": port,
                "timestamp": ts,
                "result": {"server_id": {"raw": _text(greeting).strip()}},
            }
        else:
            module = "telnet" if protocol == "telnet" else "banner"
            data[f"{module}-{port}"] = {
                "status": "success",
                "protocol": module,
                "port": port,
                "timestamp": ts,
                "result": {"banner": _text(greeting)},
            }
    for port in h.socks:
        data[f"socks5-{port}"] = {
            "status": "success",
            "protocol": "socks5",
            "port": port,
            "timestamp": ts,
            "result": {"version": "0x05", "method_selection": "0500"},
        }
    for port in h.silent:
        data[f"banner-{port}"] = {
            "status": "io-timeout",
            "protocol": "banner",
            "port": port,
            "timestamp": ts,
            "error": "read tcp: i/o timeout",
        }
    return [orjson.dumps({"ip": h.address, "data": data})]


def censys_lines(h: Host) -> list[bytes]:
    services: list[dict[str, Any]] = []
    certs = {t[0]: t for t in h.tls}
    for port, _scheme, status, headers, body in h.http:
        hdrs: dict[str, Any] = {}
        for k, v in headers:
            hdrs.setdefault(k, {"headers": []})["headers"].append(v)
        svc: dict[str, Any] = {
            "port": port,
            "service_name": "HTTP",
            "transport_protocol": "TCP",
            "http": {
                "request": {"method": "GET", "uri": f"http://{h.address}:{port}/"},
                "response": {
                    "status_code": status,
                    "headers": hdrs,
                    "html_title": _title(body),
                    "body": body[:4096],
                },
            },
        }
        if port in certs:
            svc["tls"] = {
                "certificates": {
                    "leaf_data": {
                        "subject_dn": _zgrab_dn(certs[port][1]),
                        "issuer_dn": _zgrab_dn(certs[port][2]),
                    }
                }
            }
        services.append(svc)
    for port, protocol, greeting in h.banners:
        if protocol == "ssh":
            services.append(
                {
                    "port": port,
                    "service_name": "SSH",
                    "transport_protocol": "TCP",
                    "ssh": {"endpoint_id": {"raw": _text(greeting).strip()}},
                }
            )
        else:
            services.append(
                {
                    "port": port,
                    "service_name": protocol.upper() if protocol != "tcp" else "UNKNOWN",
                    "transport_protocol": "TCP",
                    "banner": _text(greeting),
                }
            )
    for port in h.socks:
        services.append({"port": port, "service_name": "SOCKS", "transport_protocol": "TCP"})
    for port in h.silent:
        services.append({"port": port, "service_name": "UNKNOWN", "transport_protocol": "TCP"})
    return [
        orjson.dumps(
            {
                "ip": h.address,
                "services": services,
                "location": {"country_code": h.country},
                "autonomous_system": {"asn": int(h.asn[2:])},
                "last_updated_at": h.when.isoformat(),
            }
        )
    ]


def _masscan_escape(b: bytes) -> str:
    return "".join(chr(c) if 0x20 <= c < 0x7F and c != 0x5C else f"\\x{c:02x}" for c in b)


def masscan_lines(h: Host) -> list[bytes]:
    ts = int(h.when.timestamp())
    out = [f"open tcp {p} {h.address} {ts}" for p in h.ports]
    for port, _scheme, status, headers, body in h.http:
        raw = _raw_http(status, headers).encode("latin-1", "replace")
        out.append(f"banner tcp {port} {h.address} {ts} http {_masscan_escape(raw[:1024])}")
        title = _title(body)
        if title:
            out.append(
                f"banner tcp {port} {h.address} {ts} title {_masscan_escape(title.encode())}"
            )
    for port, protocol, greeting in h.banners:
        service = protocol if protocol in ("ssh", "ftp", "telnet") else "unknown"
        out.append(f"banner tcp {port} {h.address} {ts} {service} {_masscan_escape(greeting)}")
    return [line.encode("utf-8") for line in out]


def nmap_host(h: Host) -> bytes:
    ports = []
    http = {p[0]: p for p in h.http}
    banners = {b[0]: b for b in h.banners}
    for port in h.ports:
        scripts = []
        if port in http:
            _p, _s, status, headers, body = http[port]
            head = "\n".join([f"HTTP/1.1 {status} Status", *(f"{k}: {v}" for k, v in headers)])
            scripts.append(f'<script id="http-headers" output={quoteattr(head)}/>')
            title = _title(body)
            if title:
                scripts.append(
                    f'<script id="http-title" output={quoteattr(title)}><elem key="title">'
                    f"{_xml(title)}</elem></script>"
                )
        if port in banners:
            scripts.append(
                f'<script id="banner" output={quoteattr(_masscan_escape(banners[port][2]))}/>'
            )
        ports.append(
            f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack"/>'
            f'<service name="unknown" method="table" conf="3"/>{"".join(scripts)}</port>'
        )
    return (
        f'<host starttime="{int(h.when.timestamp())}"><status state="up" reason="syn-ack"/>'
        f'<address addr="{h.address}" addrtype="ipv4"/><ports>{"".join(ports)}</ports></host>\n'
    ).encode()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_WRITERS = {
    "shodan": shodan_lines,
    "zgrab2": zgrab2_lines,
    "censys": censys_lines,
    "masscan-list": masscan_lines,
}
JUNK = (
    b'{"ip": "10.0.0.1", "data": {',
    b"\x00\x01\x02binary\xff\xfe",
    b"not json at all",
    b"[1, 2, 3]",
    b'{"ip": 12345}',
    b"open tcp notaport 10.0.0.1 0",
    b"{}",
    b'"just a string"',
)


def write_dataset(
    path: str | Path,
    fmt: str,
    records: int,
    *,
    seed: int = 1,
    router_share: float = 0.15,
    junk_share: float = 0.002,
    each_lab_once: bool = False,
    captures: Path | None = None,
) -> dict[str, int]:
    """Write about ``records`` records (lines; nmap: hosts) in ``fmt``; returns the counts.
    With ``captures`` (a tests/captures folder) its real devices join the lab's as routers."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    rng = random.Random(seed + 7)
    counts = {"records": 0, "hosts": 0, "junk": 0}
    with _open_out(path) as out:
        if fmt == "nmap":
            out.write(b'<?xml version="1.0"?>\n<nmaprun scanner="nmap" args="nmap -sV">\n')
        elif fmt == "masscan-list":
            out.write(b"#masscan\n")
        extra = capture_templates(captures) if captures is not None else ()
        for host in hosts(10**12, seed, router_share, each_lab_once, extra):
            if counts["records"] >= records:
                break
            counts["hosts"] += 1
            if fmt == "nmap":
                out.write(nmap_host(host))
                counts["records"] += 1
                continue
            for line in _WRITERS[fmt](host):
                out.write(line + b"\n")
                counts["records"] += 1
            if rng.random() < junk_share:
                out.write(rng.choice(JUNK) + b"\n")
                counts["junk"] += 1
        if fmt == "nmap":
            out.write(b"</nmaprun>\n")
        elif fmt == "masscan-list":
            out.write(b"# end\n")
    return counts


def _open_out(path: str | Path) -> IO[bytes]:
    p = Path(path)
    if p.suffix == ".zst":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(open(p, "wb"), closefd=True)
    if p.suffix == ".gz":
        import gzip

        return gzip.open(p, "wb", compresslevel=3)  # type: ignore[return-value]
    return open(p, "wb")


__all__ = ["FORMATS", "HostTemplate", "base64", "hosts", "lab_templates", "write_dataset"]
