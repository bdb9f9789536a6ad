"""Triage by people: accept a risk (reason, who, expiry), mark a false positive, reopen.

An accepted risk that expires reopens (``expire_accepted``, run by the background worker).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from routerwatch.server import events as ev
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import iso, now, utc


class TriageError(ValueError):
    """The triage request cannot be applied; the message says why."""


def triage(store: FleetStore, org_id: int, finding_id: int, state: str, *, reason: str | None,
           by: str, expires: datetime | None = None) -> dict[str, Any]:
    """Set a finding's triage state; returns the finding row. TriageError / LookupError."""
    f = t.findings
    moment = now()
    if state not in ("open", "accepted", "false_positive"):
        raise TriageError("state must be open, accepted or false_positive")
    if state in ("accepted", "false_positive") and not (reason and reason.strip()):
        raise TriageError(f"{state} needs a reason")
    if state == "accepted":
        if expires is None:
            raise TriageError("an accepted risk needs an expiry time")
        if (utc(expires) or moment) <= moment:
            raise TriageError("the expiry time must be in the future")
    with store.write() as conn:
        row = conn.execute(sa.select(f).where(f.c.id == finding_id, f.c.org_id == org_id)).first()
        if row is None:
            raise LookupError(f"no finding {finding_id}")
        if state == "open" and row.state == "fixed":
            raise TriageError("the finding is fixed (no longer matched); nothing to reopen")
        values: dict[str, Any] = {"state": state, "updated_at": moment, "triage_by": by,
                                  "triage_at": moment,
                                  "triage_reason": (reason or "").strip()[:2000] or None,
                                  "triage_expires": expires if state == "accepted" else None}
        if not row.present and state != "false_positive":
            values["state"] = "fixed"
        conn.execute(sa.update(f).where(f.c.id == finding_id).values(**values))
        why = f"{row.cve} marked {state} by {by}" + (f": {reason}" if reason else "")
        if state == "accepted":
            why += f" (until {iso(expires)})"
        ev.write(conn, [ev.Event("finding.triaged", org_id, why, "info", device_id=row.device_id,
                                 cve=row.cve, data={"state": state, "previous": row.state})])
        _recount(conn, [row.device_id])
        return dict(conn.execute(sa.select(f).where(f.c.id == finding_id)).one()._mapping)


def _recount(conn: sa.Connection, device_ids: list[int]) -> None:
    f, d = t.findings, t.devices
    for device_id in device_ids:
        open_q = sa.select(sa.func.count()).where(f.c.device_id == device_id, f.c.state == "open")
        kev_q = open_q.where(f.c.kev)
        conn.execute(sa.update(d).where(d.c.id == device_id).values(
            open_findings=open_q.scalar_subquery(), kev_open=kev_q.scalar_subquery()))


def expire_accepted(store: FleetStore, moment: datetime | None = None) -> int:
    """Reopen every accepted risk whose expiry has passed; returns how many."""
    f = t.findings
    moment = moment or now()
    with store.write() as conn:
        rows = conn.execute(sa.select(f).where(f.c.state == "accepted",
                                               f.c.triage_expires <= moment)
                            .order_by(f.c.id)).all()
        if not rows:
            return 0
        events = []
        for r in rows:
            state = "open" if r.present else "fixed"
            conn.execute(sa.update(f).where(f.c.id == r.id).values(
                state=state, updated_at=moment, triage_expires=None))
            events.append(ev.Event(
                "finding.risk_expired", r.org_id,
                f"accepted risk of {r.cve} expired ({iso(r.triage_expires)}; accepted by "
                f"{r.triage_by}: {r.triage_reason}); the finding is {state} again",
                ev.severity_of(r.severity, r.kev), device_id=r.device_id, cve=r.cve,
                data={"state": state}))
        ev.write(conn, events)
        _recount(conn, sorted({r.device_id for r in rows}))
        return len(rows)
