"""`routerwatch sensor`: run the scans the fleet server schedules for this sensor's site,
within the sensor's local scope, and upload the results (outbound only). See docs/agents.md."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import typer

from routerwatch.cli.agent import (
    CaOption,
    DbOption,
    JsonOption,
    enroll_cmd,
    load_cred,
    setup_logs,
    status_cmd,
)
from routerwatch.cli.common import console, fail, print_json

app = typer.Typer(
    help="Run the scan jobs the fleet server schedules for this site, only within the local "
    "scope, and upload the results (outbound only).",
    no_args_is_help=True,
)


@app.command("enroll")
def enroll_sensor(
    url: str = typer.Argument(..., help="The fleet server, e.g. https://fleet.example.com."),
    token: str = typer.Argument(..., help="The one-time enrolment token (rwe_..., kind sensor)."),
    scope: list[str] = typer.Option(..., "--scope", help="What this sensor may scan (CIDRs, "
                                    "ranges; repeat): the server's jobs must lie within it."),
    allow_public: bool = typer.Option(False, "--allow-public", help="Let the local scope hold "
                                      "public addresses."),
    name: str | None = typer.Option(None, "--name", help="This sensor's name (default: the "
                                    "host name)."),
    ca_cert: Path | None = CaOption,
    as_json: bool = JsonOption,
) -> None:
    """Exchange a one-time enrolment token for this sensor's credential and save it with its
    local scope (user-only permissions)."""
    from routerwatch.scan.scope import ScopeError, parse_scope

    try:
        parse_scope(scope, allow_public=allow_public)
    except ScopeError as exc:
        fail(f"--scope: {exc}")
    enroll_cmd("sensor", url, token, name, ca_cert,
               {"scope": list(scope), "allow_public": allow_public}, as_json)


def _engines(db: str | None) -> Any:
    from routerwatch.cli.runtime import load_engines_or_fail

    return load_engines_or_fail(db)


def _round(force: bool, dry_run: bool, engines: Any) -> Any:
    from routerwatch.agent.sensor import run_once
    from routerwatch.scan.scope import ScopeError

    cred = load_cred("sensor")
    try:
        return run_once(cred, engines, force=force, dry_run=dry_run)
    except ScopeError as exc:
        fail(str(exc))


def _print(result: Any, as_json: bool, dry_run: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    for job in result.jobs:
        verb = "would scan" if dry_run else "scanned"
        console.print(f"{verb} job {job['id']} ({job['name']}): {job['hosts']} addresses "
                      f"{', '.join(job['targets'] or [])}"
                      + (f", {job.get('found')} hosts found" if not dry_run else ""),
                      highlight=False)
    for text in result.refused:
        console.print(f"refused {text}", highlight=False)
    if not dry_run:
        console.print(f"server {result.server}; delivered {len(result.delivered)}, queued "
                      f"{result.queued}, dropped {result.dropped_total}", highlight=False)
    if result.error:
        console.print(f"problem: {result.error}", highlight=False)


@app.command("run-once")
def run_once(
    force: bool = typer.Option(False, "--all", help="Run every job now, due or not."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Pull the jobs and print what would "
                                 "be scanned; scan and send nothing."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
    log_level: str = typer.Option("warning", "--log-level", help="debug, info, warning, error."),
) -> None:
    """Pull the site's jobs and run the due ones once. Exit 0 when all was delivered, 1 when a
    job was refused (outside the local scope), 3 when results stay queued."""
    setup_logs(log_level)
    load_cred("sensor")  # before the KB: not enrolled is the first thing to say
    result = _round(force, dry_run, None if dry_run else _engines(db))
    _print(result, as_json, dry_run)
    if not dry_run and (result.queued or result.server != "ok"):
        raise typer.Exit(3)
    if result.refused:
        raise typer.Exit(1)


@app.command("run")
def run(
    jitter: float = typer.Option(0.1, "--jitter", min=0, max=0.9, help="Random spread of the "
                                 "wait between rounds, a fraction."),
    rounds: int | None = typer.Option(None, "--rounds", min=1, help="Stop after this many "
                                      "rounds (default: run until stopped)."),
    db: str | None = DbOption,
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
) -> None:
    """Run until stopped: pull jobs, run the due ones, upload; wait for the next due job (with
    jitter). Logs are JSON lines on stderr."""
    from routerwatch.agent.runner import run_forever

    setup_logs(log_level)
    load_cred("sensor")
    engines = _engines(db)
    with contextlib.suppress(KeyboardInterrupt):
        run_forever(lambda: _round(False, False, engines), interval=None, jitter=jitter,
                    rounds=rounds)


@app.command("status")
def status(as_json: bool = JsonOption) -> None:
    """Show the enrolment, the local scope, the queue and the last round."""
    status_cmd("sensor", as_json)
