"""`kb status` figures and the staleness check every command runs.

The figures that need counting (records per source, per vendor: a few seconds on a full-NVD
KB) are kept in ``kb_match_state`` under :data:`CACHE_KEY` with the stamp they were counted
at (every source's import/sync bookkeeping and the index version, which every write
changes); a status whose stamp still holds is read back instead of counted again. The
time-dependent parts (ages, staleness, ``generated``) are always worked out anew.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from routerwatch.kb.freshness import (
    CACHE_KEY,
    finish_status,
    oldest_source,
    parse_cached,
    stamp_text,
    warning_text,
)
from routerwatch.kb.schema import (
    SOURCES,
    cve5,
    epss,
    kev,
    match_index,
    match_state,
    nvd,
    source_state,
)
from routerwatch.kb.state import get_state

__all__ = ["CACHE_KEY", "build_status", "counted_figures", "finish_status", "oldest_source",
           "source_figures", "stamp", "vendor_figures", "warning_text"]


def _scalar(conn: Connection, query: Any) -> Any:
    return conn.execute(query).scalar()


def source_figures(conn: Connection) -> dict[str, dict[str, Any]]:
    """Counted per source; ``age_days`` is left None (see
    :func:`routerwatch.kb.freshness.finish_status`)."""
    count = sa.func.count()
    figures: dict[str, dict[str, Any]] = {
        "nvd": {
            "records": _scalar(conn, sa.select(count).where(nvd.c.rejected == sa.false())),
            "rejected": _scalar(conn, sa.select(count).where(nvd.c.rejected == sa.true())),
            "without_configurations": _scalar(conn, sa.select(count).where(
                nvd.c.rejected == sa.false(), nvd.c.has_configurations == sa.false())),
            "newest": _scalar(conn, sa.select(sa.func.max(nvd.c.last_modified))),
        },
        "cve5": {
            "records": _scalar(conn, sa.select(count).where(cve5.c.rejected == sa.false())),
            "rejected": _scalar(conn, sa.select(count).where(cve5.c.rejected == sa.true())),
            "newest": _scalar(conn, sa.select(sa.func.max(cve5.c.date_updated))),
        },
        "kev": {
            "records": _scalar(conn, sa.select(count).select_from(kev)),
            "newest": _scalar(conn, sa.select(sa.func.max(kev.c.date_added))),
        },
        "epss": {
            "records": _scalar(conn, sa.select(count).select_from(epss)),
            "newest": _scalar(conn, sa.select(sa.func.max(epss.c.score_date))),
        },
    }
    for source, digest in content_digests(conn).items():
        figures[source]["content"] = digest
    for source in SOURCES:
        state = get_state(conn, source)
        entry = figures[source]
        entry["last_import"] = state["last_import"]
        entry["last_sync"] = state["last_sync"]
        entry["age_days"] = None
        if source == "nvd":
            entry["sync_cursor"] = state["sync_cursor"]
        for key in ("catalog_version", "date_released", "model_version", "score_date"):
            if key in state["meta"]:
                entry[key] = state["meta"][key]
        if source == "epss" and entry["newest"] is None:
            entry["newest"] = state["meta"].get("score_date")
    return figures


def content_digests(conn: Connection) -> dict[str, str]:
    """Per source, a SHA-256 over every record's id and what changes when the record does
    (NVD: lastModified and rejection; CVE 5: dateUpdated; KEV: dateAdded and due date; EPSS:
    score and its date), in id order. The KB snapshot id is made from these, so two reports
    with the same id were made with the same records. Counted with the other figures: once
    per KB write (the status cache), streamed."""
    columns = {
        "nvd": (nvd.c.cve_id, nvd.c.last_modified, nvd.c.rejected),
        "cve5": (cve5.c.cve_id, cve5.c.date_updated, cve5.c.rejected),
        "kev": (kev.c.cve_id, kev.c.date_added, kev.c.due_date),
        "epss": (epss.c.cve_id, epss.c.epss, epss.c.score_date),
    }
    out: dict[str, str] = {}
    for source, cols in columns.items():
        h = hashlib.sha256()
        rows = conn.execute(sa.select(*cols).order_by(cols[0]).execution_options(
            yield_per=10_000))
        for row in rows:
            h.update("\x1f".join("" if v is None else str(v) for v in row).encode())
            h.update(b"\x1e")
        out[source] = h.hexdigest()[:32]
    return out


def vendor_figures(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per vendor (the match index's vendor keys: display names for known vendors): records
    per source and the newest date of each, so a user sees what the KB covers. KEV counts
    the catalog entries filed under the vendor (by their own vendor/product or by the NVD/CVE
    5 record of the same CVE); the dates are NVD lastModified, CVE 5 dateUpdated and KEV
    dateAdded."""
    pairs = sa.select(match_index.c.vendor_key, match_index.c.cve_id).distinct().subquery()
    out: dict[str, dict[str, Any]] = {}
    for name, table, date in (("nvd", nvd, nvd.c.last_modified),
                              ("cve5", cve5, cve5.c.date_updated),
                              ("kev", kev, kev.c.date_added)):
        query = (sa.select(pairs.c.vendor_key, sa.func.count(), sa.func.max(date))
                 .select_from(pairs.join(table, table.c.cve_id == pairs.c.cve_id))
                 .group_by(pairs.c.vendor_key))
        for vendor, count, newest in conn.execute(query):
            entry = out.setdefault(vendor, {s: {"records": 0, "newest": None}
                                            for s in ("nvd", "cve5", "kev")})
            entry[name] = {"records": count, "newest": newest}
    from routerwatch.identity.vendors import vendor as registry_vendor

    # only router vendors routerwatch identifies (records also name other vendors' products)
    out = {k: v for k, v in out.items() if registry_vendor(k) is not None}
    return dict(sorted(out.items(), key=lambda kv: (
        -sum(v["records"] for v in kv[1].values()), kv[0].lower())))


def stamp(conn: Connection) -> str:
    """What every write to the KB changes: each source's import/sync times, cursor and meta
    (stamped by every import and sync) and the match-index state (rebuilds)."""
    rows = conn.execute(sa.select(source_state).order_by(source_state.c.source)).all()
    index = conn.execute(sa.select(match_state.c.name, match_state.c.value)
                         .where(match_state.c.name != CACHE_KEY)
                         .order_by(match_state.c.name)).all()
    return stamp_text(rows, index)


def counted_figures(conn: Connection) -> dict[str, Any]:
    """The figures that need counting: ``{"sources": ..., "vendors": ...}``, from the cache
    when its stamp holds, else counted (and cached when the database lets us write)."""
    now_stamp = stamp(conn)
    cached = cached_figures(conn, now_stamp)
    if cached is not None:
        return cached
    figures = {"sources": source_figures(conn), "vendors": vendor_figures(conn)}
    # The stamp was read before counting: if a write lands meanwhile, the stored stamp is
    # already outdated and the entry is never used.
    try:
        conn.execute(match_state.delete().where(match_state.c.name == CACHE_KEY))
        conn.execute(match_state.insert().values(name=CACHE_KEY, value=json.dumps(
            {"stamp": now_stamp, "figures": figures}, default=str)))
        conn.commit()
    except SQLAlchemyError:  # read-only or busy database: counted again next time
        conn.rollback()
    return json.loads(json.dumps(figures, default=str))  # the same types as a cached read


def cached_figures(conn: Connection, now_stamp: str) -> dict[str, Any] | None:
    text = conn.execute(sa.select(match_state.c.value).where(
        match_state.c.name == CACHE_KEY)).scalar()
    return parse_cached(text, now_stamp)


def build_status(conn: Connection, database: str, now: datetime | None = None) -> dict[str, Any]:
    return finish_status(counted_figures(conn), database, now)


