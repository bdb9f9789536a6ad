"""Figures over a whole report: the summary panel, the charts and the JSON ``summary``.

Definitions (documented in docs/reports.md):

- ``hosts``: assessed devices.
- ``identified``: devices whose vendor and model are both known.
- ``vulnerable``: devices with at least one ``affected`` finding.
- ``compromised``: devices with at least one ``compromise`` indicator.
- ``kev``: devices with at least one ``affected`` finding listed in CISA KEV.
- ``kev_possible``: devices with a ``possible`` KEV finding and no ``affected`` one (the firmware
  is unknown or the data cannot decide it; KEV naming the model is enough to be listed here).
- ``not_covered``: identified devices the knowledge base does not fully cover (``coverage``
  level ``partly`` or ``no``: "no known CVEs" cannot be said of them).
- ``by_vendor``: devices per vendor ("unknown" when the vendor is unknown), most first.
- ``by_severity``: ``affected`` and ``possible`` findings (device, CVE pairs) per severity.
- ``top_actions``: the actions of all devices, equal ones merged, updates another update of the
  same vendor covers folded into it, most urgent first (at most 10; see :func:`top_actions`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from routerwatch.models import Assessment, Report

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "none", "unknown")
TOP_ACTIONS = 10
# Across devices, urgency follows the kind of action (Action.priority only orders one device's).
KIND_URGENCY = {"isolate": 0, "update": 1, "replace": 2, "disable": 3, "review": 4}


def severity_of(severity: str | None) -> str:
    """Normalise a finding's severity to one of SEVERITIES."""
    value = (severity or "").strip().lower()
    return value if value in SEVERITIES else "unknown"


def is_identified(a: Assessment) -> bool:
    return bool(a.identity.vendor and a.identity.model)


def is_vulnerable(a: Assessment) -> bool:
    return any(f.status == "affected" for f in a.findings)


def is_compromised(a: Assessment) -> bool:
    return any(i.kind == "compromise" for i in a.indicators)


def has_kev(a: Assessment) -> bool:
    return any(f.status == "affected" and f.kev for f in a.findings)


def has_possible_kev(a: Assessment) -> bool:
    return not has_kev(a) and any(f.status == "possible" and f.kev for f in a.findings)


def host_name(a: Assessment, index: int) -> str:
    """The address, or a stable stand-in for devices checked without one."""
    return a.address or f"device-{index + 1}"


def by_severity(report: Report, status: str | None = None) -> dict[str, int]:
    """Count of findings per severity; ``status`` None means affected + possible."""
    wanted = ("affected", "possible") if status is None else (status,)
    counts = dict.fromkeys(SEVERITIES, 0)
    for a in report.assessments:
        for f in a.findings:
            if f.status in wanted:
                counts[severity_of(f.severity)] += 1
    return counts


def by_vendor(report: Report) -> dict[str, int]:
    counts = Counter(a.identity.vendor or "unknown" for a in report.assessments)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower())))


def top_actions(report: Report, limit: int = TOP_ACTIONS) -> list[dict[str, Any]]:
    """Actions of all devices, most urgent first: equal ones (kind and text) merged, and an
    update whose CVEs another update of the same vendor clears folded into that one (its
    devices join it; ``folded`` keeps the texts folded in).

    Order (the same in every format): isolating compromised devices first, then what follows
    isolation on them (factory reset), then updates (most CVEs cleared first), replacements,
    disabling services, reviews; within a kind, more devices first."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    members: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    vendors: dict[tuple[str, str], set[str]] = {}
    for index, a in enumerate(report.assessments):
        for act in a.actions:
            key = (act.kind, act.text)
            entry = merged.get(key)
            if entry is None:
                entry = merged[key] = {
                    "priority": act.priority,
                    "kind": act.kind,
                    "text": act.text,
                    "hosts": [],
                    "clears": [],
                }
            entry["priority"] = min(entry["priority"], act.priority)
            seen = members.setdefault(key, (set(), set()))  # membership in O(1), not O(hosts)
            vendors.setdefault(key, set()).add((a.identity.vendor or "").lower())
            name = host_name(a, index)
            if name not in seen[0]:
                seen[0].add(name)
                entry["hosts"].append(name)
            for c in act.clears:
                if c not in seen[1]:
                    seen[1].add(c)
                    entry["clears"].append(c)
    _fold_updates(merged, members, vendors)
    ordered = sorted(
        merged.values(),
        key=lambda e: (
            KIND_URGENCY.get(e["kind"], len(KIND_URGENCY)),
            e["priority"] if e["kind"] == "isolate" else 0,  # isolate, then factory reset
            -len(e["clears"]) if e["kind"] == "update" else 0,
            -len(e["hosts"]),
            e["priority"],
            e["text"],
        ),
    )
    return ordered[:limit]


def _fold_updates(
    merged: dict[tuple[str, str], dict[str, Any]],
    members: dict[tuple[str, str], tuple[set[str], set[str]]],
    vendors: dict[tuple[str, str], set[str]],
) -> None:
    """Fold each update into the update of the same (known) vendor that clears a superset of
    its CVEs and the most CVEs (one firmware target for them all)."""
    updates = [k for k in merged if k[0] == "update" and members[k][1]
               and len(vendors[k]) == 1 and "" not in vendors[k]]
    updates.sort(key=lambda k: (-len(members[k][1]), k[1]))
    by_cve: dict[str, list[tuple[str, str]]] = {}
    for k in updates:
        for cve in members[k][1]:
            by_cve.setdefault(cve, []).append(k)
    folded: set[tuple[str, str]] = set()
    for k in reversed(updates):  # smallest first: each into the biggest that covers it
        cves = members[k][1]
        for big in by_cve[next(iter(cves))]:  # biggest first
            if big == k or big in folded or vendors[big] != vendors[k]:
                continue
            if len(members[big][1]) < len(cves) or not cves <= members[big][1]:
                continue
            entry, small = merged[big], merged[k]
            for host in small["hosts"]:
                if host not in members[big][0]:
                    members[big][0].add(host)
                    entry["hosts"].append(host)
            entry.setdefault("folded", []).extend([small["text"], *small.get("folded", [])])
            entry["priority"] = min(entry["priority"], small["priority"])
            folded.add(k)
            break
    for k in folded:
        del merged[k]


def needs_replacing(a: Assessment) -> bool:
    """End of life, or restricted by the vendor policy."""
    return bool(a.eol or a.policy)


def replace_by_site(report: Report) -> list[dict[str, Any]]:
    """Per site (from the policy's site map; "no site" otherwise): devices and those to replace."""
    sites: dict[str, dict[str, Any]] = {}
    for index, a in enumerate(report.assessments):
        name = a.site or "no site"
        entry = sites.setdefault(name, {"site": name, "devices": 0, "to_replace": []})
        entry["devices"] += 1
        if needs_replacing(a):
            entry["to_replace"].append(host_name(a, index))
    for entry in sites.values():
        entry["replace_count"] = len(entry["to_replace"])
    return sorted(sites.values(), key=lambda e: (e["site"] == "no site", e["site"].lower()))


def summary(report: Report) -> dict[str, Any]:
    """The figures of the report's summary (see the module docstring for definitions)."""
    items = report.assessments
    return {
        "hosts": len(items),
        "identified": sum(1 for a in items if is_identified(a)),
        "vulnerable": sum(1 for a in items if is_vulnerable(a)),
        "compromised": sum(1 for a in items if is_compromised(a)),
        "kev": sum(1 for a in items if has_kev(a)),
        "kev_possible": sum(1 for a in items if has_possible_kev(a)),
        "not_covered": sum(1 for a in items if is_identified(a) and a.coverage is not None
                           and a.coverage.level != "yes"),
        "by_vendor": by_vendor(report),
        "by_severity": by_severity(report),
        "top_actions": top_actions(report),
        "replace_by_site": replace_by_site(report),
    }
