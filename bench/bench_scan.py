"""Scan a lab of emulated hosts with routerwatch and with `nmap -sV -T4`, side by side.

    .venv/bin/python bench/bench_scan.py [--count 254] [--base 127.0.20.0] [--no-nmap]
                                         [--nmap-hosts 27] [--nmap-timeout 900]

Scans the whole lab with routerwatch (hosts/s, identification rate: vendor, model,
model+firmware right, scored against the lab's true identities), then scans the same subset
(--nmap-hosts, default one host of each non-hostile lab profile) with both routerwatch and
nmap and prints them side by side. Loopback only: the lab listens on 127.0.x.y.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from routerwatch.fingerprint import Fingerprinter
from routerwatch.identity.hardware import model_key
from routerwatch.lab import Lab
from routerwatch.models import DeviceIdentity
from routerwatch.scan.scanner import DEFAULT_PORTS, ScanOptions, scan
from routerwatch.scan.scope import parse_scope


@dataclass
class Score:
    hosts: int = 0
    vendor: int = 0
    model: int = 0
    model_firmware: int = 0

    def line(self, name: str, seconds: float, total_hosts: int) -> str:
        rate = total_hosts / seconds if seconds else 0.0
        pct = (lambda n: f"{100 * n / self.hosts:5.1f}%") if self.hosts else (lambda n: "  n/a")
        return (
            f"{name:<12} {seconds:8.2f} s {rate:9.2f} hosts/s   vendor {pct(self.vendor)}   "
            f"model {pct(self.model)}   model+firmware {pct(self.model_firmware)}"
        )


def same_model(a: str | None, b: str | None) -> bool:
    return bool(a and b and model_key(a) == model_key(b))


def score(truth: dict[str, DeviceIdentity], seen: dict[str, DeviceIdentity]) -> Score:
    s = Score(hosts=len(truth))
    for address, true in truth.items():
        got = seen.get(address)
        if got is None:
            continue
        if got.vendor and true.vendor and got.vendor.lower() == true.vendor.lower():
            s.vendor += 1
        if same_model(got.model, true.model):
            s.model += 1
            if got.firmware and true.firmware and got.firmware == true.firmware:
                s.model_firmware += 1
    return s


def nmap_identities(xml_text: str, truth: dict[str, DeviceIdentity]) -> dict[str, DeviceIdentity]:
    """Read nmap's service detection: credit a model/firmware when nmap's text names it."""
    out: dict[str, DeviceIdentity] = {}
    root = ElementTree.fromstring(xml_text)
    for host in root.iter("host"):
        addr_el = host.find("address")
        if addr_el is None:
            continue
        address = addr_el.get("addr", "")
        texts = []
        for svc in host.iter("service"):
            texts.extend(
                svc.get(k, "")
                for k in ("product", "version", "extrainfo", "devicetype", "hostname")
            )
            texts.extend(cpe.text or "" for cpe in svc.iter("cpe"))
        blob = " ".join(texts).lower()
        true = truth.get(address)
        if true is None:
            continue
        vendor = true.vendor if true.vendor and true.vendor.lower() in blob else None
        key_blob = model_key(blob)
        model = true.model if true.model and model_key(true.model) in key_blob else None
        firmware = true.firmware if true.firmware and true.firmware.lower() in blob else None
        out[address] = DeviceIdentity(vendor=vendor, model=model, firmware=firmware)
    return out


def run_nmap(
    hosts: list[str], truth: dict[str, DeviceIdentity], limit: float
) -> tuple[float, dict[str, DeviceIdentity] | None]:
    ports = ",".join(str(p) for p in DEFAULT_PORTS)
    with tempfile.TemporaryDirectory() as tmp:
        targets = Path(tmp) / "targets.txt"
        targets.write_text("\n".join(hosts) + "\n")
        xml_out = Path(tmp) / "nmap.xml"
        cmd = ["nmap", "-sV", "-T4", "-Pn", "-n", "-p", ports, "-iL", str(targets)]
        cmd += ["-oX", str(xml_out)]
        t0 = time.monotonic()
        try:
            subprocess.run(cmd, check=False, capture_output=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return time.monotonic() - t0, None
        took = time.monotonic() - t0
        return took, nmap_identities(xml_out.read_text(), truth)


def run_routerwatch(addresses: list[str], truth: dict[str, DeviceIdentity]) -> dict[str, Any]:
    """``routerwatch scan ADDRESSES -f json`` as a whole process (like nmap above), after one
    untimed warm-up run (starter KB import, rule cache): wall, CPU, peak RSS, identities."""
    rw = str(Path(sys.executable).parent / "routerwatch")
    cmd = [rw, "scan", *addresses, "-f", "json"]
    subprocess.run(cmd, capture_output=True, text=True, check=False)
    marker = "RWTIME "
    done = subprocess.run(["/usr/bin/time", "-f", marker + "%e %U %S %M", *cmd],
                          capture_output=True, text=True, check=False)
    line = next(x for x in done.stderr.splitlines() if x.startswith(marker))
    wall, user, system, rss = line[len(marker):].split()
    seen: dict[str, DeviceIdentity] = {}
    for host in json.loads(done.stdout).get("hosts", []):
        ident = host.get("identity") or {}
        seen[host.get("address")] = DeviceIdentity(
            vendor=ident.get("vendor"), model=ident.get("model"),
            hardware=ident.get("hardware"), firmware=ident.get("firmware"))
    return {"wall": float(wall), "cpu": float(user) + float(system), "rss_mb": int(rss) / 1024,
            "seen": seen}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=254)
    ap.add_argument("--base", default="127.0.20.0")
    ap.add_argument("--no-nmap", action="store_true")
    ap.add_argument(
        "--nmap-hosts", type=int, default=27, help="hosts both tools scan for the comparison"
    )
    ap.add_argument(
        "--nmap-timeout", type=float, default=900.0, help="seconds before nmap is killed"
    )
    args = ap.parse_args()

    lab = Lab(base=args.base, count=args.count)
    t0 = time.monotonic()
    lab.start()
    print(f"lab: {args.count} hosts listening after {time.monotonic() - t0:.1f} s")
    try:
        devices = lab.devices()
        truth = {d.address: d.identity for d in devices if d.identity is not None}
        addresses = [d.address for d in devices]
        scope = parse_scope(addresses)
        fp = Fingerprinter()
        t0 = time.monotonic()
        observations = scan(scope, ScanOptions())
        seen = {o.address: fp.identify(o) for o in observations}
        rw_time = time.monotonic() - t0
        rw = score(truth, seen)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"python {sys.version.split()[0]}"
        )
        print(f"hosts: {len(addresses)} ({len(truth)} with a true identity, rest hostile)")
        print(rw.line("routerwatch", rw_time, len(addresses)) + f"   peak RSS {peak:.0f} MiB")
        if args.no_nmap or not shutil.which("nmap"):
            print("nmap: skipped (not installed or --no-nmap)")
            return
        # nmap -sV spends minutes per host on the lab's tarpits and unknown ports (a full
        # 254-host run did not finish in 25 min, 27 hosts with the hostile ones not in 15 min),
        # so both tools also scan the same subset: the routers and the decoy among the first
        # --nmap-hosts hosts (one of each lab profile), without the hostile hosts.
        first = devices[: args.nmap_hosts or len(devices)]
        subset = [d.address for d in first if not d.hostile]
        sub_truth = {a: truth[a] for a in subset if a in truth}
        t0 = time.monotonic()
        sub_obs = scan(parse_scope(subset), ScanOptions())
        sub_seen = {o.address: fp.identify(o) for o in sub_obs}
        rw_sub_time = time.monotonic() - t0
        nm_time, nm_seen = run_nmap(subset, sub_truth, args.nmap_timeout)
        print(f"same {len(subset)} hosts for both ({len(sub_truth)} with a true identity):")
        print(score(sub_truth, sub_seen).line("routerwatch", rw_sub_time, len(subset)))
        if nm_seen is None:
            print(f"nmap -sV -T4 did not finish within {args.nmap_timeout:.0f} s (killed)")
            return
        print(score(sub_truth, nm_seen).line("nmap -sV -T4", nm_time, len(subset)))
        print(f"speed-up on the same hosts (routerwatch in-process, rules loaded): "
              f"{nm_time / rw_sub_time:.1f}x")
        whole = run_routerwatch(subset, sub_truth)
        print(score(sub_truth, whole["seen"]).line("routerwatch scan (process)", whole["wall"],
                                                   len(subset))
              + f"   cpu {whole['cpu']:.2f} s  peak RSS {whole['rss_mb']:.0f} MiB")
        print(f"speed-up on the same hosts, whole process to whole process: "
              f"{nm_time / whole['wall']:.1f}x")
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
