"""Fixtures for the dashboard tests: a real `routerwatch serve` on 127.43.0.0/16 filled with
the recorded lab scan (and a hostile device), users made by the CLI, headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import (
    HOST,
    Server,
    add_user,
    fleet_days,
    make_token,
    server_fixtures,
    serving,
)

CHROMIUM = "/usr/bin/chromium"


# The fleet server tests' KB and database fixtures, shared rather than copied.
_server = server_fixtures()
kb_template = _server.kb_template
kb_url = _server.kb_url
db_url = _server.db_url


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from serving(tmp_path, HOST)


class Fleet:
    """A running server with the fleet uploaded and three users of org "acme" (and one of
    another organisation)."""

    def __init__(self, server: Server, db: str) -> None:
        self.server, self.db, self.url = server, db, server.url


def _fill(server: Server, db: str) -> Fleet:
    token = make_token(db, "acme", "operator")
    with server.client(token) as c:
        for doc in fleet_days():
            r = c.post("/api/v1/uploads", json=doc)
            assert r.status_code == 201, r.text
    other = make_token(db, "other-org", "operator")
    with server.client(other) as c:
        assert c.post("/api/v1/uploads", json=fleet_days()[1]).status_code == 201
    for name, org, role in (("vera", "acme", "viewer"), ("otto", "acme", "operator"),
                            ("ada", "acme", "admin"), ("zoe", "other-org", "viewer")):
        done = add_user(db, name, org, role)
        assert done.returncode == 0, done.stderr
    server.wait_idle(token)
    return Fleet(server, db)


@pytest.fixture
def fleet(start_server: Callable[..., Server], kb_url: str, tmp_path: Path) -> Fleet:
    db = f"sqlite:///{tmp_path / 'fleet.db'}"
    return _fill(start_server(db, kb_url), db)


@pytest.fixture
def fleet_any_db(start_server: Callable[..., Server], kb_url: str, db_url: str) -> Fleet:
    return _fill(start_server(db_url, kb_url), db_url)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; under CI=true its absence fails the test instead of skipping."""
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (tasks.py ensure_chromium installs it)")
        pytest.skip(f"{CHROMIUM} is missing")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("the playwright package is missing (dev extra)")
        pytest.skip("playwright is not installed")
    return CHROMIUM


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True,
                               args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("ROUTERWATCH_SCREENSHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out
