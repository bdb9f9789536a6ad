"""Alembic environment of the fleet store: its own branch and version table, apart from the KB's."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from routerwatch.server.store.schema import metadata

VERSION_TABLE = "fleet_alembic_version"
config = context.config


def _include(obj: object, name: str | None, type_: str, *_a: object) -> bool:
    # The KB's tables may share the database: autogenerate looks only at the fleet's.
    return type_ != "table" or bool(name and name.startswith("fleet_"))


def _run_on(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        _run_on(conn)
    engine.dispose()


run()
