"""nmap XML (``-oX``), streamed host by host with defusedxml's parser (no entities, no
external references).

Two ways through a file, with the same records: :meth:`NmapReader.read_stream` parses the whole
document (iterparse); :meth:`NmapReader.route_stream` only cuts it into its ``<host>`` elements
(raw bytes and the address, found cheaply) so that the partitions parse them
(:meth:`NmapReader.parse_line`, one element) — the read stage of a bulk run then stays cheap and
the parsing is spread over the workers. Files whose prolog has an internal DTD subset
(entity declarations) or a non-UTF-8 encoding always take the whole-document way.

Mapped per open TCP port: the scripts ``http-title`` (title), ``http-server-header`` (Server),
``http-headers`` (every header line), ``ssl-cert`` (subject/issuer from its tables), ``banner``
and ``ssh-hostkey``-free service banners (``banner`` script output), ``snmp-sysdescr``,
``upnp-info``; the MAC address and its vendor. The service detection result (name, product,
version, extrainfo, device type, CPEs) goes to the bag as ``nmap.service:<port>``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO, Literal
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

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


_HOST = re.compile(rb"<host[\s>]")
_HOST_END = b"</host>"
_ADDRESS = re.compile(rb"<address\s([^<>]*?)/?>")
_ATTR = re.compile(rb'([A-Za-z_:][-\w.:]*)\s*=\s*(?:"([^"<&]*)"|\'([^\'<&]*)\')')
_ENCODING = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([^"']+)""")
_BLOCK = 1 << 20
_PARSER_USES = 20_000  # elements one pull parser takes before a fresh one (bounds its tree)


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

    def splits(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` can be cut into host elements: its prolog
        (before the first ``<host``) declares no DTD subset of its own (nmap's DOCTYPE names
        only the external nmap.dtd) and its encoding is UTF-8 or ASCII."""
        m = _HOST.search(head)
        if m is None:
            return False
        prolog = head[: m.start()]
        doctype = prolog.find(b"<!DOCTYPE")
        if b"<!ENTITY" in prolog or (doctype >= 0 and b"[" in prolog[doctype:].split(b">")[0]):
            return False  # an internal DTD subset: only the whole-document parser refuses it
        enc = _ENCODING.search(prolog)
        return enc is None or enc.group(1).lower() in (b"utf-8", b"utf8", b"us-ascii", b"ascii")

    def route_stream(
        self, stream: BinaryIO, where: str, stats: ReadStats
    ) -> Iterator[tuple[str, int, bytes]]:
        """(address, element number, element) for each ``<host>`` element of the stream, its
        line ends made CRs (XML reads CR, CRLF and LF alike) so that it fits on one spill line.
        Elements over MAX_LINE bytes and a file ending inside an element are counted."""
        from routerwatch.bulk.io import MAX_LINE

        buf = b""
        pos = 0
        number = 0
        skipping = False  # inside an overlong element: drop bytes up to its end
        eof = False
        while True:
            if skipping:
                end = buf.find(_HOST_END, pos)
                if end >= 0:
                    skipping, pos = False, end + len(_HOST_END)
                    continue
                buf, pos = buf[-len(_HOST_END):], 0
            else:
                m = _HOST.search(buf, pos)
                if m is not None:
                    end = buf.find(_HOST_END, m.start())
                    if end >= 0:
                        number += 1
                        stats.lines += 1
                        element = buf[m.start() : end + len(_HOST_END)]
                        pos = end + len(_HOST_END)
                        address = _address(element)
                        if address is None:
                            stats.bad(f"{where}: host {number}", "host without an IP address")
                            continue
                        yield address, number, element.replace(b"\r\n", b"\r").replace(
                            b"\n", b"\r"
                        )
                        continue
                    if len(buf) - m.start() > MAX_LINE:
                        number += 1
                        stats.lines += 1
                        stats.bad(f"{where}: host {number}", "host element too long (skipped)")
                        skipping, pos = True, m.start() + 1
                        continue
                    buf, pos = buf[m.start() :], 0
                else:
                    buf, pos = buf[max(pos, len(buf) - 6) :], 0
            if eof:
                if not skipping and _HOST.search(buf) is not None:
                    stats.bad(where, "file ends inside a <host> element")
                return
            block = stream.read(_BLOCK)
            if not block:
                eof = True
            buf += block

    def parse_line(self, line: bytes) -> list[ScanRecord]:
        """The record of one ``<host>`` element (as route_stream cut it)."""
        parser = getattr(_ELEMENTS, "parser", None)
        if parser is None:
            parser = _ELEMENTS.parser = _ElementParser()
        element = parser.parse(line)
        try:
            return [host_record(element)]
        finally:
            element.clear()


def _address(element: bytes) -> str | None:
    """The address host_record finds in a host element (the first ipv4/ipv6 <address>), read
    without parsing; None when it is not plainly there (the element is then malformed)."""
    for m in _ADDRESS.finditer(element):
        attrs = {k: v if v is not None else w for k, v, w in _ATTR.findall(m.group(1))}
        if attrs.get(b"addrtype") in (b"ipv4", b"ipv6"):
            addr = attrs.get(b"addr")
            if not addr:
                return None
            try:
                return addr.decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


class _ElementParser:
    """One pull parser per thread, fed host element after host element inside a synthetic
    root (a parser a call would cost as much as the parse). An element that is not exactly one
    well-formed ``<host>`` is a MalformedRecord, and the parser starts afresh.

    It is the C parser, not defusedxml's (whose Python handlers cost ~3x): what it reads can
    declare nothing. Its document is ``<nmaprun>`` and elements, so there is no DTD — a
    DOCTYPE or ENTITY declaration inside an element is a syntax error — and an entity it
    does not know (only the five XML ones exist) is an error, not a fetch."""

    def __init__(self) -> None:
        self._pull: XMLPullParser[Element] | None = None
        self._uses = 0

    def _fresh(self) -> XMLPullParser[Element]:
        pull: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
        pull.feed(b"<nmaprun>")
        list(pull.read_events())
        self._uses = 0
        return pull

    def parse(self, element: bytes) -> Element:
        pull: XMLPullParser[Element] | None = (
            self._pull if self._pull is not None and self._uses < _PARSER_USES else None
        )
        if pull is None:
            pull = self._pull = self._fresh()
        self._uses += 1
        try:
            pull.feed(element)
            events: list[tuple[str, Element]] = list(pull.read_events())  # type: ignore[arg-type]
        except ParseError as exc:
            self._pull = None
            raise MalformedRecord(f"XML not readable ({str(exc)[:120]})") from exc
        whole = (
            len(events) >= 2 and events[0][0] == "start" and events[-1][0] == "end"
            and events[0][1] is events[-1][1] and events[-1][1].tag == "host"
        )  # fmt: skip
        if not whole:
            self._pull = None
            raise MalformedRecord("not one whole <host> element")
        host: Element = events[-1][1]
        return host


_ELEMENTS = threading.local()  # one _ElementParser per thread (workers may run several tasks)


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
