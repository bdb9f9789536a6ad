"""Fixtures for the agent and sensor tests: real fleet servers on 127.41.0.0/16, a KB copy."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "server"))

from server_helpers import Server

HOST = "127.41.0.1"  # the fleet server of these tests
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def kb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KB SQLite file with the starter bundle imported (copied per use)."""
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
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(db: str, kb: str, *extra: str, port: int | None = None) -> Server:
        server = Server(db, kb, tmp_path, list(extra), host=HOST, port=port).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fleet.db'}"
