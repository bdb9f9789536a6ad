"""Helpers for the fleet server tests: a `routerwatch serve` process, tokens, uploads."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).parent / "data"
# ROUTERWATCH_TEST_SERVER_HOST: another loopback address (a shared machine: each session
# keeps to its own range)
HOST = os.environ.get("ROUTERWATCH_TEST_SERVER_HOST", "127.6.0.1")


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Server:
    """One `routerwatch serve` process and an HTTP client for it."""

    def __init__(self, db: str, kb: str, home: Path, extra: list[str], host: str = HOST,
                 port: int | None = None) -> None:
        self.db, self.kb, self.home, self.extra, self.host = db, kb, home, extra, host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = home / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> Server:
        # KB syncs (a schedule set through the API) must never leave loopback in tests:
        # point every feed at a closed port in our own range.
        dead = f"http://{self.host}:9/"
        # alerts may only reach loopback (a channel elsewhere fails without connecting)
        env = dict(os.environ, ROUTERWATCH_HOME=str(self.home), ROUTERWATCH_NVD_URL=dead,
                   ROUTERWATCH_KEV_URL=dead, ROUTERWATCH_EPSS_URL=dead,
                   ROUTERWATCH_ALERT_TARGETS="127.0.0.0/8")
        cmd = [sys.executable, "-m", "routerwatch", "serve", "--host", self.host, "--port",
               str(self.port), "--db", self.db, "--kb-db", self.kb, "--tick", "0.3",
               "--kb-poll", "1", *self.extra]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "ab"))  # noqa: SIM115
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not come up: {self.log.read_text()[-2000:]}")

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def wait_idle(self, token: str, timeout: float = 60.0) -> None:
        """Until no re-match is pending."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not httpx.get(self.url + "/health", timeout=5).json()["rematch_pending"]:
                return
            time.sleep(0.2)
        raise AssertionError("re-match did not finish")


def make_token(db: str, org: str, role: str, *, system: bool = False,
               expires_days: float | None = 30) -> str:
    """Create a token straight in the store (as `routerwatch serve token create` does)."""
    from datetime import timedelta

    from routerwatch.server.auth import create_token
    from routerwatch.server.store import FleetStore

    store = FleetStore(db)
    try:
        with store.write() as conn:
            org_id = store.ensure_org(conn, org, system=system)
            made = create_token(conn, org_id, f"{org}-{role}", role,
                                expires_in=timedelta(days=expires_days) if expires_days else None)
    finally:
        store.close()
    return made.token


def lab_report() -> dict[str, Any]:
    """A real scan of the lab (tests/server/data/README.md says how it was made)."""
    data: dict[str, Any] = json.loads((DATA / "lab-scan.json").read_text())
    return data


def upload_doc(run_id: str, report: dict[str, Any], *, site: str = "hq",
               observed_at: str | None = None, **extra: Any) -> dict[str, Any]:
    doc = {"run_id": run_id, "site": site, "report": report, **extra}
    if observed_at:
        doc["observed_at"] = observed_at
    return doc


def serving(tmp_path: Path, host: str | None = None) -> Iterator[Callable[..., Server]]:
    """The body of every ``start_server`` fixture: start `routerwatch serve` processes on
    ``host`` (the suite's default when None) and stop them after the test."""
    servers: list[Server] = []

    def start(db: str, kb: str, *extra: str) -> Server:
        kw = {"host": host} if host is not None else {}
        server = Server(db, kb, tmp_path, list(extra), **kw).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def server_fixtures() -> Any:
    """tests/server/conftest.py as a module, so other folders share its KB and database
    fixtures (``kb_template``, ``kb_url``, ``db_url``) instead of copying them."""
    import importlib.util

    path = Path(__file__).parent / "conftest.py"
    spec = importlib.util.spec_from_file_location("server_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
