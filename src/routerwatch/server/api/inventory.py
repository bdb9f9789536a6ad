"""Inventory: sites, devices (filter, page, export), one device with history, uploads."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from routerwatch.server.api import models as m
from routerwatch.server.api.agents import admit, uploader
from routerwatch.server.api.deps import (
    ObjectId,
    Page,
    cached_answer,
    csv_response,
    ctx,
    json_bytes,
    no_nul,
    paged,
    paging,
    role,
    row_dict,
)
from routerwatch.server.auth import Principal
from routerwatch.server.ingest import ConflictError, IngestResult, ingest
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import iso
from routerwatch.server.wire import WireError, parse_upload

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul)])
viewer = role("viewer")
DEVICE_JSON = ("open_ports", "indicators", "policy")
_DEVICE_DROP = ("org_id", "findings_digest")
_DEVICE_TIMES = ("first_seen", "last_seen")
DEVICE_COLUMNS = ("id", "site", "device_key", "state", "address", "vendor", "model", "hardware",
                  "firmware", "risk", "risk_level", "kev_open", "open_findings", "eol",
                  "open_ports", "first_seen", "last_seen")
Format = Literal["json", "csv"]


@router.get("/sites", response_model=m.SiteList, tags=["inventory"])
def list_sites(request: Request, page: Page = Depends(paging),
               p: Principal = Depends(viewer)) -> Any:
    s, d = t.sites, t.devices
    count = sa.select(sa.func.count()).where(d.c.site_id == s.c.id).scalar_subquery()
    with ctx(request).store.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(s).where(
            s.c.org_id == p.org_id)).scalar_one()
        rows = conn.execute(sa.select(s, count.label("devices")).where(s.c.org_id == p.org_id)
                            .order_by(s.c.id).limit(page.limit).offset(page.offset)).all()
    return paged([row_dict(r) for r in rows], total, page)


@router.post("/sites", response_model=m.Site, status_code=201, tags=["inventory"])
def create_site(body: m.SiteIn, request: Request, p: Principal = Depends(role("admin"))) -> Any:
    store = ctx(request).store
    with store.write() as conn:
        site_id = store.ensure_site(conn, p.org_id, body.name.strip() or "default")
        row = conn.execute(sa.select(t.sites).where(t.sites.c.id == site_id)).one()
    return {**row_dict(row), "devices": 0}


def _device_filter(p: Principal, vendor: str | None, site: str | None, kev: bool | None,
                   risk_min: float | None, risk_level: str | None, state: str | None,
                   q: str | None) -> list[Any]:
    d, s = t.devices, t.sites
    cond: list[Any] = [d.c.org_id == p.org_id]
    if vendor:
        cond.append(sa.func.lower(d.c.vendor) == vendor.lower())
    if site:
        cond.append(s.c.name == site)
    if kev is not None:
        cond.append(d.c.kev_open > 0 if kev else d.c.kev_open == 0)
    if risk_min is not None:
        cond.append(d.c.risk >= risk_min)
    if risk_level:
        cond.append(d.c.risk_level == risk_level)
    if state:
        cond.append(d.c.state == state)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cond.append(sa.or_(d.c.model.ilike(like, escape="\\"),
                           d.c.address.ilike(like, escape="\\"),
                           d.c.device_key.ilike(like, escape="\\")))
    return cond


def device_rows(conn: sa.Connection, cond: list[Any], limit: int | None, offset: int,
                order: Any = None, *, raw_json: bool = False) -> list[dict[str, Any]]:
    """Devices as plain dicts (the API's shape). ``raw_json``: the JSON columns are passed on
    as ``orjson.Fragment`` of their stored text, for ``orjson.dumps`` (no parse, no rebuild)."""
    d, s = t.devices, t.sites
    stmt = (sa.select(*[c for c in d.c if c.name not in _DEVICE_DROP], s.c.name.label("site"))
            .join(s, s.c.id == d.c.site_id)
            .where(*cond).order_by(*(order if order is not None else [d.c.id])).offset(offset))
    if limit is not None:
        stmt = stmt.limit(limit)
    result = conn.execute(stmt)
    keys = tuple(result.keys())
    json_at = [i for i, k in enumerate(keys) if k in DEVICE_JSON]
    time_at = [i for i, k in enumerate(keys) if k in _DEVICE_TIMES]
    raw = orjson.Fragment if raw_json else orjson.loads
    out = []
    for tup in result:  # by position: no mapping per column (the list page's former cost)
        values = list(tup)
        for i in json_at:
            if isinstance(values[i], str):
                values[i] = raw(values[i])
        for i in time_at:
            values[i] = iso(values[i])
        out.append(dict(zip(keys, values, strict=True)))
    return out


@router.get("/devices", response_model=m.DeviceList, tags=["inventory"],
            responses={200: {"content": {"text/csv": {}}}})
async def list_devices(
    request: Request,
    page: Page = Depends(paging),
    vendor: str | None = Query(None, max_length=100),
    site: str | None = Query(None, max_length=200),
    kev: bool | None = Query(None, description="only devices with (true) / without (false) "
                             "open KEV findings"),
    risk_min: float | None = Query(None, ge=0, le=100),
    risk_level: Literal["critical", "high", "medium", "low", "none"] | None = None,
    state: Literal["present", "gone"] | None = None,
    q: str | None = Query(None, max_length=100, description="text in model/address/key"),
    sort: Literal["id", "risk", "last_seen"] = "id",
    format: Format = "json",
    p: Principal = Depends(viewer),
) -> Response:
    """Devices of the caller's organisation; ``format=csv`` exports every match (no paging)."""
    d, s = t.devices, t.sites
    cond = _device_filter(p, vendor, site, kev, risk_min, risk_level, state, q)
    order = {"id": [d.c.id], "risk": [d.c.risk.desc(), d.c.id],
             "last_seen": [d.c.last_seen.desc(), d.c.id]}[sort]
    store = ctx(request).store
    if format == "csv":
        def export() -> Response:
            with store.read() as conn:
                rows = device_rows(conn, cond, None, 0, order)
            return csv_response(rows, DEVICE_COLUMNS, "devices.csv")

        return await run_in_threadpool(export)
    key = ("devices", p.org_id, vendor, site, kev, risk_min, risk_level, state, q, sort,
           page.limit, page.offset)

    def build(conn: sa.Connection) -> bytes:
        total = conn.execute(sa.select(sa.func.count()).select_from(
            d.join(s, s.c.id == d.c.site_id)).where(*cond)).scalar_one()
        rows = device_rows(conn, cond, page.limit, page.offset, order, raw_json=True)
        return json_bytes(paged(rows, total, page))

    return await cached_answer(request, key, build)


def finding_rows(conn: sa.Connection, cond: list[Any], limit: int | None,
                 offset: int) -> list[dict[str, Any]]:
    f, d, s = t.findings, t.devices, t.sites
    stmt = (sa.select(f, d.c.vendor, d.c.model, s.c.name.label("site"))
            .join(d, d.c.id == f.c.device_id).join(s, s.c.id == d.c.site_id)
            .where(*cond).order_by(f.c.id).offset(offset))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [row_dict(r) for r in conn.execute(stmt)]


@router.get("/devices/{device_id}", response_model=m.DeviceDetail, tags=["inventory"])
async def get_device(device_id: ObjectId, request: Request,
                     p: Principal = Depends(viewer)) -> Response:
    d = t.devices

    def build(conn: sa.Connection) -> bytes:
        rows = device_rows(conn, [d.c.org_id == p.org_id, d.c.id == device_id], 1, 0,
                           raw_json=True)
        if not rows:
            raise HTTPException(404, f"no device {device_id}")
        findings = finding_rows(conn, [t.findings.c.device_id == device_id,
                                       t.findings.c.org_id == p.org_id], None, 0)
        return json_bytes({**rows[0], "findings": findings})

    return await cached_answer(request, ("device", p.org_id, device_id), build)


@router.get("/devices/{device_id}/history", response_model=m.DeviceHistory, tags=["inventory"])
def device_history(device_id: ObjectId, request: Request,
                   sightings: int = Query(100, ge=1, le=1000),
                   p: Principal = Depends(viewer)) -> Any:
    """Identity and firmware history, open ports over time, the newest sightings."""
    d, i, po, si = t.devices, t.identities, t.ports, t.sightings
    with ctx(request).store.read() as conn:
        if conn.execute(sa.select(d.c.id).where(d.c.id == device_id,
                                                d.c.org_id == p.org_id)).first() is None:
            raise HTTPException(404, f"no device {device_id}")
        ids = conn.execute(sa.select(i.c.seen_at, i.c.vendor, i.c.model, i.c.hardware,
                                     i.c.firmware, i.c.upload_id)
                           .where(i.c.device_id == device_id).order_by(i.c.id)).all()
        ports = conn.execute(sa.select(po.c.port, po.c.opened_at, po.c.closed_at)
                             .where(po.c.device_id == device_id).order_by(po.c.id)).all()
        seen = conn.execute(sa.select(si.c.id, si.c.upload_id, si.c.seen_at, si.c.address)
                            .where(si.c.device_id == device_id)
                            .order_by(si.c.id.desc()).limit(sightings)).all()
    return {"device_id": device_id, "identities": [row_dict(r) for r in ids],
            "ports": [row_dict(r) for r in ports], "sightings": [row_dict(r) for r in seen]}


@router.get("/uploads", response_model=m.UploadList, tags=["ingest"])
def list_uploads(request: Request, page: Page = Depends(paging),
                 p: Principal = Depends(viewer)) -> Any:
    u = t.uploads
    with ctx(request).store.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(u).where(
            u.c.org_id == p.org_id)).scalar_one()
        rows = conn.execute(sa.select(u).where(u.c.org_id == p.org_id).order_by(u.c.id.desc())
                            .limit(page.limit).offset(page.offset)).all()
    return paged([row_dict(r) for r in rows], total, page)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (also when streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/uploads", response_model=IngestResult, tags=["ingest"],
             responses={200: {"description": "already ingested (same run id and body)"},
                        201: {"description": "ingested"}, 409: {"description": "run id reused"},
                        413: {"description": "too large"}, 422: {"description": "invalid"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object"}}}}})
async def upload(request: Request, p: Principal = Depends(uploader)) -> Response:
    """Ingest one run (an upload envelope around a routerwatch JSON report, see docs)."""
    context = ctx(request)
    body = await read_body(request, context.config.max_upload)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"body is not JSON: {exc}") from None
    try:
        parsed = parse_upload(data)
    except WireError as exc:
        raise HTTPException(422, str(exc)) from None
    if b"\\u0000" in body:
        raise HTTPException(422, "NUL characters are not allowed in an upload")
    await admit(request, p, parsed.site, parsed.kind, data.get("network"))
    digest = hashlib.sha256(body).hexdigest()
    try:
        result = await run_in_threadpool(ingest, context.store, context.knowledge, p.org_id,
                                         parsed, digest, token_id=p.token_id,
                                         settings=context.config.settings)
    except ConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    return JSONResponse(asdict(result), status_code=200 if result.duplicate else 201)
