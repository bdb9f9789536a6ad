"""Generate a diverse, full-NVD-sized knowledge base for the benchmarks (default 300,000 CVEs).

Nothing is copied: every record is new, but each of its parts is drawn from the real data
(``/work/shared/data`` and ``tests/fixtures``, provenance in their SOURCES files):

* **configuration shapes**: every generated NVD record takes the configuration tree of a real
  record, chosen uniformly among the ~230 real ones (so the real mix holds: ~15 % without
  configurations (Received / Awaiting Analysis), firmware AND hardware pairs, long ORs of
  firmware versions, "running on" platforms, version ranges of each kind), with every CPE's
  vendor and product replaced, and its version strings perturbed (same shape, other digits);
* **vendors**: the ~230 vendors of the real CISA KEV catalog plus ~12,000 company names from
  the IEEE OUI registry (Wireshark ``manuf``), as CPE vendor ids; records per vendor follow a
  Zipf law (a few vendors have thousands of CVEs, most have one or two, as in NVD), and the
  SOHO router vendors get record counts of the order NVD shows for them;
* **products**: each vendor gets a pool of about a third as many products as it has records
  (NVD's ratio), named after real product names (CPE products of the real records and KEV
  product names) with their digits and short letter runs redrawn (``rt-ac66u`` -> ``rt-ac47q``),
  so names keep the real shapes; the router vendors' pools also hold their real products, so
  real models (Archer AX21, R7000, RT-AC68U) have their real CVEs plus generated ones; which
  product a record names follows a Zipf law within the vendor;
* **descriptions and scores**: the template record's, with its product names replaced;
* **CVE JSON 5 records** (3 % of the total, CVE-5-only): real CVE 5 records (CNA + ADP
  affected lists) with vendor and product replaced the same way.

The output folder holds NVD API 2.0 pages of 2,000 records (``nvd/page-NNN.json``), one CVE 5
file per record (``cve5/``), the real KEV catalog and a ``devices.json`` of (vendor, model,
versions) the benchmarks draw device identities from. Import it with
``routerwatch kb import FOLDER`` like any download.

    .venv/bin/python bench/kbgen.py --records 300000 --out /tmp/rw-kb300k [--seed 1]
"""

from __future__ import annotations

import argparse
import bisect
import copy
import itertools
import json
import random
import re
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared/data")
FIXTURES = ROOT / "tests" / "fixtures"
PAGE = 2000
# Router vendors and roughly how many NVD CVEs name each (orders of magnitude as NVD shows
# them in 2025; the rest of the KB is spread over the other vendors by a Zipf law).
ROUTER_VENDORS = {"tp-link": 700, "netgear": 1400, "asus": 600, "d-link": 1300,
                  "linksys": 300, "zyxel": 400, "draytek": 150, "mikrotik": 80,
                  "ubiquiti": 200, "tenda": 900, "totolink": 600, "cisco": 6500}
CVE5_SHARE = 0.03
_DIGITS = re.compile(r"\d+")
_SHORT_ALPHA = re.compile(r"(?<![a-z])[a-z]{1,2}(?=\d)")


def _data_dirs(kind: str) -> list[Path]:
    return [d / kind for d in (SHARED, FIXTURES) if (d / kind).is_dir()]


def real_nvd() -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for folder in _data_dirs("nvd"):
        for path in sorted(folder.glob("*.json")):
            for item in json.loads(path.read_text())["vulnerabilities"]:
                seen.setdefault(item["cve"]["id"], item["cve"])
    return list(seen.values())


def real_cve5() -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for folder in _data_dirs("cve5"):
        for path in sorted(folder.rglob("CVE-*.json")):
            doc = json.loads(path.read_text())
            if doc.get("cveMetadata", {}).get("state") == "PUBLISHED":
                seen.setdefault(doc["cveMetadata"]["cveId"], doc)
    return list(seen.values())


def _cpe_id(text: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    return text[:40]


def real_vendor_names() -> list[str]:
    names: set[str] = set()
    kev = json.loads((SHARED / "kev" / "known_exploited_vulnerabilities.json").read_text())
    names.update(_cpe_id(v["vendorProject"]) for v in kev["vulnerabilities"])
    manuf = SHARED / "oui" / "manuf"
    for line in manuf.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and not line.startswith("#"):
            name = _cpe_id(parts[1])
            if len(name) >= 3 and not name[0].isdigit():
                names.add(name)
    names.difference_update(ROUTER_VENDORS)
    names.discard("")
    return sorted(names)


def real_product_names(records: list[dict[str, Any]]) -> list[str]:
    names: set[str] = set()
    for cve in records:
        for conf in cve.get("configurations", []):
            for node in conf.get("nodes", []):
                for m in node.get("cpeMatch", []):
                    names.add(m["criteria"].split(":")[4].removesuffix("_firmware"))
    kev = json.loads((SHARED / "kev" / "known_exploited_vulnerabilities.json").read_text())
    names.update(_cpe_id(v["product"]) for v in kev["vulnerabilities"])
    return sorted(n for n in names if n and any(c.isdigit() for c in n)) or ["model1"]


class Generator:
    def __init__(self, total: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.templates = real_nvd()
        self.cve5_templates = real_cve5()
        self.product_shapes = real_product_names(self.templates)
        self.real_products: dict[str, list[str]] = {}
        for cve in self.templates:
            for conf in cve.get("configurations", []):
                for node in conf.get("nodes", []):
                    for m in node.get("cpeMatch", []):
                        parts = m["criteria"].split(":")
                        if parts[3] in ROUTER_VENDORS:
                            base = parts[4].removesuffix("_firmware")
                            self.real_products.setdefault(parts[3], [])
                            if base not in self.real_products[parts[3]]:
                                self.real_products[parts[3]].append(base)
        self.total = total
        self.vendor_counts = self._vendor_counts(total)
        self.pools: dict[str, list[str]] = {}
        self.versions: dict[tuple[str, str], set[str]] = {}
        self._serial = itertools.count(1)

    # ------------------------------------------------------------------ distribution

    def _vendor_counts(self, total: int) -> dict[str, int]:
        counts = dict(ROUTER_VENDORS)
        rest = total - sum(counts.values())
        others = real_vendor_names()
        self.rng.shuffle(others)
        weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(others))]
        scale = rest / sum(weights)
        left = rest
        for name, w in zip(others, weights, strict=True):
            n = max(1, round(w * scale)) if left > 0 else 0
            n = min(n, left)
            if n:
                counts[name] = n
                left -= n
        while left > 0:  # rounding remainder: one more each to the first vendors
            for name in others:
                if left == 0:
                    break
                counts[name] = counts.get(name, 0) + 1
                left -= 1
        return counts

    def _mutate(self, name: str) -> str:
        rng = self.rng
        out = _DIGITS.sub(lambda m: str(rng.randint(1, 10 ** len(m.group()) - 1)), name)
        return _SHORT_ALPHA.sub(
            lambda m: "".join(rng.choice("abcdefghjkmnpqrstuvwxz") for _ in m.group()), out)

    def pool(self, vendor: str) -> list[str]:
        pool = self.pools.get(vendor)
        if pool is None:
            size = max(1, self.vendor_counts[vendor] // 3)
            names = list(self.real_products.get(vendor, []))
            seen = set(names)
            attempts = 0
            while len(names) < size and attempts < size * 20:
                attempts += 1
                name = self._mutate(self.rng.choice(self.product_shapes))
                if name not in seen:
                    seen.add(name)
                    names.append(name)
            pool = self.pools[vendor] = names
        return pool

    def _zipf_pick(self, items: list[str]) -> str:
        # P(rank k) ~ 1/k: inverse of the harmonic CDF, approximately
        n = len(items)
        k = int(n ** self.rng.random()) - 1
        return items[min(max(k, 0), n - 1)]

    def _version(self, text: str) -> str:
        if not any(c.isdigit() for c in text):
            return text
        rng = self.rng
        return _DIGITS.sub(lambda m: str(max(0, int(m.group()) + rng.randint(-2, 2)))
                           if len(m.group()) < 6 else m.group(), text)

    # ------------------------------------------------------------------ records

    def _rename_cpes(self, cve: dict[str, Any], vendor: str, product: str) -> dict[str, str]:
        """Replace every CPE's vendor/product: the template's first product becomes
        ``product``, its other products other products of ``vendor`` (other vendors' CPEs,
        e.g. a platform, other vendors' products)."""
        mapping: dict[tuple[str, str], tuple[str, str]] = {}
        first_vendor: str | None = None
        for conf in cve.get("configurations", []):
            for node in conf.get("nodes", []):
                for m in node.get("cpeMatch", []):
                    parts = m["criteria"].split(":")
                    key = (parts[3], parts[4].removesuffix("_firmware"))
                    if key not in mapping:
                        if first_vendor is None:
                            first_vendor = parts[3]
                            mapping[key] = (vendor, product)
                        elif parts[3] == first_vendor:
                            mapping[key] = (vendor, self._zipf_pick(self.pool(vendor)))
                        else:
                            other = self.rng.choice(list(self.vendor_counts))
                            mapping[key] = (other, self._zipf_pick(self.pool(other)))
                    new_vendor, new_base = mapping[key]
                    firmware = parts[4].endswith("_firmware")
                    parts[3] = new_vendor
                    parts[4] = new_base + ("_firmware" if firmware else "")
                    if parts[5] not in ("*", "-"):
                        parts[5] = self._version(parts[5])
                        if firmware or parts[2] != "h":
                            self.versions.setdefault((new_vendor, new_base), set()).add(parts[5])
                    m["criteria"] = ":".join(parts)
                    for bound in ("versionStartIncluding", "versionStartExcluding",
                                  "versionEndIncluding", "versionEndExcluding"):
                        if bound in m:
                            m[bound] = self._version(str(m[bound]))
                            self.versions.setdefault((new_vendor, new_base), set()).add(m[bound])
                    m["matchCriteriaId"] = f"{next(self._serial):08X}-0000-0000-0000-000000000000"
        return {old[1]: new[1] for old, new in mapping.items()}

    @staticmethod
    def _retext(text: str, renames: dict[str, str]) -> str:
        for old, new in renames.items():
            for variant in {old, old.replace("_", " "), old.replace("_", "-")}:
                if len(variant) > 3:
                    text = re.sub(re.escape(variant), new.upper(), text, flags=re.I)
        return text

    def nvd_record(self, number: int, vendor: str) -> dict[str, Any]:
        template = self.rng.choice(self.templates)
        cve = copy.deepcopy(template)
        year = template["id"].split("-")[1]
        cve["id"] = f"CVE-{year}-{100000 + number}"
        product = self._zipf_pick(self.pool(vendor))
        renames = self._rename_cpes(cve, vendor, product)
        if not renames:  # no configurations: the description still names a product
            renames = {"": product}
        for d in cve.get("descriptions", []):
            d["value"] = self._retext(d["value"], {k: v for k, v in renames.items() if k})
            if not cve.get("configurations"):
                d["value"] = f"{vendor} {product.upper()}: {d['value']}"
        cve.pop("cisaExploitAdd", None)
        cve.pop("cisaActionDue", None)
        cve.pop("cisaRequiredAction", None)
        cve.pop("cisaVulnerabilityName", None)
        return cve

    def cve5_record(self, number: int, vendor: str) -> dict[str, Any]:
        doc = copy.deepcopy(self.rng.choice(self.cve5_templates))
        year = doc["cveMetadata"]["cveId"].split("-")[1]
        cve_id = f"CVE-{year}-{100000 + number}"
        doc["cveMetadata"]["cveId"] = cve_id
        product = self._zipf_pick(self.pool(vendor))
        containers = [doc["containers"]["cna"], *doc["containers"].get("adp", [])]
        for container in containers:
            for entry in container.get("affected", []):
                entry["vendor"] = vendor
                entry["product"] = product.upper()
                entry["cpes"] = [
                    ":".join([*c.split(":")[:3], vendor, product, *c.split(":")[5:]])
                    for c in entry.get("cpes", []) if c.count(":") >= 5
                ]
                for v in entry.get("versions", []):
                    if isinstance(v.get("version"), str):
                        v["version"] = self._version(v["version"])
                        self.versions.setdefault((vendor, product), set()).add(v["version"])
        return doc

    # ------------------------------------------------------------------ output

    def write(self, out: Path) -> dict[str, Any]:
        if out.exists():
            shutil.rmtree(out)
        (out / "nvd").mkdir(parents=True)
        (out / "cve5").mkdir()
        shutil.copy(SHARED / "kev" / "known_exploited_vulnerabilities.json", out / "kev.json")
        owners: list[str] = []
        for vendor, n in self.vendor_counts.items():
            owners.extend([vendor] * n)
        self.rng.shuffle(owners)
        cut = int(len(owners) * (1 - CVE5_SHARE))
        page: list[dict[str, Any]] = []
        pages = 0
        for number, vendor in enumerate(owners[:cut]):
            page.append({"cve": self.nvd_record(number, vendor)})
            if len(page) == PAGE:
                pages += 1
                _write_page(out / "nvd" / f"page-{pages:03d}.json", page, cut)
                page = []
        if page:
            pages += 1
            _write_page(out / "nvd" / f"page-{pages:03d}.json", page, cut)
        for number, vendor in enumerate(owners[cut:], start=cut):
            doc = self.cve5_record(number, vendor)
            folder = out / "cve5" / f"{number // 1000:03d}"
            folder.mkdir(exist_ok=True)
            (folder / f"{doc['cveMetadata']['cveId']}.json").write_text(json.dumps(doc))
        devices = [
            {"vendor": v, "model": p, "versions": sorted(self.versions.get((v, p), ()))[:12],
             "router": v in ROUTER_VENDORS}
            for v, pool in self.pools.items() for p in pool
        ]
        (out / "devices.json").write_text(json.dumps(devices))
        summary = {
            "records": len(owners), "nvd": cut, "cve5_only": len(owners) - cut,
            "vendors": len(self.vendor_counts), "products": sum(map(len, self.pools.values())),
            "templates": len(self.templates), "cve5_templates": len(self.cve5_templates),
            "top_vendors": sorted(self.vendor_counts.items(), key=lambda x: -x[1])[:5],
        }
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        return summary


def _write_page(path: Path, items: list[dict[str, Any]], total: int) -> None:
    path.write_text(json.dumps({
        "resultsPerPage": len(items), "startIndex": 0, "totalResults": total,
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-12-03T00:00:00.000",
        "vulnerabilities": items,
    }))


def pick_weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    cum = list(itertools.accumulate(weights))
    return items[bisect.bisect(cum, rng.random() * cum[-1])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    summary = Generator(args.records, args.seed).write(args.out)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
