"""Matcher test helpers: CveRecords straight from the raw fixture JSON (no KB involved).

Imported by the test modules of tests/match (a unique module name: pytest puts this folder on
sys.path)."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from routerwatch.match import Matcher
from routerwatch.models import CveRecord, DeviceIdentity, KevEntry

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _cvss(metrics: dict[str, Any]) -> float | None:
    for key in ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"):
        for m in metrics.get(key, ()):
            return float(m["cvssData"]["baseScore"])
    return None


def _cve5_affected(doc: dict[str, Any]) -> tuple[Any, ...]:
    containers = doc["containers"]
    out = list(containers["cna"].get("affected", []))
    for adp in containers.get("adp", []):
        out += adp.get("affected", [])
    return tuple(out)


@lru_cache(maxsize=1)
def load_records() -> tuple[CveRecord, ...]:
    """Every NVD fixture record (+ its CVE 5 affected data) and every CVE-5-only record."""
    kev = {
        v["cveID"]: KevEntry(cve_id=v["cveID"], date_added=v["dateAdded"])
        for v in json.loads((FIXTURES / "kev/known_exploited_vulnerabilities.json").read_text())[
            "vulnerabilities"
        ]
    }
    with (FIXTURES / "epss/epss_kev_nvd.csv").open(encoding="utf-8") as fh:
        epss = {row["CVE"]: float(row["EPSS"]) for row in csv.DictReader(fh)}
    cve5 = {}
    cve5_text = {}
    for path in sorted((FIXTURES / "cve5").rglob("CVE-*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        cve5[doc["cveMetadata"]["cveId"]] = _cve5_affected(doc)
        cve5_text[doc["cveMetadata"]["cveId"]] = next(
            (d["value"] for d in doc["containers"]["cna"].get("descriptions", [])
             if d.get("lang", "").startswith("en")), "")
    records: dict[str, CveRecord] = {}
    for path in sorted((FIXTURES / "nvd").glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8"))["vulnerabilities"]:
            cve = item["cve"]
            cid = cve["id"]
            records[cid] = CveRecord(
                cve_id=cid,
                vuln_status=cve.get("vulnStatus"),
                description=next(
                    (d["value"] for d in cve.get("descriptions", []) if d["lang"] == "en"), ""
                ),
                cvss_score=_cvss(cve.get("metrics", {})),
                configurations=tuple(cve.get("configurations", [])),
                cve5_affected=cve5.get(cid, ()),
                kev=kev.get(cid),
                nvd_kev_date=cve.get("cisaExploitAdd"),
                epss=epss.get(cid),
            )
    for cid, affected in cve5.items():
        if cid not in records:
            records[cid] = CveRecord(
                cve_id=cid, cve5_affected=affected, kev=kev.get(cid), epss=epss.get(cid),
                description=cve5_text.get(cid, ""),
            )
    return tuple(records.values())


def record(cve_id: str) -> CveRecord:
    return next(r for r in load_records() if r.cve_id == cve_id)


@lru_cache(maxsize=1)
def shared_matcher() -> Matcher:
    """One Matcher over every fixture record (built once per session)."""
    return Matcher(load_records())


def device(vendor: str, model: str, hardware: str | None = None,
           firmware: str | None = None) -> DeviceIdentity:
    return DeviceIdentity(vendor=vendor, model=model, hardware=hardware, firmware=firmware)


def status_of(m: Matcher, ident: DeviceIdentity, cve: str) -> str:
    """The status the matcher gives one CVE ("not_affected" when it is not listed at all)."""
    for f in m.check(ident, include_unaffected=True):
        if f.cve == cve:
            return f.status
    return "not_affected"


# --------------------------------------------------------------------------- synthetic configs
# Shaped exactly like NVD API 2.0 configurations, for the cases the fixtures do not cover.


def cpe_match(part: str, vendor: str, product: str, version: str = "*", *,
              vulnerable: bool = True, update: str = "*", **bounds: str) -> dict[str, Any]:
    m: dict[str, Any] = {
        "vulnerable": vulnerable,
        "criteria": f"cpe:2.3:{part}:{vendor}:{product}:{version}:{update}:*:*:*:*:*:*",
    }
    m.update(bounds)
    return m


def fw(product: str, version: str = "*", *, vendor: str = "tp-link", **bounds: str
       ) -> dict[str, Any]:
    """A vulnerable firmware criterion (o:)."""
    return cpe_match("o", vendor, product, version, **bounds)


def hw(product: str, version: str = "-", *, vendor: str = "tp-link",
       vulnerable: bool = False) -> dict[str, Any]:
    """A "running on" hardware criterion (h:, vulnerable false unless told)."""
    return cpe_match("h", vendor, product, version, vulnerable=vulnerable)


def node(*matches: dict[str, Any], op: str = "OR", negate: bool = False,
         children: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    n: dict[str, Any] = {"operator": op, "negate": negate, "cpeMatch": list(matches)}
    if children:
        n["children"] = list(children)
    return n


def conf(*nodes: dict[str, Any], op: str | None = "AND", negate: bool = False
         ) -> dict[str, Any]:
    c: dict[str, Any] = {"nodes": list(nodes)}
    if op is not None:
        c["operator"] = op
    if negate:
        c["negate"] = True
    return c


def rec(*configs: dict[str, Any], cve: str = "CVE-2099-0001", **kw: Any) -> CveRecord:
    return CveRecord(cve_id=cve, configurations=tuple(configs), **kw)


def judge(records: list[CveRecord] | CveRecord, ident: DeviceIdentity, cve: str = "CVE-2099-0001"
          ) -> str:
    """Status of one CVE for one device with a Matcher over just these records."""
    recs = [records] if isinstance(records, CveRecord) else records
    return status_of(Matcher(recs), ident, cve)
