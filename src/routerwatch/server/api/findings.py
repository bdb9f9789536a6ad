"""Findings: list (filter, page, export), triage, and the CycloneDX VEX export."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from routerwatch.server.api import models as m
from routerwatch.server.api.deps import (
    ObjectId,
    Page,
    csv_response,
    ctx,
    fast_json,
    json_download,
    no_nul,
    paged,
    paging,
    role,
    row_dict,
)
from routerwatch.server.api.inventory import device_rows, finding_rows
from routerwatch.server.auth import Principal
from routerwatch.server.store import schema as t
from routerwatch.server.triage import TriageError, triage
from routerwatch.server.vex import build_vex
from routerwatch.server.wire import WireError, parse_time

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul)])
viewer = role("viewer")
COLUMNS = ("id", "device_id", "site", "vendor", "model", "cve", "state", "match_status", "kev",
           "kev_date", "epss", "cvss", "severity", "fixed_in", "first_seen", "fixed_at",
           "triage_reason", "triage_by", "triage_expires", "reason")
State = Literal["open", "fixed", "accepted", "false_positive"]


def _filter(p: Principal, state: str | None, kev: bool | None, vendor: str | None,
            site: str | None, cve: str | None, device_id: int | None,
            severity: str | None) -> list[Any]:
    f, d, s = t.findings, t.devices, t.sites
    cond: list[Any] = [f.c.org_id == p.org_id]
    if state:
        cond.append(f.c.state == state)
    if kev is not None:
        cond.append(f.c.kev.is_(kev))
    if vendor:
        cond.append(sa.func.lower(d.c.vendor) == vendor.lower())
    if site:
        cond.append(s.c.name == site)
    if cve:
        cond.append(f.c.cve == cve.strip().upper())
    if device_id is not None:
        cond.append(f.c.device_id == device_id)
    if severity:
        cond.append(f.c.severity == severity)
    return cond


@router.get("/findings", response_model=m.FindingList, tags=["findings"],
            responses={200: {"content": {"text/csv": {}}}})
def list_findings(
    request: Request,
    page: Page = Depends(paging),
    state: State | None = None,
    kev: bool | None = None,
    vendor: str | None = Query(None, max_length=100),
    site: str | None = Query(None, max_length=200),
    cve: str | None = Query(None, max_length=32),
    device_id: int | None = Query(None, ge=1, le=2**31 - 1),
    severity: Literal["critical", "high", "medium", "low", "none"] | None = None,
    format: Literal["json", "csv"] = "json",
    p: Principal = Depends(viewer),
) -> Any:
    f, d, s = t.findings, t.devices, t.sites
    cond = _filter(p, state, kev, vendor, site, cve, device_id, severity)
    with ctx(request).store.read() as conn:
        if format == "csv":
            return csv_response(finding_rows(conn, cond, None, 0), COLUMNS, "findings.csv")
        total = conn.execute(sa.select(sa.func.count()).select_from(
            f.join(d, d.c.id == f.c.device_id).join(s, s.c.id == d.c.site_id))
            .where(*cond)).scalar_one()
        rows = finding_rows(conn, cond, page.limit, page.offset)
    return fast_json(paged(rows, total, page))


@router.post("/findings/{finding_id}/triage", response_model=m.FindingOut, tags=["findings"],
             responses={404: {"description": "no such finding"},
                        422: {"description": "invalid triage"}})
def triage_finding(finding_id: ObjectId, body: m.TriageIn, request: Request,
                   p: Principal = Depends(role("operator"))) -> Any:
    """Accept the risk (reason + expiry), mark a false positive (reason), or reopen."""
    try:
        expires = parse_time(body.expires_at, "expires_at") if body.expires_at else None
        row = triage(ctx(request).store, p.org_id, finding_id, body.state, reason=body.reason,
                     by=p.name, expires=expires)
    except (TriageError, WireError) as exc:
        raise HTTPException(422, str(exc)) from None
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return row_dict(row)


@router.get("/vex", tags=["findings"], responses={200: {"content": {
    "application/vnd.cyclonedx+json": {}}, "description": "CycloneDX 1.6 JSON with VEX"}})
def vex(request: Request, site: str | None = Query(None, max_length=200),
        device_id: int | None = Query(None, ge=1, le=2**31 - 1),
        p: Principal = Depends(viewer)) -> Any:
    """The inventory as CycloneDX 1.6 with each finding's lifecycle state as its analysis."""
    d, s = t.devices, t.sites
    cond: list[Any] = [d.c.org_id == p.org_id]
    if site:
        cond.append(s.c.name == site)
    if device_id is not None:
        cond.append(d.c.id == device_id)
    with ctx(request).store.read() as conn:
        devices = device_rows(conn, cond, 20_000, 0)
        ids = {x["id"] for x in devices}
        fcond = _filter(p, None, None, None, site, None, device_id, None)
        findings = [r for r in finding_rows(conn, fcond, None, 0) if r["device_id"] in ids]
    return json_download(build_vex(devices, findings), "routerwatch-vex.cdx.json")
