"""CVE -> campaign data: cited, complete for the issue's campaigns, used by risk and remediation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from routerwatch.assess import assess
from routerwatch.assess.campaigns import annotate, campaigns, exploited_by
from routerwatch.assess.remediation import plan_actions
from routerwatch.assess.risk import CAMPAIGN_FLOOR, finding_points, score
from routerwatch.models import DeviceIdentity, Finding, Indicator


def test_issue_campaigns_are_listed_with_sources() -> None:
    names = " | ".join(c.name for c in campaigns())
    for needed in (
        "Quad7", "WrtHug", "AyySSHush", "Ballista", "RondoDox", "Gayfemboy", "ShadowV2",
        "PolarEdge", "ViciousTrap", "KV-botnet", "Mirai family",
    ):  # fmt: skip
        assert needed in names
    for c in campaigns():
        assert c.sources, c.name
        for s in c.sources:
            assert s.publisher and s.date
            assert s.checked == "primary" or s.note, f"{c.name}: say what was not checked"


def test_known_links() -> None:
    assert exploited_by("CVE-2023-50224") == ("CovertNetwork-1658 / Quad7",)
    assert exploited_by("cve-2025-9377") == ("CovertNetwork-1658 / Quad7",)
    assert set(exploited_by("CVE-2023-1389")) == {"Ballista", "RondoDox", "Mirai family"}
    assert set(exploited_by("CVE-2023-39780")) == {"WrtHug", "AyySSHush"}
    assert set(exploited_by("CVE-2023-20118")) == {"PolarEdge", "ViciousTrap"}
    assert exploited_by("CVE-2019-1653") == ("KV-botnet / Volt Typhoon (JDY)",)
    assert exploited_by("CVE-2021-44228") == ()


def _f(cve: str, **kw: object) -> Finding:
    base: dict[str, object] = {"status": "affected", "reason": "test", "cvss": 6.5}
    base.update(kw)
    return Finding(cve=cve, **base)  # type: ignore[arg-type]


def test_annotate_keeps_given_names_and_adds_known_ones() -> None:
    (f,) = annotate([_f("CVE-2023-1389", exploited_by=("Condi",))])
    assert f.exploited_by[0] == "Condi" and "Ballista" in f.exploited_by
    (g,) = annotate([_f("CVE-2020-0001")])
    assert g.exploited_by == ()


def test_campaign_exploited_finding_scores_at_least_the_floor() -> None:
    plain = _f("CVE-2020-0001", cvss=4.0)
    exploited = _f("CVE-2020-0001", cvss=4.0, exploited_by=("X",))
    assert finding_points(plain) == 28.0
    assert finding_points(exploited) == CAMPAIGN_FLOOR
    assert score([exploited], []).score > score([plain], []).score


@given(
    cvss=st.none() | st.floats(0, 10),
    epss=st.none() | st.floats(0, 1),
    kev=st.booleans(),
)
def test_naming_a_campaign_never_lowers_the_points(
    cvss: float | None, epss: float | None, kev: bool
) -> None:
    f = _f("CVE-2020-0001", cvss=cvss, epss=epss, kev=kev)
    g = _f("CVE-2020-0001", cvss=cvss, epss=epss, kev=kev, exploited_by=("X",))
    assert finding_points(g) >= finding_points(f)
    assert finding_points(g) <= 100.0


def test_update_that_clears_a_campaign_cve_comes_first() -> None:
    # "2.0" clears two ordinary CVEs, "B1" (another version stream, incomparable with 2.0)
    # clears the one a botnet exploits: B1 goes first although it clears fewer
    findings = [
        _f("CVE-2020-0001", fixed_in="2.0"),
        _f("CVE-2020-0002", fixed_in="2.0"),
        _f("CVE-2023-1389", fixed_in="B1", exploited_by=("Ballista",)),
    ]

    def cmp(a: str, b: str) -> int | None:
        return 0 if a == b else None

    actions = plan_actions(DeviceIdentity(vendor="TP-Link"), findings, [], compare=cmp)
    updates = [a for a in actions if a.kind == "update"]
    # one update action (issue 18): B1 is its target, the 2.0 stream folded into it
    assert [u.clears for u in updates] == [("CVE-2023-1389", "CVE-2020-0001", "CVE-2020-0002")]
    assert updates[0].text.startswith("Update the firmware to B1 or later")
    assert "also: 2.0 or later for CVE-2020-0001, CVE-2020-0002" in updates[0].text
    assert "exploited by Ballista" in updates[0].text


def test_assess_annotates_and_names_campaigns_in_actions() -> None:
    a = assess(
        DeviceIdentity(vendor="TP-Link", model="Archer AX21", hardware="3"),
        [_f("CVE-2023-1389", fixed_in="1.1.4 Build 20230219 rel.73766", kev=True)],
        [],
        address="192.0.2.9",
    )
    (f,) = a.findings
    assert "Ballista" in f.exploited_by
    update = next(x for x in a.actions if x.kind == "update")
    assert "exploited by Ballista" in update.text
    assert a.risk >= CAMPAIGN_FLOOR


def _admin_http() -> Indicator:
    return Indicator(rule="exposure-admin-http", kind="exposure", title="admin", certainty="high")


def test_fbi_themoon_model_with_remote_admin_gets_admin_off_before_replace() -> None:
    a = assess(DeviceIdentity(vendor="Linksys", model="E1200"), [], [_admin_http()])
    assert a.eol == "2025-05-07"
    kinds = [(x.kind, x.text) for x in a.actions]
    off = next(i for i, (k, t) in enumerate(kinds) if "remote administration off" in t)
    rep = next(i for i, (k, t) in enumerate(kinds) if k == "replace")
    assert off < rep
    assert "TheMoon / 5socks" in kinds[off][1] and "FBI PSA I-050725-PSA" in kinds[off][1]
    assert "targeted by TheMoon" in kinds[rep][1]
    # without a reachable admin page only the replacement is asked for
    quiet = assess(DeviceIdentity(vendor="Linksys", model="E1200"), [], [])
    assert not any("remote administration off" in x.text for x in quiet.actions)


def test_wrthug_models_are_end_of_life_gt_ax11000_is_not() -> None:
    for model in ("4G-AC55U", "GT-AC5300", "RT-AC1300GPLUS"):
        a = assess(DeviceIdentity(vendor="ASUS", model=model), [], [])
        assert a.eol == "2025-11-19", model
    assert assess(DeviceIdentity(vendor="ASUS", model="GT-AX11000"), [], []).eol is None
