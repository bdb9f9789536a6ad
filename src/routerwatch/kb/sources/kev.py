"""The CISA Known Exploited Vulnerabilities catalog -> ``kb_kev`` rows (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from routerwatch.kb.errors import RecordError
from routerwatch.kb.sources import validate
from routerwatch.kb.sources.common import check_id, date_only, dumps, optional_timestamp

NAME = "kev"
_VERSION = re.compile(r"\d{4}\.\d{2}\.\d{2}")


def detect(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        return False
    vulns = doc["vulnerabilities"]
    return "catalogVersion" in doc or (
        bool(vulns) and isinstance(vulns[0], dict) and "cveID" in vulns[0]
    )


def meta(doc: dict[str, Any]) -> dict[str, Any]:
    """The catalog's version and release time (what decides which catalog is newer).

    A catalog without ``dateReleased`` gets the date of its ``catalogVersion``
    (``2025.08.25``) or, failing that, of its newest ``dateAdded``, marked
    ``date_inferred``: an undated catalog must not pass for a new one.
    """
    released = optional_timestamp(doc.get("dateReleased"), "dateReleased", None, None)
    inferred = None
    if released is None:
        inferred = _version_date(doc.get("catalogVersion")) or _newest_added(doc)
    version = doc.get("catalogVersion")
    return {
        "catalog_version": version if isinstance(version, str) else None,
        "date_released": released or inferred,
        "date_inferred": True if inferred else None,
        "count": doc.get("count") if isinstance(doc.get("count"), int) else None,
    }


def _version_date(version: Any) -> str | None:
    if not isinstance(version, str) or not _VERSION.fullmatch(version.strip()):
        return None
    try:
        return optional_timestamp(version.strip().replace(".", "-"), "catalogVersion", None, None)
    except RecordError:
        return None


def _newest_added(doc: dict[str, Any]) -> str | None:
    dates = [
        entry["dateAdded"] for entry in doc.get("vulnerabilities") or ()
        if isinstance(entry, dict) and isinstance(entry.get("dateAdded"), str)
    ]
    newest = None
    for text in dates:
        try:
            value = optional_timestamp(text, "dateAdded", None, None)
        except RecordError:
            continue
        if value and (newest is None or value > newest):
            newest = value
    return newest


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
