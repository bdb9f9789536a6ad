"""Item 5 (knowledge base): freshness per source with the oldest driving the warning, EPSS's
own date, `kb sync` progress and a fast "cannot reach" (a closed loopback port, never the
internet), type detection from a prefix. Item 6: CNA entries naming another product dropped
and counted; remediation and probe errors in user terms."""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clilib import ROOT, invoke

from routerwatch.assess.remediation import user_version
from routerwatch.kb.sources.cve5 import clean_affected, names_other_product, parse_record
from routerwatch.kb.status import oldest_source, warning_text
from routerwatch.kb.store import KnowledgeBase
from routerwatch.scan.probes.http import describe_error

FIX = ROOT / "tests" / "fixtures"


def _sources(**ages: float | None) -> dict[str, dict[str, Any]]:
    out = {}
    for name in ("nvd", "cve5", "kev", "epss"):
        age = ages.get(name)
        out[name] = {"records": 10, "age_days": age,
                     "newest": None if age is None else f"2026-01-{int(age) % 28 + 1:02d}",
                     "last_sync": None}
    return out


def test_the_oldest_source_drives_the_warning() -> None:
    sources = _sources(nvd=2, cve5=5, kev=45, epss=None)
    assert oldest_source(sources) == ("kev", 45)
    status = {"stale": True, "age_days": 45, "oldest_source": "kev", "sources": sources}
    text = warning_text(status)
    assert text is not None and text.startswith("the knowledge base is 45 days old (KEV is")
    assert "EPSS date unknown" in text and "NVD 2026-01-03" in text
    assert oldest_source(_sources()) is None  # no source has a date: nothing to judge


def test_epss_newest_is_the_score_date_never_the_import_date(tmp_path: Path) -> None:
    kb = KnowledgeBase(f"sqlite:///{tmp_path / 'kb.db'}")
    try:
        kb.import_paths([FIX / "epss" / "epss_kev_nvd.csv"])  # no score date in this file
        assert kb.status()["sources"]["epss"]["newest"] is None
        kb.import_paths([FIX / "epss_first" / "epss_scores-sample.csv"])
        epss = kb.status()["sources"]["epss"]
        assert epss["newest"].startswith("2026-08-22")
        now = datetime(2026, 9, 1)
        assert kb.status(now)["sources"]["epss"]["age_days"] == pytest.approx(10, abs=0.5)
    finally:
        kb.close()


def test_kb_status_table_shows_date_unknown_for_undated_epss(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    code, _, err = invoke("kb", "import", str(FIX / "epss" / "epss_kev_nvd.csv"), "--db", db)
    assert code == 0, err
    code, out, _ = invoke("kb", "status", "-f", "json", "--db", db)
    assert json.loads(out)["sources"]["epss"]["newest"] is None


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.45.5.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_sync_cannot_reach_is_fast_and_clear(tmp_path: Path) -> None:
    port = _closed_port()
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    started = time.monotonic()
    code, out, err = invoke("kb", "sync", "--source", "kev", "--url",
                            f"http://127.45.5.1:{port}/kev.json", "--db", db)
    took = time.monotonic() - started
    assert code == 3 and took < 5, (took, err)
    assert "[1/1] syncing kev from http://127.45.5.1" in out  # progress, as it goes
    (line,) = err.strip().splitlines()
    assert line.startswith("error: cannot reach 127.45.5.1 (connection refused)")
    assert "kb import" in line and "Errno" not in line and "ConnectError" not in line


def test_junk_file_is_refused_after_a_prefix(tmp_path: Path) -> None:
    junk = tmp_path / "big.json"
    with junk.open("wb") as f:  # 1 GiB, sparse: reading it whole would take seconds and RAM
        f.write(b"hello, this is not vulnerability data\n" * 300)  # text beyond the prefix
        f.truncate(1 << 30)
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    started = time.monotonic()
    code, _, err = invoke("kb", "import", str(junk), "--max-size", "2G", "--db", db)
    assert code == 2 and time.monotonic() - started < 3
    assert err.strip().splitlines() == [
        f"error: {junk}: not knowledge-base data (it starts with neither JSON nor an EPSS CSV "
        "header; expected NVD API 2.0 JSON, CVE JSON 5, CISA KEV JSON, EPSS CSV or a "
        "routerwatch bundle)"
    ]
    assert os.path.getsize(junk) == 1 << 30


# --------------------------------------------------------------------------- item 6


def _record(versions: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "dataType": "CVE_RECORD",
        "cveMetadata": {"cveId": "CVE-2023-27333", "state": "PUBLISHED",
                        "dateUpdated": "2024-05-03T00:00:00Z"},
        "containers": {
            "cna": {"affected": [{"vendor": "TP-Link", "product": "Archer AX21",
                                  "versions": versions, "defaultStatus": "unknown"}],
                    "descriptions": [{"lang": "en", "value": "x"}]},
            "adp": [{"affected": [{"vendor": "tp-link", "product": "archer_ax21",
                                   "versions": [{"status": "affected", "version": "-"}]}],
                     "providerMetadata": {"orgId": "x"}}],
        },
    }


def test_cna_versions_naming_another_product_are_dropped_and_counted() -> None:
    junk = {"status": "affected", "version": "R.47.0.0 AutoCAD 2021 & R.47.0.0 AutoCAD LT 2021"}
    good = {"status": "affected", "version": "1.1.2 Build 20220714 rel.46227"}
    row = parse_record(_record([junk, good]))
    affected = json.loads(row["affected"])
    # the junk stands as one entry the matcher cannot compare (the CVE stays "possible" for
    # the product: an ADP's "any version" must not make it "affected"), named in user terms
    from routerwatch.kb.sources.cve5 import WITHHELD

    assert [v["version"] for v in affected[0]["versions"]] == [good["version"], WITHHELD]
    assert row["dropped_versions"] == 1
    only_junk = parse_record(_record([junk]))
    kept = json.loads(only_junk["affected"])  # the CNA entry (withheld version) and the ADP's
    assert [a["vendor"] for a in kept] == ["TP-Link", "tp-link"]
    assert [v["version"] for v in kept[0]["versions"]] == [WITHHELD]


@pytest.mark.parametrize("text", [
    "1.1.4 Build 20230219 rel.73766", "V1.0.9.88_10.2.88", "< V5.21(AAZF.17)C0",
    "3.0.0.4.386_51529", "15.03.20_multi", "Archer AX21(EU)_V3_1.1.4", "before 2.3 beta",
])
def test_ordinary_version_texts_are_kept(text: str) -> None:
    item = {"vendor": "TP-Link", "product": "Archer AX21", "versions": [{"version": text}]}
    assert not names_other_product(text, item)
    assert clean_affected(item) == (item, 0)


def test_import_counts_the_dropped_entries(tmp_path: Path) -> None:
    doc = _record([{"status": "affected", "version": "R.47.0.0 AutoCAD 2021"}])
    path = tmp_path / "CVE-2023-27333.json"
    path.write_text(json.dumps(doc))
    code, _out, err = invoke("kb", "import", str(path), "--db", f"sqlite:///{tmp_path / 'k.db'}")
    assert code == 0, err
    assert "dropped 1 CVE 5 affected version entries that name another product" in err
    assert "CVE-2023-27333" in err


@pytest.mark.parametrize(("fixed", "words"), [
    ("later than tl-wr841n_v8_140724", "firmware later than the 140724 build"),
    ("tl-wr841n_v8_140724", "the 140724 build or later"),
    ("230506", "a build dated 2023-05-06 (230506) or later"),
    ("later than 5.38", "a version later than 5.38"),
    ("3.0.0.4.386_51685", "3.0.0.4.386_51685 or later"),
])
def test_fix_versions_in_user_terms(fixed: str, words: str) -> None:
    assert user_version(fixed) == words


def test_reports_never_show_raw_cpe_versions(kb_db: str) -> None:
    code, out, err = invoke("check", "TP-Link TL-WR841N v8", "--db", kb_db, "-f", "sarif")
    assert code == 0, err
    doc = json.loads(out)
    texts = [r["message"]["text"] for r in doc["runs"][0]["results"]]
    texts += [r["help"]["text"] for r in doc["runs"][0]["tool"]["driver"]["rules"]]
    assert not any("later than tl-wr841n_v8" in t for t in texts)
    assert any("firmware later than the 140724 build" in t for t in texts)
    code, out, err = invoke("check", "TP-Link TL-WR841N v8", "--db", kb_db, "-f", "json")
    actions = [a["text"] for a in json.loads(out)["hosts"][0]["actions"]]
    assert not any("tl-wr841n_v8_" in a for a in actions)


def test_probe_errors_are_in_user_terms() -> None:
    assert describe_error(ConnectionRefusedError(111, "Connection refused")) == \
        "connection failed (connection refused)"
    text = describe_error(ValueError("invalid literal for int() with base 10: 'x'"))
    assert "ValueError" not in text and "int()" not in text


def test_kb_age_is_measured_for_a_future_today(tmp_path: Path) -> None:
    kb = KnowledgeBase(f"sqlite:///{tmp_path / 'kb.db'}")
    try:
        kb.import_paths([FIX / "epss_first" / "epss_scores-sample.csv"])
        later = datetime(2026, 8, 22) + timedelta(days=40)
        status = kb.status(later)
        assert status["oldest_source"] == "epss" and status["stale"]
    finally:
        kb.close()
