"""Engines and migrations of the fleet store (Alembic, through its API, on its own branch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from routerwatch import config
from routerwatch.kb import db as kbdb
from routerwatch.kb.errors import KBError

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "fleet_alembic_version"


class StoreError(Exception):
    """The fleet database cannot be opened or used; the message is one line."""


def default_url() -> str:
    """SQLite in the user's data directory ($ROUTERWATCH_HOME, else XDG data home)."""
    return f"sqlite:///{config.data_dir() / 'fleet.db'}"


def create_engine(url: str) -> Engine:
    """An engine with the same URL rules and SQLite pragmas as the knowledge base's."""
    try:
        engine = kbdb.create_engine(url)
    except KBError as exc:
        raise StoreError(str(exc)) from None
    return engine


def insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows (every row with the same keys), in list order, in the transaction of
    ``conn``: one COPY on PostgreSQL through psycopg 3 (about 5x fewer server round trips and no
    per-row statement work), an executemany INSERT elsewhere. Same stored values either way:
    the columns have no Python-side defaults or type decorators to apply."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        cols = list(rows[0])
        prep = conn.dialect.identifier_preparer
        sql = (f"COPY {prep.format_table(table)} ({', '.join(prep.quote(c) for c in cols)}) "
               "FROM STDIN")
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[c] for c in cols])
        return
    conn.execute(sa.insert(table), rows)


def reserve_ids(conn: Connection, table: sa.Table, n: int) -> list[int] | None:
    """``n`` fresh ids of ``table`` from its id sequence, ascending (PostgreSQL), so rows that
    others refer to can be written whole, once, at the end of a transaction; None where the
    database has no sequences (SQLite: insert and use RETURNING instead)."""
    if conn.dialect.name != "postgresql" or n <= 0:
        return None
    ids = conn.execute(sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                               "FROM generate_series(1, :n)"),
                       {"t": table.name, "n": n}).scalars().all()
    return sorted(int(i) for i in ids)


def _config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the fleet tables to the newest revision of the fleet branch (no-op when there)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    try:
        with engine.begin() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            if ctx.get_current_revision() == head:
                return
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot open fleet database {kbdb.safe_url(engine.url)}: {kbdb._short(exc)}"
        ) from None
