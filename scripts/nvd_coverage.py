#!/usr/bin/env python3
"""How much of NVD 2017-2024 the shipped data covers, measured on real data.

    .venv/bin/python scripts/nvd_coverage.py [--shared /work/shared/data] [--json]

Two measurements, per CVE year (the year in the CVE id) 2017-2024:

1. **/work/shared/data** (TP-Link, NETGEAR, ASUS — the vendors it has NVD records for): the
   CVE ids other real sources say exist for the vendor — its CVE 5 records (cisagov/
   vulnrichment), the CISA KEV entries naming it, the EPSS/KEV table's rows naming it — and how
   many of them have an NVD record there.
2. **The starter bundle** (every router vendor): NVD records, CVE 5 records and KEV entries of
   router vendors per year, and the share of those KEV CVEs with an NVD record, with a CVE 5
   record, and with either (what the matcher can decide versions from).

No CVE is counted from the matcher; the figures are set arithmetic on CVE ids.
"""

from __future__ import annotations

import argparse
import csv
import json
import lzma
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from routerwatch.identity.vendors import canonical_vendor  # noqa: E402

YEARS = range(2017, 2025)
# Identified vendors whose KEV entries are nearly all enterprise products (ASA, IOS, FortiOS,
# PAN-OS, Junos, Chrome, ...): left out of the router KEV count (the bundle takes only their
# router families); Cisco's RV entries are therefore not counted either.
MOSTLY_ENTERPRISE = {"Cisco", "Juniper", "Fortinet", "Palo Alto Networks", "Arista", "Brocade",
                     "HPE", "Aruba", "Google", "Huawei", "ZTE", "Synology"}
SHARED_VENDORS = {"tp-link": "TP-Link", "netgear": "NETGEAR", "asus": "ASUS"}
_YEAR = re.compile(r"^CVE-(\d{4})-\d+$")


def _year(cve: str) -> int | None:
    m = _YEAR.match(cve)
    return int(m.group(1)) if m else None


def _by_year(ids: set[str]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for cve in ids:
        y = _year(cve)
        if y in YEARS:
            out[y].add(cve)
    return out


def shared_figures(shared: Path) -> dict[str, Any]:
    kev = json.loads((shared / "kev" / "known_exploited_vulnerabilities.json").read_text())
    with (shared / "epss" / "epss_kev_nvd.csv").open(encoding="utf-8") as fh:
        epss_rows = list(csv.DictReader(fh))
    out: dict[str, Any] = {}
    for folder, vendor in SHARED_VENDORS.items():
        nvd = {v["cve"]["id"] for v in json.loads(
            (shared / "nvd" / f"{folder}.json").read_text())["vulnerabilities"]}
        cve5 = {p.stem for p in (shared / "cve5" / folder).rglob("CVE-*.json")}
        kev_ids = {e["cveID"] for e in kev["vulnerabilities"]
                   if canonical_vendor(e["vendorProject"]) == vendor}
        epss_ids = {r["CVE"] for r in epss_rows if canonical_vendor(r["Vendor"] or "") == vendor}
        reference = cve5 | kev_ids | epss_ids
        per_year = {}
        ref_y, nvd_y = _by_year(reference), _by_year(nvd)
        for y in YEARS:
            ref = ref_y.get(y, set())
            per_year[y] = {"known": len(ref), "with_nvd": len(ref & nvd),
                           "nvd_records": len(nvd_y.get(y, set()))}
        total_ref = {c for c in reference if _year(c) in YEARS}
        out[vendor] = {"years": per_year, "known": len(total_ref),
                       "with_nvd": len(total_ref & nvd)}
    return out


def bundle_figures(bundle: Path) -> dict[str, Any]:
    nvd: set[str] = set()
    cve5: set[str] = set()
    kev: list[dict[str, Any]] = []
    with lzma.open(bundle, "rt", encoding="utf-8") as fh:
        next(fh)  # manifest
        for line in fh:
            item = json.loads(line)
            kind, rec = next(iter(item.items()))
            if kind == "nvd":
                nvd.add(rec["id"])
            elif kind == "cve5":
                cve5.add(rec["cveMetadata"]["cveId"])
            elif kind == "kev":
                kev.append(rec)
    from routerwatch.identity.vendors import vendors  # the vendors routerwatch identifies

    router_vendors = {v.display for v in vendors()} - MOSTLY_ENTERPRISE
    kev_router = {e["cveID"] for e in kev
                  if canonical_vendor(str(e.get("vendorProject") or "")) in router_vendors}
    per_year = {}
    k_y, n_y, c_y = _by_year(kev_router), _by_year(nvd), _by_year(cve5)
    for y in YEARS:
        k = k_y.get(y, set())
        per_year[y] = {"nvd_records": len(n_y.get(y, set())),
                       "cve5_records": len(c_y.get(y, set())), "kev_router": len(k),
                       "kev_with_nvd": len(k & nvd), "kev_with_cve5": len(k & cve5),
                       "kev_with_either": len(k & (nvd | cve5))}
    return {"bundle": bundle.name, "years": per_year}


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f}%" if b else "–"


def markdown(shared: dict[str, Any], bundle: dict[str, Any]) -> str:
    lines = ["| CVE year | " + " | ".join(f"{v}: NVD / known" for v in shared) + " |",
             "|---|" + "---|" * len(shared)]
    for y in YEARS:
        cells = [f"{shared[v]['years'][y]['with_nvd']} / {shared[v]['years'][y]['known']}"
                 for v in shared]
        lines.append(f"| {y} | " + " | ".join(cells) + " |")
    lines.append("| 2017–2024 | " + " | ".join(
        f"{s['with_nvd']} / {s['known']} ({_pct(s['with_nvd'], s['known'])})"
        for s in shared.values()) + " |")
    lines += ["", "| CVE year | NVD records | CVE 5 records | KEV (router vendors) | KEV with "
              "NVD | KEV with CVE 5 | KEV with either |", "|---|---|---|---|---|---|---|"]
    tot = defaultdict(int)
    for y in YEARS:
        f = bundle["years"][y]
        for k, v in f.items():
            tot[k] += v
        lines.append(f"| {y} | {f['nvd_records']} | {f['cve5_records']} | {f['kev_router']} | "
                     f"{f['kev_with_nvd']} ({_pct(f['kev_with_nvd'], f['kev_router'])}) | "
                     f"{f['kev_with_cve5']} ({_pct(f['kev_with_cve5'], f['kev_router'])}) | "
                     f"{f['kev_with_either']} ({_pct(f['kev_with_either'], f['kev_router'])}) |")
    lines.append(f"| 2017–2024 | {tot['nvd_records']} | {tot['cve5_records']} | "
                 f"{tot['kev_router']} | {tot['kev_with_nvd']} "
                 f"({_pct(tot['kev_with_nvd'], tot['kev_router'])}) | {tot['kev_with_cve5']} "
                 f"({_pct(tot['kev_with_cve5'], tot['kev_router'])}) | {tot['kev_with_either']} "
                 f"({_pct(tot['kev_with_either'], tot['kev_router'])}) |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.shared / "nvd").is_dir():
        print(f"error: {args.shared}: no nvd/ folder (the shared real data)", file=sys.stderr)
        return 2
    bundle = next((ROOT / "src" / "routerwatch" / "kb" / "data").glob("starter-*.rwkb.xz"))
    s, b = shared_figures(args.shared), bundle_figures(bundle)
    print(json.dumps({"shared": s, "bundle": b}, indent=1) if args.json else markdown(s, b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
