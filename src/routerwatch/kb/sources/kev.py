"""The CISA Known Exploited Vulnerabilities catalog -> ``kb_kev`` rows (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from routerwatch.kb.errors import RecordError
from routerwatch.kb.sources import validate
from routerwatch.kb.sources.common import check_id, date_only, dumps, optional_timestamp

NAME = "kev"


def detect(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        return False
    vulns = doc["vulnerabilities"]
    return "catalogVersion" in doc or (
        bool(vulns) and isinstance(vulns[0], dict) and "cveID" in vulns[0]
    )


def meta(doc: dict[str, Any]) -> dict[str, Any]:
    """The catalog's version and release time (what decides which catalog is newer)."""
    released = optional_timestamp(doc.get("dateReleased"), "dateReleased", None, None)
    return {
        "catalog_version": doc.get("catalogVersion"),
        "date_released": released,
        "count": doc.get("count"),
    }


def parse(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    count = doc.get("count")
    vulns = doc["vulnerabilities"]
    if isinstance(count, int) and count != len(vulns):
        raise RecordError(f"catalog says count {count} but lists {len(vulns)} entries")
    for index, entry in enumerate(vulns):
        yield parse_entry(entry, index)


def parse_entry(entry: Any, index: int | None = None) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise RecordError("KEV entry is not a JSON object", index)
    cve_id = check_id(entry.get("cveID"), index)
    validate.kev_entry(validate.Check(index, cve_id), entry)
    added = date_only(entry.get("dateAdded"), "dateAdded", index, cve_id)
    if added is None:
        raise RecordError("dateAdded missing", index, cve_id)
    return {
        "cve_id": cve_id,
        "date_added": added,
        "due_date": date_only(entry.get("dueDate"), "dueDate", index, cve_id),
        "ransomware": entry.get("knownRansomwareCampaignUse"),
        "vendor": entry.get("vendorProject"),
        "product": entry.get("product"),
        "name": entry.get("vulnerabilityName"),
        "required_action": entry.get("requiredAction"),
        "data": dumps(entry),
    }
