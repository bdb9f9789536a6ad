"""Migration f0002 creates exactly the tables of server/store/agents.py and downgrades cleanly
(SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from routerwatch.server.store import FleetStore
from routerwatch.server.store import agents as ta
from routerwatch.server.store.db import VERSION_TABLE, _config

OURS = {"fleet_enrolments", "fleet_agents", "fleet_scan_jobs"}


def test_f0002_matches_the_tables_and_downgrades(db_url: str) -> None:
    store = FleetStore(db_url)  # migrates to head
    try:
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            diff = [d for d in compare_metadata(ctx, ta.enrolments.metadata)
                    if any(t in repr(d) for t in OURS)]
        assert diff == []
        cfg = _config(store.engine)
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "f0001")
        assert not OURS & set(sa.inspect(store.engine).get_table_names())
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert set(sa.inspect(store.engine).get_table_names()) >= OURS
    finally:
        store.close()
