#!/usr/bin/env python3
"""Build the starter knowledge-base bundle shipped inside the package, from pinned sources.

    .venv/bin/python scripts/build_bundle.py [--mirrors /work/.mirror] [--shared /work/shared/data]
                                             [--date 2026-12-03] [--out src/routerwatch/kb/data]

Sources (each pinned to one commit; see docs/kb.md "The starter bundle"):

* NVD CVE API 2.0 records: interlok-tooling/nvd-cves-mirror, branch nvd-cache @ NVD_COMMIT,
  ``nvd_api_cache/nvdcve-<year>.json.gz`` for 2002-2016 and ``nvdcve-modified.json.gz`` (the
  2017-2024 year files are 4 MiB or more and not in the snapshot this project can read), plus
  the per-vendor NVD files of the shared data set (``nvd/<vendor>.json``: hand-picked 2017+
  records read one by one from fkie-cad/nvd-json-data-feeds; commits in their provenance TSV).
* CVE JSON 5 records (CNA + CISA ADP): cisagov/vulnrichment @ VULNRICHMENT_COMMIT, every record.
* CISA KEV: the whole catalog (cisagov/kev-data @ eacf03ec, in the shared data set).
* EPSS: score + percentile of the KEV CVEs (jgamblin/KEV_EPSS @ cd6f963, shared data set);
  a full EPSS file was not reachable (every copy found is 4 MiB or more).

A record goes in when its CPEs or CVE 5 ``affected`` entries name a router vendor routerwatch
identifies (identity/data/vendors.yaml). For vendors whose CVEs are mostly about other
products (Cisco, Huawei, ZTE, Google, HPE, Fortinet, ...: every vendor not in ``SOHO``) only
products of the vendor's router model families count (Cisco rv320_firmware yes, IOS no). The
mirrors are git directories as ``fetch`` brings them (``<mirrors>/<owner>+<name>/repo``),
read with ``git cat-file`` at the pinned commit, so the output depends only on the pins.
Records are imported into a temporary SQLite KB and exported as ``starter-<date>.rwkb.xz``
(older starter bundles there are removed); per-vendor counts are printed and written to
``starter-coverage.json`` beside it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from routerwatch.identity.vendors import canonical_vendor, model_family, vendors  # noqa: E402
from routerwatch.kb.bundle import export_bundle  # noqa: E402
from routerwatch.kb.store import KnowledgeBase  # noqa: E402

OUT = ROOT / "src" / "routerwatch" / "kb" / "data"
NVD_REPO = "interlok-tooling/nvd-cves-mirror"
NVD_COMMIT = "adf78b3a17e2d527d5be17b55569517d9a694018"
NVD_FEEDS = [f"nvd_api_cache/nvdcve-{y}.json.gz" for y in range(2002, 2017)] + [
    "nvd_api_cache/nvdcve-modified.json.gz"]
VULNRICHMENT_REPO = "cisagov/vulnrichment"
VULNRICHMENT_COMMIT = "b0ed758328f47f66438cb04396547b293a18511d"
SHARED_NVD = ("tp-link", "netgear", "asus")
# SOHO vendors: every record naming them goes in. Any other vendor of the registry (Cisco,
# Huawei, ZTE, Google, HPE, Fortinet, ...) makes mostly other products: only records naming
# one of its router model families (vendors.yaml ``models``) count.
SOHO = frozenset({
    "TP-Link", "NETGEAR", "ASUS", "D-Link", "Zyxel", "Linksys", "DrayTek", "MikroTik",
    "Ubiquiti", "Tenda", "TOTOLINK", "Belkin", "Buffalo", "AVM", "GL.iNet", "Keenetic",
    "Teltonika", "Mercusys", "Sagemcom", "Technicolor", "ARRIS", "Actiontec", "eero",
    "OpenWrt", "DD-WRT", "Tomato",
})
MAX_BYTES = 4 * 1024 * 1024


class SourceError(Exception):
    pass


def git_dir(mirrors: Path, repo: str) -> Path:
    path = mirrors / repo.replace("/", "+") / "repo"
    if not path.is_dir():
        raise SourceError(f"{repo}: no mirror at {path} (bring it with the fetch tool)")
    return path


def git_blobs(gd: Path, commit: str, paths: Iterable[str] | None = None
              ) -> Iterator[tuple[str, bytes]]:
    """(path, content) of the files at ``commit`` (all of them, or ``paths``)."""
    listing = subprocess.run(["git", "--git-dir", str(gd), "ls-tree", "-r", commit],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    wanted = set(paths) if paths is not None else None
    items = []
    for line in listing:
        meta, path = line.split("\t", 1)
        if wanted is None or path in wanted:
            items.append((meta.split()[2], path))
    if wanted is not None and len(items) != len(wanted):
        found = {p for _, p in items}
        raise SourceError(f"{gd}: missing at {commit[:8]}: {sorted(wanted - found)}")
    proc = subprocess.Popen(["git", "--git-dir", str(gd), "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:
        for sha, _ in items:
            stdin.write(sha.encode() + b"\n")
        stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    for _sha, path in items:
        header = stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            raise SourceError(f"{gd}: blob of {path} missing (a file of 4 MiB or more?)")
        data = stdout.read(int(header[2]))
        stdout.read(1)
        yield path, data
    proc.wait()


def _router_vendor(text: str | None, product: str | None) -> str | None:
    """The display name when (vendor, product) is a router vendor's product worth keeping."""
    name = canonical_vendor(text or "")
    if name is None:
        return None
    if name not in SOHO:
        model = (product or "").lower().replace("_firmware", "").replace("_", " ").strip()
        if not model or model_family(name, model) is None:
            return None
    return name


def nvd_vendors(cve: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for conf in cve.get("configurations") or ():
        stack = list(conf.get("nodes") or ())
        while stack:
            node = stack.pop()
            stack.extend(node.get("children") or ())
            for m in node.get("cpeMatch") or ():
                parts = str(m.get("criteria", "")).split(":")
                if len(parts) > 4:
                    name = _router_vendor(parts[3], parts[4])
                    if name:
                        out.add(name)
    return out


def cve5_vendors(doc: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    containers = doc.get("containers") or {}
    for c in [containers.get("cna") or {}, *(containers.get("adp") or [])]:
        for a in c.get("affected") or ():
            if not isinstance(a, dict):
                continue
            name = _router_vendor(a.get("vendor"), a.get("product"))
            if name:
                out.add(name)
            for cpe in a.get("cpes") or ():
                parts = str(cpe).split(":")
                if len(parts) > 4:
                    name = _router_vendor(parts[3], parts[4])
                    if name:
                        out.add(name)
    return out


def collect(mirrors: Path, shared: Path, work: Path) -> tuple[list[Path], dict[str, Counter[str]]]:
    """Write the selected records into ``work``; (paths to import, per-vendor counts)."""
    counts: dict[str, Counter[str]] = {"nvd": Counter(), "cve5": Counter()}
    paths: list[Path] = []
    seen_nvd: dict[str, dict[str, Any]] = {}
    for path, data in git_blobs(git_dir(mirrors, NVD_REPO), NVD_COMMIT, NVD_FEEDS):
        for item in json.loads(gzip.decompress(data))["vulnerabilities"]:
            if nvd_vendors(item["cve"]):
                old = seen_nvd.get(item["cve"]["id"])
                if old is None or old["cve"]["lastModified"] <= item["cve"]["lastModified"]:
                    seen_nvd[item["cve"]["id"]] = item
        print(f"  {NVD_REPO}:{path}: {len(seen_nvd)} router records so far", file=sys.stderr)
    for vendor in SHARED_NVD:
        for item in json.loads((shared / "nvd" / f"{vendor}.json").read_text())["vulnerabilities"]:
            old = seen_nvd.get(item["cve"]["id"])
            if old is None or old["cve"]["lastModified"] <= item["cve"]["lastModified"]:
                seen_nvd[item["cve"]["id"]] = item
    for item in seen_nvd.values():
        for name in nvd_vendors(item["cve"]):
            counts["nvd"][name] += 1
    nvd_doc = work / "nvd.json"
    nvd_doc.write_text(json.dumps({"format": "NVD_CVE", "version": "2.0",
                                   "totalResults": len(seen_nvd),
                                   "vulnerabilities": [seen_nvd[k] for k in sorted(seen_nvd)]}))
    paths.append(nvd_doc)
    cve5_dir = work / "cve5"
    cve5_dir.mkdir()
    n = 0
    for path, data in git_blobs(git_dir(mirrors, VULNRICHMENT_REPO), VULNRICHMENT_COMMIT):
        if not path.endswith(".json") or "/CVE-" not in path:
            continue
        doc = json.loads(data)
        names = cve5_vendors(doc)
        if names:
            (cve5_dir / Path(path).name).write_bytes(data)
            n += 1
            for name in names:
                counts["cve5"][name] += 1
    print(f"  {VULNRICHMENT_REPO}: {n} router records", file=sys.stderr)
    paths.append(cve5_dir)
    paths += [shared / "kev" / "known_exploited_vulnerabilities.json",
              shared / "epss" / "epss_kev_nvd.csv"]
    return paths, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--shared", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--date", default=datetime.now(UTC).strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    missing = [str(p) for p in (args.shared / "kev", args.shared / "epss",
                                *(args.shared / "nvd" / f"{v}.json" for v in SHARED_NVD))
               if not p.exists()]
    if missing:
        print(f"missing input: {', '.join(missing)}", file=sys.stderr)
        return 2
    created = datetime.fromisoformat(args.date)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            paths, counts = collect(args.mirrors, args.shared, Path(tmp))
        except (SourceError, subprocess.CalledProcessError) as exc:
            print(f"cannot read a source: {exc}", file=sys.stderr)
            return 2
        kb = KnowledgeBase(f"sqlite:///{Path(tmp) / 'kb.db'}")
        result = kb.import_paths(paths)
        print(result.summary())
        args.out.mkdir(parents=True, exist_ok=True)
        target = args.out / f"starter-{args.date}.rwkb.xz"
        manifest = export_bundle(kb.engine, target, created=created, preset=9)
        kb.close()
    for old in args.out.glob("starter-*.rwkb.xz"):
        if old != target:
            old.unlink()
    coverage = {
        "bundle": target.name,
        "data_date": manifest["data_date"],
        "sources": {"nvd": f"{NVD_REPO}@{NVD_COMMIT} (2002-2016 + modified) and shared "
                           "nvd/{tp-link,netgear,asus}.json",
                    "cve5": f"{VULNRICHMENT_REPO}@{VULNRICHMENT_COMMIT}"},
        "vendors": {v.display: {"nvd": counts["nvd"].get(v.display, 0),
                                "cve5": counts["cve5"].get(v.display, 0)} for v in vendors()},
    }
    (args.out / "starter-coverage.json").write_text(json.dumps(coverage, indent=1) + "\n")
    size = target.stat().st_size
    print(f"wrote {target} ({size / 1024:.0f} KiB): {manifest['counts']}, "
          f"newest data {manifest['data_date']}")
    for name, c in coverage["vendors"].items():
        print(f"  {name:12} NVD {c['nvd']:5}  CVE 5 {c['cve5']:5}")
    if size > MAX_BYTES:
        print(f"warning: bundle is larger than {MAX_BYTES // 1024} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
