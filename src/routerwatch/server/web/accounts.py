"""Dashboard accounts: users with argon2id passwords, server-side sessions, login rate limit.

A session cookie holds 32 random bytes; the store keeps only their SHA-256 (a stolen database
does not hand out sessions) together with the session's CSRF token. Sessions end at logout,
after ``SESSION_HOURS`` in all, or after ``IDLE_MINUTES`` without a request.

The login rate limit counts failed attempts per (user name, client address) since the last
success within ``WINDOW``: ``MAX_FAILURES`` of them lock that pair out until the oldest falls
out of the window; ``MAX_CLIENT_FAILURES`` failures of one address over any user names lock the
address (password spraying). Attempts are rows, so the limit holds across restarts and
server processes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from routerwatch.server.auth import ROLES, Principal
from routerwatch.server.auth import _hasher as hasher
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.store import web as w
from routerwatch.server.timeutil import iso, now, utc

SESSION_HOURS = 12
IDLE_MINUTES = 120
WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 30
MIN_PASSWORD = 10
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
_DUMMY_HASH = hasher.hash("routerwatch-no-such-user")  # equal work for unknown user names


class AccountError(ValueError):
    """A user cannot be created or changed; the message says why."""


class LoginFailed(Exception):
    """Wrong user name or password (the message never says which)."""


class LockedOut(Exception):
    """Too many failed logins: ``retry_after`` seconds until the next attempt is heard."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class WebUser:
    id: int
    username: str
    org_id: int
    org: str
    role: str
    system: bool

    def principal(self) -> Principal:
        """The same caller object the API's token auth makes (token id 0: a person)."""
        return Principal(0, self.org_id, self.role, self.username, self.system)

    def allows(self, role: str) -> bool:
        return self.principal().allows(role)


@dataclass(frozen=True)
class Session:
    user: WebUser
    csrf: str
    key: str  # sha256 of the cookie value


def _key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def create_user(conn: Connection, org_id: int, username: str, password: str, role: str) -> int:
    """Store a new user; AccountError when the name, role or password is not acceptable."""
    if not USERNAME.fullmatch(username):
        raise AccountError("user name: 1-100 characters of letters, digits and . _ @ - "
                           "(starting with a letter or digit)")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    u = w.users
    if conn.execute(sa.select(u.c.id).where(sa.func.lower(u.c.username) == username.lower())
                    ).first() is not None:
        raise AccountError(f"user {username!r} exists")
    return int(conn.execute(sa.insert(u).values(
        org_id=org_id, username=username, password_hash=hasher.hash(password), role=role,
        created_at=now()).returning(u.c.id)).scalar_one())


def set_disabled(conn: Connection, username: str, disabled: bool) -> bool:
    """Disable (ending every session) or enable a user; False when there is none."""
    u = w.users
    row = conn.execute(sa.select(u.c.id).where(u.c.username == username)).first()
    if row is None:
        return False
    conn.execute(sa.update(u).where(u.c.id == row.id).values(
        disabled_at=now() if disabled else None))
    if disabled:
        conn.execute(sa.delete(w.sessions).where(w.sessions.c.user_id == row.id))
    return True


def list_users(conn: Connection) -> list[dict[str, object]]:
    u, o = w.users, t.orgs
    rows = conn.execute(sa.select(u.c.id, u.c.username, u.c.role, o.c.name.label("org"),
                                  u.c.created_at, u.c.disabled_at, u.c.last_login_at)
                        .join(o, o.c.id == u.c.org_id).order_by(u.c.id)).all()
    return [{k: iso(v) if isinstance(v, datetime) else v for k, v in r._mapping.items()}
            for r in rows]


def _user_select() -> sa.Select[tuple[object, ...]]:
    u, o = w.users, t.orgs
    return (sa.select(u.c.id, u.c.username, u.c.org_id, u.c.role, u.c.password_hash,
                      u.c.disabled_at, o.c.name.label("org"), o.c.system)
            .join(o, o.c.id == u.c.org_id))


def _web_user(row: sa.Row[tuple[object, ...]]) -> WebUser:
    m = row._mapping
    return WebUser(int(m["id"]), str(m["username"]), int(m["org_id"]), str(m["org"]),
                   str(m["role"]), bool(m["system"]))


def _lockout(conn: Connection, name: str, client: str, moment: datetime) -> int:
    """Seconds the pair (or the client) is still locked out, 0 when it may try."""
    a = w.login_attempts
    since = moment - WINDOW
    last_ok = conn.execute(sa.select(sa.func.max(a.c.at)).where(
        a.c.username == name, a.c.client == client, a.c.ok, a.c.at > since)).scalar()
    start = max(since, utc(last_ok) or since)
    fails = [utc(x) for x in conn.execute(
        sa.select(a.c.at).where(a.c.username == name, a.c.client == client, ~a.c.ok,
                                a.c.at > start).order_by(a.c.at)).scalars()]
    wait = 0.0
    if len(fails) >= MAX_FAILURES:
        oldest = fails[-MAX_FAILURES]
        assert oldest is not None
        wait = (oldest + WINDOW - moment).total_seconds()
    client_fails = [utc(x) for x in conn.execute(
        sa.select(a.c.at).where(a.c.client == client, ~a.c.ok, a.c.at > since)
        .order_by(a.c.at)).scalars()]
    if len(client_fails) >= MAX_CLIENT_FAILURES:
        oldest = client_fails[-MAX_CLIENT_FAILURES]
        assert oldest is not None
        wait = max(wait, (oldest + WINDOW - moment).total_seconds())
    return max(0, int(wait + 0.999))


def login(store: FleetStore, username: str, password: str, client: str) -> WebUser:
    """Check a password under the rate limit; LockedOut / LoginFailed."""
    name = username.strip().casefold()[:100]
    client = (client or "?")[:64]
    moment = now()
    with store.read() as conn:
        wait = _lockout(conn, name, client, moment)
        if wait:
            raise LockedOut(wait)
        row = conn.execute(_user_select().where(sa.func.lower(w.users.c.username) == name)
                           ).first()
    ok = False
    try:
        ok = hasher.verify(str(row.password_hash) if row is not None else _DUMMY_HASH,
                           password)
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and row is not None and row.disabled_at is None
    with store.write() as conn:
        conn.execute(sa.insert(w.login_attempts).values(username=name, client=client,
                                                        at=moment, ok=ok))
        conn.execute(sa.delete(w.login_attempts).where(
            w.login_attempts.c.at < moment - timedelta(days=1)))
        if ok and row is not None:
            conn.execute(sa.update(w.users).where(w.users.c.id == row.id)
                         .values(last_login_at=moment))
    if not ok or row is None:
        raise LoginFailed("wrong user name or password")
    return _web_user(row)


def open_session(store: FleetStore, user: WebUser) -> tuple[str, Session]:
    """A new session for the user: (cookie value, session)."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    moment = now()
    key = _key(cookie)
    with store.write() as conn:
        conn.execute(sa.delete(w.sessions).where(w.sessions.c.expires_at < moment))
        conn.execute(sa.insert(w.sessions).values(
            id=key, user_id=user.id, csrf=csrf, created_at=moment, last_seen_at=moment,
            expires_at=moment + timedelta(hours=SESSION_HOURS)))
    return cookie, Session(user, csrf, key)


def load_session(store: FleetStore, cookie: str | None) -> Session | None:
    """The live session of a cookie value, else None (unknown, expired, idle, user disabled)."""
    if not cookie or len(cookie) > 100:
        return None
    key = _key(cookie)
    s = w.sessions
    moment = now()
    with store.read() as conn:
        row = conn.execute(_user_select().add_columns(
            s.c.csrf, s.c.expires_at, s.c.last_seen_at).join(s, s.c.user_id == w.users.c.id)
            .where(s.c.id == key)).first()
    if row is None or row.disabled_at is not None:
        return None
    expires, seen = utc(row.expires_at), utc(row.last_seen_at)
    assert expires is not None and seen is not None
    if expires <= moment or seen + timedelta(minutes=IDLE_MINUTES) <= moment:
        return None
    if moment - seen > timedelta(minutes=1):  # idle clock: at most one write a minute
        with store.write() as conn:
            conn.execute(sa.update(s).where(s.c.id == key).values(last_seen_at=moment))
    return Session(_web_user(row), str(row.csrf), key)


def close_session(store: FleetStore, key: str) -> None:
    with store.write() as conn:
        conn.execute(sa.delete(w.sessions).where(w.sessions.c.id == key))
