"""What a delivery says: the event documents and their rendering for each channel.

Device strings are attacker-controlled: every text that reaches a chat, a mail or a SIEM goes
through :func:`routerwatch.report.text.printable` (no ANSI escapes, bidi overrides, newlines
that forge log lines), and Slack/Teams markup characters are escaped.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import orjson

from routerwatch import __version__
from routerwatch.report.text import printable
from routerwatch.server.alerts.specs import EmailSpec, SyslogSpec, WebhookSpec
from routerwatch.server.timeutil import iso

SIGNATURE_HEADER = "X-Routerwatch-Signature"
TIMESTAMP_HEADER = "X-Routerwatch-Timestamp"
DELIVERY_HEADER = "X-Routerwatch-Delivery"
_SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
_CEF_SEVERITY = {"critical": 10, "high": 8, "medium": 5, "low": 3, "info": 1}
_NTFY_PRIORITY = {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}
_COLOR = {"critical": "#b60205", "high": "#d93f0b", "medium": "#fbca04", "low": "#0e8a16",
          "info": "#c5def5"}
#: private enterprise number reserved for documentation (RFC 5612) in the SD-ID
SD_ID = "routerwatch@32473"


def event_doc(ev: Any, device: Any | None, site: str | None) -> dict[str, Any]:
    """One event as a delivery carries it (the same shape as GET /api/v1/events, plus the
    device and site it is about)."""
    doc: dict[str, Any] = {
        "id": ev.id, "type": ev.type, "severity": ev.severity, "at": iso(ev.at),
        "observed_at": iso(ev.observed_at) if ev.observed_at else None, "why": ev.why,
        "cve": ev.cve, "site": site, "site_id": ev.site_id, "device_id": ev.device_id,
        "data": orjson.loads(ev.data),
    }
    if device is not None:
        doc["device"] = {"id": device.id, "key": device.device_key, "address": device.address,
                         "vendor": device.vendor, "model": device.model,
                         "firmware": device.firmware, "state": device.state}
    return doc


def title(doc: dict[str, Any]) -> str:
    dev = doc.get("device") or {}
    what = " ".join(x for x in (dev.get("vendor"), dev.get("model")) if x) or \
        (dev.get("address") or "")
    where = f" at {doc['site']}" if doc.get("site") else ""
    return printable(f"[{doc['severity'].upper()}] {doc['type']}{where}"
                     + (f": {what}" if what else ""))[:250]


def text(doc: dict[str, Any]) -> str:
    return printable(doc["why"])[:2000]


def _summary(docs: list[dict[str, Any]]) -> str:
    worst = max(docs, key=lambda d: _SYSLOG_SEVERITY.get(d["severity"], 6) * -1)
    return f"routerwatch digest: {len(docs)} events (worst {worst['severity']})"


# ---------------------------------------------------------------------------- webhook
def _slack_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md_escape(s: str) -> str:
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|~" else c for c in s)


def webhook_body(spec: WebhookSpec, docs: list[dict[str, Any]], delivery_id: int,
                 digest: bool) -> bytes:
    """The JSON body for the channel's template."""
    lines = [(title(d), text(d), d) for d in docs]
    head = _summary(docs) if digest else lines[0][0]
    body: dict[str, Any]
    if spec.template == "slack":
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": f"*{_slack_escape(t)}*\n{_slack_escape(w)}"}}
            for t, w, _ in lines[:40]]
        body = {"text": _slack_escape(head), "blocks": blocks}
    elif spec.template == "teams":
        items: list[dict[str, Any]] = [{"type": "TextBlock", "text": _md_escape(head),
                                        "weight": "Bolder", "size": "Medium", "wrap": True}]
        for t, w, _ in lines[:40]:
            items += [{"type": "TextBlock", "text": _md_escape(t), "weight": "Bolder",
                       "wrap": True, "separator": True},
                      {"type": "TextBlock", "text": _md_escape(w), "wrap": True}]
        body = {"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
            "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard", "version": "1.4", "body": items}}]}
    elif spec.template == "ntfy":
        worst = max(docs, key=lambda d: _NTFY_PRIORITY.get(d["severity"], 1))
        message = "\n".join(f"{t}: {w}" for t, w, _ in lines[:40]) if digest else lines[0][1]
        body = {"topic": spec.ntfy_topic, "title": head, "message": message[:4000],
                "priority": _NTFY_PRIORITY.get(worst["severity"], 3),
                "tags": ["rotating_light" if worst["severity"] == "critical" else "warning",
                         "routerwatch"]}
    else:
        body = {"routerwatch": __version__, "delivery": delivery_id,
                "kind": "digest" if digest else "event", "events": docs}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 over ``TIMESTAMP.BODY`` (docs/alerts.md shows how to check)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *,
           tolerance: float = 300.0, at: float | None = None) -> bool:
    """Check a signature as a receiver would (constant time, with a replay window)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = at if at is not None else datetime.now(UTC).timestamp()
    if abs(current - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


# ---------------------------------------------------------------------------- email
def email_message(spec: EmailSpec, docs: list[dict[str, Any]], delivery_id: int,
                  digest: bool) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = _summary(docs) if digest else title(docs[0])
    msg["From"] = spec.sender
    msg["To"] = ", ".join(spec.to)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(f"rw-delivery-{delivery_id}", spec.sender.split("@")[1])
    msg["X-Routerwatch-Delivery"] = str(delivery_id)
    parts = []
    for d in docs:
        dev = d.get("device") or {}
        detail = [f"{title(d)}", f"  {text(d)}", f"  event {d['id']} at {d['at']}"]
        if d.get("cve"):
            detail.append(f"  {printable(d['cve'])}")
        if dev:
            detail.append("  device: " + printable(" / ".join(
                str(dev.get(k)) for k in ("address", "key", "firmware") if dev.get(k))))
        parts.append("\n".join(detail))
    msg.set_content("\n\n".join(parts) + "\n\n-- \nrouterwatch fleet server alerts\n")
    return msg


# ---------------------------------------------------------------------------- syslog
def _sd_value(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _cef_head(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|")


def _cef_ext(s: str) -> str:
    return s.replace("\\", "\\\\").replace("=", "\\=").replace("\n", "\\n").replace("\r", "\\r")


def cef(doc: dict[str, Any]) -> str:
    """The event in ArcSight Common Event Format (CEF:0); device strings only in extensions."""
    dev = doc.get("device") or {}
    at = datetime.fromisoformat(doc["at"].replace("Z", "+00:00"))
    ext = {"rt": str(int(at.timestamp() * 1000)), "externalId": str(doc["id"]),
           "cat": doc["type"], "msg": text(doc)}
    if dev.get("address"):
        ext["dvc"] = printable(str(dev["address"]))
    if dev.get("key"):
        ext.update(cs1Label="deviceKey", cs1=printable(str(dev["key"])))
    if doc.get("cve"):
        ext.update(cs2Label="cve", cs2=printable(doc["cve"]))
    if doc.get("site"):
        ext.update(cs3Label="site", cs3=printable(doc["site"]))
    vendor_model = " ".join(str(dev[k]) for k in ("vendor", "model") if dev.get(k))
    if vendor_model:
        ext.update(cs4Label="device", cs4=printable(vendor_model))
    # the header holds no device string: some SIEM parsers mishandle escaped pipes there
    head = "|".join(_cef_head(x) for x in (
        "CEF:0", "routerwatch", "routerwatch", __version__, doc["type"],
        f"{doc['type']} ({doc['severity']})"))
    return f"{head}|{_CEF_SEVERITY.get(doc['severity'], 5)}|" + " ".join(
        f"{k}={_cef_ext(v)}" for k, v in ext.items())


def syslog_message(spec: SyslogSpec, doc: dict[str, Any]) -> bytes:
    """One RFC 5424 message (CEF as its MSG when the channel's format is cef)."""
    pri = spec.facility * 8 + _SYSLOG_SEVERITY.get(doc["severity"], 6)
    host = (socket.gethostname() or "-")[:255].replace(" ", "-") or "-"
    msgid = doc["type"][:32]
    if spec.format == "cef":
        sd, msg = "-", cef(doc)
    else:
        params = {"event": str(doc["id"]), "severity": doc["severity"]}
        for k in ("cve", "site"):
            if doc.get(k):
                params[k] = printable(str(doc[k]))
        dev = doc.get("device") or {}
        if dev.get("address"):
            params["device"] = printable(str(dev["address"]))
        sd = f"[{SD_ID} " + " ".join(f'{k}="{_sd_value(v)}"' for k, v in params.items()) + "]"
        msg = f"{title(doc)}: {text(doc)}"
    line = f"<{pri}>1 {doc['at']} {host} {spec.app_name} - {msgid} {sd} "
    return line.encode() + b"\xef\xbb\xbf" + msg.encode()
