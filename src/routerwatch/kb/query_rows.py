"""Rows of the KB read queries (routerwatch.kb.query) -> CveRecord: NVD records merged with
CVE 5, KEV and EPSS. Plain tuples in, so the SQLAlchemy path and the lean sqlite3 path
(routerwatch.kb.lean) share them; no SQLAlchemy import here."""

from __future__ import annotations

from typing import Any

from routerwatch.jsontext import loads
from routerwatch.models import CveRecord, KevEntry


def _list(text: str | None) -> tuple[Any, ...]:
    return tuple(loads(text)) if text and text != "[]" else ()


def _kev(cve_id: str, kev_cols: tuple[Any, ...]) -> KevEntry | None:
    added, due, ransomware, vendor, product, name, action = kev_cols
    if added is None:
        return None
    return KevEntry(cve_id=cve_id, date_added=added, due_date=due, ransomware=ransomware,
                    vendor=vendor, product=product, name=name, required_action=action)


def from_nvd_row(row: Any) -> CveRecord:
    """A row of ``nvd_query`` (positional: _NVD, _C5, _KEV, _EPSS) -> CveRecord."""
    (cve_id, published, last_modified, status, description, score, version, vector, severity,
     configurations, refs, cwes, nvd_kev_date,
     affected, c_description, c_score, c_version, c_vector, c_severity, c_cwes, c_refs,
     _c_published, _c_updated, *rest) = row
    epss_score, percentile = rest[7], rest[8]
    if score is None and c_score is not None:
        score, version, vector, severity = c_score, c_version, c_vector, c_severity
    return CveRecord(
        cve_id=cve_id, published=published, last_modified=last_modified, vuln_status=status,
        description=description or c_description or "", cvss_score=score,
        cvss_version=version, cvss_vector=vector, severity=severity,
        configurations=_list(configurations), cve5_affected=_list(affected),
        kev=_kev(cve_id, tuple(rest[:7])), nvd_kev_date=nvd_kev_date, epss=epss_score,
        epss_percentile=percentile, references=_list(refs) or _list(c_refs),
        cwes=_list(cwes) or _list(c_cwes),
    )


def from_cve5_row(row: Any) -> CveRecord:
    """A row of ``cve5_only_query`` (positional: cve_id, _C5, _KEV, _EPSS) -> CveRecord."""
    (cve_id, affected, description, score, version, vector, severity, cwes, refs, published,
     updated, *rest) = row
    return CveRecord(
        cve_id=cve_id, published=published, last_modified=updated, vuln_status=None,
        description=description or "", cvss_score=score, cvss_version=version,
        cvss_vector=vector, severity=severity, cve5_affected=_list(affected),
        kev=_kev(cve_id, tuple(rest[:7])), epss=rest[7], epss_percentile=rest[8],
        references=_list(refs), cwes=_list(cwes),
    )


def from_kev_row(row: Any) -> CveRecord:
    """A row of ``kev_only_query`` -> CveRecord without configurations or affected data (the
    matcher reads the KEV entry's vendor and product)."""
    (cve_id, n_description, n_score, n_version, n_vector, n_severity, n_published,
     _affected, c_description, c_score, c_version, c_vector, c_severity, c_cwes, c_refs,
     c_published, c_updated, *rest) = row
    kev_entry = _kev(cve_id, tuple(rest[:7]))
    score, version, vector, severity = n_score, n_version, n_vector, n_severity
    if score is None:
        score, version, vector, severity = c_score, c_version, c_vector, c_severity
    return CveRecord(
        cve_id=cve_id, published=n_published or c_published, last_modified=c_updated,
        vuln_status=None,
        description=n_description or c_description or (kev_entry.name if kev_entry else "")
        or "", cvss_score=score, cvss_version=version, cvss_vector=vector, severity=severity,
        kev=kev_entry, epss=rest[7], epss_percentile=rest[8], references=_list(c_refs),
        cwes=_list(c_cwes),
    )
