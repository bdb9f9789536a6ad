"""The on-disk queue of results not yet delivered (offline first).

A SQLite file (one transaction per change, so a crash leaves whole entries only). Bounded:
putting beyond ``max_items`` drops the oldest entries and counts them. Entries are delivered
in the order they were put; the server's idempotent ingest (run id) makes a re-delivery after
a crash harmless.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson


class Outbox:
    """A bounded FIFO of JSON documents in a SQLite file."""

    def __init__(self, path: Path, max_items: int = 1000) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.path = path
        self.max_items = max_items
        self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY "
                         "AUTOINCREMENT, run_id TEXT NOT NULL, doc BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value "
                         "INTEGER NOT NULL)")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bump(self, key: str, by: int) -> None:
        self._db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO "
                         "UPDATE SET value = value + excluded.value", (key, by))

    def put(self, run_id: str, doc: dict[str, Any]) -> int:
        """Queue ``doc``; returns how many old entries were dropped to stay bounded."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT INTO outbox(run_id, doc) VALUES (?, ?)",
                             (run_id, orjson.dumps(doc)))
            over = len(self) - self.max_items
            if over > 0:
                self._db.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
                                 "ORDER BY id LIMIT ?)", (over,))
                self._bump("dropped", over)
            return max(over, 0)

    def peek(self, limit: int = 100) -> list[tuple[int, str, dict[str, Any]]]:
        """The oldest entries: (id, run id, document)."""
        rows = self._db.execute("SELECT id, run_id, doc FROM outbox ORDER BY id LIMIT ?",
                                (limit,)).fetchall()
        return [(int(i), str(r), orjson.loads(d)) for i, r, d in rows]

    def ack(self, entry_id: int) -> None:
        """Delivered: remove it."""
        self._db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))

    def reject(self, entry_id: int) -> None:
        """Refused for good (the server said it is invalid): remove it and count it."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))
            self._bump("rejected", 1)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def counter(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    @property
    def dropped(self) -> int:
        return self.counter("dropped")

    @property
    def rejected(self) -> int:
        return self.counter("rejected")
