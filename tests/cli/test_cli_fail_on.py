"""Item 1: --fail-on and the exit-code contract (0 clean, 1 findings, 2 usage, 3 runtime)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clilib import CONFIGS, ROOT, invoke

from routerwatch.gate import FAIL_ON, Facts, GateError, failures, parse_fail_on, report_facts
from routerwatch.models import (
    Assessment,
    DeviceIdentity,
    Finding,
    Indicator,
    ReadinessItem,
    Report,
)

AX21 = ("check", "TP-Link Archer AX21 v3", "--firmware", "1.1.2 Build 20220714 rel.46227")


def _report(*assessments: Assessment) -> Report:
    return Report(assessments=assessments, generated="2026-12-03T00:00:00+00:00",
                  tool_version="test")


def _a(findings: tuple[Finding, ...] = (), indicators: tuple[Indicator, ...] = (),
       **kw: object) -> Assessment:
    return Assessment(address="192.0.2.1", identity=DeviceIdentity(vendor="X", model="Y"),
                      findings=findings, indicators=indicators, **kw)  # type: ignore[arg-type]


def test_thresholds_are_cumulative_and_only_affected_findings_count() -> None:
    high = Finding("CVE-2020-0001", "affected", "r", severity="HIGH")
    possible = Finding("CVE-2020-0002", "possible", "r", severity="CRITICAL", kev=True)
    facts = report_facts(_report(_a((high, possible))))
    assert failures(facts, ["critical"]) == []  # the critical one is only possible
    assert failures(facts, ["high"]) == ["high: 1 affected finding(s) of severity high or worse"]
    assert failures(facts, ["medium"]) and failures(facts, ["low"])
    assert failures(facts, ["kev", "compromised", "policy"]) == []


def test_compromise_counts_as_critical_and_policy_reads_restrictions() -> None:
    ind = Indicator("quad7-xlogin-7777", "compromise", "Quad7", "high")
    item = ReadinessItem("ban", "r1", "affected", "listed")
    facts = report_facts(_report(_a(indicators=(ind,)), _a(readiness=(item,))))
    assert failures(facts, ["critical"]) == ["critical: 1 compromised device(s)"]
    assert failures(facts, ["compromised"]) and failures(facts, ["policy"])
    excepted = ReadinessItem("ban", "r1", "excepted", "listed")
    assert report_facts(_report(_a(readiness=(excepted,)))).policy == 0


def test_parse_fail_on_accepts_repeats_and_commas_and_names_the_flag() -> None:
    assert parse_fail_on(["high,kev", "KEV", " compromised "]) == ("high", "kev", "compromised")
    with pytest.raises(GateError, match="--fail-on: 'severe' is not one of critical"):
        parse_fail_on(["severe"])
    assert failures(Facts(), list(FAIL_ON)) == []


def test_check_exit_codes(kb_db: str) -> None:
    code, _, err = invoke(*AX21, "--db", kb_db, "--fail-on", "kev")
    assert code == 1 and "fail-on: kev: 1 device(s) with an affected CVE in CISA KEV" in err
    code, _, err = invoke(*AX21, "--db", kb_db, "--fail-on", "critical", "-q")
    assert code == 0, err  # CVE-2023-1389 is high (8.8), not critical
    code, out, err = invoke(*AX21, "--db", kb_db)
    assert code == 0 and "CVE-2023-1389" in out  # no --fail-on: findings alone never fail
    code, out, err = invoke(*AX21, "--db", kb_db, "--fail-on", "bogus")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: --fail-on: 'bogus' is not one of critical, high, medium, low, kev, "
        "compromised, policy"
    ]


def test_check_inventory_fails_on_high_with_json_written(kb_db: str, tmp_path: Path) -> None:
    assets = tmp_path / "assets.csv"
    assets.write_text("vendor,model,hardware,firmware\nTP-Link,Archer AX21,3,"
                      "1.1.2 Build 20220714 rel.46227\nNETGEAR,R7000,,V1.0.11.116_10.2.100\n")
    out_file = tmp_path / "r.json"
    code, _, err = invoke("check", "--inventory", str(assets), "--db", kb_db, "-f", "json",
                          "-o", str(out_file), "--fail-on", "high")
    assert code == 1 and "fail-on: high:" in err
    assert json.loads(out_file.read_text())["summary"]["hosts"] == 2  # written before exiting


def test_audit_config_fails_on_compromised(tmp_path: Path) -> None:
    config = CONFIGS / "asus-rt-ax55-ayysshush.txt"
    code, out, err = invoke("audit-config", str(config), "--fail-on", "compromised")
    assert code == 1 and "AyySSHush" in out and "fail-on: compromised: 1 device(s)" in err
    clean = CONFIGS / "mikrotik-clean.rsc"
    code, _, err = invoke("audit-config", str(clean), "--fail-on", "compromised")
    assert code == 0, err


def test_an_unusable_kb_is_a_usage_error_and_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "kb.db"
    bad.write_bytes(b"this is not a database" * 100)
    code, out, err = invoke(*AX21, "--db", f"sqlite:///{bad}")
    assert code == 2 and out == ""
    assert err.strip() == f"error: cannot open database sqlite:///{bad}: file is not a database"


def test_runtime_errors_exit_3(tmp_path: Path) -> None:
    """A failure once the work runs (here: the sync source cannot be reached) is exit 3."""
    import socket

    with socket.socket() as s:
        s.bind(("127.45.5.2", 0))
        port = s.getsockname()[1]
    code, _, err = invoke("kb", "sync", "--source", "epss", "--url",
                          f"http://127.45.5.2:{port}/epss.csv.gz",
                          "--db", f"sqlite:///{tmp_path / 'kb.db'}")
    assert code == 3 and err.startswith("error: cannot reach 127.45.5.2")


@pytest.mark.parametrize("command", ["scan", "check", "audit-config", "assess"])
def test_help_states_fail_on_and_exit_codes(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    text = " ".join(out.split())
    assert code == 0 and "--fail-on" in text
    assert "0 clean" in text and "2 usage error" in text and "3 runtime error" in text


def test_docs_page_states_the_contract() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text()
    for needle in ("--fail-on", "| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 130 |", "compromised",
                   "policy", "kev"):
        assert needle in doc, needle
