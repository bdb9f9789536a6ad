"""masscan output: ``-oL`` lists and ``-oJ`` JSON (also ``-oD`` ndjson), with ``--banners``.

Each line holds one port of one host: ``open tcp 80 1.2.3.4 1629960470`` or ``banner tcp 80
1.2.3.4 1629960472 http HTTP/1.0 404 ...`` (bytes as ``\\xNN``). Banner services mapped: http
(raw response head), http.server, title, ssl/X509 (base64 DER certificate), ssh, ftp, telnet;
others go to the bag. Records of one host are merged later, per partition.
"""

from __future__ import annotations

from typing import Any, Literal

from routerwatch.bulk.readers import _common as c
from routerwatch.bulk.readers.interface import MalformedRecord, Reader, json_line
from routerwatch.bulk.record import ScanRecord
from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate

_TLS_PORTS = {443, 8443, 4433}


class MasscanListReader(Reader):
    name = "masscan-list"
    description = "masscan -oL (open/banner lines)"

    def sniff(self, head: bytes) -> bool:
        first = head.lstrip().split(b"\n", 1)[0]
        return first.startswith(b"#masscan") or first.split(b" ", 1)[0] in (b"open", b"banner")

    def address_of(self, line: bytes) -> str | None:
        parts = line.strip().split(b" ", 4)
        if not parts[0] or parts[0].startswith(b"#"):
            return None
        if parts[0] in (b"open", b"banner") and len(parts) >= 4:
            return parts[3].decode("utf-8", "surrogateescape")
        raise MalformedRecord("not an 'open' or 'banner' line")

    def parse_line(self, line: bytes) -> list[ScanRecord]:
        text = line.decode("utf-8", "surrogateescape").strip()
        if not text or text.startswith("#"):
            return []
        parts = text.split(" ", 6)
        if parts[0] == "open" and len(parts) >= 5:
            _, proto, port, ip, ts = parts[:5]
            return [_open(ip, proto, port, ts, self.name)]
        if parts[0] == "banner" and len(parts) >= 6:
            _, proto, port, ip, ts, service = parts[:6]
            payload = parts[6] if len(parts) > 6 else ""
            return [_banner(ip, proto, port, ts, service, c.unescape_hex(payload), self.name)]
        raise MalformedRecord("not an 'open' or 'banner' line")


class MasscanJsonReader(Reader):
    name = "masscan-json"
    address_key = "ip"
    description = "masscan -oJ (JSON array, one host-port a line) and -oD (ndjson)"

    def sniff(self, head: bytes) -> bool:
        lines = [ln.strip() for ln in head.split(b"\n")[:4]]
        body = next((ln for ln in lines if ln.startswith(b"{")), b"")
        return b'"ip"' in body and (b'"ports"' in body or b'"rec_type"' in body)

    def parse_line(self, line: bytes) -> list[ScanRecord]:
        doc = json_line(line, "ip")
        if doc is None:
            return []
        ports = doc.get("ports")
        if not isinstance(ports, list):
            # -oD ndjson: {"ip","timestamp","port","proto","rec_type","data":{...}}
            return [_ndjson(doc, self.name)]
        out = []
        for p in ports:
            if not isinstance(p, dict):
                raise MalformedRecord("a 'ports' entry is not an object")
            service = p.get("service")
            ts = str(doc.get("timestamp", ""))
            if isinstance(service, dict):
                raw = str(service.get("banner", ""))
                out.append(
                    _banner(
                        doc["ip"],
                        str(p.get("proto")),
                        p.get("port"),
                        ts,
                        str(service.get("name", "")),
                        c.to_bytes(raw),
                        self.name,
                    )
                )
            else:
                out.append(_open(doc["ip"], str(p.get("proto")), p.get("port"), ts, self.name))
        return out


def _ndjson(doc: dict[str, Any], source: str) -> ScanRecord:
    data = c.obj(doc.get("data"))
    if doc.get("rec_type") == "banner":
        return _banner(
            doc["ip"],
            str(doc.get("proto")),
            doc.get("port"),
            str(doc.get("timestamp", "")),
            str(data.get("service_name", "")),
            c.to_bytes(str(data.get("banner", ""))),
            source,
        )
    return _open(
        doc["ip"], str(doc.get("proto")), doc.get("port"), str(doc.get("timestamp", "")), source
    )


def _open(ip: str, proto: str, port: Any, ts: str, source: str) -> ScanRecord:
    number = c.port_number(port)
    extra: dict[str, str] = {}
    if proto != "tcp" or number is None:
        extra[f"{proto}:{port}"] = "open"
        ports: tuple[int, ...] = ()
    else:
        ports = (number,)
    return ScanRecord(
        Observation(address=ip, open_ports=ports), source, seen=ts or None, extra=extra
    )


def _banner(
    ip: str, proto: str, port: Any, ts: str, service: str, raw: bytes, source: str
) -> ScanRecord:
    number = c.port_number(port)
    if number is None:
        raise MalformedRecord(f"bad port {port!r}")
    http: tuple[HttpObservation, ...] = ()
    banners: tuple[Banner, ...] = ()
    tls: tuple[TlsCertificate, ...] = ()
    extra: dict[str, str] = {}
    name = service.lower()
    scheme: Literal["http", "https"] = "https" if number in _TLS_PORTS else "http"
    if name == "http":
        h = c.http_from_raw(raw, number, scheme)
        http = (h,) if h is not None else ()
    elif name == "http.server":
        http = (c.http_from_parts(number, scheme, 200, [("server", raw.decode("latin-1"))]),)
    elif name == "title":
        http = (c.http_from_parts(number, scheme, 200, [], title=raw.decode("utf-8", "replace")),)
    elif name == "x509":
        cert = c.certificate_from_b64(raw.decode("latin-1"), number)
        tls = (cert,) if cert is not None else ()
    elif name in ("ssh", "ftp", "telnet"):
        banners = (c.banner(number, raw, name),)
    else:
        extra[f"{name}:{number}"] = raw.decode("utf-8", "replace")[:512]
    if not (http or banners or tls or extra):
        extra[f"{name}:{number}"] = raw.decode("utf-8", "replace")[:512]
    obs = Observation(
        address=ip,
        open_ports=(number,) if proto == "tcp" else (),
        http=http,
        banners=banners,
        tls=tls,
    )
    return ScanRecord(obs, source, seen=ts or None, extra=extra)
