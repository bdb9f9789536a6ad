"""Benchmark of alert delivery (issue 13): throughput and latency event → webhook, peak memory.

    .venv/bin/python bench/bench_alerts.py [--events 10000] [--trickle 200] [--db sqlite|postgresql]

A real `routerwatch serve` process (127.42.3.1) with one rule → one signed webhook channel
to an HTTP receiver in this process (ThreadingHTTPServer on 127.42.3.2, which checks every
HMAC signature, as a receiver must).

1. Burst: N events are committed in one transaction (the server's own event writer, as an
   upload of a large site would) and the clock runs until the receiver has every one.
   Figures: deliveries per second, latency (event recorded → webhook received) p50/p99/max.
2. Trickle: events one by one at 20/s; latency p50/p99 (the everyday case).
3. Peak RSS of the server process (VmHWM) and of this process.
Peer: the same receiver fed by a bare httpx POST loop (one kept-alive connection, bodies
signed the same way) - the ceiling for one channel sending in order.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import bench_server as bs  # its server, token and PostgreSQL helpers

bs.HOST = "127.42.3.1"
RECEIVER = "127.42.3.2"
KEY = "bench-hmac-key"
os.environ["ROUTERWATCH_ALERT_TARGETS"] = "127.42.0.0/16"


class Receiver:
    def __init__(self) -> None:
        from routerwatch.server.alerts.render import verify

        self.arrived: dict[int, float] = {}
        self.bad = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                at = time.time()
                if not verify(KEY, self.headers.get("x-routerwatch-timestamp", ""), body,
                              self.headers.get("x-routerwatch-signature", "")):
                    outer.bad += 1
                for e in json.loads(body)["events"]:
                    outer.arrived.setdefault(e["id"], at)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((RECEIVER, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{RECEIVER}:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def write_events(db: str, n: int) -> dict[int, float]:
    """Commit n events at once; their ids → the time they were recorded."""
    import sqlalchemy as sa

    from routerwatch.server import events as ev
    from routerwatch.server.store import FleetStore
    from routerwatch.server.store import schema as t

    store = FleetStore(db)
    try:
        with store.write() as conn:
            org = store.ensure_org(conn, "bench")
            ev.write(conn, [ev.Event("indicator.new", org,
                                     f"compromise indicator quad7-xlogin-7777 (bench {i})",
                                     "critical", data={"rule": "quad7-xlogin-7777"})
                            for i in range(n)])
            # the newest n ids are ours (the writer lock kept everyone else out)
            rows = conn.execute(sa.select(t.events.c.id, t.events.c.at)
                                .order_by(t.events.c.id.desc()).limit(n)).all()
    finally:
        store.close()
    return {int(i): _ts(at) for i, at in rows}


def _ts(at: datetime) -> float:
    from routerwatch.server.timeutil import utc

    moment = utc(at)
    assert moment is not None
    return moment.timestamp()


def wait_all(rx: Receiver, ids: dict[int, float], timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(i in rx.arrived for i in ids):
            return time.time()
        time.sleep(0.02)
    missing = sum(1 for i in ids if i not in rx.arrived)
    raise SystemExit(f"{missing} of {len(ids)} events not delivered within {timeout:.0f} s")


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def latencies(rx: Receiver, ids: dict[int, float]) -> dict[str, float]:
    lat = [(rx.arrived[i] - at) * 1000 for i, at in ids.items()]
    return {"p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
            "max_ms": round(max(lat), 1)}


def peer(rx: Receiver, n: int) -> float:
    """A bare httpx loop posting n signed one-event bodies: deliveries per second."""
    from routerwatch.server.alerts.render import sign

    started = time.perf_counter()
    with httpx.Client() as client:
        for i in range(n):
            body = json.dumps({"events": [{"id": 10**9 + i}]}).encode()
            ts = int(time.time())
            client.post(rx.url, content=body, headers={
                "x-routerwatch-timestamp": str(ts),
                "x-routerwatch-signature": sign(KEY, ts, body)})
    return n / (time.perf_counter() - started)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--trickle", type=int, default=200)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rw-bench-alerts-"))
    os.environ["ROUTERWATCH_HOME"] = str(tmp)
    kb = bs.kb_copy(tmp)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return max(run(args, db, tmp / db, kb) for db in dbs)


def run(args: argparse.Namespace, kind: str, tmp: Path, kb: str) -> int:
    tmp.mkdir(parents=True, exist_ok=True)
    schema = None
    if kind == "postgresql":
        db, schema = bs.schema_url()
    else:
        db = f"sqlite:///{tmp / 'fleet.db'}"
    rx = Receiver()
    proc = None
    try:
        proc, url = bs.run_server(db, kb, tmp)
        tok = bs.token(db)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tok}"}) as c:
            cid = c.post("/api/v1/alerts/channels", json={
                "kind": "webhook", "name": "bench", "url": rx.url, "secret": KEY}).json()["id"]
            r = c.post("/api/v1/alerts/rules", json={"name": "bench", "channels": [cid]})
            assert r.status_code == 201, r.text
        print(f"database {kind}; server pid {proc.pid}", flush=True)
        started = time.time()
        ids = write_events(db, args.events)
        written = time.time()
        done = wait_all(rx, ids, timeout=900)
        rate = args.events / (done - written)
        burst = latencies(rx, ids)
        print(f"burst: {args.events} events committed in {written - started:.2f} s; all "
              f"delivered {done - written:.2f} s later → {rate:,.0f} deliveries/s; latency "
              f"p50 {burst['p50_ms']:.0f} ms, p99 {burst['p99_ms']:.0f} ms, "
              f"max {burst['max_ms']:.0f} ms", flush=True)
        trickle: dict[int, float] = {}
        for _ in range(args.trickle):
            trickle.update(write_events(db, 1))
            time.sleep(0.05)
        wait_all(rx, trickle, timeout=120)
        calm = latencies(rx, trickle)
        print(f"trickle: {args.trickle} events at ≤20/s; latency p50 {calm['p50_ms']:.0f} ms, "
              f"p99 {calm['p99_ms']:.0f} ms, max {calm['max_ms']:.0f} ms", flush=True)
        print(f"server peak RSS {bs.vm_hwm(proc.pid)}; bench process peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB", flush=True)
        print(f"bad signatures: {rx.bad}", flush=True)
        ceiling = peer(rx, min(args.events, 3000))
        print(f"peer (bare httpx POST loop, same receiver): {ceiling:,.0f} requests/s",
              flush=True)
        return 1 if rx.bad else 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        rx.server.shutdown()
        if schema:
            bs.drop_schema(schema)


if __name__ == "__main__":
    sys.exit(main())
