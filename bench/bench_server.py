"""Benchmark of the fleet server (issue 11): ingest rate, inventory API latency, re-match.

    .venv/bin/python bench/bench_server.py [--db-url URL] [--devices 100000] [--rps 500]

1. Ingest: a real `routerwatch serve` (uvicorn, 127.49.0.1) on PostgreSQL; one warm-up upload
   (the first upload loads the matcher, ~4 s, once per server process), then 2 clients POST
   uploads of 200 hosts each (the lab scan of tests/server/data, replicated with their own
   device keys) for the first sighting of 6,000 devices, then again (re-sightings, the steady
   state of a monitored fleet). Figure: observations per second, whole uploads included.
2. Inventory API: a server with `--workers N` (default 2), a mix of GET /api/v1/devices (page
   of 50; vendor / KEV / risk filters) and GET /api/v1/devices/ID, measured by real load tools
   (separate processes, not Python): `hey` rate-limited to 500 req/s in total (5 processes,
   one per request kind, each 10 connections x 10 req/s; per-request times merged for p50/p99),
   and `wrk` with a Lua script (closed loop, 16 connections) for the saturation rate.
3. Re-match: 100,000 devices put in the store through the ingest code (in-process), then a KB
   update (KEV entry added), timed: the re-match the server's worker runs (same function).
Needs PostgreSQL on 127.0.0.1:5432 (database `test`); each run uses a private schema.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "tests/server/data/lab-scan.json"
KEV = REPO / "tests/fixtures/kev/known_exploited_vulnerabilities.json"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
APP = "rw-bench-server"  # the server's PostgreSQL sessions, to count their CPU
HOST = os.environ.get("ROUTERWATCH_BENCH_HOST", "127.49.0.1")  # loopback only


def schema_url() -> tuple[str, str]:
    name = os.environ.get("ROUTERWATCH_BENCH_SCHEMA_PREFIX", "bench_") + uuid.uuid4().hex[:10]
    eng = sa.create_engine(PG)
    with eng.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    eng.dispose()
    return f"{PG}?options=-csearch_path%3D{name}&application_name={APP}", name


def drop_schema(name: str) -> None:
    eng = sa.create_engine(PG)
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    eng.dispose()


def hosts(copies: int, tag: str) -> list[dict[str, Any]]:
    base = json.loads(LAB.read_text())["hosts"]
    out = []
    for i in range(copies):
        for h in base:
            c = copy.deepcopy(h)
            c["device_key"] = f"{tag}-{i}-{h['address']}"
            out.append(c)
    return out


def report(hs: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LAB.read_text())
    data["hosts"] = hs
    return data


def kev_update() -> bytes:
    data = json.loads(KEV.read_text())
    data["catalogVersion"] = "2026.11.06"
    data["vulnerabilities"].insert(0, {
        "cveID": "CVE-2023-39745", "vendorProject": "TP-Link", "product": "TL-WR841N",
        "vulnerabilityName": "bench entry", "dateAdded": "2026-11-06",
        "shortDescription": "bench entry", "requiredAction": "x", "dueDate": "2026-11-27",
        "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": []})
    data["count"] = len(data["vulnerabilities"])
    return json.dumps(data).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def vm_hwm(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return line.split(":", 1)[1].strip()
    return "?"


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)


def kb_copy(tmp: Path) -> str:
    from routerwatch.kb import ensure_starter, open_kb

    url = f"sqlite:///{tmp / 'kb.db'}"
    with open_kb(url) as kb:
        ensure_starter(kb)
    return url


def token(db: str, org: str = "bench") -> str:
    from routerwatch.server.auth import create_token
    from routerwatch.server.store import FleetStore

    store = FleetStore(db)
    with store.write() as conn:
        made = create_token(conn, store.ensure_org(conn, org, system=True), "bench", "admin")
    store.close()
    return made.token


# --------------------------------------------------------------------------- 1 + 2: live server
def run_server(db: str, kb: str, tmp: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes],
                                                                       str]:
    port = free_port()
    dead = f"http://{HOST}:9/"
    env = dict(os.environ, ROUTERWATCH_HOME=str(tmp), ROUTERWATCH_NVD_URL=dead,
               ROUTERWATCH_KEV_URL=dead, ROUTERWATCH_EPSS_URL=dead)
    proc = subprocess.Popen([sys.executable, "-m", "routerwatch", "serve", "--host", HOST,
                             "--port", str(port), "--db", db, "--kb-db", kb, "--log-level",
                             "warning", "--workers", str(workers)], env=env,
                            stderr=open(tmp / "server.log", "ab"))  # noqa: SIM115
    url = f"http://{HOST}:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start: " + (tmp / "server.log").read_text()[-2000:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (a figure the shared machine's load distorts less
    than wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_ingest(url: str, tok: str, devices: int, pid: int,
                 per_upload: int = 200) -> dict[str, float]:
    copies = max(1, devices // 27)
    all_hosts = hosts(copies, "ing")
    batches = [all_hosts[i:i + per_upload] for i in range(0, len(all_hosts), per_upload)]
    out = {}
    warm = {"run_id": "warm-up", "site": "warm", "complete": False, "report": report(hosts(1, "w"))}
    started = time.perf_counter()
    r = httpx.post(url + "/api/v1/uploads", json=warm, timeout=120,
                   headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 201, r.text
    print(f"ingest, warm-up upload (27 hosts; loads the matcher): "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    for label in ("first sighting", "re-sighting"):
        docs = [{"run_id": f"{label[:2]}-{i}", "site": f"site-{i % 10}", "complete": False,
                 "report": report(b)} for i, b in enumerate(batches)]
        bodies = [json.dumps(d).encode() for d in docs]
        lock = threading.Lock()
        queue = list(range(len(bodies)))

        def worker(lock: threading.Lock = lock, queue: list[int] = queue,
                   bodies: list[bytes] = bodies) -> None:
            with httpx.Client(base_url=url, timeout=120, headers={
                    "Authorization": f"Bearer {tok}", "Content-Type": "application/json"}) as c:
                while True:
                    with lock:
                        if not queue:
                            return
                        i = queue.pop(0)
                    r = c.post("/api/v1/uploads", content=bodies[i])
                    assert r.status_code == 201, r.text

        started, cpu0 = time.perf_counter(), cpu_seconds(pid)
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        took, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu0
        out[label] = len(all_hosts) / took
        print(f"ingest, {label}: {len(all_hosts)} observations in {len(bodies)} uploads, "
              f"{took:.1f} s -> {len(all_hosts) / took:,.0f} observations/s; server process "
              f"CPU {cpu:.1f} s -> {len(all_hosts) / max(cpu, 1e-9):,.0f} observations per "
              "server CPU-second", flush=True)
    return out


API_PATHS = ["/api/v1/devices?limit=50", "/api/v1/devices?vendor=tp-link&limit=50",
             "/api/v1/devices?kev=true&limit=50", "/api/v1/devices?risk_min=80&limit=50"]


def _percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[max(0, min(len(sorted_ms) - 1, round(q * len(sorted_ms)) - 1))]


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat, every core)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def pg_backend_cpu() -> float:
    """CPU seconds so far of the PostgreSQL backends serving the bench's server (by their
    application_name); backends that come and go meanwhile are missed (the pools keep theirs)."""
    eng = sa.create_engine(PG)
    try:
        with eng.connect() as conn:
            pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE "
                                        "application_name = :a"), {"a": APP}).scalars().all()
    finally:
        eng.dispose()
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(int(pid))
    return total


def bench_api_hey(url: str, tok: str, rps: int, seconds: float, ids: list[int],
                  server_pids: list[int] | None = None, stagger: bool = False) -> dict[str, float]:
    """5 `hey` processes (one per request kind), each ``rps/5`` req/s: 10 connections x rps/50.
    Every connection of a `hey` process sends at the same ticks, and the processes start
    together, so without ``stagger`` all 50 connections send at once, 10 times a second (bursts
    of 50 requests); ``stagger`` starts the processes 1/(5 x rate) apart (bursts of 10, five
    times as often), the same offered rate. Also where the machine's CPU went meanwhile: the
    server processes (each), the `hey` processes (they share the cores), the server's
    PostgreSQL backends and the rest (other users of the machine)."""
    pids = server_pids or []
    each0 = [cpu_seconds(p) for p in pids]
    pg0 = pg_backend_cpu()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, total0 = machine_busy()
    hey = shutil.which("hey")
    if hey is None:
        raise SystemExit("bench needs `hey` (apt-get install hey)")
    paths = [*API_PATHS, f"/api/v1/devices/{ids[0]}"]
    per_conn = max(1, rps // (len(paths) * 10))
    procs = []
    for k, p in enumerate(paths):
        if stagger and k:  # hey's connections tick in step: 5 x 10 requests land together
            time.sleep(1 / per_conn / len(paths))
        procs.append(subprocess.Popen([hey, "-z", f"{seconds}s", "-c", "10", "-q", str(per_conn),
                                       "-H", f"Authorization: Bearer {tok}", "-o", "csv", url + p],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    lat: list[float] = []
    errors = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 120)
        for line in out.splitlines()[1:]:
            cols = line.split(",")
            if len(cols) < 7:
                continue
            lat.append(float(cols[0]) * 1000)
            errors += cols[6] != "200"
    busy1, total1 = machine_busy()
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    each = [cpu_seconds(p) - c for p, c in zip(pids, each0, strict=True)]
    server = sum(each)
    pg = pg_backend_cpu() - pg0
    hey_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    lat.sort()
    achieved = len(lat) / seconds
    p50, p99 = _percentile(lat, 0.50), _percentile(lat, 0.99)
    print(f"inventory API, hey at {rps} req/s offered ({per_conn * 10 * len(paths)} max"
          f"{', staggered' if stagger else ''}): "
          f"{len(lat)} requests in {seconds:.0f} s = {achieved:.0f} req/s achieved, "
          f"{errors} non-200; p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms",
          flush=True)
    cores = os.cpu_count() or 1
    busy, total = busy1 - busy0, (total1 - total0) / cores
    print(f"  CPU meanwhile ({total:.1f} s wall x {cores} cores = {total * cores:.1f} "
          f"CPU-s): machine busy {busy:.1f} CPU-s; server processes {server:.2f} CPU-s "
          f"({1000 * server / max(1, len(lat)):.2f} ms a request; each process "
          f"{' + '.join(f'{c:.2f}' for c in each)}); its PostgreSQL backends "
          f"{pg:.2f} CPU-s; hey {hey_cpu:.2f} CPU-s; the rest (other users of the machine) "
          f"{busy - server - pg - hey_cpu:.1f} CPU-s; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    return {"p50": p50, "p99": p99, "rps": achieved, "errors": float(errors),
            "server_cpu": server, "hey_cpu": hey_cpu, "pg_cpu": pg}


def bench_api_wrk(url: str, tok: str, seconds: float, ids: list[int], tmp: Path) -> None:
    """Closed loop, as fast as the server answers: the saturation rate and its latency."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench needs `wrk` (apt-get install wrk)")
    paths = [*API_PATHS, f"/api/v1/devices/{ids[0]}"]
    script = tmp / "mix.lua"
    script.write_text(
        'wrk.headers["Authorization"] = "Bearer ' + tok + '"\n'
        "local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}\n"
        "local i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n")
    out = subprocess.run([wrk, "-t2", "-c16", f"-d{int(seconds)}s", "--latency", "-s",
                          str(script), url], capture_output=True, text=True,
                         timeout=seconds + 120).stdout
    keep = [ln.strip() for ln in out.splitlines()
            if ln.strip().startswith(("50%", "99%", "Requests/sec", "Non-2xx", "Socket errors"))]
    print("inventory API, wrk saturation (16 connections): " + "; ".join(keep), flush=True)


def bench_api(url: str, tok: str, rps: int, seconds: float, tmp: Path,
              server_pids: list[int] | None = None, stagger: bool = False) -> dict[str, float]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tok}"}) as c:
        ids = [d["id"] for d in c.get("/api/v1/devices", params={"limit": 200}).json()["items"]]
    bench_api_hey(url, tok, 50, 2, ids)  # warm-up: token cache, connections, page cache
    result = bench_api_hey(url, tok, rps, seconds, ids, server_pids)
    if stagger:
        bench_api_hey(url, tok, rps, seconds, ids, server_pids, stagger=True)
    bench_api_wrk(url, tok, seconds, ids, tmp)
    return result


# --------------------------------------------------------------------------- 3: re-match
def bench_rematch(db: str, kb: str, devices: int) -> dict[str, float]:
    from routerwatch.server import kbops, rematch
    from routerwatch.server.ingest import ingest
    from routerwatch.server.knowledge import Knowledge
    from routerwatch.server.store import FleetStore
    from routerwatch.server.wire import parse_upload

    store = FleetStore(db)
    knowledge = Knowledge(kb)
    kbops.record_change(store, knowledge, "external", "bench start")
    with store.write() as conn:
        org = store.ensure_org(conn, "rematch-bench")
    base = json.loads(LAB.read_text())["hosts"]
    variants = ["V1.0.9.88_10.2.88", "V1.0.11.116_10.2.100", "V1.0.4.84_10.0.58"]
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    run = 0
    for i in range(devices):
        h = copy.deepcopy(base[i % len(base)])
        h["device_key"] = f"rm-{i}"
        if h["identity"]["model"] == "R7000":  # some firmware variety: more distinct identities
            h["identity"]["firmware"] = variants[(i // 27) % 3]
        batch.append(h)
        if len(batch) == 5000 or i == devices - 1:
            doc = {"run_id": f"rm-{run}", "site": f"s{run % 20}", "complete": False,
                   "report": report(batch)}
            ingest(store, knowledge, org, parse_upload(doc), f"d{run}")
            batch, run = [], run + 1
    fill = time.perf_counter() - started
    print(f"re-match: {devices:,} devices stored through ingest in {fill:.0f} s "
          f"({devices / fill:,.0f}/s in-process)", flush=True)
    started = time.perf_counter()
    result = kbops.import_bytes(store, knowledge, kev_update(), "kev.json")
    imported = time.perf_counter() - started
    started = time.perf_counter()
    done = rematch.rematch(store, knowledge)
    took = time.perf_counter() - started
    assert done is not None and done.done and done.devices == devices, done
    print(f"re-match after a KB update ({result['file']}, KB import {imported:.1f} s): "
          f"{done.devices:,} devices in {took:.1f} s, {done.diffed:,} changed, "
          f"{done.events:,} events", flush=True)
    store.close()
    knowledge.close()
    return {"seconds": took, "devices": float(done.devices)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=100_000, help="re-match inventory size")
    ap.add_argument("--ingest", type=int, default=6000, help="observations per ingest pass")
    ap.add_argument("--rps", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2, help="server processes for the API run")
    ap.add_argument("--only", choices=["ingest", "api", "rematch"])
    ap.add_argument("--stagger", action="store_true",
                    help="also run the API mix with the hey processes' ticks staggered")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rw-bench-server-"))
    os.environ["ROUTERWATCH_HOME"] = str(tmp)
    kb = kb_copy(tmp)
    try:
        if args.only in (None, "ingest", "api"):
            db, schema = schema_url()
            try:
                proc, url = run_server(db, kb, tmp)
                tok = token(db)
                try:
                    bench_ingest(url, tok, args.ingest if args.only != "api" else 1000, proc.pid)
                    print(f"ingest server peak RSS {vm_hwm(proc.pid)}", flush=True)
                finally:
                    stop(proc)
                if args.only in (None, "api"):
                    proc, url = run_server(db, kb, tmp, args.workers)
                    try:
                        kids = children(proc.pid)
                        bench_api(url, tok, args.rps, args.seconds, tmp, [proc.pid, *kids],
                                  args.stagger)
                        print(f"API server ({args.workers} workers) peak RSS: supervisor "
                              f"{vm_hwm(proc.pid)}, workers "
                              f"{', '.join(vm_hwm(k) for k in kids)}", flush=True)
                    finally:
                        stop(proc)
            finally:
                drop_schema(schema)
        if args.only in (None, "rematch"):
            db, schema = schema_url()
            try:
                bench_rematch(db, kb, args.devices)
            finally:
                drop_schema(schema)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"bench process peak RSS {rss:.0f} MB", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
