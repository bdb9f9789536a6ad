"""`routerwatch lab start|status|stop` with a real background process."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner, Result

from routerwatch.cli.main import app
from routerwatch.lab.daemon import pid_alive, read_state, state_path

BASE = "127.0.174.0"
BASE_BLOCKED = "127.0.175.0"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["lab", *args])


def text(result: Result) -> str:
    out = result.output
    try:
        err = result.stderr
    except ValueError:  # Click versions that mix stderr into output
        err = ""
    if err and err not in out:
        out += err
    return " ".join(out.split())


@pytest.fixture
def cleanup() -> Iterator[None]:
    """Whatever happens in the test, no lab daemon outlives it."""
    yield
    state = read_state()
    if state is not None and pid_alive(state["pid"]):
        os.kill(state["pid"], signal.SIGKILL)  # the daemon this test started


def test_start_status_stop_cycle(cleanup: None) -> None:
    started = run("start", "--base", BASE, "--no-hostile")
    assert started.exit_code == 0, text(started)
    assert "lab running" in text(started) and "127.0.174.1" in text(started)
    state = read_state()
    assert state is not None and pid_alive(state["pid"])
    pid = state["pid"]

    status = run("status", "--format", "json")
    assert status.exit_code == 0, text(status)
    data = json.loads(status.stdout)
    assert data["running"] is True and data["pid"] == pid
    devices = data["devices"]
    assert devices[0]["address"] == "127.0.174.1"
    assert all(d["hostile"] is None for d in devices)
    wr841n = next(d for d in devices if d["profile"] == "tplink-tl-wr841n-v8-quad7")
    assert wr841n["identity"] == {
        "vendor": "TP-Link",
        "model": "TL-WR841N",
        "hardware": "8",
        "firmware": "3.16.9 Build 150320 Rel.57500n",
    }
    r = httpx.get(f"http://{wr841n['address']}/", timeout=3)
    assert r.headers["www-authenticate"] == 'Basic realm="TP-LINK Wireless N Router WR841N"'

    table = run("status")
    assert table.exit_code == 0 and "TL-WR841N" in text(table)

    again = run("start", "--base", "127.0.174.128")
    assert again.exit_code == 2
    assert f"a lab is already running (pid {pid}" in text(again)

    stopped = run("stop")
    assert stopped.exit_code == 0, text(stopped)
    assert f"lab stopped (pid {pid}" in text(stopped)
    assert not pid_alive(pid)
    assert not state_path().exists()
    with socket.socket() as s:
        s.settimeout(1)
        assert s.connect_ex((wr841n["address"], 80)) != 0, "the lab's sockets are closed"

    after = run("status", "--format", "json")
    assert after.exit_code == 1
    assert json.loads(after.stdout) == {"running": False, "devices": []}
    assert "no lab is running" in text(run("stop"))


@pytest.mark.parametrize("base", ["10.0.0.0", "192.168.1.0", "1.2.3.0", "nonsense"])
def test_start_refuses_non_loopback_bases(base: str) -> None:
    result = run("start", "--base", base)
    assert result.exit_code == 2
    assert f"--base {base}" in text(result)
    assert read_state() is None, "nothing was started"


def test_bind_failure_is_one_clear_line(cleanup: None) -> None:
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.175.1", 80))
    blocker.listen()
    try:
        result = run("start", "--base", BASE_BLOCKED)
    finally:
        blocker.close()
    assert result.exit_code == 2
    message = text(result)
    assert "the lab did not start: cannot bind 127.0.175.1:80/tcp" in message
    assert "Traceback" not in message
    assert read_state() is None


def test_stale_state_is_noticed_and_removed() -> None:
    state_path().write_text(json.dumps({"pid": 2**22 + 12345, "base": BASE, "devices": []}))
    result = run("status")
    assert result.exit_code == 1
    assert "stale lab state" in text(result) and "no lab is running" in text(result)
    assert not state_path().exists()
