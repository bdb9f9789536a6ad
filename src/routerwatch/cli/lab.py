"""`routerwatch lab start|stop|status`: emulated routers on loopback, in the background."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

import typer
from rich.table import Table

from routerwatch.cli.common import Format, console, fail, print_json, warn

app = typer.Typer(help="Run emulated routers on loopback addresses.", no_args_is_help=True)

START_WAIT = 60.0  # seconds `lab start` waits for the daemon to report ready
STOP_WAIT = 15.0


def _table(state: dict[str, Any]) -> Table:
    table = Table(
        title=f"routerwatch lab (pid {state.get('pid')}, base {state.get('base')})",
        title_justify="left",
    )
    table.add_column("address", no_wrap=True)
    table.add_column("device (true identity)", overflow="fold")
    table.add_column("firmware", overflow="fold")
    table.add_column("ports", overflow="fold")
    for d in state.get("devices", []):
        ident = d.get("identity") or {}
        if d.get("hostile"):
            device = f"[red]hostile: {d['hostile']}[/]"
        elif d.get("decoy"):
            device = f"[yellow]decoy: {d.get('profile', '')}[/]"
        else:
            device = " ".join(x for x in (ident.get("vendor"), ident.get("model")) if x)
            if ident.get("hardware"):
                device += f" v{ident['hardware']}"
        ports = [str(p) for p in d.get("ports", [])]
        ports += [f"{p}/udp" for p in d.get("udp_ports", [])]
        table.add_row(d.get("address", ""), device, ident.get("firmware") or "", " ".join(ports))
    return table


def _running_state() -> dict[str, Any] | None:
    """The state of a live lab daemon; removes a stale state file."""
    from routerwatch.lab.daemon import is_lab_process, pid_alive, read_state, state_path

    state = read_state()
    if state is None:
        return None
    if pid_alive(state["pid"]) and is_lab_process(state["pid"]):
        return state
    warn(f"removing stale lab state of pid {state['pid']} (no lab runs under that pid)")
    with contextlib.suppress(OSError):
        state_path().unlink()
    return None


@app.command("start")
def start(
    base: str = typer.Option(
        "127.0.10.0", "--base", help="Base address; devices get base+1, base+2, ... (127/8 only)."
    ),
    count: int | None = typer.Option(
        None, "--count", min=1, help="Number of hosts (default: one per device profile)."
    ),
    no_hostile: bool = typer.Option(False, "--no-hostile", help="Leave out the hostile hosts."),
    seed: int = typer.Option(0, "--seed", help="Seed for per-host MACs, serials and junk."),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Start the lab in the background and return once every device listens.

    Binding ports below 1024 needs root. The lab runs until `routerwatch lab stop`.
    """
    from routerwatch.lab import load_profiles
    from routerwatch.lab.daemon import lock_lab, log_path, read_state, state_path
    from routerwatch.lab.runner import lab_addresses

    n = count if count is not None else len(load_profiles(include_hostile=not no_hostile))
    try:
        lab_addresses(base, n)
    except ValueError as exc:
        fail(f"--base {base}: {exc}")
    lock = lock_lab()  # held by the daemon from here on: a second start fails at once
    running = _running_state()
    if running is not None:
        fail(
            f"a lab is already running (pid {running['pid']}, base {running.get('base')}, "
            f"{len(running.get('devices', []))} devices); stop it first with `routerwatch lab stop`"
        )
    if lock is None:
        fail("another `routerwatch lab start` is starting a lab right now; "
             "see `routerwatch lab status` in a moment")
    cmd = [sys.executable, "-m", "routerwatch.lab.daemon", "--base", base, "--seed", str(seed)]
    cmd += ["--lock-fd", str(lock)]
    if count is not None:
        cmd += ["--count", str(count)]
    if no_hostile:
        cmd.append("--no-hostile")
    cmd += ["--state", str(state_path())]
    log = log_path()
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,
            close_fds=True,
            pass_fds=(lock,),
        )
    os.close(lock)  # the daemon holds the lock now
    deadline = time.monotonic() + START_WAIT
    state = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
            reason = lines[-1].removeprefix("error: ") if lines else f"exit code {proc.returncode}"
            fail(f"the lab did not start: {reason}")
        state = read_state()
        if state is not None and state.get("pid") == proc.pid:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        proc.wait()
        fail(f"the lab did not report ready within {START_WAIT:.0f} s (log: {log})")
    assert state is not None
    if fmt is Format.json:
        print_json({"running": True, "pid": state["pid"], "base": base, **_devices(state)})
    else:
        console.print(_table(state))
        console.print(
            f"lab running: {len(state['devices'])} devices, pid {state['pid']}; "
            "stop it with `routerwatch lab stop`"
        )


def _devices(state: dict[str, Any]) -> dict[str, Any]:
    return {"devices": state.get("devices", [])}


@app.command("stop")
def stop() -> None:
    """Stop the background lab (all its sockets close) and remove its state file."""
    from routerwatch.lab.daemon import pid_alive, state_path

    state = _running_state()
    if state is None:
        console.print("no lab is running")
        return
    pid = state["pid"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        warn(f"the lab (pid {pid}) did not stop within {STOP_WAIT:.0f} s; killing it")
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    with contextlib.suppress(OSError):
        state_path().unlink()
    console.print(f"lab stopped (pid {pid}, {len(state.get('devices', []))} devices)")


@app.command("status")
def status(
    fmt: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Show the running lab's devices with their true identities (exit code 1 when none runs).

    JSON: {"running", "pid", "base", "devices": [{"address", "profile", "identity": {vendor,
    model, hardware, firmware} | null, "hostile", ...}]}; identity is null for hostile
    devices and decoys.
    """
    state = _running_state()
    if state is None:
        if fmt is Format.json:
            print_json({"running": False, "devices": []})
        else:
            console.print("no lab is running (start one with `routerwatch lab start`)")
        raise typer.Exit(1)
    if fmt is Format.json:
        print_json(
            {"running": True, "pid": state["pid"], "base": state.get("base"), **_devices(state)}
        )
    else:
        console.print(_table(state))
