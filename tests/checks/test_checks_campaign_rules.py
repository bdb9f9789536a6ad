"""The 2025-26 campaign rules: sources on every rule, the new match kinds, real certificates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from routerwatch.checks import evaluate, load_indicator_rules
from routerwatch.checks.engine import RuleError, load_rules_file, observation_from_dict
from routerwatch.checks.scan_match import dn_pairs
from routerwatch.models import DeviceIdentity, Observation
from routerwatch.scan.probes.tls import parse_certificate

CAMPAIGN_RULES = [r for r in load_indicator_rules() if r.origin.endswith("campaigns-2025.yaml")]


def test_the_issue_s_rules_are_there() -> None:
    ids = {r.id for r in CAMPAIGN_RULES}
    assert {
        "wrthug-aicloud-cert",
        "login-prompt-high-port",
        "exposure-telnet-2323",
        "tls-selfsigned-high-port",
        "exposure-aicloud",
        "exposure-luci-locale",
        "polaredge-polarssl-cert",
    } <= ids


@pytest.mark.parametrize("rule", CAMPAIGN_RULES, ids=lambda r: r.id)
def test_every_rule_names_campaign_and_cited_sources(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.campaign, "every rule names its campaign"
    assert rule.sources, "every rule cites structured sources"
    for s in rule.sources:
        assert s.publisher and s.date
        assert s.checked in ("primary", "secondary")
        if s.checked == "secondary":
            assert len(s.note) > 20, "a secondary source says what could not be checked"
    assert rule.references == tuple(s.cite() for s in rule.sources)


def _rules(match: str, extra: str = "") -> str:
    return f"""
rules:
  - id: probe
    kind: compromise
    campaign: test
    title: t
    certainty: low
    references: ["x (2025)"]
    match: {match}
{extra}    examples:
      - {{name: hit, expect: low, observation: {{open_ports: [1]}}}}
      - {{name: miss, expect: none, observation: {{open_ports: [2]}}}}
"""


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ("{port_range: [10, 5], banner_prefix: x}", "port_range low is above high"),
        ("{port_range: [1], banner_prefix: x}", "port_range must be [low, high]"),
        ("{exclude_ports: [5], banner_prefix: x}", "exclude_ports needs port_range"),
        ("{tls: {colour: red}}", "unknown tls key"),
        ("{tls: {not_after_year: 12}}", "tls.not_after_year must be a year"),
        ("{tls: {self_signed: maybe}}", "tls.self_signed must be true or false"),
        ("{http: {schemes: [http]}}", "http match needs"),
        ("{http: {body_regex: '('}}", "bad http.body_regex"),
        ("{banner_prefix: x}", "a banner match needs a port or port_range"),
    ],
)
def test_bad_match_is_one_clear_error(match: str, message: str) -> None:
    with pytest.raises(RuleError, match="rule probe") as err:
        load_rules_file("t.yaml", _rules(match))
    assert message in str(err.value)


def test_secondary_source_without_note_is_refused() -> None:
    extra = "    sources: [{publisher: P, date: 2025-01-01, checked: secondary}]\n"
    with pytest.raises(RuleError, match="a secondary source needs a note"):
        load_rules_file("t.yaml", _rules("{port: 1, port_open: true}", extra))


def test_distinguished_names_compare_as_sets() -> None:
    assert dn_pairs("CN=a,OU=a,O=a,L=a,ST=a,C=aa") == dn_pairs("C=aa, ST=a, L=a, O=a, OU=a, CN=a")
    assert dn_pairs("CN=a\\,b,O=x") == {("cn", "a\\,b"), ("o", "x")}
    assert dn_pairs("CN=a") != dn_pairs("cn=A")


def _certificate(name: str, issuer: str, not_after: datetime, port: int) -> Observation:
    """A real certificate, built and parsed by the scanner's own TLS parser."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string(name))
        .issuer_name(x509.Name.from_rfc4514_string(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    parsed = parse_certificate(cert.public_bytes(serialization.Encoding.DER), port)
    return Observation(address="192.0.2.7", open_ports=(port,), tls=(parsed,))


@pytest.mark.parametrize("dn", ["C=aa,ST=a,L=a,O=a,OU=a,CN=a", "CN=a,OU=a,O=a,L=a,ST=a,C=aa"])
def test_wrthug_marker_on_a_real_certificate(dn: str) -> None:
    # the RDN order inside the certificate differs between tools: the rule must not care
    obs = _certificate(dn, dn, datetime(2122, 3, 1, tzinfo=UTC), 443)
    assert obs.tls[0].self_signed
    inds = {i.rule: i for i in evaluate(obs, DeviceIdentity(vendor="ASUS", model="RT-AC1300GPLUS"))}
    assert inds["wrthug-aicloud-cert"].certainty == "high"
    assert inds["wrthug-aicloud-cert"].campaign == "WrtHug"
    assert "2122-03-01" in inds["wrthug-aicloud-cert"].evidence[0].value
    assert "wrthug-cert-name" not in inds and "tls-selfsigned-high-port" not in inds


def test_ordinary_self_signed_on_high_port_is_low_and_on_443_quiet() -> None:
    high = _certificate("CN=box", "CN=box", datetime(2034, 1, 1, tzinfo=UTC), 50443)
    assert [(i.rule, i.certainty) for i in evaluate(high)] == [("tls-selfsigned-high-port", "low")]
    usual = _certificate("CN=box", "CN=box", datetime(2034, 1, 1, tzinfo=UTC), 443)
    assert evaluate(usual) == []


def test_port_range_banner_reports_the_port_it_saw() -> None:
    obs = observation_from_dict(
        {"open_ports": [40022], "banners": [{"port": 40022, "text": "router login: "}]}
    )
    (ind,) = evaluate(obs)
    assert ind.rule == "login-prompt-high-port" and ind.port == 40022
