"""Alert rules, channels, deliveries and the delivery cursor (issue 13).

Revision ID: f0003
Revises: f0002
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

revision = 'f0003'
down_revision = 'f0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the change that adds these tables


def downgrade() -> None:
    pass
