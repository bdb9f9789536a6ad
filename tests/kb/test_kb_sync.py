"""Online sync against a real HTTP server on 127.0.0.1 serving the real fixture records."""

from __future__ import annotations

import gzip
import itertools
import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kb_fakeserver import NVD_PATH, serve
from kb_testlib import EPSS_FIRST, KEV_FILE, all_nvd_cves, new_kb
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.kb import KBError, KnowledgeBase
from routerwatch.kb.sync import RateLimiter, Retry, SyncOptions, sync
from routerwatch.kb.sync.http import Fetcher, nvd_limiter
from routerwatch.kb.sync.nvd import MAX_WINDOW, windows

NOW = datetime(2026, 11, 24, 12, 0, 0)
SINCE = datetime(2015, 1, 1)
FAST = Retry(attempts=6, base=0.001, cap=0.01,
             sleep=lambda s: time.sleep(min(s, 0.01)))  # a Retry-After of 30 s: not here
FILES = {"/kev.json": KEV_FILE.read_bytes(), "/epss.csv.gz": gzip.compress(EPSS_FIRST.read_bytes())}


def _options(**kw: object) -> SyncOptions:
    values: dict[str, object] = dict(sources=["nvd"], since=SINCE, page_size=50, retry=FAST,
                                     limiter=RateLimiter(1000, 1.0), timeout=0.5, now=lambda: NOW)
    values.update(kw)
    return SyncOptions(**values)  # type: ignore[arg-type]


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0)
    return moment.replace(tzinfo=None)


def _nvd_ids(kb: KnowledgeBase) -> list[str]:
    return sorted(r.cve_id for r in kb.records() if r.vuln_status is not None)


def _expected(lo: datetime, hi: datetime) -> list[str]:
    return sorted(c["id"] for c in all_nvd_cves()
                  if lo <= datetime.fromisoformat(c["lastModified"]) <= hi)


def test_windows_and_faults_nothing_lost_or_duplicated(tmp_path: Path) -> None:
    cves = all_nvd_cves()
    reference = new_kb(tmp_path, "ref.db")
    reference.import_paths([Path(__file__).parents[1] / "fixtures" / "nvd"])
    kb = new_kb(tmp_path)
    with serve(cves) as feeds:
        feeds.faults = ["503", "503", "429", "ok", "truncated", "stall", "ok", "cut", "403"]
        lines = sync(kb, _options(urls={"nvd": feeds.nvd_url}, page_size=10))
        requests = feeds.nvd_requests()
    expected = _expected(SINCE, NOW)
    assert 100 < len(expected) < len(cves)
    assert _nvd_ids(kb) == expected  # nothing lost; ids are unique by construction
    assert kb.status()["sources"]["nvd"]["records"] == len(expected)
    for cve_id in expected:  # the same records as a file import
        assert kb.get(cve_id) == reference.get(cve_id)
    spans = [(_utc(r["lastModStartDate"]), _utc(r["lastModEndDate"])) for r in requests]
    assert all(r["lastModStartDate"].endswith(".000+00:00") for r in requests)
    assert all(hi - lo <= MAX_WINDOW for lo, hi in spans)
    distinct = sorted(set(spans))
    assert distinct[0][0] == SINCE and distinct[-1][1] == NOW
    assert all(a[1] == b[0] for a, b in itertools.pairwise(distinct))
    assert {r["resultsPerPage"] for r in requests} == {"10"}
    assert any(int(r["startIndex"]) > 0 for r in requests)  # paging happened
    state = kb.status()["sources"]["nvd"]
    assert state["sync_cursor"] == "2026-11-24T12:00:00.000" and state["last_sync"]
    assert "NVD:" in lines[0]
    reference.close()
    kb.close()


def test_resume_from_the_last_completed_window_after_a_crash(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    with serve(all_nvd_cves()) as feeds:
        feeds.fail_after = 12
        with pytest.raises(KBError, match="gave up after 3 attempts: HTTP 503"):
            sync(kb, _options(urls={"nvd": feeds.nvd_url}, retry=Retry(3, 0.001, 0.01)))
        cursor = kb.status()["sources"]["nvd"]["sync_cursor"]
        assert cursor is not None
        done = datetime.fromisoformat(cursor)
        assert SINCE < done < NOW
        # exactly the completed windows were kept; the broken one was rolled back
        assert _nvd_ids(kb) == _expected(SINCE, done)
        assert kb.status()["sources"]["nvd"]["last_sync"] is None
        feeds.fail_after = None
        seen = len(feeds.log)
        sync(kb, _options(urls={"nvd": feeds.nvd_url}, since=None))
        resumed = feeds.nvd_requests()[seen:]
    assert _utc(resumed[0]["lastModStartDate"]) == done
    assert _nvd_ids(kb) == _expected(SINCE, NOW)
    kb.close()


def test_full_download_resumes_at_its_start_index(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    cves = all_nvd_cves()
    with serve(cves) as feeds:
        feeds.fail_after = 2
        with pytest.raises(KBError):
            sync(kb, _options(urls={"nvd": feeds.nvd_url}, since=None,
                              retry=Retry(2, 0.001, 0.01)))
        assert kb.status()["sources"]["nvd"]["records"] == 100
        feeds.fail_after = None
        seen = len(feeds.log)
        sync(kb, _options(urls={"nvd": feeds.nvd_url}, since=None))
        resumed = feeds.nvd_requests()[seen:]
    assert resumed[0]["startIndex"] == "100" and "lastModStartDate" not in resumed[0]
    assert _nvd_ids(kb) == sorted(c["id"] for c in cves)
    assert kb.status()["sources"]["nvd"]["sync_cursor"] is not None
    kb.close()


def test_kev_and_epss_downloads(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    with serve([], FILES) as feeds:
        feeds.faults = ["503", "cut"]
        lines = sync(kb, _options(sources=["kev", "epss"], urls={
            "kev": feeds.base + "/kev.json", "epss": feeds.base + "/epss.csv.gz"}))
    assert lines == ["KEV: 1404 records", "EPSS: 20 records"]
    sources = kb.status()["sources"]
    assert sources["kev"]["records"] == 1404 and sources["epss"]["records"] == 20
    assert sources["kev"]["last_sync"] and sources["epss"]["last_sync"]
    kb.close()


def test_api_key_header_and_documented_limits(tmp_path: Path) -> None:
    assert (nvd_limiter(None).calls, nvd_limiter(None).period) == (5, 30.0)
    assert (nvd_limiter("key").calls, nvd_limiter("key").period) == (50, 30.0)
    kb = new_kb(tmp_path)
    with serve(all_nvd_cves()) as feeds:
        sync(kb, _options(urls={"nvd": feeds.nvd_url}, api_key="secret-key",
                          since=NOW - timedelta(days=10)))
        headers = [e["headers"] for e in feeds.log]
    assert headers and all(h.get("apiKey") == "secret-key" for h in headers)
    kb.close()


def test_stall_and_trickle_time_out_and_size_is_bounded() -> None:
    with serve([], FILES) as feeds, httpx.Client(timeout=0.3) as client:
        fetcher = Fetcher(client, retry=Retry(1, 0, 0), deadline=0.4)
        feeds.faults = ["stall"]
        started = time.monotonic()
        with pytest.raises(KBError, match="timed out"):
            fetcher.get_bytes(feeds.base + "/kev.json")
        feeds.faults = ["trickle"]
        with pytest.raises(KBError, match="took longer"):
            fetcher.get_bytes(feeds.base + "/kev.json")
        assert time.monotonic() - started < 3
        with pytest.raises(KBError, match="larger than"):
            Fetcher(client, max_bytes=1000).get_bytes(feeds.base + "/kev.json")
        count = len(feeds.log)
        with pytest.raises(KBError, match="HTTP 404 no such thing"):
            Fetcher(client, retry=FAST).get_bytes(feeds.base + "/missing")
        assert len(feeds.log) == count + 1  # a 404 is not retried


def test_truncated_json_every_time_fails_clearly(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    with serve(all_nvd_cves()) as feeds:
        feeds.faults = ["truncated"] * 3
        with pytest.raises(KBError, match="invalid or truncated JSON"):
            sync(kb, _options(urls={"nvd": feeds.nvd_url}, retry=Retry(3, 0.001, 0.01)))
    assert kb.status()["sources"]["nvd"]["records"] == 0
    kb.close()


def test_cli_sync_against_local_server(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    with serve(all_nvd_cves(), FILES) as feeds:
        result = runner.invoke(app, ["kb", "sync", "--source", "nvd", "--url", feeds.nvd_url,
                                     "--since", "2026-06-01", "--db", db])
        assert result.exit_code == 0, result.output
        assert "NVD:" in result.stdout and "days old" not in result.stderr
        assert len(feeds.nvd_requests()) <= 5  # within NVD's keyless limit: no waiting
        result = runner.invoke(app, ["kb", "sync", "-s", "kev", "--url",
                                     feeds.base + "/kev.json", "--db", db])
        assert result.exit_code == 0 and "KEV: 1404 records" in result.stdout
        bad = runner.invoke(app, ["kb", "sync", "-s", "kev", "--url", feeds.base + "/nope",
                                  "--db", db])
        assert bad.exit_code != 0 and "HTTP 404" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    status = json.loads(runner.invoke(app, ["kb", "status", "-f", "json", "--db", db]).stdout)
    assert status["sources"]["nvd"]["records"] == len(
        _expected(datetime(2026, 6, 1), datetime(2100, 1, 1)))
    for args in (["--url", "ftp://127.0.0.1/x", "-s", "kev"], ["--url", "http://127.0.0.1/"],
                 ["--since", "yesterday"]):
        result = runner.invoke(app, ["kb", "sync", *args, "--db", db])
        assert result.exit_code != 0 and "error:" in result.stderr


@settings(max_examples=60, deadline=None)
@given(calls=st.integers(1, 6), period=st.floats(0.5, 30),
       gaps=st.lists(st.floats(0, 20), min_size=1, max_size=40))
def test_rate_limiter_never_exceeds_its_window(calls: int, period: float,
                                               gaps: list[float]) -> None:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        assert seconds > 0
        clock[0] += seconds

    limiter = RateLimiter(calls, period, clock=lambda: clock[0], sleep=sleep)
    stamps = []
    for gap in gaps:
        clock[0] += gap
        limiter.acquire()
        stamps.append(clock[0])
    for i, t in enumerate(stamps):
        assert sum(1 for u in stamps[i:] if u < t + period) <= calls


@given(start=st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2030, 1, 1)),
       length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4000)))
def test_windows_cover_the_range_in_spans_of_at_most_120_days(start: datetime,
                                                              length: timedelta) -> None:
    spans = windows(start, start + length)
    if length == timedelta(0):
        assert spans == []
        return
    assert spans[0][0] == start and spans[-1][1] == start + length
    assert all(lo < hi and hi - lo <= timedelta(days=120) for lo, hi in spans)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_fixture_server_path_constant() -> None:
    assert NVD_PATH == "/rest/json/cves/2.0"
