"""Ingest: apply one validated upload to the store in one transaction, with its events.

Idempotent by run id: the same run uploaded again changes nothing and answers with the first
upload's result (a different body under a used run id is refused). An upload that is
committed is applied whole; one that is not is not applied at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routerwatch.assess import assess
from routerwatch.identity import compare_versions
from routerwatch.models import DeviceIdentity, Finding, Indicator, replace
from routerwatch.schema import from_builtins, to_builtins
from routerwatch.server import events as ev
from routerwatch.server import lifecycle
from routerwatch.server.knowledge import Knowledge, findings_digest, identity_key
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.store.db import insert_rows, reserve_ids
from routerwatch.server.timeutil import utc
from routerwatch.server.wire import HostRecord, Upload

CHUNK = 500


class ConflictError(Exception):
    """The run id was already used for a different upload."""


@dataclass(frozen=True)
class IngestResult:
    upload_id: int
    run_id: str
    duplicate: bool
    devices: int
    new_devices: int
    events: int


@dataclass(frozen=True)
class Settings:
    gone_after_runs: int = 2  # complete site scans in a row that miss a device
    gone_after: timedelta = timedelta(hours=1)  # ... and at least this long since last seen
    epss_jump: float = 0.1


def chunks(items: list[Any], size: int = CHUNK) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def load_findings(conn: Connection, device_ids: list[int]) -> dict[int, dict[str, Any]]:
    """device id → {cve → finding row as a dict}."""
    out: dict[int, dict[str, Any]] = {d: {} for d in device_ids}
    for part in chunks(device_ids):
        for row in conn.execute(sa.select(t.findings).where(t.findings.c.device_id.in_(part))):
            out[row.device_id][row.cve] = row._asdict()
    return out


def apply_finding_changes(conn: Connection, changes: list[lifecycle.FindingChanges]) -> None:
    insert_rows(conn, t.findings, [row for c in changes for row in c.inserts])
    by_cols: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for c in changes:
        for u in c.updates:
            by_cols.setdefault(tuple(sorted(u)), []).append(u)
    for cols, rows in by_cols.items():
        stmt = sa.update(t.findings).where(t.findings.c.id == sa.bindparam("_id")).values(
            {c: sa.bindparam(c) for c in cols if c != "_id"})
        conn.execute(stmt, rows)


def firmware_direction(vendor: str | None, old: str | None, new: str | None) -> str:
    if not old or not new:
        return "changed"
    order = compare_versions(vendor, new, old)
    return {1: "up", -1: "down", 0: "same version"}.get(order, "changed") \
        if order is not None else "changed"


class Scorer:
    """Risk, risk level and EOL date of devices, assessed once per distinct input.

    The store keeps only these three, and they depend on the identity, the findings kept
    (listed, not hidden) and the indicators only (the address and open ports feed the
    assessment's actions and echo, not its score), so devices that share them (a fleet of one
    model on one firmware) share one assessment. Use one per upload or re-match chunk.
    """

    def __init__(self) -> None:
        self._memo: dict[Any, tuple[float, str, str | None]] = {}

    def __call__(self, identity: DeviceIdentity, found: tuple[Finding, ...], hidden: set[str],
                 indicators: tuple[Indicator, ...]) -> tuple[float, str, str | None]:
        kept = tuple(f for f in found if f.status in ("affected", "possible")
                     and f.cve not in hidden)
        key = (identity_key(identity), kept, indicators)
        hit = self._memo.get(key)
        if hit is None:
            a = assess(identity, kept, indicators)
            hit = self._memo[key] = (a.risk, a.risk_level, a.eol)
        return hit


def _loads(text: str | None) -> Any:
    return orjson.loads(text) if text else []


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _changes(row: Any, h: HostRecord, kb_change: int) -> bool:
    """Does this sighting change anything beyond "seen again" (identity, ports, indicators,
    policy, or findings made with an older KB)?"""
    ident = h.identity
    return bool(
        (row.vendor, row.model, row.hardware, row.firmware, row.region)
        != (ident.vendor, ident.model, ident.hardware, ident.firmware, ident.region)
        or row.matched_kb != kb_change
        or _loads(row.open_ports) != sorted(h.open_ports)
        or {i["rule"] for i in _loads(row.indicators)} != {i.rule for i in h.indicators}
        or sorted(_loads(row.policy)) != sorted(h.policy)
    )


def ingest(store: FleetStore, knowledge: Knowledge, org_id: int, upload: Upload, digest: str,
           *, token_id: int | None = None, settings: Settings | None = None,
           received_at: datetime | None = None) -> IngestResult:
    """Apply ``upload`` for organisation ``org_id``; ConflictError on a reused run id."""
    settings = settings or Settings()
    with store.write() as conn:
        prior = conn.execute(sa.select(t.uploads).where(
            t.uploads.c.org_id == org_id, t.uploads.c.run_id == upload.run_id)).first()
        if prior is not None:
            if prior.digest != digest:
                raise ConflictError(f"run id {upload.run_id!r} was already used for another "
                                    "upload")
            return IngestResult(prior.id, upload.run_id, True, prior.hosts, 0, prior.events)
        return _apply(store, conn, knowledge, org_id, upload, digest, token_id, settings,
                      received_at or datetime.now(upload.observed_at.tzinfo))


def _apply(store: FleetStore, conn: Connection, knowledge: Knowledge, org_id: int,
           upload: Upload, digest: str, token_id: int | None, settings: Settings,
           received_at: datetime) -> IngestResult:
    at = upload.observed_at
    site_id = store.ensure_site(conn, org_id, upload.site)
    upload_id = int(conn.execute(sa.insert(t.uploads).values(
        org_id=org_id, site_id=site_id, run_id=upload.run_id, kind=upload.kind,
        complete=upload.complete, observed_at=at, received_at=received_at,
        hosts=len(upload.hosts), digest=digest, token_id=token_id,
        kb_snapshot=upload.kb_snapshot, events=0,
    ).returning(t.uploads.c.id)).scalar_one())
    kb_change = knowledge.change_id
    keys = [h.device_key for h in upload.hosts]
    by_key = {h.device_key: h for h in upload.hosts}
    existing: dict[str, Any] = {}  # device key → its row
    for part in chunks(keys):
        for found_row in conn.execute(sa.select(t.devices).where(
                t.devices.c.org_id == org_id, t.devices.c.device_key.in_(part))):
            existing[found_row.device_key] = found_row
    changed = {key: _changes(row, by_key[key], kb_change) for key, row in existing.items()}
    stored = load_findings(conn, [r.id for k, r in existing.items() if changed[k]])

    # new devices first: their ids are needed by everything else
    new_hosts = [h for h in upload.hosts if h.device_key not in existing]
    new_ids: dict[str, int] = {}
    fresh: dict[int, dict[str, Any]] = {}  # reserved id → first columns; inserted whole below
    if new_hosts:
        rows = [{
            "org_id": org_id, "site_id": site_id, "device_key": h.device_key,
            "state": "present", "first_seen": at, "last_seen": at, "missed_runs": 0,
            "address": h.address, "confidence": h.identity.confidence, "open_ports": "[]",
            "indicators": "[]", "policy": "[]", "risk": 0.0, "risk_level": "none",
            "kev_open": 0, "open_findings": 0, "matched_kb": 0, "findings_digest": "",
        } for h in new_hosts]
        reserved = reserve_ids(conn, t.devices, len(rows))
        if reserved is None:  # no sequences: insert now, complete the rows with the updates below
            ids = list(conn.execute(sa.insert(t.devices).returning(
                t.devices.c.id, sort_by_parameter_order=True), rows).scalars().all())
        else:
            ids = reserved
            fresh = {device_id: {"id": device_id, **row} for device_id, row in zip(
                ids, rows, strict=True)}
        for h, device_id in zip(new_hosts, ids, strict=True):
            stored[device_id] = {}
            new_ids[h.device_key] = device_id

    out: list[ev.Event] = []
    device_updates: list[dict[str, Any]] = []
    sightings: list[dict[str, Any]] = []
    identity_rows: list[dict[str, Any]] = []
    port_opens: list[dict[str, Any]] = []
    port_closes: list[dict[str, Any]] = []
    finding_changes: list[lifecycle.FindingChanges] = []
    seen_ids: list[int] = []
    touches: list[dict[str, Any]] = []  # seen again, nothing else changed
    score = Scorer()

    for h in upload.hosts:
        row: Any = existing.get(h.device_key)
        device_id = int(row.id) if row is not None else new_ids[h.device_key]
        seen_ids.append(device_id)
        sightings.append({"org_id": org_id, "device_id": device_id, "upload_id": upload_id,
                          "seen_at": at, "address": h.address,
                          "data": dumps(h.data)})

        def event(etype: str, why: str, severity: str = "info", *, _d: int = device_id,
                  **data: Any) -> None:
            out.append(ev.Event(etype, org_id, why, severity, site_id=site_id, device_id=_d,
                                observed_at=at, upload_id=upload_id, data=data))

        ident = h.identity
        label = replace(ident, evidence=()).label()
        last_seen = utc(row.last_seen) if row is not None else None
        if last_seen is not None and at < last_seen:
            continue  # an older run delivered late: kept as a sighting, current state stays
        if row is not None and not changed[h.device_key]:
            if row.state == "gone":
                event("device.back", f"{label} seen again at {h.address or '?'} after being "
                      "gone", "low", key=h.device_key)
            touches.append({"_id": device_id, "site_id": site_id, "last_seen": at,
                            "address": h.address, "confidence": ident.confidence})
            continue
        is_new = row is None
        changed_identity = is_new or (row.vendor, row.model, row.hardware, row.firmware) != (
            ident.vendor, ident.model, ident.hardware, ident.firmware)
        if is_new:
            event("device.new", f"new device {label} at {h.address or '?'} "
                  f"(key {h.device_key})", "low", key=h.device_key, address=h.address,
                  vendor=ident.vendor, model=ident.model, firmware=ident.firmware)
            context = "first sighting"
        else:
            context = "re-scan"
            if row.state == "gone":
                event("device.back", f"{label} seen again at {h.address or '?'} after being "
                      "gone", "low", key=h.device_key)
            if changed_identity:
                if (row.vendor, row.model, row.hardware) != (ident.vendor, ident.model,
                                                             ident.hardware):
                    event("device.identity_changed",
                          f"identity changed from {row.vendor} {row.model} v{row.hardware} to "
                          f"{label}", "medium", old=[row.vendor, row.model, row.hardware],
                          new=[ident.vendor, ident.model, ident.hardware])
                if row.firmware != ident.firmware:
                    direction = firmware_direction(ident.vendor, row.firmware, ident.firmware)
                    sev = "medium" if direction == "down" else "info"
                    event("device.firmware_changed",
                          f"firmware {direction}: {row.firmware or 'unknown'} → "
                          f"{ident.firmware or 'unknown'}", sev, old=row.firmware,
                          new=ident.firmware, direction=direction)
                    context = f"firmware {row.firmware or 'unknown'} → {ident.firmware or '?'}"
            elif row.matched_kb != kb_change:
                context = f"knowledge base change #{kb_change}"
        if changed_identity:
            identity_rows.append({"org_id": org_id, "device_id": device_id, "seen_at": at,
                                  "vendor": ident.vendor, "model": ident.model,
                                  "hardware": ident.hardware, "firmware": ident.firmware,
                                  "upload_id": upload_id})
        # ports
        old_ports = set(_loads(row.open_ports)) if row is not None else set()
        new_ports = set(h.open_ports)
        for port in sorted(new_ports - old_ports):
            port_opens.append({"org_id": org_id, "device_id": device_id, "port": port,
                               "opened_at": at})
            if not is_new:
                event("port.opened", f"new open port {port}", "medium", port=port)
        for port in sorted(old_ports - new_ports):
            port_closes.append({"_dev": device_id, "_port": port, "closed_at": at})
            event("port.closed", f"port {port} no longer open", "info", port=port)
        # indicators
        old_inds = {i["rule"] for i in _loads(row.indicators)} if row is not None else set()
        new_inds = {i.rule: i for i in h.indicators}
        for rule in sorted(set(new_inds) - old_inds):
            i = new_inds[rule]
            sev = "critical" if i.kind == "compromise" else "medium"
            event("indicator.new", f"{i.kind} indicator {rule}: {i.title}"
                  + (f" (campaign {i.campaign})" if i.campaign else ""), sev, rule=rule,
                  kind=i.kind, certainty=i.certainty, port=i.port)
        for rule in sorted(old_inds - set(new_inds)):
            event("indicator.cleared", f"indicator {rule} no longer seen", "info", rule=rule)
        # policy
        old_policy = set(_loads(row.policy)) if row is not None else set()
        for text in sorted(set(h.policy) - old_policy):
            event("policy.violation", f"policy violation: {text}", "high", text=text)
        # findings
        found = knowledge.check(ident)
        need_diff = changed_identity or row.matched_kb != kb_change
        hidden: set[str] = set()
        counts = (row.open_findings, row.kev_open) if row is not None else (0, 0)
        if need_diff:
            fc = lifecycle.diff(stored[device_id], list(found), org_id=org_id,
                                device_id=device_id, site_id=site_id, at=at, context=context,
                                epss_jump=settings.epss_jump, upload_id=upload_id)
            out.extend(fc.events)
            finding_changes.append(fc)
            hidden = fc.hidden
            counts = (fc.open_count, fc.kev_open)
        else:
            hidden = {c for c, r in stored[device_id].items() if r["state"] == "false_positive"}
        risk, level, eol = score(ident, found, hidden, h.indicators)
        device_updates.append({
            "_id": device_id, "site_id": site_id, "state": "present", "last_seen": at,
            "missed_runs": 0, "address": h.address, "vendor": ident.vendor,
            "model": ident.model, "hardware": ident.hardware, "firmware": ident.firmware,
            "region": ident.region, "confidence": ident.confidence,
            "open_ports": dumps(sorted(new_ports)),
            "indicators": dumps([to_builtins(i) for i in h.indicators]),
            "policy": dumps(sorted(h.policy)), "risk": risk, "risk_level": level,
            "eol": eol, "open_findings": counts[0], "kev_open": counts[1],
            "matched_kb": kb_change, "findings_digest": findings_digest(found),
        })

    if fresh:  # new devices, whole: first columns and the sighting's (same as insert+update)
        insert_rows(conn, t.devices, [{**fresh[u["_id"]], **{k: v for k, v in u.items()
                                                              if k != "_id"}}
                                      for u in device_updates if u["_id"] in fresh])
        device_updates = [u for u in device_updates if u["_id"] not in fresh]
    apply_finding_changes(conn, finding_changes)
    if device_updates:
        cols = [c for c in device_updates[0] if c != "_id"]
        conn.execute(sa.update(t.devices).where(t.devices.c.id == sa.bindparam("_id")).values(
            {c: sa.bindparam(c) for c in cols}), device_updates)
    if touches:
        conn.execute(sa.update(t.devices).where(t.devices.c.id == sa.bindparam("_id")).values(
            site_id=sa.bindparam("site_id"), last_seen=sa.bindparam("last_seen"),
            address=sa.bindparam("address"), confidence=sa.bindparam("confidence"),
            state="present", missed_runs=0), touches)
    insert_rows(conn, t.sightings, sightings)
    insert_rows(conn, t.identities, identity_rows)
    insert_rows(conn, t.ports, port_opens)
    if port_closes:
        conn.execute(sa.update(t.ports).where(
            t.ports.c.device_id == sa.bindparam("_dev"), t.ports.c.port == sa.bindparam("_port"),
            t.ports.c.closed_at.is_(None)).values(closed_at=sa.bindparam("closed_at")),
            port_closes)
    if upload.complete:
        out.extend(_misses(conn, org_id, site_id, set(seen_ids), at, upload_id, settings))
    count = ev.write(conn, out)
    conn.execute(sa.update(t.uploads).where(t.uploads.c.id == upload_id).values(events=count))
    return IngestResult(upload_id, upload.run_id, False, len(upload.hosts), len(new_hosts),
                        count)


def _misses(conn: Connection, org_id: int, site_id: int, seen: set[int], at: datetime,
            upload_id: int, settings: Settings) -> list[ev.Event]:
    """Count a miss for every present device of the site the run did not see; some go."""
    d = t.devices
    rows = conn.execute(sa.select(d.c.id, d.c.missed_runs, d.c.last_seen, d.c.vendor,
                                  d.c.model, d.c.address, d.c.device_key).where(
        d.c.org_id == org_id, d.c.site_id == site_id, d.c.state == "present")).all()
    out: list[ev.Event] = []
    missed = [r for r in rows if r.id not in seen]
    bumps: list[dict[str, Any]] = []
    for r in missed:
        runs = r.missed_runs + 1
        last = utc(r.last_seen)
        gone = runs >= settings.gone_after_runs and last is not None and \
            at - last >= settings.gone_after
        bumps.append({"_id": r.id, "missed_runs": runs, "state": "gone" if gone else "present"})
        if gone:
            name = " ".join(x for x in (r.vendor, r.model) if x) or "device"
            out.append(ev.Event(
                "device.gone", org_id,
                f"{name} at {r.address or '?'} not seen in {runs} complete scans of its site "
                f"since {last.isoformat() if last else '?'}", "medium", site_id=site_id,
                device_id=r.id, observed_at=at, upload_id=upload_id,
                data={"key": r.device_key, "missed_runs": runs}))
    if bumps:
        conn.execute(sa.update(d).where(d.c.id == sa.bindparam("_id")).values(
            missed_runs=sa.bindparam("missed_runs"), state=sa.bindparam("state")), bumps)
    return out


__all__ = ["ConflictError", "IngestResult", "Scorer", "Settings", "ingest"]


def indicators_from_json(text: str | None) -> tuple[Indicator, ...]:
    """The device's current indicators as stored (the schema's plain form)."""
    return tuple(from_builtins(d, Indicator) for d in _loads(text))
