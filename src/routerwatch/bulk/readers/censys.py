"""Censys host JSON: one host a line (bulk exports), or one API host view document.

Search 2.0 host shape: ``ip``, ``location.country_code``, ``autonomous_system.asn`` and
``services[]`` with ``port``, ``service_name``, ``transport_protocol``, ``banner``,
``http.response`` (``status_code``, ``headers`` as ``{name: [values]}`` or ``{name: {"headers":
[values]}}``, ``html_title``, ``body``, ``favicons[].md5_hash``), ``http.request.uri``,
``tls.certificates.leaf_data`` (``subject_dn``, ``issuer_dn``), ``ssh.endpoint_id.raw``. An API
response wrapper ``{"code", "status", "result": {...}}`` is unwrapped. Unmapped host fields and
services go to the bag.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, Literal

from routerwatch.bulk.io import MAX_DOCUMENT
from routerwatch.bulk.readers import _common as c
from routerwatch.bulk.readers.interface import MalformedRecord, Reader, json_line
from routerwatch.bulk.record import ReadStats, ScanRecord, bag
from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate

_MAPPED = {"ip", "services", "location", "autonomous_system", "last_updated_at"}


class CensysReader(Reader):
    name = "censys"
    address_key = "ip"
    description = "Censys host JSON (one host a line, or one API host view)"

    def sniff(self, head: bytes) -> bool:
        text = head.lstrip()
        return text.startswith(b"{") and b'"services"' in text[:65536] and b'"ip"' in text[:65536]

    def parse_line(self, line: bytes) -> list[ScanRecord]:
        doc = json_line(line, "ip")
        return [] if doc is None else [host_record(doc)]

    def read_whole(self, stream: BinaryIO, where: str, stats: ReadStats) -> Iterator[ScanRecord]:
        """A pretty-printed single document (an API view), bounded by MAX_DOCUMENT."""
        data = stream.read(MAX_DOCUMENT + 1)
        if len(data) > MAX_DOCUMENT:
            stats.bad(where, f"document larger than {MAX_DOCUMENT} bytes")
            return
        stats.lines += 1
        try:
            yield from self.parse_line(data)
        except MalformedRecord as exc:
            stats.bad(where, str(exc))


def host_record(doc: Any) -> ScanRecord:
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict) and "code" in doc:
        doc = doc["result"]
    if not isinstance(doc, dict) or not isinstance(doc.get("ip"), str):
        raise MalformedRecord("no 'ip' string")
    services = c.items(doc.get("services"))
    ports: set[int] = set()
    http: list[HttpObservation] = []
    banners: list[Banner] = []
    tls: list[TlsCertificate] = []
    extra = bag(doc, _MAPPED)
    for svc in services:
        if not isinstance(svc, dict):
            continue
        port = c.port_number(svc.get("port"))
        name = str(svc.get("service_name") or svc.get("extended_service_name") or "").upper()
        transport = str(svc.get("transport_protocol") or "TCP").upper()
        if port is None:
            continue
        if transport != "TCP":
            extra[f"{transport.lower()}:{port}"] = name
            continue
        ports.add(port)
        cert = _certificate(svc.get("tls"), port)
        if cert is not None:
            tls.append(cert)
        if isinstance(svc.get("http"), dict):
            h = _http(svc["http"], port, "https" if cert is not None else "http")
            if h is not None:
                http.append(h)
                continue
        ssh = svc.get("ssh")
        endpoint = ssh.get("endpoint_id") if isinstance(ssh, dict) else None
        if isinstance(endpoint, dict) and isinstance(endpoint.get("raw"), str):
            banners.append(Banner(port=port, protocol="ssh", text=endpoint["raw"][:1024]))
            continue
        if isinstance(svc.get("banner"), str) and svc["banner"]:
            protocol = name.lower() if name in ("SSH", "FTP", "TELNET") else None
            banners.append(c.banner(port, svc["banner"], protocol))
        elif name and name not in ("HTTP", "UNKNOWN"):
            extra[f"service:{port}"] = name
    location = c.obj(doc.get("location"))
    asys = c.obj(doc.get("autonomous_system"))
    obs = Observation(
        address=doc["ip"],
        open_ports=tuple(sorted(ports)),
        http=tuple(http),
        banners=tuple(banners),
        tls=tuple(tls),
    )
    country = location.get("country_code")
    asn = asys.get("asn")
    seen = doc.get("last_updated_at")
    return ScanRecord(
        obs,
        "censys",
        country=country if isinstance(country, str) else None,
        asn=f"AS{asn}" if isinstance(asn, int) else asn if isinstance(asn, str) else None,
        seen=seen if isinstance(seen, str) else None,
        extra=extra,
    )


def _headers(raw: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return out
    for name, values in raw.items():
        if isinstance(values, dict):
            values = values.get("headers", [])
        for v in values if isinstance(values, list) else [values]:
            if v is not None:
                out.append((str(name).replace("_", "-"), str(v)))
    return out


def _http(
    meta: dict[str, Any], port: int, scheme: Literal["http", "https"]
) -> HttpObservation | None:
    response = meta.get("response")
    if not isinstance(response, dict):
        return None
    status = response.get("status_code")
    if not isinstance(status, int):
        return None
    request = c.obj(meta.get("request"))
    uri = str(request.get("uri") or "/")
    path = (
        "/" + uri.split("://", 1)[-1].split("/", 1)[1]
        if "://" in uri and "/" in uri.split("://", 1)[-1]
        else "/"
    )
    favicons = response.get("favicons")
    md5 = None
    if isinstance(favicons, list) and favicons and isinstance(favicons[0], dict):
        md5 = favicons[0].get("md5_hash") if isinstance(favicons[0].get("md5_hash"), str) else None
    title = response.get("html_title") if isinstance(response.get("html_title"), str) else None
    body = c.text(response.get("body"))
    return c.http_from_parts(
        port,
        scheme,
        status,
        _headers(response.get("headers")),
        body,
        path=path,
        method=str(request.get("method") or "GET"),
        title=title,
        favicon_md5=md5,
    )


def _certificate(meta: Any, port: int) -> TlsCertificate | None:
    if not isinstance(meta, dict):
        return None
    certs = meta.get("certificates")
    leaf = certs.get("leaf_data") if isinstance(certs, dict) else None
    if not isinstance(leaf, dict) or not isinstance(leaf.get("subject_dn"), str):
        return None
    subject = c.dn_to_rfc4514(leaf["subject_dn"])
    issuer = c.dn_to_rfc4514(str(leaf.get("issuer_dn") or ""))
    return TlsCertificate(port=port, subject=subject, issuer=issuer, self_signed=subject == issuer)
