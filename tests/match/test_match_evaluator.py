"""The configuration evaluator on synthetic but NVD-shaped configurations."""

from __future__ import annotations

import pytest
from match_helpers import conf, device, fw, hw, judge, node, rec

from routerwatch.match import Matcher

TPL = "TP-Link"
AX21_OLD = device(TPL, "Archer AX21", "3", "1.1.2 Build 20220714 rel.46227")
AX21_NEW = device(TPL, "Archer AX21", "3", "1.1.5 Build 20230601 rel.1")


def ax21(**bounds: str) -> dict:  # type: ignore[type-arg]
    return conf(node(fw("archer_ax21_firmware", **bounds)), node(hw("archer_ax21")))


def test_hardware_first_or_last_is_the_same() -> None:
    first = conf(node(hw("archer_ax21")), node(fw("archer_ax21_firmware",
                                                   versionEndExcluding="1.1.4")))
    last = ax21(versionEndExcluding="1.1.4")
    for c in (first, last):
        assert judge(rec(c), AX21_OLD) == "affected"
        assert judge(rec(c), AX21_NEW) == "not_affected"


def test_running_on_hardware_must_be_the_device() -> None:
    # Firmware criterion of the AX21 "running on" an AX10: an AX21 device is not that.
    c = conf(node(fw("archer_ax21_firmware")), node(hw("archer_ax10")))
    assert judge(rec(c), AX21_OLD) == "not_affected"


def test_platform_cpe_alone_never_makes_a_finding() -> None:
    c = conf(node(hw("archer_ax21")), op=None)
    m = Matcher([rec(c)])
    assert m.check(AX21_OLD) == []


def test_nested_and_or_children() -> None:
    # AND( OR(fw < 1.1.4), OR( AND(hw ax21, NOT hw ax21:2.0) ) ) written with 1.1 "children".
    inner = node(op="AND", children=(node(hw("archer_ax21")),
                                     node(hw("archer_ax21", "2.0"), negate=True)))
    c = conf(node(fw("archer_ax21_firmware", versionEndExcluding="1.1.4")),
             node(children=(inner,)))
    assert judge(rec(c), AX21_OLD) == "affected"  # v3
    assert judge(rec(c), device(TPL, "Archer AX21", "2", "1.1.2 Build 20220714")) == \
        "not_affected"
    assert judge(rec(c), device(TPL, "Archer AX21", None, "1.1.2 Build 20220714")) == \
        "possible"


def test_negated_node_excludes_a_revision() -> None:
    c = conf(node(fw("archer_ax21_firmware")), node(hw("archer_ax21", "v2"), negate=True))
    assert judge(rec(c), AX21_OLD) == "affected"
    assert judge(rec(c), device(TPL, "Archer AX21", "2", "1.0")) == "not_affected"


def test_negated_configuration() -> None:
    # A whole negated configuration cannot be vulnerable by itself.
    c = conf(node(fw("archer_ax21_firmware", "1.0.0")), op="AND", negate=True)
    assert judge(rec(c), AX21_OLD) == "not_affected"


def test_several_configurations_best_wins() -> None:
    a = conf(node(fw("archer_ax10_firmware")), node(hw("archer_ax10")))
    b = ax21(versionEndExcluding="1.1.4")
    c = conf(node(fw("archer_ax21_firmware", versionEndExcluding="1.0.0")),
             node(hw("archer_ax21")))
    m = Matcher([rec(a, c, b)])
    f = m.check(AX21_OLD)[0]
    assert f.status == "affected" and "config 3" in f.reason


def test_version_star_without_range_is_every_version() -> None:
    assert judge(rec(ax21()), AX21_NEW) == "affected"
    assert judge(rec(ax21()), device(TPL, "Archer AX21")) == "affected"


def test_version_dash_is_unspecified_and_only_possible_without_a_revision() -> None:
    c = conf(node(fw("archer_ax21_firmware", "-")), node(hw("archer_ax21")))
    m = Matcher([rec(c, description="Archer AX21 before 1.1.4 Build 20230219 is vulnerable.")])
    [f] = m.check(AX21_NEW)
    assert f.status == "possible" and "no firmware version" in f.reason
    # The same record whose description names no version: every version is affected.
    m = Matcher([rec(c, description="TP-Link Archer AX21 is vulnerable to an overflow.")])
    assert m.check(AX21_NEW)[0].status == "affected"
    pinned = conf(node(fw("archer_ax21_firmware", "-")), node(hw("archer_ax21", "3.0")))
    assert judge(rec(pinned), AX21_NEW) == "affected"
    assert judge(rec(pinned), device(TPL, "Archer AX21", "4", "1.0")) == "not_affected"


def test_exact_version_matches_only_that_version() -> None:
    c = conf(node(fw("archer_ax21_firmware", "1.1.2")), node(hw("archer_ax21")))
    assert judge(rec(c), AX21_OLD) == "affected"
    assert judge(rec(c), AX21_NEW) == "not_affected"
    assert judge(rec(c), device(TPL, "Archer AX21", "3")) == "possible"


def test_update_field_is_the_build() -> None:
    c = conf(node(fw("tl-wr740n_firmware", "3.16.4", update="130205")),
             node(hw("tl-wr740n", "4")))
    assert judge(rec(c), device(TPL, "TL-WR740N", "4", "3.16.4 Build 130205 Rel.63497n")) == \
        "affected"
    assert judge(rec(c), device(TPL, "TL-WR740N", "4", "3.16.6 Build 130529 Rel.47286n")) == \
        "not_affected"


def test_start_and_end_bounds() -> None:
    c = ax21(versionStartIncluding="1.1.0", versionEndIncluding="1.1.3")
    assert judge(rec(c), AX21_OLD) == "affected"
    assert judge(rec(c), device(TPL, "Archer AX21", "3", "1.0.9 Build 20210101")) == \
        "not_affected"
    assert judge(rec(c), device(TPL, "Archer AX21", "3", "1.1.3 Build 20221125")) == "affected"
    [f] = Matcher([rec(c)]).check(AX21_OLD)
    assert f.fixed_in == "later than 1.1.3"


def test_segments_compare_numerically() -> None:
    # cve-bin-tool's bug: "1.0.4.84" > "1.0.4.120" as strings.
    c = conf(node(fw("r7000_firmware", vendor="netgear", versionEndExcluding="1.0.4.120")),
             node(hw("r7000", vendor="netgear")))
    assert judge(rec(c), device("NETGEAR", "R7000", None, "V1.0.4.84_10.0.58")) == "affected"
    assert judge(rec(c), device("NETGEAR", "R7000", None, "V1.0.11.116_10.2.100")) == \
        "not_affected"


def test_incomparable_bound_is_possible() -> None:
    c = ax21(versionEndExcluding="230506")  # a build date against a dotted version
    [f] = Matcher([rec(c)]).check(device(TPL, "Archer AX21", "3", "1.1.2"))
    assert f.status == "possible" and "could not be compared" in f.reason


def test_hardware_revision_in_the_product_name() -> None:
    c = conf(node(fw(r"tl-wr841n_\(9.0\)_firmware", versionEndExcluding="3.16.9")),
             node(hw(r"tl-wr841n_\(9.0\)")))
    old = "3.16.9 Build 150310 Rel.50995n"
    assert judge(rec(c), device(TPL, "TL-WR841N", "9", "3.16.0 Build 150310")) == "affected"
    assert judge(rec(c), device(TPL, "TL-WR841N", "10", "3.16.0 Build 150310")) == \
        "not_affected"
    assert judge(rec(c), device(TPL, "TL-WR841N", None, "3.16.0 Build 150310")) == "possible"
    assert judge(rec(c), device(TPL, "TL-WR841N", "9", old)) == "not_affected"


def test_model_with_glued_revision() -> None:
    c = conf(node(fw("r6400v2_firmware", vendor="netgear", versionEndExcluding="1.0.4.84")),
             node(hw("r6400v2", vendor="netgear")))
    assert judge(rec(c), device("NETGEAR", "R6400", "2", "V1.0.2.46_1.0.36")) == "affected"
    assert judge(rec(c), device("NETGEAR", "R6400v2", None, "V1.0.2.46_1.0.36")) == "affected"
    assert judge(rec(c), device("NETGEAR", "R6400", "1", "V1.0.2.46_1.0.36")) == "not_affected"


@pytest.mark.parametrize("vendor_id", ["tp-link", "tplink", "tp_link"])
def test_vendor_spellings(vendor_id: str) -> None:
    c = conf(node(fw("archer_ax21_firmware", vendor=vendor_id)),
             node(hw("archer_ax21", vendor=vendor_id)))
    assert judge(rec(c), AX21_OLD) == "affected"


def test_tl_prefix_is_optional() -> None:
    c = conf(node(fw("wr940n_firmware", "-")), node(hw("wr940n", "4")))
    assert judge(rec(c), device(TPL, "TL-WR940N", "4")) == "affected"


def test_descriptive_product_name() -> None:
    c = conf(node(fw("rv110w_firmware", vendor="cisco", versionEndExcluding="1.2.2.5")),
             node(hw("rv110w_wireless-n_vpn_firewall", vendor="cisco")))
    assert judge(rec(c), device("Cisco", "RV110W", None, "1.2.1.7")) == "affected"
    assert judge(rec(c), device("Cisco", "RV130W", None, "1.2.1.7")) == "not_affected"


def test_vendor_wide_firmware_family() -> None:
    # CVE-2018-5999 shape: only o:asus:asuswrt with a bound. The firmware string of an ASUS
    # router is an AsusWRT version, so a clear comparison decides; without one it is possible.
    c = conf(node(fw("asuswrt", vendor="asus", versionEndExcluding="3.0.0.4.384_10007")),
             op=None)
    assert judge(rec(c), device("ASUS", "RT-AC68U", None, "3.0.0.4.382_50010")) == "affected"
    assert judge(rec(c), device("ASUS", "RT-AC68U", None, "3.0.0.4.386_51529")) == \
        "not_affected"
    assert judge(rec(c), device("ASUS", "RT-AC68U")) == "possible"
    every = conf(node(fw("asuswrt", vendor="asus")), op=None)  # "*": every model, every build
    [f] = Matcher([rec(every)]).check(device("ASUS", "RT-AC68U", None, "3.0.0.4.382_50010"))
    assert f.status == "possible" and "firmware family" in f.reason


def test_platform_firmware_family_needs_a_model() -> None:
    alone = conf(node(fw("prosafe_firmware", vendor="netgear", versionEndIncluding="6.1.0.12")),
                 op=None)
    assert Matcher([rec(alone)]).check(device("NETGEAR", "R7000", None, "V1.0.4.84")) == []
    with_hw = conf(node(fw("prosafe_firmware", vendor="netgear", versionEndIncluding="5.4.1.13")),
                   node(hw("prosafe_gs724t", "v3", vendor="netgear", vulnerable=True)))
    gs = device("NETGEAR", "GS724T", "3", "5.4.1.10")
    assert judge(rec(with_hw), gs) == "affected"


def test_old_style_vulnerable_hardware_in_an_or() -> None:
    # CVE-2013-6786 shape: one OR of an application and vulnerable hardware.
    c = conf(node(
        {"vulnerable": True, "criteria": "cpe:2.3:a:allegrosoft:rompager:*:*:*:*:*:*:*:*",
         "versionEndIncluding": "4.07"},
        hw("td-8816", vulnerable=True),
    ), op=None)
    assert judge(rec(c), device(TPL, "TD-8816", None, "6.0.0 Build 110104")) == "affected"
    assert judge(rec(c), device(TPL, "TD-8817", None, "6.0.0")) == "not_affected"


def test_broken_criteria_do_not_crash() -> None:
    c = conf(node({"vulnerable": True, "criteria": "not a cpe"}), node(hw("archer_ax21")))
    assert judge(rec(c), AX21_OLD) == "not_affected"


def test_cve5_fallback_shapes() -> None:
    affected = (
        {"vendor": "TP-Link", "product": "Archer AX21(AX1800)", "defaultStatus": "unknown",
         "versions": [{"version": "0", "lessThan": "1.1.4 Build 20230219",
                       "status": "affected", "versionType": "custom"}]},
    )
    r = rec(cve="CVE-2099-0002", cve5_affected=affected)
    m = Matcher([r])
    [f] = m.check(AX21_OLD)
    assert (f.status, f.source, f.fixed_in) == ("affected", "cve5", "1.1.4 Build 20230219")
    assert m.check(AX21_NEW) == []
    [f] = m.check(device(TPL, "Archer AX21", "3"))
    assert f.status == "possible"
    prior = ({"vendor": "TP-LINK", "product": "Archer C7",
              "versions": [{"version": "firmware versions prior to 'Archer C7(JP)_V2_230602'",
                            "status": "affected"}]},)
    m = Matcher([rec(cve="CVE-2099-0003", cve5_affected=prior)])
    assert m.check(device(TPL, "Archer C7", "2", "Archer C7(JP)_V2_230101"))[0].status == \
        "affected"
    allv = ({"vendor": "n/a", "product": "n/a", "versions": [{"version": "n/a",
                                                               "status": "affected"}]},
            {"vendor": "tp-link", "product": "archer_c5", "cpes":
             ["cpe:2.3:h:tp-link:archer_c5:-:*:*:*:*:*:*:*"],
             "versions": [{"version": "0", "lessThan": "*", "status": "affected"}]})
    m = Matcher([rec(cve="CVE-2099-0004", cve5_affected=allv)])
    assert m.check(device(TPL, "Archer C5", "2"))[0].status == "affected"
    assert m.check(device(TPL, "Archer C50", "2")) == []
