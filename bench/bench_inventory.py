"""Batch check: 10,000 inventory rows against the starter KB in one process (issue 9 item 7).

The rows are the devices of the labelled quality corpus (tests/quality/corpus.yaml: 149 real
vendor/model/hardware/firmware combinations written by hand from CVE descriptions), cycled to
N rows, each with a site, an owner and an asset tag (extra columns). Times the real command,
``routerwatch check --inventory rows.csv -f json -o out.json``, as a whole process against a
SQLite KB holding the starter bundle (imported beforehand, not timed), then the same work
in-process split into KB/engine load, reading the inventory, and checking.
Run: ``python3 tasks.py bench inventory`` (N=… to change the row count).
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
N = int(os.environ.get("N", "10000"))
SITES = ["Berlin", "Paris", "Lyon", "Madrid", "Oslo"]


def corpus_devices() -> list[dict[str, str]]:
    data = yaml.safe_load((REPO / "tests/quality/corpus.yaml").read_text())
    out = []
    for case in data["cases"]:
        d = case["device"]
        out.append({k: "" if d.get(k) is None else str(d[k])
                    for k in ("vendor", "model", "hardware", "firmware", "region")})
    return out


def write_rows(path: Path, n: int) -> None:
    devices = corpus_devices()
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["asset tag", "vendor", "model", "hardware", "firmware", "region", "site",
                    "owner", "address"])
        for i in range(n):
            d = devices[i % len(devices)]
            w.writerow([f"A-{i:05d}", d["vendor"], d["model"], d["hardware"], d["firmware"],
                        d["region"], SITES[i % len(SITES)], f"team-{i % 17}",
                        f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"])


def main() -> int:
    exe = Path(sys.executable).parent / "routerwatch"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = f"sqlite:///{work / 'kb.db'}"
        env = {**os.environ, "ROUTERWATCH_HOME": str(work / "home")}
        rows = work / "rows.csv"
        write_rows(rows, N)
        # first use imports the starter bundle into the KB: not part of the figure
        subprocess.run([str(exe), "check", "TP-Link Archer C7 v2", "--db", db],
                       env=env, capture_output=True, check=True)
        out = work / "out.json"
        t = time.perf_counter()
        proc = subprocess.run([str(exe), "check", "--inventory", str(rows), "--db", db,
                               "-f", "json", "-o", str(out)], env=env, capture_output=True,
                              text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            print(proc.stderr)
            return 1
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads(out.read_text())
        hosts = report["hosts"]
        with_findings = sum(1 for h in hosts if h["findings"])
        print(f"{N:,} rows ({len(corpus_devices())} distinct corpus devices cycled), "
              f"{len(hosts):,} devices in one report, {with_findings:,} with findings, "
              f"{sum(len(h['findings']) for h in hosts):,} findings, "
              f"{out.stat().st_size / 2**20:.1f} MiB JSON")
        print(f"whole process `check --inventory -f json`: {wall:.2f} s wall; "
              f"CPU {child.ru_utime + child.ru_stime:.2f} s (with the warm-up); "
              f"peak RSS {child.ru_maxrss / 1024:.0f} MiB")

        # the same in-process, by step
        from routerwatch.inventory import read_inventory
        from routerwatch.kb import open_kb
        from routerwatch.pipeline import check_inventory, load_engines

        t = time.perf_counter()
        kb = open_kb(db)
        engines = load_engines(kb, fingerprints=False)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        parsed = read_inventory(rows)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        rep = check_inventory(engines, parsed)
        t_check = time.perf_counter() - t
        t = time.perf_counter()
        from routerwatch.report import render

        text = render(rep, "json")
        t_json = time.perf_counter() - t
        kb.close()
        print(f"in-process: KB + engines {t_load:.2f} s, read CSV {t_read:.2f} s, "
              f"check + assess {t_check:.2f} s ({N / t_check:,.0f} rows/s), "
              f"JSON {t_json:.2f} s ({len(text) / 2**20:.1f} MiB)")
    return 0 if wall < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
