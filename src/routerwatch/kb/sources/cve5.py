"""CVE JSON 5 records (CNA + ADP containers) -> ``kb_cve5`` rows (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from routerwatch.kb.errors import RecordError
from routerwatch.kb.sources import validate
from routerwatch.kb.sources.common import (
    check_id,
    cpe_vendor,
    dumps,
    english,
    optional_timestamp,
    severity_of,
    timestamp,
    unique,
    vendor_text,
)

NAME = "cve5"
#: Row key (not a column) counting the CNA version entries dropped for naming another product;
#: the writer takes it out and counts it (kb import says how many).
DROPPED = "dropped_versions"
CVSS_KEYS = (("cvssV4_0", "4.0"), ("cvssV3_1", "3.1"), ("cvssV3_0", "3.0"), ("cvssV2_0", "2.0"))


#: Words a version text may hold besides numbers (and the product's own name).
VERSION_WORDS = frozenset({
    "build", "builds", "beta", "alpha", "release", "released", "rel", "stable", "hotfix", "patch",
    "patched", "update", "updated", "firmware", "software", "version", "versions", "before",
    "prior", "earlier", "through", "including", "included", "below", "later", "above", "from",
    "until", "latest", "current", "unknown", "unspecified", "unaffected", "affected", "series",
    "all", "and", "or", "to", "up", "the", "of", "with", "without", "each", "every", "model",
    "models", "hardware", "revision", "revisions", "rev", "edition", "preview", "candidate",
    "nightly", "snapshot", "master", "main", "trunk", "branch", "multiple", "various", "other",
    "any", "none", "lts", "esr", "final", "service", "pack", "region", "global", "international",
    "europe", "china", "japan", "korea", "americas", "north", "south", "east", "west", "only",
    "except", "fixed", "fix", "range", "ranges", "date", "dated", "devices", "device", "router",
    "routers", "upgrade", "upgrades",
})
_TOKENS = re.compile(r"[\s/,&;:()\[\]]+")
_LETTERS = re.compile(r"[^a-z0-9]+")


def names_other_product(text: str, item: dict[str, Any]) -> bool:
    """True when a version text names a product other than the entry's own: a stand-alone
    word of four or more letters, not an upper-case code ("AAZF"), that is neither version
    vocabulary nor part of the entry's vendor or product ("R.47.0.0 AutoCAD 2021" on a TP-Link
    Archer AX21 entry; "OpenWrt 19.07" on a chipset SDK entry)."""
    own = _LETTERS.sub("", f"{item.get('vendor') or ''} {item.get('product') or ''}".lower())
    for token in _TOKENS.split(text):
        if len(token) < 4 or not token.isalpha() or token.isupper():
            continue
        low = token.lower()
        if low not in VERSION_WORDS and low not in own:
            return True
    return False


#: What stands in for the dropped version entries: the matcher cannot compare it (so the CVE
#: stays "possible" for the product, never "affected" by an ADP's "any version"), and reports
#: show this instead of the other product's name.
WITHHELD = "version text withheld: it names another product"


def clean_affected(item: Any) -> tuple[Any, int]:
    """A CNA ``affected`` entry whose version entries that name another product are replaced
    by one :data:`WITHHELD` entry, and how many were dropped."""
    if not isinstance(item, dict) or not isinstance(item.get("versions"), list):
        return item, 0
    kept, dropped, status = [], 0, None
    for v in item["versions"]:
        texts = [v.get(k) for k in ("version", "lessThan", "lessThanOrEqual")] \
            if isinstance(v, dict) else []
        if any(isinstance(t, str) and names_other_product(t, item) for t in texts):
            dropped += 1
            status = status or v.get("status")
        else:
            kept.append(v)
    if not dropped:
        return item, 0
    kept.append({"status": status or "affected", "version": WITHHELD})
    return {**item, "versions": kept}, dropped


def detect(doc: Any) -> bool:
    return isinstance(doc, dict) and (
        doc.get("dataType") == "CVE_RECORD" or isinstance(doc.get("cveMetadata"), dict)
    )


def parse(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield parse_record(doc, 0)


def _containers(doc: dict[str, Any], cve_id: str, index: int | None) -> list[dict[str, Any]]:
    containers = doc.get("containers")
    if not isinstance(containers, dict):
        raise RecordError("'containers' missing or not an object", index, cve_id)
    cna = containers.get("cna")
    if not isinstance(cna, dict):
        raise RecordError("'containers.cna' missing or not an object", index, cve_id)
    adp = containers.get("adp") or []
    if not isinstance(adp, list):
        raise RecordError("'containers.adp' is not a list", index, cve_id)
    check = validate.Check(index, cve_id)
    named = [("containers.cna", cna)] + [
        (f"containers.adp[{i}]", check.obj(c, f"containers.adp[{i}]")) for i, c in enumerate(adp)
    ]
    validate.cve5_containers(check, named)
    return [c for _, c in named]


def best_cvss(containers: list[dict[str, Any]]) -> tuple[Any, ...]:
    """(score, version, vector, severity): v4.0 > v3.1 > v3.0 > v2, CNA before ADP."""
    for key, version in CVSS_KEYS:
        for container in containers:
            for metric in container.get("metrics") or ():
                data = metric.get(key) if isinstance(metric, dict) else None
                if isinstance(data, dict) and isinstance(data.get("baseScore"), int | float):
                    score = float(data["baseScore"])
                    sev = data.get("baseSeverity")
                    return (
                        score,
                        version,
                        data.get("vectorString"),
                        str(sev).upper() if sev else severity_of(score, version),
                    )
    return None, None, None, None


def parse_record(doc: Any, index: int | None = None) -> dict[str, Any]:
    """One CVE JSON 5 record -> one ``kb_cve5`` row. Raises RecordError when malformed."""
    if not isinstance(doc, dict) or not isinstance(doc.get("cveMetadata"), dict):
        raise RecordError("not a CVE JSON 5 record (no cveMetadata)", index)
    meta = doc["cveMetadata"]
    cve_id = check_id(meta.get("cveId"), index)
    state = meta.get("state")
    if state not in ("PUBLISHED", "REJECTED"):
        raise RecordError(f"cveMetadata.state {state!r} is not PUBLISHED/REJECTED", index, cve_id)
    updated = meta.get("dateUpdated") or meta.get("datePublished") or meta.get("dateRejected")
    containers = _containers(doc, cve_id, index)
    affected: list[Any] = []
    vendors: list[str] = []
    refs: list[str] = []
    cwes: list[str] = []
    dropped = 0
    for n, container in enumerate(containers):
        items = container.get("affected") or []
        if not isinstance(items, list):
            raise RecordError("an 'affected' is not a list", index, cve_id)
        if n == 0:  # the CNA's entries: drop versions that name another product (counted)
            cleaned = [clean_affected(item) for item in items]
            dropped = sum(d for _, d in cleaned)
            items = [item for item, _ in cleaned]
        affected.extend(items)
        for item in items:
            if isinstance(item, dict):
                if isinstance(item.get("vendor"), str):
                    vendors.append(item["vendor"])
                vendors.extend(v for v in map(cpe_vendor, item.get("cpes") or ()) if v)
        for ref in container.get("references") or ():
            if isinstance(ref, dict) and isinstance(ref.get("url"), str):
                refs.append(ref["url"])
        for problem in container.get("problemTypes") or ():
            for d in problem.get("descriptions") or ():
                if isinstance(d.get("cweId"), str):
                    cwes.append(d["cweId"])
    score, version, vector, severity = best_cvss(containers)
    return {
        "cve_id": cve_id,
        "state": state,
        "rejected": state == "REJECTED",
        "date_updated": timestamp(updated, "cveMetadata.dateUpdated", index, cve_id),
        "published": optional_timestamp(meta.get("datePublished"), "datePublished", index, cve_id),
        "description": english(containers[0].get("descriptions")),
        "cvss_score": score,
        "cvss_version": version,
        "cvss_vector": vector,
        "severity": severity,
        "vendors": vendor_text(vendors),
        "affected": dumps(affected),
        "refs": dumps(unique(refs)),
        "cwes": dumps(unique(cwes)),
        "data": dumps(doc),
        DROPPED: dropped,
    }

