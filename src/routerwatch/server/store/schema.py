"""The fleet store's tables (SQLAlchemy Core); its own Alembic branch creates them.

Every row that belongs to a customer carries ``org_id`` and every query filters on it: one
organisation's token never reads another's rows. Times are timezone-aware UTC. CVEs are
referenced by id only; the store never copies knowledge-base rows. ``events`` is an outbox: rows
are written in the same transaction as the change they describe, and readers (the event log,
alert delivery) follow them by increasing ``id``.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _org() -> sa.Column:
    return sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False)


orgs = sa.Table(
    "fleet_orgs",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("system", sa.Boolean, nullable=False, default=False),  # may manage the KB
    sa.Column("created_at", TS, nullable=False),
)

sites = sa.Table(
    "fleet_sites",
    metadata,
    _id(),
    _org(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("org_id", "name", name="uq_fleet_sites_org_name"),
)

tokens = sa.Table(
    "fleet_tokens",
    metadata,
    _id(),
    _org(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # viewer / operator / admin
    sa.Column("secret_hash", sa.Text, nullable=False),  # argon2id
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS),
    sa.Column("revoked_at", TS),
    sa.Column("created_by", sa.Integer),
)

uploads = sa.Table(
    "fleet_uploads",
    metadata,
    _id(),
    _org(),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("fleet_sites.id"), nullable=False),
    sa.Column("run_id", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # scan / agent / check
    sa.Column("complete", sa.Boolean, nullable=False),  # covers the whole site: misses count
    sa.Column("observed_at", TS, nullable=False),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("hosts", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 of the body as received
    sa.Column("token_id", sa.Integer),
    sa.Column("kb_snapshot", sa.String(100)),
    sa.Column("events", sa.Integer, nullable=False),
    sa.UniqueConstraint("org_id", "run_id", name="uq_fleet_uploads_org_run"),
)

devices = sa.Table(
    "fleet_devices",
    metadata,
    _id(),
    _org(),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("fleet_sites.id"), nullable=False),
    sa.Column("device_key", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # present / gone
    sa.Column("first_seen", TS, nullable=False),
    sa.Column("last_seen", TS, nullable=False),
    sa.Column("missed_runs", sa.Integer, nullable=False),
    sa.Column("address", sa.String(64)),
    sa.Column("vendor", sa.String(100)),
    sa.Column("model", sa.String(200)),
    sa.Column("hardware", sa.String(100)),
    sa.Column("firmware", sa.String(200)),
    sa.Column("region", sa.String(32)),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("open_ports", sa.Text, nullable=False),  # JSON list, current
    sa.Column("indicators", sa.Text, nullable=False),  # JSON list of indicator dicts, current
    sa.Column("policy", sa.Text, nullable=False),  # JSON list of violation texts, current
    sa.Column("risk", sa.Float, nullable=False),
    sa.Column("risk_level", sa.String(16), nullable=False),
    sa.Column("eol", sa.String(32)),
    sa.Column("kev_open", sa.Integer, nullable=False),  # open findings in KEV
    sa.Column("open_findings", sa.Integer, nullable=False),
    sa.Column("matched_kb", sa.Integer, nullable=False),  # kb_changes.id findings were made with
    sa.Column("findings_digest", sa.String(64), nullable=False),  # of the match it was given
    sa.UniqueConstraint("org_id", "device_key", name="uq_fleet_devices_org_key"),
)
sa.Index("ix_fleet_devices_org_vendor", devices.c.org_id, devices.c.vendor)
sa.Index("ix_fleet_devices_org_site", devices.c.org_id, devices.c.site_id)
sa.Index("ix_fleet_devices_matched", devices.c.matched_kb)

sightings = sa.Table(
    "fleet_sightings",
    metadata,
    _id(),
    _org(),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("fleet_devices.id"), nullable=False),
    sa.Column("upload_id", sa.Integer, sa.ForeignKey("fleet_uploads.id"), nullable=False),
    sa.Column("seen_at", TS, nullable=False),
    sa.Column("address", sa.String(64)),
    sa.Column("data", sa.Text, nullable=False),  # the host record as uploaded (JSON)
)
sa.Index("ix_fleet_sightings_device", sightings.c.device_id, sightings.c.id)

identities = sa.Table(
    "fleet_identity_history",
    metadata,
    _id(),
    _org(),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("fleet_devices.id"), nullable=False),
    sa.Column("seen_at", TS, nullable=False),
    sa.Column("vendor", sa.String(100)),
    sa.Column("model", sa.String(200)),
    sa.Column("hardware", sa.String(100)),
    sa.Column("firmware", sa.String(200)),
    sa.Column("upload_id", sa.Integer),
)
sa.Index("ix_fleet_identity_device", identities.c.device_id)

ports = sa.Table(
    "fleet_port_history",
    metadata,
    _id(),
    _org(),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("fleet_devices.id"), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("opened_at", TS, nullable=False),  # first sighting of this open interval
    sa.Column("closed_at", TS),  # first sighting without it; NULL while open
)
sa.Index("ix_fleet_ports_device", ports.c.device_id)

findings = sa.Table(
    "fleet_findings",
    metadata,
    _id(),
    _org(),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("fleet_devices.id"), nullable=False),
    sa.Column("cve", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # open/fixed/accepted/false_positive
    sa.Column("present", sa.Boolean, nullable=False),  # does the newest match still list it
    sa.Column("match_status", sa.String(16), nullable=False),  # affected / possible
    sa.Column("kev", sa.Boolean, nullable=False),
    sa.Column("kev_date", sa.String(32)),
    sa.Column("epss", sa.Float),
    sa.Column("cvss", sa.Float),
    sa.Column("severity", sa.String(16)),
    sa.Column("fixed_in", sa.String(200)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("first_seen", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("fixed_at", TS),
    sa.Column("triage_reason", sa.Text),
    sa.Column("triage_by", sa.String(200)),
    sa.Column("triage_at", TS),
    sa.Column("triage_expires", TS),
    sa.UniqueConstraint("device_id", "cve", name="uq_fleet_findings_device_cve"),
)
sa.Index("ix_fleet_findings_org_state", findings.c.org_id, findings.c.state)

events = sa.Table(
    "fleet_events",
    metadata,
    _id(),
    _org(),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("at", TS, nullable=False),  # when the server recorded it
    sa.Column("observed_at", TS),  # when the change was seen (scan time), if from a scan
    sa.Column("site_id", sa.Integer),
    sa.Column("device_id", sa.Integer),
    sa.Column("cve", sa.String(32)),
    sa.Column("severity", sa.String(16), nullable=False),  # info / low / medium / high / critical
    sa.Column("why", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON details
    sa.Column("upload_id", sa.Integer),
    sa.Column("kb_change_id", sa.Integer),
)
sa.Index("ix_fleet_events_org_id", events.c.org_id, events.c.id)

kb_changes = sa.Table(
    "fleet_kb_changes",
    metadata,
    _id(),
    sa.Column("at", TS, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # initial / import / sync / external
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("rematch_state", sa.String(16), nullable=False),  # pending / running / done
    sa.Column("rematch_done_at", TS),
    sa.Column("devices_rematched", sa.Integer, nullable=False),
)

schedules = sa.Table(
    "fleet_kb_schedules",
    metadata,
    _id(),
    sa.Column("source", sa.String(16), nullable=False, unique=True),  # nvd / kev / epss
    sa.Column("interval_seconds", sa.Integer, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("next_run", TS, nullable=False),
    sa.Column("last_run", TS),
    sa.Column("last_status", sa.Text),
)

state = sa.Table(
    "fleet_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# One row: bumped in the same transaction as every change to devices, sites or findings, by
# database triggers (migration f0005), whoever writes. The API's page cache keys on it, so a
# write through any server process invalidates every process's cached pages.
generation = sa.Table(
    "fleet_generation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# tables of other areas, on the same metadata (imported last: they use TS and metadata)
from routerwatch.server.store import agents as _agents  # noqa: E402,F401  (issue 12)
from routerwatch.server.store import alerts as _alerts  # noqa: E402, F401
from routerwatch.server.store import web as _web  # noqa: E402, F401
