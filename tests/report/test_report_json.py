"""JSON report: shape, exact round trip (fixtures + hypothesis), errors naming the bad value."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from routerwatch.models import Action, Report
from routerwatch.report import ReportError, from_dict, render, summary, to_dict
from routerwatch.schema import FORMAT, to_builtins


def test_shape_keeps_the_scan_json_and_extends_it(report: Report) -> None:
    data = to_dict(report)
    assert data["routerwatch"] == {"version": "0.1.0", "format": FORMAT, "document": "report"}
    assert list(data) == [
        "routerwatch",
        "kind",
        "generated",
        "run_id",
        "today",
        "scope",
        "kb",
        "kb_snapshot",
        "policy",
        "elapsed",
        "partial",
        "warnings",
        "summary",
        "hosts",
    ]
    host = data["hosts"][0]
    a = report.assessments[0]
    assert list(host) == [
        "address",
        "identity",
        "open_ports",
        "findings",
        "indicators",
        "risk",
        "risk_level",
        "actions",
        "eol",
        "policy",
        "site",
        "notes",
        "key",
        "observed_at",
        "extra",
        "readiness",
        "replacement",
        "coverage",
        "line",
    ]
    assert host["address"] == "192.168.1.1"
    assert host["open_ports"] == [80, 1900, 7777, 11288]
    assert host["identity"] == to_builtins(a.identity)
    assert host["findings"] == to_builtins(a.findings)
    assert host["indicators"] == to_builtins(a.indicators)
    # an indicator keeps its evidence whole: the rule that read it and what it extracted
    assert set(host["indicators"][0]["evidence"][0]) == {"source", "value", "rule", "fields"}
    assert host["actions"][0] == {
        "priority": 1,
        "kind": "isolate",
        "text": a.actions[0].text,
        "clears": ["quad7-xlogin-7777", "quad7-socks5-11288"],
    }
    assert set(data["summary"]) == {
        "hosts",
        "identified",
        "vulnerable",
        "compromised",
        "kev",
        "kev_possible",
        "not_covered",
        "by_vendor",
        "by_severity",
        "top_actions",
        "replace_by_site",
    }


def test_replace_by_site_counts_eol_and_policy_devices(report: Report) -> None:
    sites = summary(report)["replace_by_site"]
    assert sum(site["devices"] for site in sites) == len(report.assessments)
    expected = sorted(a.address or "" for a in report.assessments if a.eol or a.policy)
    assert expected, "the fixture report has a device to replace"
    assert sorted(h for site in sites for h in site["to_replace"]) == expected
    assert all(site["replace_count"] == len(site["to_replace"]) for site in sites)


def test_summary_figures(report: Report) -> None:
    s = summary(report)
    assert (s["hosts"], s["identified"], s["vulnerable"], s["compromised"], s["kev"]) == (
        4,
        3,
        2,
        2,
        2,
    )
    assert s["by_vendor"] == {"ASUS": 1, "NETGEAR": 1, "TP-Link": 1, "unknown": 1}
    # affected + possible only: the NETGEAR's not-affected CVEs do not count
    assert s["by_severity"] == {
        "critical": 0,
        "high": 3,
        "medium": 1,
        "low": 0,
        "none": 0,
        "unknown": 0,
    }
    first = s["top_actions"][0]
    assert (first["priority"], first["kind"], first["hosts"]) == (1, "isolate", ["192.168.1.1"])
    assert [a["priority"] for a in s["top_actions"]] == sorted(
        a["priority"] for a in s["top_actions"]
    )


def test_top_actions_merge_equal_actions_across_devices(report: Report) -> None:
    from routerwatch.models import replace

    same = Action(priority=3, kind="update", text="Update the firmware.")
    a, b = report.assessments[:2]
    merged = replace(
        report,
        assessments=(replace(a, actions=(same,)), replace(b, actions=(replace(same, priority=2),))),
    )
    (only,) = summary(merged)["top_actions"]
    assert only["hosts"] == ["192.168.1.1", "192.168.1.66"]
    assert only["priority"] == 2


@pytest.mark.parametrize("name", ["report", "empty_report", "check_report"])
def test_round_trip_of_fixture_reports(name: str, request: pytest.FixtureRequest) -> None:
    original: Report = request.getfixturevalue(name)
    assert from_dict(to_dict(original)) == original
    assert from_dict(json.loads(render(original, "json"))) == original


# The hypothesis laws (round trip, any valid JSON loads, junk refused) for every model, the
# Report included, live in tests/schema/test_schema_properties.py.


# --------------------------------------------------------------------------- errors


def _mutate(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    *parents, last = path.split("/")
    node: Any = data
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("routerwatch", KeyError, "not a routerwatch document"),
        ("routerwatch/format", FORMAT + 1, "routerwatch.format: format 3 is not supported"),
        ("routerwatch/format", 0, "routerwatch.format: format 0 is not supported"),
        ("routerwatch/format", "1", "routerwatch.format: expected `int`, got `str`"),
        ("routerwatch/document", "x", "routerwatch.document: invalid enum value 'x'"),
        ("hosts", KeyError, "hosts: missing"),
        ("hosts", {"a": 1}, "hosts: expected `array`, got `object`"),
        ("kind", "audit", "kind: invalid enum value 'audit'"),
        ("elapsed", "fast", "elapsed: expected `float`, got `str`"),
        ("elapsed", -1, "elapsed: expected `float` >= 0.0"),
        ("kb", [], "kb: expected `object`, got `array`"),
        ("today", "tomorrow", "today: expected `str` matching regex"),
        ("hosts/0/address", KeyError, "hosts[0].address: missing"),
        ("hosts/0/identity", KeyError, "hosts[0].identity: missing"),
        ("hosts/0/identity/confidence", 7, "hosts[0].identity.confidence: expected `float` <= 1"),
        ("hosts/0/identity/vendor", 5, "hosts[0].identity.vendor: expected `str | null`, got"),
        ("hosts/0/open_ports/1", 70000, "hosts[0].open_ports[1]: expected `int` <= 65535"),
        ("hosts/0/findings/2/status", "maybe", "hosts[0].findings[2].status: invalid enum value"),
        ("hosts/0/findings/0/kev", "yes", "hosts[0].findings[0].kev: expected `bool`, got `str`"),
        ("hosts/0/findings/0/cvss", True, "hosts[0].findings[0].cvss: expected `float | null`"),
        ("hosts/0/findings/0/cvss", 11, "hosts[0].findings[0].cvss: expected `float` <= 10.0"),
        ("hosts/0/findings/0/cve", KeyError, "hosts[0].findings[0].cve: missing"),
        ("hosts/0/indicators/0/kind", "bad", "hosts[0].indicators[0].kind: invalid enum value"),
        ("hosts/0/indicators/0/port", -1, "hosts[0].indicators[0].port: expected `int` >= 0"),
        ("hosts/0/actions/0/priority", 1.5, "hosts[0].actions[0].priority: expected `int`, got"),
        ("hosts/0/actions/0/clears/0", None, "hosts[0].actions[0].clears[0]: expected `str`"),
        ("hosts/0/risk_level", "severe", "hosts[0].risk_level: invalid enum value 'severe'"),
        ("hosts/0/key", "box-1", "hosts[0].key: expected `str` matching regex"),
        ("hosts/1/risk", float("nan"), "hosts[1].risk: expected `float` >= 0.0"),
        ("hosts/2", "host", "hosts[2]: expected `object`, got `str`"),
    ],
)
def test_bad_input_names_the_bad_value(report: Report, path: str, value: Any, message: str) -> None:
    bad = _mutate(to_dict(report), path, value)
    with pytest.raises(ReportError, match="^" + re.escape(message)):
        from_dict(bad)
    if path.endswith("risk"):
        return  # NaN has no JSON text
    with pytest.raises(ReportError, match="^" + re.escape(message)):
        from_dict(json.dumps(bad).encode())


@pytest.mark.parametrize("doc", [[], 3, None, b"[1, 2]", "7"])
def test_document_must_be_an_object(doc: Any) -> None:
    with pytest.raises(ReportError, match=r"^document: expected"):
        from_dict(doc)


def test_minimal_scan_json_with_header_reads(report: Report) -> None:
    """The scanner issue's minimal host shape (no assess fields) still reads, with defaults."""
    data = {
        "routerwatch": {"version": "0.1.0", "format": 1},
        "hosts": [
            {
                "address": "127.0.10.5",
                "open_ports": [80],
                "identity": {"vendor": "TP-Link", "model": "Archer AX21", "confidence": 0.9},
                "findings": [{"cve": "CVE-2023-1389", "status": "affected", "reason": "r"}],
            }
        ],
    }
    r = from_dict(data)
    (a,) = r.assessments
    assert a.identity.model == "Archer AX21"
    assert a.findings[0].cve == "CVE-2023-1389"
    assert (a.risk, a.risk_level, a.actions, r.kind) == (0.0, "none", (), "scan")


def test_nan_in_a_report_is_refused_by_the_json_writer(report: Report) -> None:
    from routerwatch.models import replace

    bad = replace(report, elapsed=float("inf"))
    with pytest.raises(ReportError, match="JSON cannot carry"):
        render(bad, "json")
