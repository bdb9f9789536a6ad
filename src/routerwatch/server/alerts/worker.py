"""The alert worker: a thread that plans (cursor → deliveries) and dispatches (deliveries →
channels) every ``tick`` seconds. It is separate from the re-match worker so a long re-match
never delays an alert, and its state is all in the database: a restart carries on where it
stopped.

On PostgreSQL only one server process delivers at a time (a session advisory lock); the
others stand by and take over when it goes away.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import sqlalchemy as sa

from routerwatch.server.alerts.dispatch import Dispatcher
from routerwatch.server.alerts.plan import plan
from routerwatch.server.store import FleetStore

log = logging.getLogger("routerwatch.server.alerts")
_LOCK_KEY = 0x72775F61  # "rw_a"


@dataclass
class AlertOptions:
    tick: float = 0.2  # seconds between rounds (an idle round is two small reads)
    batch: int = 2000  # events planned per organisation and round
    workers: int = 8  # channels sending at the same time


class AlertWorker:
    def __init__(self, store: FleetStore, options: AlertOptions | None = None) -> None:
        self.store = store
        self.options = options or AlertOptions()
        self.dispatcher = Dispatcher(store, workers=self.options.workers)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_conn: sa.engine.Connection | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="routerwatch-alerts",
                                        daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the sends under way (their outcome is recorded), then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.dispatcher.close()
        self._release()

    def _release(self) -> None:
        """Give up leadership: the lock belongs to the session, so the pooled connection is
        discarded (closing would only return it to the pool, still holding the lock)."""
        if self._lock_conn is not None:
            self._lock_conn.invalidate()
            self._lock_conn.close()
            self._lock_conn = None

    def _leader(self) -> bool:
        if self.store.dialect != "postgresql":
            return True
        if self._lock_conn is None:
            conn = self.store.engine.connect()
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": _LOCK_KEY}).scalar()
            conn.commit()
            if not got:
                conn.close()
                return False
            self._lock_conn = conn
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # keep delivering; the log has the details
                log.exception("alert round failed")
                self._release()
            self._wake.wait(self.options.tick)
            self._wake.clear()

    def round(self) -> None:
        """Plan until caught up (bounded), then start the due sends."""
        if not self._leader():
            return
        for _ in range(10):
            if self._stop.is_set():
                return
            if plan(self.store, self.options.batch).events_read < self.options.batch:
                break
        self.dispatcher.round()
