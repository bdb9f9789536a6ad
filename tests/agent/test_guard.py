"""The hard guards, with real probes on loopback: an agent probes its gateway and nothing else
whatever the server's job says; a sensor refuses jobs beyond its local scope."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from server_helpers import Server, make_token

from routerwatch.agent import runner, sensor
from routerwatch.agent.config import Credential, save
from routerwatch.agent.gateway import Network
from routerwatch.agent.transport import enroll
from routerwatch.kb import open_kb
from routerwatch.pipeline import Engines, load_engines
from routerwatch.scan.scanner import ScanOptions

PORT = 18081
OPTIONS = ScanOptions(ports=(PORT,), upnp=False, host_timeout=3.0, probe_timeout=0.5,
                      arp_table=None)


class Listener:
    """A TCP listener that counts the connections it accepts."""

    def __init__(self, address: str, port: int = PORT) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listeners() -> Iterator[Callable[[str], Listener]]:
    made: list[Listener] = []

    def make(address: str) -> Listener:
        made.append(Listener(address))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def engines(kb_url: str) -> Iterator[Engines]:
    kb = open_kb(kb_url)
    yield load_engines(kb)
    kb.close()


def _enrol(server: Server, admin: str, kind: str, site: str, **extra: object) -> Credential:
    with server.client(admin) as c:
        token = c.post("/api/v1/enrolments", json={"site": site, "kind": kind}).json()["token"]
    answer = enroll(server.url, token, f"{kind}-test")
    cred = Credential(kind=kind, url=server.url, token=answer["token"],
                      agent_id=answer["agent_id"], site=answer["site"], org=answer["org"],
                      name=f"{kind}-test", **extra)  # type: ignore[arg-type]
    save(cred)
    return cred


def test_agent_probes_only_its_gateway_whatever_the_job_says(
        sqlite_url: str, kb_url: str, engines: Engines, start_server: Callable[..., Server],
        listeners: Callable[[str], Listener]) -> None:
    gateway, decoy, decoy2 = listeners("127.41.3.1"), listeners("127.41.3.2"), \
        listeners("127.41.3.3")
    server = start_server(sqlite_url, kb_url)
    admin = make_token(sqlite_url, "acme", "admin")
    cred = _enrol(server, admin, "agent", "remote")
    with server.client(admin) as c:
        job = c.post("/api/v1/scan-jobs", json={
            "site": "remote", "runner": "agent", "name": "hostile job", "ports": [PORT],
            "targets": ["gateway", "127.41.3.2", "127.41.3.0/24", "127.41.3.3"],
            "interval_seconds": 600})
        assert job.status_code == 201, job.text
    network = Network(gateway="127.41.3.1", mac="02:41:03:00:00:01", ssid="Home")

    plan = runner.run_once(cred, None, lambda: network, dry_run=True)
    assert (plan.target, plan.ports, plan.probed) == ("127.41.3.1", [PORT], False)
    assert gateway.accepted == 0  # a dry run probes nothing

    result = runner.run_once(cred, engines, lambda: network, options=OPTIONS)
    assert result.refused == ["127.41.3.2", "127.41.3.0/24", "127.41.3.3"]
    assert result.probed and result.hosts == 1 and result.server == "ok"
    assert len(result.delivered) == 1 and result.queued == 0
    assert gateway.accepted >= 1
    assert decoy.accepted == 0 and decoy2.accepted == 0  # never touched
    with server.client(admin) as c:
        devices = c.get("/api/v1/devices", params={"site": "remote"}).json()["items"]
    assert [(d["device_key"], d["address"], d["open_ports"]) for d in devices] == [
        ("mac:02:41:03:00:00:01", "127.41.3.1", [PORT])]

    # revoked: the server refuses the credential; the result stays queued, the status says why
    with server.client(admin) as c:
        assert c.delete(f"/api/v1/agents/{cred.agent_id}").status_code == 204
    revoked = runner.run_once(cred, engines, lambda: network, options=OPTIONS)
    assert revoked.server == "refused" and revoked.queued == 1 and revoked.delivered == []
    assert "revoked" in (revoked.error or "")
    assert runner.last_status("agent")["server"] == "refused"  # type: ignore[index]


def test_sensor_refuses_jobs_beyond_its_local_scope(
        sqlite_url: str, kb_url: str, engines: Engines, start_server: Callable[..., Server],
        listeners: Callable[[str], Listener], tmp_path: Path) -> None:
    inside, outside = listeners("127.41.4.2"), listeners("127.41.5.9")
    server = start_server(sqlite_url, kb_url)
    admin = make_token(sqlite_url, "acme", "admin")
    cred = _enrol(server, admin, "sensor", "branch", scope=["127.41.4.0/28"])
    with server.client(admin) as c:
        for name, targets in (("ok", ["127.41.4.2"]),
                              ("reaches out", ["127.41.4.2", "127.41.5.9"]),
                              ("too wide", ["127.41.4.0/24"])):
            assert c.post("/api/v1/scan-jobs", json={
                "site": "branch", "name": name, "targets": targets, "ports": [PORT],
                "interval_seconds": 600}).status_code == 201
    result = sensor.run_once(cred, engines, options=OPTIONS)
    assert [j["name"] for j in result.jobs] == ["ok"]
    assert len(result.refused) == 2
    assert "127.41.5.9 is outside this sensor's local scope (127.41.4.0/28)" in result.refused[0]
    assert "outside this sensor's local scope" in result.refused[1]
    assert outside.accepted == 0
    assert inside.accepted >= 1
    assert len(result.delivered) == 1 and result.queued == 0
    again = sensor.run_once(cred, engines, options=OPTIONS)  # nothing due within 600 s
    assert again.jobs == [] and again.delivered == []
    with server.client(admin) as c:
        uploads = c.get("/api/v1/uploads").json()["items"]
    assert [(u["kind"], u["complete"], u["hosts"]) for u in uploads] == [("scan", False, 1)]


def test_several_sensors_per_site_each_within_its_own_scope(
        sqlite_url: str, kb_url: str, engines: Engines, start_server: Callable[..., Server],
        listeners: Callable[[str], Listener], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    lyon_a, lyon_b = listeners("127.41.6.2"), listeners("127.41.7.2")
    server = start_server(sqlite_url, kb_url)
    admin = make_token(sqlite_url, "acme", "admin")
    creds = {}
    for name, scope in (("a", "127.41.6.0/28"), ("b", "127.41.7.0/28")):
        monkeypatch.setenv("ROUTERWATCH_HOME", str(tmp_path / name))
        creds[name] = _enrol(server, admin, "sensor", "lyon", scope=[scope])
    with server.client(admin) as c:
        for name, target in (("floor 1", "127.41.6.2"), ("floor 2", "127.41.7.2")):
            assert c.post("/api/v1/scan-jobs", json={
                "site": "lyon", "name": name, "targets": [target], "ports": [PORT],
                "interval_seconds": 600}).status_code == 201
    ran = {}
    for name in ("a", "b"):
        monkeypatch.setenv("ROUTERWATCH_HOME", str(tmp_path / name))
        result = sensor.run_once(creds[name], engines, options=OPTIONS)
        ran[name] = ([j["name"] for j in result.jobs], len(result.refused), result.delivered)
    assert ran["a"][:2] == (["floor 1"], 1) and ran["b"][:2] == (["floor 2"], 1)
    assert lyon_a.accepted >= 1 and lyon_b.accepted >= 1
    with server.client(admin) as c:
        devices = c.get("/api/v1/devices", params={"site": "lyon"}).json()["items"]
        agents = c.get("/api/v1/agents", params={"kind": "sensor"}).json()["items"]
    assert sorted(d["address"] for d in devices) == ["127.41.6.2", "127.41.7.2"]
    assert [(a["site"], a["uploads"]) for a in agents] == [("lyon", 1), ("lyon", 1)]


def test_agent_run_service_loop_logs_json(sqlite_url: str, kb_url: str, tmp_path: Path,
                                          start_server: Callable[..., Server],
                                          listeners: Callable[[str], Listener]) -> None:
    import json
    import os
    import subprocess
    import sys

    gateway = listeners("127.41.8.1")
    server = start_server(sqlite_url, kb_url)
    admin = make_token(sqlite_url, "acme", "admin")
    _enrol(server, admin, "agent", "remote")
    with server.client(admin) as c:
        c.post("/api/v1/scan-jobs", json={"site": "remote", "runner": "agent", "ports": [PORT],
                                          "targets": ["gateway"], "interval_seconds": 600})
    rec = tmp_path / "rec"
    rec.mkdir()
    (rec / "ip_-j_route_show_default.txt").write_text(
        '[{"dst":"default","gateway":"127.41.8.1","dev":"eth0","metric":100,"flags":[]}]')
    (rec / "ip_-j_neigh_show_127.41.8.1.txt").write_text(
        '[{"dst":"127.41.8.1","dev":"eth0","lladdr":"02:41:08:00:00:01","state":["STALE"]}]')
    done = subprocess.run(
        [sys.executable, "-m", "routerwatch", "agent", "run", "--rounds", "2", "--interval",
         "1", "--jitter", "0", "--recorded", str(rec), "--os", "linux", "--db", kb_url],
        capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")]
    assert [x["message"] for x in lines].count("gateway probed") == 2
    assert all(x["logger"].startswith("routerwatch") for x in lines)
    assert gateway.accepted >= 2
    with server.client(admin) as c:
        ups = c.get("/api/v1/uploads").json()["items"]
    assert [(u["kind"], u["hosts"]) for u in ups] == [("agent", 1), ("agent", 1)]
