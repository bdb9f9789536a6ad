"""Load benchmark of agents reporting to one fleet server (issue 12): `python3 tasks.py bench
agents` (or `.venv/bin/python bench/bench_agents.py [--agents 5000] [--minutes 2] [--db sqlite]`).

A real `routerwatch serve` (uvicorn, one process, 127.41.0.2) on PostgreSQL (a private schema
of the `test` database; `--db sqlite` for a SQLite file). 5,000 agents are enrolled in the
store beforehand (their credentials made as the enrol endpoint makes them; not timed), then
simulated by asyncio httpx clients doing what `routerwatch agent run` does each round: a job
pull (`GET /api/v1/agent/jobs`, at most hourly: in the first round here) and `POST
/api/v1/uploads` of one observation (kind agent). Each agent reports once a minute at its own
phase with ±10 % jitter, open loop: the offered load is 5,000/60 = 83.3 reports/s. First a
cold minute (every agent's first report: job pull + upload, every device new), then
`--minutes` steady minutes (re-sightings; one agent in ten alternates between two networks).
Observations are diverse: the 30 devices of the lab scan (tests/server/data) with per-agent
gateway MACs, addresses and SSIDs; one agent in ten moves between two networks (home/café:
two devices). Figures: reports/s absorbed, request latency p50/p99 (each kind: from send to
answer, at most 64 requests in flight; `lag`: from the report's scheduled time to the server's
answer, so a server falling behind shows there), errors, the
server's peak RSS (VmHWM), and what the store holds afterwards. Also: the enrol endpoint's
rate (argon2 on the one-time token) for 20 agents.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import resource
import shutil
import socket
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

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "tests/server/data/lab-scan.json"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOST = os.environ.get("ROUTERWATCH_BENCH_HOST", "127.41.0.2")  # loopback only


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pg_schema() -> tuple[str, str]:
    prefix = os.environ.get("ROUTERWATCH_BENCH_SCHEMA_PREFIX", "bench_")
    name = prefix + "agents_" + uuid.uuid4().hex[:8]
    eng = sa.create_engine(PG)
    with eng.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    eng.dispose()
    return f"{PG}?options=-csearch_path%3D{name}", name


def drop_schema(name: str) -> None:
    eng = sa.create_engine(PG)
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    eng.dispose()


def enrol_agents(db: str, n: int) -> tuple[str, list[dict[str, Any]]]:
    """An admin token and ``n`` agent credentials, made in the store as `enrol` makes them."""
    from routerwatch.server.agents import DEFAULT_SILENT_AFTER
    from routerwatch.server.auth import AGENT_ROLE, create_token
    from routerwatch.server.store import FleetStore
    from routerwatch.server.store import agents as ta
    from routerwatch.server.timeutil import now

    store = FleetStore(db)
    out = []
    with store.write() as conn:
        org = store.ensure_org(conn, "bench", system=True)
        admin = create_token(conn, org, "bench-admin", "admin").token
        site = store.ensure_site(conn, org, "remote")
        for i in range(n):
            made = create_token(conn, org, f"agent:bench-{i}", AGENT_ROLE)
            conn.execute(sa.insert(ta.agents).values(
                org_id=org, site_id=site, kind="agent", name=f"bench-{i}", token_id=made.id,
                created_at=now(), last_contact=now(), uploads=0, silent=False,
                silent_after=DEFAULT_SILENT_AFTER["agent"]))
            out.append({"i": i, "token": made.token})
    store.close()
    return admin, out


def run_server(db: str, kb: str, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    dead = f"http://{HOST}:9/"
    env = dict(os.environ, ROUTERWATCH_HOME=str(tmp), ROUTERWATCH_NVD_URL=dead,
               ROUTERWATCH_KEV_URL=dead, ROUTERWATCH_EPSS_URL=dead)
    proc = subprocess.Popen([sys.executable, "-m", "routerwatch", "serve", "--host", HOST,
                             "--port", str(port), "--db", db, "--kb-db", kb, "--log-level",
                             "warning"], env=env,
                            stderr=open(tmp / "server.log", "ab"))  # noqa: SIM115
    url = f"http://{HOST}:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start: " + (tmp / "server.log").read_text()[-2000:])


def observation(i: int, round_no: int, base: list[dict[str, Any]],
                template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Agent ``i``'s round ``round_no``: one gateway host, keyed by its network."""
    host = copy.deepcopy(base[i % len(base)])
    moving = i % 10 == 0 and round_no % 2 == 1  # at the café every other round
    net = (i * 2 + (1 if moving else 0))
    mac = "02:" + ":".join(f"{(net >> s) & 0xFF:02x}" for s in (32, 24, 16, 8, 0))
    host["address"] = f"192.168.{net % 250}.1"
    host["device_key"] = f"mac:{mac}"
    network = {"gateway": host["address"], "mac": mac,
               "ssid": f"{'Cafe' if moving else 'Home'}-{i}", "key": f"net:{net:016x}"}
    host["network"] = network
    report = dict(template, hosts=[host], run_id=f"r{round_no}")
    run_id = f"agent{i}-{round_no}-{uuid.uuid4().hex[:8]}"
    return run_id, {"run_id": run_id, "site": "remote", "kind": "agent", "report": report,
                    "network": network}


async def simulate(url: str, creds: list[dict[str, Any]], rounds: range,
                   jitter: float = 0.1) -> dict[str, Any]:
    template = json.loads(LAB.read_text())
    base = template.pop("hosts")
    lat: dict[str, list[float]] = {"jobs": [], "upload": [], "lag": []}
    gate = asyncio.Semaphore(64)  # in flight at once: beyond it requests wait in the client
    errors: dict[str, int] = {}
    done = {"reports": 0}
    flight = {"n": 0}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def request(kind: str, method: str, path: str, token: str,
                          body: Any = None, due: float | None = None) -> bool:
            flight["n"] += 1
            await gate.acquire()
            t0 = time.perf_counter()
            try:
                r = await http.request(method, path, json=body,
                                       headers={"Authorization": f"Bearer {token}"})
                ok = r.status_code in (200, 201)
                if not ok:
                    errors[f"{kind} {r.status_code}"] = errors.get(f"{kind} {r.status_code}",
                                                                   0) + 1
            except httpx.HTTPError as exc:
                ok = False
                errors[f"{kind} {type(exc).__name__}"] = errors.get(
                    f"{kind} {type(exc).__name__}", 0) + 1
            finally:
                gate.release()
                flight["n"] -= 1
            end = time.perf_counter()
            lat[kind].append(end - t0)
            if due is not None:
                lat["lag"].append(end - due)
            return ok

        async def agent(cred: dict[str, Any], start: float) -> None:
            rng = random.Random(cred["i"])
            at = start + rng.uniform(0, 60)
            for round_no in rounds:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                if round_no == 0:  # the agent asks for its job at most hourly (JOB_REFRESH)
                    await request("jobs", "GET", "/api/v1/agent/jobs", cred["token"])
                _run_id, doc = observation(cred["i"], round_no, base, template)
                if await request("upload", "POST", "/api/v1/uploads", cred["token"], doc, at):
                    done["reports"] += 1
                at += 60 * (1 + rng.uniform(-jitter, jitter))

        async def progress() -> None:
            while True:
                await asyncio.sleep(10)
                print(f"  t={time.perf_counter() - start:5.0f} s: {done['reports']} reports, "
                      f"{flight['n']} requests in flight", flush=True)

        start = time.perf_counter()
        ticker = asyncio.create_task(progress())
        await asyncio.gather(*(agent(c, start) for c in creds))
        wall = time.perf_counter() - start
        ticker.cancel()
    return {"lat": lat, "errors": errors, "reports": done["reports"], "wall": wall}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if q < 100 \
        else max(values) * 1000


def summary(res: dict[str, Any], expected: int, offered: float, cpu: float) -> None:
    rate = res["reports"] / res["wall"]
    per = cpu / max(res["reports"], 1) * 1000
    print(f"  reports absorbed: {res['reports']}/{expected} in {res['wall']:.1f} s = "
          f"{rate:.1f} reports/s (offered {offered:.1f}); errors {res['errors'] or 0}")
    print(f"  server CPU: {cpu:.1f} s = {per:.1f} ms per report (all its requests) -> one "
          f"core absorbs ~{1000 / per:.0f} reports/s", flush=True)
    for kind in ("jobs", "upload", "lag"):
        v = res["lat"][kind]
        if v:
            print(f"  {kind:6} n={len(v)} p50 {pct(v, 50):.1f} ms  p99 {pct(v, 99):.1f} ms  "
                  f"max {pct(v, 100):.1f} ms", flush=True)


def bench_enrol(url: str, admin: str, n: int = 20) -> float:
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {admin}"}) as c:
        tokens = [c.post("/api/v1/enrolments", json={"site": "enrol-bench"}).json()["token"]
                  for _ in range(n)]
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as c:
        for i, tok in enumerate(tokens):
            assert c.post("/api/v1/enrol", json={"token": tok, "name": f"e{i}"}).status_code \
                == 201
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=5000)
    ap.add_argument("--minutes", type=int, default=2, help="rounds of one report per agent")
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    args = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, resource.getrlimit(
        resource.RLIMIT_NOFILE)[1]))
    from routerwatch.kb import ensure_starter, open_kb

    tmp = Path(tempfile.mkdtemp(prefix="bench-agents-"))
    schema = None
    proc = None
    try:
        if args.db == "postgresql":
            db, schema = pg_schema()
        else:
            db = f"sqlite:///{tmp / 'fleet.db'}"
        kb = f"sqlite:///{tmp / 'kb.db'}"
        with open_kb(kb) as k:
            ensure_starter(k)
        t0 = time.perf_counter()
        admin, creds = enrol_agents(db, args.agents)
        print(f"enrolled {len(creds)} agents in the store in {time.perf_counter() - t0:.1f} s "
              "(not timed below)")
        proc, url = run_server(db, kb, tmp)
        offered = args.agents / 60
        print(f"cold minute: {args.agents} agents report for the first time (job pull + "
              f"upload; every device new), offered {offered:.1f} reports/s, {args.db}",
              flush=True)
        cpu0 = cpu_seconds(proc.pid)
        cold = asyncio.run(simulate(url, creds, range(0, 1)))
        summary(cold, args.agents, offered, cpu_seconds(proc.pid) - cpu0)
        print(f"steady state: {args.minutes} more minutes (uploads; one agent in ten at a café "
              f"every other round), offered {offered:.1f} reports/s", flush=True)
        cpu0 = cpu_seconds(proc.pid)
        res = asyncio.run(simulate(url, creds, range(1, 1 + args.minutes)))
        summary(res, args.agents * args.minutes, offered, cpu_seconds(proc.pid) - cpu0)
        enrol_rate = bench_enrol(url, admin)
        hwm = vm_hwm_mib(proc.pid)
        with httpx.Client(base_url=url, timeout=60,
                          headers={"Authorization": f"Bearer {admin}"}) as c:
            devices = c.get("/api/v1/devices", params={"limit": 1}).json()["total"]
            uploads = c.get("/api/v1/uploads", params={"limit": 1}).json()["total"]
        expected = args.agents * (1 + args.minutes)
        print(f"server peak RSS (VmHWM): {hwm:.0f} MiB; store: {uploads} uploads, "
              f"{devices} devices (expected {expected} uploads, "
              f"{args.agents + args.agents // 10} devices)")
        print(f"enrol endpoint: {enrol_rate:.1f} enrolments/s (argon2 on the one-time token)")
        print(f"bench client peak RSS: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        ok = cold["reports"] + res["reports"] == expected and not res["errors"] \
            and not cold["errors"]
        return 0 if ok else 1
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(60)
        if schema:
            drop_schema(schema)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
