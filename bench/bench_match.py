"""Benchmark of the CVE matcher (routerwatch.match).

    .venv/bin/python bench/bench_match.py [--checks 100000] [--big 300000] [--profile]

1. Loads the real records of /work/shared/data through the KB package (a temporary SQLite KB,
   NVD + CVE 5 + KEV + EPSS imported); falls back to the tests' raw-JSON loader.
2. Builds a realistic mix of identities (vendors/models named by the KB's own CPEs, with and
   without firmware and hardware revision, some unknown models and vendors) and times
   ``Matcher.check`` over it on one core, plus the index build.
3. The same against 300k records made in memory from re-numbered copies of the real ones:
   "spread" copies also get their own product names (each copy of a CVE names other models,
   so a model has as many CVEs as in the real KB, as in a full NVD), "dup" copies keep the
   products (every model has ~850x its real CVEs: a worst case, fewer checks timed).
Figures go to stdout; bench/results/match.md holds the measured ones.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from routerwatch.identity.hardware import split_product
from routerwatch.match import Matcher
from routerwatch.match.cpe import CpeError, parse_cpe, unescape
from routerwatch.models import CveRecord, DeviceIdentity, replace

SHARED = Path("/work/shared/data")
REPO = Path(__file__).resolve().parent.parent
DISPLAY = {"tp-link": "TP-Link", "asus": "ASUS", "netgear": "NETGEAR", "cisco": "Cisco",
           "dlink": "D-Link", "zyxel": "Zyxel", "linksys": "Linksys"}
FW_SAMPLES = {
    "TP-Link": ["1.1.2 Build 20220714 rel.46227", "1.1.4 Build 20230219 rel.73766",
                "3.16.9 Build 150310 Rel.50995n", "0.9.1 3.16 v0001.0 Build 171211 Rel.58800n",
                "1.0.15 Build 20190726 Rel. 44424", "3.13.9 Build 120201 Rel.54965n"],
    "ASUS": ["3.0.0.4.386_51598", "3.0.0.4.386_50460", "3.0.0.4.382_50010", "3.0.0.4.388_24198"],
    "NETGEAR": ["V1.0.4.84_10.0.58", "V1.0.11.116_10.2.100", "V1.0.2.46_1.0.36"],
    "Cisco": ["1.0.03.21", "1.4.2.22"],
}


# --------------------------------------------------------------------------- records


def load_records() -> tuple[list[CveRecord], str]:
    try:
        from routerwatch.kb import open_kb

        with (
            tempfile.TemporaryDirectory(prefix="rw-bench-") as tmp,
            open_kb(f"sqlite:///{Path(tmp) / 'kb.db'}") as kb,
        ):
            kb.import_paths([SHARED / d for d in ("nvd", "cve5", "kev", "epss")])
            records = list(kb.records())
        return records, f"KB package (SQLite, imported from {SHARED})"
    except Exception as exc:  # the KB package missing or refusing the data: raw JSON
        sys.path.insert(0, str(REPO / "tests" / "match"))
        from match_helpers import load_records as raw

        return list(raw()), f"tests' raw-JSON loader ({type(exc).__name__}: {exc})"


def _rename(product: str, k: int) -> str:
    if product.endswith("_firmware"):
        return f"{product[:-9]}q{k}_firmware"
    return f"{product}q{k}"


_CRIT = re.compile(r"^(cpe:2\.3:[aho]:[^:]+:)((?:\\.|[^:\\])+)(:.*)$")


def _spread_config(raw: Any, k: int) -> Any:
    if isinstance(raw, dict):
        out = {}
        for key, value in raw.items():
            if key == "criteria" and isinstance(value, str):
                m = _CRIT.match(value)
                value = f"{m.group(1)}{_rename(m.group(2), k)}{m.group(3)}" if m else value
            out[key] = _spread_config(value, k)
        return out
    if isinstance(raw, list):
        return [_spread_config(v, k) for v in raw]
    return raw


def _spread_cve5(raw: Any, k: int) -> Any:
    out = []
    for entry in raw:
        e = dict(entry)
        if isinstance(e.get("product"), str) and e["product"] not in ("n/a", ""):
            e["product"] = f"{e['product']}Q{k}"
        e["cpes"] = [_spread_config({"criteria": c}, k)["criteria"] for c in e.get("cpes") or ()]
        out.append(e)
    return tuple(out)


def big_kb(records: list[CveRecord], size: int, spread: bool) -> list[CveRecord]:
    out: list[CveRecord] = []
    k = 0
    while len(out) < size:
        for r in records:
            if len(out) >= size:
                break
            cid = f"CVE-{3000 + k // 100}-{(k % 100) * 100000 + len(out) % 100000}"
            if spread and k:
                out.append(replace(r, cve_id=cid,
                                   configurations=tuple(_spread_config(list(r.configurations), k)),
                                   cve5_affected=_spread_cve5(r.cve5_affected, k)))
            else:
                out.append(replace(r, cve_id=cid))
        k += 1
    return out


# --------------------------------------------------------------------------- identities


def _catalog(records: list[CveRecord]) -> dict[str, dict[str, set[str]]]:
    """vendor display -> model text -> versions named for it (from the records' CPEs)."""
    models: dict[str, dict[str, set[str]]] = {}
    for r in records:
        for conf in r.configurations:
            for n in conf.get("nodes", ()):
                for m in n.get("cpeMatch", ()):
                    try:
                        cpe = parse_cpe(m["criteria"])
                    except CpeError:
                        continue
                    display = DISPLAY.get(cpe.vendor)
                    if display is None:
                        continue
                    token, _hw = split_product(cpe.product)
                    model = token.replace("_", " ").upper()
                    vers = models.setdefault(display, {}).setdefault(model, set())
                    if cpe.part != "h" and cpe.version not in ("*", "-"):
                        vers.add(cpe.version_text())
                    for key in ("versionEndExcluding", "versionEndIncluding"):
                        if key in m:
                            vers.add(unescape(m[key]))
    return models


def _perturb(version: str, rnd: random.Random) -> str:
    nums = list(re.finditer(r"\d+", version))
    if not nums:
        return version
    m = rnd.choice(nums)
    n = max(0, int(m.group()) + rnd.randint(-2, 2))
    return version[: m.start()] + str(n) + version[m.end():]


def identity_mix(records: list[CveRecord], n: int, seed: int = 7) -> list[DeviceIdentity]:
    rnd = random.Random(seed)
    catalog = _catalog(records)
    vendors = sorted(catalog)
    models = {v: sorted(catalog[v]) for v in vendors}
    pools: dict[tuple[str, str], list[str]] = {}
    out = []
    for _ in range(n):
        roll = rnd.random()
        if roll < 0.05:  # unknown vendor
            out.append(DeviceIdentity(vendor=rnd.choice(["MikroTik", "Ubiquiti", "Acme"]),
                                      model=f"X{rnd.randint(1, 999)}", firmware="1.0"))
            continue
        vendor = rnd.choice(vendors)
        if roll < 0.15:  # known vendor, unknown model
            out.append(DeviceIdentity(vendor=vendor, model=f"ZZ-{rnd.randint(100, 9999)}"))
            continue
        model = rnd.choice(models[vendor])
        hardware = rnd.choice([None, None, "1", "2", "3", "4", "5", "8", "10", "14"])
        firmware = None
        if rnd.random() < 0.6:
            key = (vendor, model)
            if key not in pools:  # the firmware releases of a model seen in the field
                named = sorted(catalog[vendor][model]) or FW_SAMPLES.get(vendor, ["1.0.0"])
                pools[key] = named + [_perturb(rnd.choice(named), rnd) for _ in range(6)]
            firmware = rnd.choice(pools[key])
        out.append(DeviceIdentity(vendor=vendor, model=model, hardware=hardware,
                                  firmware=firmware))
    return out


# --------------------------------------------------------------------------- timing


def _forget(matcher: Matcher) -> None:
    """Drop the caches the matcher keeps between checks (results, criterion outcomes, device
    views, version comparisons), so the next check is evaluated from scratch. The model-name
    keys stay cached: a KB names a few thousand models, a fleet reuses them all the time."""
    matcher._results.clear()
    matcher._memo.clear()
    matcher._views.clear()
    matcher._versions._memo.clear()


def run(records: list[CveRecord], idents: list[DeviceIdentity], label: str,
        profile: bool = False, cold: bool = False) -> dict[str, float]:
    t0 = time.perf_counter()
    matcher = Matcher(records)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    vendors = sorted({i.vendor for i in idents if i.vendor})
    for v in vendors:
        matcher.prepare(v)
    resolve = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(len(matcher.catalog)):  # compile every record now, not on first use
        matcher.catalog.entry(i)
    compile_all = time.perf_counter() - t0
    prof = cProfile.Profile() if profile else None
    found = affected = 0
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    for ident in idents:
        if cold:
            _forget(matcher)
        fs = matcher.check(ident)
        found += len(fs)
        affected += sum(1 for f in fs if f.status == "affected")
    if prof:
        prof.disable()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    rate = len(idents) / cpu
    distinct = len({(i.vendor, i.model, i.hardware, i.firmware) for i in idents})
    print(f"{label}: {len(records):,} records, index built in {build:.2f} s "
          f"+ {resolve:.2f} s resolving the product names of {len(vendors)} vendors "
          f"+ {compile_all:.2f} s compiling every record; "
          f"{len(idents):,} checks ({distinct:,} distinct identities) in {cpu:.2f} s CPU "
          f"({elapsed:.2f} s wall) = {rate:,.0f} checks/s per core; "
          f"{found / len(idents):.2f} findings/check ({affected / len(idents):.2f} affected)")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    return {"build": build, "resolve": resolve, "compile": compile_all, "rate": rate}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checks", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=300_000)
    ap.add_argument("--dup-checks", type=int, default=1_000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    records, source = load_records()
    print(f"records: {len(records):,} from {source} in {time.perf_counter() - t0:.2f} s")
    idents = identity_mix(records, args.checks)
    run(records, idents, "real KB, identity mix", args.profile)
    run(records, idents, "real KB, cold (caches dropped before every check)", cold=True)

    if args.big <= 0:
        return
    t0 = time.perf_counter()
    spread = big_kb(records, args.big, spread=True)
    print(f"made {len(spread):,} spread copies in {time.perf_counter() - t0:.2f} s")
    big_idents = identity_mix(spread, args.checks)
    run(spread, big_idents, "300k KB, spread copies, identity mix", args.profile)
    run(spread, big_idents[: args.checks // 5], "300k KB, spread copies, cold", cold=True)
    del spread

    dup = big_kb(records, args.big, spread=False)
    run(dup, idents[: args.dup_checks], "300k KB, duplicate copies (worst case)")


if __name__ == "__main__":
    main()
