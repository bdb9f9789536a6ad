"""Benchmark of the dashboard (issue 13): overview page latency with a large fleet, against the
JSON API on the same server.

    .venv/bin/python bench/bench_dashboard.py [--devices 10000] [--requests 200] [--sqlite]

1. Fill: ``--devices`` devices (the real lab scan of tests/server/data replicated with their own
   device keys, 20 sites, some firmware variety) stored through the ingest code in-process,
   into a private PostgreSQL schema (default) or a SQLite file (``--sqlite``).
2. A real `routerwatch serve` (uvicorn, one process) on 127.43.0.1; a dashboard user made by
   `routerwatch serve user add`, logged in through the login form (cookie session).
3. Closed loop, one client, ``--requests`` requests each, after 10 warm-up requests:
   ``GET /ui/`` (the overview: counts, risk by site, vendors, EOL, policy, events, three SVG
   charts), ``GET /ui/devices`` (a page of 50 by risk), ``GET /ui/devices/{id}`` and the JSON
   API's nearest equivalents ``GET /api/v1/devices?limit=50&sort=risk`` and
   ``GET /api/v1/devices/{id}`` (bearer token). Figures: p50 / p99 / mean latency, the server's
   peak RSS, the whole run's wall time.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from bench_server import kb_copy, vm_hwm

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "tests/server/data/lab-scan.json"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOST = "127.43.0.1"
PASSWORD = "bench password 1"


def fill(db: str, kb: str, devices: int) -> float:
    from routerwatch.server import kbops
    from routerwatch.server.ingest import ingest
    from routerwatch.server.knowledge import Knowledge
    from routerwatch.server.store import FleetStore
    from routerwatch.server.wire import parse_upload

    store = FleetStore(db)
    knowledge = Knowledge(kb)
    kbops.record_change(store, knowledge, "external", "bench start")
    with store.write() as conn:
        org = store.ensure_org(conn, "bench")
    lab = json.loads(LAB.read_text())
    base = lab["hosts"]
    variants = ["V1.0.9.88_10.2.88", "V1.0.11.116_10.2.100", "V1.0.4.84_10.0.58"]
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    run = 0
    for i in range(devices):
        h = copy.deepcopy(base[i % len(base)])
        h["device_key"] = f"dash-{i}"
        if h["identity"]["model"] == "R7000":
            h["identity"]["firmware"] = variants[(i // 27) % 3]
        batch.append(h)
        if len(batch) == 2500 or i == devices - 1:
            doc = {"run_id": f"dash-{run}", "site": f"site-{run % 20:02d}", "complete": False,
                   "report": {**lab, "hosts": batch}}
            ingest(store, knowledge, org, parse_upload(doc), f"d{run}")
            batch, run = [], run + 1
    took = time.perf_counter() - started
    store.close()
    knowledge.close()
    return took


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def timed(client: httpx.Client, path: str, n: int, **kw: Any) -> dict[str, float]:
    for _ in range(10):
        assert client.get(path, **kw).status_code == 200
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(path, **kw)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1,
                                                             int(len(times) * 0.99))],
            "mean": statistics.fmean(times), "bytes": float(len(r.content))}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = ap.parse_args()
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="rw-bench-dash-"))
    os.environ["ROUTERWATCH_HOME"] = str(tmp)
    schema = None
    if args.sqlite:
        db = f"sqlite:///{tmp / 'fleet.db'}"
    else:
        schema = "bench_" + uuid.uuid4().hex[:10]
        eng = sa.create_engine(PG)
        with eng.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        eng.dispose()
        db = f"{PG}?options=-csearch_path%3D{schema}"
    proc = None
    try:
        kb = kb_copy(tmp)
        took = fill(db, kb, args.devices)
        print(f"fill: {args.devices:,} devices through ingest in {took:.1f} s "
              f"({'SQLite' if args.sqlite else 'PostgreSQL'})", flush=True)
        subprocess.run([sys.executable, "-m", "routerwatch", "serve", "user", "add", "bench",
                        "--org", "bench", "--role", "viewer", "--password-stdin", "--db", db],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        from routerwatch.server.auth import create_token
        from routerwatch.server.store import FleetStore

        store = FleetStore(db)
        with store.write() as conn:
            token = create_token(conn, store.ensure_org(conn, "bench"), "bench", "viewer").token
        store.close()
        port = free_port()
        dead = f"http://{HOST}:9/"
        env = dict(os.environ, ROUTERWATCH_NVD_URL=dead, ROUTERWATCH_KEV_URL=dead,
                   ROUTERWATCH_EPSS_URL=dead)
        proc = subprocess.Popen([sys.executable, "-m", "routerwatch", "serve", "--host", HOST,
                                 "--port", str(port), "--db", db, "--kb-db", kb,
                                 "--log-level", "warning"], env=env,
                                stderr=open(tmp / "server.log", "ab"))  # noqa: SIM115
        url = f"http://{HOST}:{port}"
        for _ in range(300):
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        web = httpx.Client(base_url=url, timeout=60)
        form = web.get("/ui/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf
        r = web.post("/ui/login", data={"username": "bench", "password": PASSWORD,
                                        "csrf_token": csrf.group(1)})
        assert r.status_code == 303, r.text[:500]
        api = httpx.Client(base_url=url, timeout=60,
                           headers={"Authorization": f"Bearer {token}"})
        first = api.get("/api/v1/devices", params={"limit": 1, "sort": "risk"}).json()
        one = first["items"][0]["id"]
        assert first["total"] == args.devices, first["total"]
        rows = [
            ("dashboard overview  GET /ui/", timed(web, "/ui/", args.requests)),
            ("dashboard devices   GET /ui/devices", timed(web, "/ui/devices",
                                                           args.requests)),
            ("JSON API devices    GET /api/v1/devices?limit=50&sort=risk",
             timed(api, "/api/v1/devices", args.requests, params={"limit": 50,
                                                                  "sort": "risk"})),
            ("dashboard device    GET /ui/devices/{id}", timed(web, f"/ui/devices/{one}",
                                                              args.requests)),
            ("JSON API device     GET /api/v1/devices/{id}", timed(api, f"/api/v1/devices/{one}",
                                                                  args.requests)),
        ]
        print(f"\n{args.devices:,} devices, {args.requests} sequential requests each "
              "(after 10 warm-up), one client on loopback:")
        print(f"{'request':58} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'KiB':>7}")
        for name, f in rows:
            print(f"{name:58} {f['p50']:8.1f} {f['p99']:8.1f} {f['mean']:8.1f} "
                  f"{f['bytes'] / 1024:7.1f}")
        print(f"server peak RSS: {vm_hwm(proc.pid)}; whole run {time.perf_counter() - began:.0f} s")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if schema:
            eng = sa.create_engine(PG)
            with eng.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            eng.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
