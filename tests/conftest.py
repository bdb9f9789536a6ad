"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PG_BASE = os.environ.get("ROUTERWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the user's real data directory or database."""
    home = tmp_path_factory.mktemp("rwhome")
    monkeypatch.setenv("ROUTERWATCH_HOME", str(home))
    monkeypatch.delenv("ROUTERWATCH_DB", raising=False)
    monkeypatch.delenv("NVD_API_KEY", raising=False)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def _pg_reachable() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own, dropped afterwards."""
    if not _pg_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (tasks.py should start it)")
        pytest.skip("PostgreSQL not running on 127.0.0.1:5432")
    import sqlalchemy as sa

    schema = os.environ.get("ROUTERWATCH_TEST_PG_PREFIX", "t_") + uuid.uuid4().hex[:12]
    engine = sa.create_engine(PG_BASE)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
