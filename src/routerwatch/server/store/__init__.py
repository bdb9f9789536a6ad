"""The fleet store: organisations, sites, devices over time, findings, events (an outbox).

``FleetStore(url)`` opens (and migrates, on the fleet's own Alembic branch) a SQLite or
PostgreSQL database. Writers go through ``store.write()``: one transaction, and one writer at a
time (a process lock, plus a PostgreSQL advisory lock across processes), so ingest, re-match
and triage never interleave half-way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routerwatch.kb.db import safe_url
from routerwatch.server.store import schema
from routerwatch.server.store.db import StoreError, create_engine, default_url, migrate
from routerwatch.server.timeutil import now

__all__ = ["FleetStore", "StoreError", "default_url", "schema"]

_GENERATION = "SELECT n FROM fleet_generation WHERE id = 1"
_ADVISORY_KEY = 0x72775F66  # "rw_f": one fleet writer at a time across server processes


class FleetStore:
    """The fleet database behind one engine."""

    def __init__(self, url: str | None = None, *, pool_size: int = 10) -> None:
        self.url = url or default_url()
        self.engine = create_engine(self.url)
        self._lock = threading.RLock()
        self._aconn: Any = None  # psycopg.AsyncConnection of generation_async (PostgreSQL)
        self._alock: asyncio.Lock | None = None
        self._reads_started = 0  # generation reads begun on that connection
        self._last_read: int | None = None  # what the newest one read
        try:
            migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def display_url(self) -> str:
        return safe_url(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, the only writer while it lasts."""
        with self._lock, self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # per schema: stores in other schemas of the database never wait for this one
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k, "
                                     "hashtext(current_schema()))"), {"k": _ADVISORY_KEY})
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    async def generation_async(self) -> int:
        """``generation()`` for the event loop: on PostgreSQL one query on this process's own
        asyncio connection (psycopg, autocommit), so waiting for the database never blocks
        the loop; calls that arrive while a read is running share the next read (one round
        trip for a burst, and each call still sees every commit made before it began); on
        SQLite (in-process, no round trip) the plain read."""
        if self.dialect != "postgresql":
            return self.generation()
        import psycopg

        if self._alock is None:
            self._alock = asyncio.Lock()
        arrived = self._reads_started
        async with self._alock:
            if self._reads_started > arrived and self._last_read is not None:
                # a read that began after this call did (and has ended: reads hold the lock)
                # saw every commit this call must see: a burst of requests shares one read
                return self._last_read
            self._reads_started += 1
            self._last_read = None
            for attempt in (1, 2):
                try:
                    if self._aconn is None or self._aconn.closed:
                        info = self.engine.url.set(drivername="postgresql")
                        self._aconn = await psycopg.AsyncConnection.connect(
                            info.render_as_string(hide_password=False), autocommit=True)
                    cur = await self._aconn.execute(_GENERATION)
                    row = await cur.fetchone()
                    assert row is not None, "fleet_generation has no row"
                    self._last_read = int(row[0])
                    return self._last_read
                except psycopg.OperationalError:
                    if self._aconn is not None:
                        self._aconn.pgconn.finish()
                        self._aconn = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._aconn is not None:
            self._aconn.pgconn.finish()  # no loop needed to drop the socket
            self._aconn = None
        self.engine.dispose()

    def generation(self, conn: Connection | None = None) -> int:
        """The inventory write generation: it changes with every committed change to devices,
        sites or findings (database triggers, migration f0005), whichever process wrote."""
        if conn is None:
            with self.read() as own:
                return self.generation(own)
        return int(conn.exec_driver_sql(_GENERATION).scalar_one())

    # ------------------------------------------------------------------ organisations, sites
    def ensure_org(self, conn: Connection, name: str, *, system: bool = False) -> int:
        row = conn.execute(sa.select(schema.orgs.c.id).where(schema.orgs.c.name == name)).first()
        if row is not None:
            if system:
                conn.execute(sa.update(schema.orgs).where(schema.orgs.c.id == row[0])
                             .values(system=True))
            return int(row[0])
        return int(conn.execute(sa.insert(schema.orgs).values(
            name=name, system=system, created_at=now()).returning(schema.orgs.c.id)).scalar_one())

    def ensure_site(self, conn: Connection, org_id: int, name: str) -> int:
        s = schema.sites
        row = conn.execute(sa.select(s.c.id).where(s.c.org_id == org_id, s.c.name == name)).first()
        if row is not None:
            return int(row[0])
        return int(conn.execute(sa.insert(s).values(
            org_id=org_id, name=name, created_at=now()).returning(s.c.id)).scalar_one())

    def get_state(self, conn: Connection, key: str) -> str | None:
        row = conn.execute(sa.select(schema.state.c.value).where(schema.state.c.key == key)).first()
        return None if row is None else str(row[0])

    def set_state(self, conn: Connection, key: str, value: str) -> None:
        done = conn.execute(sa.update(schema.state).where(schema.state.c.key == key)
                            .values(value=value)).rowcount
        if not done:
            conn.execute(sa.insert(schema.state).values(key=key, value=value))


def check_url(url: str) -> None:
    """Raise StoreError for a URL the store cannot use (before starting anything)."""
    create_engine(url).dispose()

