"""The risk score: its laws (hypothesis) and its calibration points."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routerwatch.assess import assess
from routerwatch.assess.risk import level_for, score
from routerwatch.models import DeviceIdentity, Finding, Indicator

findings_st = st.builds(
    Finding,
    cve=st.integers(1000, 1100).map(lambda n: f"CVE-2024-{n}"),
    status=st.sampled_from(["affected", "possible", "not_affected"]),
    reason=st.just("test"),
    kev=st.booleans(),
    epss=st.one_of(st.none(), st.floats(0, 1)),
    cvss=st.one_of(st.none(), st.floats(0, 10)),
    fixed_in=st.one_of(st.none(), st.sampled_from(["1.0.2", "1.0.10", "2.0"])),
)
indicators_st = st.builds(
    Indicator,
    rule=st.sampled_from(
        [
            "exposure-telnet",
            "exposure-upnp",
            "quad7-xlogin-7777",
            "config-wan-admin",
            "some-unknown-rule",
        ]
    ),
    kind=st.sampled_from(["compromise", "exposure"]),
    title=st.just("t"),
    certainty=st.sampled_from(["high", "medium", "low"]),
)
WEIGHTS = {"exposure-telnet": 25.0, "exposure-upnp": 10.0, "config-wan-admin": 20.0}


@settings(max_examples=150, deadline=None)
@given(st.lists(findings_st, max_size=8), st.lists(indicators_st, max_size=6), st.booleans())
def test_bounded_and_level_consistent(fs: list[Finding], inds: list[Indicator], eol: bool) -> None:
    r = score(fs, inds, eol=eol, exposure_weights=WEIGHTS)
    assert 0.0 <= r.score <= 100.0
    assert r.level == level_for(r.score)
    assert score(fs, inds, eol=eol, exposure_weights=WEIGHTS) == r  # deterministic


@settings(max_examples=150, deadline=None)
@given(
    st.lists(findings_st, max_size=8),
    st.lists(indicators_st, max_size=6),
    st.booleans(),
    findings_st,
    indicators_st,
)
def test_adding_never_lowers(
    fs: list[Finding], inds: list[Indicator], eol: bool, extra_f: Finding, extra_i: Indicator
) -> None:
    base = score(fs, inds, eol=eol, exposure_weights=WEIGHTS).score
    assert score([*fs, extra_f], inds, eol=eol, exposure_weights=WEIGHTS).score >= base
    assert score(fs, [*inds, extra_i], eol=eol, exposure_weights=WEIGHTS).score >= base
    assert score(fs, inds, eol=True, exposure_weights=WEIGHTS).score >= base


@settings(max_examples=200, deadline=None)
@given(st.lists(findings_st, max_size=5), st.lists(indicators_st, max_size=4))
def test_high_certainty_compromise_is_at_least_90(fs: list[Finding], inds: list[Indicator]) -> None:
    hit = Indicator("quad7-xlogin-7777", "compromise", "t", "high")
    r = score(fs, [*inds, hit])
    assert r.score >= 90 and r.level == "critical"


def _f(cve: str, status: str = "affected", **kw: object) -> Finding:
    return Finding(cve, status, "test", **kw)  # type: ignore[arg-type]


def test_calibration() -> None:
    assert score([], []).score == 0 and score([], []).level == "none"
    # any affected KEV finding is at least high
    assert score([_f("CVE-2023-1", kev=True, cvss=4.0)], []).level == "high"
    # critical CVSS and likely exploitation (EPSS) is critical-ish; unknown CVSS is medium-low
    assert score([_f("CVE-2023-2", kev=True, cvss=9.8, epss=0.95)], []).level == "critical"
    assert score([_f("CVE-2023-3")], []).level == "low"
    # possible counts half
    assert (
        score([_f("CVE-2023-4", "possible", cvss=9.8)], []).score
        < score([_f("CVE-2023-4", cvss=9.8)], []).score
    )
    # not_affected counts nothing
    assert score([_f("CVE-2023-5", "not_affected", kev=True, cvss=10.0)], []).score == 0
    # EOL alone is low; telnet exposure alone is low
    assert score([], [], eol=True).score == 20.0 and score([], [], eol=True).level == "low"
    telnet = Indicator("exposure-telnet", "exposure", "t", "high")
    assert score([], [telnet], exposure_weights=WEIGHTS).score == 25.0
    # repeating a rule does not add up
    assert score([], [telnet, telnet], exposure_weights=WEIGHTS).score == 25.0


def test_breakdown_explains_the_score() -> None:
    r = score([_f("CVE-2023-6", kev=True, cvss=8.8)], [], eol=True)
    assert r.vulnerabilities > 0 and r.eol == 20.0
    assert f"risk {r.score:g}" in r.explain() and "end-of-life 20" in r.explain()


def test_assess_uses_rule_weights_and_explains() -> None:
    ident = DeviceIdentity(vendor="NETGEAR", model="R7000")
    upnp = Indicator("exposure-upnp", "exposure", "UPnP", "high")
    telnet = Indicator("exposure-telnet", "exposure", "telnet", "high")
    a, b = assess(ident, [], [upnp]), assess(ident, [], [telnet])
    assert a.risk == 10.0 and b.risk == 25.0  # risk_weight from rules/exposure.yaml
    assert a.notes[0].startswith("risk 10 (low)")
