"""CVE JSON 5 records (CNA + ADP containers) -> ``kb_cve5`` rows (pure)."""

from __future__ import annotations

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
CVSS_KEYS = (("cvssV4_0", "4.0"), ("cvssV3_1", "3.1"), ("cvssV3_0", "3.0"), ("cvssV2_0", "2.0"))


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
    for container in containers:
        items = container.get("affected") or []
        if not isinstance(items, list):
            raise RecordError("an 'affected' is not a list", index, cve_id)
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
    }

