"""The `kb status` structure from its counted figures, and the staleness warning: plain
Python (no SQLAlchemy), shared by the counting side (routerwatch.kb.status) and the lean read
path (routerwatch.kb.lean)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from routerwatch.config import KB_MAX_AGE_DAYS

SOURCES = ("nvd", "cve5", "kev", "epss")  # routerwatch.kb.schema.SOURCES, without SQLAlchemy
SOURCE_NAMES = {"nvd": "NVD", "cve5": "CVE 5", "kev": "KEV", "epss": "EPSS"}

CACHE_KEY = "status"  # kb_match_state row: {"stamp": ..., "figures": ...}

EMPTY_HINT = (
    "The knowledge base is empty. Import the bundled starter KB with "
    "`routerwatch kb import --starter`, import NVD/CVE 5/KEV/EPSS files or a bundle with "
    "`routerwatch kb import PATH...`, or download the data with `routerwatch kb sync`."
)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def stamp_text(state_rows: Iterable[Sequence[Any]], index_rows: Iterable[Sequence[Any]]) -> str:
    """The cache stamp from the ``kb_source_state`` rows and the ``kb_match_state`` rows
    other than the cache itself, both ordered by their key."""
    index = [list(r) for r in index_rows if r[0] != CACHE_KEY]
    return json.dumps([[list(r) for r in state_rows], index], default=str)


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


def freshness(sources: dict[str, dict[str, Any]]) -> datetime | None:
    """When the CVE data was last known current: newest NVD/CVE 5 date or last sync."""
    for group in (("nvd", "cve5"), tuple(sources)):
        moments = [
            m for s in group
            for m in (_parse(sources[s]["newest"]), _parse(sources[s]["last_sync"]))
            if m is not None and sources[s]["records"]
        ]
        if moments:
            return max(moments)
    return None


def parse_cached(text: str | None, now_stamp: str) -> dict[str, Any] | None:
    """The cached figures of a :data:`CACHE_KEY` value when its stamp is ``now_stamp``."""
    if not text:
        return None
    try:
        cached = json.loads(text)
    except ValueError:
        return None
    if not isinstance(cached, dict) or cached.get("stamp") != now_stamp:
        return None
    figures = cached.get("figures")
    return figures if isinstance(figures, dict) else None


def oldest_source(sources: dict[str, dict[str, Any]]) -> tuple[str, float] | None:
    """The source (with records) whose data is oldest, and its age in days; a source whose
    data date is unknown (EPSS without a score date) is not counted, None when no source has
    an age. The oldest one drives the staleness warning."""
    aged = [(s, sources[s]["age_days"]) for s in SOURCES
            if sources[s]["records"] and sources[s]["age_days"] is not None]
    if not aged:
        return None
    return max(aged, key=lambda pair: pair[1])


def finish_status(figures: dict[str, Any], database: str,
                  now: datetime | None = None) -> dict[str, Any]:
    """The `kb status` structure from the counted figures and the time now: every source's
    age (KEV: its catalog's release date counts too; EPSS: the scores' own date, never the
    import date), and the oldest source's age drives staleness."""
    moment = _naive(now)
    sources = figures["sources"]
    for name, entry in sources.items():
        released = entry.get("date_released") if name == "kev" else None
        entry["age_days"] = _age_days(moment, entry["newest"], entry["last_sync"], released)
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
        "vendors": figures["vendors"],
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
        f"{SOURCE_NAMES[s]} {_source_date(sources[s])}" for s in SOURCES
        if s in sources and sources[s]["records"]
    )
    return (
        f"the knowledge base is {status['age_days']:.0f} days old ({SOURCE_NAMES[oldest]} is "
        f"the oldest source; newest data: {dates}; limit {KB_MAX_AGE_DAYS} days): run "
        "`routerwatch kb sync` or import a newer bundle"
    )
