"""Migration f0003 creates the alert tables and its downgrade removes them (fleet branch)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from routerwatch.server.store import FleetStore
from routerwatch.server.store.db import _config

TABLES = {"fleet_alert_channels", "fleet_alert_rules", "fleet_alert_routes",
          "fleet_alert_deliveries", "fleet_alert_dedup"}


def test_f0003_up_and_down(db_url):
    store = FleetStore(db_url)  # migrates to head
    try:
        assert set(sa.inspect(store.engine).get_table_names()) >= TABLES
        with store.engine.begin() as conn:
            cfg = _config(store.engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "f0002")
        assert not TABLES & set(sa.inspect(store.engine).get_table_names())
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert set(sa.inspect(store.engine).get_table_names()) >= TABLES
    finally:
        store.close()
