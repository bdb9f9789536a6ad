"""Shared pieces of the API: the server context, the caller, roles, paging and export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from routerwatch.report.csvfmt import neutralise
from routerwatch.server.api.pagecache import PageCache
from routerwatch.server.auth import AuthError, Principal, authenticate, cached
from routerwatch.server.context import ServerContext
from routerwatch.server.timeutil import iso

ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1, description="object id")]
bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer rwt_…`")
MAX_LIMIT = 1000


def ctx(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.ctx
    return context


async def caller(request: Request,
                 cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """The principal of the request's bearer token, or 401."""
    token = cred.credentials if cred is not None else None
    principal = cached(token)  # verified lately in this process: no thread, no database
    if principal is not None:
        request.state.principal = principal
        return principal
    try:
        principal = await run_in_threadpool(authenticate, ctx(request).store.read, token)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    request.state.principal = principal
    return principal


async def no_nul(request: Request) -> None:  # async: no thread hop for a string test
    """Refuse NUL characters in the query (PostgreSQL text cannot hold them)."""
    if "\x00" in str(request.url.query) or "%00" in str(request.url.query) or \
            "\x00" in request.url.path:
        raise HTTPException(422, "NUL characters are not allowed")


def role(name: str) -> Callable[..., Any]:
    """A dependency that needs at least role ``name`` (viewer < operator < admin)."""

    async def need(principal: Principal = Depends(caller)) -> Principal:
        if not principal.allows(name):
            raise HTTPException(403, f"this needs the {name} role (token has {principal.role})")
        return principal

    return need


def system_admin(principal: Principal = Depends(role("admin"))) -> Principal:
    if not principal.system:
        raise HTTPException(403, "only an admin of the operating organisation manages the KB")
    return principal


class Page:
    """limit/offset paging parameters."""

    def __init__(self, limit: int = 100, offset: int = 0) -> None:
        self.limit = limit
        self.offset = offset


async def paging(limit: int = Query(100, ge=1, le=MAX_LIMIT),
                 offset: int = Query(0, ge=0, le=10_000_000)) -> Page:
    """The ``Page`` of a request (an async dependency: FastAPI runs sync ones in a thread)."""
    return Page(limit, offset)


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return value


def row_dict(row: Any, drop: Sequence[str] = ("org_id",),
             json_cols: Sequence[str] = ()) -> dict[str, Any]:
    out = {}
    items = row.items() if isinstance(row, dict) else row._mapping.items()
    for k, v in items:
        if k in drop:
            continue
        out[k] = orjson.loads(v) if k in json_cols and isinstance(v, str) else plain(v)
    return out


def paged(items: list[dict[str, Any]], total: int, page: Page) -> dict[str, Any]:
    nxt = page.offset + len(items)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset,
            "next_offset": nxt if nxt < total else None}


def csv_response(rows: Iterable[dict[str, Any]], columns: Sequence[str], name: str) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in columns])
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value: Any) -> str:
    """A CSV cell: no spreadsheet formulas, no control characters (``csvfmt.neutralise``)."""
    if value is None:
        return ""
    return neutralise(json.dumps(value) if isinstance(value, list | dict) else str(value))


def json_bytes(data: Any) -> bytes:
    """JSON straight from orjson: the declared response model documents the shape, and the
    rows are already plain (skipping pydantic's re-validation keeps list pages fast)."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS, default=str)


def fast_json(data: Any, status_code: int = 200) -> Response:
    return Response(json_bytes(data), status_code=status_code, media_type="application/json")


async def cached_answer(request: Request, key: Hashable,
                        build: Callable[[Connection], bytes]) -> Response:
    """A JSON answer from the process's page cache (see ``pagecache``) when it was made at
    the store's current write generation, else ``build(conn)`` in a worker thread (and kept).

    The hit path stays on the event loop, no thread hop: the generation is one indexed row
    read on the store's own asyncio connection (``FleetStore.generation_async``)."""
    store = ctx(request).store
    cache: PageCache = request.app.state.pages
    generation = await store.generation_async()
    body = cache.get(generation, key)
    if body is None:
        def make() -> bytes:
            with store.read() as conn:
                return build(conn)

        body = await run_in_threadpool(make)
        cache.put(generation, key, body)
    return Response(body, media_type="application/json")


def json_download(data: Any, name: str) -> JSONResponse:
    return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="{name}"'})
