"""Token verification under a burst: one argon2 verification per token however many requests
present it at once (single-flight), at most ``MAX_VERIFYING`` argon2 computations at once in a
process, and a server's peak memory that stays bounded when 50 new connections arrive with
one token (before: every connection verified on its own, 64 MiB each, 900 MB peak)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from server_helpers import make_token

from routerwatch.server import auth
from routerwatch.server.store import FleetStore


def _burst(n: int, call) -> list[object]:
    barrier = threading.Barrier(n)

    def one(i: int) -> object:
        barrier.wait()
        try:
            return call(i)
        except auth.AuthError as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_a_burst_with_one_token_verifies_once(db_url):
    token = make_token(db_url, "acme", "viewer")
    store = FleetStore(db_url)
    try:
        auth.forget_cached()
        before = auth.stats()["argon2"]
        got = _burst(40, lambda _i: auth.authenticate(store.read, token))
        assert auth.stats()["argon2"] - before == 1
        assert all(isinstance(p, auth.Principal) for p in got)
        assert len({p for p in got}) == 1  # the same principal for everyone

        # a wrong secret under the same token id waits for the flight, then is refused on
        # its own verification: it never borrows the right token's answer
        auth.forget_cached()
        before = auth.stats()["argon2"]
        wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        got = _burst(20, lambda i: auth.authenticate(store.read, token if i % 2 else wrong))
        assert [isinstance(p, auth.Principal) for p in got] == [bool(i % 2) for i in range(20)]
        assert all(str(p) == "unknown token" for p in got[::2])
        assert auth.stats()["argon2"] - before == 2  # one for each text, not 20
    finally:
        store.close()


def test_argon2_runs_at_most_max_verifying_at_once(sqlite_url):
    tokens = [make_token(sqlite_url, f"org{i}", "viewer") for i in range(6)]
    store = FleetStore(sqlite_url)
    try:
        auth.forget_cached()
        before = auth.stats()["argon2"]
        got = _burst(6, lambda i: auth.authenticate(store.read, tokens[i]))
        assert all(isinstance(p, auth.Principal) for p in got)
        assert auth.stats()["argon2"] - before == 6  # distinct tokens: one each
        assert auth.stats()["argon2_peak"] <= auth.MAX_VERIFYING
    finally:
        store.close()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    pytest.fail("no VmHWM in /proc")


def test_fifty_new_connections_with_one_token_keep_memory_bounded(sqlite_url, kb_url,
                                                                   start_server):
    server = start_server(sqlite_url, kb_url)
    token = make_token(sqlite_url, "acme", "viewer")
    assert server.proc is not None
    base = _peak_rss_mb(server.proc.pid)

    def one(_i: int) -> int:
        with httpx.Client(base_url=server.url, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            return c.get("/api/v1/devices").status_code

    assert set(_burst(50, one)) == {200}
    grown = _peak_rss_mb(server.proc.pid) - base
    # one verification (64 MiB) plus threads and buffers; 50 at once took ~700 MB more
    assert grown < 64 * auth.MAX_VERIFYING + 120, f"peak RSS grew {grown:.0f} MB"
