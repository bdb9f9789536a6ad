"""NVD CVE API 2.0: response pages and single records -> ``kb_nvd`` rows (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from routerwatch.kb.errors import RecordError
from routerwatch.kb.sources import validate
from routerwatch.kb.sources.common import (
    check_id,
    date_only,
    dumps,
    english,
    optional_timestamp,
    severity_of,
    timestamp,
    unique,
    vendor_text,
)

NAME = "nvd"
CVSS_KEYS = (
    ("cvssMetricV40", "4.0"),
    ("cvssMetricV31", "3.1"),
    ("cvssMetricV30", "3.0"),
    ("cvssMetricV2", "2.0"),
)


def detect(doc: Any) -> bool:
    """An NVD API 2.0 response page, a ``{"cve": {...}}`` item or a bare CVE object."""
    if not isinstance(doc, dict):
        return False
    if doc.get("format") == "NVD_CVE":
        return True
    vulns = doc.get("vulnerabilities")
    if isinstance(vulns, list):
        return bool(vulns) and isinstance(vulns[0], dict) and "cve" in vulns[0]
    if isinstance(doc.get("cve"), dict):
        return True
    return "id" in doc and "lastModified" in doc and "vulnStatus" in doc


def records(doc: dict[str, Any]) -> Iterator[tuple[int, Any]]:
    """The CVE objects of a page / item / bare record, with their position."""
    vulns = doc.get("vulnerabilities")
    if "vulnerabilities" in doc:
        if not isinstance(vulns, list):
            raise RecordError("'vulnerabilities' is not a list")
        for i, item in enumerate(vulns):
            if not isinstance(item, dict) or not isinstance(item.get("cve"), dict):
                raise RecordError("item has no 'cve' object", i)
            yield i, item["cve"]
    elif isinstance(doc.get("cve"), dict):
        yield 0, doc["cve"]
    else:
        yield 0, doc


def parse(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for index, cve in records(doc):
        yield parse_record(cve, index)


def best_cvss(metrics: Any) -> tuple[float | None, str | None, str | None, str | None]:
    """(score, version, vector, severity): v4.0 > v3.1 > v3.0 > v2, Primary before Secondary."""
    if not isinstance(metrics, dict):
        return None, None, None, None
    for key, version in CVSS_KEYS:
        entries = metrics.get(key)
        if not isinstance(entries, list):
            continue
        ranked = sorted(
            (e for e in entries if isinstance(e, dict) and isinstance(e.get("cvssData"), dict)),
            key=lambda e: 0 if e.get("type") == "Primary" else 1,
        )
        for entry in ranked:
            data = entry["cvssData"]
            score = data.get("baseScore")
            if isinstance(score, int | float):
                sev = data.get("baseSeverity") or entry.get("baseSeverity")
                return (
                    float(score),
                    str(data.get("version") or version),
                    data.get("vectorString"),
                    str(sev).upper() if sev else severity_of(float(score), version),
                )
    return None, None, None, None


_CRITERIA_VENDOR = re.compile(r'"criteria":"cpe:2\.3:[^:"]*:([^:"]+)')


def _vendors(configurations_json: str | None) -> list[str]:
    """CPE vendor ids named by the configurations (read from their JSON text: one C pass)."""
    if not configurations_json:
        return []
    return [v for v in set(_CRITERIA_VENDOR.findall(configurations_json)) if v not in ("*", "-")]


def _cwes(weaknesses: Any) -> list[str]:
    values = []
    for weakness in weaknesses if isinstance(weaknesses, list) else ():
        for d in (weakness.get("description") or ()) if isinstance(weakness, dict) else ():
            value = d.get("value") if isinstance(d, dict) else None
            if isinstance(value, str) and value.startswith("CWE-"):
                values.append(value)
    return unique(values)


def parse_record(cve: Any, index: int | None = None) -> dict[str, Any]:
    """One NVD CVE object -> one ``kb_nvd`` row. Raises RecordError on a malformed record."""
    if not isinstance(cve, dict):
        raise RecordError("CVE record is not a JSON object", index)
    cve_id = check_id(cve.get("id"), index)
    validate.nvd_record(validate.Check(index, cve_id), cve)
    last_modified = timestamp(cve.get("lastModified"), "lastModified", index, cve_id)
    status = cve.get("vulnStatus")
    if status is not None and not isinstance(status, str):
        raise RecordError("vulnStatus is not a string", index, cve_id)
    configurations = cve.get("configurations")
    if configurations is not None and not isinstance(configurations, list):
        raise RecordError("configurations is not a list", index, cve_id)
    refs = cve.get("references") or []
    if not isinstance(refs, list):
        raise RecordError("references is not a list", index, cve_id)
    score, version, vector, severity = best_cvss(cve.get("metrics"))
    rest = dict(cve)
    rest.pop("configurations", None)
    config_json = dumps(configurations) if configurations is not None else None
    return {
        "cve_id": cve_id,
        "published": optional_timestamp(cve.get("published"), "published", index, cve_id),
        "last_modified": last_modified,
        "vuln_status": status,
        "rejected": status == "Rejected",
        "has_configurations": bool(configurations),
        "description": english(cve.get("descriptions")),
        "cvss_score": score,
        "cvss_version": version,
        "cvss_vector": vector,
        "severity": severity,
        "nvd_kev_date": date_only(cve.get("cisaExploitAdd"), "cisaExploitAdd", index, cve_id),
        "nvd_kev_due": date_only(cve.get("cisaActionDue"), "cisaActionDue", index, cve_id),
        "vendors": vendor_text(_vendors(config_json)),
        "configurations": config_json,
        "refs": dumps([r["url"] for r in refs if isinstance(r, dict) and "url" in r]),
        "cwes": dumps(_cwes(cve.get("weaknesses"))),
        "data": dumps(rest),
    }

