"""The event log: every change, in order, with its why (the outbox alerts read)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request

from routerwatch.server.api import models as m
from routerwatch.server.api.deps import ctx, fast_json, no_nul, role, row_dict
from routerwatch.server.auth import Principal
from routerwatch.server.events import SEVERITIES, TYPES
from routerwatch.server.store import schema as t

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul)])


@router.get("/events", response_model=m.EventList, tags=["events"])
def list_events(
    request: Request,
    after: int = Query(0, ge=0, le=2**31 - 1, description="only events with a larger id"),
    limit: int = Query(100, ge=1, le=1000),
    type: list[str] | None = Query(None, description=f"one or more of {', '.join(TYPES)}; "
                                   "a prefix ending in '.' (\"finding.\") selects a family"),
    device_id: int | None = Query(None, ge=1, le=2**31 - 1),
    site_id: int | None = Query(None, ge=1, le=2**31 - 1),
    cve: str | None = Query(None, max_length=32),
    min_severity: str | None = Query(None, description="/".join(SEVERITIES)),
    p: Principal = Depends(role("viewer")),
) -> Any:
    """Events of the caller's organisation in id order; follow ``next_after`` to read on."""
    e = t.events
    cond: list[Any] = [e.c.org_id == p.org_id, e.c.id > after]
    if type:
        exact = [x for x in type if not x.endswith(".")]
        prefixes = [x for x in type if x.endswith(".")]
        cond.append(sa.or_(e.c.type.in_(exact),
                           *[e.c.type.startswith(x, autoescape=True) for x in prefixes]))
    if device_id is not None:
        cond.append(e.c.device_id == device_id)
    if site_id is not None:
        cond.append(e.c.site_id == site_id)
    if cve:
        cond.append(e.c.cve == cve.strip().upper())
    if min_severity in SEVERITIES:
        cond.append(e.c.severity.in_(SEVERITIES[SEVERITIES.index(min_severity):]))
    with ctx(request).store.read() as conn:
        rows = conn.execute(sa.select(e).where(*cond).order_by(e.c.id).limit(limit)).all()
    items = [row_dict(r, json_cols=("data",)) for r in rows]
    return fast_json({"items": items, "next_after": items[-1]["id"] if items else None})
