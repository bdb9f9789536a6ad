"""Store helpers for the alert tests: devices with findings, the deliveries of an org."""

from __future__ import annotations

from typing import Any

from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now


def add_device(store: FleetStore, org: int, site: str, vendor: str, key: str,
               findings: list[tuple[str, bool, float | None]] = ()) -> tuple[int, int]:
    """A device row (and its findings: cve, kev, epss); returns (site id, device id)."""
    at = now()
    with store.write() as conn:
        site_id = store.ensure_site(conn, org, site)
        device_id = int(conn.execute(t.devices.insert().values(
            org_id=org, site_id=site_id, device_key=key, state="present", first_seen=at,
            last_seen=at, missed_runs=0, address="192.0.2.7", vendor=vendor, model="X1",
            confidence=1.0, open_ports="[]", indicators="[]", policy="[]", risk=0.0,
            risk_level="none", kev_open=0, open_findings=0, matched_kb=0,
            findings_digest="").returning(t.devices.c.id)).scalar_one())
        for cve, kev, epss in findings:
            conn.execute(t.findings.insert().values(
                org_id=org, device_id=device_id, cve=cve, state="open", present=True,
                match_status="affected", kev=kev, epss=epss, reason="test", first_seen=at,
                updated_at=at))
    return site_id, device_id


def deliveries(store: FleetStore, org: int, **kw: Any) -> list[Any]:
    from routerwatch.server.alerts import list_deliveries

    with store.read() as conn:
        return list_deliveries(conn, org, 1000, **kw)
