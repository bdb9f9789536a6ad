"""End to end on loopback: a real `routerwatch serve`, three agents (Linux, macOS and Windows
recorded outputs, each pointing at a different lab router on 127.41.1.x), a sensor scanning a
lab site; the server's inventory, history and events; a laptop moving between networks; an
agent offline while the server is down that catches up in order.

Run it under `flock /work/lab.lock` (it starts the emulated lab)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from server_helpers import Server, make_token

from routerwatch.lab import Lab

DATA = Path(__file__).parent / "data"
LAB_BASE = "127.41.1.0"

# agent: (recorded template, its OS, the template's gateway, the lab router it becomes, MAC)
AGENTS = {
    "a-linux": ("linux-home", "linux", "192.168.178.1", "127.41.1.1", "38:10:d5:2b:91:c4"),
    "b-macos": ("macos-cafe", "macos", "172.20.10.1", "127.41.1.6", "06:c1:2f:3a:7b:01"),
    "c-windows": ("windows-routeprint", "windows", "192.168.1.1", "127.41.1.8",
                  "f4:06:8d:12:ab:cd"),
}


def relocate(template: str, old: str, new: str, dest: Path) -> Path:
    """A copy of recorded outputs with the gateway moved onto a lab address."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in (DATA / template).iterdir():
        (dest / f.name.replace(old, new)).write_text(f.read_text().replace(old, new))
    return dest


def rw(home: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ROUTERWATCH_HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "routerwatch", *args], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode in ok, (args, done.returncode, done.stdout, done.stderr[-2000:])
    return done


def enrol_token(db: str, home: Path, site: str, kind: str, *extra: str) -> str:
    out = rw(home, "serve", "enrol", "create", "--db", db, "--org", "acme", "--site", site,
             "--kind", kind, "--json", *extra)
    token: str = json.loads(out.stdout)["token"]
    return token


def items(c: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    r = c.get(path, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["items"]
    return found


def test_agents_and_sensor_end_to_end(db_url: str, kb_url: str, tmp_path: Path,
                                      start_server: Callable[..., Server]) -> None:
    server = start_server(db_url, kb_url)
    admin = make_token(db_url, "acme", "admin")
    homes = {name: tmp_path / name for name in [*AGENTS, "sensor", "admin"]}
    recorded = {name: relocate(t, old, new, tmp_path / f"rec-{name}")
                for name, (t, _os, old, new, _mac) in AGENTS.items()}
    # the Linux laptop also visits an office whose gateway gives no MAC (/proc/net/route only)
    office = relocate("linux-proc", "0100A8C0", "0201297F", tmp_path / "rec-office")  # 127.41.1.2

    with Lab(base=LAB_BASE, include_hostile=False):
        for name in AGENTS:
            token = enrol_token(db_url, homes["admin"], "remote", "agent")
            out = rw(homes[name], "agent", "enroll", server.url, token, "--name", name, "--json")
            assert json.loads(out.stdout)["site"] == "remote"
            assert (homes[name] / "agent.json").stat().st_mode & 0o777 == 0o600
        sensor_token = enrol_token(db_url, homes["admin"], "branch", "sensor",
                                   "--silent-after", "8")
        rw(homes["sensor"], "sensor", "enroll", server.url, sensor_token, "--name", "branch-pi",
           "--scope", "127.41.1.0/27")
        with server.client(admin) as c:
            assert c.post("/api/v1/scan-jobs", json={
                "site": "branch", "name": "office routers", "targets": ["127.41.1.12-15"],
                "interval_seconds": 3600, "complete": True}).status_code == 201
            assert c.post("/api/v1/scan-jobs", json={
                "site": "branch", "name": "beyond", "targets": ["127.41.2.1"],
                "interval_seconds": 3600}).status_code == 201

        # --- the sensor once, every agent once
        out = rw(homes["sensor"], "sensor", "run-once", "--all", "--db", kb_url, "--json",
                 ok=(1,))  # 1: the job beyond the local scope was refused
        sensed = json.loads(out.stdout)
        assert [j["name"] for j in sensed["jobs"]] == ["office routers"]
        assert sensed["jobs"][0]["found"] == 4
        assert "127.41.2.1 is outside this sensor's local scope" in sensed["refused"][0]
        dry = json.loads(rw(homes["sensor"], "sensor", "run-once", "--dry-run", "--json",
                            ok=(1,)).stdout)
        assert dry["jobs"] == [] and len(dry["refused"]) == 1  # ran just now; still refused
        status = json.loads(rw(homes["sensor"], "sensor", "status", "--json").stdout)
        assert status["queued"] == 0 and status["enrolled"]["scope"] == ["127.41.1.0/27"]
        assert "rwt_" in status["enrolled"]["token"] and len(status["enrolled"]["token"]) < 20
        results = {}
        for name, (_t, os_name, _old, _new, _mac) in AGENTS.items():
            dry = rw(homes[name], "agent", "run-once", "--dry-run", "--recorded",
                     str(recorded[name]), "--os", os_name)
            assert f"would probe {AGENTS[name][3]} on ports" in dry.stdout
            out = rw(homes[name], "agent", "run-once", "--recorded", str(recorded[name]),
                     "--os", os_name, "--db", kb_url, "--json")
            results[name] = json.loads(out.stdout)
            assert results[name]["target"] == AGENTS[name][3]
            assert len(results[name]["delivered"]) == 1 and results[name]["queued"] == 0

        with server.client(admin) as c:
            remote = {d["device_key"]: d for d in items(c, "/api/v1/devices", site="remote")}
            assert set(remote) == {f"mac:{a[4]}" for a in AGENTS.values()}
            for _t, _os, _old, addr, mac in AGENTS.values():
                assert remote[f"mac:{mac}"]["address"] == addr
            assert {d["vendor"] for d in remote.values()} == {"TP-Link", "NETGEAR", "ASUS"}
            quad7 = remote["mac:38:10:d5:2b:91:c4"]
            assert 7777 in quad7["open_ports"]
            assert any(i["rule"].startswith("quad7") for i in quad7["indicators"])
            branch = items(c, "/api/v1/devices", site="branch")
            assert sorted(d["address"] for d in branch) == [f"127.41.1.{i}" for i in
                                                             (12, 13, 14, 15)]
            assert {d["vendor"] for d in branch} >= {"D-Link", "Zyxel", "Linksys"}
            new = items(c, "/api/v1/events", type="device.new")
            assert len(new) == 7
            assert any(e["device_id"] == quad7["id"] for e in
                       items(c, "/api/v1/events", type="indicator.new"))
            agents = {a["name"]: a for a in items(c, "/api/v1/agents")}
            assert {n: (a["kind"], a["uploads"]) for n, a in agents.items()} == {
                "a-linux": ("agent", 1), "b-macos": ("agent", 1), "c-windows": ("agent", 1),
                "branch-pi": ("sensor", 1)}
            assert agents["a-linux"]["network"]["ssid"] == "Home:Net 5G"

        # --- the Linux laptop goes to the office and comes home: two devices, no flapping
        rw(homes["a-linux"], "agent", "run-once", "--recorded", str(office), "--os", "linux",
           "--db", kb_url)
        rw(homes["a-linux"], "agent", "run-once", "--recorded", str(recorded["a-linux"]),
           "--os", "linux", "--db", kb_url)
        with server.client(admin) as c:
            remote = {d["device_key"]: d for d in items(c, "/api/v1/devices", site="remote")}
            assert len(remote) == 4
            office_dev = next(d for k, d in remote.items() if k.startswith("net:"))
            assert office_dev["address"] == "127.41.1.2"
            history = c.get(f"/api/v1/devices/{quad7['id']}/history").json()
            assert len(history["sightings"]) == 2
            assert [i["vendor"] for i in history["identities"]] == ["TP-Link"]

        # --- the server goes away; the macOS laptop keeps checking, then catches up in order
        server.stop()
        queued = []
        for _ in range(2):
            out = rw(homes["b-macos"], "agent", "run-once", "--recorded",
                     str(recorded["b-macos"]), "--os", "macos", "--db", kb_url, "--json",
                     ok=(3,))
            r = json.loads(out.stdout)
            assert r["server"] == "unreachable" and r["delivered"] == []
            queued.append(r["run_id"])
            time.sleep(1.1)  # distinct observation times
        status = json.loads(rw(homes["b-macos"], "agent", "status", "--json").stdout)
        assert status["queued"] == 2 and status["last_round"]["server"] == "unreachable"
        server.start()
        out = rw(homes["b-macos"], "agent", "run-once", "--recorded", str(recorded["b-macos"]),
                 "--os", "macos", "--db", kb_url, "--json")
        r = json.loads(out.stdout)
        assert r["delivered"] == [*queued, r["run_id"]]  # oldest first
        assert r["queued"] == 0
        with server.client(admin) as c:
            ups = [u for u in items(c, "/api/v1/uploads") if u["run_id"] in r["delivered"]]
            assert [u["run_id"] for u in sorted(ups, key=lambda u: u["id"])] == r["delivered"]
            times = [u["observed_at"] for u in sorted(ups, key=lambda u: u["id"])]
            assert times == sorted(times)
            netgear = next(d for d in items(c, "/api/v1/devices", site="remote")
                           if d["device_key"] == "mac:06:c1:2f:3a:7b:01")
            history = c.get(f"/api/v1/devices/{netgear['id']}/history").json()
            assert len(history["sightings"]) == 4  # 1 before, 2 queued, 1 now
            assert netgear["last_seen"] == max(times)

            # --- the sensor went quiet: one sensor.silent event
            deadline = time.monotonic() + 30
            while not items(c, "/api/v1/events", type="sensor.silent") and \
                    time.monotonic() < deadline:
                time.sleep(0.5)
            silent = items(c, "/api/v1/events", type="sensor.silent")
            assert len(silent) == 1 and "branch-pi" in silent[0]["why"]
