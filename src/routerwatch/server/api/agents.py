"""Agents and sensors: enrolment, the list and revocation, scan jobs, the agents' own calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from routerwatch.server import agents as core
from routerwatch.server.api.deps import ObjectId, caller, ctx, no_nul, role, row_dict
from routerwatch.server.api.models import NO_NUL
from routerwatch.server.auth import AGENT_ROLE, Principal
from routerwatch.server.store import agents as ta
from routerwatch.server.store import schema as t

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul)])


class EnrolmentIn(BaseModel):
    site: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    kind: Literal["agent", "sensor"] = "agent"
    expires_in_hours: int = Field(default=168, ge=1, le=24 * 90)
    silent_after_seconds: int | None = Field(
        default=None, ge=5, le=90 * 86400,
        description="no contact for this long makes an agent.silent/sensor.silent event "
        "(default 3 days for agents, 3 hours for sensors)")


class EnrolIn(BaseModel):
    token: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class JobIn(BaseModel):
    site: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    runner: Literal["sensor", "agent"] = "sensor"
    name: str = Field(default="scan", min_length=1, max_length=200, pattern=NO_NUL)
    targets: list[str] = Field(min_length=1, max_length=256)
    ports: list[int] | None = Field(default=None, max_length=1024)
    interval_seconds: int = Field(default=3600, ge=10, le=30 * 86400)
    complete: bool = False


async def uploader(principal: Principal = Depends(caller)) -> Principal:
    """Who may upload: operators and admins, and enrolled agents/sensors (checked further)."""
    if principal.role != AGENT_ROLE and not principal.allows("operator"):
        raise HTTPException(403, f"this needs the operator role (token has {principal.role})")
    return principal


async def admit(request: Request, p: Principal, site: str, kind: str,
                network: Any) -> None:
    """For an agent credential: its own site and kind only (403 otherwise); counts contact."""
    if p.role != AGENT_ROLE:
        return
    net = network if isinstance(network, dict) and len(orjson.dumps(network)) < 4096 else None
    try:
        await run_in_threadpool(core.admit_upload, ctx(request).store, p, site, kind, net)
    except core.AdmitError as exc:
        raise HTTPException(403, str(exc)) from None


@router.post("/enrolments", status_code=201, tags=["agents"])
def new_enrolment(body: EnrolmentIn, request: Request,
                  p: Principal = Depends(role("admin"))) -> dict[str, Any]:
    """A one-time enrolment token for an agent or sensor of ``site`` (shown once)."""
    store = ctx(request).store
    with store.write() as conn:
        made = core.create_enrolment(conn, store, p.org_id, body.site.strip(), body.kind,
                                     expires_in=timedelta(hours=body.expires_in_hours),
                                     created_by=p.token_id,
                                     silent_after=body.silent_after_seconds)
    return {"id": made.id, "token": made.token, "site": made.site, "kind": made.kind,
            "expires_at": made.expires_at}


@router.delete("/enrolments/{enrol_id}", status_code=204, tags=["agents"],
               responses={404: {"description": "no such unused enrolment token"}})
def delete_enrolment(enrol_id: ObjectId, request: Request,
                     p: Principal = Depends(role("admin"))) -> None:
    with ctx(request).store.write() as conn:
        if not core.revoke_enrolment(conn, p.org_id, enrol_id):
            raise HTTPException(404, f"no unused enrolment token {enrol_id}")


@router.post("/enrol", status_code=201, tags=["agents"],
             responses={401: {"description": "enrolment token not valid"}})
def enrol(body: EnrolIn, request: Request) -> dict[str, Any]:
    """Exchange a one-time enrolment token (no bearer token) for an agent credential."""
    try:
        made = core.enrol(ctx(request).store, body.token.strip(), body.name.strip())
    except core.EnrolError as exc:
        raise HTTPException(401, str(exc)) from None
    return {"agent_id": made.agent_id, "kind": made.kind, "site": made.site, "org": made.org,
            "token": made.token}


@router.get("/agents", tags=["agents"])
def list_agents(request: Request, kind: Literal["agent", "sensor"] | None = None,
                p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    """The organisation's agents and sensors with their last contact."""
    a = ta.agents
    cond: list[Any] = [a.c.org_id == p.org_id]
    if kind:
        cond.append(a.c.kind == kind)
    with ctx(request).store.read() as conn:
        rows = conn.execute(sa.select(a, t.sites.c.name.label("site"))
                            .join(t.sites, t.sites.c.id == a.c.site_id)
                            .where(*cond).order_by(a.c.id)).all()
    return {"items": [row_dict(r, drop=("org_id",), json_cols=("network",)) for r in rows]}


@router.delete("/agents/{agent_id}", status_code=204, tags=["agents"],
               responses={404: {"description": "no such active agent"}})
def delete_agent(agent_id: ObjectId, request: Request,
                 p: Principal = Depends(role("admin"))) -> None:
    """Revoke an agent or sensor: its credential stops working at once."""
    if not core.revoke_agent(ctx(request).store, p.org_id, agent_id):
        raise HTTPException(404, f"no active agent {agent_id}")


@router.post("/scan-jobs", status_code=201, tags=["agents"])
def new_job(body: JobIn, request: Request, p: Principal = Depends(role("admin"))) -> Any:
    """A scan job for the sensors (or agents) of a site."""
    if body.ports and any(not 0 < x < 65536 for x in body.ports):
        raise HTTPException(422, "ports: each must be 1-65535")
    store = ctx(request).store
    with store.write() as conn:
        return core.create_job(conn, store, p.org_id, site=body.site.strip(),
                               runner=body.runner, name=body.name, targets=body.targets,
                               ports=body.ports, interval_seconds=body.interval_seconds,
                               complete=body.complete)


@router.get("/scan-jobs", tags=["agents"])
def list_jobs(request: Request, p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    j = ta.scan_jobs
    with ctx(request).store.read() as conn:
        rows = conn.execute(sa.select(j).where(j.c.org_id == p.org_id).order_by(j.c.id)).all()
    return {"items": [core.job_dict(r) for r in rows]}


@router.delete("/scan-jobs/{job_id}", status_code=204, tags=["agents"])
def disable_job(job_id: ObjectId, request: Request, p: Principal = Depends(role("admin"))) -> None:
    j = ta.scan_jobs
    with ctx(request).store.write() as conn:
        if not conn.execute(sa.update(j).where(j.c.id == job_id, j.c.org_id == p.org_id)
                            .values(enabled=False)).rowcount:
            raise HTTPException(404, f"no scan job {job_id}")


@router.get("/agent/jobs", tags=["agents"], responses={403: {"description": "not an agent"}})
def my_jobs(request: Request, p: Principal = Depends(role(AGENT_ROLE))) -> dict[str, Any]:
    """For an agent or sensor credential: who it is and its site's jobs (counts as contact)."""
    store = ctx(request).store
    try:
        agent = core.contact(store, p)
    except core.AdmitError as exc:
        raise HTTPException(403, str(exc)) from None
    return {"agent": {"id": agent.id, "kind": agent.kind, "name": agent.name,
                      "site": agent.site},
            "jobs": core.jobs_for(store, agent)}
