#!/usr/bin/env python3
"""The CLI figures of issue 18, timed as whole processes, with peak memory, against a peer.

    .venv/bin/python bench/bench_cli.py [--peer /work/main/.venv/bin/routerwatch] [--no-lab]

1. `kb sync` when the source cannot be reached (a closed port on 127.45.6.1, never the
   internet): seconds until the one error line (the issue: "waits a minute in silence").
2. `kb import` of a junk file (200 MiB, text junk at its start): seconds and peak RSS until it
   is refused (the issue: "read whole before it is refused").
3. Ctrl-C during a lab scan (127.45.7.x, one host at a time): seconds from SIGINT to exit, and
   whether the partial report was written (the issue: "exits 130 with nothing written").

Peer: the same commands with another routerwatch (default: the main branch's checkout, i.e.
before this work) when it exists. Run under `flock /work/lab.lock` (the lab) on a quiet
machine if you can; on the shared 2-core VM every figure is an upper bound.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / ".venv" / "bin" / "routerwatch"
sys.path.insert(0, str(ROOT / "src"))


def _timed(cmd: list[str], timeout: float = 180) -> tuple[float, int, int, str]:
    """(seconds, exit code, peak RSS in MiB, stderr) of one process via /usr/bin/time."""
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "RSSKB=%M", *cmd], capture_output=True,
                          text=True, timeout=timeout)
    took = time.perf_counter() - started
    rss = next((int(line[6:]) for line in proc.stderr.splitlines()
                if line.startswith("RSSKB=")), 0)
    err = "\n".join(line for line in proc.stderr.splitlines()
                    if not line.startswith(("RSSKB=", "Command exited with")))
    return took, proc.returncode, rss // 1024, err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.45.6.1", 0))
        port: int = s.getsockname()[1]
    return port


def bench_sync(binary: Path, tmp: Path) -> dict[str, object]:
    db = f"sqlite:///{tmp / f'sync-{binary.parent.parent.parent.name}.db'}"
    url = f"http://127.45.6.1:{_closed_port()}/kev.json"
    took, code, rss, err = _timed([str(binary), "kb", "sync", "--source", "kev", "--url", url,
                                   "--db", db])
    return {"seconds": round(took, 2), "exit": code, "rss_mb": rss,
            "error": err.strip().splitlines()[-1][:160] if err.strip() else ""}


def bench_junk(binary: Path, tmp: Path) -> dict[str, object]:
    junk = tmp / "junk.json"
    if not junk.exists():
        with junk.open("wb") as f:
            f.write(b"this is not vulnerability data, just a large log file\n" * 200_000)
            f.truncate(200 << 20)
    db = f"sqlite:///{tmp / f'junk-{binary.parent.parent.parent.name}.db'}"
    took, code, rss, err = _timed([str(binary), "kb", "import", str(junk), "--db", db])
    return {"seconds": round(took, 2), "exit": code, "rss_mb": rss,
            "error": err.strip().splitlines()[-1][:120] if err.strip() else ""}


def bench_interrupt(binary: Path, tmp: Path, kb: str) -> dict[str, object]:
    from routerwatch.lab import Lab

    out = tmp / f"partial-{binary.parent.parent.parent.name}.json"
    with Lab(base="127.45.7.0", include_hostile=False) as lab:
        addresses = [d.address for d in lab.devices()]
        proc = subprocess.Popen(
            [str(binary), "scan", f"{addresses[0]}-{addresses[-1]}", "--db", kb, "-f", "json",
             "-o", str(out), "--concurrency", "1", "--rate", "40", "--host-timeout", "3"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        time.sleep(10)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.perf_counter() - sent
    hosts = None
    if out.exists():
        hosts = len(json.loads(out.read_text())["hosts"])
    return {"sigint_to_exit_s": round(took, 2), "exit": proc.returncode,
            "report_written": out.exists(), "hosts_in_report": hosts,
            "of_hosts": len(addresses), "said": err.strip().splitlines()[-1][:120]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer", type=Path, default=Path("/work/main/.venv/bin/routerwatch"))
    parser.add_argument("--no-lab", action="store_true", help="skip the interrupt figure")
    args = parser.parse_args()
    binaries = [("this branch", OURS)]
    if args.peer.exists() and args.peer.resolve() != OURS.resolve():
        binaries.append(("peer " + str(args.peer), args.peer))
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with tempfile.TemporaryDirectory(prefix="rw-bench-cli-") as folder:
        tmp = Path(folder)
        kb = f"sqlite:///{tmp / 'kb.db'}"
        subprocess.run([str(OURS), "kb", "import", "--starter", "--db", kb], check=True,
                       capture_output=True)
        for label, binary in binaries:
            print(f"\n-- {label}")
            print("kb sync, source unreachable:", json.dumps(bench_sync(binary, tmp)))
            print("kb import, 200 MiB junk:   ", json.dumps(bench_junk(binary, tmp)))
            if not args.no_lab:
                print("scan, SIGINT after 10 s:   ",
                      json.dumps(bench_interrupt(binary, tmp, kb)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
