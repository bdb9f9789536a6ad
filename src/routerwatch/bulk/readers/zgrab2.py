"""ZGrab2 JSON lines: ``{"ip", "domain", "data": {<module>: {status, port, result}}}``.

Mapped modules: http (response status, headers, body, request URL; TLS certificate of https),
tls (server certificate), ssh (server_id), telnet (banner), banner (banner bytes), socks5
(method_selection: "0500" = no-auth accepted), ftp (banner). Other modules and unmapped fields
go to the bag. Field names follow zgrab2's zgrab2_schemas (github.com/zmap/zgrab2).
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

from routerwatch.bulk.readers import _common as c
from routerwatch.bulk.readers.interface import MalformedRecord, Reader, json_line
from routerwatch.bulk.record import ScanRecord, bag
from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate

DEFAULT_PORTS = {"http": 80, "tls": 443, "ssh": 22, "telnet": 23, "ftp": 21, "socks5": 1080}
_MAPPED = ("http", "tls", "ssh", "telnet", "banner", "socks5", "ftp")


class Zgrab2Reader(Reader):
    name = "zgrab2"
    address_key = "ip"
    description = "ZGrab2 JSON lines (http, tls, ssh, telnet, banner, socks5, ftp modules)"

    def sniff(self, head: bytes) -> bool:
        line = head.lstrip().split(b"\n", 1)[0]
        return (
            line.startswith(b"{")
            and b'"data"' in line
            and b'"ip"' in line
            and (b'"status"' in line or b'"protocol"' in line)
        )

    def parse_line(self, line: bytes) -> list[ScanRecord]:
        doc = json_line(line, "ip")
        if doc is None:
            return []
        data = doc.get("data")
        if not isinstance(data, dict):
            raise MalformedRecord("no 'data' object")
        return [self._record(doc, data)]

    def _record(self, doc: dict[str, Any], data: dict[str, Any]) -> ScanRecord:
        ports: set[int] = set()
        http: list[HttpObservation] = []
        banners: list[Banner] = []
        tls: list[TlsCertificate] = []
        errors: list[str] = []
        extra = bag(doc, {"ip", "data", "port"})
        seen = None
        for key, scan in data.items():
            if not isinstance(scan, dict):
                continue
            module = str(scan.get("protocol") or key).lower()
            module = next((m for m in _MAPPED if module == m or module.startswith(m)), module)
            result = c.obj(scan.get("result"))
            port = c.port_number(scan.get("port")) or c.port_number(doc.get("port"))
            port = port or _port_from_name(key) or _default_port(module, result)
            seen = seen or scan.get("timestamp")
            if scan.get("status") not in (None, "success"):
                if scan.get("error"):
                    errors.append(f"{key}: {str(scan.get('error'))[:120]}")
                if not result:
                    continue
            if port is None:
                extra[f"{key}"] = orjson.dumps(result).decode()[:512]
                continue
            found = self._module(module, port, result, http, banners, tls)
            if found:
                ports.add(port)
            else:
                extra[key] = orjson.dumps(result, default=str).decode()[:512]
        obs = Observation(
            address=doc["ip"],
            open_ports=tuple(sorted(ports)),
            http=tuple(http),
            banners=tuple(banners),
            tls=tuple(tls),
            errors=tuple(errors),
        )
        return ScanRecord(observation=obs, source=self.name, seen=seen, extra=extra)

    def _module(
        self,
        module: str,
        port: int,
        result: dict[str, Any],
        http: list[HttpObservation],
        banners: list[Banner],
        tls: list[TlsCertificate],
    ) -> bool:
        if module == "http":
            response = result.get("response")
            if not isinstance(response, dict):
                return False
            h, cert = _http(response, port)
            if h is not None:
                http.append(h)
            if cert is not None:
                tls.append(cert)
            return h is not None
        if module == "tls":
            cert = _certificate(result.get("handshake_log") or result, port)
            if cert is not None:
                tls.append(cert)
            return cert is not None
        if module == "ssh":
            server_id = result.get("server_id")
            raw = server_id.get("raw") if isinstance(server_id, dict) else None
            if not isinstance(raw, str):
                return False
            banners.append(Banner(port=port, protocol="ssh", text=raw[:1024]))
            return True
        if module in ("telnet", "banner", "ftp"):
            text = result.get("banner")
            if not isinstance(text, str):
                return False
            protocol = None if module == "banner" else module
            banners.append(c.banner(port, text, protocol))
            return True
        if module == "socks5":
            method = result.get("method_selection")
            if not isinstance(method, str):
                return False
            banners.append(
                Banner(port=port, protocol="socks5", text="", raw_hex=method.lower()[:64])
            )
            return True
        return False


def _default_port(module: str, result: dict[str, Any]) -> int | None:
    if module == "http":
        response = c.obj(result.get("response"))
        request = c.obj(response.get("request"))
        url = c.obj(request.get("url"))
        host = str(url.get("host") or "")
        if ":" in host and c.port_number(host.rsplit(":", 1)[1]):
            return c.port_number(host.rsplit(":", 1)[1])
        if url.get("scheme") == "https":
            return 443
    return DEFAULT_PORTS.get(module)


def _port_from_name(key: str) -> int | None:
    """``banner-7777`` / ``http_8080`` (a multiple-module ini's scan name) → 7777 / 8080."""
    for sep in ("-", "_"):
        if sep in key and key.rsplit(sep, 1)[1].isdigit():
            return c.port_number(key.rsplit(sep, 1)[1])
    return None


def _headers(raw: Any) -> list[tuple[str, str]]:
    """zgrab2 header map: names lower-case with ``_`` for ``-``, values lists; "unknown" list."""
    out: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return out
    for name, values in raw.items():
        if name == "unknown" and isinstance(values, list):
            for item in values:
                if isinstance(item, dict) and isinstance(item.get("key"), str):
                    for v in item.get("value") or []:
                        out.append((item["key"].replace("_", "-"), str(v)))
            continue
        for v in values if isinstance(values, list) else [values]:
            out.append((name.replace("_", "-"), str(v)))
    return out


def _http(
    response: dict[str, Any], port: int
) -> tuple[HttpObservation | None, TlsCertificate | None]:
    status = response.get("status_code")
    if not isinstance(status, int):
        return None, None
    request = c.obj(response.get("request"))
    url = c.obj(request.get("url"))
    scheme: Literal["http", "https"] = "https" if url.get("scheme") == "https" else "http"
    path = c.text(url.get("path")) or "/"
    method = c.text(request.get("method")) or "GET"
    body = c.text(response.get("body"))
    h = c.http_from_parts(
        port, scheme, status, _headers(response.get("headers")), body, path=path, method=method
    )
    tls_log = request.get("tls_log")
    cert = _certificate(tls_log.get("handshake_log"), port) if isinstance(tls_log, dict) else None
    return h, cert


def _certificate(handshake: Any, port: int) -> TlsCertificate | None:
    if not isinstance(handshake, dict):
        return None
    certs = handshake.get("server_certificates")
    leaf = certs.get("certificate") if isinstance(certs, dict) else None
    if not isinstance(leaf, dict):
        return None
    if isinstance(leaf.get("raw"), str):
        cert = c.certificate_from_b64(leaf["raw"], port)
        if cert is not None:
            return cert
    parsed = leaf.get("parsed")
    if not isinstance(parsed, dict) or not isinstance(parsed.get("subject_dn"), str):
        return None
    validity = c.obj(parsed.get("validity"))
    subject = c.dn_to_rfc4514(parsed["subject_dn"])
    issuer = c.dn_to_rfc4514(str(parsed.get("issuer_dn") or ""))
    return TlsCertificate(
        port=port,
        subject=subject,
        issuer=issuer,
        not_after=validity.get("end"),
        self_signed=subject == issuer,
    )
