"""`routerwatch agent`: check this machine's default gateway on a schedule and report it to a
fleet server (outbound only). See docs/agents.md."""

from __future__ import annotations

import contextlib
import platform
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from routerwatch.cli.common import console, fail, print_json

if TYPE_CHECKING:
    from routerwatch.agent.config import Credential
    from routerwatch.agent.gateway import Network

app = typer.Typer(
    help="Check this machine's default gateway (and nothing else) on a schedule and report it "
    "to a fleet server (outbound only; results queue on disk while it is unreachable).",
    no_args_is_help=True,
)

OS_NAMES = {"linux": "Linux", "macos": "Darwin", "windows": "Windows"}
RecordedOption = typer.Option(
    None, "--recorded", help="Read the OS commands' outputs from files in this directory "
    "instead of running them (testing, troubleshooting; see docs/agents.md).")
OsOption = typer.Option(None, "--os", help="With --recorded: linux, macos or windows "
                        "(default: this OS).")
DbOption = typer.Option(None, "--db", help="Local knowledge base URL (identification).")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
CaOption = typer.Option(None, "--ca-cert", help="Trust only the CAs in this PEM file (or pin "
                        "the server's own certificate); default: the system's CA store.")


def setup_logs(level: str) -> None:
    from routerwatch.server import logs

    if level.lower() not in ("debug", "info", "warning", "error"):
        fail(f"--log-level: expected debug, info, warning or error, got {level!r}")
    logs.setup(level.lower())


def discovery(recorded: Path | None, os_name: str | None) -> Callable[[], Network]:
    """The gateway finder: the OS's commands, or recorded outputs of them."""
    from routerwatch.agent.gateway import discover
    from routerwatch.agent.gateway import recorded as from_files

    system = None
    if os_name is not None:
        if os_name.lower() not in OS_NAMES:
            fail(f"--os: expected linux, macos or windows, got {os_name!r}")
        system = OS_NAMES[os_name.lower()]
    if recorded is not None:
        if not recorded.is_dir():
            fail(f"--recorded: {recorded} is not a directory")
        run = from_files(recorded)
        return lambda: discover(system, run)
    return lambda: discover(system)


def load_cred(kind: str) -> Credential:
    from routerwatch.agent.config import ConfigError, load

    try:
        return load(kind)
    except ConfigError as exc:
        fail(str(exc))


def enroll_cmd(kind: str, url: str, token: str, name: str | None, ca_cert: Path | None,
               extra: dict[str, Any], as_json: bool) -> None:
    from routerwatch.agent.config import Credential, save
    from routerwatch.agent.transport import ServerError, enroll

    if ca_cert is not None and not ca_cert.is_file():
        fail(f"--ca-cert: no such file {ca_cert}")
    name = name or socket.gethostname() or platform.node() or kind
    try:
        answer = enroll(url, token, name, str(ca_cert) if ca_cert else None)
    except ServerError as exc:
        fail(str(exc), 3)
    if answer.get("kind") != kind:
        fail(f"that enrolment token is for a {answer.get('kind')}, not a {kind} (the "
             "credential it made is unused: revoke it on the server)", 3)
    cred = Credential(kind=kind, url=url.rstrip("/"), token=answer["token"],
                      agent_id=int(answer["agent_id"]), site=answer["site"], org=answer["org"],
                      name=name, ca_cert=str(ca_cert.resolve()) if ca_cert else None, **extra)
    path = save(cred)
    if as_json:
        print_json({**cred.public(), "config": str(path)})
        return
    console.print(f"enrolled {kind} {cred.agent_id} ({name}) for site {cred.site!r} of "
                  f"{cred.org!r}; credential saved to {path} (mode 600)", highlight=False)


@app.command("enroll")
def enroll_agent(
    url: str = typer.Argument(..., help="The fleet server, e.g. https://fleet.example.com."),
    token: str = typer.Argument(..., help="The one-time enrolment token (rwe_...)."),
    name: str | None = typer.Option(None, "--name", help="This agent's name (default: the "
                                    "host name)."),
    ca_cert: Path | None = CaOption,
    max_queue: int = typer.Option(1000, "--max-queue", min=1, max=1_000_000,
                                  help="Results kept on disk while the server is unreachable "
                                  "(the oldest are dropped beyond it)."),
    as_json: bool = JsonOption,
) -> None:
    """Exchange a one-time enrolment token for this agent's credential (saved with user-only
    permissions in the config directory, or $ROUTERWATCH_HOME)."""
    enroll_cmd("agent", url, token, name, ca_cert, {"max_queue": max_queue}, as_json)


def _print_round(result: Any, as_json: bool, dry_run: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    net = result.network or {}
    console.print(f"gateway {result.target or '-'} (MAC {net.get('mac') or '?'}, SSID "
                  f"{net.get('ssid') or '-'}, network {net.get('key') or '-'})", highlight=False)
    if dry_run:
        console.print(f"would probe {result.target} on ports "
                      f"{','.join(str(p) for p in result.ports or [])}", highlight=False)
    for target in result.refused:
        console.print(f"refused target {target}: not this machine's gateway", highlight=False)
    if not dry_run:
        console.print(f"server {result.server}; delivered {len(result.delivered)}, queued "
                      f"{result.queued}, dropped {result.dropped_total}", highlight=False)
    if result.error:
        console.print(f"problem: {result.error}", highlight=False)


def _engines(db: str | None) -> Any:
    from routerwatch.cli.runtime import load_engines_or_fail

    return load_engines_or_fail(db)


def _exit(result: Any) -> None:
    if result.error and result.target is None:
        raise typer.Exit(3)  # no gateway
    if result.queued or result.server != "ok":
        raise typer.Exit(3)  # results stay queued


@app.command("run-once")
def run_once(
    dry_run: bool = typer.Option(False, "--dry-run", help="Find the gateway and the job, print "
                                 "what would be probed; probe and send nothing."),
    recorded: Path | None = RecordedOption,
    os_name: str | None = OsOption,
    db: str | None = DbOption,
    as_json: bool = JsonOption,
    log_level: str = typer.Option("warning", "--log-level", help="debug, info, warning, error "
                                  "(JSON lines on stderr)."),
) -> None:
    """Probe the default gateway once, queue the result and deliver the queue. Exit 0 when
    everything was delivered, 3 when results stay queued or there is no gateway."""
    from routerwatch.agent.runner import run_once as round_

    setup_logs(log_level)
    cred = load_cred("agent")
    find = discovery(recorded, os_name)
    result = round_(cred, None if dry_run else _engines(db), find, dry_run=dry_run)
    _print_round(result, as_json, dry_run)
    if not dry_run:
        _exit(result)


@app.command("run")
def run(
    interval: float | None = typer.Option(None, "--interval", min=1, help="Seconds between "
                                          "rounds (default: the server's job, else 3600)."),
    jitter: float = typer.Option(0.1, "--jitter", min=0, max=0.9, help="Random spread of the "
                                 "interval, a fraction (0.1: ±10%)."),
    rounds: int | None = typer.Option(None, "--rounds", min=1, help="Stop after this many "
                                      "rounds (default: run until stopped)."),
    recorded: Path | None = RecordedOption,
    os_name: str | None = OsOption,
    db: str | None = DbOption,
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
) -> None:
    """Run on a schedule with jitter until stopped (SIGINT/SIGTERM); logs are JSON lines on
    stderr. This is what the service units run."""
    from routerwatch.agent.runner import run_forever
    from routerwatch.agent.runner import run_once as round_

    setup_logs(log_level)
    cred = load_cred("agent")
    find = discovery(recorded, os_name)
    engines = _engines(db)
    with contextlib.suppress(KeyboardInterrupt):
        run_forever(lambda: round_(cred, engines, find), interval=interval, jitter=jitter,
                    rounds=rounds)


def status_cmd(kind: str, as_json: bool) -> None:
    from routerwatch.agent.config import config_path, state_dir
    from routerwatch.agent.outbox import Outbox
    from routerwatch.agent.runner import last_status

    cred = load_cred(kind)
    with Outbox(state_dir(kind) / "outbox.db", cred.max_queue) as box:
        queued, dropped, rejected = len(box), box.dropped, box.rejected
    last = last_status(kind) or {}
    data: dict[str, Any] = {
        "enrolled": cred.public(), "config": str(config_path(kind)), "queued": queued,
        "dropped": dropped, "rejected": rejected, "last_round": last or None}
    if as_json:
        print_json(data)
        return
    console.print(f"{kind} {cred.agent_id} ({cred.name}) of site {cred.site!r} at {cred.url}",
                  highlight=False)
    console.print(f"queue: {queued} waiting, {dropped} dropped (queue full), {rejected} "
                  "refused by the server", highlight=False)
    if last:
        console.print(f"last round {last.get('at')}: server {last.get('server')}, target "
                      f"{last.get('target') or '-'}"
                      + (f", problem: {last['error']}" if last.get("error") else ""),
                      highlight=False)
    else:
        console.print("no round yet", highlight=False)


@app.command("status")
def status(as_json: bool = JsonOption) -> None:
    """Show the enrolment, the queue (waiting, dropped) and the last round."""
    status_cmd("agent", as_json)
