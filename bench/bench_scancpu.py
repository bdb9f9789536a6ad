"""Scanner CPU against plain asyncio TCP connects (and nmap) on a 1,000-host loopback lab.

    .venv/bin/python bench/bench_scancpu.py [--count 1000] [--base 127.53.0.0] [--no-nmap]
                                            [--lab-procs 2] [--profile FILE] [--identities FILE]
    (or: python3 tasks.py bench scancpu)

Issue 16 item 4: a 1,000-host scan should cost at most 2x the CPU of plain asyncio TCP
connects to the same ports. The lab (``routerwatch.lab.Lab``, every non-hostile profile in
turn, so ~30 different devices with their real pages, banners, certificates and UPnP
descriptions; hostile tarpits left out) runs in ``--lab-procs`` separate processes on
``--count`` consecutive loopback addresses after ``--base``. Then, each in its own process,
timed from outside with /usr/bin/time (wall, user+sys CPU, peak RSS):

(a) ``routerwatch scan @targets -f json`` (whole process: start, scan, fingerprint, CVE match,
    report; after one untimed warm-up run that imports the starter KB and fills the rule
    cache), and beside it the **in-process** figure: ``scan()`` plus ``Fingerprinter.identify``
    in a child that reports the CPU (getrusage) of that call alone, imports and rules done;
(b) a plain asyncio TCP connect scan of exactly the same host:port pairs (the scanner's
    default port set) with the same concurrency (128 hosts at once, 8 connects at once per
    host, 1 s connect timeout): open, then close; the in-process CPU is reported likewise;
(c) ``nmap -sT -Pn -n -T4 -p PORTS -iL targets`` (a plain connect scan of the same pairs).
    ``nmap -sV`` is not run at 1,000 hosts: on 27 lab hosts it took 200 s (bench_scan.py),
    so 1,000 would take about two hours.

The ratio (a)/(b) is printed by CPU, whole process and in-process. The lab processes' own CPU
per run is printed too (it is not part of any figure). ``--profile FILE`` writes a cProfile of
the in-process scan; ``--identities FILE`` the identities the whole-process scan reported (to
compare two versions of the code). Loopback only: every address is inside ``--base``'s /16,
which must lie in 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from routerwatch.lab.runner import lab_addresses
from routerwatch.scan.scope import DEFAULT_PORTS

PY = sys.executable
RW = str(Path(PY).parent / "routerwatch")
MARK = "RWTIME "

LAB = r"""
import sys
from routerwatch.lab import Lab
lab = Lab(base=sys.argv[1], count=int(sys.argv[2]), include_hostile=False, seed=int(sys.argv[3]))
lab.start()
print("READY", flush=True)
sys.stdin.read()  # until the bench closes our stdin
lab.stop()
"""

# (a) in-process: the scan call plus identification, imports and rule loading done first.
SCAN_CHILD = r"""
import cProfile, json, resource, sys, time
from routerwatch.fingerprint import Fingerprinter
from routerwatch.scan.scanner import ScanOptions, scan
from routerwatch.scan.scope import parse_scope
addresses = open(sys.argv[1]).read().split()
prof = sys.argv[2]
fp = Fingerprinter()
from routerwatch.models import Observation
fp.identify(Observation(address="127.0.0.1"))
scope = parse_scope(addresses)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0, t0 = cpu(), time.monotonic()
profiler = cProfile.Profile(time.process_time) if prof else None
if profiler: profiler.enable()
observations = scan(scope, ScanOptions())
c1, t1 = cpu(), time.monotonic()
identities = [fp.identify(o) for o in observations]
if profiler:
    profiler.disable(); profiler.dump_stats(prof)
c2, t2 = cpu(), time.monotonic()
found = sum(1 for i in identities if i.vendor)
print(json.dumps({"scan_cpu": c1 - c0, "scan_wall": t1 - t0, "identify_cpu": c2 - c1,
                  "identify_wall": t2 - t1, "hosts": len(observations), "with_vendor": found,
                  "open_ports": sum(len(o.open_ports) for o in observations)}))
"""

# (b) plain asyncio TCP connects to the same host:port pairs, same concurrency.
CONNECT_CHILD = r"""
import asyncio, json, resource, sys, time
addresses = open(sys.argv[1]).read().split()
ports = [int(p) for p in sys.argv[2].split(",")]
hosts_at_once, per_host, timeout = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
banner = sys.argv[6] == "1"
factory = None
if sys.argv[7] == "uvloop":
    import uvloop
    factory = uvloop.new_event_loop
async def one(address, port, limit):
    async with limit:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(address, port)
        except (OSError, TimeoutError):
            return False
        if banner:
            try:
                async with asyncio.timeout(0.3):
                    await reader.read(4096)
            except (OSError, TimeoutError):
                pass
        writer.transport.abort()
        return True
async def main():
    it = iter(addresses)
    opened = 0
    async def worker():
        nonlocal opened
        for address in it:
            limit = asyncio.Semaphore(per_host)
            found = await asyncio.gather(*(one(address, p, limit) for p in ports))
            opened += sum(found)
    async with asyncio.TaskGroup() as g:
        for _ in range(min(hosts_at_once, len(addresses))):
            g.create_task(worker())
    return opened
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0, t0 = cpu(), time.monotonic()
with asyncio.Runner(loop_factory=factory) as runner:
    opened = runner.run(main())
print(json.dumps({"cpu": cpu() - c0, "wall": time.monotonic() - t0, "open_ports": opened}))
"""


def timed(cmd: list[str], env: dict[str, str] | None = None,
          timeout: float = 3600) -> dict[str, Any]:
    """A whole process under /usr/bin/time: wall, user+sys CPU, peak RSS (MiB)."""
    done = subprocess.run(["/usr/bin/time", "-f", MARK + "%e %U %S %M", *cmd], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    line = next((x for x in done.stderr.splitlines() if x.startswith(MARK)), None)
    if line is None:
        raise SystemExit(f"{cmd[0]} failed: {done.stderr[-2000:]}")
    wall, user, sys_, rss = line[len(MARK):].split()
    return {"wall": float(wall), "cpu": float(user) + float(sys_), "user": float(user),
            "sys": float(sys_), "rss_mb": int(rss) / 1024, "rc": done.returncode,
            "stdout": done.stdout, "stderr": done.stderr}


def fmt(r: dict[str, Any]) -> str:
    return (f"wall {r['wall']:7.2f} s   cpu {r['cpu']:6.2f} s (user {r['user']:.2f} + sys "
            f"{r['sys']:.2f})   peak RSS {r['rss_mb']:4.0f} MiB")


def proc_cpu(pids: list[int]) -> float:
    """user+sys seconds the given processes have used so far (/proc/PID/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


class LabProcs:
    """The lab in N processes, each serving a contiguous block of the addresses."""

    def __init__(self, addresses: list[str], procs: int, seed: int) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        size = -(-len(addresses) // procs)
        self.blocks = [addresses[i:i + size] for i in range(0, len(addresses), size)]
        self.seed = seed

    def start(self) -> None:
        for block in self.blocks:
            base = str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(block[0])) - 1))
            p = subprocess.Popen([PY, "-c", LAB, base, str(len(block)), str(self.seed)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.procs.append(p)
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if line.strip() != "READY":
                self.stop()
                raise SystemExit("a lab process did not start (see its stderr above)")

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for p in self.procs:
            if p.stdin is not None:
                p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def summary(results: dict[str, list[dict[str, Any]]]) -> None:
    """Medians over the rounds, and the ratios of the medians (CPU seconds)."""
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print("--- medians over the rounds")
    for name, runs in results.items():
        print(f"{name:<18} n={len(runs)}  cpu {med(name, 'cpu'):6.2f} s (min "
              f"{min(r['cpu'] for r in runs):.2f})  wall {med(name, 'wall'):6.2f} s  "
              f"peak RSS {med(name, 'rss_mb'):4.0f} MiB")
    for base in ("connect-asyncio", "connect-uvloop"):
        if base not in results:
            continue
        if "scan" in results:
            pairs = zip(results["scan"], results[base], strict=False)
            rounds = ", ".join(f"{a['cpu'] / b['cpu']:.2f}" for a, b in pairs)
            print(f"ratio (a)/(b) by CPU, whole process, (b) on {base[8:]}: "
                  f"{med('scan', 'cpu') / med(base, 'cpu'):.2f}x (per round: {rounds})")
        if "inproc" in results:
            print(f"ratio (a)/(b) by CPU, in-process scan() to in-process connects, (b) on "
                  f"{base[8:]}: {med('inproc', 'scan_cpu') / med(base, 'inner_cpu'):.2f}x")
    if "nmap" in results and "connect-asyncio" in results:
        print(f"nmap -sT CPU / plain asyncio connects CPU (whole process): "
              f"{med('nmap', 'cpu') / med('connect-asyncio', 'cpu'):.2f}x")


def identities(report: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for host in report.get("hosts", []):
        ident = host.get("identity") or {}
        out[host.get("address")] = {k: ident.get(k) for k in ("vendor", "model", "firmware")}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--base", default="127.53.0.0", help="lab addresses follow it (127.x/8)")
    ap.add_argument("--lab-procs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-nmap", action="store_true")
    ap.add_argument("--nmap-timeout", type=float, default=900.0)
    ap.add_argument("--banner", action="store_true",
                    help="(b) also reads up to 4 KiB of banner (0.3 s) on each open port")
    ap.add_argument("--only", default="scan,inproc,connect,nmap")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of (a) and (b), interleaved; medians are reported")
    ap.add_argument("--uvloop-baseline", action="store_true",
                    help="(b) also on uvloop's event loop (the scanner uses it when installed)")
    ap.add_argument("--profile", type=Path,
                    help="cProfile (CPU-time timer) of the in-process scan to this file; it "
                    "slows the scan ~3x, so its CPU figure is then not comparable (py-spy "
                    "record --raw on the scan process gives truer shares)")
    ap.add_argument("--identities", type=Path, help="write the scan's identities (JSON) here")
    args = ap.parse_args()
    addresses = lab_addresses(args.base, args.count)
    if ipaddress.ip_network(f"{args.base}/16", strict=False) != ipaddress.ip_network(
            f"{addresses[-1]}/16", strict=False):
        raise SystemExit(f"{args.count} hosts after {args.base} leave its /16")
    only = set(args.only.split(","))
    ports = ",".join(str(p) for p in DEFAULT_PORTS)
    work = Path(tempfile.mkdtemp(prefix="rw-scancpu-"))
    targets = work / "targets.txt"
    targets.write_text("\n".join(addresses) + "\n")
    env = {**os.environ, "ROUTERWATCH_HOME": str(work / "home")}
    # the benchmarks compile bytecode once, as an installed wheel has it
    import routerwatch
    subprocess.run([PY, "-m", "compileall", "-q", str(Path(routerwatch.__file__).parent)],
                   check=False, env={k: v for k, v in env.items()
                                     if k != "PYTHONDONTWRITEBYTECODE"})
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
          f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"hosts: {len(addresses)} ({addresses[0]} .. {addresses[-1]}), ports {ports}: "
          f"{len(addresses) * len(DEFAULT_PORTS)} host:port pairs")
    lab = LabProcs(addresses, args.lab_procs, args.seed)
    t0 = time.monotonic()
    lab.start()
    print(f"lab: {args.lab_procs} processes listening after {time.monotonic() - t0:.1f} s")
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        def measured(name: str, cmd: list[str], **kw: Any) -> dict[str, Any]:
            before = proc_cpu(lab.pids())
            r = timed(cmd, **kw)
            r["lab_cpu"] = proc_cpu(lab.pids()) - before
            r["load"] = load()
            results.setdefault(name, []).append(r)
            return r

        scan_cmd = [RW, "scan", f"@{targets}", "-f", "json"]
        if "scan" in only:
            warm = timed(scan_cmd, env)  # starter KB import, rule cache: not timed
            if warm["rc"] not in (0, 1):
                raise SystemExit(f"routerwatch scan failed: {warm['stderr'][-2000:]}")
        for round_ in range(1, args.repeat + 1):
            print(f"--- round {round_} of {args.repeat}")
            if "scan" in only:
                r = measured("scan", scan_cmd, env=env)
                seen = identities(json.loads(r["stdout"]))
                r["hosts"] = len(seen)
                r["with_vendor"] = sum(1 for v in seen.values() if v["vendor"])
                r["with_model"] = sum(1 for v in seen.values() if v["model"])
                r["with_firmware"] = sum(1 for v in seen.values() if v["firmware"])
                print(f"(a) routerwatch scan, whole process:   {fmt(r)}   [{r['load']}]")
                print(f"    {r['hosts']} hosts reported; vendor {r['with_vendor']}, model "
                      f"{r['with_model']}, firmware {r['with_firmware']}; lab CPU meanwhile "
                      f"{r['lab_cpu']:.2f} s")
                if args.identities:
                    args.identities.write_text(json.dumps(seen, indent=1, sort_keys=True) + "\n")
            if "inproc" in only:
                r = measured("inproc", [PY, "-c", SCAN_CHILD, str(targets),
                                        str(args.profile or "")], env=env)
                r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
                print(f"(a) in-process scan() alone:            cpu {r['scan_cpu']:6.2f} s   "
                      f"wall {r['scan_wall']:.2f} s   ({r['hosts']} hosts, "
                      f"{r['open_ports']} open ports); identify: cpu "
                      f"{r['identify_cpu']:.2f} s; that child whole: {fmt(r)}")
            for loop_name in ("asyncio", "uvloop") if "connect" in only else ():
                if loop_name == "uvloop" and not args.uvloop_baseline:
                    continue
                r = measured(f"connect-{loop_name}", [
                    PY, "-c", CONNECT_CHILD, str(targets), ports, "128", "8", "1.0",
                    "1" if args.banner else "0", loop_name])
                inner = json.loads(r["stdout"].strip().splitlines()[-1])
                r.update({"inner_cpu": inner["cpu"], "inner_wall": inner["wall"],
                          "open_ports": inner["open_ports"]})
                what = "connect + banner read" if args.banner else "connect + close"
                print(f"(b) plain {what} ({loop_name} loop), whole process: {fmt(r)}   "
                      f"[{r['load']}]")
                print(f"    in-process: cpu {inner['cpu']:.2f} s, wall {inner['wall']:.2f} s; "
                      f"{inner['open_ports']} open ports; lab CPU meanwhile "
                      f"{r['lab_cpu']:.2f} s")
        if "nmap" in only and not args.no_nmap and shutil.which("nmap"):
            try:
                measured("nmap", ["nmap", "-sT", "-Pn", "-n", "-T4", "-p", ports, "-iL",
                                      str(targets), "-oX", str(work / "nmap.xml")],
                             timeout=args.nmap_timeout)
                r = results["nmap"][-1]
                opened = (work / "nmap.xml").read_text().count('state="open"')
                print(f"(c) nmap -sT -T4 (connect scan):        {fmt(r)}   [{r['load']}]")
                print(f"    {opened} open ports; lab CPU meanwhile {r['lab_cpu']:.2f} s")
            except subprocess.TimeoutExpired:
                print(f"(c) nmap -sT did not finish within {args.nmap_timeout:.0f} s")
        summary(results)
    finally:
        lab.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
