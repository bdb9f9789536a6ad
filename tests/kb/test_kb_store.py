"""Store basics: URLs, default location, migrations matching the table definitions, laws."""

from __future__ import annotations

import copy
import functools
import itertools
import json
import tempfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given, settings
from hypothesis import strategies as st
from kb_testlib import KEV_FILE, find_cve, page_of

from routerwatch.kb import KBError, KnowledgeBase, open_kb
from routerwatch.kb.db import normalize_url, safe_url
from routerwatch.kb.reader import parse_size
from routerwatch.kb.schema import metadata


def _schema_diff(kb: KnowledgeBase) -> list[object]:
    with kb.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_migrations_create_exactly_the_defined_tables(tmp_path: Path) -> None:
    with KnowledgeBase(f"sqlite:///{tmp_path / 'kb.db'}") as kb:
        assert _schema_diff(kb) == []


@pytest.mark.postgres
def test_migrations_match_on_postgresql(pg_url: str) -> None:
    with KnowledgeBase(pg_url) as kb:
        assert _schema_diff(kb) == []


def test_default_location_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_kb() as kb:  # ROUTERWATCH_HOME is isolated by the suite's conftest
        assert kb.url.startswith("sqlite:///") and kb.url.endswith("routerwatch.db")
        assert Path(kb.url[len("sqlite:///"):]).exists()
    nested = tmp_path / "a" / "b" / "kb.db"
    monkeypatch.setenv("ROUTERWATCH_DB", f"sqlite:///{nested}")
    with open_kb() as kb:
        kb.import_paths([KEV_FILE])
    assert nested.exists()
    with KnowledgeBase("sqlite://") as memory:  # in-memory works for library use
        memory.import_paths([KEV_FILE])
        assert memory.status()["sources"]["kev"]["records"] == 1404


def test_url_handling() -> None:
    assert normalize_url("postgresql://u:pw@h/db").drivername == "postgresql+psycopg"
    assert "pw" not in safe_url("postgresql+psycopg://u:pw@h/db")
    for bad in ("mysql://u@h/db", "::nonsense::"):
        with pytest.raises(KBError, match="database"):
            normalize_url(bad)


def test_parse_size() -> None:
    assert parse_size("256M") == 256 * 1024**2
    assert parse_size("1GiB") == 1024**3
    assert parse_size("1000") == 1000
    for bad in ("", "-1", "lots", "0"):
        with pytest.raises(KBError):
            parse_size(bad)


_ids = itertools.count(1)


@functools.cache
def _shared_kb() -> KnowledgeBase:
    folder = tempfile.mkdtemp(prefix="kblaw")
    return KnowledgeBase(f"sqlite:///{Path(folder) / 'kb.db'}")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(2000, 2040), min_size=1, max_size=6))
def test_the_newest_version_always_wins(years: list[int]) -> None:
    """Whatever the order versions arrive in (one file or many), the newest stays."""
    kb = _shared_kb()  # one KB for all examples; each example has its own CVE id
    with tempfile.TemporaryDirectory() as tmp:
        cve_id = f"CVE-2099-{next(_ids):05d}"
        versions = []
        for year in years:
            cve = copy.deepcopy(find_cve("CVE-2012-2440"))
            cve["id"] = cve_id
            cve["lastModified"] = f"{year}-01-01T00:00:00.000"
            cve["descriptions"] = [{"lang": "en", "value": f"version {year}"}]
            versions.append(cve)
        split = len(versions) // 2
        for n, chunk in enumerate((versions[:split], versions[split:])):
            if chunk:
                path = Path(tmp) / f"v{n}.json"
                path.write_text(json.dumps(page_of(chunk)))
                kb.import_paths([path])
        record = kb.get(cve_id)
        assert record is not None and record.description == f"version {max(years)}"


def test_the_snapshot_id_is_a_content_hash() -> None:
    """Two KBs with the same counts and newest dates but one record changed get different
    snapshot ids; the same content gets the same id in another database."""
    import sqlalchemy as sa

    from routerwatch.kb.schema import kev
    from routerwatch.pipeline import kb_snapshot

    with KnowledgeBase("sqlite://") as a, KnowledgeBase("sqlite://") as b:
        a.import_paths([KEV_FILE])
        b.import_paths([KEV_FILE])
        first = kb_snapshot(a.status())
        assert first.id == kb_snapshot(b.status()).id
        assert len(a.status()["sources"]["kev"]["content"]) == 32
        with b.engine.begin() as conn:  # an older entry's date changes: count and newest don't
            oldest = conn.execute(sa.select(kev.c.cve_id).order_by(kev.c.date_added)).first()
            assert oldest is not None
            conn.execute(kev.update().where(kev.c.cve_id == oldest[0])
                         .values(date_added="2001-01-02"))
        from routerwatch.kb.status import content_digests

        with a.engine.connect() as ca, b.engine.connect() as cb:
            assert content_digests(ca)["kev"] != content_digests(cb)["kev"]
            assert content_digests(ca)["nvd"] == content_digests(cb)["nvd"]
