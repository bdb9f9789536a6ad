"""The self-contained HTML report: one file, inline CSS, inline SVG charts, no scripts.

Jinja2 with autoescape on; every string also passes ``printable`` (through the environment's
``finalize``), so device-supplied text can neither run script nor smuggle control characters.
A Content-Security-Policy meta tag forbids scripts and remote loads as a second fence.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from routerwatch.models import Assessment, Finding, Report
from routerwatch.report.charts import Bar, Segment, bar_chart
from routerwatch.report.readiness import has_readiness, readiness_rows, readiness_summary
from routerwatch.report.summary import (
    SEVERITIES,
    by_severity,
    has_kev,
    host_name,
    is_compromised,
    is_vulnerable,
    severity_of,
    summary,
)
from routerwatch.report.text import fmt_score, nvd_url, printable, safe_http_url

SEVERITY_COLOR = {
    "critical": "#b91c1c",
    "high": "#ea580c",
    "medium": "#ca8a04",
    "low": "#2563eb",
    "none": "#6b7280",
    "unknown": "#9ca3af",
}
POSSIBLE_COLOR = {
    "critical": "#f1a5a5",
    "high": "#f8c29c",
    "medium": "#ecd68f",
    "low": "#a9c2f5",
    "none": "#d1d5db",
    "unknown": "#e5e7eb",
}
STATUS_ORDER = {"affected": 0, "possible": 1, "not_affected": 2}


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return printable(value)
    return value


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("routerwatch.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _severity_chart(report: Report) -> Markup:
    affected = by_severity(report, "affected")
    possible = by_severity(report, "possible")
    bars = [
        Bar(
            name.capitalize(),
            (
                Segment(affected[name], SEVERITY_COLOR[name], "affected"),
                Segment(possible[name], POSSIBLE_COLOR[name], "possible"),
            ),
        )
        for name in SEVERITIES
        if affected[name] or possible[name] or name in ("critical", "high", "medium", "low")
    ]
    return bar_chart(
        bars,
        title="Findings by severity (affected and possible)",
        legend=[("affected", "#7f1d1d"), ("possible (lighter)", "#f1a5a5")],
        empty="No affected or possible CVE findings.",
    )


def _vendor_chart(report: Report) -> Markup:
    groups: dict[str, list[int]] = {}
    for a in report.assessments:
        row = groups.setdefault(a.identity.vendor or "unknown", [0, 0, 0])
        if is_compromised(a):
            row[0] += 1
        elif is_vulnerable(a):
            row[1] += 1
        else:
            row[2] += 1
    ordered = sorted(groups.items(), key=lambda kv: (-sum(kv[1]), kv[0].lower()))
    bars = [
        Bar(
            vendor,
            (
                Segment(c, "#b91c1c", "compromised"),
                Segment(v, "#ea580c", "vulnerable"),
                Segment(o, "#16a34a", "no known problem"),
            ),
        )
        for vendor, (c, v, o) in ordered
    ]
    return bar_chart(
        bars,
        title="Devices by vendor",
        legend=[("compromised", "#b91c1c"), ("vulnerable", "#ea580c"), ("other", "#16a34a")],
        empty="No devices.",
    )


KIND_COLOR = {
    "isolate": "#b91c1c",
    "replace": "#7c3aed",
    "update": "#ea580c",
    "disable": "#ca8a04",
    "review": "#475569",
}


def _actions_chart(report: Report) -> Markup:
    """Devices that need each kind of action, most urgent kind first."""
    need: dict[str, set[int]] = {}
    urgency: dict[str, int] = {}
    for index, a in enumerate(report.assessments):
        for act in a.actions:
            need.setdefault(act.kind, set()).add(index)
            urgency[act.kind] = min(urgency.get(act.kind, act.priority), act.priority)
    kinds = sorted(need, key=lambda k: (urgency[k], -len(need[k]), k))
    bars = [
        Bar(kind, (Segment(len(need[kind]), KIND_COLOR.get(kind, "#1d4ed8"), "devices"),))
        for kind in kinds
    ]
    return bar_chart(
        bars,
        title="Devices that need each kind of action",
        width=360,
        label_width=80,
        empty="Nothing to do.",
    )


def _finding_view(f: Finding) -> dict[str, Any]:
    sev = severity_of(f.severity)
    return {
        "cve": f.cve,
        "url": nvd_url(f.cve),
        "status": f.status,
        "status_label": f.status.replace("_", " "),
        "severity": sev,
        "cvss": fmt_score(f.cvss),
        "kev": f.kev,
        "kev_date": f.kev_date,
        "exploited_by": ", ".join(f.exploited_by),
        "epss": "" if f.epss is None else f"{f.epss * 100:.1f}%",
        "fixed_in": f.fixed_in,
        "reason": f.reason,
        "joined": f.joined,
        "description": f.description if len(f.description) <= 320 else f.description[:319] + "…",
        "source": f.source,
    }


def _finding_key(f: Finding) -> tuple[int, int, float, str]:
    return (STATUS_ORDER.get(f.status, 3), 0 if f.kev else 1, -(f.cvss or 0.0), f.cve)


def _device_view(a: Assessment, index: int) -> dict[str, Any]:
    ident = a.identity
    findings = sorted(a.findings, key=_finding_key)
    return {
        "anchor": f"device-{index + 1}",
        "name": host_name(a, index),
        "label": ident.label(),
        "identity": ident,
        "confidence": f"{ident.confidence:.0%}",
        "open_ports": ", ".join(str(p) for p in a.open_ports),
        "risk": f"{a.risk:.0f}",
        "risk_level": a.risk_level.lower(),
        "evidence": [
            {
                "source": e.source,
                "value": e.value,
                "rule": e.rule,
                "fields": ", ".join(f"{k}={v}" for k, v in e.fields),
            }
            for e in ident.evidence
        ],
        "indicators": [
            {
                "ind": ind,
                "links": [u for u in (safe_http_url(r) for r in ind.references) if u],
                "plain_refs": [r for r in ind.references if not safe_http_url(r)],
            }
            for ind in a.indicators
        ],
        "findings": [_finding_view(f) for f in findings if f.status != "not_affected"],
        "cleared": [_finding_view(f) for f in findings if f.status == "not_affected"],
        "affected": sum(1 for f in a.findings if f.status == "affected"),
        "possible": sum(1 for f in a.findings if f.status == "possible"),
        "kev": sum(1 for f in a.findings if f.status == "affected" and f.kev),
        "compromised": is_compromised(a),
        "actions": sorted(a.actions, key=lambda x: x.priority),
        "assessment": a,
    }


def _policy_rows(report: Report) -> list[dict[str, Any]]:
    rows = []
    for index, a in enumerate(report.assessments):
        replace = [x.text for x in a.actions if x.kind == "replace"]
        if a.policy or a.eol or replace:
            rows.append(
                {
                    "anchor": f"device-{index + 1}",
                    "name": host_name(a, index),
                    "label": a.identity.label(),
                    "eol": a.eol,
                    "policy": list(a.policy),
                    "replace": replace,
                }
            )
    return rows


def _kb_rows(kb: dict[str, Any]) -> list[tuple[str, str]]:
    """The KB status as (name, details) rows, whatever its exact shape."""

    def flat(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k}: {flat(v)}" for k, v in value.items() if v is not None)
        if isinstance(value, list | tuple):
            return ", ".join(flat(v) for v in value)
        return "" if value is None else str(value)

    sources = kb.get("sources")
    rows: list[tuple[str, str]] = []
    if isinstance(sources, dict):
        rows.extend((str(k), flat(v)) for k, v in sources.items())
        rest = {k: v for k, v in kb.items() if k != "sources"}
    else:
        rest = dict(kb)
    rows.extend((str(k), flat(v)) for k, v in rest.items())
    return rows


def render_html(report: Report) -> str:
    """The whole HTML document."""
    s = summary(report)
    context = {
        "report": report,
        "s": s,
        "kev_hosts": sum(1 for a in report.assessments if has_kev(a)),
        "severity_chart": _severity_chart(report),
        "vendor_chart": _vendor_chart(report),
        "actions_chart": _actions_chart(report),
        "top_actions": s["top_actions"],
        "devices": [_device_view(a, i) for i, a in enumerate(report.assessments)],
        "policy_rows": _policy_rows(report),
        "readiness": readiness_rows(report) if has_readiness(report) else None,
        "readiness_summary": readiness_summary(report) if has_readiness(report) else None,
        "kb_rows": _kb_rows(report.kb),
        "severities": SEVERITIES,
    }
    return _env().get_template("report.html.j2").render(**context)
