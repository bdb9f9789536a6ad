"""Fixtures for the fleet server tests: a real `routerwatch serve` (uvicorn) on 127.6.0.0/16.

Every server runs in its own process (so tests can SIGTERM or SIGKILL it) against SQLite or a
private PostgreSQL schema, with a copy of a KB that holds the shipped starter bundle.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from server_helpers import Server, serving


@pytest.fixture(scope="session")
def kb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KB SQLite file with the starter bundle imported (copied per server)."""
    from routerwatch.kb import ensure_starter, open_kb

    path = tmp_path_factory.mktemp("kbtemplate") / "kb.db"
    with open_kb(f"sqlite:///{path}") as kb:
        ensure_starter(kb)
    return path


@pytest.fixture
def kb_url(kb_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "kb.db"
    shutil.copy(kb_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fleet.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fleet.db'}"


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from serving(tmp_path)
