"""Dashboard users and sessions (issue 13).

Revision ID: f0004
Revises: f0003
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

revision = 'f0004'
down_revision = 'f0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the change that adds these tables


def downgrade() -> None:
    pass
