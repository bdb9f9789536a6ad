"""JSON report: shape, exact round trip (fixtures + hypothesis), errors naming the bad value."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routerwatch.models import (
    Action,
    Assessment,
    DeviceIdentity,
    Evidence,
    Finding,
    Indicator,
    Report,
)
from routerwatch.report import ReportError, from_dict, render, summary, to_dict


def test_shape_keeps_the_scan_json_and_extends_it(report: Report) -> None:
    data = to_dict(report)
    assert data["routerwatch"] == {"version": "0.1.0", "format": 1}
    assert list(data) == [
        "routerwatch",
        "kind",
        "generated",
        "scope",
        "kb",
        "policy",
        "elapsed",
        "warnings",
        "summary",
        "hosts",
    ]
    host = data["hosts"][0]
    a = report.assessments[0]
    assert list(host) == [
        "address",
        "open_ports",
        "identity",
        "findings",
        "indicators",
        "risk",
        "risk_level",
        "actions",
        "eol",
        "policy",
        "site",
        "notes",
    ]
    assert host["address"] == "192.168.1.1"
    assert host["open_ports"] == [80, 1900, 7777, 11288]
    assert host["identity"] == a.identity.to_dict()
    assert host["findings"] == [f.to_dict() for f in a.findings]
    assert host["indicators"] == [i.to_dict() for i in a.indicators]
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
    from dataclasses import replace

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


# --------------------------------------------------------------------------- hypothesis

text = st.text(max_size=12)
opt_text = st.none() | text
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
json_scalar = st.none() | st.booleans() | st.integers() | finite | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
evidence = st.builds(
    Evidence,
    source=text,
    value=text,
    rule=opt_text,
    fields=st.dictionaries(text, text, max_size=3).map(lambda d: tuple(d.items())),
)
identity = st.builds(
    DeviceIdentity,
    vendor=opt_text,
    model=opt_text,
    hardware=opt_text,
    firmware=opt_text,
    region=opt_text,
    confidence=st.integers(0, 1000).map(lambda n: n / 1000),
    evidence=st.lists(evidence, max_size=3).map(tuple),
)
finding = st.builds(
    Finding,
    cve=text,
    status=st.sampled_from(["affected", "possible", "not_affected"]),
    reason=text,
    source=st.sampled_from(["nvd", "cve5"]),
    kev=st.booleans(),
    kev_date=opt_text,
    epss=st.none() | finite,
    cvss=st.none() | finite,
    severity=opt_text,
    fixed_in=opt_text,
    description=text,
    criteria=st.lists(text, max_size=2).map(tuple),
)
indicator = st.builds(
    Indicator,
    rule=text,
    kind=st.sampled_from(["compromise", "exposure"]),
    title=text,
    certainty=st.sampled_from(["high", "medium", "low"]),
    # Indicator.to_dict keeps only source and value of its evidence
    evidence=st.lists(st.builds(Evidence, source=text, value=text), max_size=2).map(tuple),
    campaign=opt_text,
    references=st.lists(text, max_size=2).map(tuple),
    port=st.none() | st.integers(0, 65535),
)
action = st.builds(
    Action,
    priority=st.integers(-5, 100),
    kind=text,
    text=text,
    clears=st.lists(text, max_size=2).map(tuple),
)
assessment = st.builds(
    Assessment,
    address=opt_text,
    identity=identity,
    open_ports=st.lists(st.integers(0, 65535), max_size=4).map(tuple),
    findings=st.lists(finding, max_size=3).map(tuple),
    indicators=st.lists(indicator, max_size=2).map(tuple),
    risk=finite,
    risk_level=text,
    actions=st.lists(action, max_size=3).map(tuple),
    eol=opt_text,
    policy=st.lists(text, max_size=2).map(tuple),
    site=opt_text,
    notes=st.lists(text, max_size=2).map(tuple),
)
reports = st.builds(
    Report,
    assessments=st.lists(assessment, max_size=3).map(tuple),
    generated=text,
    tool_version=text,
    kind=st.sampled_from(["scan", "check", "demo"]),
    scope=st.lists(text, max_size=2).map(tuple),
    kb=st.dictionaries(text, json_value, max_size=3),
    policy=opt_text,
    elapsed=finite,
    warnings=st.lists(text, max_size=2).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(reports)
def test_round_trip_law(r: Report) -> None:
    """from_dict is the inverse of to_dict, through JSON text too."""
    assert from_dict(to_dict(r)) == r
    assert from_dict(json.loads(render(r, "json"))) == r


@settings(max_examples=50, deadline=None)
@given(reports)
def test_every_format_renders_any_report(r: Report) -> None:
    from routerwatch.report import FORMATS

    for fmt in FORMATS:
        assert render(r, fmt)


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
        ("routerwatch", KeyError, "not a routerwatch report"),
        ("routerwatch/format", 2, "routerwatch.format: report format 2 is not supported"),
        ("routerwatch/format", "1", "routerwatch.format: expected an integer"),
        ("hosts", KeyError, "hosts: missing"),
        ("hosts", {"a": 1}, "hosts: expected an array, got object"),
        ("kind", "audit", "kind: expected one of scan/check/demo"),
        ("elapsed", "fast", "elapsed: expected a number, got string"),
        ("kb", [], "kb: expected an object"),
        ("hosts/0/address", KeyError, "hosts[0].address: missing"),
        ("hosts/0/identity", KeyError, "hosts[0].identity: missing"),
        ("hosts/0/identity/confidence", 7, "hosts[0].identity.confidence: expected a number from"),
        ("hosts/0/identity/vendor", 5, "hosts[0].identity.vendor: expected a string or null"),
        ("hosts/0/open_ports/1", 70000, "hosts[0].open_ports[1]: expected a port number"),
        ("hosts/0/findings/2/status", "maybe", "hosts[0].findings[2].status: expected one of"),
        ("hosts/0/findings/0/kev", "yes", "hosts[0].findings[0].kev: expected true or false"),
        ("hosts/0/findings/0/cvss", True, "hosts[0].findings[0].cvss: expected a number"),
        ("hosts/0/findings/0/cve", KeyError, "hosts[0].findings[0].cve: missing"),
        ("hosts/0/indicators/0/kind", "bad", "hosts[0].indicators[0].kind: expected one of"),
        ("hosts/0/indicators/0/port", -1, "hosts[0].indicators[0].port: expected a port"),
        ("hosts/0/actions/0/priority", 1.5, "hosts[0].actions[0].priority: expected an integer"),
        ("hosts/0/actions/0/clears/0", None, "hosts[0].actions[0].clears[0]: expected a string"),
        ("hosts/1/risk", float("nan"), "hosts[1].risk: expected a finite number"),
        ("hosts/2", "host", "hosts[2]: expected an object, got string"),
    ],
)
def test_bad_input_names_the_bad_value(report: Report, path: str, value: Any, message: str) -> None:
    bad = _mutate(to_dict(report), path, value)
    with pytest.raises(ReportError, match="^" + __import__("re").escape(message)):
        from_dict(bad)


@pytest.mark.parametrize("doc", [[], "report", 3, None])
def test_document_must_be_an_object(doc: Any) -> None:
    with pytest.raises(ReportError, match="document: expected an object"):
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
    from dataclasses import replace

    bad = replace(report, elapsed=float("inf"))
    with pytest.raises(ReportError, match="JSON cannot carry"):
        render(bad, "json")
