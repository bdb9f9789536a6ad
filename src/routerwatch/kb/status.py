"""`kb status` figures and the staleness check every command runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routerwatch.config import KB_MAX_AGE_DAYS
from routerwatch.kb.schema import SOURCES, cve5, epss, kev, match_index, nvd
from routerwatch.kb.state import get_state, iso, utcnow

EMPTY_HINT = (
    "The knowledge base is empty. Import the bundled starter KB with "
    "`routerwatch kb import --starter`, import NVD/CVE 5/KEV/EPSS files or a bundle with "
    "`routerwatch kb import PATH...`, or download the data with `routerwatch kb sync`."
)


def _naive(moment: datetime | None) -> datetime:
    if moment is None:
        return utcnow()
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _age_days(now: datetime, *moments: str | None) -> float | None:
    """Days since the latest of ``moments`` (ISO texts; None ones ignored), None if none."""
    parsed = [m for m in map(_parse, moments) if m is not None]
    if not parsed:
        return None
    return round((now - max(parsed)).total_seconds() / 86400, 1)


def _scalar(conn: Connection, query: Any) -> Any:
    return conn.execute(query).scalar()


def source_figures(conn: Connection, now: datetime) -> dict[str, dict[str, Any]]:
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
    for source in SOURCES:
        state = get_state(conn, source)
        entry = figures[source]
        entry["last_import"] = state["last_import"]
        entry["last_sync"] = state["last_sync"]
        if source == "epss" and entry["newest"] is None:
            # the scores' own date (FIRST's score_date), never the import date: unknown if absent
            entry["newest"] = state["meta"].get("score_date")
        # KEV: the catalog's release date counts too (a catalog with no new entry is current)
        released = state["meta"].get("date_released") if source == "kev" else None
        entry["age_days"] = _age_days(now, entry["newest"], state["last_sync"], released)
        if source == "nvd":
            entry["sync_cursor"] = state["sync_cursor"]
        for key in ("catalog_version", "date_released", "model_version", "score_date"):
            if key in state["meta"]:
                entry[key] = state["meta"][key]
    return figures


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


def freshness(sources: dict[str, dict[str, Any]]) -> datetime | None:
    """When the CVE data was last known current: newest NVD/CVE 5 date or last sync."""
    for group in (("nvd", "cve5"), tuple(SOURCES)):
        moments = [
            m for s in group
            for m in (_parse(sources[s]["newest"]), _parse(sources[s]["last_sync"]))
            if m is not None and sources[s]["records"]
        ]
        if moments:
            return max(moments)
    return None


SOURCE_NAMES = {"nvd": "NVD", "cve5": "CVE 5", "kev": "KEV", "epss": "EPSS"}


def oldest_source(sources: dict[str, dict[str, Any]]) -> tuple[str, float] | None:
    """The source (with records) whose data is oldest, and its age in days; a source whose
    data date is unknown (EPSS without a score date) is not counted, None when no source has
    an age. The oldest one drives the staleness warning."""
    aged = [(s, sources[s]["age_days"]) for s in SOURCES
            if sources[s]["records"] and sources[s]["age_days"] is not None]
    if not aged:
        return None
    return max(aged, key=lambda pair: pair[1])


def build_status(conn: Connection, database: str, now: datetime | None = None) -> dict[str, Any]:
    moment = _naive(now)
    sources = source_figures(conn, moment)
    empty = not any(s["records"] for s in sources.values()) and not sources["nvd"]["rejected"]
    fresh = freshness(sources)
    oldest = oldest_source(sources)
    age = None if oldest is None else oldest[1]
    status: dict[str, Any] = {
        "database": database,
        "generated": iso(moment),
        "empty": empty,
        "newest_data": iso(fresh) if fresh else None,
        "age_days": age,  # of the oldest source (see oldest_source)
        "oldest_source": None if oldest is None else oldest[0],
        "max_age_days": KB_MAX_AGE_DAYS,
        "stale": age is not None and age > KB_MAX_AGE_DAYS,
        "sources": sources,
        "vendors": vendor_figures(conn),
    }
    if empty:
        status["hint"] = EMPTY_HINT
    return status


def _source_date(entry: dict[str, Any]) -> str:
    newest = entry.get("newest") or entry.get("last_sync")
    return str(newest)[:10] if newest else "date unknown"


def warning_text(status: dict[str, Any]) -> str | None:
    """One line when the oldest source is older than the limit, naming every source's date."""
    if not status["stale"]:
        return None
    sources = status["sources"]
    oldest = status.get("oldest_source") or "nvd"
    dates = ", ".join(
        f"{SOURCE_NAMES[s]} {_source_date(sources[s])}" for s in SOURCES if sources[s]["records"]
    )
    return (
        f"the knowledge base is {status['age_days']:.0f} days old ({SOURCE_NAMES[oldest]} is "
        f"the oldest source; newest data: {dates}; limit {KB_MAX_AGE_DAYS} days): run "
        "`routerwatch kb sync` or import a newer bundle"
    )
