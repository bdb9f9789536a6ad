"""API tokens: argon2id hashes at rest, shown once, expiring, revocable; roles; org scope.

A token reads ``rwt_<id>_<secret>``: the id finds the row, argon2 verifies the whole text.
Argon2 is slow on purpose, so a verified token is remembered in memory for ``CACHE_SECONDS``
(by its SHA-256); revoking through this process forgets it at once, and other processes within
that time.

Argon2id needs 64 MiB for each verification. So that a burst of new connections presenting
one token costs one verification, not one per connection, verifications are single-flight per
token id (the first caller verifies; the others wait for its answer), and at most
``MAX_VERIFYING`` run at once in a process (``verify_secret`` and ``hash_secret`` hold a
semaphore), which bounds the memory they take to ``MAX_VERIFYING`` x 64 MiB.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now, utc

_T = TypeVar("_T")
ROLES = ("viewer", "operator", "admin")
AGENT_ROLE = "agent"  # an enrolled agent's or sensor's credential: its own endpoints only
CACHE_SECONDS = 30.0
MAX_VERIFYING = 2  # argon2 hashes/verifications at once in a process (64 MiB each)
_hasher = PasswordHasher()
_argon2_slots = threading.BoundedSemaphore(MAX_VERIFYING)


class AuthError(Exception):
    """No valid token: missing, malformed, unknown, expired or revoked."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token, its organisation and role."""

    token_id: int
    org_id: int
    role: str
    name: str
    system: bool = False  # the token's organisation may manage the knowledge base

    def allows(self, role: str) -> bool:
        if AGENT_ROLE in (self.role, role):
            return self.role == role
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class NewToken:
    id: int
    token: str  # the secret text: shown once, never stored
    expires_at: datetime | None


_cache: dict[str, tuple[Principal, datetime | None, float]] = {}
_lock = threading.Lock()
_flights: dict[int, _Flight] = {}  # token id -> the verification in flight
_stats = {"argon2": 0, "argon2_peak": 0}
_running = 0  # argon2 computations running now (under _lock)


class _Flight:
    """One token verification in flight: who waits on it gets its answer (same token text)
    or starts its own once it lands (another text under the same id)."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        self.done = threading.Event()
        self.principal: Principal | None = None
        self.error: AuthError | None = None


def stats() -> dict[str, int]:
    """Counters of this process: argon2 computations done (``argon2``) and the most that
    ran at once (``argon2_peak``)."""
    with _lock:
        return dict(_stats)


def _argon2(fn: Callable[[], _T]) -> _T:
    global _running
    with _argon2_slots:
        with _lock:
            _running += 1
            _stats["argon2"] += 1
            _stats["argon2_peak"] = max(_stats["argon2_peak"], _running)
        try:
            return fn()
        finally:
            with _lock:
                _running -= 1


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_secret(text: str, *, fast: bool = False) -> str:
    """argon2id; ``fast``: SHA-256, for machine credentials that call every minute. Their
    secret is 256 random bits, so a slow hash adds no strength, and argon2 (~0.3 s a check
    here) would cap 5,000 agents at a few requests per second."""
    return "sha256:" + _digest(text) if fast else _argon2(lambda: _hasher.hash(text))


def verify_secret(stored: str, text: str) -> None:
    """VerificationError unless ``text`` matches the stored hash (either kind)."""
    if stored.startswith("sha256:"):
        if not hmac.compare_digest(stored[7:], _digest(text)):
            raise VerificationError("mismatch")
        return
    _argon2(lambda: _hasher.verify(stored, text))


def create_token(conn: Connection, org_id: int, name: str, role: str, *,
                 expires_in: timedelta | None = None, created_by: int | None = None) -> NewToken:
    """Store a new token's hash and return its text (the only time it is visible)."""
    if role not in ROLES and role != AGENT_ROLE:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    created = now()
    expires = created + expires_in if expires_in is not None else None
    token_id = conn.execute(sa.insert(t.tokens).values(
        org_id=org_id, name=name, role=role, secret_hash="-", created_at=created,
        expires_at=expires, created_by=created_by,
    ).returning(t.tokens.c.id)).scalar_one()
    text = f"rwt_{token_id}_{secrets.token_urlsafe(32)}"
    conn.execute(sa.update(t.tokens).where(t.tokens.c.id == token_id).values(
        secret_hash=hash_secret(text, fast=role == AGENT_ROLE)))
    return NewToken(token_id, text, expires)


def revoke_token(conn: Connection, org_id: int, token_id: int) -> bool:
    """Revoke a token of this organisation; False when there is none."""
    done = conn.execute(sa.update(t.tokens).where(
        t.tokens.c.id == token_id, t.tokens.c.org_id == org_id,
        t.tokens.c.revoked_at.is_(None)).values(revoked_at=now())).rowcount
    with _lock:
        for key in [k for k, v in _cache.items() if v[0].token_id == token_id]:
            del _cache[key]
    return bool(done)


def cached(token: str | None) -> Principal | None:
    """The principal of a token verified in this process less than ``CACHE_SECONDS`` ago and
    not expired since; None otherwise (no database, no argon2: the per-request fast path)."""
    if not token:
        return None
    return _cached(_digest(token), now())


def _cached(digest: str, moment: datetime) -> Principal | None:
    with _lock:
        hit = _cache.get(digest)
    if hit is not None:
        principal, expires, checked = hit
        if time.monotonic() - checked < CACHE_SECONDS and (expires is None or expires > moment):
            return principal
    return None


def authenticate(read: Callable[[], AbstractContextManager[Connection]],
                 token: str | None) -> Principal:
    """The principal of a bearer token; AuthError when it is not valid now. ``read`` opens a
    database connection (``FleetStore.read``); it is held only to read the token's row, never
    while argon2 runs or while waiting for another request's verification of the same token."""
    if not token:
        raise AuthError("missing bearer token")
    digest = _digest(token)
    hit = _cached(digest, now())
    if hit is not None:
        return hit
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "rwt" or not parts[1].isdigit() or len(token) > 200:
        raise AuthError("malformed token")
    token_id = int(parts[1])
    while True:
        with _lock:
            flight = _flights.get(token_id)
            leader = flight is None
            if flight is None:
                flight = _flights[token_id] = _Flight(digest)
        if leader:
            break
        flight.done.wait()
        if flight.digest == digest:  # the same text was just verified (or refused)
            if flight.error is not None:
                raise AuthError(str(flight.error))
            assert flight.principal is not None
            return flight.principal
        hit = _cached(digest, now())
        if hit is not None:
            return hit
    try:
        flight.principal = _verify(read, token, token_id, digest)
        return flight.principal
    except AuthError as exc:
        flight.error = exc
        raise
    finally:
        with _lock:
            _flights.pop(token_id, None)
        flight.done.set()


def _verify(read: Callable[[], AbstractContextManager[Connection]], token: str, token_id: int,
            digest: str) -> Principal:
    with read() as conn:
        row = conn.execute(
            sa.select(t.tokens, t.orgs.c.system).join(t.orgs, t.orgs.c.id == t.tokens.c.org_id)
            .where(t.tokens.c.id == token_id)).first()
    if row is None:
        raise AuthError("unknown token")
    try:
        verify_secret(row.secret_hash, token)
    except (VerificationError, InvalidHashError):
        raise AuthError("unknown token") from None
    if row.revoked_at is not None:
        raise AuthError("token revoked")
    moment = now()
    expires = utc(row.expires_at)
    if expires is not None and expires <= moment:
        raise AuthError("token expired")
    principal = Principal(row.id, row.org_id, row.role, row.name, bool(row.system))
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (principal, expires, time.monotonic())
    return principal


def forget_cached() -> None:
    """Drop every remembered verification (tests; after bulk revocation)."""
    with _lock:
        _cache.clear()
