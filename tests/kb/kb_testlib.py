"""Helpers shared by the knowledge-base tests (plain functions, no fixtures)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from routerwatch.kb import KnowledgeBase
from routerwatch.kb.schema import metadata

FIX = Path(__file__).resolve().parents[1] / "fixtures"
NVD_COUNTS = {"tp-link": 123, "netgear": 73, "asus": 32}
CVE5_COUNTS = {"tp-link": 92, "netgear": 77, "asus": 49}
KEV_FILE = FIX / "kev" / "known_exploited_vulnerabilities.json"
EPSS_SHARED = FIX / "epss" / "epss_kev_nvd.csv"
EPSS_FIRST = FIX / "epss_first" / "epss_scores-sample.csv"
ALL_DATA = [FIX / "nvd", FIX / "cve5", KEV_FILE, EPSS_SHARED]


def new_kb(tmp_path: Path, name: str = "kb.db") -> KnowledgeBase:
    return KnowledgeBase(f"sqlite:///{tmp_path / name}")


def nvd_page(vendor: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIX / "nvd" / f"{vendor}.json").read_text())
    return data


def nvd_cves(vendor: str) -> list[dict[str, Any]]:
    return [v["cve"] for v in nvd_page(vendor)["vulnerabilities"]]


def all_nvd_cves() -> list[dict[str, Any]]:
    return [c for vendor in NVD_COUNTS for c in nvd_cves(vendor)]


def page_of(cves: list[dict[str, Any]], start: int = 0, total: int | None = None) -> dict[str, Any]:
    return {
        "resultsPerPage": len(cves), "startIndex": start,
        "totalResults": len(cves) if total is None else total,
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-11-24T00:00:00.000",
        "vulnerabilities": [{"cve": copy.deepcopy(c)} for c in cves],
    }


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def find_cve(cve_id: str) -> dict[str, Any]:
    for cve in all_nvd_cves():
        if cve["id"] == cve_id:
            return cve
    raise KeyError(cve_id)


def snapshot(kb: KnowledgeBase, data_only: bool = False) -> str:
    """A digest of the KB tables' content: equal digests = nothing changed.

    ``data_only`` leaves out the per-source state (import times).
    """
    digest = hashlib.sha256()
    with kb.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if data_only and table.name == "kb_source_state":
                continue
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


def stable_status(kb: KnowledgeBase) -> dict[str, Any]:
    status = kb.status()
    status.pop("generated")
    status.pop("age_days")
    status.pop("stale")
    for source in status["sources"].values():
        source.pop("age_days")
    return status
