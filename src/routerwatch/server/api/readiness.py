"""Ban readiness over time (read-only): the fleet's readiness at each upload, from the store's
history of sightings, computed by ``routerwatch.assess.readiness.readiness_progress``."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from routerwatch.assess.readiness import readiness_progress
from routerwatch.models import ReadinessItem
from routerwatch.schema import SchemaError, from_builtins
from routerwatch.server.api.deps import ctx, no_nul, role
from routerwatch.server.auth import Principal
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import iso, utc

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul)])


class ProgressPointOut(BaseModel):
    at: str
    devices: int
    in_scope: int
    affected: int
    exception_expired: int
    unknown: int
    excepted: int
    overdue: int
    replaced: int
    progress: float


class ReadinessProgress(BaseModel):
    site: str | None
    points: list[ProgressPointOut]
    skipped: int  # sightings whose readiness data could not be read (counted, not guessed)


def _items(data: str) -> tuple[tuple[ReadinessItem, ...], bool]:
    """The readiness items of one stored host record; (items, readable)."""
    try:
        raw = orjson.loads(data).get("readiness") or []
        return tuple(from_builtins(x, ReadinessItem) for x in raw), True
    except (orjson.JSONDecodeError, AttributeError, SchemaError, TypeError):
        return (), False


@router.get("/readiness/progress", response_model=ReadinessProgress, tags=["readiness"])
def readiness_progress_route(
    request: Request,
    site: str | None = Query(None, max_length=200, description="one site by name"),
    limit: int = Query(200, ge=1, le=2000, description="the newest N uploads"),
    p: Principal = Depends(role("viewer")),
) -> Any:
    """One point per upload (oldest first): the fleet as the latest upload of each site up to
    then showed it. A complete upload replaces its site's devices; a partial one adds to them."""
    u, s, sg, d = t.uploads, t.sites, t.sightings, t.devices
    q = sa.select(u.c.id, u.c.site_id, u.c.observed_at, u.c.complete).where(
        u.c.org_id == p.org_id)
    if site is not None:
        q = q.join(s, s.c.id == u.c.site_id).where(s.c.name == site)
    with ctx(request).store.read() as conn:
        uploads = conn.execute(
            q.order_by(u.c.observed_at.desc(), u.c.id.desc()).limit(limit)).all()[::-1]
        ids = [row.id for row in uploads]
        by_upload: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
        for part in range(0, len(ids), 500):
            rows = conn.execute(
                sa.select(sg.c.upload_id, d.c.device_key, sg.c.data)
                .join(d, d.c.id == sg.c.device_id)
                .where(sg.c.org_id == p.org_id, sg.c.upload_id.in_(ids[part:part + 500])))
            for sighting in rows:
                by_upload[sighting.upload_id].append((sighting.device_key, sighting.data))
    fleet: dict[int, dict[str, tuple[ReadinessItem, ...]]] = {}
    skipped = 0
    snapshots = []
    for row in uploads:
        seen: dict[str, tuple[ReadinessItem, ...]] = {}
        for key, data in by_upload[row.id]:
            items, ok = _items(data)
            skipped += not ok
            seen[key] = items
        if row.complete:
            fleet[row.site_id] = seen
        else:
            fleet.setdefault(row.site_id, {}).update(seen)
        devices = [(k, v) for per_site in fleet.values() for k, v in per_site.items()]
        snapshots.append((iso(utc(row.observed_at)) or "", devices))
    points = [vars(pt) for pt in readiness_progress(snapshots)]
    return {"site": site, "points": points, "skipped": skipped}
