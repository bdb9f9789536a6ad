"""The server's background worker: scheduled KB syncs, KB change detection, re-match, expiry.

One thread, woken every ``tick`` seconds or at once by ``kick()``; ``stop()`` lets the current
step finish (a re-match stops between chunks) so shutdown never leaves a half-applied change.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from routerwatch.server import kbops, rematch, triage
from routerwatch.server.ingest import Settings
from routerwatch.server.knowledge import Knowledge
from routerwatch.server.store import FleetStore
from routerwatch.server.ticker import Ticker

log = logging.getLogger("routerwatch.server.worker")


@dataclass
class WorkerOptions:
    tick: float = 5.0  # seconds between rounds
    kb_poll: float = 60.0  # seconds between KB fingerprint / staleness checks
    rematch_chunk: int = 2000


class Worker(Ticker):
    """Runs the background duties in a daemon thread."""

    def __init__(self, store: FleetStore, knowledge: Knowledge, settings: Settings,
                 options: WorkerOptions | None = None) -> None:
        self.store = store
        self.knowledge = knowledge
        self.settings = settings
        self.options = options or WorkerOptions()
        super().__init__("routerwatch-worker", self.options.tick, log)
        self._last_poll = 0.0
        self.busy = threading.Lock()

    def round(self) -> None:
        """One pass over every duty (also called directly by tests)."""
        with self.busy:
            for source in kbops.due_schedules(self.store):
                if self._stop.is_set():
                    return
                kbops.run_sync(self.store, self.knowledge, source)
            if time.monotonic() - self._last_poll >= self.options.kb_poll:
                self._last_poll = time.monotonic()
                kbops.record_change(self.store, self.knowledge, "external",
                                    "knowledge base changed outside the server")
                kbops.check_stale(self.store, self.knowledge)
            rematch.rematch(self.store, self.knowledge, self.settings,
                            chunk=self.options.rematch_chunk, stop=self._stop)
            triage.expire_accepted(self.store)
