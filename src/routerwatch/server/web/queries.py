"""What the dashboard's pages show, read from the fleet store (one organisation at a time).

Aggregates are done by the database (the overview stays fast at tens of thousands of devices);
device and finding rows come from the API's own readers (``api.inventory``), so a page and the
JSON API never disagree. Trends are replayed from the event log and the identity history.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routerwatch.assess.policy import Policy, SiteSummary, site_summary
from routerwatch.identity import compare_versions
from routerwatch.models import Assessment, DeviceIdentity
from routerwatch.server.api.inventory import device_rows, finding_rows
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import utc

RISK_LEVELS = ("critical", "high", "medium", "low", "none")
COMPROMISE = '%"kind":"compromise"%'  # indicators are stored as compact JSON (orjson)


def _loads(text: str | None) -> Any:
    return orjson.loads(text) if text else []


# --------------------------------------------------------------------------- overview


@dataclass
class Overview:
    devices: int = 0
    present: int = 0
    gone: int = 0
    compromised: int = 0
    kev_devices: int = 0
    kev_findings: int = 0
    open_findings: int = 0
    eol: int = 0
    policy: int = 0
    sites: list[dict[str, Any]] = field(default_factory=list)  # name, devices, per risk level
    vendors: list[dict[str, Any]] = field(default_factory=list)  # vendor, devices, kev
    severities: dict[str, int] = field(default_factory=dict)  # open findings by severity
    eol_devices: list[dict[str, Any]] = field(default_factory=list)
    policy_devices: list[dict[str, Any]] = field(default_factory=list)
    compromised_devices: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def overview(conn: Connection, org_id: int, *, top: int = 12) -> Overview:
    """Counts, risk by site, vendors, end of life, policy violations, the newest events."""
    d, s, f = t.devices, t.sites, t.findings
    mine = d.c.org_id == org_id
    present = sa.and_(mine, d.c.state == "present")
    is_bad = d.c.indicators.like(COMPROMISE)
    row = conn.execute(sa.select(
        sa.func.count(),
        sa.func.sum(sa.case((d.c.state == "present", 1), else_=0)),
        sa.func.sum(sa.case((sa.and_(d.c.state == "present", is_bad), 1), else_=0)),
        sa.func.sum(sa.case((sa.and_(d.c.state == "present", d.c.kev_open > 0), 1), else_=0)),
        sa.func.sum(sa.case((d.c.state == "present", d.c.kev_open), else_=0)),
        sa.func.sum(sa.case((d.c.state == "present", d.c.open_findings), else_=0)),
        sa.func.sum(sa.case((sa.and_(d.c.state == "present", d.c.eol.is_not(None)), 1),
                            else_=0)),
        sa.func.sum(sa.case((sa.and_(d.c.state == "present", d.c.policy != "[]"), 1),
                            else_=0)),
    ).where(mine)).one()
    total = int(row[0] or 0)
    out = Overview(devices=total, present=int(row[1] or 0), gone=total - int(row[1] or 0),
                   compromised=int(row[2] or 0), kev_devices=int(row[3] or 0),
                   kev_findings=int(row[4] or 0), open_findings=int(row[5] or 0),
                   eol=int(row[6] or 0), policy=int(row[7] or 0))
    sites: dict[str, dict[str, Any]] = {}
    for name, level, n, kev in conn.execute(
            sa.select(s.c.name, d.c.risk_level, sa.func.count(),
                      sa.func.sum(sa.case((d.c.kev_open > 0, 1), else_=0)))
            .join(s, s.c.id == d.c.site_id).where(present)
            .group_by(s.c.name, d.c.risk_level).order_by(s.c.name)):
        item = sites.setdefault(name, {"name": name, "devices": 0, "kev": 0,
                                       **dict.fromkeys(RISK_LEVELS, 0)})
        item[level if level in RISK_LEVELS else "none"] += int(n)
        item["devices"] += int(n)
        item["kev"] += int(kev or 0)
    out.sites = sorted(sites.values(), key=lambda x: (-x["critical"] - x["high"], x["name"]))
    vendor = sa.func.coalesce(d.c.vendor, "unknown")
    out.vendors = [{"vendor": v, "devices": int(n), "kev": int(k or 0)} for v, n, k in conn.execute(
        sa.select(vendor, sa.func.count(), sa.func.sum(sa.case((d.c.kev_open > 0, 1), else_=0)))
        .where(present).group_by(vendor).order_by(sa.func.count().desc(), vendor).limit(top))]
    # open findings of present devices by severity: every open finding (an index range,
    # no join) less those of gone devices (few) — 4× faster than joining every finding
    severities: Counter[str] = Counter()
    for sev, n in conn.execute(sa.select(f.c.severity, sa.func.count())
                               .where(f.c.org_id == org_id, f.c.state == "open")
                               .group_by(f.c.severity)):
        severities[str(sev or "unknown")] += int(n)
    for sev, n in conn.execute(sa.select(f.c.severity, sa.func.count())
                               .join(d, d.c.id == f.c.device_id)
                               .where(d.c.org_id == org_id, d.c.state == "gone",
                                      f.c.state == "open").group_by(f.c.severity)):
        severities[str(sev or "unknown")] -= int(n)
    out.severities = {k: v for k, v in severities.items() if v > 0}
    out.eol_devices = device_rows(conn, [present, d.c.eol.is_not(None)], top, 0,
                                  [d.c.eol, d.c.id])
    out.policy_devices = device_rows(conn, [present, d.c.policy != "[]"], top, 0,
                                     [d.c.risk.desc(), d.c.id])
    out.compromised_devices = device_rows(conn, [present, is_bad], top, 0,
                                          [d.c.risk.desc(), d.c.id])
    out.events = recent_events(conn, org_id, limit=10)
    return out


def recent_events(conn: Connection, org_id: int, *, limit: int = 50,
                  device_id: int | None = None) -> list[dict[str, Any]]:
    e = t.events
    cond = [e.c.org_id == org_id]
    if device_id is not None:
        cond.append(e.c.device_id == device_id)
    rows = conn.execute(sa.select(e.c.id, e.c.type, e.c.at, e.c.observed_at, e.c.device_id,
                                  e.c.cve, e.c.severity, e.c.why)
                        .where(*cond).order_by(e.c.id.desc()).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


# --------------------------------------------------------------------------- device page


def device_page(conn: Connection, org_id: int, device_id: int) -> dict[str, Any] | None:
    """The device, its findings, history, newest sighting (actions, notes) and events."""
    d, i, po, si = t.devices, t.identities, t.ports, t.sightings
    rows = device_rows(conn, [d.c.org_id == org_id, d.c.id == device_id], 1, 0)
    if not rows:
        return None
    device = rows[0]
    findings = finding_rows(conn, [t.findings.c.org_id == org_id,
                                   t.findings.c.device_id == device_id], None, 0)
    order = {"open": 0, "accepted": 1, "false_positive": 2, "fixed": 3}
    findings.sort(key=lambda r: (order.get(r["state"], 9), not r["kev"],
                                 -(r["cvss"] or 0), r["cve"]))
    identities = [dict(r._mapping) for r in conn.execute(
        sa.select(i.c.seen_at, i.c.vendor, i.c.model, i.c.hardware, i.c.firmware)
        .where(i.c.device_id == device_id, i.c.org_id == org_id).order_by(i.c.id.desc()))]
    ports = [dict(r._mapping) for r in conn.execute(
        sa.select(po.c.port, po.c.opened_at, po.c.closed_at)
        .where(po.c.device_id == device_id, po.c.org_id == org_id)
        .order_by(po.c.closed_at.is_not(None), po.c.port))]
    sightings = [dict(r._mapping) for r in conn.execute(
        sa.select(si.c.id, si.c.seen_at, si.c.address, si.c.upload_id)
        .where(si.c.device_id == device_id, si.c.org_id == org_id)
        .order_by(si.c.id.desc()).limit(20))]
    newest = conn.execute(sa.select(si.c.data).where(
        si.c.device_id == device_id, si.c.org_id == org_id)
        .order_by(si.c.seen_at.desc(), si.c.id.desc()).limit(1)).scalar()
    host = orjson.loads(newest) if newest else {}
    return {"device": device, "findings": findings, "identities": identities, "ports": ports,
            "sightings": sightings, "actions": host.get("actions") or [],
            "notes": host.get("notes") or [],
            "evidence": (host.get("identity") or {}).get("evidence") or [],
            "events": recent_events(conn, org_id, device_id=device_id, limit=30)}


# --------------------------------------------------------------------------- trends


@dataclass
class Trends:
    days: list[date]
    open_findings: list[int]
    kev_findings: list[int]
    kev_devices: list[int]
    firmware_current: list[float | None]  # share of devices on their model's newest firmware
    firmware_known: list[int]  # devices whose firmware is known (the share's base)


def _day(moment: datetime | None) -> date | None:
    m = utc(moment)
    return m.date() if m is not None else None


def trends(conn: Connection, org_id: int, *, days: int = 30,
           today: date | None = None) -> Trends:
    """Per day (end of day, UTC): open findings, open KEV findings and KEV-exposed devices
    (replayed from the finding events), and firmware currency (from the identity history:
    the share of devices whose firmware was the newest the fleet has seen for that model)."""
    e = t.events
    today = today or datetime.now(UTC).date()
    span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    when = sa.func.coalesce(e.c.observed_at, e.c.at)
    rows = conn.execute(
        sa.select(e.c.type, when.label("when"), e.c.device_id, e.c.cve, e.c.data)
        .where(e.c.org_id == org_id, e.c.type.in_((
            "finding.new", "finding.closed", "finding.reopened", "finding.kev",
            "finding.triaged", "finding.risk_expired")))
        .order_by(e.c.id)).all()
    state: dict[tuple[int, str], str] = {}
    kev: set[tuple[int, str]] = set()
    changes: list[tuple[date, tuple[int, str], str | None, bool]] = []
    for r in rows:
        key = (int(r.device_id or 0), str(r.cve))
        data = _loads(r.data) if r.data else {}
        new_state: str | None = None
        if r.type in ("finding.new", "finding.reopened"):
            new_state = "open"
        elif r.type == "finding.closed":
            new_state = "fixed"
        elif r.type in ("finding.triaged", "finding.risk_expired"):
            new_state = str(data.get("state") or "open")
        is_kev = bool(data.get("kev")) or r.type == "finding.kev"
        day = _day(r.when) or today
        changes.append((day, key, new_state, is_kev))
    changes.sort(key=lambda c: c[0])
    open_n, kev_n, kev_dev = [], [], []
    pos = 0
    for day in span:
        while pos < len(changes) and changes[pos][0] <= day:
            _d, key, new_state, is_kev = changes[pos]
            if new_state is not None:
                state[key] = new_state
            if is_kev:
                kev.add(key)
            pos += 1
        opened = [k for k, v in state.items() if v == "open"]
        open_n.append(len(opened))
        kev_open = [k for k in opened if k in kev]
        kev_n.append(len(kev_open))
        kev_dev.append(len({k[0] for k in kev_open}))
    current, known = _firmware_currency(conn, org_id, span)
    return Trends(span, open_n, kev_n, kev_dev, current, known)


def _firmware_currency(conn: Connection, org_id: int,
                       span: list[date]) -> tuple[list[float | None], list[int]]:
    d, i = t.devices, t.identities
    first = {int(r.id): _day(r.first_seen) for r in conn.execute(
        sa.select(d.c.id, d.c.first_seen).where(d.c.org_id == org_id))}
    history: dict[int, list[tuple[date, str | None, str | None, str | None]]] = defaultdict(list)
    newest: dict[tuple[str, str], str] = {}
    for r in conn.execute(sa.select(i.c.device_id, i.c.seen_at, i.c.vendor, i.c.model,
                                    i.c.firmware).where(i.c.org_id == org_id)
                          .order_by(i.c.device_id, i.c.id)):
        day = _day(r.seen_at) or span[-1]
        history[int(r.device_id)].append((day, r.vendor, r.model, r.firmware))
        if r.firmware and r.model:
            kind = (str(r.vendor or ""), str(r.model))
            best = newest.get(kind)
            if best is None or (compare_versions(r.vendor, r.firmware, best) or 0) > 0:
                newest[kind] = r.firmware
    shares: list[float | None] = []
    bases: list[int] = []
    for day in span:
        base = current = 0
        for device_id, steps in history.items():
            start = first.get(device_id)
            if start is None or start > day:
                continue
            at = [s for s in steps if s[0] <= day]
            if not at:
                continue
            _d, vendor, name, fw = at[-1]
            if not fw or not name:
                continue
            base += 1
            current += int(newest.get((str(vendor or ""), str(name))) == fw)
        bases.append(base)
        shares.append(round(100.0 * current / base, 1) if base else None)
    return shares, bases


# --------------------------------------------------------------------------- phase-out


@dataclass
class PhaseOutSite:
    summary: SiteSummary
    in_scope: int  # devices the policy ever caught here
    replaced: int  # ... that are gone now
    remaining: int  # ... still present
    deadline: str | None
    overdue: int

    @property
    def progress(self) -> float:
        return 100.0 if not self.in_scope else round(100.0 * self.replaced / self.in_scope, 1)


def phase_out(conn: Connection, org_id: int, policy: Policy,
              today: date | None = None) -> list[PhaseOutSite]:
    """Per site: the devices the vendor policy restricts, how many are gone (replaced), how
    many remain, the earliest deadline and the overdue ones (``assess.policy.site_summary``)."""
    d, s = t.devices, t.sites
    today = today or date.today()
    rows = conn.execute(sa.select(d.c.address, d.c.vendor, d.c.model, d.c.hardware,
                                  d.c.firmware, d.c.state, d.c.eol, s.c.name.label("site"))
                        .join(s, s.c.id == d.c.site_id).where(d.c.org_id == org_id)
                        .order_by(s.c.name, d.c.id)).all()
    present: list[Assessment] = []
    gone: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    for r in rows:
        ident = DeviceIdentity(vendor=r.vendor, model=r.model, hardware=r.hardware,
                               firmware=r.firmware)
        hit = bool(policy.violations(ident, today))
        if r.state == "present":
            present.append(Assessment(address=r.address, identity=ident, site=r.site,
                                      eol=r.eol))
        caught[r.site] += int(hit)
        gone[r.site] += int(hit and r.state != "present")
    out = []
    for summary in site_summary(present, policy, today=today):
        items = [x for x in summary.to_replace if x.deadline]  # the policy's, not EOL alone
        out.append(PhaseOutSite(
            summary=summary, in_scope=caught[summary.site], replaced=gone[summary.site],
            remaining=len(items), deadline=min((x.deadline for x in items if x.deadline),
                                               default=None),
            overdue=sum(1 for x in items if x.overdue)))
    return out
