"""Remote agents and site sensors on the server side (issue 12).

- **Enrolment**: an admin makes a one-time, expiring token for one site and kind
  (``rwe_<id>_<secret>``, stored as an argon2id hash like API tokens). ``enrol`` exchanges it
  once for a per-agent credential: an API token of role ``agent`` linked to a row of
  ``fleet_agents``. Revoking the agent revokes that token at once.
- **Admission**: an agent credential may upload only to its own site, ``kind: agent`` for
  agents and ``kind: scan`` for sensors; every upload and job pull counts as contact.
- **Jobs**: scan jobs per site (targets, ports, interval) that sensors pull (``runner:
  sensor``), or that set the ports and schedule of a site's agents (``runner: agent``).
- **Silence**: an agent or sensor without contact for ``silent_after`` seconds becomes one
  ``agent.silent`` / ``sensor.silent`` event (once, until it is heard from again).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from routerwatch.server import events as ev
from routerwatch.server.auth import (
    AGENT_ROLE,
    Principal,
    create_token,
    hash_secret,
    revoke_token,
    verify_secret,
)
from routerwatch.server.store import FleetStore
from routerwatch.server.store import agents as ta
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now, utc

KINDS = ("agent", "sensor")
UPLOAD_KIND = {"agent": "agent", "sensor": "scan"}
DEFAULT_SILENT_AFTER = {"agent": 3 * 86400, "sensor": 3 * 3600}


class EnrolError(Exception):
    """The enrolment token cannot be used; the message is one line (answered as 401)."""


class AdmitError(Exception):
    """An agent credential may not make this upload; one line (answered as 403)."""


@dataclass(frozen=True)
class NewEnrolment:
    id: int
    token: str  # shown once
    site: str
    kind: str
    expires_at: datetime


@dataclass(frozen=True)
class Enrolled:
    agent_id: int
    kind: str
    site: str
    org: str
    token: str  # the agent's credential, shown once


def create_enrolment(conn: Connection, store: FleetStore, org_id: int, site: str, kind: str, *,
                     expires_in: timedelta = timedelta(days=7),
                     created_by: int | None = None,
                     silent_after: int | None = None) -> NewEnrolment:
    """A one-time enrolment token for ``site`` (created when new) and ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    site_id = store.ensure_site(conn, org_id, site)
    created = now()
    enrol_id = int(conn.execute(sa.insert(ta.enrolments).values(
        org_id=org_id, site_id=site_id, kind=kind, secret_hash="-", created_at=created,
        expires_at=created + expires_in, created_by=created_by, silent_after=silent_after,
    ).returning(ta.enrolments.c.id)).scalar_one())
    text = f"rwe_{enrol_id}_{secrets.token_urlsafe(32)}"
    conn.execute(sa.update(ta.enrolments).where(ta.enrolments.c.id == enrol_id).values(
        secret_hash=hash_secret(text)))
    return NewEnrolment(enrol_id, text, site, kind, created + expires_in)


def enrol(store: FleetStore, token: str, name: str) -> Enrolled:
    """Exchange an enrolment token (once) for an agent credential; EnrolError when it is not
    valid now."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "rwe" or not parts[1].isdigit() or len(token) > 200:
        raise EnrolError("malformed enrolment token (expected rwe_<id>_<secret>)")
    e = ta.enrolments
    with store.write() as conn:
        row = conn.execute(sa.select(e, t.sites.c.name.label("site"),
                                     t.orgs.c.name.label("org"))
                           .join(t.sites, t.sites.c.id == e.c.site_id)
                           .join(t.orgs, t.orgs.c.id == e.c.org_id)
                           .where(e.c.id == int(parts[1]))).first()
        if row is None:
            raise EnrolError("unknown enrolment token")
        try:
            verify_secret(row.secret_hash, token)
        except (VerificationError, InvalidHashError):
            raise EnrolError("unknown enrolment token") from None
        if row.revoked_at is not None:
            raise EnrolError("enrolment token revoked")
        if row.used_at is not None:
            raise EnrolError("enrolment token already used (they are one-time: ask for a new one)")
        moment = now()
        expires = utc(row.expires_at)
        if expires is not None and expires <= moment:
            raise EnrolError("enrolment token expired")
        conn.execute(sa.update(e).where(e.c.id == row.id).values(used_at=moment))
        made = create_token(conn, row.org_id, f"{row.kind}:{name}"[:200], AGENT_ROLE,
                            created_by=row.created_by)
        agent_id = int(conn.execute(sa.insert(ta.agents).values(
            org_id=row.org_id, site_id=row.site_id, kind=row.kind, name=name[:200],
            token_id=made.id, enrolment_id=row.id, created_at=moment, last_contact=moment,
            uploads=0, silent=False,
            silent_after=row.silent_after or DEFAULT_SILENT_AFTER[row.kind],
        ).returning(ta.agents.c.id)).scalar_one())
        ev.write(conn, [ev.Event("agent.enrolled", row.org_id,
                                 f"{row.kind} {name!r} enrolled for site {row.site}", "info",
                                 site_id=row.site_id, data={"agent_id": agent_id,
                                                            "kind": row.kind})])
    return Enrolled(agent_id, row.kind, row.site, row.org, made.token)


def revoke_agent(store: FleetStore, org_id: int, agent_id: int) -> bool:
    """Revoke an agent or sensor and its credential (at once); False when there is none."""
    a = ta.agents
    with store.write() as conn:
        row = conn.execute(sa.select(a).where(a.c.id == agent_id, a.c.org_id == org_id,
                                              a.c.revoked_at.is_(None))).first()
        if row is None:
            return False
        conn.execute(sa.update(a).where(a.c.id == agent_id).values(revoked_at=now()))
        revoke_token(conn, org_id, row.token_id)
        ev.write(conn, [ev.Event("agent.revoked", org_id, f"{row.kind} {row.name!r} revoked",
                                 "low", site_id=row.site_id, data={"agent_id": agent_id})])
    return True


def revoke_enrolment(conn: Connection, org_id: int, enrol_id: int) -> bool:
    e = ta.enrolments
    return bool(conn.execute(sa.update(e).where(
        e.c.id == enrol_id, e.c.org_id == org_id, e.c.used_at.is_(None),
        e.c.revoked_at.is_(None)).values(revoked_at=now())).rowcount)


@dataclass(frozen=True)
class AgentRow:
    id: int
    org_id: int
    site_id: int
    site: str
    kind: str
    name: str


def agent_of(conn: Connection, p: Principal) -> AgentRow:
    """The enrolled agent behind an agent credential; AdmitError when there is none."""
    a = ta.agents
    row = conn.execute(sa.select(a, t.sites.c.name.label("site"))
                       .join(t.sites, t.sites.c.id == a.c.site_id)
                       .where(a.c.token_id == p.token_id, a.c.org_id == p.org_id)).first()
    if row is None or row.revoked_at is not None:
        raise AdmitError("this credential belongs to no enrolled agent")
    return AgentRow(row.id, row.org_id, row.site_id, row.site, row.kind, row.name)


def contact(store: FleetStore, p: Principal, *, upload: bool = False,
            network: dict[str, Any] | None = None, site: str | None = None,
            kind: str | None = None) -> AgentRow:
    """Record that the agent behind ``p`` was heard from; returns it. For an upload, its
    ``site`` and ``kind`` must be the agent's own (AdmitError otherwise, nothing recorded).

    One UPDATE of the agent's own row in its own short transaction; on PostgreSQL outside
    the store's writer lock (row-level, it never interleaves with ingest), on SQLite inside it
    (one writer per file: waiting on the file lock would cost SQLite's busy-wait sleeps)."""
    a = ta.agents
    with (store.engine.begin() if store.dialect == "postgresql" else store.write()) as conn:
        agent = agent_of(conn, p)
        if upload:
            if site != agent.site:
                raise AdmitError(f"site: this {agent.kind} is enrolled for site "
                                 f"{agent.site!r}, not {(site or '')[:60]!r}")
            if kind != UPLOAD_KIND[agent.kind]:
                raise AdmitError(f"kind: a {agent.kind} uploads kind "
                                 f"{UPLOAD_KIND[agent.kind]!r}, not {(kind or '')[:20]!r}")
        values: dict[str, Any] = {"last_contact": now(), "silent": False}
        if upload:
            values["last_upload"] = values["last_contact"]
            values["uploads"] = a.c.uploads + 1
        if network is not None:
            values["network"] = orjson.dumps(network, option=orjson.OPT_SORT_KEYS).decode()
        conn.execute(sa.update(a).where(a.c.id == agent.id).values(**values))
    return agent


def admit_upload(store: FleetStore, p: Principal, site: str, kind: str,
                 network: dict[str, Any] | None = None) -> AgentRow:
    """Check an agent credential's upload (its own site, its kind) and count it as contact."""
    return contact(store, p, upload=True, network=network, site=site, kind=kind)


# ------------------------------------------------------------------------------- scan jobs

def job_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "site_id": row.site_id, "runner": row.runner, "name": row.name,
            "targets": orjson.loads(row.targets),
            "ports": orjson.loads(row.ports) if row.ports else None,
            "interval_seconds": row.interval_seconds, "complete": bool(row.complete),
            "enabled": bool(row.enabled)}


def create_job(conn: Connection, store: FleetStore, org_id: int, *, site: str, runner: str,
               name: str, targets: list[str], ports: list[int] | None, interval_seconds: int,
               complete: bool = False) -> dict[str, Any]:
    site_id = store.ensure_site(conn, org_id, site)
    j = ta.scan_jobs
    job_id = conn.execute(sa.insert(j).values(
        org_id=org_id, site_id=site_id, runner=runner, name=name,
        targets=orjson.dumps(targets).decode(),
        ports=orjson.dumps(ports).decode() if ports else None,
        interval_seconds=interval_seconds, complete=complete, enabled=True, created_at=now(),
    ).returning(j.c.id)).scalar_one()
    return job_dict(conn.execute(sa.select(j).where(j.c.id == job_id)).one())


def jobs_for(store: FleetStore, agent: AgentRow) -> list[dict[str, Any]]:
    """The enabled jobs of the agent's site meant for its kind, in id order."""
    j = ta.scan_jobs
    with store.read() as conn:
        rows = conn.execute(sa.select(j).where(
            j.c.org_id == agent.org_id, j.c.site_id == agent.site_id, j.c.runner == agent.kind,
            j.c.enabled.is_(True)).order_by(j.c.id)).all()
    return [job_dict(r) for r in rows]


# ------------------------------------------------------------------------------- silence

def check_silent(store: FleetStore, at: datetime | None = None) -> int:
    """Write one ``agent.silent`` / ``sensor.silent`` event for every agent or sensor not heard
    from within its ``silent_after``; returns how many."""
    moment = at or now()
    a = ta.agents
    with store.read() as conn:
        rows = conn.execute(sa.select(a).where(a.c.revoked_at.is_(None),
                                               a.c.silent.is_(False))).all()
    late = [r for r in rows
            if (utc(r.last_contact) or utc(r.created_at) or moment)
            + timedelta(seconds=r.silent_after) < moment]
    if not late:
        return 0
    with store.write() as conn:
        out = []
        for r in late:
            done = conn.execute(sa.update(a).where(a.c.id == r.id, a.c.silent.is_(False),
                                                   a.c.last_contact == r.last_contact)
                                .values(silent=True)).rowcount
            if not done:
                continue  # heard from meanwhile
            last = utc(r.last_contact)
            out.append(ev.Event(
                f"{r.kind}.silent", r.org_id,
                f"{r.kind} {r.name!r} silent: last contact {last:%Y-%m-%d %H:%M:%S}Z, "
                f"expected within {r.silent_after} s" if last else
                f"{r.kind} {r.name!r} never reported", "medium" if r.kind == "sensor" else "low",
                site_id=r.site_id, data={"agent_id": r.id, "last_contact": last}))
        return ev.write(conn, out)
