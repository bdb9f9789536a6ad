"""The same store, import, status, bundle and sync paths against the real PostgreSQL server."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from kb_fakeserver import serve
from kb_testlib import ALL_DATA, FIX, KEV_FILE, all_nvd_cves, find_cve, new_kb, page_of, snapshot
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.kb import KBError, KnowledgeBase, ensure_starter
from routerwatch.kb.db import normalize_url
from routerwatch.kb.sync import RateLimiter, Retry, SyncOptions, sync

pytestmark = pytest.mark.postgres


def test_import_status_and_records_match_sqlite(pg_url: str, tmp_path: Path) -> None:
    lite = new_kb(tmp_path)
    lite.import_paths(ALL_DATA)
    pg = KnowledgeBase(pg_url)
    assert pg.engine.dialect.name == "postgresql"
    pg.import_paths(ALL_DATA)
    for source in ("nvd", "cve5", "kev", "epss"):
        a, b = pg.status()["sources"][source], lite.status()["sources"][source]
        assert (a["records"], a["newest"]) == (b["records"], b["newest"])
    assert list(pg.records()) == list(lite.records())
    record = pg.get("CVE-2023-50224")
    assert record is not None and record.kev is None and record.nvd_kev_date == "2025-09-03"
    before = snapshot(pg, data_only=True)
    pg.import_paths(ALL_DATA)  # idempotent on PostgreSQL too
    assert snapshot(pg, data_only=True) == before
    pg.close()
    lite.close()


def test_bad_file_rolls_back_and_cli_status_is_unchanged(pg_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["kb", "import", str(KEV_FILE), "--db", pg_url]).exit_code == 0
    before = json.loads(runner.invoke(app, ["kb", "status", "-f", "json", "--db", pg_url]).stdout)
    broken = tmp_path / "broken.json"
    broken.write_text((FIX / "nvd" / "netgear.json").read_text()[:20000])
    result = runner.invoke(app, ["kb", "import", str(FIX / "nvd" / "asus.json"), str(broken),
                                 "--db", pg_url])
    assert result.exit_code != 0 and "broken.json" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    after = json.loads(runner.invoke(app, ["kb", "status", "-f", "json", "--db", pg_url]).stdout)
    before.pop("generated")
    after.pop("generated")
    assert after == before and after["sources"]["nvd"]["records"] == 0


def test_plain_postgresql_url_is_rewritten_to_psycopg(pg_url: str) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    assert normalize_url(plain).drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    with KnowledgeBase(plain) as kb:
        assert ensure_starter(kb) is True
        status = kb.status()
        assert status["sources"]["nvd"]["records"] >= 600  # the starter bundle
        assert status["vendors"]["TP-Link"]["nvd"]["records"] > 0  # coverage per vendor


def test_duplicates_in_one_batch_and_newer_wins(pg_url: str, tmp_path: Path) -> None:
    old = find_cve("CVE-2021-32030")
    new = copy.deepcopy(old)
    new["lastModified"] = "2030-01-01T00:00:00.000"
    new["descriptions"][0]["value"] = "newest"
    path = tmp_path / "dups.json"
    path.write_text(json.dumps(page_of([old, new, old])))
    with KnowledgeBase(pg_url) as kb:
        kb.import_paths([path])
        record = kb.get("CVE-2021-32030")
        assert record is not None and record.description == "newest"


def test_sync_into_postgresql(pg_url: str) -> None:
    from datetime import datetime

    now = datetime(2026, 11, 24)
    with KnowledgeBase(pg_url) as kb, serve(all_nvd_cves()) as feeds:
        feeds.faults = ["503", "ok", "cut"]
        sync(kb, SyncOptions(sources=["nvd"], urls={"nvd": feeds.nvd_url}, page_size=20,
                             since=now - timedelta(days=400), now=lambda: now,
                             retry=Retry(4, 0.001, 0.01), limiter=RateLimiter(1000, 1.0)))
        expected = {c["id"] for c in all_nvd_cves()
                    if datetime.fromisoformat(c["lastModified"]) >= now - timedelta(days=400)}
        assert {r.cve_id for r in kb.records()} == expected
        assert kb.status()["sources"]["nvd"]["sync_cursor"] == "2026-11-24T00:00:00.000"


def test_unreachable_database_is_a_kb_error() -> None:
    with pytest.raises(KBError, match="cannot open database"):
        KnowledgeBase("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
