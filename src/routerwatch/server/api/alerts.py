"""Alert rules, channels and deliveries (docs/alerts.md). Admins manage rules and channels;
viewers read them and the deliveries. Secrets are write-only: no answer contains them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel

from routerwatch.server import alerts as al
from routerwatch.server.api.deps import ObjectId, ctx, no_nul, role
from routerwatch.server.auth import Principal

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], dependencies=[Depends(no_nul)])
T = TypeVar("T")


class RuleOut(al.RuleSpec):
    id: int
    created_at: datetime
    updated_at: datetime


class RuleList(BaseModel):
    items: list[RuleOut]


class ChannelList(BaseModel):
    items: list[al.Channel]


class DeliveryList(BaseModel):
    items: list[al.Delivery]
    next_before: int | None


class Created(BaseModel):
    id: int


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except al.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except al.AlertError as exc:
        raise HTTPException(422, str(exc)) from None


def _write(request: Request, fn: Callable[..., T], *args: Any) -> T:
    with _errors(), ctx(request).store.write() as conn:
        return fn(conn, *args)


def _read(request: Request, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    with _errors(), ctx(request).store.read() as conn:
        return fn(conn, *args, **kw)


def _rule_out(r: al.Rule) -> RuleOut:
    return RuleOut(id=r.id, created_at=r.created_at, updated_at=r.updated_at,
                   **r.spec.model_dump())


# ---------------------------------------------------------------------------- rules
@router.get("/rules", response_model=RuleList)
def list_rules(request: Request, p: Principal = Depends(role("viewer"))) -> Any:
    """The organisation's alert rules."""
    return {"items": [_rule_out(r) for r in _read(request, al.list_rules, p.org_id)]}


@router.post("/rules", response_model=Created, status_code=201)
def create_rule(request: Request, spec: al.RuleSpec,
                p: Principal = Depends(role("admin"))) -> Any:
    """A new rule; it selects events recorded from now on."""
    return {"id": _write(request, al.create_rule, p.org_id, spec)}


@router.get("/rules/{rule_id}", response_model=RuleOut)
def get_rule(request: Request, rule_id: ObjectId,
             p: Principal = Depends(role("viewer"))) -> Any:
    return _rule_out(_read(request, al.get_rule, p.org_id, rule_id))


@router.put("/rules/{rule_id}", response_model=RuleOut)
def update_rule(request: Request, rule_id: ObjectId, spec: al.RuleSpec,
                p: Principal = Depends(role("admin"))) -> Any:
    _write(request, al.update_rule, p.org_id, rule_id, spec)
    return _rule_out(_read(request, al.get_rule, p.org_id, rule_id))


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(request: Request, rule_id: ObjectId,
                p: Principal = Depends(role("admin"))) -> Response:
    _write(request, al.delete_rule, p.org_id, rule_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------- channels
@router.get("/channels", response_model=ChannelList)
def list_channels(request: Request, p: Principal = Depends(role("viewer"))) -> Any:
    """Channels without their secrets (a webhook URL is shown up to its host)."""
    return {"items": _read(request, al.list_channels, p.org_id)}


@router.post("/channels", response_model=Created, status_code=201)
def create_channel(request: Request, spec: al.ChannelSpec,
                   p: Principal = Depends(role("admin"))) -> Any:
    return {"id": _write(request, al.create_channel, p.org_id, spec)}


@router.get("/channels/{channel_id}", response_model=al.Channel)
def get_channel(request: Request, channel_id: ObjectId,
                p: Principal = Depends(role("viewer"))) -> Any:
    return _read(request, al.get_channel, p.org_id, channel_id)


@router.put("/channels/{channel_id}", response_model=al.Channel)
def update_channel(request: Request, channel_id: ObjectId, spec: al.ChannelSpec,
                   p: Principal = Depends(role("admin"))) -> Any:
    """Replace a channel's settings; a secret left out keeps the stored one."""
    _write(request, al.update_channel, p.org_id, channel_id, spec)
    return _read(request, al.get_channel, p.org_id, channel_id)


@router.delete("/channels/{channel_id}", status_code=204)
def delete_channel(request: Request, channel_id: ObjectId,
                   p: Principal = Depends(role("admin"))) -> Response:
    _write(request, al.delete_channel, p.org_id, channel_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------- deliveries
@router.get("/deliveries", response_model=DeliveryList)
def list_deliveries(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = Query(None, ge=1, le=2**31 - 1, description="delivery id to page on"),
    state: Literal["pending", "retrying", "sent", "failed", "suppressed", "dropped"] | None =
    Query(None),
    rule_id: int | None = Query(None, ge=1, le=2**31 - 1),
    channel_id: int | None = Query(None, ge=1, le=2**31 - 1),
    event_id: int | None = Query(None, ge=1, le=2**31 - 1),
    p: Principal = Depends(role("viewer")),
) -> Any:
    """Every delivery, newest first; follow ``next_before``."""
    rows = _read(request, al.list_deliveries, p.org_id, limit, state=state, rule_id=rule_id,
                 channel_id=channel_id, event_id=event_id, before=before)
    return {"items": rows,
            "next_before": rows[-1].id if len(rows) == limit else None}


@router.post("/deliveries/{delivery_id}/retry", status_code=204)
def retry_delivery(request: Request, delivery_id: ObjectId,
                   p: Principal = Depends(role("operator"))) -> Response:
    """Send a failed or dropped delivery again."""
    _write(request, al.retry_delivery, p.org_id, delivery_id)
    return Response(status_code=204)
