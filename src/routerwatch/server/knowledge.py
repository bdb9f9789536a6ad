"""The server's view of the knowledge base: loaded engines, a match cache, KB changes.

A KB change (bundle import, scheduled sync, or a change made by someone else, noticed by its
status fingerprint) becomes a ``fleet_kb_changes`` row with ``rematch_state = pending``; the
background re-match brings every device to it. Matching goes through the pipeline's engines
(the matcher and its index); this module never matches by itself.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routerwatch.kb import KnowledgeBase, ensure_starter
from routerwatch.models import DeviceIdentity, Finding, replace
from routerwatch.pipeline import Engines, load_engines
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now

IdentityKey = tuple[str | None, str | None, str | None, str | None, str | None]


def identity_key(identity: DeviceIdentity) -> IdentityKey:
    return (identity.vendor, identity.model, identity.hardware, identity.firmware,
            identity.region)


def fingerprint(status: dict[str, Any]) -> str:
    """A digest of what the KB holds (counts, newest records, imports, syncs), not of when."""
    keep = {}
    for name, src in sorted((status.get("sources") or {}).items()):
        keep[name] = {k: v for k, v in sorted(src.items()) if k != "age_days"}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


class Knowledge:
    """The KB, the engines built from it, and which KB change they reflect."""

    def __init__(self, kb_url: str | None, *, starter: bool = True, cache_size: int = 50_000):
        self.kb = KnowledgeBase(kb_url)
        if starter:
            ensure_starter(self.kb)
        self._lock = threading.RLock()
        self.changing = threading.RLock()  # held while the KB is written and its change recorded
        self._engines: Engines | None = None
        self.change_id = 0
        self._cache: OrderedDict[IdentityKey, tuple[Finding, ...]] = OrderedDict()
        self._cache_size = cache_size

    def close(self) -> None:
        self.kb.close()

    def engines(self) -> Engines:
        with self._lock:
            if self._engines is None:
                self._engines = load_engines(self.kb)
            return self._engines

    def check(self, identity: DeviceIdentity) -> tuple[Finding, ...]:
        """The matcher's findings for an identity (cached per KB change)."""
        key = identity_key(identity)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            engines = self.engines()
        found = tuple(engines.matcher.check(replace(identity, evidence=())))
        with self._lock:
            self._cache[key] = found
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found

    def status(self) -> dict[str, Any]:
        return self.kb.status()

    def reload(self) -> None:
        """Forget the engines and the cache: the next match reads the KB again."""
        with self._lock:
            self._engines = None
            self._cache.clear()

    def sync_change(self, conn: Connection, kind: str, detail: str) -> int | None:
        """Record a KB change when the KB's fingerprint moved; returns its id (else None).

        The first call on an empty store records the starting point (and returns None).
        Always leaves ``change_id`` at the newest change.
        """
        fp = fingerprint(self.status())
        last = conn.execute(sa.select(t.kb_changes.c.id, t.kb_changes.c.fingerprint)
                            .order_by(t.kb_changes.c.id.desc()).limit(1)).first()
        if last is not None and last.fingerprint == fp:
            self._set_change(int(last.id))
            return None
        has_devices = conn.execute(sa.select(t.devices.c.id).limit(1)).first() is not None
        first = last is None
        change_id = int(conn.execute(sa.insert(t.kb_changes).values(
            at=now(), kind="initial" if first else kind, detail=detail, fingerprint=fp,
            rematch_state="pending" if has_devices else "done",
            rematch_done_at=None if has_devices else now(), devices_rematched=0,
        ).returning(t.kb_changes.c.id)).scalar_one())
        self.reload()
        self._set_change(change_id)
        return None if first else change_id

    def _set_change(self, change_id: int) -> None:
        with self._lock:
            if change_id != self.change_id and self.change_id:
                self._cache.clear()
                self._engines = None
            self.change_id = change_id


def findings_digest(found: tuple[Finding, ...]) -> str:
    """A digest of what a match said (so a re-match can skip devices whose answer is the same)."""
    rows = sorted(
        (f.cve, f.status, f.kev, f.kev_date, f.epss, f.cvss, f.severity, f.fixed_in, f.reason)
        for f in found if f.status in ("affected", "possible")
    )
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()
