"""The lean read path: an up-to-date SQLite KB read through the standard ``sqlite3`` module.

``routerwatch check`` spends most of its time before the first lookup: importing SQLAlchemy
and Alembic (~0.3 s), Alembic's revision check and counting the KB's status. For a SQLite KB
that needs no migration, whose match index is current and whose counted status is cached
(see :mod:`routerwatch.kb.status`), :func:`open_lean` answers the same reads without any of
that: the same SQL (rendered from the SQLAlchemy queries into :mod:`routerwatch.kb.lean_sql`,
checked by a test), the same row conversions, the same status structure. In every other case
it returns None and the caller opens the KB the full way (which migrates, rebuilds or counts,
and caches what the next lean open needs). Written by hand because no library reads this
schema without SQLAlchemy; the queries themselves are not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from routerwatch.kb import lean_sql as sql
from routerwatch.kb.errors import KBError
from routerwatch.models import CveRecord

__all__ = ["HEAD_REVISION", "LeanIndex", "LeanKb", "open_lean"]

HEAD_REVISION = "0004"  # the newest Alembic revision (a test checks it is the script head)
CHUNK = 500  # ids per IN (...) list, as routerwatch.kb.index


def _sqlite_database(url: str) -> str | None:
    """The database file of a plain ``sqlite:///PATH`` URL, decoded as SQLAlchemy reads it
    (None for anything else, including URLs with query parameters)."""
    from urllib.parse import unquote

    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    database = unquote(url[len(prefix):])
    return None if database in ("", ":memory:") else database


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _chunks(items: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class LeanKb:
    """An open, current SQLite KB (read only)."""

    def __init__(self, url: str, conn: sqlite3.Connection) -> None:
        self.url = url
        self.conn = conn
        self._figures: dict[str, Any] | None = None

    @property
    def display_url(self) -> str:
        return self.url

    def _fail(self, exc: sqlite3.Error) -> KBError:
        return KBError(f"database error on {self.url}: {str(exc).splitlines()[0]}")

    def stamp(self) -> str:
        """Exactly :func:`routerwatch.kb.status.stamp` of this KB."""
        from routerwatch.kb.freshness import stamp_text

        return stamp_text(self.conn.execute(sql.STATE).fetchall(),
                          self.conn.execute(sql.MATCH_STATE).fetchall())

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        from routerwatch.kb.freshness import finish_status

        if self._figures is None:
            raise KBError(f"{self.url}: no cached status")
        import copy

        return finish_status(copy.deepcopy(self._figures), self.display_url, now)

    def match_index(self) -> LeanIndex:
        return LeanIndex(self)

    def close(self) -> None:
        self.conn.close()


def open_lean(url: str) -> LeanKb | None:
    """The KB at ``url`` opened the lean way, or None when it needs the full path (not a
    SQLite file, missing, not at the newest schema, index built by another normaliser, empty,
    or no cached status for its current content)."""
    from urllib.parse import quote

    database = _sqlite_database(url)
    if database is None:
        return None
    path = Path(database).expanduser()
    if not path.is_file():
        return None
    # the URL as SQLAlchemy renders it (what `kb status` and reports show as "database")
    shown = "sqlite:///" + quote(database, safe=" +/")
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                               check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        kb = _check(shown, conn)
    except sqlite3.Error:
        kb = None
    if kb is None:
        conn.close()
    return kb


def _check(url: str, conn: sqlite3.Connection) -> LeanKb | None:
    from routerwatch.kb.freshness import CACHE_KEY, parse_cached
    from routerwatch.match.index import normaliser_version

    revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    if [tuple(r) for r in revision] != [(HEAD_REVISION,)]:
        return None
    state = dict(conn.execute(sql.MATCH_STATE).fetchall())
    if state.get("normaliser") != normaliser_version():
        return None
    if conn.execute(sql.NVD_ANY, [1, 0]).fetchone() is None:
        return None  # no NVD record: the full path imports the starter bundle
    kb = LeanKb(url, conn)
    kb._figures = parse_cached(state.get(CACHE_KEY), kb.stamp())
    if kb._figures is None:
        return None
    return kb


class LeanIndex:
    """:class:`routerwatch.kb.index.KbIndex` over ``sqlite3`` (the same statements and rows;
    ``statements`` and ``rows`` count the same way)."""

    def __init__(self, kb: LeanKb) -> None:
        self.kb = kb
        self.statements = 0
        self.rows = 0

    def _all(self, text: str, params: list[Any]) -> list[Any]:
        self.statements += 1
        try:
            return self.kb.conn.execute(text, params).fetchall()
        except sqlite3.Error as exc:
            raise self.kb._fail(exc) from None

    def vendor_known(self, vendor: str) -> bool:
        return bool(self._all(sql.VENDOR_KNOWN, [1, vendor, 1, 0]))

    def model_known(self, vendor: str, keys: Iterable[str]) -> bool:
        wanted = sorted(keys)
        if not wanted:
            return False
        text = sql.MODEL_KNOWN.replace(sql.MARK, _marks(len(wanted)))
        return bool(self._all(text, [1, vendor, *wanted, 1, 0]))

    def models(self, vendor: str) -> frozenset[str]:
        return frozenset(r[0] for r in self._all(sql.MODELS, [vendor]))

    def candidates(self, vendor: str, keys: Iterable[str]) -> list[str]:
        from routerwatch.match.index import VENDOR_WIDE

        wanted = sorted({*keys, VENDOR_WIDE})
        text = sql.CANDIDATES.replace(sql.MARK, _marks(len(wanted)))
        return [r[0] for r in self._all(text, [vendor, *wanted])]

    def load(self, cve_ids: Iterable[str]) -> list[tuple[CveRecord, str | None]]:
        from routerwatch.kb.query_rows import from_cve5_row, from_kev_row, from_nvd_row

        out: list[tuple[CveRecord, str | None]] = []
        for chunk in _chunks(sorted(set(cve_ids))):
            left = set(chunk)
            for text, convert in ((sql.NVD, from_nvd_row), (sql.CVE5, from_cve5_row),
                                  (sql.KEV, from_kev_row)):
                if not left:
                    break  # KEV-only records are read only when some are missing
                wanted = sorted(left)
                for row in self._all(text.replace(sql.MARK, _marks(len(wanted))), wanted):
                    self.rows += 1
                    record = convert(row)
                    left.discard(record.cve_id)
                    out.append((record, row[-1]))
        return out
