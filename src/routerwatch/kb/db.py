"""Database URLs, engines and schema migrations (Alembic, run through its API)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from routerwatch.kb.errors import KBError

MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> URL:
    """Parse a database URL; plain ``postgresql://`` / ``postgres://`` use psycopg 3."""
    text = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix):]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise KBError(f"bad database URL {safe_url(url)!r}: {exc}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise KBError(
            f"unsupported database {parsed.get_backend_name()!r} in {safe_url(url)!r}: "
            "use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA page_size=16384")  # takes effect for a new database only
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA cache_size=-65536")
    finally:
        cur.close()


def create_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL + synchronous=NORMAL and its folder created."""
    parsed = normalize_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise KBError(f"cannot create the folder for {database}: {exc}") from None
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise KBError(f"cannot use database {safe_url(parsed)!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@contextmanager
def bulk_journal(conn: Connection, enabled: bool = True) -> Iterator[None]:
    """SQLite, big imports: a rollback journal instead of WAL for this one transaction.

    New pages appended to the file are not journaled, so a full-NVD import writes its
    ~1.4 GB once instead of twice (WAL, then checkpoint). Rollback on error still works.
    WAL is restored afterwards; when another connection prevents the switch, WAL stays.
    """
    switched = False
    if enabled and conn.dialect.name == "sqlite":
        try:
            mode = conn.exec_driver_sql("PRAGMA journal_mode=TRUNCATE").scalar()
            conn.commit()
            switched = str(mode).lower() == "truncate"
        except OperationalError:  # another process has the database open: stay in WAL
            conn.rollback()
    try:
        yield
    finally:
        if switched:
            if conn.in_transaction():
                conn.rollback()
            with suppress(OperationalError):  # else the next connection sets WAL again
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                conn.commit()


MIGRATION_WAIT = 300.0  # seconds a command waits for another one's migration
PG_MIGRATION_LOCK = 0x72776B62  # pg_advisory_xact_lock key ("rwkb")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of one SQLite file between processes (an flock on a lock file
    beside it; SQLite's own locks are fcntl locks, which flock does not disturb)."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        yield
        return
    import fcntl

    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate-lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise KBError(f"cannot open database {safe_url(engine.url)}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + MIGRATION_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KBError(
                        f"{safe_url(engine.url)}: another routerwatch has been migrating this "
                        f"database for more than {MIGRATION_WAIT:.0f} s"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (no-op when already there).

    Concurrent commands on a new database take turns: the first migrates, the others wait
    and then find it current (SQLite: a lock file; PostgreSQL: an advisory lock).
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(False).replace("%", "%%"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    try:
        with engine.connect() as conn:  # the common case: already current, no lock needed
            if MigrationContext.configure(conn).get_current_revision() == head:
                return
        with _migration_lock(engine), engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise KBError(f"cannot open database {safe_url(engine.url)}: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's background link."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
