"""SARIF 2.1.0: one run of the ``routerwatch`` tool, one result per device and problem.

Made for GitHub code scanning and the VS Code SARIF viewer (docs/reports.md, "SARIF"):

- Rules are the CVEs (id = CVE id, helpUri = NVD page) and the indicator rules (id = rule
  id); every rule has ``help`` text and markdown saying what it is and what fixes it.
- Each result locates its device as a logical location of kind ``device`` named by its
  address (or, for a device checked without one, by its stable device key), and as the
  artifact ``router://<address>`` (``router://[v6]``; ``router://asset/<id>``,
  ``router://description/<hash>``): two devices never share a URI. A report of an asset
  list (``check --inventory FILE``) points at FILE instead, with the device's row as the
  region (CSV files; for JSON/YAML the file alone).
- ``partialFingerprints`` hash the device key (MAC, UPnP UDN, ... : what identifies the box,
  so a new DHCP address keeps the alert) and the rule: unique per device and finding within
  a run, the same in the next run.
- GitHub's documented hard limits hold: at most 25,000 results and rules per run (the most
  severe kept, a notification says how many were left out), at most 20 tags per rule.
- ``not_affected`` findings are not results; a partial (interrupted) scan's invocation has
  ``executionSuccessful`` false.

Levels (docs/reports.md): affected critical/high → error, medium/unknown → warning,
low/none → note; possible findings one step lower (critical/high → warning, else note);
compromise indicators → error; exposure indicators → warning (note when certainty is low).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from routerwatch.assess.remediation import user_version
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


#: GitHub code scanning's hard limits per run (docs.github.com, "SARIF results exceed limits").
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_TAGS = 20
_LEVEL_RANK = {"error": 0, "warning": 1, "note": 2, "none": 3}
_UNSAFE_PATH = re.compile(r"[^A-Za-z0-9._~!$&'()*+,;=:@-]")


def device_name(a: Assessment, index: int) -> str:
    """The device as a person names it: its address, else its stable key, else device-N."""
    return a.address or a.key or host_name(a, index)


def device_uri(a: Assessment, index: int) -> str:
    """``router://<address>``, ``router://[<v6>]``, or ``router://<basis>/<value>`` from the
    device key for a device without an address (unique per device of a report)."""
    if a.address:
        return f"router://[{a.address}]" if ":" in a.address else f"router://{a.address}"
    if a.key:
        basis, _, value = a.key.partition(":")
        return f"router://{basis}/{_UNSAFE_PATH.sub(lambda m: quote(m.group(), safe=''), value)}"
    return f"router://{host_name(a, index)}"


def _device_id(a: Assessment, index: int) -> str:
    """What the fingerprints hash: the device key (stable across runs), else the address."""
    return a.key or a.address or host_name(a, index)


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


def _cve_help(f: Finding) -> dict[str, str]:
    fix = (f"Update the device's firmware to {user_version(f.fixed_in)}." if f.fixed_in
           else "No fixed firmware is known: check the vendor's advisory and apply its "
           "mitigations, or replace the device.")
    kev = " It is listed in CISA's Known Exploited Vulnerabilities catalog: fix it first." \
        if f.kev else ""
    desc = " ".join(f.description.split()) or f.cve
    url = nvd_url(f.cve)
    text = f"{desc}\n\nRemediation: {fix}{kev}"
    markdown = f"{_md(desc)}\n\n**Remediation:** {_md(fix)}{_md(kev)}"
    if url:
        text += f"\n\nDetails: {url}"
        markdown += f"\n\n[{f.cve} at NVD]({url})"
    return {"text": text, "markdown": markdown}


def _md(text: str) -> str:
    """Text as literal markdown (device and KB strings never become markup or links)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~-])", r"\\\1", text)


def _cve_rule(f: Finding) -> dict[str, Any]:
    sev = severity_of(f.severity)
    rule: dict[str, Any] = {
        "id": f.cve,
        "name": f.cve.replace("-", ""),
        "shortDescription": {"text": _first_sentence(f.description) or f.cve},
        "fullDescription": {"text": f.description or f.cve},
        "help": _cve_help(f),
        "defaultConfiguration": {"level": AFFECTED_LEVEL[sev]},
        "properties": {
            "tags": ["security", "vulnerability"] + (["kev"] if f.kev else []),  # < MAX_TAGS
        },
    }
    url = nvd_url(f.cve)
    if url:
        rule["helpUri"] = url
    if f.cvss is not None:
        rule["properties"]["security-severity"] = f"{f.cvss:.1f}"
    return rule


def _indicator_help(i: Indicator) -> dict[str, str]:
    title = (i.title or i.rule) + (f" (campaign {i.campaign})" if i.campaign else "")
    if i.remediation is not None:
        fix = i.remediation.text
    elif i.kind == "compromise":
        fix = ("Isolate the device from the network now, factory-reset it, change every "
               "password and key it held, and update its firmware before reconnecting it.")
    else:
        fix = "Turn the exposed service off, or restrict it to the LAN."
    links = [u for u in (safe_http_url(r) for r in i.references) if u]
    text = f"{title}\n\nRemediation: {fix}"
    markdown = f"{_md(title)}\n\n**Remediation:** {_md(fix)}"
    if links:
        text += "\n\nReferences: " + " ".join(links)
        markdown += "\n\n" + "\n".join(f"- <{u}>" for u in links)
    return {"text": text, "markdown": markdown}


def _indicator_rule(i: Indicator) -> dict[str, Any]:
    tags = (["security", i.kind] + ([i.campaign] if i.campaign else []))[:MAX_TAGS]
    rule: dict[str, Any] = {
        "id": i.rule,
        "shortDescription": {"text": i.title or i.rule},
        "fullDescription": {
            "text": (i.title or i.rule) + (f" (campaign {i.campaign})" if i.campaign else "")
        },
        "help": _indicator_help(i),
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


@dataclass(frozen=True)
class _Where:
    """Where the report's devices came from: the asset list of ``check --inventory``."""

    inventory: str | None = None
    rows: bool = False  # CSV: Assessment.line is the file's line


def _where(report: Report) -> _Where:
    if report.kind != "inventory" or len(report.scope) != 1:
        return _Where()
    path = PurePath(report.scope[0])
    uri = path.as_posix() if not path.is_absolute() else Path(path).as_uri()
    return _Where(uri, path.suffix.lower() in (".csv", ".tsv", ".txt"))


def _location(a: Assessment, index: int, where: _Where) -> dict[str, Any]:
    uri = device_uri(a, index)
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if where.inventory is not None:
        physical = {"artifactLocation": {"uri": where.inventory}}
        if where.rows and a.line:
            physical["region"] = {"startLine": a.line}
    return {
        "physicalLocation": physical,
        "logicalLocations": [
            {"name": device_name(a, index), "fullyQualifiedName": uri, "kind": "device"}
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


def _fingerprints(kind: str, a: Assessment, index: int, rule: str) -> dict[str, str]:
    digest = _fingerprint(_device_id(a, index), rule)
    return {f"routerwatch{kind}/v1": digest, "primaryLocationLineHash": f"{digest[:16]}:1"}


def _finding_result(
    f: Finding, a: Assessment, index: int, rule_index: int, where: _Where
) -> dict[str, Any]:
    label = a.identity.label()
    text = f"{f.cve} {f.status.replace('_', ' ')} on {device_name(a, index)} ({label})"
    if f.reason:
        text += f": {f.reason}"
    if f.kev:
        text += " Listed in CISA KEV" + (f" since {f.kev_date}." if f.kev_date else ".")
    if f.exploited_by:
        text += f" Exploited by {', '.join(f.exploited_by)}."
    if f.fixed_in:
        text += f" Fix: firmware {user_version(f.fixed_in)}."
    return {
        "ruleId": f.cve,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": finding_level(f),
        "message": {"text": text},
        "locations": [_location(a, index, where)],
        "partialFingerprints": _fingerprints("Finding", a, index, f.cve),
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


def _indicator_result(
    i: Indicator, a: Assessment, index: int, rule_index: int, where: _Where
) -> dict[str, Any]:
    text = f"{i.title or i.rule} on {device_name(a, index)} ({a.identity.label()})"
    if i.evidence:
        text += ": " + "; ".join(f"{e.source}: {e.value}" for e in i.evidence)
    return {
        "ruleId": i.rule,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": indicator_level(i),
        "message": {"text": text},
        "locations": [_location(a, index, where)],
        "partialFingerprints": _fingerprints("Indicator", a, index, i.rule),
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

    where = _where(report)
    for n, a in enumerate(report.assessments):
        for ind in a.indicators:
            ri = rule_index(ind.rule, lambda ind=ind: _indicator_rule(ind))
            results.append(_indicator_result(ind, a, n, ri, where))
        for f in a.findings:
            if f.status == "not_affected":
                continue
            ri = rule_index(f.cve, lambda f=f: _cve_rule(f))
            results.append(_finding_result(f, a, n, ri, where))
    notes = [{"level": "warning", "message": {"text": w}} for w in report.warnings]
    if len(results) > MAX_RESULTS:
        rules, results = _within_limits(rules, results)
        notes.append({"level": "warning", "message": {"text": (
            f"only the {MAX_RESULTS} most severe results are in this file (GitHub code "
            "scanning's limit per run); the JSON report holds them all")}})

    invocation: dict[str, Any] = {
        "executionSuccessful": not report.partial,
        "toolExecutionNotifications": notes,
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
            "partial": report.partial,
            "scope": list(report.scope),
            "policy": report.policy,
            "summary": summary(report),
            **readiness_run_properties(report),
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _within_limits(
    rules: list[dict[str, Any]], results: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The MAX_RESULTS most severe results and only the rules they use (re-indexed)."""
    kept = sorted(range(len(results)), key=lambda n: (_LEVEL_RANK[results[n]["level"]], n))
    chosen = [results[n] for n in sorted(kept[:MAX_RESULTS])]
    used = sorted({r["ruleIndex"] for r in chosen})
    new_index = {old: new for new, old in enumerate(used)}
    for r in chosen:
        r["ruleIndex"] = new_index[r["ruleIndex"]]
    return [rules[n] for n in used][:MAX_RULES], chosen


def render_sarif(report: Report) -> str:
    text = json.dumps(to_sarif(report), indent=2, ensure_ascii=False, allow_nan=False)
    return escape_unsafe(text) + "\n"
