from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def kb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite KB with the shipped starter bundle, shared by the bulk tests."""
    from routerwatch.kb import ensure_starter, open_kb

    path = tmp_path_factory.mktemp("bulk-kb") / "kb.sqlite"
    url = f"sqlite:///{path}"
    kb = open_kb(url)
    ensure_starter(kb)
    kb.close()
    return url
