"""`routerwatch serve`: the fleet monitoring server, and its tokens (see docs/server.md)."""

from __future__ import annotations

from typing import Any

import typer

from routerwatch.cli.common import console, fail, print_json
from routerwatch.cli.serve_agents import app as enrol_app

app = typer.Typer(
    help="Run the fleet monitoring server (REST API, inventory over time, events).",
    invoke_without_command=True,
)
token_app = typer.Typer(help="Create, list and revoke API tokens (run on the server host).",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(enrol_app, name="enrol")  # agents and sensors (issue 12)
user_app = typer.Typer(help="Create, list, disable and enable dashboard users (run on the server "
                       "host).", no_args_is_help=True)
app.add_typer(user_app, name="user")

StoreDb = typer.Option(None, "--db", help="Fleet database URL (default: SQLite fleet.db in the "
                       "data dir; postgresql://USER@HOST/DB for deployments).")


@app.callback()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (put a TLS "
                             "reverse proxy in front; see docs/server.md)."),
    port: int = typer.Option(8600, "--port", min=1, max=65535, help="TCP port."),
    db: str | None = StoreDb,
    kb_db: str | None = typer.Option(None, "--kb-db", help="Knowledge-base URL (default: the "
                                     "--db URL when PostgreSQL, else the CLI's KB)."),
    max_upload_mb: int = typer.Option(16, "--max-upload-mb", min=1, max=1024,
                                      help="Largest accepted upload body, MiB."),
    gone_after_runs: int = typer.Option(2, "--gone-after-runs", min=1, max=100,
                                        help="Complete site scans that must miss a device "
                                        "before it is reported gone."),
    gone_after_hours: float = typer.Option(1.0, "--gone-after-hours", min=0,
                                           help="...and hours since it was last seen."),
    epss_jump: float = typer.Option(0.1, "--epss-jump", min=0.0, max=1.0,
                                    help="EPSS rise that makes an event."),
    tick: float = typer.Option(5.0, "--tick", min=0.1, max=3600,
                               help="Seconds between background rounds."),
    kb_poll: float = typer.Option(60.0, "--kb-poll", min=1, max=86400,
                                  help="Seconds between checks for KB changes and staleness."),
    rematch_chunk: int = typer.Option(2000, "--rematch-chunk", min=1, max=100_000,
                                      help="Devices per re-match transaction."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Server processes answering requests (more than one needs "
                                "PostgreSQL; the supervising process then runs the background "
                                "work). See docs/server.md."),
) -> None:
    """Start the server (SQLite by default; logs are JSON lines on stderr; SIGTERM stops it
    gracefully)."""
    if ctx.invoked_subcommand is not None:
        return
    from routerwatch.kb import KBError
    from routerwatch.server.store import StoreError

    if log_level.lower() not in ("debug", "info", "warning", "error"):
        fail(f"--log-level: expected debug, info, warning or error, got {log_level!r}")
    if workers > 1 and not (db or "").startswith(("postgresql", "postgres:")):
        fail("--workers: more than one server process needs PostgreSQL (--db postgresql://...);"
             " SQLite allows one writer")
    args = {"db": db, "kb_db": kb_db, "host": host, "port": port, "max_upload_mb": max_upload_mb,
            "gone_after_runs": gone_after_runs, "gone_after_hours": gone_after_hours,
            "epss_jump": epss_jump, "tick": tick, "kb_poll": kb_poll,
            "rematch_chunk": rematch_chunk, "log_level": log_level.lower()}
    from routerwatch.server.app import serve as run

    try:
        if workers > 1:
            _run_workers(args, workers)
        else:
            run(_config(args))
    except (StoreError, KBError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


_ARGS_ENV = "ROUTERWATCH_SERVE_ARGS"  # the options, handed to the worker processes


def _config(args: dict[str, Any]) -> Any:
    from datetime import timedelta

    from routerwatch.server.background import WorkerOptions
    from routerwatch.server.context import ServerConfig
    from routerwatch.server.ingest import Settings

    return ServerConfig(
        db=args["db"], kb_db=args["kb_db"], host=args["host"], port=args["port"],
        max_upload=args["max_upload_mb"] * 1024 * 1024,
        settings=Settings(gone_after_runs=args["gone_after_runs"],
                          gone_after=timedelta(hours=args["gone_after_hours"]),
                          epss_jump=args["epss_jump"]),
        worker=WorkerOptions(tick=args["tick"], kb_poll=args["kb_poll"],
                             rematch_chunk=args["rematch_chunk"]),
        log_level=args["log_level"],
    )


def _run_workers(args: dict[str, Any], workers: int) -> None:
    """uvicorn's process supervisor with ``workers`` server processes on one socket. This
    process migrates the store first and runs the one background worker (KB syncs, re-match,
    expiry): the write lock serialises the processes' writes (PostgreSQL advisory lock)."""
    import json
    import os

    import uvicorn

    from routerwatch.server import logs
    from routerwatch.server.context import ServerContext

    config = _config(args)
    logs.setup(config.log_level)
    context = ServerContext(config)
    context.start()
    os.environ[_ARGS_ENV] = json.dumps(args)
    try:
        uvicorn.run("routerwatch.cli.serve:worker_app", factory=True, host=config.host,
                    port=config.port, workers=workers, log_config=None, access_log=False,
                    timeout_graceful_shutdown=30, proxy_headers=True, server_header=False)
    finally:
        context.close()


def worker_app() -> Any:
    """The app of one worker process of ``serve --workers N`` (uvicorn calls it)."""
    import json
    import logging
    import os
    import threading
    import time

    from routerwatch.server import kbops, logs
    from routerwatch.server.app import create_app
    from routerwatch.server.context import ServerContext

    config = _config(json.loads(os.environ[_ARGS_ENV]))
    config.background = False  # the supervising process runs it
    logs.setup(config.log_level)
    context = ServerContext(config)

    def follow() -> None:  # pick up KB changes recorded by another process (its sync/import)
        while True:
            time.sleep(config.worker.kb_poll)
            try:
                kbops.record_change(context.store, context.knowledge, "external",
                                    "knowledge base changed outside the server")
            except Exception:  # the next poll tries again; the log says why
                logging.getLogger("routerwatch.server").exception("KB poll failed")

    threading.Thread(target=follow, name="routerwatch-kb-follow", daemon=True).start()
    return create_app(context)


def _store(db: str | None) -> Any:
    from routerwatch.server.store import FleetStore, StoreError

    try:
        return FleetStore(db)
    except StoreError as exc:
        fail(str(exc))


@token_app.command("create")
def token_create(
    org: str = typer.Option(..., "--org", help="Organisation (created when new)."),
    role: str = typer.Option("viewer", "--role", help="viewer, operator or admin."),
    name: str = typer.Option("cli", "--name", help="What the token is for."),
    system: bool = typer.Option(False, "--system", help="The organisation operates the server "
                                "(its admins manage the KB)."),
    expires_days: int = typer.Option(90, "--expires-days", min=0, max=3650,
                                     help="Days until it expires (0: never)."),
    db: str | None = StoreDb,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create an API token and print it once (only its argon2 hash is stored)."""
    from datetime import timedelta

    from routerwatch.server.auth import ROLES, create_token

    if role not in ROLES:
        fail(f"--role: expected one of {', '.join(ROLES)}, got {role!r}")
    store = _store(db)
    try:
        with store.write() as conn:
            org_id = store.ensure_org(conn, org, system=system)
            made = create_token(conn, org_id, name, role,
                                expires_in=timedelta(days=expires_days) if expires_days else None)
    finally:
        store.close()
    if as_json:
        print_json({"id": made.id, "org": org, "role": role, "token": made.token,
                    "expires_at": made.expires_at})
        return
    console.print(f"token {made.id} ({role} of {org}); shown once, keep it safe:")
    typer.echo(made.token)


@token_app.command("list")
def token_list(org: str = typer.Option(..., "--org"), db: str | None = StoreDb) -> None:
    """List an organisation's tokens (never their secrets)."""
    import sqlalchemy as sa

    from routerwatch.server.store import schema as t

    store = _store(db)
    try:
        with store.read() as conn:
            rows = conn.execute(sa.select(t.tokens.c.id, t.tokens.c.name, t.tokens.c.role,
                                          t.tokens.c.expires_at, t.tokens.c.revoked_at)
                                .join(t.orgs, t.orgs.c.id == t.tokens.c.org_id)
                                .where(t.orgs.c.name == org).order_by(t.tokens.c.id)).all()
    finally:
        store.close()
    print_json([{"id": r.id, "name": r.name, "role": r.role, "expires_at": r.expires_at,
                 "revoked_at": r.revoked_at} for r in rows])


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="Token id."),
                 org: str = typer.Option(..., "--org"), db: str | None = StoreDb) -> None:
    """Revoke a token at once."""
    import sqlalchemy as sa

    from routerwatch.server.auth import revoke_token
    from routerwatch.server.store import schema as t

    store = _store(db)
    try:
        with store.write() as conn:
            org_id = conn.execute(sa.select(t.orgs.c.id).where(t.orgs.c.name == org)).scalar()
            if org_id is None or not revoke_token(conn, int(org_id), token_id):
                fail(f"no active token {token_id} in organisation {org!r}")
    finally:
        store.close()
    console.print(f"token {token_id} revoked")


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="Login name (letters, digits, . _ @ -)."),
    org: str = typer.Option(..., "--org", help="Organisation (created when new)."),
    role: str = typer.Option("viewer", "--role", help="viewer (reads), operator (also "
                             "triages) or admin."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password "
                                        "from the first line of standard input instead of "
                                        "asking (for scripts)."),
    db: str | None = StoreDb,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add a dashboard user with a password (stored only as an argon2id hash)."""
    import sys

    from routerwatch.server.auth import ROLES
    from routerwatch.server.web.accounts import MIN_PASSWORD, AccountError, create_user

    if role not in ROLES:
        fail(f"--role: expected one of {', '.join(ROLES)}, got {role!r}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password (at least {MIN_PASSWORD} characters)",
                                hide_input=True, confirmation_prompt=True)
    store = _store(db)
    try:
        with store.write() as conn:
            org_id = store.ensure_org(conn, org)
            try:
                user_id = create_user(conn, org_id, username, password, role)
            except AccountError as exc:
                fail(str(exc))
    finally:
        store.close()
    if as_json:
        print_json({"id": user_id, "username": username, "org": org, "role": role})
        return
    console.print(f"user {username} ({role} of {org}) added")


@user_app.command("list")
def user_list(db: str | None = StoreDb) -> None:
    """List dashboard users as JSON (never their password hashes)."""
    from routerwatch.server.web.accounts import list_users

    store = _store(db)
    try:
        with store.read() as conn:
            rows = list_users(conn)
    finally:
        store.close()
    print_json(rows)


def _set_disabled(username: str, db: str | None, disabled: bool) -> None:
    from routerwatch.server.web.accounts import set_disabled

    store = _store(db)
    try:
        with store.write() as conn:
            if not set_disabled(conn, username, disabled):
                fail(f"no dashboard user {username!r}")
    finally:
        store.close()
    console.print(f"user {username} {'disabled (sessions ended)' if disabled else 'enabled'}")


@user_app.command("disable")
def user_disable(username: str = typer.Argument(..., help="Login name."),
                 db: str | None = StoreDb) -> None:
    """Disable a dashboard user and end their sessions at once."""
    _set_disabled(username, db, True)


@user_app.command("enable")
def user_enable(username: str = typer.Argument(..., help="Login name."),
                db: str | None = StoreDb) -> None:
    """Enable a disabled dashboard user again."""
    _set_disabled(username, db, False)
