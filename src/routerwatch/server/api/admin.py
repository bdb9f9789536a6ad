"""Administration: API tokens of the organisation; the KB (status, imports, sync schedules)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from routerwatch.kb import KBError
from routerwatch.server import kbops
from routerwatch.server.api import models as m
from routerwatch.server.api.deps import ObjectId, ctx, no_nul, role, row_dict, system_admin
from routerwatch.server.api.inventory import read_body
from routerwatch.server.auth import Principal, create_token, revoke_token
from routerwatch.server.store import schema as t

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul)])
TOKEN_COLS = ("id", "name", "role", "created_at", "expires_at", "revoked_at")


@router.get("/tokens", response_model=m.TokenList, tags=["admin"])
def list_tokens(request: Request, p: Principal = Depends(role("admin"))) -> Any:
    tk = t.tokens
    with ctx(request).store.read() as conn:
        rows = conn.execute(sa.select(*[tk.c[c] for c in TOKEN_COLS])
                            .where(tk.c.org_id == p.org_id).order_by(tk.c.id)).all()
    return {"items": [row_dict(r) for r in rows]}


@router.post("/tokens", response_model=m.TokenCreated, status_code=201, tags=["admin"])
def new_token(body: m.TokenIn, request: Request, p: Principal = Depends(role("admin"))) -> Any:
    """Create a token in the caller's organisation; its text is in this answer only."""
    store = ctx(request).store
    expires = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    with store.write() as conn:
        made = create_token(conn, p.org_id, body.name, body.role, expires_in=expires,
                            created_by=p.token_id)
        tk = t.tokens
        row = conn.execute(sa.select(*[tk.c[c] for c in TOKEN_COLS])
                           .where(tk.c.id == made.id)).one()
    return {**row_dict(row), "token": made.token}


@router.delete("/tokens/{token_id}", status_code=204, tags=["admin"],
               responses={404: {"description": "no such token"}})
def delete_token(token_id: ObjectId, request: Request,
                 p: Principal = Depends(role("admin"))) -> None:
    """Revoke a token of the caller's organisation (at once)."""
    with ctx(request).store.write() as conn:
        if not revoke_token(conn, p.org_id, token_id):
            raise HTTPException(404, f"no active token {token_id}")


@router.get("/kb", tags=["kb"])
def kb_status(request: Request, p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    """KB status, its recorded changes (with re-match progress) and the sync schedules."""
    context = ctx(request)
    with context.store.read() as conn:
        changes = conn.execute(sa.select(t.kb_changes).order_by(t.kb_changes.c.id.desc())
                               .limit(20)).all()
        schedules = conn.execute(sa.select(t.schedules).order_by(t.schedules.c.source)).all()
    return {"status": context.knowledge.status(),
            "changes": [row_dict(r, drop=("fingerprint",)) for r in changes],
            "schedules": [row_dict(r) for r in schedules]}


@router.post("/kb/import", tags=["kb"], status_code=201,
             responses={409: {"description": "another import or sync is running"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}}})
async def kb_import(request: Request, name: str = Query(..., min_length=1, max_length=200,
                                                        description="file name (its kind)"),
                    p: Principal = Depends(system_admin)) -> dict[str, Any]:
    """Import one KB file (bundle .rwkb.xz, NVD/CVE 5/KEV JSON, EPSS CSV); re-match follows."""
    context = ctx(request)
    body = await read_body(request, context.config.max_kb_upload)
    try:
        result = await run_in_threadpool(kbops.import_bytes, context.store, context.knowledge,
                                         body, name)
    except KBError as exc:
        raise HTTPException(422, str(exc)) from None
    except kbops.KBBusy as exc:
        raise HTTPException(409, str(exc)) from None
    context.worker.kick()
    return result


@router.put("/kb/schedules/{source}", tags=["kb"],
            responses={422: {"description": "bad source or interval"}})
def put_schedule(source: Literal["nvd", "kev", "epss"], body: m.ScheduleIn, request: Request,
                 p: Principal = Depends(system_admin)) -> dict[str, Any]:
    """Sync ``source`` (nvd, kev, epss) every ``interval_seconds`` (stored; survives restarts)."""
    try:
        kbops.set_schedule(ctx(request).store, source, body.interval_seconds, body.enabled)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    ctx(request).worker.kick()
    return {"source": source, "interval_seconds": body.interval_seconds,
            "enabled": body.enabled}
