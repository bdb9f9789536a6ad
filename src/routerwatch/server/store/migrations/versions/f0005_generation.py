"""Inventory write generation: a counter bumped by triggers on devices, sites and findings.

Revision ID: f0005
Revises: f0004
Create Date: 2026-12-04 02:00:00

The API's page cache (``server/api/pagecache.py``) keys cached inventory pages on this
counter. Triggers (not application code) bump it, so every writer, present or future, in
any process, invalidates the cache in the transaction of its change. PostgreSQL: one
statement-level trigger per table and operation that bumps only when the statement changed
rows (its transition table is not empty), so a COPY of 5,000 rows costs one bump. SQLite has
row-level triggers only (one bump per changed row; one process writes SQLite anyway).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'f0005'
down_revision = 'f0004'
branch_labels = None
depends_on = None

TABLES = ("fleet_devices", "fleet_sites", "fleet_findings")
OPS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


def upgrade() -> None:
    op.create_table(
        'fleet_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute("INSERT INTO fleet_generation (id, n) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION fleet_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM changed) THEN
                UPDATE fleet_generation SET n = n + 1 WHERE id = 1;
              END IF;
              RETURN NULL;
            END $$""")
        for table in TABLES:
            for verb, side in OPS:
                op.execute(f"CREATE TRIGGER {table}_gen_{verb.lower()} AFTER {verb} ON {table} "
                           f"REFERENCING {side} TABLE AS changed FOR EACH STATEMENT "
                           "EXECUTE FUNCTION fleet_bump_generation()")
    else:
        for table in TABLES:
            for verb, _side in OPS:
                op.execute(f"CREATE TRIGGER {table}_gen_{verb.lower()} AFTER {verb} ON {table} "
                           "BEGIN UPDATE fleet_generation SET n = n + 1 WHERE id = 1; END")


def downgrade() -> None:
    for table in TABLES:
        for verb, _side in OPS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_gen_{verb.lower()}"
                       + (f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fleet_bump_generation()")
    op.drop_table('fleet_generation')
