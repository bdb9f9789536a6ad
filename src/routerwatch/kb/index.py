"""The match index stored in the KB: built when records are written, read per check.

``kb_match_index`` files every CVE under the (vendor key, model key) pairs its NVD CPEs,
CVE 5 data and KEV entry name (:func:`routerwatch.match.index.index_keys`);
``kb_match_compiled`` holds
each record's compiled criteria; ``kb_match_state`` the normaliser version the index was
built with. :class:`~routerwatch.kb.writer.Writer` re-indexes the records it writes (in the
same transaction), so an import or sync keeps the index current; a KB whose index was built
with another normaliser (or none, after the migration) is rebuilt on open.

:class:`KbIndex` is the read side (:class:`routerwatch.match.index.IndexSource`): a check
runs a constant number of indexed lookups and reads only its candidate records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from routerwatch.kb.db import _short, safe_url
from routerwatch.kb.errors import KBError
from routerwatch.kb.query import (
    cve5_only_query,
    from_cve5_row,
    from_kev_row,
    from_nvd_row,
    kev_only_query,
    nvd_query,
)
from routerwatch.kb.schema import match_compiled, match_index, match_state
from routerwatch.models import CveRecord
from routerwatch.progress import NullProgress, Progress

__all__ = ["KbIndex", "ensure_current", "index_version", "rebuild", "reindex"]

CHUNK = 500  # ids per IN (...) list
PAGE = 2000  # records per page when rebuilding
VERSION_KEY = "normaliser"


def current_version() -> str:
    from routerwatch.match.index import normaliser_version

    return normaliser_version()


def index_version(conn: Connection) -> str | None:
    """The normaliser version the stored index was built with (None: never built)."""
    value = conn.execute(
        sa.select(match_state.c.value).where(match_state.c.name == VERSION_KEY)
    ).scalar()
    return str(value) if value is not None else None


def _set_version(conn: Connection, version: str) -> None:
    conn.execute(match_state.delete().where(match_state.c.name == VERSION_KEY))
    conn.execute(match_state.insert().values(name=VERSION_KEY, value=version))


def _chunks(items: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class _Builder:
    """Index rows for records, with one rule set and compiler (reset now and then)."""

    def __init__(self) -> None:
        from routerwatch.match.aliases import AliasRules
        from routerwatch.match.criteria import Compiler

        self.rules = AliasRules.load()
        self._compiler_type = Compiler
        self.compiler = Compiler(self.rules)
        self.written = 0

    def write(self, conn: Connection, records: Iterable[CveRecord]) -> int:
        from routerwatch.match.index import compile_record, encode, index_keys

        keys: list[dict[str, str]] = []
        compiled: list[dict[str, str]] = []
        for record in records:
            pairs = index_keys(record, self.rules)
            if not pairs:
                continue  # names no vendor: never a candidate
            keys.extend({"vendor_key": vk, "model_key": mk, "cve_id": record.cve_id}
                        for vk, mk in sorted(pairs))
            compiled.append({"cve_id": record.cve_id,
                             "data": encode(compile_record(record, self.compiler))})
        if keys:
            conn.execute(match_index.insert(), keys)
            conn.execute(match_compiled.insert(), compiled)
        self.written += len(compiled)
        if self.written > 50_000:  # keep the interning tables of a full rebuild bounded
            self.compiler = self._compiler_type(self.rules)
            self.written = 0
        return len(compiled)


def _records(conn: Connection, ids: list[str]) -> list[CveRecord]:
    out = [from_nvd_row(r) for r in conn.execute(nvd_query(cve_ids=ids))]
    out.extend(from_cve5_row(r) for r in conn.execute(cve5_only_query(cve_ids=ids)))
    out.extend(from_kev_row(r) for r in conn.execute(kev_only_query(cve_ids=ids)))
    return out


def reindex(conn: Connection, cve_ids: Iterable[str], builder: _Builder | None = None) -> int:
    """Re-file these CVEs from what is stored now (in the caller's transaction); returns how
    many are indexed (rejected and vendor-less records are dropped from the index)."""
    ids = sorted(set(cve_ids))
    builder = builder or _Builder()
    count = 0
    for chunk in _chunks(ids):
        conn.execute(match_index.delete().where(match_index.c.cve_id.in_(chunk)))
        conn.execute(match_compiled.delete().where(match_compiled.c.cve_id.in_(chunk)))
        count += builder.write(conn, _records(conn, chunk))
    return count


def rebuild(conn: Connection, progress: Progress | None = None) -> int:
    """Build the whole index anew from the stored records; returns records indexed."""
    progress = progress or NullProgress()
    progress.start("building the match index", total=None)
    conn.execute(match_index.delete())
    conn.execute(match_compiled.delete())
    builder = _Builder()
    count = 0
    for make, convert in ((nvd_query, from_nvd_row), (cve5_only_query, from_cve5_row),
                          (kev_only_query, from_kev_row)):
        after: str | None = None
        while True:
            rows = conn.execute(make(after=after).limit(PAGE)).all()
            if not rows:
                break
            after = rows[-1][0]
            count += builder.write(conn, (convert(r) for r in rows))
            progress.advance(len(rows))
    _set_version(conn, current_version())
    progress.finish()
    return count


def ensure_current(engine: Engine, progress: Progress | None = None) -> bool:
    """Rebuild the index when it was built with another normaliser (or never); True if it
    did. On an up-to-date KB this is one small query."""
    version = current_version()
    with engine.connect() as conn:
        if index_version(conn) == version:
            return False
    with engine.begin() as conn:
        if index_version(conn) == version:  # another process just built it
            return False
        rebuild(conn, progress)
    return True


class KbIndex:
    """The KB's stored index, read through indexed lookups (one engine, short connections).

    ``statements`` counts the SQL statements run and ``rows`` the record rows read, so
    tests and benchmarks can see that a check reads only its candidates.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements = 0
        self.rows = 0

    def _fail(self, exc: SQLAlchemyError) -> KBError:
        return KBError(f"database error on {safe_url(self.engine.url)}: {_short(exc)}")

    def _scalar(self, query: sa.Select[Any]) -> Any:
        self.statements += 1
        try:
            with self.engine.connect() as conn:
                return conn.execute(query).scalar()
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None

    def _column(self, query: sa.Select[Any]) -> list[Any]:
        self.statements += 1
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(query).scalars())
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None

    def vendor_known(self, vendor: str) -> bool:
        return self._scalar(sa.select(sa.literal(1)).where(
            match_index.c.vendor_key == vendor).limit(1)) is not None

    def model_known(self, vendor: str, keys: Iterable[str]) -> bool:
        wanted = sorted(keys)
        if not wanted:
            return False
        return self._scalar(sa.select(sa.literal(1)).where(
            match_index.c.vendor_key == vendor, match_index.c.model_key.in_(wanted)
        ).limit(1)) is not None

    def models(self, vendor: str) -> frozenset[str]:
        return frozenset(self._column(sa.select(match_index.c.model_key).distinct().where(
            match_index.c.vendor_key == vendor)))

    def candidates(self, vendor: str, keys: Iterable[str]) -> list[str]:
        from routerwatch.match.index import VENDOR_WIDE

        wanted = sorted({*keys, VENDOR_WIDE})
        return self._column(sa.select(match_index.c.cve_id).distinct().where(
            match_index.c.vendor_key == vendor, match_index.c.model_key.in_(wanted)))

    def load(self, cve_ids: Iterable[str]) -> list[tuple[CveRecord, str | None]]:
        out: list[tuple[CveRecord, str | None]] = []
        ids = sorted(set(cve_ids))
        try:
            with self.engine.connect() as conn:
                for chunk in _chunks(ids):
                    left = set(chunk)
                    for make, convert in ((nvd_query, from_nvd_row),
                                          (cve5_only_query, from_cve5_row),
                                          (kev_only_query, from_kev_row)):
                        if not left:
                            break  # KEV-only records are read only when some are missing
                        self.statements += 1
                        for row in conn.execute(make(cve_ids=sorted(left), compiled=True)):
                            self.rows += 1
                            record = convert(row)
                            left.discard(record.cve_id)
                            out.append((record, row[-1]))
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None
        return out
