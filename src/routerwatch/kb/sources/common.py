"""Small pure helpers the source parsers share: dates, CVSS choice, JSON text."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from routerwatch.kb.errors import RecordError

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,19}")
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode

_fast_dumps: Callable[[Any], bytes] | None
try:  # orjson: ~5x faster JSON; it matters with all of NVD (300k records) in the KB
    from orjson import dumps as _fast_dumps
except ImportError:  # pragma: no cover - orjson is a dependency, json is the fallback
    _fast_dumps = None


def dumps(value: Any) -> str:
    """Compact JSON text (UTF-8, no escapes), as stored in the KB."""
    if _fast_dumps is not None:
        try:
            return _fast_dumps(value).decode()
        except TypeError:  # e.g. an integer beyond 64 bits: let json write it
            pass
    return _ENCODE(value)


def check_id(value: Any, index: int | None) -> str:
    if not isinstance(value, str) or not CVE_ID.fullmatch(value):
        raise RecordError(f"bad or missing CVE id {value!r}", index)
    return value


def timestamp(value: Any, field: str, index: int | None, cve_id: str | None) -> str:
    """An ISO date/time as UTC text ``YYYY-MM-DDTHH:MM:SS.mmm`` (sortable as a string)."""
    if not isinstance(value, str):
        raise RecordError(f"{field} missing or not a string", index, cve_id)
    if len(value) == 23 and value[10] == "T" and value[19] == "." and value[-4:-3] != "+":
        try:  # fast path: already NVD's form YYYY-MM-DDTHH:MM:SS.mmm (UTC)
            datetime.fromisoformat(value)
            return value
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{field} {value[:40]!r} is not an ISO date", index, cve_id) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}"


def optional_timestamp(value: Any, field: str, index: int | None, cve_id: str | None) -> str | None:
    return None if value in (None, "") else timestamp(value, field, index, cve_id)


def date_only(value: Any, field: str, index: int | None, cve_id: str | None) -> str | None:
    """An ISO date ``YYYY-MM-DD`` (a time part is dropped), or None."""
    if value in (None, ""):
        return None
    return timestamp(value, field, index, cve_id)[:10]


def english(items: Any) -> str:
    """The English text of a ``[{"lang", "value"}]`` list, else the first one."""
    if not isinstance(items, list):
        return ""
    texts = [d for d in items if isinstance(d, dict) and isinstance(d.get("value"), str)]
    for d in texts:
        if str(d.get("lang", "")).lower().startswith("en"):
            return str(d["value"])
    return str(texts[0]["value"]) if texts else ""


def severity_of(score: float, version: str) -> str:
    """The qualitative rating of a score when the source gives none (v2 has no CRITICAL)."""
    if score == 0:
        return "NONE" if version != "2.0" else "LOW"
    if score < 4.0:
        return "LOW"
    if score < 7.0:
        return "MEDIUM"
    if score < 9.0 or version == "2.0":
        return "HIGH"
    return "CRITICAL"


def cpe_vendor(cpe: Any) -> str | None:
    if isinstance(cpe, str) and cpe.startswith("cpe:2.3:"):
        parts = cpe.split(":")
        if len(parts) > 3 and parts[3] not in ("*", "-", ""):
            return parts[3].lower()
    return None


def vendor_text(vendors: Iterable[str]) -> str:
    """Space-framed vendor ids (" tp-link netgear ") so a LIKE '% x %' finds one."""
    unique = sorted({v.strip().lower() for v in vendors if v and v.strip()})
    return " " + " ".join(unique) + " " if unique else " "


def unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)
