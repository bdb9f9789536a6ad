"""Scan a lab of emulated hosts with routerwatch and with `nmap -sV -T4`, side by side.

    .venv/bin/python bench/bench_scan.py [--count 254] [--base 127.0.20.0] [--no-nmap]

Prints hosts/s and the identification rate (vendor, model, model+firmware right) of both,
scored against the lab's true identities. Loopback only: the lab listens on 127.0.x.y.
"""

from __future__ import annotations

import argparse
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

from defusedxml import ElementTree
from routerwatch.identity.hardware import model_key
from routerwatch.scan.scanner import DEFAULT_PORTS, ScanOptions, scan
from routerwatch.scan.scope import parse_scope

from routerwatch.fingerprint import Fingerprinter
from routerwatch.lab import Lab
from routerwatch.models import DeviceIdentity


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=254)
    ap.add_argument("--base", default="127.0.20.0")
    ap.add_argument("--no-nmap", action="store_true")
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
        ports = ",".join(str(p) for p in DEFAULT_PORTS)
        with tempfile.TemporaryDirectory() as tmp:
            targets = Path(tmp) / "targets.txt"
            targets.write_text("\n".join(addresses) + "\n")
            xml_out = Path(tmp) / "nmap.xml"
            cmd = [
                "nmap",
                "-sV",
                "-T4",
                "-Pn",
                "-n",
                "-p",
                ports,
                "-iL",
                str(targets),
                "-oX",
                str(xml_out),
            ]
            t0 = time.monotonic()
            subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            nmap_time = time.monotonic() - t0
            nm = score(truth, nmap_identities(xml_out.read_text(), truth))
        print(nm.line("nmap -sV -T4", nmap_time, len(addresses)))
        print(f"speed-up: {nmap_time / rw_time:.1f}x")
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
