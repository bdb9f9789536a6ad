#!/usr/bin/env python3
"""Derive labelled quality cases from outside oracles: the CNA's own version statements in CVE
JSON 5 records (cisagov/vulnrichment) and CISA KEV entries, for every vendor routerwatch
identifies beyond the hand-labelled corpus.

    .venv/bin/python scripts/derive_oracle_cases.py [--mirrors /work/.mirror]

Writes tests/quality/oracle/cve5/ (the selected records, unchanged; CC0) and
tests/quality/corpus_oracle.yaml. Labels come from what the CNA (the vendor or its researcher)
wrote, never from running the matcher:

* a version listed ``affected`` -> a device on exactly that firmware: ``must_affect``;
* ``lessThanOrEqual X`` affected -> firmware X: ``must_affect``; a range start S (not "0") ->
  firmware S: ``must_affect``;
* ``lessThan X`` affected -> firmware X (the fix the CNA names): ``must_not_report``;
* a KEV entry naming one model (vendorProject/product) -> that model, firmware unknown:
  ``may_be_possible`` (KEV says exploited, not which firmware).

Selection is fixed: per vendor the first PER_VENDOR records (by CVE id) of vulnrichment @ the
pinned commit whose CNA entry names the vendor and lists a usable version. Held-out rule (fixed,
documented in docs/matching.md): a case is held out when sha256(case id) mod 5 == 0; the
matcher's authors look only at the failures of the other part.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from build_bundle import VULNRICHMENT_COMMIT, VULNRICHMENT_REPO, git_blobs, git_dir  # noqa: E402

from routerwatch.identity.parse import parse_identity  # noqa: E402
from routerwatch.identity.vendors import canonical_vendor  # noqa: E402
from routerwatch.match.aliases import AliasRules, vendor_key  # noqa: E402
from routerwatch.match.kev import kev_names  # noqa: E402

VENDORS = ("D-Link", "Tenda", "TOTOLINK", "Zyxel", "DrayTek", "Linksys", "Cisco", "MikroTik",
           "Ubiquiti", "ZTE", "Ruijie", "GL.iNet", "Buffalo", "Belkin", "Keenetic", "Mercusys",
           "Huawei", "AVM", "NETGEAR", "TP-Link", "ASUS")
PER_VENDOR = 12
OUT_DIR = ROOT / "tests" / "quality" / "oracle" / "cve5"
CORPUS = ROOT / "tests" / "quality" / "corpus_oracle.yaml"
KEV = ROOT / "tests" / "fixtures" / "kev" / "known_exploited_vulnerabilities.json"
_UNKNOWN = {"", "n/a", "na", "-", "*", "unspecified", "unknown", "none", "all", "0"}


def held_out(case_id: str) -> bool:
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 5 == 0


def _device(vendor: str, product: str) -> tuple[str, str | None] | None:
    """(model, hardware revision) the CNA's product names: "RT-AX56U V2" is an RT-AX56U of
    hardware revision 2, and the device of the case must say so (a device of unknown revision
    is only *possibly* affected by a record that names one)."""
    ident = parse_identity(vendor=vendor, model=product.split(",")[0].strip())
    if ident.model is None or len(ident.model) > 40 or not any(c.isdigit() for c in ident.model):
        return None
    return ident.model, ident.hardware


def _model(vendor: str, product: str) -> str | None:
    found = _device(vendor, product)
    return found[0] if found else None


# "All versions up to X", "X and earlier", "X or earlier": the CNA names X as affected
_UP_TO = re.compile(
    r"^\s*(?:(?:firmware\s+)?(?:all\s+)?(?:versions?\s+)?up\s+to\s+(?:and\s+including\s+)?"
    r"(?P<a>\S.*?)|(?P<b>\S.*?),?\s+(?:and|or)\s+(?:earlier|prior|before|older|lower)"
    r"(?:\s+versions?)?)\s*$", re.I)


def _cases_of(doc: dict[str, Any], vendor: str) -> list[dict[str, Any]]:
    cve = doc["cveMetadata"]["cveId"]
    out = []
    for entry in doc["containers"]["cna"].get("affected") or ():
        if canonical_vendor(str(entry.get("vendor") or "")) != vendor:
            continue
        found = _device(vendor, str(entry.get("product") or ""))
        if found is None:
            continue
        model, hardware = found
        for v in entry.get("versions") or ():
            if not isinstance(v, dict) or str(v.get("status", "affected")) != "affected":
                continue
            ver = str(v.get("version") or "").strip()
            lt, lte = v.get("lessThan"), v.get("lessThanOrEqual")
            if lt or lte:
                end = str(lt or lte).strip()
                if end in _UNKNOWN or end.endswith("*") or (lt and end == ver):
                    continue  # no bound, or an empty range (version == lessThan): no oracle
                if lte:
                    out.append((model, hardware, end, "must_affect", f"lessThanOrEqual {end}"))
                else:
                    out.append((model, hardware, end, "must_not_report",
                                f"lessThan {end} (the fix)"))
                if ver.lower() not in _UNKNOWN and not _UP_TO.match(ver) and not ver.lower(
                        ).startswith(("prior", "before", "all", "<")):
                    out.append((model, hardware, ver, "must_affect", f"range start {ver}"))
            elif _UP_TO.match(ver):
                m = _UP_TO.match(ver)
                assert m is not None
                end = (m.group("a") or m.group("b")).strip()
                if any(c.isdigit() for c in end):
                    out.append((model, hardware, end, "must_affect", f"range end of {ver!r}"))
            elif " through " in ver.lower():
                a, _b = ver.lower().split(" through ", 1)
                for end in (ver[:len(a)].strip(), ver[len(a) + 9:].strip()):
                    end = end.removeprefix("firmware ").removeprefix("versions ").strip()
                    end = end.removeprefix("version ").strip()
                    if end and any(c.isdigit() for c in end):
                        out.append((model, hardware, end, "must_affect", f"range end of {ver!r}"))
            elif (ver.lower() not in _UNKNOWN and len(ver.split()) <= 4
                  and any(c.isdigit() for c in ver)
                  and not ver.lower().startswith(("prior", "before", "all", "<"))):
                out.append((model, hardware, ver, "must_affect", f"listed affected {ver!r}"))
    cases = []
    for model, hardware, fw, label, why in out:
        key = hashlib.sha256(f"{cve}|{model}|{fw}".encode()).hexdigest()[:8]
        cid = f"oracle-{vendor.lower().replace('.', '').replace(' ', '-')}-{cve.lower()}-{key}"
        device = {"vendor": vendor, "model": model, "firmware": fw}
        if hardware:
            device["hardware"] = hardware
        cases.append({"id": cid, "device": device,
                      label: [cve], "note": f"CNA of {cve}: {why}",
                      "held_out": held_out(cid)})
    return cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--from-copies", action="store_true",
                    help="re-derive the labels from the records already selected and copied "
                         "to tests/quality/oracle/cve5/ (same selection, no mirror needed)")
    args = ap.parse_args()
    picked: dict[str, list[tuple[str, bytes, list[dict[str, Any]]]]] = {v: [] for v in VENDORS}
    if args.from_copies:
        blobs: Iterable[tuple[str, bytes]] = sorted(
            (str(p.relative_to(OUT_DIR)), p.read_bytes()) for p in OUT_DIR.rglob("CVE-*.json"))
    else:
        blobs = git_blobs(git_dir(args.mirrors, VULNRICHMENT_REPO), VULNRICHMENT_COMMIT)
    for path, data in blobs:
        if not path.endswith(".json") or "/CVE-" not in path:
            continue
        doc = json.loads(data)
        if doc.get("cveMetadata", {}).get("state") != "PUBLISHED":
            continue
        vendors = {canonical_vendor(str(a.get("vendor") or ""))
                   for a in doc["containers"]["cna"].get("affected") or ()}
        for vendor in VENDORS:
            if vendor in vendors and len(picked[vendor]) < PER_VENDOR:
                cases = _cases_of(doc, vendor)
                if cases:
                    picked[vendor].append((path, data, cases))
    if OUT_DIR.exists() and not args.from_copies:
        shutil.rmtree(OUT_DIR)
    cases: list[dict[str, Any]] = []
    seen: set[str] = set()
    for vendor in VENDORS:
        for path, data, found in picked[vendor]:
            target = OUT_DIR / path
            if not args.from_copies:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            for c in found:
                if c["id"] not in seen:
                    seen.add(c["id"])
                    cases.append(c)
    rules = AliasRules.load()
    kev = json.loads(KEV.read_text())["vulnerabilities"]
    for item in kev:
        vendor = canonical_vendor(item["vendorProject"])
        if vendor not in VENDORS:
            continue
        vk = vendor_key(vendor)
        assert vk is not None
        models = [n for n in kev_names(rules, vk, item["product"]) if n.kind == "model"]
        if len(models) != 1:
            continue
        model = _model(vendor, models[0].text)
        if model is None:
            continue
        cid = f"oracle-kev-{item['cveID'].lower()}"
        cases.append({"id": cid, "device": {"vendor": vendor, "model": model, "firmware": None},
                      "may_be_possible": [item["cveID"]],
                      "note": f"KEV {item['cveID']}: {item['vendorProject']} {item['product']}",
                      "held_out": held_out(cid)})
    header = (
        "# Oracle-derived quality cases (generated by scripts/derive_oracle_cases.py; do not edit\n"
        "# by hand). Labels are the CNA's own statements in CVE 5 records of\n"
        f"# {VULNRICHMENT_REPO} @ {VULNRICHMENT_COMMIT} (records copied to\n"
        "# tests/quality/oracle/cve5/, CC0) and CISA KEV entries (tests/fixtures/kev). held_out:\n"
        "# sha256(id) mod 5 == 0, fixed; the matcher is not tuned on those.\n")
    CORPUS.write_text(header + yaml.safe_dump({"version": 1, "cases": cases}, sort_keys=False,
                                              allow_unicode=True, width=100))
    counts = {v: sum(1 for c in cases if c["device"]["vendor"] == v) for v in VENDORS}
    print(f"{len(cases)} cases ({sum(c['held_out'] for c in cases)} held out): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
