"""SARIF 2.1.0: one run of the ``routerwatch`` tool, one result per device and problem.

Rules are the CVEs (id = CVE id, help = NVD page) and the indicator rules (id = rule id).
Each result locates its device as ``router://<address>`` (``router://[v6]`` for IPv6,
``router://device-N`` for a device checked without an address), both as the artifact URI
and as a logical location of kind ``device``. ``not_affected`` findings are not results.

Levels (docs/reports.md): affected critical/high → error, medium/unknown → warning,
low/none → note; possible findings one step lower (critical/high → warning, else note);
compromise indicators → error; exposure indicators → warning (note when certainty is low).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from routerwatch.jsontext import escape_unsafe
from routerwatch.models import Assessment, Finding, Indicator, Report
from routerwatch.report.readiness import readiness_run_properties
from routerwatch.report.summary import host_name, severity_of, summary
from routerwatch.report.text import nvd_url, safe_http_url

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
AFFECTED_LEVEL = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "unknown": "warning",
    "low": "note",
    "none": "note",
}


def finding_level(f: Finding) -> str:
    sev = severity_of(f.severity)
    if f.status == "affected":
        return AFFECTED_LEVEL[sev]
    return "warning" if sev in ("critical", "high") else "note"


def indicator_level(i: Indicator) -> str:
    if i.kind == "compromise":
        return "error"
    return "note" if i.certainty == "low" else "warning"


def device_uri(a: Assessment, index: int) -> str:
    name = host_name(a, index)
    return f"router://[{name}]" if ":" in name else f"router://{name}"


def _utc(text: str) -> str | None:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first_sentence(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    end = text.find(". ")
    if 0 < end < limit:
        return text[: end + 1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cve_rule(f: Finding) -> dict[str, Any]:
    sev = severity_of(f.severity)
    rule: dict[str, Any] = {
        "id": f.cve,
        "shortDescription": {"text": _first_sentence(f.description) or f.cve},
        "fullDescription": {"text": f.description or f.cve},
        "defaultConfiguration": {"level": AFFECTED_LEVEL[sev]},
        "properties": {
            "tags": ["security", "vulnerability"] + (["kev"] if f.kev else []),
        },
    }
    url = nvd_url(f.cve)
    if url:
        rule["helpUri"] = url
    if f.cvss is not None:
        rule["properties"]["security-severity"] = f"{f.cvss:.1f}"
    return rule


def _indicator_rule(i: Indicator) -> dict[str, Any]:
    tags = ["security", i.kind] + ([i.campaign] if i.campaign else [])
    rule: dict[str, Any] = {
        "id": i.rule,
        "shortDescription": {"text": i.title or i.rule},
        "fullDescription": {
            "text": (i.title or i.rule) + (f" (campaign {i.campaign})" if i.campaign else "")
        },
        "defaultConfiguration": {"level": "error" if i.kind == "compromise" else "warning"},
        "properties": {
            "tags": tags,
            "security-severity": "9.0" if i.kind == "compromise" else "5.0",
        },
    }
    links = [u for u in (safe_http_url(r) for r in i.references) if u]
    if links:
        rule["helpUri"] = links[0]
    return rule


def _location(a: Assessment, index: int) -> dict[str, Any]:
    uri = device_uri(a, index)
    return {
        "physicalLocation": {"artifactLocation": {"uri": uri}},
        "logicalLocations": [
            {"name": host_name(a, index), "fullyQualifiedName": uri, "kind": "device"}
        ],
    }


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _device_props(a: Assessment) -> dict[str, Any]:
    ident = a.identity
    return {
        "vendor": ident.vendor,
        "model": ident.model,
        "hardware": ident.hardware,
        "firmware": ident.firmware,
        "risk": a.risk,
        "risk_level": a.risk_level,
    }


def _finding_result(f: Finding, a: Assessment, index: int, rule_index: int) -> dict[str, Any]:
    label = a.identity.label()
    text = f"{f.cve} {f.status.replace('_', ' ')} on {host_name(a, index)} ({label})"
    if f.reason:
        text += f": {f.reason}"
    if f.kev:
        text += " Listed in CISA KEV" + (f" since {f.kev_date}." if f.kev_date else ".")
    if f.exploited_by:
        text += f" Exploited by {', '.join(f.exploited_by)}."
    if f.fixed_in:
        text += f" Fixed in {f.fixed_in}."
    return {
        "ruleId": f.cve,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": finding_level(f),
        "message": {"text": text},
        "locations": [_location(a, index)],
        "partialFingerprints": {"routerwatchFinding/v1": _fingerprint(host_name(a, index), f.cve)},
        "properties": {
            **_device_props(a),
            "status": f.status,
            "severity": severity_of(f.severity),
            "cvss": f.cvss,
            "kev": f.kev,
            "kev_date": f.kev_date,
            "epss": f.epss,
            "fixed_in": f.fixed_in,
            "matched_from": f.source,
            "exploited_by": list(f.exploited_by),
        },
    }


def _indicator_result(i: Indicator, a: Assessment, index: int, rule_index: int) -> dict[str, Any]:
    text = f"{i.title or i.rule} on {host_name(a, index)} ({a.identity.label()})"
    if i.evidence:
        text += ": " + "; ".join(f"{e.source}: {e.value}" for e in i.evidence)
    return {
        "ruleId": i.rule,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": indicator_level(i),
        "message": {"text": text},
        "locations": [_location(a, index)],
        "partialFingerprints": {
            "routerwatchIndicator/v1": _fingerprint(host_name(a, index), i.rule)
        },
        "properties": {
            **_device_props(a),
            "certainty": i.certainty,
            "campaign": i.campaign,
            "port": i.port,
            "indicator_kind": i.kind,
        },
    }


def to_sarif(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index_of: dict[str, int] = {}
    results: list[dict[str, Any]] = []

    def rule_index(rule_id: str, make: Any) -> int:
        if rule_id not in index_of:
            index_of[rule_id] = len(rules)
            rules.append(make())
        return index_of[rule_id]

    for n, a in enumerate(report.assessments):
        for ind in a.indicators:
            ri = rule_index(ind.rule, lambda ind=ind: _indicator_rule(ind))
            results.append(_indicator_result(ind, a, n, ri))
        for f in a.findings:
            if f.status == "not_affected":
                continue
            ri = rule_index(f.cve, lambda f=f: _cve_rule(f))
            results.append(_finding_result(f, a, n, ri))

    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "toolExecutionNotifications": [
            {"level": "warning", "message": {"text": w}} for w in report.warnings
        ],
    }
    end = _utc(report.generated)
    if end:
        invocation["endTimeUtc"] = end
    driver: dict[str, Any] = {
        "name": "routerwatch",
        "version": report.tool_version or "unknown",
        "rules": rules,
    }
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "automationDetails": {"id": f"routerwatch/{report.kind}/{end or report.generated}"},
        "results": results,
        "properties": {
            "kind": report.kind,
            "scope": list(report.scope),
            "policy": report.policy,
            "summary": summary(report),
            **readiness_run_properties(report),
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: Report) -> str:
    text = json.dumps(to_sarif(report), indent=2, ensure_ascii=False, allow_nan=False)
    return escape_unsafe(text) + "\n"
