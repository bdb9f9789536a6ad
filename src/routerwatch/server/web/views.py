"""The dashboard's routes under ``/ui``: login/logout, overview, trends, devices, findings,
triage, phase-out, CSV exports. Pages read through ``web.queries`` and the API's readers;
triage goes through ``server.triage`` (the API's own path)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from routerwatch.assess.policy import PolicyError, load_policy, shipped_policies
from routerwatch.report.charts import Bar, Segment, bar_chart, line_chart
from routerwatch.report.text import printable
from routerwatch.server.api.deps import ObjectId, csv_response, ctx, no_nul
from routerwatch.server.api.findings import COLUMNS as FINDING_COLUMNS
from routerwatch.server.api.findings import _filter as finding_filter
from routerwatch.server.api.inventory import (
    DEVICE_COLUMNS,
    _device_filter,
    device_rows,
    finding_rows,
)
from routerwatch.server.store import schema as t
from routerwatch.server.triage import TriageError, triage
from routerwatch.server.web import accounts, queries
from routerwatch.server.web import security as sec

STATIC = Path(__file__).parent / "static"
PAGE = 50
RISK_COLORS = {"critical": "#991b1b", "high": "#c2410c", "medium": "#a16207", "low": "#1d4ed8",
               "none": "#6b7280"}
RiskLevel = Literal["critical", "high", "medium", "low", "none"]


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}`` of text goes through here before autoescape: control characters,
    ANSI escapes and bidi overrides a device sent become visible ``\\x1b`` / ``\\u202e``."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def _env() -> Environment:
    env = Environment(loader=PackageLoader("routerwatch.server.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      finalize=_finalize, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["score"] = lambda v: "" if v is None else f"{v:.1f}"
    env.globals["RISK_COLORS"] = RISK_COLORS
    return env


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        v = value if value.tzinfo else value.replace(tzinfo=UTC)
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)[:16].replace("T", " ")


templates = Jinja2Templates(env=_env())


class NeedLogin(Exception):
    """No live session: send the browser to the login page."""


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def session(request: Request) -> accounts.Session:
    store = ctx(request).store
    found = await run_in_threadpool(accounts.load_session, store,
                                    request.cookies.get(sec.SESSION_COOKIE))
    if found is None:
        raise NeedLogin()
    request.state.principal = found.user.principal()
    return found


async def checked(request: Request, s: accounts.Session = Depends(session)) -> accounts.Session:
    """A session whose request carries its CSRF token (form field or X-CSRF-Token header)."""
    token = request.headers.get(sec.CSRF_HEADER)
    if token is None:
        form = await request.form()
        value = form.get(sec.CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not sec.same(token, s.csrf):
        raise Forbidden("the form's security token is missing or stale; reload the page")
    return s


def operator(s: accounts.Session = Depends(checked)) -> accounts.Session:
    if not s.user.allows("operator"):
        raise Forbidden(f"triage needs the operator role (you are {s.user.role})")
    return s


router = APIRouter(prefix="/ui", dependencies=[Depends(no_nul)], include_in_schema=False)


def page(request: Request, name: str, s: accounts.Session | None, status: int = 200,
         **data: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, {
        "user": s.user if s else None, "csrf": s.csrf if s else "", "nav": name, **data},
        status_code=status)
    if s is not None:
        response.headers["cache-control"] = "no-store"
    return response


def _safe_next(target: str | None) -> str:
    """Only paths of this dashboard (no //host, no scheme): no open redirect."""
    if target and target.startswith("/ui") and "//" not in target and "\\" not in target:
        return target
    return "/ui/"


# --------------------------------------------------------------------------- login


@router.get("/login")
def login_form(request: Request, next: str | None = Query(None, max_length=500)) -> Response:
    token = sec.new_token()
    response = page(request, "login.html", None, next=_safe_next(next), login_csrf=token,
                    error=None)
    sec.set_cookie(response, request, sec.LOGIN_COOKIE, token, max_age=3600)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:200]
    password = str(form.get("password") or "")[:1000]
    target = _safe_next(str(form.get("next") or ""))
    token = sec.new_token()

    def again(error: str, status: int, retry: int | None = None) -> Response:
        response = page(request, "login.html", None, status=status, next=target,
                        login_csrf=token, error=error, username=username)
        sec.set_cookie(response, request, sec.LOGIN_COOKIE, token, max_age=3600)
        response.headers["cache-control"] = "no-store"
        if retry:
            response.headers["retry-after"] = str(retry)
        return response

    sent = form.get(sec.CSRF_FIELD)
    if not sec.same(sent if isinstance(sent, str) else None,
                    request.cookies.get(sec.LOGIN_COOKIE)):
        return again("The login form expired; please try again.", 403)
    client = request.client.host if request.client else "?"
    store = ctx(request).store
    try:
        user = await run_in_threadpool(accounts.login, store, username, password, client)
    except accounts.LockedOut as exc:
        return again(f"Too many failed logins. Try again in {exc.retry_after} seconds.", 429,
                     exc.retry_after)
    except accounts.LoginFailed:
        return again("Wrong user name or password.", 401)
    cookie, _s = await run_in_threadpool(accounts.open_session, store, user)
    response = RedirectResponse(target, status_code=303)
    sec.set_cookie(response, request, sec.SESSION_COOKIE, cookie,
                   max_age=accounts.SESSION_HOURS * 3600)
    sec.clear_cookie(response, request, sec.LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, s: accounts.Session = Depends(checked)) -> Response:
    await run_in_threadpool(accounts.close_session, ctx(request).store, s.key)
    response = RedirectResponse("/ui/login", status_code=303)
    sec.clear_cookie(response, request, sec.SESSION_COOKIE)
    return response


# --------------------------------------------------------------------------- overview, trends


def _table(caption: str, head: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"caption": caption, "head": head, "rows": rows}


@router.get("/")
def overview(request: Request, s: accounts.Session = Depends(session)) -> Response:
    with ctx(request).store.read() as conn:
        o = queries.overview(conn, s.user.org_id)
    site_bars = [Bar(x["name"], tuple(Segment(x[level], RISK_COLORS[level], level)
                                      for level in queries.RISK_LEVELS)) for x in o.sites]
    vendor_bars = [Bar(x["vendor"], (Segment(x["kev"], "#991b1b", "with KEV exposure"),
                                     Segment(x["devices"] - x["kev"], "#1d4ed8", "other")))
                   for x in o.vendors]
    sev_order = ["critical", "high", "medium", "low", "none", "unknown"]
    sev_bars = [Bar(k, (Segment(o.severities[k], RISK_COLORS.get(k, "#6b7280"), k),))
                for k in sev_order if o.severities.get(k)]
    charts = [
        {"id": "risk-by-site", "title": "Risk by site",
         "desc": "Present devices of each site, stacked by risk level.",
         "svg": bar_chart(site_bars, title="Risk by site",
                          desc="Present devices of each site, stacked by risk level",
                          legend=[(k, RISK_COLORS[k]) for k in queries.RISK_LEVELS]),
         "table": _table("Devices per site and risk level",
                         ["site", *queries.RISK_LEVELS, "KEV-exposed", "devices"],
                         [[x["name"], *(x[k] for k in queries.RISK_LEVELS), x["kev"],
                           x["devices"]] for x in o.sites])},
        {"id": "vendors", "title": "Vendors",
         "desc": "Present devices per vendor; red: devices with an open CISA KEV finding.",
         "svg": bar_chart(vendor_bars, title="Vendors",
                          desc="Present devices per vendor; red part has KEV exposure",
                          legend=[("KEV exposure", "#991b1b"), ("other", "#1d4ed8")]),
         "table": _table("Devices per vendor", ["vendor", "devices", "KEV-exposed"],
                         [[x["vendor"], x["devices"], x["kev"]] for x in o.vendors])},
        {"id": "severities", "title": "Open findings by severity",
         "desc": "Open findings of present devices by CVSS severity.",
         "svg": bar_chart(sev_bars, title="Open findings by severity",
                          desc="Open findings of present devices by CVSS severity"),
         "table": _table("Open findings per severity", ["severity", "open findings"],
                         [[k, o.severities[k]] for k in sev_order if o.severities.get(k)])},
    ]
    return page(request, "overview.html", s, o=o, charts=charts)


@router.get("/trends")
def trends_page(request: Request, days: int = Query(30, ge=2, le=365),
                s: accounts.Session = Depends(session)) -> Response:
    with ctx(request).store.read() as conn:
        tr = queries.trends(conn, s.user.org_id, days=days)
    labels = [d.isoformat() for d in tr.days]
    charts = [
        {"id": "kev", "title": "KEV exposure",
         "svg": line_chart(labels, [("open KEV findings", "#991b1b", tr.kev_findings),
                                    ("KEV-exposed devices", "#c2410c", tr.kev_devices)],
                           title="KEV exposure over time",
                           desc="Open findings in CISA KEV and devices with one, per day"),
         "table": _table("KEV exposure per day", ["day", "open KEV findings",
                                                  "KEV-exposed devices"],
                         [[d, a, b] for d, a, b in zip(labels, tr.kev_findings,
                                                       tr.kev_devices, strict=True)])},
        {"id": "open", "title": "Open findings",
         "svg": line_chart(labels, [("open findings", "#1d4ed8", tr.open_findings)],
                           title="Open findings over time",
                           desc="Findings in state open at the end of each day"),
         "table": _table("Open findings per day", ["day", "open findings"],
                         [[d, a] for d, a in zip(labels, tr.open_findings, strict=True)])},
        {"id": "firmware", "title": "Firmware currency",
         "svg": line_chart(labels, [("% on newest firmware", "#047857", tr.firmware_current)],
                           title="Firmware currency over time", unit="%",
                           desc="Share of devices with known firmware that ran the newest "
                                "firmware the fleet has seen for their model"),
         "table": _table("Firmware currency per day", ["day", "% on newest", "devices"],
                         [[d, "" if a is None else a, b] for d, a, b in
                          zip(labels, tr.firmware_current, tr.firmware_known, strict=True)])},
    ]
    return page(request, "trends.html", s, charts=charts, days=days)


# --------------------------------------------------------------------------- devices

Flag = Literal["compromised", "eol", "policy"]


class DeviceFilters:
    """The device list's search and filters (the page, its htmx partial and its CSV export)."""

    def __init__(
        self,
        q: str | None = Query(None, max_length=100),
        site: str | None = Query(None, max_length=200),
        vendor: str | None = Query(None, max_length=100),
        risk_level: RiskLevel | Literal[""] | None = None,
        kev: Literal["", "yes", "no"] | None = None,
        state: Literal["", "present", "gone"] | None = "present",
        flag: Flag | Literal[""] | None = None,
        sort: Literal["risk", "id", "last_seen"] = "risk",
    ) -> None:
        self.params = {k: v for k, v in {"q": q, "site": site, "vendor": vendor,
                                         "risk_level": risk_level, "kev": kev, "state": state,
                                         "flag": flag, "sort": sort}.items() if v}
        if state == "":
            self.params["state"] = ""  # "any", kept so paging and export keep it too
        self.q, self.site, self.vendor, self.risk_level = q, site, vendor, risk_level or None
        self.kev = {"yes": True, "no": False}.get(kev or "")
        self.state, self.flag, self.sort = state or None, flag or None, sort

    def cond(self, s: accounts.Session) -> list[Any]:
        d = t.devices
        cond = _device_filter(s.user.principal(), self.vendor, self.site, self.kev, None,
                              self.risk_level, self.state, self.q)
        if self.flag == "compromised":
            cond.append(d.c.indicators.like(queries.COMPROMISE))
        elif self.flag == "eol":
            cond.append(d.c.eol.is_not(None))
        elif self.flag == "policy":
            cond.append(d.c.policy != "[]")
        return cond

    def order(self) -> list[Any]:
        d = t.devices
        orders: dict[str, list[Any]] = {"id": [d.c.id], "risk": [d.c.risk.desc(), d.c.id],
                "last_seen": [d.c.last_seen.desc(), d.c.id]}
        return orders[self.sort]


def _choices(conn: sa.Connection, org_id: int) -> dict[str, list[str]]:
    d, s = t.devices, t.sites
    return {
        "sites": [r[0] for r in conn.execute(sa.select(s.c.name).where(s.c.org_id == org_id)
                                             .order_by(s.c.name))],
        "vendors": [r[0] for r in conn.execute(
            sa.select(d.c.vendor).where(d.c.org_id == org_id, d.c.vendor.is_not(None))
            .distinct().order_by(d.c.vendor).limit(200))],
    }


@router.get("/devices")
def devices_page(request: Request, filters: DeviceFilters = Depends(),
                 page_no: int = Query(1, alias="page", ge=1, le=100_000),
                 s: accounts.Session = Depends(session)) -> Response:
    d, st = t.devices, t.sites
    cond = filters.cond(s)
    with ctx(request).store.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(
            d.join(st, st.c.id == d.c.site_id)).where(*cond)).scalar_one()
        rows = device_rows(conn, cond, PAGE, (page_no - 1) * PAGE, filters.order())
        choices = _choices(conn, s.user.org_id)
    name = "devices_table.html" if request.headers.get("hx-request") else "devices.html"
    return page(request, name, s, rows=rows, total=total, page_no=page_no, per_page=PAGE,
                params=filters.params, query=urlencode(filters.params), choices=choices)


@router.get("/devices.csv")
def devices_csv(request: Request, filters: DeviceFilters = Depends(),
                s: accounts.Session = Depends(session)) -> Response:
    with ctx(request).store.read() as conn:
        rows = device_rows(conn, filters.cond(s), None, 0, filters.order())
    return csv_response(rows, DEVICE_COLUMNS, "devices.csv")


@router.get("/devices/{device_id}")
def device_page(device_id: ObjectId, request: Request,
                s: accounts.Session = Depends(session)) -> Response:
    with ctx(request).store.read() as conn:
        data = queries.device_page(conn, s.user.org_id, device_id)
    if data is None:
        return page(request, "error.html", s, status=404, message=f"No device {device_id}.")
    return page(request, "device.html", s, today=date.today().isoformat(), **data)


# --------------------------------------------------------------------------- findings


@router.get("/findings")
def findings_page(
    request: Request,
    state: Literal["", "open", "fixed", "accepted", "false_positive"] | None = "open",
    kev: Literal["", "yes", "no"] | None = None,
    severity: RiskLevel | Literal[""] | None = None,
    cve: str | None = Query(None, max_length=32),
    site: str | None = Query(None, max_length=200),
    vendor: str | None = Query(None, max_length=100),
    page_no: int = Query(1, alias="page", ge=1, le=100_000),
    format: Literal["html", "csv"] = "html",
    s: accounts.Session = Depends(session),
) -> Response:
    f, d, st = t.findings, t.devices, t.sites
    kev_b = {"yes": True, "no": False}.get(kev or "")
    cond = finding_filter(s.user.principal(), state or None, kev_b, vendor, site, cve, None,
                          severity or None)
    with ctx(request).store.read() as conn:
        if format == "csv":
            return csv_response(finding_rows(conn, cond, None, 0), FINDING_COLUMNS,
                                "findings.csv")
        total = conn.execute(sa.select(sa.func.count()).select_from(
            f.join(d, d.c.id == f.c.device_id).join(st, st.c.id == d.c.site_id))
            .where(*cond)).scalar_one()
        rows = finding_rows(conn, cond, PAGE, (page_no - 1) * PAGE)
        choices = _choices(conn, s.user.org_id)
    params = {k: v for k, v in {"state": state, "kev": kev, "severity": severity, "cve": cve,
                                "site": site, "vendor": vendor}.items() if v}
    return page(request, "findings.html", s, rows=rows, total=total, page_no=page_no,
                per_page=PAGE, params=params, query=urlencode(params), choices=choices,
                today=date.today().isoformat())


@router.post("/findings/{finding_id}/triage")
async def triage_submit(finding_id: ObjectId, request: Request,
                        s: accounts.Session = Depends(operator)) -> Response:
    form = await request.form()
    state = str(form.get("state") or "")
    reason = str(form.get("reason") or "")[:2000] or None
    back = _safe_next(str(form.get("back") or ""))
    expires_text = str(form.get("expires") or "").strip()
    store = ctx(request).store
    error = None
    try:
        expires = None
        if expires_text:
            try:
                expires = datetime.combine(date.fromisoformat(expires_text), time(23, 59, 59),
                                           tzinfo=UTC)
            except ValueError:
                raise TriageError(f"expiry: expected a date YYYY-MM-DD, got {expires_text!r}"
                                  ) from None
        row = await run_in_threadpool(triage, store, s.user.org_id, finding_id, state,
                                      reason=reason, by=s.user.username, expires=expires)
    except TriageError as exc:
        error, row = str(exc), None
    except LookupError as exc:
        return page(request, "error.html", s, status=404, message=str(exc))
    if request.headers.get("hx-request"):
        with store.read() as conn:
            rows = finding_rows(conn, [t.findings.c.org_id == s.user.org_id,
                                       t.findings.c.id == finding_id], 1, 0)
        return page(request, "finding_row.html", s, status=200 if error is None else 422,
                    f=rows[0], error=error, back=back, today=date.today().isoformat())
    if error is not None:
        return page(request, "error.html", s, status=422, message=error, back=back)
    assert row is not None
    return RedirectResponse(back + f"#finding-{finding_id}", status_code=303)


# --------------------------------------------------------------------------- phase-out


@router.get("/phase-out")
def phase_out_page(request: Request,
                   policy: str = Query("phase-out-tp-link", max_length=100),
                   s: accounts.Session = Depends(session)) -> Response:
    names = shipped_policies()
    if policy not in names:
        return page(request, "error.html", s, status=404,
                    message=f"no policy {policy!r}; choose one of {', '.join(names)}")
    try:
        chosen = load_policy(policy)
    except PolicyError as exc:
        return page(request, "error.html", s, status=500, message=str(exc))
    with ctx(request).store.read() as conn:
        sites = queries.phase_out(conn, s.user.org_id, chosen)
    bars = [Bar(x.summary.site, (Segment(x.replaced, "#047857", "replaced"),
                                 Segment(x.remaining - x.overdue, "#a16207", "remaining"),
                                 Segment(x.overdue, "#991b1b", "overdue")))
            for x in sites if x.in_scope]
    svg = bar_chart(bars, title=f"Phase-out progress: {chosen.name}",
                    desc="Per site, restricted devices replaced, remaining and overdue",
                    legend=[("replaced", "#047857"), ("remaining", "#a16207"),
                            ("overdue", "#991b1b")],
                    empty="The policy restricts no device of this organisation.")
    return page(request, "phase_out.html", s, sites=sites, policy=chosen, names=names, svg=svg,
                today=date.today().isoformat())


# --------------------------------------------------------------------------- wiring


def mount(app: FastAPI) -> None:
    """Add the dashboard to the fleet server's app."""
    app.add_middleware(sec.SecurityHeaders)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(router)
    from routerwatch.server.web import alerts_page

    app.include_router(alerts_page.router)

    @app.exception_handler(NeedLogin)
    async def to_login(request: Request, _exc: NeedLogin) -> Response:
        target = "/ui/login?" + urlencode({"next": _safe_next(
            request.url.path + (f"?{request.url.query}" if request.url.query else ""))})
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return templates.TemplateResponse(request, "error.html", {
            "user": None, "csrf": "", "nav": "", "message": exc.message}, status_code=403)
