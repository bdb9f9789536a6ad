"""Covering indexes so `kb status` counts stay fast with all of NVD (300k records).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kb_nvd_status", "kb_nvd",
                    ["rejected", "has_configurations", "last_modified"])
    op.create_index("ix_kb_cve5_status", "kb_cve5", ["rejected", "date_updated"])


def downgrade() -> None:
    op.drop_index("ix_kb_cve5_status", table_name="kb_cve5")
    op.drop_index("ix_kb_nvd_status", table_name="kb_nvd")
