"""The `kb status` structure from its counted figures, and the staleness warning: plain
Python (no SQLAlchemy), shared by the counting side (routerwatch.kb.status) and the lean read
path (routerwatch.kb.lean)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from routerwatch.config import KB_MAX_AGE_DAYS

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


def _age_days(newest: str | None, last_sync: str | None, now: datetime) -> float | None:
    moments = [m for m in (_parse(newest), _parse(last_sync)) if m is not None]
    if not moments:
        return None
    return round((now - max(moments)).total_seconds() / 86400, 1)


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


def finish_status(figures: dict[str, Any], database: str,
                  now: datetime | None = None) -> dict[str, Any]:
    """The `kb status` structure from the counted figures and the time now."""
    moment = _naive(now)
    sources = figures["sources"]
    for entry in sources.values():
        entry["age_days"] = _age_days(entry["newest"], entry["last_sync"], moment)
    empty = not any(s["records"] for s in sources.values()) and not sources["nvd"]["rejected"]
    fresh = freshness(sources)
    age = None if fresh is None else round((moment - fresh).total_seconds() / 86400, 1)
    status: dict[str, Any] = {
        "database": database,
        "generated": iso(moment),
        "empty": empty,
        "newest_data": iso(fresh) if fresh else None,
        "age_days": age,
        "max_age_days": KB_MAX_AGE_DAYS,
        "stale": age is not None and age > KB_MAX_AGE_DAYS,
        "sources": sources,
        "vendors": figures["vendors"],
    }
    if empty:
        status["hint"] = EMPTY_HINT
    return status


def warning_text(status: dict[str, Any]) -> str | None:
    if not status["stale"]:
        return None
    nvd_sync = status["sources"]["nvd"]["last_sync"]
    return (
        f"the knowledge base is {status['age_days']:.0f} days old (newest data "
        f"{status['newest_data'][:10]}, last NVD sync {nvd_sync[:10] if nvd_sync else 'never'}; "
        f"limit {KB_MAX_AGE_DAYS} days): run `routerwatch kb sync` or import a newer bundle"
    )
