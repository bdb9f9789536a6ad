"""Planning: follow each route's cursor over ``fleet_events`` and record what must be sent.

One write transaction per round (the store's single writer, so event ids commit in order and
a cursor never passes an event still being written): for every route (rule × channel) the
events after its cursor are matched against the rule; each selected event becomes a
``pending`` delivery row (due now, at the end of its digest period, after its debounce
window, or after quiet hours), unless the channel has it already (``fleet_alert_dedup``).
The cursor moves in the same transaction, so a crash repeats or loses nothing.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routerwatch.server.alerts.specs import FLAP_PAIRS, SEVERITY_ORDER, Match, QuietHours, RuleSpec
from routerwatch.server.store import FleetStore
from routerwatch.server.store import alerts as a
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now, utc


@dataclass
class Lookup:
    """Sites, devices and findings the events of one round refer to (one query each)."""

    sites: dict[int, str] = field(default_factory=dict)
    devices: dict[int, Any] = field(default_factory=dict)
    findings: dict[tuple[int, str], tuple[bool, float | None]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, events: Iterable[Any]) -> Lookup:
        evs = list(events)
        out = cls()
        site_ids = {e.site_id for e in evs if e.site_id}
        device_ids = {e.device_id for e in evs if e.device_id}
        for part in _chunks(sorted(site_ids)):
            for sid, name in conn.execute(sa.select(t.sites.c.id, t.sites.c.name)
                                          .where(t.sites.c.id.in_(part))):
                out.sites[sid] = name
        for part in _chunks(sorted(device_ids)):
            for row in conn.execute(sa.select(t.devices).where(t.devices.c.id.in_(part))):
                out.devices[row.id] = row
        with_cve = sorted({e.device_id for e in evs if e.device_id and e.cve})
        f = t.findings
        for part in _chunks(with_cve):
            for d, cve, kev, epss in conn.execute(sa.select(f.c.device_id, f.c.cve, f.c.kev,
                                                            f.c.epss)
                                                  .where(f.c.device_id.in_(part))):
                out.findings[(d, cve)] = (bool(kev), epss)
        return out

    def kev_epss(self, ev: Any, data: dict[str, Any]) -> tuple[bool, float | None] | None:
        """Whether the event's CVE is in KEV and its EPSS; None for an event without CVE."""
        if not ev.cve:
            return None
        kev, epss = self.findings.get((ev.device_id, ev.cve), (False, None))
        if ev.type == "finding.kev" or data.get("kev") is True:
            kev = True
        if isinstance(data.get("epss"), int | float):
            epss = float(data["epss"])
        elif ev.type == "finding.epss_jump" and isinstance(data.get("new"), int | float):
            epss = float(data["new"])
        return kev, epss


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def matches(m: Match, ev: Any, data: dict[str, Any], look: Lookup) -> bool:
    """Does the event satisfy every condition of the rule's match?"""
    if m.types and not any(ev.type == x or (x.endswith(".") and ev.type.startswith(x))
                           for x in m.types):
        return False
    if m.min_severity and SEVERITY_ORDER.get(ev.severity, 0) < SEVERITY_ORDER[m.min_severity]:
        return False
    if m.sites and look.sites.get(ev.site_id) not in m.sites:
        return False
    if m.vendors:
        dev = look.devices.get(ev.device_id)
        vendor = (dev.vendor if dev is not None else None) or data.get("vendor") or ""
        if vendor.lower() not in {v.lower() for v in m.vendors}:
            return False
    if m.kev is not None or m.epss_min is not None:
        ke = look.kev_epss(ev, data)
        if ke is None:
            return False
        if m.kev is not None and ke[0] != m.kev:
            return False
        if m.epss_min is not None and (ke[1] is None or ke[1] < m.epss_min):
            return False
    if m.indicators:
        rule = str(data.get("rule") or "")
        if not ev.type.startswith("indicator.") or not any(
                fnmatch.fnmatchcase(rule.lower(), p.lower()) for p in m.indicators):
            return False
    return True


def quiet_end(q: QuietHours, at: datetime) -> datetime | None:
    """The end of the quiet window ``at`` falls in, or None when it is outside."""
    local = at.astimezone(ZoneInfo(q.tz))
    day = local.date()
    for start_day in (day - timedelta(days=1), day):
        start = datetime.combine(start_day, q.start, ZoneInfo(q.tz))
        end_day = start_day if q.end > q.start else start_day + timedelta(days=1)
        end = datetime.combine(end_day, q.end, ZoneInfo(q.tz))
        if start <= local < end:
            return end.astimezone(UTC)
    return None


def flap_key(ev: Any, data: dict[str, Any]) -> str | None:
    if ev.type not in FLAP_PAIRS or not ev.device_id:
        return None
    family = ev.type.split(".")[0]
    port = data.get("port") if family == "port" else ""
    return f"{family}:{ev.device_id}:{port}"


@dataclass
class PlanResult:
    events_read: int = 0
    planned: int = 0
    duplicates: int = 0
    suppressed: int = 0
    dropped: int = 0


def _routes(conn: Connection) -> list[Any]:
    r, c, ro = a.rules, a.channels, a.routes
    return list(conn.execute(
        sa.select(ro.c.id, ro.c.org_id, ro.c.rule_id, ro.c.channel_id, ro.c.cursor,
                  r.c.enabled.label("rule_on"), r.c.spec, c.c.enabled.label("channel_on"))
        .join(r, r.c.id == ro.c.rule_id).join(c, c.c.id == ro.c.channel_id)
        .order_by(ro.c.rule_id, ro.c.channel_id)).all())


def behind(store: FleetStore) -> bool:
    """Is any route's cursor behind the newest event of its organisation? (a cheap read, so
    an idle server does not take the writer lock every tick)"""
    e, ro = t.events, a.routes
    newest = (sa.select(sa.func.max(e.c.id)).where(e.c.org_id == ro.c.org_id)
              .scalar_subquery())
    with store.read() as conn:
        return conn.execute(sa.select(ro.c.id).where(ro.c.cursor < newest).limit(1)).first() \
            is not None


def plan(store: FleetStore, batch: int = 2000) -> PlanResult:
    """One planning round: at most ``batch`` events per organisation."""
    result = PlanResult()
    if not behind(store):
        return result
    with store.write() as conn:
        by_org: dict[int, list[Any]] = defaultdict(list)
        for row in _routes(conn):
            by_org[row.org_id].append(row)
        for org_id, routes in by_org.items():
            _plan_org(conn, org_id, routes, batch, result)
    return result


def _plan_org(conn: Connection, org_id: int, routes: list[Any], batch: int,
              result: PlanResult) -> None:
    e = t.events
    low = min(x.cursor for x in routes)
    events = conn.execute(sa.select(e).where(e.c.org_id == org_id, e.c.id > low)
                          .order_by(e.c.id).limit(batch)).all()
    if not events:
        return
    result.events_read += len(events)
    look = Lookup.load(conn, events)
    datas = {ev.id: orjson.loads(ev.data) for ev in events}
    at = now()
    specs: dict[int, RuleSpec] = {}
    for route in routes:
        todo = [ev for ev in events if ev.id > route.cursor]
        if not todo:
            continue
        if route.rule_on and route.channel_on:
            spec = specs.get(route.rule_id)
            if spec is None:
                spec = specs[route.rule_id] = RuleSpec.model_validate(
                    {**orjson.loads(route.spec), "name": "-", "channels": []})
            chosen = [ev for ev in todo if matches(spec.match, ev, datas[ev.id], look)]
            if chosen:
                _plan_route(conn, org_id, route, spec, chosen, datas, at, result)
        conn.execute(sa.update(a.routes).where(a.routes.c.id == route.id)
                     .values(cursor=todo[-1].id))


def _plan_route(conn: Connection, org_id: int, route: Any, spec: RuleSpec, chosen: list[Any],
                datas: dict[int, dict[str, Any]], at: datetime, result: PlanResult) -> None:
    """Delivery rows for the events a route selected, written in bulk."""
    d = a.deliveries
    seen: set[int] = set()
    ids = [ev.id for ev in chosen]
    for i in range(0, len(ids), 500):
        seen.update(conn.execute(sa.select(a.dedup.c.event_id).where(
            a.dedup.c.channel_id == route.channel_id,
            a.dedup.c.event_id.in_(ids[i:i + 500]))).scalars())
    rows: list[dict[str, Any]] = []
    waiting: dict[tuple[str, str], dict[str, Any]] = {}  # (flap key, type) → row, this batch
    for ev in chosen:
        if ev.id in seen:
            result.duplicates += 1
            continue
        row = _row(conn, org_id, route, spec, ev, datas[ev.id], at, waiting, result)
        rows.append(row)
        if row["flap_key"] and row["state"] == "pending":
            waiting[(row["flap_key"], ev.type)] = row
    if not rows:
        return
    made = conn.execute(sa.insert(d).returning(d.c.id, sort_by_parameter_order=True),
                        rows).scalars().all()
    conn.execute(sa.insert(a.dedup), [
        {"channel_id": route.channel_id, "event_id": row["event_id"], "delivery_id": did}
        for row, did in zip(rows, made, strict=True)])
    result.planned += sum(1 for row in rows if row["state"] == "pending")


def _row(conn: Connection, org_id: int, route: Any, spec: RuleSpec, ev: Any,
         data: dict[str, Any], at: datetime, waiting: dict[tuple[str, str], dict[str, Any]],
         result: PlanResult) -> dict[str, Any]:
    """The delivery row of one selected event: when it is due, or why it is not sent."""
    d = a.deliveries
    ev_at = utc(ev.at) or at
    due = max(ev_at, at)
    state, note = "pending", None
    if spec.digest_minutes:
        period = spec.digest_minutes * 60
        start = int(ev_at.timestamp()) // period * period
        due = max(due, datetime.fromtimestamp(start + period, UTC))
        note = f"digest of {spec.digest_minutes} min"
    key = flap_key(ev, data) if spec.debounce_minutes else None
    if key is not None:
        window = timedelta(minutes=spec.debounce_minutes)
        why = f"flap: {ev.type} within {spec.debounce_minutes} min"
        opposite = waiting.pop((key, FLAP_PAIRS[ev.type]), None)
        earlier = None
        if opposite is not None:  # planned in this same batch
            opposite.update(state="suppressed", note=why)
        else:
            earlier = conn.execute(sa.select(d.c.id).where(
                d.c.channel_id == route.channel_id, d.c.flap_key == key,
                d.c.event_type == FLAP_PAIRS[ev.type], d.c.state == "pending",
                d.c.created_at >= at - window).order_by(d.c.id.desc()).limit(1)).first()
            if earlier is not None:
                conn.execute(sa.update(d).where(d.c.id == earlier.id).values(
                    state="suppressed", note=why, updated_at=at))
        if opposite is not None or earlier is not None:
            state, note = "suppressed", why
            result.suppressed += 2
        else:
            due = max(due, ev_at + window)
            note = f"debounce {spec.debounce_minutes} min"
    q = spec.quiet_hours
    if state == "pending" and q is not None and not (
            q.bypass_severity and SEVERITY_ORDER.get(ev.severity, 0)
            >= SEVERITY_ORDER[q.bypass_severity]):
        end = quiet_end(q, due)
        if end is not None:
            if q.action == "drop":
                state, note = "dropped", "quiet hours"
                result.dropped += 1
            else:
                due, note = end, "held for quiet hours"
    return {"org_id": org_id, "rule_id": route.rule_id, "channel_id": route.channel_id,
            "kind": "digest" if spec.digest_minutes else "event", "event_id": ev.id,
            "event_type": ev.type, "device_id": ev.device_id, "flap_key": key,
            "event_ids": f"[{ev.id}]", "state": state, "attempts": 0, "last_error": None,
            "note": note, "created_at": at, "updated_at": at, "not_before": due,
            "sent_at": None}
