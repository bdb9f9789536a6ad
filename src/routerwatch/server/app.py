"""The FastAPI application and `serve()`: uvicorn, structured logs, graceful shutdown."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from routerwatch import __version__
from routerwatch.server.api import admin, alerts, eventlog, findings, inventory
from routerwatch.server.api import agents as agents_api
from routerwatch.server.api import models as m
from routerwatch.server.api import readiness as readiness_api
from routerwatch.server.api.pagecache import PageCache
from routerwatch.server.context import ServerConfig, ServerContext
from routerwatch.server.rematch import pending_change

log = logging.getLogger("routerwatch.server")


def create_app(context: ServerContext) -> FastAPI:
    """The app around a built context; starting/stopping the worker follows the app's life."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        context.start()
        log.info("server started", extra={"database": context.store.display_url,
                                           "kb": context.knowledge.kb.display_url})
        try:
            yield
        finally:
            log.info("server stopping: finishing background work")
            await run_in_threadpool(context.close)
            log.info("server stopped")

    app = FastAPI(
        title="routerwatch fleet server",
        version=__version__,
        description="Inventory over time, findings lifecycle, events. See docs/server.md.",
        lifespan=lifespan,
    )
    app.state.ctx = context
    app.state.pages = PageCache()

    app.add_middleware(AccessLog)

    @app.get("/health", response_model=m.Health, tags=["health"],
             responses={503: {"model": m.Health}})
    def health() -> Any:
        """Liveness and readiness: the database answers; KB change and re-match state."""
        try:
            with context.store.read() as conn:
                conn.execute(sa.text("SELECT 1"))
            pending = pending_change(context.store) is not None
            db_state = "ok"
        except sa.exc.SQLAlchemyError as exc:
            pending, db_state = False, f"error: {type(exc).__name__}"
        body = {"status": "ok" if db_state == "ok" else "degraded", "version": __version__,
                "database": db_state, "kb_change": context.knowledge.change_id,
                "rematch_pending": pending}
        return JSONResponse(body, status_code=200 if db_state == "ok" else 503)

    @app.exception_handler(RequestValidationError)
    async def one_line(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_line(exc)}, status_code=422)

    for router in (inventory.router, findings.router, eventlog.router, admin.router):
        app.include_router(router)
    app.include_router(readiness_api.router)
    app.include_router(agents_api.router)
    app.include_router(alerts.router)
    from routerwatch.server.web import views as dashboard  # the dashboard under /ui

    dashboard.mount(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


class AccessLog:
    """Pure ASGI middleware: one JSON log line per request, an X-Request-Id on every answer,
    and a one-line 500 for anything unexpected (BaseHTTPMiddleware stalls streamed bodies)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex[:16]
        status = {"code": 500, "sent": False}

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request failed", extra={"request_id": rid, "path": scope["path"]})
            if not status["sent"]:
                await JSONResponse({"detail": "internal error"}, status_code=500)(
                    scope, receive, send_with_id)
        state = scope.get("state") or {}
        principal = state.get("principal") if isinstance(state, dict) else None
        client = scope.get("client")
        log.info("request", extra={
            "request_id": rid, "method": scope["method"], "path": scope["path"],
            "status": status["code"], "ms": round((time.perf_counter() - started) * 1000, 2),
            "org": getattr(principal, "org_id", None), "client": client[0] if client else None,
        })


def validation_line(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: ``query.limit: Input should be ...``."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, saying what errors really look like: ``{"detail": "one line"}``."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        spec = get_openapi(title=app.title, version=app.version, description=app.description,
                           routes=app.routes)
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas["HTTPValidationError"] = {
            "title": "Error", "type": "object", "required": ["detail"],
            "properties": {"detail": {"type": "string", "title": "Detail"}},
        }
        schemas.pop("ValidationError", None)
        app.openapi_schema = spec
    return app.openapi_schema


def serve(config: ServerConfig) -> None:
    """Run the server until SIGINT/SIGTERM; in-flight requests and the current re-match
    chunk finish first."""
    import uvicorn

    from routerwatch.server import logs

    logs.setup(config.log_level)
    context = ServerContext(config)
    app = create_app(context)
    uv = uvicorn.Config(app, host=config.host, port=config.port, log_config=None,
                        access_log=False, timeout_graceful_shutdown=30, proxy_headers=True,
                        server_header=False)
    uvicorn.Server(uv).run()
