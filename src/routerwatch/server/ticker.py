"""A background duty run every ``tick`` seconds in a daemon thread (the re-match worker and
the alert worker are two): ``kick()`` runs a round at once, ``stop()`` lets the current round
finish. A round that raises is logged and the thread carries on."""

from __future__ import annotations

import logging
import threading


class Ticker:
    def __init__(self, name: str, tick: float, log: logging.Logger) -> None:
        self._name = name
        self._tick = tick
        self._log = log
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def round(self) -> None:
        raise NotImplementedError

    def failed(self) -> None:
        """Called after a round raised (the log has the details)."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Run a round now."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # keep the worker alive; the log has the details
                self._log.exception("background round failed")
                self.failed()
            self._wake.wait(self._tick)
            self._wake.clear()
