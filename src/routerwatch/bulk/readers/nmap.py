"""nmap XML (``-oX``), streamed host by host with defusedxml's iterparse (no entities, no
external references).

Mapped per open TCP port: the scripts ``http-title`` (title), ``http-server-header`` (Server),
``http-headers`` (every header line), ``ssl-cert`` (subject/issuer from its tables), ``banner``
and ``ssh-hostkey``-free service banners (``banner`` script output), ``snmp-sysdescr``,
``upnp-info``; the MAC address and its vendor. The service detection result (name, product,
version, extrainfo, device type, CPEs) goes to the bag as ``nmap.service:<port>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from routerwatch.bulk.readers import _common as c
from routerwatch.bulk.readers.interface import MalformedRecord, Reader
from routerwatch.bulk.record import ReadStats, ScanRecord
from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate, UpnpDescription

_SSL_PORTS = {443, 8443, 4433}
_UPNP = re.compile(
    r"^\s*(Server|Location|Webserver|Name|Manufacturer|Model Descr|Model Name|Model Version"
    r"|Model Number|Serial Number)\s*:\s*(.+)$",
    re.M,
)


class NmapReader(Reader):
    name = "nmap"
    description = "nmap XML (-oX): services and scripts"
    line_based = False

    def sniff(self, head: bytes) -> bool:
        return b"<nmaprun" in head[:4096]

    def read_stream(self, stream: BinaryIO, where: str, stats: ReadStats) -> Iterator[ScanRecord]:
        try:
            for _event, elem in iterparse(stream, events=("end",), forbid_dtd=False):
                if elem.tag != "host":
                    continue
                stats.lines += 1
                try:
                    record = host_record(elem)
                except MalformedRecord as exc:
                    stats.bad(f"{where}: host {stats.lines}", str(exc))
                    record = None
                elem.clear()
                if record is not None:
                    yield record
        except (ParseError, DefusedXmlException) as exc:
            stats.bad(where, f"XML stops being readable here ({str(exc)[:120]})")


def host_record(host: Element) -> ScanRecord:
    address = None
    mac = mac_vendor = None
    for a in host.findall("address"):
        kind = a.get("addrtype")
        if kind in ("ipv4", "ipv6") and address is None:
            address = a.get("addr")
        elif kind == "mac":
            mac, mac_vendor = a.get("addr"), a.get("vendor")
    if not address:
        raise MalformedRecord("host without an IP address")
    status = host.find("status")
    ports: list[int] = []
    http: list[HttpObservation] = []
    banners: list[Banner] = []
    tls: list[TlsCertificate] = []
    extra: dict[str, str] = {}
    upnp: UpnpDescription | None = None
    sysdescr: str | None = None
    for port_el in host.iterfind("ports/port"):
        state = port_el.find("state")
        if state is None or state.get("state") != "open":
            continue
        number = c.port_number(port_el.get("portid"))
        if number is None:
            continue
        service = port_el.find("service")
        scripts = {s.get("id", ""): s for s in port_el.findall("script")}
        if port_el.get("protocol") != "tcp":
            if "snmp-sysdescr" in scripts:
                sysdescr = _first_line(scripts["snmp-sysdescr"].get("output", ""))
            if "upnp-info" in scripts:
                upnp = _upnp(scripts["upnp-info"].get("output", ""))
            extra[f"{port_el.get('protocol')}:{number}"] = (
                service.get("name", "") if service is not None else ""
            )
            continue
        ports.append(number)
        if service is not None:
            extra[f"nmap.service:{number}"] = _service_text(service)
        tunnel = service.get("tunnel") if service is not None else None
        scheme: Literal["http", "https"] = (
            "https" if tunnel == "ssl" or number in _SSL_PORTS else "http"
        )
        h = _http(number, scheme, scripts)
        if h is not None:
            http.append(h)
        if "ssl-cert" in scripts:
            cert = _certificate(scripts["ssl-cert"], number)
            if cert is not None:
                tls.append(cert)
        if "banner" in scripts:
            banners.append(c.banner(number, _unescape(scripts["banner"].get("output", ""))))
        if "upnp-info" in scripts:
            upnp = _upnp(scripts["upnp-info"].get("output", ""))
    obs = Observation(
        address=address,
        open_ports=tuple(sorted(set(ports))),
        http=tuple(http),
        banners=tuple(banners),
        tls=tuple(tls),
        upnp=upnp,
        snmp_sysdescr=sysdescr,
        mac=mac,
        mac_vendor=mac_vendor,
    )
    seen = host.get("endtime") or host.get("starttime")
    if status is not None and status.get("state") not in (None, "up"):
        extra["status"] = status.get("state", "")
    return ScanRecord(obs, "nmap", seen=seen, extra=extra)


def _service_text(service: Element) -> str:
    parts = [service.get(k) for k in ("name", "product", "version", "extrainfo", "devicetype")]
    cpes = [e.text or "" for e in service.findall("cpe")]
    return " | ".join(p for p in [*parts, *cpes] if p)[:512]


def _http(
    port: int, scheme: Literal["http", "https"], scripts: dict[str, Element]
) -> HttpObservation | None:
    headers: list[tuple[str, str]] = []
    title = None
    status = 200
    if "http-headers" in scripts:
        for line in scripts["http-headers"].get("output", "").splitlines():
            name, sep, value = line.strip().partition(":")
            if sep and name and " " not in name:
                headers.append((name, value.strip()))
            elif line.strip().startswith("HTTP/"):
                m = re.match(r"HTTP/\S+\s+(\d{3})", line.strip())
                status = int(m.group(1)) if m else status
    if "http-server-header" in scripts and not any(k.lower() == "server" for k, _ in headers):
        headers.append(("server", _first_line(scripts["http-server-header"].get("output", ""))))
    if "http-title" in scripts:
        el = scripts["http-title"].find("elem[@key='title']")
        title = (
            el.text
            if el is not None and el.text
            else _first_line(scripts["http-title"].get("output", ""))
        )
    if "http-auth" in scripts:
        for line in scripts["http-auth"].get("output", "").splitlines():
            if "realm=" in line:
                headers.append(("www-authenticate", line.strip()))
                status = 401
    if not headers and title is None:
        return None
    return c.http_from_parts(port, scheme, status, headers, title=title)


def _table(script: Element, key: str) -> dict[str, str]:
    table = script.find(f"table[@key='{key}']")
    out: dict[str, str] = {}
    if table is None:
        return out
    names = {
        "commonName": "CN",
        "organizationName": "O",
        "organizationalUnitName": "OU",
        "countryName": "C",
        "stateOrProvinceName": "ST",
        "localityName": "L",
    }
    for e in table.findall("elem"):
        k = e.get("key", "")
        out[names.get(k, k)] = e.text or ""
    return out


def _certificate(script: Element, port: int) -> TlsCertificate | None:
    subject = c.rfc4514(_table(script, "subject"))
    if not subject:
        m = re.search(r"Subject:\s*(.+)", script.get("output", ""))
        if m is None:
            return None
        subject = ",".join(
            p.strip().replace("commonName", "CN").replace("organizationName", "O")
            for p in m.group(1).split("/")
        )
    issuer = c.rfc4514(_table(script, "issuer"))
    validity = script.find("table[@key='validity']/elem[@key='notAfter']")
    return TlsCertificate(
        port=port,
        subject=subject,
        issuer=issuer,
        not_after=validity.text if validity is not None else None,
        self_signed=bool(issuer) and subject == issuer,
    )


def _upnp(output: str) -> UpnpDescription | None:
    fields: dict[str, Any] = {}
    keys = {
        "Server": "server",
        "Location": "location",
        "Name": "friendly_name",
        "Manufacturer": "manufacturer",
        "Model Descr": "model_description",
        "Model Name": "model_name",
        "Model Version": "model_number",
        "Model Number": "model_number",
        "Serial Number": "serial_number",
    }
    for m in _UPNP.finditer(output):
        key = keys.get(m.group(1))
        if key and key not in fields:
            fields[key] = m.group(2).strip()[:256]
    return UpnpDescription(**fields) if fields else None


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:1024]


def _unescape(text: str) -> bytes:
    """nmap's banner script escapes bytes as \\xNN and line ends as \\x0D\\x0A."""
    return c.unescape_hex(text)
