"""Events: every change the fleet store makes is also a row in ``fleet_events`` (the outbox).

Writers collect ``Event`` values in the order things happened and ``write`` inserts them in
the same transaction as the change, so an event exists exactly when its change does. Readers
follow ``id``: it is the order of the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from routerwatch.server.store import schema as t
from routerwatch.server.store.db import insert_rows
from routerwatch.server.timeutil import now

TYPES = (
    "device.new", "device.gone", "device.back", "device.firmware_changed",
    "device.identity_changed", "port.opened", "port.closed",
    "finding.new", "finding.closed", "finding.reopened", "finding.kev", "finding.epss_jump",
    "finding.fix_available", "finding.triaged", "finding.risk_expired",
    "indicator.new", "indicator.cleared", "policy.violation", "kb.changed", "kb.stale",
    "agent.enrolled", "agent.revoked", "agent.silent", "sensor.silent",  # issue 12
)
SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass
class Event:
    """One change, with the sentence that says why it happened."""

    type: str
    org_id: int
    why: str
    severity: str = "info"
    site_id: int | None = None
    device_id: int | None = None
    cve: str | None = None
    observed_at: datetime | None = None
    upload_id: int | None = None
    kb_change_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def severity_of(cvss_severity: str | None, kev: bool) -> str:
    if kev:
        return "critical"
    s = (cvss_severity or "").lower()
    return s if s in SEVERITIES else "medium"


def write(conn: Connection, events: list[Event]) -> int:
    """Insert the events in list order; returns how many."""
    if not events:
        return 0
    at = now()
    sort = orjson.OPT_SORT_KEYS
    insert_rows(conn, t.events, [
        {
            "org_id": e.org_id, "type": e.type, "at": at, "observed_at": e.observed_at,
            "site_id": e.site_id, "device_id": e.device_id, "cve": e.cve,
            "severity": e.severity, "why": e.why[:2000],
            "data": orjson.dumps(e.data, default=str, option=sort).decode(),
            "upload_id": e.upload_id, "kb_change_id": e.kb_change_id,
        }
        for e in events
    ])
    return len(events)
