"""Shodan banners as JSON lines (``shodan download`` / the Streaming API): one service a line.

Mapped: ``ip_str``, ``port``, ``transport``, ``data`` (the raw banner: the HTTP response head for
http modules), ``http.html``/``title``/``server``/``favicon`` (``favicon.data`` is the icon in
base64: its MD5 is what the fingerprint rules read; ``favicon.hash``, Shodan's mmh3 hash,
becomes ``favicon_mmh3``, or goes to the bag when it is no 32-bit integer), ``ssl.cert``
subject/issuer/expires,
``snmp.description``, ``location.country_code``, ``asn``, ``timestamp``. Everything else (org,
isp, hostnames, product, cpe23, vulns, tags, ...) goes to the bag.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Literal

from routerwatch.bulk.readers import _common as c
from routerwatch.bulk.readers.interface import MalformedRecord, Reader, json_line
from routerwatch.bulk.record import ScanRecord, bag
from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate

_MAPPED = {
    "ip",
    "ip_str",
    "port",
    "transport",
    "data",
    "http",
    "ssl",
    "snmp",
    "location",
    "asn",
    "timestamp",
    "_shodan",
    "hash",
}


class ShodanReader(Reader):
    name = "shodan"
    address_key = "ip_str"
    description = "Shodan banner JSON lines (incl. http.favicon.hash)"

    def sniff(self, head: bytes) -> bool:
        line = head.lstrip().split(b"\n", 1)[0]
        return line.startswith(b"{") and b'"ip_str"' in line and b'"port"' in line

    def parse_line(self, line: bytes) -> list[ScanRecord]:
        doc = json_line(line, "ip_str")
        if doc is None:
            return []
        port = c.port_number(doc.get("port"))
        if port is None:
            raise MalformedRecord(f"bad port {doc.get('port')!r}")
        return [self._record(doc, port)]

    def _record(self, doc: dict[str, Any], port: int) -> ScanRecord:
        extra = bag(doc, _MAPPED)
        transport = str(doc.get("transport") or "tcp").lower()
        module = ""
        meta = doc.get("_shodan")
        if isinstance(meta, dict) and isinstance(meta.get("module"), str):
            module = meta["module"].lower()
        data = c.text(doc.get("data"))
        http: list[HttpObservation] = []
        banners: list[Banner] = []
        tls: list[TlsCertificate] = []
        snmp = doc.get("snmp")
        sysdescr = snmp.get("description") if isinstance(snmp, dict) else None
        ssl = doc.get("ssl")
        if isinstance(ssl, dict):
            cert = _certificate(ssl.get("cert"), port)
            if cert is not None:
                tls.append(cert)
        if isinstance(doc.get("http"), dict):
            scheme: Literal["http", "https"] = (
                "https" if ssl or module.startswith("https") else "http"
            )
            h = _http(doc["http"], data, port, scheme, extra)
            if h is not None:
                http.append(h)
        elif transport == "tcp" and data and not sysdescr:
            protocol = module if module in ("ssh", "ftp", "telnet") else None
            if module.startswith("socks"):
                protocol = "socks5"
            banners.append(c.banner(port, data, protocol))
        location = c.obj(doc.get("location"))
        country = (
            location.get("country_code") if isinstance(location.get("country_code"), str) else None
        )
        if transport != "tcp":
            extra[f"{transport}:{port}"] = data[:512]
        obs = Observation(
            address=doc["ip_str"],
            open_ports=(port,) if transport == "tcp" else (),
            http=tuple(http),
            banners=tuple(banners),
            tls=tuple(tls),
            snmp_sysdescr=sysdescr if isinstance(sysdescr, str) else None,
        )
        asn = doc.get("asn") if isinstance(doc.get("asn"), str) else None
        seen = doc.get("timestamp") if isinstance(doc.get("timestamp"), str) else None
        return ScanRecord(obs, self.name, country=country, asn=asn, seen=seen, extra=extra)


def _http(
    meta: dict[str, Any],
    data: str,
    port: int,
    scheme: Literal["http", "https"],
    extra: dict[str, str],
) -> HttpObservation | None:
    html = c.text(meta.get("html"))
    raw = c.to_bytes(data)
    favicon_md5 = None
    favicon_mmh3 = None
    favicon = meta.get("favicon")
    if isinstance(favicon, dict):
        if isinstance(favicon.get("hash"), int) and -(2**31) <= favicon["hash"] < 2**31:
            favicon_mmh3 = favicon["hash"]
        elif favicon.get("hash") is not None:
            extra[f"http.favicon.hash:{port}"] = str(favicon["hash"])[:32]
        if isinstance(favicon.get("data"), str):
            try:
                icon = base64.b64decode(favicon["data"], validate=False)
                favicon_md5 = hashlib.md5(icon, usedforsecurity=False).hexdigest()
            except (binascii.Error, ValueError):
                favicon_md5 = None
    head = c.head_from_raw(raw)
    title = meta.get("title") if isinstance(meta.get("title"), str) else None
    headers = list(head[1]) if head is not None else []
    if head is None and isinstance(meta.get("server"), str):
        headers.append(("server", meta["server"]))
    status = head[0] if head is not None else int(meta.get("status") or 200)
    return c.http_from_parts(
        port,
        scheme,
        status,
        headers,
        html,
        title=title,
        favicon_md5=favicon_md5,
        favicon_mmh3=favicon_mmh3,
    )


def _certificate(cert: Any, port: int) -> TlsCertificate | None:
    if not isinstance(cert, dict) or not isinstance(cert.get("subject"), dict):
        return None
    subject = c.rfc4514(cert.get("subject"))
    issuer = c.rfc4514(cert.get("issuer"))
    return TlsCertificate(
        port=port,
        subject=subject,
        issuer=issuer,
        not_after=cert.get("expires") if isinstance(cert.get("expires"), str) else None,
        self_signed=subject == issuer,
    )
