"""The findings lifecycle: compare what the matcher says now with what the store holds.

States: ``open``; ``fixed`` (the match no longer lists it: seen gone); ``accepted`` (risk
accepted with reason, who and expiry; reopens when it expires); ``false_positive`` (with
reason; kept across scans and re-matches). ``present`` says whether the newest match lists
the CVE. Pure functions: the callers write the rows and the events they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from routerwatch.models import Finding
from routerwatch.server.events import Event, severity_of

STATES = ("open", "fixed", "accepted", "false_positive")
TRIAGE_STATES = ("open", "accepted", "false_positive")


@dataclass
class FindingChanges:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # "_id" plus changed columns
    events: list[Event] = field(default_factory=list)
    open_count: int = 0
    kev_open: int = 0
    hidden: set[str] = field(default_factory=set)  # CVEs marked false positive


def _values(f: Finding) -> dict[str, Any]:
    return {
        "match_status": f.status, "kev": f.kev, "kev_date": f.kev_date, "epss": f.epss,
        "cvss": f.cvss, "severity": (f.severity or "").lower() or None,
        "fixed_in": f.fixed_in, "reason": f.reason[:4000],
    }


def diff(
    stored: dict[str, Any],
    current: list[Finding],
    *,
    org_id: int,
    device_id: int,
    site_id: int | None,
    at: datetime,
    context: str,
    epss_jump: float = 0.1,
    upload_id: int | None = None,
    kb_change_id: int | None = None,
) -> FindingChanges:
    """The row changes and events that bring ``stored`` (cve → row) in line with ``current``."""
    out = FindingChanges()

    def event(kind: str, cve: str, why: str, sev: str, **data: Any) -> None:
        out.events.append(Event(kind, org_id, why, sev, site_id=site_id, device_id=device_id,
                                cve=cve, observed_at=at, upload_id=upload_id,
                                kb_change_id=kb_change_id, data=data))

    now_listed = {f.cve: f for f in current if f.status in ("affected", "possible")}
    for cve in sorted(now_listed):
        f = now_listed[cve]
        sev = severity_of(f.severity, f.kev)
        row = stored.get(cve)
        vals = _values(f)
        if row is None:
            out.inserts.append({"org_id": org_id, "device_id": device_id, "cve": cve,
                                "state": "open", "present": True, "first_seen": at,
                                "updated_at": at, **vals})
            kev = f" (in CISA KEV since {f.kev_date})" if f.kev else ""
            event("finding.new", cve, f"{context}: {cve} {f.status}{kev}: {f.reason}", sev,
                  status=f.status, kev=f.kev, epss=f.epss, cvss=f.cvss, fixed_in=f.fixed_in)
            out.open_count += 1
            out.kev_open += int(f.kev)
            continue
        change: dict[str, Any] = {k: v for k, v in vals.items() if row[k] != v}
        state = row["state"]
        if not row["present"]:
            change["present"] = True
            if state == "fixed":
                change.update(state="open", fixed_at=None)
                state = "open"
                event("finding.reopened", cve, f"{context}: {cve} matches again: {f.reason}",
                      sev, status=f.status)
        if state != "false_positive":
            if f.kev and not row["kev"]:
                event("finding.kev", cve, f"{cve} was added to CISA KEV on {f.kev_date} "
                      "(known exploited)", "critical", kev_date=f.kev_date)
            old_epss = row["epss"] or 0.0
            if f.epss is not None and f.epss - old_epss >= epss_jump:
                event("finding.epss_jump", cve,
                      f"EPSS of {cve} rose from {old_epss:.3f} to {f.epss:.3f}", sev,
                      old=row["epss"], new=f.epss)
            if f.fixed_in and not row["fixed_in"]:
                event("finding.fix_available", cve,
                      f"a fix for {cve} is available: firmware {f.fixed_in}", sev,
                      fixed_in=f.fixed_in)
        if change:
            change["_id"] = row["id"]
            change["updated_at"] = at
            out.updates.append(change)
        if state == "open":
            out.open_count += 1
            out.kev_open += int(f.kev)
        elif state == "false_positive":
            out.hidden.add(cve)
    for cve in sorted(set(stored) - set(now_listed)):
        row = stored[cve]
        if not row["present"]:
            continue
        change = {"_id": row["id"], "present": False, "updated_at": at}
        if row["state"] in ("open", "accepted"):
            change.update(state="fixed", fixed_at=at)
            event("finding.closed", cve, f"{context}: {cve} no longer matches (fixed)",
                  "info", previous=row["state"])
        out.updates.append(change)
    return out
