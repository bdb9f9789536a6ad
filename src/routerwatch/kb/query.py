"""Reading the KB back as CveRecord objects: NVD records merged with CVE 5, KEV and EPSS."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from routerwatch.kb.query_rows import from_cve5_row, from_kev_row, from_nvd_row
from routerwatch.kb.schema import cve5, epss, kev, match_compiled, nvd

__all__ = ["cve5_only_query", "from_cve5_row", "from_kev_row", "from_nvd_row", "kev_only_query",
           "nvd_query"]

_KEV = [kev.c.date_added, kev.c.due_date, kev.c.ransomware, kev.c.vendor.label("kev_vendor"),
        kev.c.product.label("kev_product"), kev.c.name.label("kev_name"), kev.c.required_action]
_EPSS = [epss.c.epss, epss.c.percentile]
_C5 = [cve5.c.affected, cve5.c.description.label("c_description"),
       cve5.c.cvss_score.label("c_score"), cve5.c.cvss_version.label("c_version"),
       cve5.c.cvss_vector.label("c_vector"), cve5.c.severity.label("c_severity"),
       cve5.c.cwes.label("c_cwes"), cve5.c.refs.label("c_refs"),
       cve5.c.published.label("c_published"), cve5.c.date_updated]
_NVD = [nvd.c.cve_id, nvd.c.published, nvd.c.last_modified, nvd.c.vuln_status, nvd.c.description,
        nvd.c.cvss_score, nvd.c.cvss_version, nvd.c.cvss_vector, nvd.c.severity,
        nvd.c.configurations, nvd.c.refs, nvd.c.cwes, nvd.c.nvd_kev_date]


def _vendor_filter(vendors: Iterable[str] | None, *columns: Any) -> Any:
    if vendors is None:
        return sa.true()
    wanted = [v.strip().lower() for v in vendors if v.strip()]
    return sa.or_(*(col.like(f"% {v} %") for col in columns for v in wanted), sa.false())


def _no_criteria(columns: list[Any]) -> list[Any]:
    """The columns with the raw criteria (NVD configurations, CVE 5 affected) as NULL."""
    raw = {"configurations", "affected"}
    return [sa.null().label(c.name) if c.name in raw else c for c in columns]


def _not_rejected(table: sa.Table) -> Any:
    """``rejected`` is false, written so no database reads it through an index: the status
    indexes lead with ``rejected``, and a planner that took one for a lookup of a few CVE ids
    would walk every record instead of the primary key (coalesce hides the column)."""
    return sa.func.coalesce(table.c.rejected, sa.false()) == sa.false()


def _joined(base: sa.Table, other: sa.Table, columns: list[Any],
            compiled: bool) -> sa.Select[Any]:
    """``columns`` from ``base`` outer-joined by CVE id with the other record table, KEV and
    EPSS (and the compiled criteria instead of the raw ones when ``compiled``)."""
    key = base.c.cve_id
    joined = (base.outerjoin(other, other.c.cve_id == key)
              .outerjoin(kev, kev.c.cve_id == key).outerjoin(epss, epss.c.cve_id == key))
    if compiled:
        columns = [*_no_criteria(columns), match_compiled.c.data.label("compiled")]
        joined = joined.outerjoin(match_compiled, match_compiled.c.cve_id == key)
    return sa.select(*columns).select_from(joined)


def _narrow(query: sa.Select[Any], key: Any, cve_id: str | None,
            cve_ids: Iterable[str] | None, after: str | None) -> sa.Select[Any]:
    """One CVE, some CVEs, or those after a CVE id (keyset paging); ordered by id."""
    if cve_id is not None:
        query = query.where(key == cve_id)
    if cve_ids is not None:
        query = query.where(key.in_(list(cve_ids)))
    if after is not None:
        query = query.where(key > after)
    return query.order_by(key)


def nvd_query(vendors: Iterable[str] | None = None, cve_id: str | None = None, *,
              cve_ids: Iterable[str] | None = None, compiled: bool = False,
              after: str | None = None) -> sa.Select[Any]:
    """NVD records (not rejected by NVD or the CVE program) with CVE 5, KEV, EPSS joined.

    ``cve_ids`` keeps only those; ``compiled`` reads the stored compiled criteria (one more
    column, last) instead of the raw configurations and CVE 5 affected lists; ``after``
    starts after that CVE id (keyset paging).
    """
    query = (
        _joined(nvd, cve5, [*_NVD, *_C5, *_KEV, *_EPSS], compiled)
        .where(_not_rejected(nvd),
               sa.or_(cve5.c.rejected.is_(None), cve5.c.rejected == sa.false()),
               _vendor_filter(vendors, nvd.c.vendors, cve5.c.vendors))
    )
    return _narrow(query, nvd.c.cve_id, cve_id, cve_ids, after)


def cve5_only_query(vendors: Iterable[str] | None = None, cve_id: str | None = None, *,
                    cve_ids: Iterable[str] | None = None, compiled: bool = False,
                    after: str | None = None) -> sa.Select[Any]:
    """CVE 5 records NVD does not have (yet), with KEV and EPSS joined (options as in
    :func:`nvd_query`)."""
    query = (
        _joined(cve5, nvd, [cve5.c.cve_id, *_C5, *_KEV, *_EPSS], compiled)
        .where(nvd.c.cve_id.is_(None), _not_rejected(cve5),
               _vendor_filter(vendors, cve5.c.vendors))
    )
    return _narrow(query, cve5.c.cve_id, cve_id, cve_ids, after)


def kev_only_query(vendors: Iterable[str] | None = None, cve_id: str | None = None, *,
                   cve_ids: Iterable[str] | None = None, compiled: bool = False,
                   after: str | None = None) -> sa.Select[Any]:
    """KEV entries the two queries above do not return (no NVD or CVE 5 record, or one that
    names none of ``vendors``), with what NVD or CVE 5 say of the CVE otherwise (description,
    CVSS) and EPSS: KEV as a source of its own (options as in :func:`nvd_query`)."""
    nvd_loaded = sa.and_(
        nvd.c.cve_id.is_not(None), nvd.c.rejected == sa.false(),
        sa.or_(cve5.c.rejected.is_(None), cve5.c.rejected == sa.false()),
        _vendor_filter(vendors, nvd.c.vendors, cve5.c.vendors))
    cve5_loaded = sa.and_(nvd.c.cve_id.is_(None), cve5.c.cve_id.is_not(None),
                          cve5.c.rejected == sa.false(), _vendor_filter(vendors, cve5.c.vendors))
    rejected = sa.or_(nvd.c.rejected == sa.true(), cve5.c.rejected == sa.true())
    kev_vendor: sa.ColumnElement[bool]
    if vendors is None:
        kev_vendor = sa.true()
    else:
        wanted = [v.strip().lower() for v in vendors if v.strip()]
        kev_vendor = sa.or_(*(sa.func.lower(kev.c.vendor).like(f"{v}%") for v in wanted),
                            sa.false())
    columns: list[Any] = [kev.c.cve_id, nvd.c.description.label("n_description"),
                          nvd.c.cvss_score.label("n_score"), nvd.c.cvss_version.label("n_version"),
                          nvd.c.cvss_vector.label("n_vector"), nvd.c.severity.label("n_severity"),
                          nvd.c.published.label("n_published"), *_C5, *_KEV, *_EPSS]
    joined = (kev.outerjoin(nvd, nvd.c.cve_id == kev.c.cve_id)
              .outerjoin(cve5, cve5.c.cve_id == kev.c.cve_id)
              .outerjoin(epss, epss.c.cve_id == kev.c.cve_id))
    if compiled:
        columns = [*_no_criteria(columns), match_compiled.c.data.label("compiled")]
        joined = joined.outerjoin(match_compiled, match_compiled.c.cve_id == kev.c.cve_id)
    query = sa.select(*columns).select_from(joined).where(
        sa.not_(sa.func.coalesce(nvd_loaded, sa.false())),
        sa.not_(sa.func.coalesce(cve5_loaded, sa.false())),
        sa.not_(sa.func.coalesce(rejected, sa.false())), kev_vendor)
    return _narrow(query, kev.c.cve_id, cve_id, cve_ids, after)
