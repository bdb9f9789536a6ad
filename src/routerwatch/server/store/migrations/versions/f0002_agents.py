"""Agents, sensors, enrolment tokens and scan jobs (issue 12).

Revision ID: f0002
Revises: f0001
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

revision = 'f0002'
down_revision = 'f0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the change that adds these tables


def downgrade() -> None:
    pass
