"""The match index: kb_match_index (vendor key, model key, CVE), kb_match_compiled (each
record's compiled criteria) and kb_match_state (the normaliser version it was built with).

The tables start empty; opening the KB sees no normaliser version and builds the index
from the stored records (routerwatch.kb.index.ensure_current).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_match_index",
        sa.Column("vendor_key", sa.Text, primary_key=True),
        sa.Column("model_key", sa.Text, primary_key=True),
        sa.Column("cve_id", sa.String(32), primary_key=True),
    )
    op.create_index("ix_kb_match_index_cve", "kb_match_index", ["cve_id"])
    op.create_table(
        "kb_match_compiled",
        sa.Column("cve_id", sa.String(32), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "kb_match_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kb_match_state")
    op.drop_table("kb_match_compiled")
    op.drop_index("ix_kb_match_index_cve", table_name="kb_match_index")
    op.drop_table("kb_match_index")
