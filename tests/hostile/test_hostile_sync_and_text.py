"""Issue 19 item 11: Retry-After honoured, inconsistent NVD pages refused, and JSON/SARIF
written without raw C1 or bidi control characters.

Before the fix Retry-After was capped at 60 s (the docs said "honoured"), a page holding more
records than its totalResults ended a full download early (marked complete), and the JSON and
SARIF reports carried raw U+009B (a terminal CSI) and U+202E (right-to-left override).
"""

from __future__ import annotations

import copy
import json
import sys
import time
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kb"))
from kb_fakeserver import serve
from kb_testlib import all_nvd_cves, new_kb, page_of

from routerwatch.kb import KBError
from routerwatch.kb.sync import RateLimiter, Retry, SyncOptions, sync
from routerwatch.kb.sync.http import Fetcher, retry_after_seconds
from routerwatch.models import replace
from routerwatch.report import from_dict, render


def test_retry_after_is_honoured_beyond_sixty_seconds() -> None:
    retry = Retry(attempts=3, base=1.0, cap=60.0)
    assert retry.delay(0, "90") == 90.0
    assert retry.delay(0, "3600") == 3600.0
    assert 100 <= retry.delay(0, formatdate(time.time() + 120, usegmt=True)) <= 121
    assert retry.delay(0, "soon") == 1.0
    assert retry_after_seconds("9" * 40) == float("inf")


def test_a_server_asking_for_too_long_stops_the_sync_with_one_line() -> None:
    slept: list[float] = []
    with serve([], {"/kev.json": b"{}"}, host="127.1.11.1") as feeds, \
            httpx.Client(timeout=2.0) as client:
        feeds.faults = ["429", "429"]  # the fake answers 429 with Retry-After: 30
        fetcher = Fetcher(client, retry=Retry(attempts=3, base=0.001, cap=0.01,
                                              sleep=slept.append, max_wait=3600))
        assert fetcher.get_bytes(feeds.base + "/kev.json") == b"{}"
        assert slept == [30.0, 30.0]  # waited out in full, not capped
        feeds.faults = ["429"]
        strict = Fetcher(client, retry=Retry(attempts=3, sleep=slept.append, max_wait=10))
        with pytest.raises(KBError, match=r"asks to wait 30 s .*more than 10 s"):
            strict.get_bytes(feeds.base + "/kev.json")


def test_page_with_more_records_than_total_results_is_refused(tmp_path: Path) -> None:
    cves = all_nvd_cves()[:40]
    lying = page_of(copy.deepcopy(cves), total=5)  # 40 records, "5 in total"
    kb = new_kb(tmp_path)
    with serve([], {"/lying": json.dumps(lying).encode()}, host="127.1.11.2") as feeds:
        options = SyncOptions(sources=["nvd"], urls={"nvd": feeds.base + "/lying"}, full=True,
                              page_size=50, retry=Retry(attempts=1),
                              limiter=RateLimiter(1000, 1.0), timeout=2.0)
        with pytest.raises(KBError, match="inconsistent NVD page at startIndex=0: 40 records"):
            sync(kb, options)
    with kb.engine.connect() as conn:
        from routerwatch.kb.state import get_state

        state = get_state(conn, "nvd")
    assert not state.get("sync_cursor"), "the download must not be marked complete"


SNAPSHOT = Path(__file__).resolve().parents[1] / "report" / "snapshots" / "report.json"
UNSAFE = ["\u009b", "\u202e", "\u202a", "\u2066", "\u200f", "\u2028", "\u0085"]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_reports_escape_c1_and_bidi_controls(fmt: str) -> None:
    base = from_dict(SNAPSHOT.read_text())
    first = base.assessments[0]
    hostile = "".join(UNSAFE)
    ident = replace(first.identity, model=f"RT{hostile}AX55", firmware=f"1.0\u009b2J{hostile}")
    report = replace(base, assessments=(replace(first, identity=ident), *base.assessments[1:]))
    text = render(report, fmt)
    assert not any(ch in text for ch in UNSAFE), [ch for ch in UNSAFE if ch in text]
    assert "\\u202e" in text and "\\u009b" in text
    # the data itself is unchanged: parsing gives the characters back
    assert f"RT{hostile}AX55" in json.dumps(json.loads(text), ensure_ascii=False)
