"""Re-match the whole inventory after a KB change, in the background, resumably.

Each device remembers the KB change its findings were made with (``matched_kb``) and a digest
of that match. A re-match walks devices behind the newest change in id order, chunk by chunk,
each chunk one transaction: devices whose new match has the same digest only move their
marker; the others get the lifecycle diff, their events (with the why: new CVE, now in KEV,
EPSS jump, fix available) and a new risk. A kill between chunks loses nothing: the next run
carries on from the devices still behind.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from routerwatch.models import DeviceIdentity
from routerwatch.server import events as ev
from routerwatch.server import lifecycle
from routerwatch.server.ingest import (
    Scorer,
    Settings,
    apply_finding_changes,
    chunks,
    indicators_from_json,
    load_findings,
)
from routerwatch.server.knowledge import Knowledge, findings_digest
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now

log = logging.getLogger("routerwatch.server.rematch")


@dataclass
class RematchResult:
    change_id: int
    devices: int = 0
    diffed: int = 0
    events: int = 0
    done: bool = False


def pending_change(store: FleetStore) -> tuple[int, str] | None:
    """(id, detail) of the newest KB change when some change still waits for its re-match."""
    k = t.kb_changes
    with store.read() as conn:
        waiting = conn.execute(sa.select(k.c.id).where(
            k.c.rematch_state.in_(("pending", "running"))).limit(1)).first()
        if waiting is None:
            return None
        row = conn.execute(sa.select(k.c.id, k.c.detail).order_by(k.c.id.desc()).limit(1)).one()
    return int(row.id), str(row.detail)


def rematch(store: FleetStore, knowledge: Knowledge, settings: Settings | None = None, *,
            chunk: int = 2000, stop: threading.Event | None = None) -> RematchResult | None:
    """Bring every device to the newest KB change; None when nothing waits."""
    settings = settings or Settings()
    pending = pending_change(store)
    if pending is None:
        return None
    target, detail = pending
    if knowledge.change_id != target:
        knowledge.reload()
        knowledge.change_id = target
    result = RematchResult(target)
    k = t.kb_changes
    with store.write() as conn:
        conn.execute(sa.update(k).where(k.c.rematch_state == "pending", k.c.id <= target)
                     .values(rematch_state="running"))
    knowledge.engines()  # build the index outside the write lock
    last_id = 0
    while True:
        if stop is not None and stop.is_set():
            log.info("re-match interrupted", extra={"kb_change": target,
                                                    "devices": result.devices})
            return result
        with store.write() as conn:
            n, last_id, diffed, events = _chunk(conn, knowledge, settings, target, detail,
                                                last_id, chunk)
            result.devices += n
            result.diffed += diffed
            result.events += events
            if n == 0:
                conn.execute(sa.update(k).where(k.c.rematch_state == "running",
                                                k.c.id <= target)
                             .values(rematch_state="done", rematch_done_at=now()))
                result.done = True
                log.info("re-match done", extra={"kb_change": target, "devices": result.devices,
                                                  "changed": result.diffed,
                                                  "events": result.events})
                return result
            conn.execute(sa.update(k).where(k.c.id == target).values(
                devices_rematched=k.c.devices_rematched + n))


def _chunk(conn: sa.Connection, knowledge: Knowledge, settings: Settings, target: int,
           detail: str, last_id: int, size: int) -> tuple[int, int, int, int]:
    d = t.devices
    rows = conn.execute(sa.select(
        d.c.id, d.c.vendor, d.c.model, d.c.hardware, d.c.firmware, d.c.region,
        d.c.findings_digest,
    ).where(d.c.id > last_id, d.c.matched_kb < target).order_by(d.c.id).limit(size)).all()
    if not rows:
        return 0, last_id, 0, 0
    same: list[int] = []
    differ: dict[int, tuple[Any, ...]] = {}
    matched: dict[tuple[Any, ...], tuple[Any, str]] = {}  # identity → (findings, digest)
    for r in rows:
        key = (r.vendor, r.model, r.hardware, r.firmware, r.region)
        hit = matched.get(key)
        if hit is None:
            found = knowledge.check(DeviceIdentity(vendor=r.vendor, model=r.model,
                                                   hardware=r.hardware, firmware=r.firmware,
                                                   region=r.region))
            hit = matched[key] = (found, findings_digest(found))
        found, digest = hit
        if digest == r.findings_digest:
            same.append(r.id)
        else:
            differ[r.id] = (found, digest)
    for part in chunks(same, 900):
        conn.execute(sa.update(d).where(d.c.id.in_(part)).values(matched_kb=target))
    n_events = 0
    if differ:
        n_events = _diff_devices(conn, differ, settings, target, detail)
    return len(rows), rows[-1].id, len(differ), n_events


def _diff_devices(conn: sa.Connection, differ: dict[int, tuple[Any, ...]], settings: Settings,
                  target: int, detail: str) -> int:
    d = t.devices
    ids = sorted(differ)
    full = {}
    for part in chunks(ids):
        for r in conn.execute(sa.select(d).where(d.c.id.in_(part))):
            full[r.id] = r
    stored = load_findings(conn, ids)
    at = now()
    changes: list[lifecycle.FindingChanges] = []
    updates: list[dict[str, Any]] = []
    out: list[ev.Event] = []
    context = f"knowledge base update #{target} ({detail})"
    by_org: dict[int, int] = defaultdict(int)
    score = Scorer()
    for device_id in ids:
        r = full[device_id]
        found, digest = differ[device_id]
        fc = lifecycle.diff(stored[device_id], list(found), org_id=r.org_id,
                            device_id=device_id, site_id=r.site_id, at=at, context=context,
                            epss_jump=settings.epss_jump, kb_change_id=target)
        changes.append(fc)
        out.extend(fc.events)
        by_org[r.org_id] += len(fc.events)
        identity = DeviceIdentity(vendor=r.vendor, model=r.model, hardware=r.hardware,
                                  firmware=r.firmware, region=r.region)
        risk, level, _eol = score(identity, found, fc.hidden,
                                  indicators_from_json(r.indicators))
        updates.append({"_id": device_id, "matched_kb": target, "findings_digest": digest,
                        "risk": risk, "risk_level": level,
                        "open_findings": fc.open_count, "kev_open": fc.kev_open})
    apply_finding_changes(conn, changes)
    conn.execute(sa.update(d).where(d.c.id == sa.bindparam("_id")).values(
        {c: sa.bindparam(c) for c in updates[0] if c != "_id"}), updates)
    return ev.write(conn, out)
