"""Knowledge-base tables: NVD, CVE 5, KEV, EPSS records and per-source state.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _cvss() -> list[sa.Column]:
    return [
        sa.Column("cvss_score", sa.Float),
        sa.Column("cvss_version", sa.Text),
        sa.Column("cvss_vector", sa.Text),
        sa.Column("severity", sa.Text),
    ]


def upgrade() -> None:
    op.create_table(
        "kb_nvd",
        sa.Column("cve_id", sa.String(32), primary_key=True),
        sa.Column("published", sa.String(32)),
        sa.Column("last_modified", sa.String(32), nullable=False),
        sa.Column("vuln_status", sa.Text),
        sa.Column("rejected", sa.Boolean, nullable=False),
        sa.Column("has_configurations", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        *_cvss(),
        sa.Column("nvd_kev_date", sa.String(32)),
        sa.Column("nvd_kev_due", sa.String(32)),
        sa.Column("vendors", sa.Text, nullable=False),
        sa.Column("configurations", sa.Text),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("cwes", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "kb_cve5",
        sa.Column("cve_id", sa.String(32), primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("rejected", sa.Boolean, nullable=False),
        sa.Column("date_updated", sa.String(32), nullable=False),
        sa.Column("published", sa.String(32)),
        sa.Column("description", sa.Text, nullable=False),
        *_cvss(),
        sa.Column("vendors", sa.Text, nullable=False),
        sa.Column("affected", sa.Text, nullable=False),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("cwes", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "kb_kev",
        sa.Column("cve_id", sa.String(32), primary_key=True),
        sa.Column("date_added", sa.String(32), nullable=False),
        sa.Column("due_date", sa.String(32)),
        sa.Column("ransomware", sa.Text),
        sa.Column("vendor", sa.Text),
        sa.Column("product", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("required_action", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "kb_epss",
        sa.Column("cve_id", sa.String(32), primary_key=True),
        sa.Column("epss", sa.Float, nullable=False),
        sa.Column("percentile", sa.Float),
        sa.Column("score_date", sa.String(32)),
        sa.Column("model_version", sa.Text),
    )
    op.create_table(
        "kb_source_state",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("last_import", sa.String(32)),
        sa.Column("last_sync", sa.String(32)),
        sa.Column("sync_cursor", sa.String(32)),
        sa.Column("meta", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("kb_source_state", "kb_epss", "kb_kev", "kb_cve5", "kb_nvd"):
        op.drop_table(table)
