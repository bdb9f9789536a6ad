"""Benchmark of bulk assessment (`routerwatch assess`) on a Dask LocalCluster.

    .venv/bin/python bench/bench_bulk.py                      # 1,000,000 records, 1 and 2 workers
    .venv/bin/python bench/bench_bulk.py --records 200000 --workers 2

The dataset is made by routerwatch.bulk.generate (lab routers, with --captures also the real
devices of tests/captures, + the long tail + junk), split
evenly over five files, one per format: Shodan (zstd), ZGrab2 (gzip), Censys (plain), masscan
-oL (plain), nmap XML (plain); it is cached in --data. A "record" is one line of a line format
(one host-port for Shodan/masscan, one host for ZGrab2/Censys) or one <host> of nmap XML.

For each worker count: a fresh LocalCluster on --host (default 127.8.0.1, no dashboard), one run
from the files to the Parquet tables and summary; wall time of the run (cluster start reported
apart), records/s, the peak RSS of each worker process and of the client, CPU seconds of each
worker, identity and verdict memo hits. Figures go to stdout.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMATS = (
    ("shodan", "shodan.jsonl.zst"),
    ("zgrab2", "zgrab2.jsonl.gz"),
    ("censys", "censys.jsonl"),
    ("masscan-list", "masscan.txt"),
    ("nmap", "nmap.xml"),
)


def make_data(folder: Path, records: int, captures: Path | None = None) -> list[str]:
    from routerwatch.bulk.generate import write_dataset

    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / f".done-{records}"
    paths = [str(folder / name) for _, name in FORMATS]
    if stamp.exists():
        return paths
    each = records // len(FORMATS)
    started = time.monotonic()
    for seed, (fmt, name) in enumerate(FORMATS, start=1):
        counts = write_dataset(folder / name, fmt, each, seed=seed, captures=captures)
        print(f"  generated {fmt:<13} {counts}", flush=True)
    print(f"  generation took {time.monotonic() - started:.1f} s", flush=True)
    stamp.write_text("ok")
    return paths


def make_kb(folder: Path) -> str:
    from routerwatch.kb import ensure_starter, open_kb

    url = f"sqlite:///{folder / 'kb.sqlite'}"
    kb = open_kb(url)
    ensure_starter(kb)
    kb.close()
    return url


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (load-independent work measure)."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def run(paths: list[str], kb_url: str, workers: int, out: Path, partitions: int | None,
        host: str = "127.8.0.1") -> dict:
    from routerwatch.bulk.engines import KbSource, cache_stats
    from routerwatch.bulk.executor import DaskExecutor
    from routerwatch.bulk.run import BulkOptions, run_bulk

    shutil.rmtree(out, ignore_errors=True)
    t0 = time.monotonic()
    executor = DaskExecutor(workers=workers, host=host)
    t1 = time.monotonic()
    try:
        result = run_bulk(
            BulkOptions(paths, out, KbSource(url=kb_url), partitions=partitions), executor
        )
        t2 = time.monotonic()
        peaks = executor.client.run(peak_rss)
        cpu = executor.client.run(cpu_seconds)
        texts = executor.client.run(cache_stats)
    finally:
        executor.close()
    return {
        "workers": workers,
        "cluster_start": t1 - t0,
        "run": t2 - t1,
        "records": result.read.records,
        "malformed": result.read.malformed,
        "hosts": result.summary.hosts,
        "routers": result.summary.routers,
        "partitions": result.partitions,
        "distinct_identities": result.distinct_identities,
        "distinct_verdicts": result.distinct_verdicts,
        "worker_peak_rss": sorted(peaks.values()),
        "worker_cpu": sorted(cpu.values()),
        "kev_exposed": result.summary.kev_exposed,
        "compromised": result.summary.compromised,
        "text_hits": sum(t["text_hits"] for t in texts.values()),
        "text_misses": sum(t["text_misses"] for t in texts.values()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--partitions", type=int, default=None)
    ap.add_argument("--data", type=Path, default=Path("/tmp/routerwatch-bench-bulk"))
    ap.add_argument(
        "--captures",
        action="store_true",
        help="add the real devices of tests/captures to the lab's as router templates",
    )
    ap.add_argument("--host", default="127.8.0.1", help="loopback address of the LocalCluster")
    args = ap.parse_args()
    captures = REPO / "tests" / "captures" if args.captures else None
    folder = args.data / (f"{args.records}-captures" if captures else str(args.records))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}", flush=True)
    paths = make_data(folder, args.records, captures)
    size = sum(os.path.getsize(p) for p in paths)
    print(
        f"dataset: {args.records:,} records in {len(paths)} files, {size / 2**20:.0f} MiB on disk"
    )
    kb_url = make_kb(args.data)
    for n in (int(w) for w in args.workers.split(",")):
        r = run(paths, kb_url, n, args.data / f"out-{n}", args.partitions, args.host)
        rss = ", ".join(f"{v / 2**20:.0f}" for v in r["worker_peak_rss"])
        print(
            f"workers {n}: {r['run']:.1f} s ({r['records'] / r['run']:,.0f} records/s), "
            f"cluster start {r['cluster_start']:.1f} s, {r['records']:,} records "
            f"({r['malformed']} malformed) → {r['hosts']:,} hosts, {r['routers']:,} routers, "
            f"{r['partitions']} partitions, {r['distinct_identities']:,} distinct identity keys "
            f"(identity memo hits {1 - r['distinct_identities'] / max(r['hosts'], 1):.0%} of "
            f"hosts), {r['distinct_verdicts']:,} verdicts made (verdict memo hits "
            f"{1 - r['distinct_verdicts'] / max(r['hosts'], 1):.0%} of hosts); "
            f"fingerprint input cache: {r['text_hits']:,} hits, {r['text_misses']:,} "
            f"misses ({r['text_hits'] / max(r['text_hits'] + r['text_misses'], 1):.0%} hits); "
            f"worker peak RSS MiB: {rss}; client peak RSS {peak_rss() / 2**20:.0f} MiB; "
            f"worker CPU s: {', '.join(f'{c:.1f}' for c in r['worker_cpu'])} "
            f"({sum(r['worker_cpu']) / r['records'] * 1e6:.0f} µs CPU/record); "
            f"load average now {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
