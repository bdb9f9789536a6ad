"""Issue 19 item 7: CycloneDX rendering and audit-config grow linearly, whole-process timings.

    python3 tasks.py bench hostile        (or .venv/bin/python bench/bench_hostile.py [--quick])

1. ``routerwatch report FILE -f cyclonedx -o OUT`` for saved JSON scans of 1,250 … 10,000
   hosts (3 findings each, from tests/report/snapshots/report.json), as a whole process, with
   its peak RSS; beside it the previous renderer (cyclonedx-python-lib, kept as the test
   oracle in tests/hostile/cdx_oracle.py) in-process at 500 … 2,000 hosts.
2. ``routerwatch audit-config FILE -f json`` on `nvram show`-style exports of 6,250 … 50,000
   key lines (DNS, port-forward, SSH-key and telnet lines: four indicators with thousands of
   evidence items each), as a whole process, with its peak RSS.
Each row also gives time per host/line: a flat column is linear growth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "hostile"))
SNAPSHOT = REPO / "tests/report/snapshots/report.json"
EXE = [sys.executable, "-m", "routerwatch"]


def run(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one whole routerwatch process."""
    started = time.perf_counter()
    proc = subprocess.Popen(EXE + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    took = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {err[-500:]!r}")
    return took, usage.ru_maxrss / 1024


def report_of(hosts: int) -> object:
    from routerwatch.models import replace
    from routerwatch.report import from_dict

    base = from_dict(json.loads(SNAPSHOT.read_text()))
    first = base.assessments[0]
    many = tuple(
        replace(first, address=f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}")
        for i in range(hosts)
    )
    return replace(base, assessments=many)


def write_scan(hosts: int, folder: Path) -> Path:
    from routerwatch.report import to_dict

    path = folder / f"scan-{hosts}.json"
    path.write_text(json.dumps(to_dict(report_of(hosts))))  # type: ignore[arg-type]
    return path


def write_config(lines: int, folder: Path) -> Path:
    out = []
    for i in range(lines):
        kind = i % 5
        if kind == 0:
            out.append(f"wan{i}_dns=198.51.100.{i % 250 + 1} 203.0.113.{i % 200 + 1}")
        elif kind == 1:
            out.append(f"vts_rulelist{i}=<r{i}>{1000 + i % 60000}>192.168.1.{i % 250 + 1}>"
                       f"{2000 + i % 60000}>TCP>")
        elif kind == 2:
            out.append(f"sshd_authkeys{i}=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{i:020d} u{i}")
        elif kind == 3:
            out.append(f"telnetd_enable{i}=1")
        else:
            out.append(f"misc_key_{i}=value{i}")
    path = folder / f"config-{lines}.txt"
    path.write_text("\n".join(out) + "\n")
    return path


def bench_cyclonedx(folder: Path, sizes: list[int], peer_sizes: list[int]) -> None:
    print("CycloneDX: `routerwatch report SCAN.json -f cyclonedx -o OUT` (whole process)")
    print(f"{'hosts':>7} {'seconds':>8} {'ms/host':>8} {'peak RSS MiB':>13}")
    for hosts in sizes:
        scan = write_scan(hosts, folder)
        took, rss = run(["report", str(scan), "-f", "cyclonedx", "-o", str(folder / "o.json")])
        print(f"{hosts:>7} {took:>8.2f} {1000 * took / hosts:>8.2f} {rss:>13.0f}", flush=True)
    import cdx_oracle  # the previous, library-based renderer

    from routerwatch.report.cyclonedx import render_cyclonedx

    print("render only, in-process: this renderer vs the previous one (cyclonedx-python-lib)")
    print(f"{'hosts':>7} {'now s':>8} {'before s':>9}")
    for hosts in peer_sizes:
        report = report_of(hosts)
        t = time.perf_counter()
        render_cyclonedx(report)  # type: ignore[arg-type]
        now = time.perf_counter() - t
        t = time.perf_counter()
        cdx_oracle.render_cyclonedx(report)  # type: ignore[arg-type]
        before = time.perf_counter() - t
        print(f"{hosts:>7} {now:>8.2f} {before:>9.2f}", flush=True)


def bench_audit(folder: Path, sizes: list[int]) -> None:
    print("audit-config: `routerwatch audit-config EXPORT -f json` (whole process)")
    print(f"{'lines':>7} {'seconds':>8} {'µs/line':>8} {'peak RSS MiB':>13}")
    for lines in sizes:
        path = write_config(lines, folder)
        took, rss = run(["audit-config", str(path), "-f", "json"])
        print(f"{lines:>7} {took:>8.2f} {1e6 * took / lines:>8.1f} {rss:>13.0f}", flush=True)


def main() -> int:
    quick = "--quick" in sys.argv
    os.environ.setdefault("ROUTERWATCH_HOME", tempfile.mkdtemp(prefix="rw-bench-"))
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if quick:
            bench_cyclonedx(folder, [1250, 2500], [250, 500])
            bench_audit(folder, [6250, 12500])
        else:
            bench_cyclonedx(folder, [1250, 2500, 5000, 10000], [500, 1000, 2000])
            bench_audit(folder, [6250, 12500, 25000, 50000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
