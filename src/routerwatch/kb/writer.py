"""Batched, idempotent upserts into the KB tables on one open connection (transaction).

Rules: NVD rows are keyed by CVE id and ``lastModified`` (a newer record replaces an older
one; an equal or older one changes nothing), CVE 5 rows by ``dateUpdated``, EPSS rows by
score date; a KEV catalog replaces the stored catalog unless the stored one is newer.

Every flush of NVD or CVE 5 rows re-files those CVEs in the match index (routerwatch.kb.index)
in the same transaction, so the index never lags behind the records.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from routerwatch.kb import index
from routerwatch.kb.schema import TABLES, kev
from routerwatch.kb.sources.cve5 import DROPPED
from routerwatch.kb.state import get_state, iso, put_state, utcnow

BATCH = 2000
INDEXED = ("nvd", "cve5", "kev")  # the sources the match index is built from (KEV names too)
# the column deciding which of two versions of a row is newer (None: the last one wins)
VERSION = {"nvd": "last_modified", "cve5": "date_updated", "epss": "score_date", "kev": None}


def _version(source: str, row: dict[str, Any]) -> str:
    column = VERSION[source]
    return (row.get(column) or "") if column else ""


def upsert_statement(dialect: str, source: str) -> Any:
    table = TABLES[source]
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    stmt = insert(table)
    excluded = stmt.excluded
    values = {c.name: excluded[c.name] for c in table.c if c.name != "cve_id"}
    column = VERSION[source]
    where = None
    if column == "score_date":
        coalesce, empty = sa.func.coalesce, sa.literal_column("''", sa.String)
        where = coalesce(table.c.score_date, empty) <= coalesce(excluded.score_date, empty)
    elif column is not None:
        where = table.c[column] < excluded[column]
    return stmt.on_conflict_do_update(index_elements=[table.c.cve_id], set_=values, where=where)


class Writer:
    """Collects parsed rows and writes them in batches; ``flush()`` before commit."""

    def __init__(self, conn: Connection, batch: int = BATCH) -> None:
        self.conn = conn
        self.batch = batch
        self.dialect = conn.dialect.name
        self._pending: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in TABLES}
        self._statements: dict[str, Any] = {}
        self._compiled: dict[str, tuple[str, Any]] = {}
        self.counts: Counter[str] = Counter()  # rows read, per source
        self.touched: set[str] = set()
        self.skipped: list[str] = []  # notes about data not applied (older KEV catalog)
        self.indexed = 0  # records re-filed in the match index
        self._builder: index._Builder | None = None
        # CVE 5 CNA version entries dropped for naming another product (sources.cve5)
        self.dropped_versions = 0
        self.dropped_in: list[str] = []

    def add(self, source: str, row: dict[str, Any]) -> None:
        dropped = row.pop(DROPPED, 0)
        if dropped:
            self.dropped_versions += dropped
            self.dropped_in.append(row["cve_id"])
        pending = self._pending[source]
        old = pending.get(row["cve_id"])
        if old is None or _version(source, row) >= _version(source, old):
            pending[row["cve_id"]] = row
        self.counts[source] += 1
        self.touched.add(source)
        if len(pending) >= self.batch:
            self.flush(source)

    def flush(self, source: str | None = None) -> None:
        changed: set[str] = set()
        for name in [source] if source else list(self._pending):
            rows = list(self._pending[name].values())
            if not rows:
                continue
            stmt = self._statements.get(name)
            if stmt is None:
                stmt = self._statements[name] = upsert_statement(self.dialect, name)
            if self.dialect == "sqlite":
                # the hot path: one compiled statement, plain tuples, DB-API executemany
                sql, order = self._raw(name, stmt)
                self.conn.exec_driver_sql(sql, [order(r) for r in rows])
            else:
                self.conn.execute(stmt, rows)
            if name in INDEXED:
                changed.update(r["cve_id"] for r in rows)
            self._pending[name] = {}
        if changed:
            if self._builder is None:
                self._builder = index._Builder()
            self.indexed += index.reindex(self.conn, changed, self._builder)

    def _raw(self, name: str, stmt: Any) -> tuple[str, Any]:
        cached = self._compiled.get(name)
        if cached is None:
            compiled = stmt.compile(dialect=self.conn.dialect)
            cached = self._compiled[name] = (str(compiled), itemgetter(*compiled.positiontup))
        return cached

    def begin_kev_catalog(self, meta: dict[str, Any], label: str) -> bool:
        """Start replacing the KEV catalog; False (and a note) when the stored one is newer."""
        stored = get_state(self.conn, "kev")["meta"].get("date_released") or ""
        incoming = meta.get("date_released") or ""
        if stored and (not incoming or incoming < stored):  # undated: never newer
            self.skipped.append(
                f"{label}: KEV catalog {meta.get('catalog_version')} is older than the stored "
                f"one ({stored[:10]}); kept the stored catalog"
            )
            return False
        self._pending["kev"] = {}
        self.conn.execute(kev.delete())
        put_state(self.conn, "kev", meta={k: v for k, v in meta.items() if v is not None})
        self.touched.add("kev")
        return True

    def set_meta(self, source: str, meta: dict[str, Any]) -> None:
        put_state(self.conn, source, meta={k: v for k, v in meta.items() if v is not None})

    def finish(self, *, synced: bool = False) -> None:
        """Flush and stamp the import (or sync) time on every source that got data."""
        self.flush()
        now = iso(utcnow())
        for source in sorted(self.touched):
            if synced:
                put_state(self.conn, source, last_import=now, last_sync=now)
            else:
                put_state(self.conn, source, last_import=now)
