"""Indicator rules: every example of every rule file, the loader's checks, the banner logic."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routerwatch.checks import evaluate, load_indicator_rules
from routerwatch.checks.config_audit import audit_text
from routerwatch.checks.engine import (
    IndicatorRule,
    RuleError,
    RuleExample,
    banner_forms,
    identity_from_dict,
    load_rules_file,
    observation_from_dict,
)
from routerwatch.models import Banner, DeviceIdentity, Observation

RULES = load_indicator_rules()
EXAMPLES = [(r, e) for r in RULES for e in r.examples]


def _fired(rule: IndicatorRule, ex: RuleExample) -> str:
    if rule.source == "scan":
        assert ex.observation is not None
        indicators = evaluate(
            observation_from_dict(ex.observation), identity_from_dict(ex.identity)
        )
    else:
        assert ex.config is not None
        indicators = list(
            audit_text(ex.config, name=f"example {ex.name}", **dict(ex.args)).indicators
        )
    hit = [i for i in indicators if i.rule == rule.id]
    assert len(hit) <= 1, "one indicator per rule"
    return hit[0].certainty if hit else "none"


@pytest.mark.parametrize(
    ("rule", "example"), EXAMPLES, ids=[f"{r.id}: {e.name}" for r, e in EXAMPLES]
)
def test_rule_example(rule: IndicatorRule, example: RuleExample) -> None:
    assert _fired(rule, example) == example.expect


def test_rule_files_cover_the_spec() -> None:
    ids = {r.id for r in RULES}
    for needed in (
        "quad7-xlogin-7777",
        "quad7-socks5-11288",
        "quad7-alogin-63256",
        "ayysshush-ssh-53282",
        "ghostdns-dns-unknown",
        "ayysshush-config-backdoor",
        "config-ssh-unknown-key",
        "config-wan-admin",
        "config-port-forward-odd",
        "config-telnet-enabled",
        "exposure-admin-http",
        "exposure-telnet",
        "exposure-ftp",
        "exposure-tr069",
        "exposure-upnp",
        "exposure-snmp",
    ):
        assert needed in ids
    for r in RULES:
        assert any(e.expect != "none" for e in r.examples), r.id
        assert any(e.expect == "none" for e in r.examples), r.id
        assert r.references, f"{r.id} has no references"
        if r.kind == "exposure":
            assert r.risk_weight > 0, r.id
            assert r.remediation is not None, r.id
        else:
            assert r.campaign, f"{r.id}: a compromise rule names its campaign"
        for ref in r.references:  # a URL, or the publication by name with its date
            assert ref.startswith("https://") or re.search(r"\(\d{4}(-\d\d){0,2}\)$", ref), (
                f"{r.id}: cite by URL or by name and date: {ref}"
            )


def test_quad7_needs_the_banner_not_just_the_port() -> None:
    console = Observation(
        address="192.0.2.7", open_ports=(7777,), banners=(Banner(7777, "tcp", "CMD>"),)
    )
    assert evaluate(console, DeviceIdentity(vendor="TP-Link")) == []
    infected = Observation(
        address="192.0.2.7",
        open_ports=(7777, 11288),
        banners=(Banner(7777, "tcp", "xlogin: "), Banner(11288, "socks5", "", raw_hex="0500")),
    )
    found = {i.rule: i for i in evaluate(infected)}
    assert found["quad7-xlogin-7777"].certainty == "high"
    assert found["quad7-xlogin-7777"].campaign == "CovertNetwork-1658 / Quad7"
    assert found["quad7-xlogin-7777"].port == 7777
    assert any("microsoft.com" in r for r in found["quad7-xlogin-7777"].references)
    assert found["quad7-socks5-11288"].certainty == "high"  # corroborated by the shell
    assert {e.source for e in found["quad7-socks5-11288"].evidence} >= {
        "banner:11288",
        "corroborated",
    }


def test_socks5_alone_is_medium() -> None:
    obs = Observation(
        address="192.0.2.8",
        open_ports=(11288,),
        banners=(Banner(11288, "socks5", "", raw_hex="0500"),),
    )
    (ind,) = evaluate(obs)
    assert (ind.rule, ind.certainty, ind.kind) == ("quad7-socks5-11288", "medium", "compromise")


def test_ayysshush_certainty_depends_on_vendor_and_banner() -> None:
    ssh = Observation(
        address="192.0.2.9",
        open_ports=(53282,),
        banners=(Banner(53282, "ssh", "SSH-2.0-dropbear"),),
    )
    silent = Observation(address="192.0.2.9", open_ports=(53282,))
    asus = DeviceIdentity(vendor="ASUS", model="RT-AX55")
    assert [(i.rule, i.certainty) for i in evaluate(ssh, asus)] == [("ayysshush-ssh-53282", "high")]
    assert [(i.rule, i.certainty) for i in evaluate(ssh)] == [("ayysshush-ssh-53282", "medium")]
    assert [(i.rule, i.certainty) for i in evaluate(silent, asus)] == [
        ("ayysshush-port-53282", "medium")
    ]
    assert [(i.rule, i.certainty) for i in evaluate(silent)] == [("ayysshush-port-53282", "low")]
    # vendor spelled another way still counts
    assert evaluate(ssh, DeviceIdentity(vendor="ASUSTeK Computer Inc."))[0].certainty == "high"


def test_empty_observation_has_no_indicators() -> None:
    assert evaluate(Observation(address="192.0.2.1")) == []


@pytest.mark.parametrize(
    ("banner", "expected"),
    [
        (Banner(7777, "tcp", "xlogin:"), "xlogin:"),
        (Banner(7777, "tcp", "  \r\n\x00xlogin: "), "xlogin: "),
        (Banner(7777, "tcp", "\\xff\\xfd\\x18\\xff\\xfb\\x01xlogin:"), "xlogin:"),
        (Banner(7777, "tcp", "\xff\xfd\x27xlogin:"), "xlogin:"),  # Latin-1, printable option
        (Banner(7777, "tcp", "\\xff\\xfa\\x18\\x01\\xff\\xf0xlogin:"), "xlogin:"),  # SB .. SE
        (Banner(7777, "tcp", "CMD>"), "CMD>"),
    ],
)
def test_banner_preamble_is_skipped(banner: Banner, expected: str) -> None:
    assert expected in banner_forms(banner)


def test_banner_from_raw_bytes() -> None:
    raw = bytes([0xFF, 0xFB, 0x01, 0xFF, 0xFD, 0x22]) + b"\r\nxlogin: "
    forms = banner_forms(Banner(7777, "telnet", "", raw_hex=raw.hex()))
    assert forms == ["xlogin: "]


_IAC_OPTIONS = st.lists(
    st.tuples(st.sampled_from([0xFB, 0xFC, 0xFD, 0xFE]), st.integers(0, 255)), max_size=5
)


@settings(max_examples=200, deadline=None)
@given(
    _IAC_OPTIONS,
    st.sampled_from(["", "\r\n", " ", "\x00"]),
    st.sampled_from(["xlogin:", "CMD>", "login:"]),
)
def test_iac_preamble_never_changes_the_verdict(
    options: list[tuple[int, int]], gap: str, prompt: str
) -> None:
    raw = b"".join(bytes([0xFF, cmd, opt]) for cmd, opt in options) + gap.encode() + prompt.encode()
    obs = Observation(
        address="192.0.2.2",
        open_ports=(7777,),
        banners=(Banner(7777, "telnet", "", raw_hex=raw.hex()),),
    )
    fired = any(i.rule == "quad7-xlogin-7777" for i in evaluate(obs))
    assert fired == (prompt == "xlogin:")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([7777, 11288, 53282, 63256, 23]),
            st.sampled_from(["tcp", "ssh", "socks5", "telnet"]),
            st.text(max_size=40),
            st.binary(max_size=12),
        ),
        max_size=6,
    )
)
def test_evaluate_never_raises_on_odd_banners(banners: list[tuple[int, str, str, bytes]]) -> None:
    obs = Observation(
        address="192.0.2.3",
        open_ports=tuple({b[0] for b in banners}),
        banners=tuple(Banner(p, proto, text, raw.hex()) for p, proto, text, raw in banners),
    )
    for ind in evaluate(obs):
        assert ind.certainty in ("high", "medium", "low")
        assert ind.evidence


# --------------------------------------------------------------------------- loader errors

_GOOD = """
rules:
  - id: demo-rule
    kind: compromise
    title: demo
    certainty: high
    references: ["Someone, 'A report' (2024)"]
    match: {port: 1234, banner_prefix: "x"}
    examples:
      - {name: hit, observation: {banners: [{port: 1234, text: x}]}, expect: high}
      - {name: miss, observation: {}, expect: none}
"""


def test_loader_accepts_a_good_file() -> None:
    (rule,) = load_rules_file("demo.yaml", _GOOD)
    assert rule.id == "demo-rule" and rule.source == "scan"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("certainty: high", "certainty: sure"), "certainty must be"),
        (("kind: compromise", "kind: bad"), "kind must be"),
        (("references: [\"Someone, 'A report' (2024)\"]", "references: []"), "needs references"),
        (
            (
                "{name: miss, observation: {}, expect: none}",
                "{name: miss, observation: {}, expect: low}",
            ),
            "near-miss",
        ),
        (('banner_prefix: "x"', 'banner_regex: "("'), "bad banner_regex"),
        (("port: 1234, banner_prefix", "colour: red, banner_prefix"), "unknown match key"),
        (("id: demo-rule", "id: Demo Rule"), "id must be"),
        (("rules:", "rulez:"), "'rules' list"),
        (("title: demo", "title: demo\n    extra: 1"), "unknown key"),
    ],
)
def test_loader_rejects_bad_rules(change: tuple[str, str], message: str) -> None:
    text = _GOOD.replace(*change)
    assert text != _GOOD
    with pytest.raises(RuleError, match=message) as err:
        load_rules_file("demo.yaml", text)
    assert "demo.yaml" in str(err.value)


def test_loader_rejects_invalid_yaml() -> None:
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules_file("demo.yaml", "rules: [")
