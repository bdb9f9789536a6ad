"""`serve --workers N`: several uvicorn processes on one socket (PostgreSQL), the supervisor
runs the background work, every worker follows KB changes; SIGTERM stops them all cleanly.
Servers on 127.49.0.0/16."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from server_helpers import lab_report, make_token, upload_doc
from test_week import _kev_update

HOST = os.environ.get("ROUTERWATCH_TEST_SERVER_HOST", "127.49.0.2")


def _port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _serve(db: str, kb: str, home: Path, *extra: str) -> subprocess.Popen[bytes]:
    dead = f"http://{HOST}:9/"
    env = dict(os.environ, ROUTERWATCH_HOME=str(home), ROUTERWATCH_NVD_URL=dead,
               ROUTERWATCH_KEV_URL=dead, ROUTERWATCH_EPSS_URL=dead)
    return subprocess.Popen([sys.executable, "-m", "routerwatch", "serve", "--host", HOST,
                             "--db", db, "--kb-db", kb, "--tick", "0.3", "--kb-poll", "1",
                             *extra], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(home / "server.log", "ab"))


def _until(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not reached")


def test_workers_share_the_store_and_follow_kb_changes(pg_url, kb_url, tmp_path):
    port = _port()
    url = f"http://{HOST}:{port}"
    proc = _serve(pg_url, kb_url, tmp_path, "--port", str(port), "--workers", "2")
    try:
        def up() -> bool:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                return httpx.get(url + "/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _until(up, 90)
        kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(kids) >= 2  # the worker processes (plus multiprocessing's helper)
        token = make_token(pg_url, "acme", "admin", system=True)
        h = {"Authorization": f"Bearer {token}"}
        # many connections, spread over the workers: every one sees the same store
        r = httpx.post(url + "/api/v1/uploads", json=upload_doc("d1", lab_report()), headers=h,
                       timeout=120)
        assert r.status_code == 201, r.text
        totals = set()
        for _ in range(20):
            with httpx.Client(base_url=url, headers=h, timeout=30) as c:  # a new connection
                totals.add(c.get("/api/v1/devices", params={"limit": 1}).json()["total"])
        assert totals == {27}
        before = httpx.get(url + "/health").json()["kb_change"]
        r = httpx.post(url + "/api/v1/kb/import", headers=h, timeout=120,
                       params={"name": "known_exploited_vulnerabilities.json"},
                       content=_kev_update())
        assert r.status_code == 201, r.text

        def all_follow() -> bool:  # every process answering /health holds the new change
            seen = set()
            for _ in range(12):
                with httpx.Client(base_url=url, timeout=10) as c:
                    body = c.get("/health").json()
                seen.add((body["kb_change"], body["rematch_pending"]))
            change, pending = next(iter(seen))
            return len(seen) == 1 and change != before and not pending

        _until(all_follow, 60)
        # the supervisor's background worker ran the re-match: the KEV event is there, once
        events = httpx.get(url + "/api/v1/events", params={"type": "finding.kev", "limit": 100},
                           headers=h).json()["items"]
        assert len(events) == 1 and events[0]["cve"] == "CVE-2023-39745"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    assert code == 0


def test_workers_need_postgresql(sqlite_url, kb_url, tmp_path):
    proc = _serve(sqlite_url, kb_url, tmp_path, "--port", str(_port()), "--workers", "2")
    assert proc.wait(60) == 2
    assert "--workers" in (tmp_path / "server.log").read_text()
