"""Full-NVD-scale figures (issue 16) against a diverse generated 300k-record KB.

    .venv/bin/python bench/bench_fullscale.py [--records 300000] [--work /tmp/rw-fullscale]
    (or: python3 tasks.py bench fullscale)

Every figure is measured twice where that makes sense: as a whole process (the command a user
types, timed from outside with /usr/bin/time: wall, CPU, peak RSS) and in-process (the core
call alone, in a fresh child process that reports its own time and peak RSS). Steps:

1. generate the KB data with bench/kbgen.py (documented there; skipped when the folder is
   there) and import it with `routerwatch kb import` (builds the match index as it writes);
2. `routerwatch --help` and `routerwatch check`;
3. batch check of 10,000 devices and re-match of 100,000 devices through the pipeline
   (`pipeline.load_engines` + `assess_identity` / `Matcher.check`), devices drawn from the
   KB's own vendor/model pool (fleet-like repeats; the distinct share and cache hits are
   printed, and a run with every device distinct is added);
4. `routerwatch kb sync --source nvd` of 2,000 changed records from a local NVD API server on
   127.5.0.1 (index included; ``--loopback`` picks another 127.x.0.0/16 range);
5. `routerwatch scan` of one emulated router of the lab on 127.5.0.x.

Loopback only. Results: bench/results/fullscale.md (written by hand from this output).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
PY = sys.executable
RW = str(Path(PY).parent / "routerwatch")
LOOPBACK = ["127.5.0.1"]  # the local NVD feed and the lab router (--loopback)


def timed(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> dict[str, Any]:
    """Run a whole process under /usr/bin/time: wall, user+sys CPU, peak RSS (MB)."""
    marker = "RWTIME "
    done = subprocess.run(["/usr/bin/time", "-f", marker + "%e %U %S %M", *cmd], env=env,
                          capture_output=True, text=True, input=stdin, timeout=3600)
    line = next(x for x in done.stderr.splitlines() if x.startswith(marker))
    wall, user, sys_, rss = line[len(marker):].split()
    return {"wall": float(wall), "cpu": float(user) + float(sys_), "rss_mb": int(rss) / 1024,
            "rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def fmt(r: dict[str, Any]) -> str:
    return f"wall {r['wall']:.2f} s  cpu {r['cpu']:.2f} s  peak RSS {r['rss_mb']:.0f} MB"


def child(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    """In-process figures: run ``code`` in a fresh interpreter; it prints one JSON line."""
    outer = timed([PY, "-c", code, *args], env)
    if outer["rc"] != 0:
        raise SystemExit(f"child failed: {outer['stderr'][-2000:]}")
    inner: dict[str, Any] = json.loads(outer["stdout"].strip().splitlines()[-1])
    inner["whole"] = outer
    return inner


DEVICES = """
import json, random, sys
def devices(data, n, seed, distinct=False):
    pool = json.load(open(data + "/devices.json"))
    rng = random.Random(seed)
    routers = [d for d in pool if d["router"]]
    catalog = []
    for _ in range(n if distinct else max(1, n // 8)):
        r = rng.random()
        d = rng.choice(routers if r < 0.8 else pool)
        vendor, model = d["vendor"], d["model"].replace("_", " ").upper()
        if r > 0.97:
            vendor = "zz" + str(rng.randint(1, 999))
        elif r > 0.94:
            model = model + "Q" + str(rng.randint(1, 99))
        fw = rng.choice(d["versions"]) if d["versions"] and rng.random() < 0.6 else None
        hw = rng.choice([None, None, "1", "2", "3"])
        catalog.append((vendor, model, hw, fw))
    if distinct:
        return catalog
    # a fleet repeats its devices: Zipf-like draw from the catalog
    return [catalog[min(int(len(catalog) ** rng.random()) - 1, len(catalog) - 1)] for _ in range(n)]
"""

BATCH = DEVICES + """
import resource, time
from routerwatch.kb import open_kb
from routerwatch.models import DeviceIdentity
from routerwatch.pipeline import load_engines, assess_identity
data, url, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ids = [DeviceIdentity(vendor=v, model=m, hardware=h, firmware=f)
       for v, m, h, f in devices(data, n, 7, distinct=mode.endswith("distinct"))]
t0 = time.perf_counter()
kb = open_kb(url)
engines = load_engines(kb)
t1 = time.perf_counter()
findings = 0
if mode.startswith("assess"):
    for ident in ids:
        findings += len(engines.matcher.check(ident))
        assess_identity(engines, ident)
else:
    for ident in ids:
        findings += len(engines.matcher.check(ident))
t2 = time.perf_counter()
cat = engines.matcher.catalog
src = cat.source
print(json.dumps({"devices": len(ids), "distinct": len(set(ids)), "load_s": t1 - t0,
                  "run_s": t2 - t1, "findings": findings, "records_read": src.rows,
                  "statements": src.statements, "lru_hits": cat.hits,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHECK = DEVICES + """
import resource, time
t0 = time.perf_counter()
from routerwatch.kb import open_kb
from routerwatch.match import Matcher
from routerwatch.models import DeviceIdentity
data, url = sys.argv[1], sys.argv[2]
lean = open_kb(url)
t1 = time.perf_counter()
times = []
sizes = []
for v, m, h, f in devices(data, 200, 11, distinct=True):
    matcher = Matcher.from_index(lean.match_index())  # a fresh matcher: no result cache
    s = time.perf_counter()
    found = matcher.check(DeviceIdentity(vendor=v, model=m, hardware=h, firmware=f))
    times.append(time.perf_counter() - s)
    sizes.append(matcher.catalog.source.rows)
times.sort()
print(json.dumps({"import_and_open_s": t1 - t0, "median_ms": 1000 * times[len(times) // 2],
                  "p95_ms": 1000 * times[int(len(times) * 0.95)], "max_ms": 1000 * times[-1],
                  "candidates_median": sorted(sizes)[len(sizes) // 2], "candidates_max": max(sizes),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build(args: argparse.Namespace, env: dict[str, str]) -> str:
    data = args.work / "data"
    db = args.work / "kb.db"
    url = f"sqlite:///{db}"
    if not (data / "summary.json").is_file():
        r = timed([PY, str(HERE / "kbgen.py"), "--records", str(args.records), "--out",
                   str(data)], env)
        print(f"generate {args.records} records: {fmt(r)}")
    print("data:", (data / "summary.json").read_text().replace("\n", ""))
    if not db.is_file():
        r = timed([RW, "kb", "import", str(data / "nvd"), str(data / "cve5"),
                   str(data / "kev.json"), "--db", url], env)
        if r["rc"] != 0:
            raise SystemExit(r["stderr"][-2000:])
        print(f"kb import (records + match index), whole process: {fmt(r)}")
    r = timed([RW, "kb", "status", "--db", url], env)
    print(f"first open (migrations; index rebuild when the normaliser changed), whole process: "
          f"{fmt(r)}")
    import sqlite3

    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT (SELECT count(*) FROM kb_nvd), (SELECT count(*) FROM kb_cve5),"
                        " (SELECT count(*) FROM kb_match_index),"
                        " (SELECT count(*) FROM kb_match_compiled)").fetchone()
    conn.close()
    print(f"KB: {rows[0]} NVD + {rows[1]} CVE 5 records, {rows[2]} index rows, {rows[3]} "
          f"compiled records, {db.stat().st_size / 1e9:.2f} GB")
    return url


def startup(url: str, env: dict[str, str]) -> None:
    helps = [timed([RW, "--help"], env) for _ in range(5)]
    print("routerwatch --help, whole process, median of 5: wall "
          f"{statistics.median(h['wall'] for h in helps):.2f} s  cpu "
          f"{statistics.median(h['cpu'] for h in helps):.2f} s  peak RSS "
          f"{max(h['rss_mb'] for h in helps):.0f} MB")
    cmd = [RW, "check", "TP-Link Archer AX21 v3", "--firmware",
           "1.1.2 Build 20220714 rel.46227", "--db", url]
    timed(cmd, env)  # first open after import may store the lean SQL
    checks = [timed(cmd, env) for _ in range(5)]
    found = checks[-1]["stdout"].strip().splitlines()[-1]
    print("routerwatch check (Archer AX21 v3), whole process, median of 5: wall "
          f"{statistics.median(c['wall'] for c in checks):.2f} s (min "
          f"{min(c['wall'] for c in checks):.2f})  cpu "
          f"{statistics.median(c['cpu'] for c in checks):.2f} s  peak RSS "
          f"{max(c['rss_mb'] for c in checks):.0f} MB  -> {found}")


def checks(args: argparse.Namespace, url: str, env: dict[str, str]) -> None:
    data = str(args.work / "data")
    r = child(CHECK, env, data, url)
    print(f"check in-process (200 distinct devices, fresh matcher each): median "
          f"{r['median_ms']:.1f} ms  p95 {r['p95_ms']:.1f} ms  max {r['max_ms']:.1f} ms; "
          f"candidate records read: median {r['candidates_median']}, max "
          f"{r['candidates_max']}; peak RSS {r['rss_mb']:.0f} MB")
    runs = [("batch check", 10_000, "assess"), ("re-match", 100_000, "match")]
    if args.distinct:
        runs += [("batch check, every device distinct", 10_000, "assess-distinct"),
                 ("re-match, every device distinct", 100_000, "match-distinct")]
    for label, n, mode in runs:
        r = child(BATCH, env, data, url, str(n), mode)
        hits = 1 - r["distinct"] / r["devices"]
        print(f"{label} of {n:,} devices ({r['distinct']:,} distinct: {hits:.0%} served by "
              f"the result cache; {r['records_read']:,} records read, {r['lru_hits']:,} LRU "
              f"hits, {r['statements']:,} statements): in-process {r['run_s']:.2f} s "
              f"(+{r['load_s']:.2f} s to open the KB and load engines), {r['findings']:,} "
              f"findings; peak RSS {r['rss_mb']:.0f} MB; whole process {fmt(r['whole'])}")


class _Feed:
    """A local NVD API 2.0 endpoint serving the changed records (loopback only)."""

    def __init__(self, cves: list[dict[str, Any]]) -> None:
        self.cves = cves
        feed = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_a: Any) -> None:
                pass

            def do_GET(self) -> None:
                q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                start, size = int(q.get("startIndex", 0)), int(q.get("resultsPerPage", 2000))
                chunk = feed.cves[start:start + size]
                body = json.dumps({
                    "resultsPerPage": len(chunk), "startIndex": start,
                    "totalResults": len(feed.cves), "format": "NVD_CVE", "version": "2.0",
                    "timestamp": "2026-12-03T00:00:00.000",
                    "vulnerabilities": [{"cve": c} for c in chunk]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((LOOPBACK[0], 0), Handler)
        self.url = f"http://{LOOPBACK[0]}:{self.server.server_address[1]}/rest/json/cves/2.0"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def sync(args: argparse.Namespace, url: str, env: dict[str, str]) -> None:
    data = args.work / "data"
    copy = args.work / "sync.db"
    db = Path(url.removeprefix("sqlite:///"))
    shutil.copy(db, copy)
    page = json.loads((data / "nvd" / "page-007.json").read_text())["vulnerabilities"]
    rng = random.Random(3)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000")
    changed = []
    for item in page[:2000]:
        cve = item["cve"]
        cve["lastModified"] = now
        for conf in cve.get("configurations", []):  # a new fix version on every range
            for node in conf["nodes"]:
                for m in node["cpeMatch"]:
                    if "versionEndExcluding" in m:
                        m["versionEndExcluding"] += f".{rng.randint(1, 9)}"
        changed.append(cve)
    feed = _Feed(changed)
    r = timed([RW, "kb", "sync", "--source", "nvd", "--url", feed.url, "--since",
               "2026-12-01", "--db", f"sqlite:///{copy}"], env)
    feed.server.shutdown()
    if r["rc"] != 0:
        raise SystemExit(r["stderr"][-2000:])
    print(f"kb sync of {len(changed):,} changed NVD records (records + match index), whole "
          f"process: {fmt(r)}  [{r['stdout'].strip().splitlines()[-1]}]")
    copy.unlink()


def scan(url: str, env: dict[str, str]) -> None:
    host = LOOPBACK[0]
    lab = timed([RW, "lab", "start", "--base", host.rsplit(".", 1)[0] + ".0", "--count", "2",
                 "--no-hostile"],
                env)
    if lab["rc"] != 0:
        raise SystemExit(lab["stderr"][-2000:])
    try:
        timed([RW, "scan", host, "--db", url, "-f", "json"], env)  # warm the caches
        runs = [timed([RW, "scan", host, "--db", url, "-f", "json"], env)
                for _ in range(3)]
    finally:
        timed([RW, "lab", "stop"], env)
    report = json.loads(runs[-1]["stdout"])
    hosts = report.get("assessments") or report.get("devices") or report.get("hosts") or [{}]
    device = hosts[0].get("device") or hosts[0].get("identity") or {}
    print(f"routerwatch scan of one lab router ({host}), whole process, median of 3: wall "
          f"{statistics.median(r['wall'] for r in runs):.2f} s  cpu "
          f"{statistics.median(r['cpu'] for r in runs):.2f} s  peak RSS "
          f"{max(r['rss_mb'] for r in runs):.0f} MB -> {device.get('vendor')} "
          f"{device.get('model')}, {len(hosts[0].get('findings', []))} findings "
          f"(report keys: {sorted(report)[:8]})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/rw-fullscale"))
    ap.add_argument("--only", default="build,startup,checks,sync,scan")
    ap.add_argument("--distinct", action="store_true",
                    help="also run the batches with every device distinct (slow)")
    ap.add_argument("--loopback", default=LOOPBACK[0],
                    help="loopback address for the local NVD feed and the lab router")
    args = ap.parse_args()
    LOOPBACK[0] = args.loopback
    args.work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ROUTERWATCH_HOME": str(args.work / "home")}
    env.pop("ROUTERWATCH_DB", None)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    only = set(args.only.split(","))
    # An installed wheel ships compiled bytecode; this checkout runs from source and the
    # environment may forbid writing .pyc files (PYTHONDONTWRITEBYTECODE), which would make
    # every timed process compile routerwatch anew (~0.1 s). Compile once, as an install does.
    import routerwatch

    subprocess.run([PY, "-m", "compileall", "-q", str(Path(routerwatch.__file__).parent)],
                   check=False, capture_output=True)
    url = build(args, env)
    for name, step in (("startup", lambda: startup(url, env)),
                       ("checks", lambda: checks(args, url, env)),
                       ("sync", lambda: sync(args, url, env)),
                       ("scan", lambda: scan(url, env))):
        if name in only:
            step()
            print(f"  (load average {os.getloadavg()[0]:.1f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
