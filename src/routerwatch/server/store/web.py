"""The dashboard's tables: people who log in, their sessions, and login attempts.

Users belong to one organisation and have one role (viewer / operator / admin), as API tokens
do; passwords are stored only as argon2id hashes. A session row is keyed by the SHA-256 of the
random cookie value (the cookie itself is never stored) and carries its CSRF token. Login
attempts are kept for the rate limit (per user name + client address, with a lockout window).
Created by migration f0004.
"""

from __future__ import annotations

import sqlalchemy as sa

from routerwatch.server.store.schema import TS, _id, _org, metadata

users = sa.Table(
    "fleet_web_users",
    metadata,
    _id(),
    _org(),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id
    sa.Column("role", sa.String(16), nullable=False),  # viewer / operator / admin
    sa.Column("created_at", TS, nullable=False),
    sa.Column("disabled_at", TS),
    sa.Column("last_login_at", TS),
)

sessions = sa.Table(
    "fleet_web_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 hex of the cookie value
    sa.Column("user_id", sa.Integer, sa.ForeignKey("fleet_web_users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),  # absolute end
    sa.Column("last_seen_at", TS, nullable=False),  # idle timeout counts from here
)
sa.Index("ix_fleet_web_sessions_user", sessions.c.user_id)

login_attempts = sa.Table(
    "fleet_web_login_attempts",
    metadata,
    _id(),
    sa.Column("username", sa.String(100), nullable=False),  # as typed (casefolded, cut)
    sa.Column("client", sa.String(64), nullable=False),  # client address
    sa.Column("at", TS, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
)
sa.Index("ix_fleet_web_login_user_client", login_attempts.c.username, login_attempts.c.client,
         login_attempts.c.at)
sa.Index("ix_fleet_web_login_client", login_attempts.c.client, login_attempts.c.at)
