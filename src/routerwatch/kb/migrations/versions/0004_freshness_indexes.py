"""Indexes on the newest NVD / CVE 5 dates: the staleness warning every command prints reads
max(last_modified) and max(date_updated) without scanning the tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kb_nvd_modified", "kb_nvd", ["last_modified"])
    op.create_index("ix_kb_cve5_updated", "kb_cve5", ["date_updated"])


def downgrade() -> None:
    op.drop_index("ix_kb_cve5_updated", table_name="kb_cve5")
    op.drop_index("ix_kb_nvd_modified", table_name="kb_nvd")
