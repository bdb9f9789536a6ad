"""The bulk step the demo shows: small, fast, and finds the lab's compromised routers."""

from __future__ import annotations

import time
from pathlib import Path

from routerwatch.bulk.service import demo_step
from routerwatch.bulk.tables import read_table


def test_demo_step(kb_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    result, line = demo_step(tmp_path / "bulk", kb_url, records=1500)
    took = time.monotonic() - started
    s = result.summary
    assert result.read.records >= 1500 and s.hosts > 300
    assert s.routers > 50 and s.compromised > 0
    assert "quad7-xlogin-7777" in s.counters["indicators"]
    assert len(read_table(tmp_path / "bulk", "devices")) == s.hosts
    assert line.startswith("bulk: ") and f"{s.hosts:,} hosts" in line
    assert took < 60
    # run again (the demo runs each time): a fresh run, not a refusal or a resume
    again, _ = demo_step(tmp_path / "bulk", kb_url, records=1500)
    assert again.summary.to_dict() == s.to_dict() and again.resumed_partitions == 0
