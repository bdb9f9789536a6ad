"""`routerwatch scan … --upload URL` against a real server, scanning the lab on 127.6.2.0/24."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from server_helpers import make_token

from routerwatch.lab import Lab

BASE = os.environ.get("ROUTERWATCH_TEST_LAB_BASE", "127.6.2.0")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(base=BASE, count=6) as running:
        yield running


def test_scan_upload(lab, sqlite_url, kb_url, start_server, tmp_path):
    server = start_server(sqlite_url, kb_url)
    token = make_token(sqlite_url, "acme", "operator")
    addresses = [d.address for d in lab.devices()]
    env = dict(os.environ, ROUTERWATCH_TOKEN=token, ROUTERWATCH_HOME=str(tmp_path))
    cmd = [sys.executable, "-m", "routerwatch", "scan", f"{addresses[0]}-{addresses[-1]}",
           "--db", kb_url, "-q", "-f", "json", "-o", str(tmp_path / "r.json"),
           "--upload", server.url, "--site", "branch-7"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "uploaded run " in r.stdout
    report_run = json.loads((tmp_path / "r.json").read_text()).get("run_id")
    uploads = server.client(token).get("/api/v1/uploads").json()["items"]
    assert [u["run_id"] for u in uploads] == [report_run] if report_run else len(uploads) == 1
    client = server.client(token)
    devices = client.get("/api/v1/devices", params={"site": "branch-7"}).json()
    assert devices["total"] == len(addresses)
    assert {d["address"] for d in devices["items"]} == set(addresses)
    # a wrong token is one error line, not a traceback
    env["ROUTERWATCH_TOKEN"] = "rwt_999_wrong"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "401" in errors[0]
