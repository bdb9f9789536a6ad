"""The alert worker: a thread that plans (cursor → deliveries) and dispatches (deliveries →
channels) every ``tick`` seconds. It is separate from the re-match worker so a long re-match
never delays an alert, and its state is all in the database: a restart carries on where it
stopped.

On PostgreSQL only one server process delivers at a time (a session advisory lock); the
others stand by and take over when it goes away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from routerwatch.server.alerts.dispatch import Dispatcher
from routerwatch.server.alerts.plan import plan
from routerwatch.server.store import FleetStore
from routerwatch.server.ticker import Ticker

log = logging.getLogger("routerwatch.server.alerts")
_LOCK_KEY = 0x72775F61  # "rw_a"


@dataclass
class AlertOptions:
    tick: float = 0.2  # seconds between rounds (an idle round is two small reads)
    batch: int = 2000  # events planned per organisation and round
    workers: int = 8  # channels sending at the same time


class AlertWorker(Ticker):
    def __init__(self, store: FleetStore, options: AlertOptions | None = None) -> None:
        self.store = store
        self.options = options or AlertOptions()
        super().__init__("routerwatch-alerts", self.options.tick, log)
        self.dispatcher = Dispatcher(store, workers=self.options.workers)
        self._lock_conn: sa.engine.Connection | None = None

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the sends under way (their outcome is recorded), then stop."""
        super().stop(timeout)
        self.dispatcher.close()
        self._release()

    def failed(self) -> None:
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

    def round(self) -> None:
        """Plan until caught up (bounded), starting the due sends after each batch so the
        first alerts of a burst do not wait for the last to be planned."""
        if not self._leader():
            return
        for _ in range(10):
            if self._stop.is_set():
                return
            read = plan(self.store, self.options.batch).events_read
            self.dispatcher.round()
            if read < self.options.batch:
                break
