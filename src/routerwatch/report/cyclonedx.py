"""CycloneDX 1.6 (JSON) with VEX: devices as hardware, their firmware, and the CVEs judged.

Each device is a ``device`` component (manufacturer = vendor, name = model, or "<vendor>
device" when only the vendor is known; version = hardware revision; ``cpe`` the hardware CPE in
NVD's naming when vendor and model are known) with a nested ``firmware`` component (version =
firmware string; ``cpe`` the firmware's ``o`` CPE; ``purl`` for open firmware projects).
Each finding is a vulnerability that ``affects`` the firmware component, with this VEX
mapping (docs/reports.md):

=============  ====================  =================================================
finding        analysis.state        analysis extras
=============  ====================  =================================================
affected       ``exploitable``       response ``update`` when a fixed version is known
possible       ``in_triage``         detail says what is unknown (firmware, revision)
not_affected   ``not_affected``      justification ``code_not_present``
=============  ====================  =================================================

KEV, EPSS and the matcher's status go into ``routerwatch:*`` properties. Indicators are not
vulnerabilities: they are ``routerwatch:indicator`` properties of the device component.

The document is written directly as JSON, in the layout cyclonedx-python-lib writes (keys
sorted; components by name, version, bom-ref; vulnerabilities by id, bom-ref; properties by
name, value) — the library itself is not used here: its model does O(n²) work (dependency
registration and bom-ref discrimination are linear searches) and ~10 ms per device of
sorting and serialising, so 10,000 devices took minutes. Tests compare this writer byte for
byte with the library's output and validate every document against the 1.6 JSON schema.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from typing import Any

import orjson

from routerwatch.assess.remediation import user_version
from routerwatch.models import Assessment, Finding, Report
from routerwatch.report.readiness import readiness_properties
from routerwatch.report.summary import host_name, severity_of
from routerwatch.report.text import nvd_url

STATE = {"affected": "exploitable", "possible": "in_triage", "not_affected": "not_affected"}
VERSION_STATUS = {"affected": "affected", "possible": "unknown", "not_affected": "unaffected"}
NVD = "https://nvd.nist.gov/"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"

Json = dict[str, Any]


def _props(pairs: list[tuple[str, str | None]]) -> list[Json]:
    """``routerwatch:*`` properties, empty values left out, sorted and unique (a set)."""
    unique = {(f"routerwatch:{k}", v) for k, v in pairs if v not in (None, "")}
    return [{"name": k, "value": v} for k, v in sorted(unique)]


def _put(obj: Json, key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        obj[key] = value


def _timestamp(text: str) -> str | None:
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return None


_CPE_SPECIAL = re.compile(r"[^A-Za-z0-9._-]")


def _cpe_value(text: str | None) -> str:
    """One CPE 2.3 formatted-string value: lower case, spaces as ``_``, every other special
    character backslash-escaped (NISTIR 7695 §6.2); ``*`` (any) when unknown. A few lines,
    not a library: the one CPE package on PyPI parses names but does not bind new ones."""
    if not text or not text.strip():
        return "*"
    value = "_".join(text.strip().lower().split())
    return _CPE_SPECIAL.sub(lambda m: "\\" + m.group(), value)


def device_cpes(a: Assessment) -> tuple[str | None, str | None]:
    """(hardware CPE, firmware CPE) of a device whose vendor and model are known, in NVD's
    naming (``cpe:2.3:h:tp-link:archer_ax21:3:...``, ``cpe:2.3:o:tp-link:archer_ax21_firmware:
    1.1.4...``); (None, None) otherwise (routerwatch does not guess)."""
    from routerwatch.identity import nvd_vendor_ids

    ident = a.identity
    if not ident.vendor or not ident.model:
        return None, None
    texts = (ident.vendor, ident.model, ident.hardware or "", ident.firmware or "")
    if not all(t.isascii() and t.isprintable() for t in texts):
        return None, None  # a CPE holds printable ASCII only: no name rather than a wrong one
    ids = nvd_vendor_ids(ident.vendor)
    vendor = _cpe_value(ids[0] if ids else ident.vendor)
    product = _cpe_value(ident.model)
    tail = ":*:*:*:*:*:*:*"
    hardware = f"cpe:2.3:h:{vendor}:{product}:{_cpe_value(ident.hardware)}{tail}"
    firmware = f"cpe:2.3:o:{vendor}:{product}_firmware:{_cpe_value(ident.firmware)}{tail}"
    return hardware, firmware


def firmware_purl(a: Assessment) -> str | None:
    """A package URL where one exists: devices running an open firmware project (OpenWrt,
    DD-WRT, ...) with a known version, as ``pkg:generic/<project>@<version>``."""
    ident = a.identity
    if not ident.os or not ident.firmware:
        return None
    from packageurl import PackageURL

    name = "-".join(ident.os.lower().split())
    return str(PackageURL(type="generic", name=name, version=ident.firmware.strip()))


def device_label(a: Assessment) -> str:
    """The device component's name: its model, else "<vendor> device", else "unknown device"."""
    ident = a.identity
    if ident.model:
        return ident.model
    return f"{ident.vendor} device" if ident.vendor else "unknown device"


def _device(a: Assessment, index: int) -> tuple[Json, str, str | None]:
    """(device component, firmware bom-ref, firmware version)."""
    ident = a.identity
    ref = f"device-{index + 1}"
    maker = {"name": ident.vendor} if ident.vendor else None
    hardware_cpe, firmware_cpe = device_cpes(a)
    firmware: Json = {"bom-ref": f"{ref}-firmware", "type": "firmware",
                      "name": f"{device_label(a)} firmware"}
    _put(firmware, "version", ident.firmware or None)
    _put(firmware, "manufacturer", maker)
    _put(firmware, "cpe", firmware_cpe)
    _put(firmware, "purl", firmware_purl(a))
    pairs: list[tuple[str, str | None]] = [
        ("address", host_name(a, index)),
        ("open_ports", ",".join(str(p) for p in a.open_ports)),
        ("confidence", f"{ident.confidence:.3f}"),
        ("region", ident.region),
        ("risk", f"{a.risk:.1f}"),
        ("risk_level", a.risk_level),
        ("eol", a.eol),
        ("site", a.site),
    ]
    pairs += [("policy", p) for p in a.policy]
    pairs += [(f"inventory:{k}", v) for k, v in a.extra]
    pairs += [
        (f"readiness:{r.policy}/{r.restriction}", f"{r.status}; deadline {r.deadline}")
        for r in a.readiness
    ]
    if a.replacement is not None:
        p = a.replacement
        cost = "" if p.cost is None else f" {p.cost:g} {p.currency}".rstrip()
        pairs.append(("replacement", f"{p.target_model or '?'}{cost} by {p.deadline or '?'}"))
    pairs += [
        ("indicator", f"{i.rule} ({i.kind}, certainty {i.certainty}): {i.title}")
        for i in a.indicators
    ]
    device: Json = {"bom-ref": ref, "type": "device", "name": device_label(a),
                    "components": [firmware]}
    _put(device, "version", ident.hardware or None)
    _put(device, "cpe", hardware_cpe)
    _put(device, "manufacturer", maker)
    _put(device, "description", ident.label())
    _put(device, "properties", _props(pairs))
    return device, firmware["bom-ref"], firmware.get("version")


def _detail(f: Finding) -> str:
    text = (f.reason or f.status.replace("_", " ")).rstrip()
    if text and not text.endswith((".", "!", "?")):
        text += "."
    if f.kev:
        text += f" Listed in CISA KEV{' since ' + f.kev_date if f.kev_date else ''}."
    if f.exploited_by:
        text += f" Exploited by {', '.join(f.exploited_by)}."
    return text


def _vulnerability(f: Finding, a: Assessment, firmware_ref: str, firmware_version: str | None,
                   ref: str) -> Json:
    source = {"name": "NVD", "url": nvd_url(f.cve) or NVD}
    vuln: Json = {"bom-ref": ref, "id": f.cve, "source": source}
    if f.cvss is not None or f.severity:
        rating: Json = {"source": dict(source), "severity": severity_of(f.severity)}
        if f.cvss is not None:
            rating["score"] = float(f.cvss)
        vuln["ratings"] = [rating]
    analysis: Json = {"state": STATE[f.status]}
    if f.status == "not_affected":
        analysis["justification"] = "code_not_present"
    if f.status == "affected" and f.fixed_in:
        analysis["response"] = ["update"]
    _put(analysis, "detail", _detail(f))
    vuln["analysis"] = analysis
    recommendations = []
    if f.status != "not_affected":
        recommendations = [x.text for x in a.actions if f.cve in x.clears]
    if f.fixed_in and f.status != "not_affected" and not recommendations:
        recommendations.append(f"Update the firmware to {user_version(f.fixed_in)}.")
    _put(vuln, "description", f.description or None)
    _put(vuln, "recommendation", " ".join(recommendations) or None)
    target: Json = {"ref": firmware_ref}
    if firmware_version:
        target["versions"] = [{"version": firmware_version, "status": VERSION_STATUS[f.status]}]
    vuln["affects"] = [target]
    pairs: list[tuple[str, str | None]] = [
        ("status", f.status),
        ("kev", "true" if f.kev else "false"),
        ("kev_date", f.kev_date),
        ("epss", None if f.epss is None else f"{f.epss:.5f}"),
        ("fixed_in", f.fixed_in),
        ("matched_from", f.source),
    ]
    pairs += [("criteria", c) for c in f.criteria]
    pairs += [("exploited_by", c) for c in f.exploited_by]
    _put(vuln, "properties", _props(pairs))
    return vuln


def _component_key(c: Json) -> tuple[Any, ...]:
    version = c.get("version")  # the library orders a missing version after any version
    return (c["name"], version is None, version or "", c["bom-ref"])


def build_document(report: Report) -> Json:
    """The CycloneDX 1.6 document as plain JSON data (linear in devices and findings)."""
    from routerwatch.report.jsonfmt import to_dict

    digest = hashlib.sha256(
        json.dumps(to_dict(report), sort_keys=True, default=str).encode()
    ).hexdigest()
    tool: Json = {"type": "application", "name": "routerwatch"}
    _put(tool, "version", report.tool_version or None)
    metadata: Json = {"tools": {"components": [tool]}}
    _put(metadata, "timestamp", _timestamp(report.generated))
    _put(metadata, "properties", _props(
        [("kind", report.kind), ("policy", report.policy)] + [("scope", s) for s in report.scope]
        + readiness_properties(report)
    ))
    seen: set[str] = set()
    devices: list[Json] = []
    vulnerabilities: list[Json] = []
    for index, a in enumerate(report.assessments):
        device, firmware_ref, firmware_version = _device(a, index)
        devices.append(device)
        for f in a.findings:
            ref = f"{device['bom-ref']}-{f.cve}"
            n = 2
            while ref in seen:
                ref = f"{device['bom-ref']}-{f.cve}-{n}"
                n += 1
            seen.add(ref)
            vulnerabilities.append(_vulnerability(f, a, firmware_ref, firmware_version, ref))
    devices.sort(key=_component_key)
    vulnerabilities.sort(key=lambda v: (v["id"], v["bom-ref"]))
    doc: Json = {
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:routerwatch:{digest}')}",
        "version": 1,
        "metadata": metadata,
    }
    _put(doc, "components", devices)
    _put(doc, "dependencies", [{"ref": d["bom-ref"]} for d in sorted(devices,
                                                                       key=lambda d: d["bom-ref"])])
    _put(doc, "vulnerabilities", vulnerabilities)
    return doc


_NOT_ASCII = re.compile(r"[^\x00-\x7e]")


def _escape(match: re.Match[str]) -> str:
    """One non-ASCII character as JSON ``\\uXXXX`` (a surrogate pair above U+FFFF)."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def _dumps(data: Json) -> str:
    """JSON with 2-space indents, sorted keys and every non-ASCII character escaped (as
    ``json.dumps(indent=2, sort_keys=True)`` writes it, at orjson's speed: the pure-Python
    indenting encoder took most of the time for big reports)."""
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    return _NOT_ASCII.sub(_escape, text)


def render_cyclonedx(report: Report) -> str:
    body = _dumps(build_document(report))
    core = _dumps({"$schema": SCHEMA, "bomFormat": "CycloneDX", "specVersion": "1.6"})
    return body[:-2] + ",\n" + core[2:] + "\n"
