"""Tables of remote agents and site sensors (issue 12): one-time enrolment tokens, the enrolled
agents/sensors with their credentials and last contact, and the scan jobs sensors pull.

An enrolled agent's credential is an ordinary row of ``fleet_tokens`` with role ``agent``
(argon2 hash, revocable); ``fleet_agents.token_id`` links the two.
"""

from __future__ import annotations

import sqlalchemy as sa

from routerwatch.server.store.schema import TS, metadata

enrolments = sa.Table(
    "fleet_enrolments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("fleet_sites.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # agent / sensor
    sa.Column("secret_hash", sa.Text, nullable=False),  # argon2id of the whole token text
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("used_at", TS),  # one-time: set by the exchange
    sa.Column("revoked_at", TS),
    sa.Column("created_by", sa.Integer),
    sa.Column("silent_after", sa.Integer),  # for the agent it makes; NULL: the kind's default
)

agents = sa.Table(
    "fleet_agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("fleet_sites.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # agent / sensor
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_id", sa.Integer, sa.ForeignKey("fleet_tokens.id"), nullable=False),
    sa.Column("enrolment_id", sa.Integer),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_contact", TS),  # last job pull or upload
    sa.Column("last_upload", TS),
    sa.Column("uploads", sa.Integer, nullable=False),
    sa.Column("network", sa.Text),  # JSON: the network an agent last reported from
    sa.Column("silent_after", sa.Integer, nullable=False),  # seconds without contact → event
    sa.Column("silent", sa.Boolean, nullable=False),  # the event was written; reset on contact
    sa.Column("revoked_at", TS),
    sa.UniqueConstraint("token_id", name="uq_fleet_agents_token"),
)
sa.Index("ix_fleet_agents_org", agents.c.org_id, agents.c.id)

scan_jobs = sa.Table(
    "fleet_scan_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("fleet_sites.id"), nullable=False),
    sa.Column("runner", sa.String(16), nullable=False),  # sensor / agent
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("targets", sa.Text, nullable=False),  # JSON list of target texts
    sa.Column("ports", sa.Text),  # JSON list of ports, or NULL for the scanner's default
    sa.Column("interval_seconds", sa.Integer, nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),  # the job covers its whole site
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)
sa.Index("ix_fleet_scan_jobs_site", scan_jobs.c.org_id, scan_jobs.c.site_id)
