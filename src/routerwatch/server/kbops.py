"""Knowledge that moves: bundle/file imports, scheduled syncs, KB changes and staleness.

Schedules live in ``fleet_kb_schedules`` (a restart loses nothing: the next due time is in
the database). Every import or sync that changes the KB records a KB change, tells every
organisation (``kb.changed``) and leaves the re-match pending for the background worker.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from routerwatch.kb import KBError, stale_warning
from routerwatch.server import events as ev
from routerwatch.server.knowledge import Knowledge
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now, utc

log = logging.getLogger("routerwatch.server.kb")
SOURCES = ("nvd", "kev", "epss")
MIN_INTERVAL = 300


def record_change(store: FleetStore, knowledge: Knowledge, kind: str, detail: str) -> int | None:
    """Record a KB change (when there is one) and tell every organisation about it."""
    with knowledge.changing, store.write() as conn:
        change = knowledge.sync_change(conn, kind, detail)
        if change is not None:
            orgs = conn.execute(sa.select(t.orgs.c.id).order_by(t.orgs.c.id)).scalars().all()
            ev.write(conn, [ev.Event("kb.changed", int(o), f"knowledge base updated: {detail}",
                                     "info", kb_change_id=change, data={"kind": kind})
                            for o in orgs])
    if change is not None:
        log.info("kb change recorded", extra={"kb_change": change, "kind": kind,
                                              "detail": detail})
    return change


class KBBusy(Exception):
    """Another import or sync is writing the KB right now."""


def import_bytes(store: FleetStore, knowledge: Knowledge, body: bytes, name: str,
                 wait: float = 10.0) -> dict[str, Any]:
    """Import one uploaded file (bundle, NVD/CVE 5/KEV JSON, EPSS CSV) and record the change.

    KBBusy when another import or a sync holds the KB for longer than ``wait`` seconds."""
    safe = "".join(c for c in Path(name).name if c.isalnum() or c in "._-")[:100] or "upload"
    if not knowledge.changing.acquire(timeout=wait):
        raise KBBusy("a KB sync or import is running; try again later")
    try:
        with tempfile.TemporaryDirectory(prefix="rw-kb-") as tmp:
            path = Path(tmp) / safe
            path.write_bytes(body)
            knowledge.kb.engine.dispose()  # idle pooled readers would block the bulk journal
            result = knowledge.kb.import_paths([path])
            change = record_change(store, knowledge, "import", f"import of {safe}")
    finally:
        knowledge.changing.release()
    summary = result.summary()
    return {"file": safe, "result": summary[:2000], "kb_change": change}


def set_schedule(store: FleetStore, source: str, interval_seconds: int, enabled: bool = True,
                 ) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    if interval_seconds < MIN_INTERVAL:
        raise ValueError(f"interval must be at least {MIN_INTERVAL} seconds")
    s = t.schedules
    with store.write() as conn:
        values = {"interval_seconds": interval_seconds, "enabled": enabled}
        if not conn.execute(sa.update(s).where(s.c.source == source).values(**values)).rowcount:
            conn.execute(sa.insert(s).values(source=source, next_run=now(), **values))


def due_schedules(store: FleetStore) -> list[str]:
    s = t.schedules
    moment = now()
    with store.read() as conn:
        rows = conn.execute(sa.select(s.c.source, s.c.next_run).where(s.c.enabled)).all()
    return [r.source for r in rows if (utc(r.next_run) or moment) <= moment]


def run_sync(store: FleetStore, knowledge: Knowledge, source: str) -> str:
    """Run one scheduled sync now; the schedule's next run moves on whatever happens."""
    from routerwatch.kb.sync import SyncOptions, sync

    s = t.schedules
    with knowledge.changing:
        try:
            lines = sync(knowledge.kb, SyncOptions(sources=[source], deadline=600.0))
            status = "ok: " + "; ".join(lines)
        except KBError as exc:
            status = f"failed: {exc}"
        if status.startswith("ok"):
            record_change(store, knowledge, "sync", f"scheduled {source} sync")
    moment = now()
    with store.write() as conn:
        interval = conn.execute(sa.select(s.c.interval_seconds).where(
            s.c.source == source)).scalar_one()
        conn.execute(sa.update(s).where(s.c.source == source).values(
            last_run=moment, last_status=status[:2000],
            next_run=moment + timedelta(seconds=int(interval))))
    log.info("kb sync", extra={"source": source, "status": status[:200]})
    return status


def check_stale(store: FleetStore, knowledge: Knowledge) -> bool:
    """Emit ``kb.stale`` to every organisation once when the KB turns stale; True if stale."""
    warning = stale_warning(knowledge.kb)
    with store.write() as conn:
        was = store.get_state(conn, "kb_stale") == "1"
        if warning and not was:
            orgs = conn.execute(sa.select(t.orgs.c.id).order_by(t.orgs.c.id)).scalars().all()
            ev.write(conn, [ev.Event("kb.stale", int(o), warning, "medium") for o in orgs])
        if bool(warning) != was:
            store.set_state(conn, "kb_stale", "1" if warning else "0")
    return bool(warning)
