"""The FastAPI application and `serve()`: uvicorn, structured logs, graceful shutdown."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from routerwatch import __version__
from routerwatch.server.api import admin, eventlog, findings, inventory
from routerwatch.server.api import models as m
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

    @app.middleware("http")
    async def access_log(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        rid = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex[:16]
        try:
            response = await call_next(request)
        except Exception:
            log.exception("request failed", extra={"request_id": rid,
                                                   "path": request.url.path})
            response = JSONResponse({"detail": "internal error"}, status_code=500)
        response.headers["x-request-id"] = rid
        principal = getattr(request.state, "principal", None)
        log.info("request", extra={
            "request_id": rid, "method": request.method, "path": request.url.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "org": getattr(principal, "org_id", None),
            "client": request.client.host if request.client else None,
        })
        return response

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

    for router in (inventory.router, findings.router, eventlog.router, admin.router):
        app.include_router(router)
    return app


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
