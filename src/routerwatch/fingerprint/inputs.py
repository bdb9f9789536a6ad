"""What the fingerprint rules read: the pieces of evidence in one Observation.

Each piece is an :class:`Input` with the input source a rule names (``http.realm``...), the
label shown as Evidence.source (``http.realm:80``) and the text. How each source is cut out of
the probe results is documented in docs/fingerprints.md; in short:

* ``http.server`` / ``http.title`` / ``http.cookie`` / ``http.favicon``: the Server header,
  the page title (from the body when the scanner gave none), each Set-Cookie value and the
  favicon MD5 of every HTTP(S) exchange with status < 500; ``http.favicon.mmh3`` the favicon's
  Shodan/nuclei mmh3 hash as a decimal number.
* ``http.realm``: the realm of each WWW-Authenticate header; ``http.wwwauth`` the whole value.
* ``http.body``: the body of exchanges with status < 400 (rules may restrict the path).
* ``http.luci``: ``data.model`` of the JSON answer to the TP-Link LuCI locale POST.
* ``http.currentsetting``: NETGEAR's ``/currentsetting.htm`` (status 200, ``Firmware=`` in the
  body) as ``Key=Value`` lines.
* ``banner.ftp``: the greeting with its ``220`` reply codes removed (Recog's form);
  ``banner.ssh``: the software version after ``SSH-2.0-`` (``ROSSSH``); ``banner.telnet``: the
  text after Telnet option negotiation.
* ``upnp.<field>`` each description field, ``upnp`` all of them as ``field=value`` lines,
  ``upnp.server`` the SSDP SERVER header; ``tls.subject``; ``snmp.sysdescr``; ``mac`` (the
  vendor of the MAC's OUI).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

from routerwatch.models import Banner, HttpObservation, Observation, www_authenticate_realms
from routerwatch.telnet import banner_texts

__all__ = ["Input", "extract_inputs"]

MAX_TEXT = 4096  # what header-like inputs are cut to at most (bounded regex work)
MAX_BODY = 65536
# Tighter cuts where the protocol itself bounds the field, so that a hostile device cannot
# make every one of ~2,800 Recog patterns scan kilobytes: an SSH identification line is at
# most 255 characters (RFC 4253), sysDescr 255 octets (RFC 1213), UPnP modelName 32 and
# friendlyName 64 characters (UPnP Device Architecture); titles and Server headers of real
# devices stay far below 512.
LIMITS = {
    "http.server": 512,
    "http.title": 512,
    "http.realm": 1024,
    "http.wwwauth": 1024,
    "http.cookie": 1024,
    "http.luci": 256,
    "banner.ssh": 255,
    "banner.ftp": 2048,
    "banner.telnet": 2048,
    "tls.subject": 1024,
    "snmp.sysdescr": 1024,
    "upnp.server": 512,
    "mac": 128,
}
MAX_UPNP_FIELD = 256  # each description field (spec: at most 64-128 characters)

_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")
_FTP_CODE = re.compile(r"^\d{3}[ -]?", re.MULTILINE)
_SSH_ID = re.compile(r"SSH-\d+(?:\.\d+)?-([^\r\n]*)")
_UPNP_FIELDS = ("manufacturer", "model_name", "model_number", "model_description", "friendly_name")
_PROTOCOL_BY_PORT = {21: "ftp", 22: "ssh", 23: "telnet"}


@dataclass(frozen=True)
class Input:
    source: str  # input source a rule names, e.g. "http.realm"
    label: str  # Evidence.source, e.g. "http.realm:80"
    text: str
    path: str | None = None  # HTTP path, for http.body rules


def _cut(text: str, source: str) -> str:
    return text[: LIMITS.get(source, MAX_TEXT)]


def _title(h: HttpObservation) -> str | None:
    if h.title is not None:
        return _SPACES.sub(" ", h.title).strip()
    if not h.body:
        return None
    m = _TITLE.search(h.body[:MAX_BODY])
    if m is None:
        return None
    return _SPACES.sub(" ", html.unescape(m.group(1))).strip()


def _luci_model(h: HttpObservation) -> str | None:
    if h.method.upper() != "POST" or "/cgi-bin/luci" not in h.path or "locale" not in h.path:
        return None
    try:
        data = json.loads(h.body[:MAX_TEXT])
    except (ValueError, RecursionError):
        return None
    inner = data.get("data") if isinstance(data, dict) else None
    model = inner.get("model") if isinstance(inner, dict) else None
    return model.strip() if isinstance(model, str) and model.strip() else None


def _currentsetting(h: HttpObservation) -> str | None:
    if h.status != 200 or not h.path.lower().rstrip("/").endswith("currentsetting.htm"):
        return None
    if "Firmware=" not in h.body:
        return None
    lines = [ln.strip() for ln in re.split(r"\r\n|\r|\n", h.body[:MAX_TEXT])]
    return "\n".join(ln for ln in lines if "=" in ln)


def _http_inputs(h: HttpObservation) -> list[Input]:
    if h.status >= 500:
        return []
    port = h.port
    out: list[Input] = []
    for name, value in h.headers:
        if name == "server" and value.strip():
            out.append(
                Input("http.server", f"http.server:{port}", _cut(value.strip(), "http.server"))
            )
        elif name == "www-authenticate":
            out.append(
                Input("http.wwwauth", f"http.realm:{port}", _cut(value.strip(), "http.wwwauth"))
            )
            for realm in www_authenticate_realms(value):
                out.append(Input("http.realm", f"http.realm:{port}", _cut(realm, "http.realm")))
        elif name == "set-cookie" and value.strip():
            out.append(
                Input("http.cookie", f"http.cookie:{port}", _cut(value.strip(), "http.cookie"))
            )
    title = _title(h)
    if title:
        out.append(Input("http.title", f"http.title:{port}", _cut(title, "http.title")))
    if h.favicon_md5:
        out.append(Input("http.favicon", f"http.favicon:{port}", h.favicon_md5.strip().lower()))
    if h.favicon_mmh3 is not None:
        out.append(Input("http.favicon.mmh3", f"http.favicon:{port}", str(h.favicon_mmh3)))
    model = _luci_model(h)
    if model:
        out.append(Input("http.luci", f"http.luci:{port}", _cut(model, "http.luci")))
    setting = _currentsetting(h)
    if setting:
        out.append(Input("http.currentsetting", f"http.currentsetting:{port}", setting))
    if h.body and h.status < 400:
        out.append(Input("http.body", f"http.body:{port}{h.path}", h.body[:MAX_BODY], h.path))
    return out


def _telnet_text(b: Banner) -> str:
    """The greeting without Telnet negotiation (routerwatch.telnet), raw bytes first."""
    return next(iter(banner_texts(b)), "")


def _banner_inputs(b: Banner) -> list[Input]:
    protocol = b.protocol.lower()
    if protocol == "tcp":
        protocol = _PROTOCOL_BY_PORT.get(b.port, "tcp")
    port = b.port
    if protocol == "ftp":
        text = _FTP_CODE.sub("", b.text).strip()
        return [Input("banner.ftp", f"banner.ftp:{port}", _cut(text, "banner.ftp"))] if text else []
    if protocol == "ssh":
        m = _SSH_ID.search(b.text)
        if m is None or not m.group(1).strip():
            return []
        return [Input("banner.ssh", f"banner.ssh:{port}", _cut(m.group(1).strip(), "banner.ssh"))]
    if protocol == "telnet":
        text = _telnet_text(b).lstrip("\x00")
        return (
            [Input("banner.telnet", f"banner.telnet:{port}", _cut(text, "banner.telnet"))]
            if text.strip()
            else []
        )
    return []


def extract_inputs(obs: Observation) -> list[Input]:
    """Every piece of evidence in ``obs`` a fingerprint rule can read, in probe order."""
    out: list[Input] = []
    for h in obs.http:
        out.extend(_http_inputs(h))
    for b in obs.banners:
        out.extend(_banner_inputs(b))
    for cert in obs.tls:
        if cert.subject:
            out.append(
                Input("tls.subject", f"tls.subject:{cert.port}", _cut(cert.subject, "tls.subject"))
            )
    u = obs.upnp
    if u is not None:
        if u.server and u.server.strip():
            out.append(Input("upnp.server", "upnp.server", _cut(u.server.strip(), "upnp.server")))
        lines = []
        for name in _UPNP_FIELDS:
            value = getattr(u, name)
            value = _SPACES.sub(" ", value[:MAX_UPNP_FIELD]).strip() if value else ""
            lines.append(f"{name}={value}")
            if value:
                out.append(Input(f"upnp.{name}", f"upnp.{name}", value))
        if any(line.partition("=")[2] for line in lines):
            out.append(Input("upnp", "upnp", "\n".join(lines)))
    if obs.snmp_sysdescr and obs.snmp_sysdescr.strip():
        out.append(
            Input(
                "snmp.sysdescr", "snmp.sysdescr", _cut(obs.snmp_sysdescr.strip(), "snmp.sysdescr")
            )
        )
    if obs.mac_vendor and obs.mac_vendor.strip():
        out.append(Input("mac", "mac", _cut(obs.mac_vendor.strip(), "mac")))
    return out
