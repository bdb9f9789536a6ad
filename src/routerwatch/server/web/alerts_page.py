"""The dashboard's alert page (``/ui/alerts``): the organisation's rules and channels, a form
to create a rule (admins, as in the API), and the deliveries with their state. Everything goes
through the alerts package's Python API (``routerwatch.server.alerts``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from routerwatch.server import alerts as al
from routerwatch.server.api.deps import ctx, no_nul
from routerwatch.server.events import SEVERITIES, TYPES
from routerwatch.server.store import schema as t
from routerwatch.server.web import accounts
from routerwatch.server.web.views import Forbidden, checked, page, session

router = APIRouter(prefix="/ui", dependencies=[Depends(no_nul)], include_in_schema=False)
FAMILIES = sorted({x.split(".")[0] + "." for x in TYPES})


def admin(s: accounts.Session = Depends(checked)) -> accounts.Session:
    if not s.user.allows("admin"):
        raise Forbidden(f"alert rules are managed by admins (you are {s.user.role})")
    return s


def _listed(form: FormData, name: str) -> list[str]:
    """A multi-select's values, or a comma-separated text field's items."""
    out: list[str] = []
    for value in form.getlist(name):
        if isinstance(value, str):
            out.extend(x.strip() for x in value.split(",") if x.strip())
    return out


def _spec(form: FormData) -> al.RuleSpec:
    """The rule the form describes; ValidationError names the field that is wrong."""
    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    kev = {"yes": True, "no": False}.get(text("kev"))
    match: dict[str, Any] = {"types": _listed(form, "types"), "sites": _listed(form, "sites"),
                             "vendors": _listed(form, "vendors"),
                             "indicators": _listed(form, "indicators"),
                             "min_severity": text("min_severity") or None, "kev": kev,
                             "epss_min": text("epss_min") or None}
    return al.RuleSpec.model_validate({
        "name": text("name"), "enabled": text("enabled") == "on", "match": match,
        "channels": [int(x) for x in _listed(form, "channels") if x.isdigit()],
        "digest_minutes": text("digest_minutes") or 0,
        "debounce_minutes": text("debounce_minutes") or 0,
    })


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def _summary(spec: al.RuleSpec) -> str:
    m = spec.match
    bits = [("events " + ", ".join(m.types)) if m.types else "every event"]
    if m.sites:
        bits.append("sites " + ", ".join(m.sites))
    if m.vendors:
        bits.append("vendors " + ", ".join(m.vendors))
    if m.min_severity:
        bits.append(f"severity ≥ {m.min_severity}")
    if m.kev is not None:
        bits.append("in KEV" if m.kev else "not in KEV")
    if m.epss_min is not None:
        bits.append(f"EPSS ≥ {m.epss_min}")
    if m.indicators:
        bits.append("indicators " + ", ".join(m.indicators))
    if spec.digest_minutes:
        bits.append(f"digest every {spec.digest_minutes} min")
    if spec.debounce_minutes:
        bits.append(f"debounce {spec.debounce_minutes} min")
    return "; ".join(bits)


def _render(request: Request, s: accounts.Session, *, state: str | None = None,
            error: str | None = None, status: int = 200,
            form: dict[str, Any] | None = None) -> Response:
    with ctx(request).store.read() as conn:
        rules = al.list_rules(conn, s.user.org_id)
        channels = al.list_channels(conn, s.user.org_id)
        deliveries = al.list_deliveries(conn, s.user.org_id, 100, state=state)
        sites = [r[0] for r in conn.execute(sa.select(t.sites.c.name).where(
            t.sites.c.org_id == s.user.org_id).order_by(t.sites.c.name))]
    names = {c.id: c.name for c in channels}
    rule_names = {r.id: r.spec.name for r in rules}
    return page(request, "alerts.html", s, status=status, rules=rules, channels=channels,
                deliveries=deliveries, channel_names=names, rule_names=rule_names,
                summary=_summary, state=state or "", states=al.STATES, error=error,
                form=form or {}, families=FAMILIES, types=TYPES, severities=SEVERITIES,
                sites=sites)


@router.get("/alerts")
def alerts_page(request: Request,
                state: str | None = Query(None, max_length=20),
                s: accounts.Session = Depends(session)) -> Response:
    chosen = state if state in al.STATES else None
    return _render(request, s, state=chosen)


@router.post("/alerts/rules")
async def create_rule(request: Request, s: accounts.Session = Depends(admin)) -> Response:
    form = await request.form()
    try:
        spec = _spec(form)
        if not spec.channels:
            raise al.AlertError("choose at least one channel to send to")
        with ctx(request).store.write() as conn:
            rule_id = al.create_rule(conn, s.user.org_id, spec)
    except ValidationError as exc:
        return _render(request, s, error=_one_line(exc), status=422,
                       form={k: form.getlist(k) for k in form})
    except al.AlertError as exc:
        return _render(request, s, error=str(exc), status=422,
                       form={k: form.getlist(k) for k in form})
    return RedirectResponse(f"/ui/alerts#rule-{rule_id}", status_code=303)
