"""Shared by the CLI tests (issue 18): one starter KB for the package, a CLI runner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app


@pytest.fixture(scope="session")
def kb_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite KB holding the starter bundle (imported once for the session)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('clikb') / 'kb.db'}"
    result = CliRunner().invoke(app, ["kb", "import", "--starter", "--db", db])
    assert result.exit_code == 0, result.stderr
    return db
