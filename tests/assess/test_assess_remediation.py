"""Remediation: the firmware version that clears most findings, and the order of actions."""

from __future__ import annotations

import re
from datetime import date

import pytest

from routerwatch.assess import assess, load_policy
from routerwatch.assess.remediation import best_update, compare_firmware, plan_actions
from routerwatch.models import DeviceIdentity, Finding, Indicator


def _num(a: str, b: str) -> int | None:
    """Test comparator: dotted numbers; "x..." versions are incomparable (another scheme)."""
    if a.startswith("x") != b.startswith("x"):
        return None
    ta = [int(p) for p in re.findall(r"\d+", a)]
    tb = [int(p) for p in re.findall(r"\d+", b)]
    return (ta > tb) - (ta < tb)


def _f(cve: str, fixed: str | None, status: str = "affected", kev: bool = False) -> Finding:
    return Finding(cve, status, "test", kev=kev, fixed_in=fixed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("findings", "version", "cleared"),
    [
        # the highest fix clears everything fixed below it
        ([_f("A", "1.0.2"), _f("B", "1.0.10"), _f("C", "1.0.4")], "1.0.10", {"A", "B", "C"}),
        # numeric, not string, order: 1.0.10 > 1.0.9
        ([_f("A", "1.0.9"), _f("B", "1.0.10")], "1.0.10", {"A", "B"}),
        # possible findings count too; not_affected never
        ([_f("A", "2.0", "possible"), _f("B", "3.0", "not_affected")], "2.0", {"A"}),
        # an incomparable fix (another scheme) is not cleared by the numeric one
        ([_f("A", "1.1"), _f("B", "1.2"), _f("C", "x9")], "1.2", {"A", "B"}),
        # tie on count: the one clearing more KEV wins
        ([_f("A", "x1", kev=True), _f("B", "1.0")], "x1", {"A"}),
        # tie on count and KEV: the smaller step
        ([_f("A", "x1"), _f("B", "1.0")], "1.0", {"B"}),
        # nothing to fix
        ([_f("A", None)], None, set()),
        ([], None, set()),
    ],
)
def test_best_update(findings: list[Finding], version: str | None, cleared: set[str]) -> None:
    upd = best_update(findings, _num)
    if version is None:
        assert upd is None
    else:
        assert upd is not None
        assert upd.version == version
        assert {f.cve for f in upd.clears} == cleared


def test_compare_firmware_is_numeric_and_safe() -> None:
    assert compare_firmware("NETGEAR", "V1.0.4.120_10.0.91", "V1.0.4.84_10.0.58") == 1
    assert compare_firmware("ASUS", "3.0.0.4.386_51529", "3.0.0.4.386_51529") == 0
    assert compare_firmware(None, "1.0.9", "1.0.10") == -1


def test_actions_in_order_for_a_compromised_vulnerable_exposed_eol_device() -> None:
    ident = DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="2", firmware="3.15.1")
    findings = [
        _f("CVE-2025-9377", "3.15.3", kev=True),
        _f("CVE-2023-50224", "3.15.3", kev=True),
        _f("CVE-2020-9999", "3.15.2"),
        _f("CVE-2021-1111", None),
    ]
    inds = [
        Indicator(
            "quad7-xlogin-7777",
            "compromise",
            "Quad7 shell",
            "high",
            campaign="CovertNetwork-1658 / Quad7",
        ),
        Indicator("exposure-telnet", "exposure", "telnet", "high"),
        Indicator("exposure-upnp", "exposure", "UPnP", "high"),
    ]
    a = assess(
        ident,
        findings,
        inds,
        address="10.10.1.5",
        policy=load_policy("phase-out-tp-link"),
        today=date(2027, 1, 15),
    )
    kinds = [x.kind for x in a.actions]
    assert kinds == ["isolate", "isolate", "update", "disable", "disable", "replace", "replace"]
    assert [x.priority for x in a.actions] == list(range(1, 8))
    isolate, reset, update, *_ = a.actions
    assert "CovertNetwork-1658 / Quad7" in isolate.text and "10.10.1.5" in isolate.text
    assert "Factory-reset" in reset.text
    assert "3.15.3 or later before reconnecting" in update.text
    assert update.clears[:2] == ("CVE-2023-50224", "CVE-2025-9377")  # KEV first
    assert "CVE-2023-50224 (KEV; exploited by CovertNetwork-1658 / Quad7)" in update.text
    assert "2 known exploited, exploited by CovertNetwork-1658 / Quad7" in update.text
    assert a.actions[3].text == "Disable telnet (TCP 23)"
    eol_action, policy_action = a.actions[5], a.actions[6]
    assert "end-of-life on or before 2025-09-04" in eol_action.text
    assert eol_action.clears == ("CVE-2021-1111",)  # the unfixed one
    assert "overdue since 2026-12-31" in policy_action.text
    assert a.eol == "2025-09-04" and a.site == "Head office"
    assert a.risk_level == "critical"


def test_supported_device_with_unfixed_cve_gets_a_review() -> None:
    ident = DeviceIdentity(vendor="ASUS", model="RT-AX88U", firmware="3.0.0.4.388_24000")
    actions = plan_actions(ident, [_f("CVE-2024-1", None)], [], compare=_num)
    assert [(a.kind, a.clears) for a in actions] == [("review", ("CVE-2024-1",))]


def test_low_certainty_compromise_is_a_review_not_isolation() -> None:
    ident = DeviceIdentity(vendor="ASUS")
    low = Indicator("ayysshush-port-53282", "compromise", "53282 open", "low", campaign="AyySSHush")
    actions = plan_actions(ident, [], [low])
    assert [a.kind for a in actions] == ["review"]
    assert "low certainty" in actions[0].text


def test_compromised_without_known_fix_still_updates_before_reconnecting() -> None:
    ident = DeviceIdentity(vendor="ASUS", model="RT-AX55")
    hit = Indicator("ayysshush-ssh-53282", "compromise", "SSH 53282", "high", campaign="AyySSHush")
    kinds = [(a.kind, a.text[:40]) for a in plan_actions(ident, [], [hit])]
    assert [k for k, _ in kinds] == ["isolate", "isolate", "update"]
    assert "latest firmware" in plan_actions(ident, [], [hit])[2].text


def test_nothing_wrong_nothing_to_do() -> None:
    a = assess(DeviceIdentity(vendor="ASUS", model="RT-AX88U"), [], [])
    assert a.actions == () and a.risk == 0 and a.risk_level == "none"
    assert a.eol is None and a.policy == () and a.site is None


def test_update_text_reads_well_for_an_inclusive_bound() -> None:
    """versionEndIncluding gives fixed_in "later than X": no "later than X or later"."""
    actions = plan_actions(
        DeviceIdentity(vendor="TP-Link", model="TL-WR841N"),
        [_f("CVE-2012-5687", "later than 3.13.9")],
        [],
        compare=_num,
    )
    texts = [a.text for a in actions if a.kind == "update"]
    assert texts and "a version later than 3.13.9:" in texts[0]
    assert "or later" not in texts[0]


def test_update_text_reads_a_bare_build_date_as_a_date() -> None:
    actions = plan_actions(
        DeviceIdentity(vendor="TP-Link", model="TL-WR841N"),
        [_f("CVE-2023-36489", "230506")],
        [],
        compare=_num,
    )
    texts = [a.text for a in actions if a.kind == "update"]
    assert texts and "a build dated 2023-05-06 (230506) or later" in texts[0]
