"""UTC times for the store (SQLite hands datetimes back without their zone)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime | None) -> datetime | None:
    """The same moment, timezone-aware in UTC (naive values are taken as UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    m = utc(moment)
    return m.isoformat().replace("+00:00", "Z") if m is not None else None
