"""The matcher on real NVD / CVE 5 records from tests/fixtures (see tests/fixtures/SOURCES.md)."""

from __future__ import annotations

import pytest
from match_helpers import device, load_records, status_of

from routerwatch.match import Matcher
from routerwatch.models import DeviceIdentity, replace

TPL = "TP-Link"


def finding(m: Matcher, ident, cve):  # type: ignore[no-untyped-def]
    return next(f for f in m.check(ident, include_unaffected=True) if f.cve == cve)


# --------------------------------------------------------------------------- CVE-2023-1389
# o:tp-link:archer_ax21_firmware:* versionEndExcluding 1.1.4 AND h:tp-link:archer_ax21:-


def test_cve_2023_1389_old_firmware_is_affected_with_reason_and_fix(matcher: Matcher) -> None:
    ident = device(TPL, "Archer AX21", "3", "1.1.2 Build 20220714 rel.46227")
    f = finding(matcher, ident, "CVE-2023-1389")
    assert f.status == "affected"
    assert f.source == "nvd"
    assert f.fixed_in == "1.1.4"
    assert f.kev is True and f.kev_date == "2023-05-01"
    assert "1.1.2 Build 20220714 rel.46227 < 1.1.4 (versionEndExcluding)" in f.reason
    assert "config 1" in f.reason and "archer_ax21 hardware" in f.reason
    assert "cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*" in f.criteria
    # KEV first in the sort order
    assert matcher.check(ident)[0].cve == "CVE-2023-1389"


def test_cve_2023_1389_fixed_firmware_is_not_affected(matcher: Matcher) -> None:
    ident = device(TPL, "Archer AX21", "3", "1.1.4 Build 20230219 rel.73766")
    assert "CVE-2023-1389" not in {f.cve for f in matcher.check(ident)}
    f = finding(matcher, ident, "CVE-2023-1389")
    assert f.status == "not_affected"
    assert "is not < 1.1.4" in f.reason
    assert f.fixed_in is None


def test_cve_2023_1389_unknown_firmware_is_possible(matcher: Matcher) -> None:
    f = finding(matcher, device(TPL, "Archer AX21", "3"), "CVE-2023-1389")
    assert f.status == "possible"
    assert "firmware unknown" in f.reason


@pytest.mark.parametrize("model", ["Archer AX21 (AX1800)", "archer_ax21", "ARCHER AX21"])
def test_cve_2023_1389_model_spellings(matcher: Matcher, model: str) -> None:
    ident = device(TPL, model, None, "1.1.2 Build 20220714")
    assert status_of(matcher, ident, "CVE-2023-1389") == "affected"


def test_cve_2023_1389_does_not_reach_other_models(matcher: Matcher) -> None:
    for model in ("Archer AX20", "Archer AX10", "Archer C7"):
        ident = device(TPL, model, None, "1.1.2 Build 20220714")
        assert status_of(matcher, ident, "CVE-2023-1389") == "not_affected"
    assert status_of(matcher, device("NETGEAR", "Archer AX21", None, "1.1.2"),
                     "CVE-2023-1389") == "not_affected"


# --------------------------------------------------------------------------- CVE-2023-33538
# firmware version "-" AND hardware 8.0 / 10.0 (TL-WR841N), 2.0/4.0 (TL-WR940N), 1.0/2.0 (TL-WR740N)


@pytest.mark.parametrize(
    ("model", "hw", "expected"),
    [
        ("TL-WR841N", "8", "affected"),
        ("TL-WR841N", "10", "affected"),
        ("TL-WR841N", "8.0", "affected"),
        ("TL-WR841N", "14", "not_affected"),
        ("TL-WR841N", None, "possible"),
        ("TL-WR940N", "4", "affected"),
        ("TL-WR940N", "6", "not_affected"),
        ("TL-WR740N", "2", "affected"),
        ("TL-WR740N", "4", "not_affected"),
        ("TL-WR841ND", "8", "not_affected"),
    ],
)
def test_cve_2023_33538_hardware_revisions(
    matcher: Matcher, model: str, hw: str | None, expected: str
) -> None:
    ident = device(TPL, model, hw, "3.16.9 Build 150310 Rel.50995n")
    assert status_of(matcher, ident, "CVE-2023-33538") == expected


def test_cve_2023_33538_reason_names_the_revision(matcher: Matcher) -> None:
    f = finding(matcher, device(TPL, "TL-WR841N", "10"), "CVE-2023-33538")
    assert "hardware v10" in f.reason and "config 2" in f.reason
    assert "version not specified" in f.reason
    f = finding(matcher, device(TPL, "TL-WR841N", None), "CVE-2023-33538")
    assert "hardware revision unknown" in f.reason


# --------------------------------------------------------------------------- CVE-2021-41653
# versionEndIncluding "tl-wr840n\(eu\)_v5_171211" AND h:tp-link:tl-wr840n:v5


def test_cve_2021_41653_free_text_bound(matcher: Matcher) -> None:
    fw = "0.9.1 3.16 v0001.0 Build 171211 Rel.58800n"
    old = DeviceIdentity(vendor=TPL, model="TL-WR840N", hardware="5", firmware=fw, region="EU")
    f = finding(matcher, old, "CVE-2021-41653")
    assert f.status == "affected"
    assert f.fixed_in == "later than tl-wr840n(eu)_v5_171211"  # unescaped
    assert "versionEndIncluding" in f.reason
    newer = replace(old, firmware="0.9.1 3.16 v0001.0 Build 180119 Rel.57358n")
    assert status_of(matcher, newer, "CVE-2021-41653") == "not_affected"
    assert status_of(matcher, replace(old, hardware="6"), "CVE-2021-41653") == "not_affected"
    assert status_of(matcher, device(TPL, "TL-WR840N"), "CVE-2021-41653") == "possible"


def test_regional_advisory_needs_the_region(matcher: Matcher) -> None:
    # "TL-WR840N EU v5 ... through TL-WR840N(EU)_V5_171211": EU firmware.
    fw = "0.9.1 3.16 v0001.0 Build 171211 Rel.58800n"
    base = DeviceIdentity(vendor=TPL, model="TL-WR840N", hardware="5", firmware=fw)
    for region in (None, "US"):
        f = finding(matcher, replace(base, region=region), "CVE-2021-41653")
        assert f.status == "possible" and "EU firmware" in f.reason
    # CVE-2023-39224 names "Archer C7(JP)_V2_230602" but "Archer C5 firmware all versions":
    # the JP tag is about the C7 only.
    c5 = DeviceIdentity(vendor=TPL, model="Archer C5", hardware="1.2", firmware="3.14.1")
    assert status_of(matcher, c5, "CVE-2023-39224") == "affected"


# --------------------------------------------------------------------------- CVE-2020-10882
# Archer A7 filed as o:tp-link:ac1750_firmware:190726 AND h:tp-link:ac1750:-


@pytest.mark.parametrize("fw", ["1.0.15 Build 20190726 Rel. 44424", "Archer A7(US)_V5_190726"])
def test_cve_2020_10882_archer_a7_filed_as_ac1750(matcher: Matcher, fw: str) -> None:
    f = finding(matcher, device(TPL, "Archer A7", "5", fw), "CVE-2020-10882")
    assert f.status == "affected"
    assert "exact version" in f.reason and "ac1750" in f.reason


def test_cve_2020_10882_exact_version_only(matcher: Matcher) -> None:
    newer = device(TPL, "Archer A7", "5", "1.0.15 Build 20200902 Rel. 44424")
    assert status_of(matcher, newer, "CVE-2020-10882") == "not_affected"
    # The Archer C7 is also sold as "AC1750", but the CVE names the A7 only.
    c7 = device(TPL, "Archer C7", "5", "1.0.15 Build 20190726 Rel. 44424")
    assert status_of(matcher, c7, "CVE-2020-10882") == "not_affected"


# --------------------------------------------------------------------------- ASUS


def test_cve_2023_39780_asus_rt_ax55(matcher: Matcher) -> None:
    # NVD writes 3.0.0.4.386.51598, the router shows 3.0.0.4.386_51598
    f = finding(matcher, device("ASUS", "RT-AX55", None, "3.0.0.4.386_51598"), "CVE-2023-39780")
    assert f.status == "affected" and f.kev
    other = device("ASUS", "RT-AX55", None, "3.0.0.4.386_51529")
    assert status_of(matcher, other, "CVE-2023-39780") == "not_affected"
    assert status_of(matcher, device("ASUS", "RT-AX55"), "CVE-2023-39780") == "possible"
    assert status_of(matcher, device("ASUS", "RT-AX56U", None, "3.0.0.4.386_51598"),
                     "CVE-2023-39780") == "not_affected"


def test_cve_2023_39238_cve5_only_record(matcher: Matcher) -> None:
    assert all(not r.configurations for r in load_records() if r.cve_id == "CVE-2023-39238")
    f = finding(matcher, device("ASUS", "RT-AX56U", "2", "3.0.0.4.386_50460"), "CVE-2023-39238")
    assert f.status == "affected" and f.source == "cve5"
    assert "CVE 5" in f.reason and "NVD has no configurations" in f.reason
    # The product name "RT-AX56U_V2" carries the hardware revision.
    assert status_of(matcher, device("ASUS", "RT-AX56U", "1", "3.0.0.4.386_50460"),
                     "CVE-2023-39238") == "not_affected"
    assert status_of(matcher, device("ASUS", "RT-AX56U", None, "3.0.0.4.386_50460"),
                     "CVE-2023-39238") == "possible"
    ax55 = "RT-AX55"
    assert status_of(matcher, device("ASUS", ax55, None, "3.0.0.4.386_50460"),
                     "CVE-2023-39238") == "affected"
    assert status_of(matcher, device("ASUS", ax55), "CVE-2023-39238") == "possible"
    # defaultStatus "unaffected": versions the CNA does not list are not affected.
    assert status_of(matcher, device("ASUS", ax55, None, "3.0.0.4.386_49000"),
                     "CVE-2023-39238") == "not_affected"
    assert status_of(matcher, device("ASUS", ax55, None, "3.0.0.4.386_51598"),
                     "CVE-2023-39238") == "not_affected"


def test_cve5_clear_cna_version_beats_unparseable_adp_range(matcher: Matcher) -> None:
    # CVE-2023-27332: CNA "1.1.3 Build 20221125", CISA ADP "lessThan 3230219" (a typo).
    # 1.1.4 is not listed and defaultStatus is "unknown": possible (CVE 5 schema), never
    # "not affected"; the ADP's range cannot be compared and does not decide.
    fixed = device(TPL, "Archer AX21", "3", "1.1.4 Build 20230219 rel.73766")
    assert status_of(matcher, fixed, "CVE-2023-27332") == "possible"
    same = device(TPL, "Archer AX21", "3", "1.1.3 Build 20221125 rel.45870")
    assert status_of(matcher, same, "CVE-2023-27332") == "affected"
    # defaultStatus "unknown" and one version listed: an older firmware is only possible.
    older = device(TPL, "Archer AX21", "3", "1.1.2 Build 20220714 rel.46227")
    assert status_of(matcher, older, "CVE-2023-27332") == "possible"


def test_cve5_supplements_nvd_that_misses_a_model(matcher: Matcher) -> None:
    # CVE-2023-39224: NVD's configuration names only the Archer C7; CVE 5 names the C5 too.
    f = finding(matcher, device(TPL, "Archer C5", "1.2", "3.14.1 Build 141126"),
                "CVE-2023-39224")
    assert f.status == "affected" and f.source == "cve5"
    assert "do not name this model" in f.reason


def test_cve5_product_with_model_in_parentheses(matcher: Matcher) -> None:
    # "AC1350 Wireless MU-MIMO Gigabit Access Point (EAP225 V3)", "v5.1.0 Build 20220926"
    ident = device(TPL, "EAP225", "3", "5.1.0 Build 20220926")
    assert status_of(matcher, ident, "CVE-2023-48724") == "affected"
    assert status_of(matcher, device(TPL, "EAP225", "4", "5.1.0 Build 20220926"),
                     "CVE-2023-48724") == "not_affected"


def test_cve5_open_start_words_and_cna_over_adp(matcher: Matcher) -> None:
    # CVE-2024-3079: CNA "earlier" .. lessThanOrEqual 3.0.0.4.386_51668; ADP lessThan it.
    at = device("ASUS", "RT-AC68U", None, "3.0.0.4.386_51668")
    assert status_of(matcher, at, "CVE-2024-3079") == "affected"
    after = device("ASUS", "RT-AC68U", None, "3.0.0.4.386_51685")
    assert status_of(matcher, after, "CVE-2024-3079") == "not_affected"


def test_cve5_hardware_revision_written_as_version(matcher: Matcher) -> None:
    # CVE-2024-46313: ADP h:tp-link:tl-wr941nd:v6 with version "v6": every firmware of v6.
    assert status_of(matcher, device(TPL, "TL-WR941ND", "6"), "CVE-2024-46313") == "affected"
    assert status_of(matcher, device(TPL, "TL-WR941ND", "5"), "CVE-2024-46313") == \
        "not_affected"
    # CVE-2024-37661: h:tp-link:tl-7dr5130:1.0.23 carries the firmware version, no revision.
    assert status_of(matcher, device(TPL, "TL-7DR5130", None, "1.0.23"), "CVE-2024-37661") == \
        "affected"


def test_vulnerable_hardware_beside_its_firmware_is_not_every_build(matcher: Matcher) -> None:
    # CVE-2011-4497: OR(rt-n56u_firmware <= 1.0.1.4, ..., h:rt-n56u vulnerable).
    assert status_of(matcher, device("ASUS", "RT-N56U", None, "1.0.1.4o"),
                     "CVE-2011-4497") == "not_affected"
    assert status_of(matcher, device("ASUS", "RT-N56U", None, "1.0.1.2"),
                     "CVE-2011-4497") == "affected"


def test_misspelt_nvd_product_alias(matcher: Matcher) -> None:
    # CVE-2015-7789: "wl-33nul_firmware" <= 3.0.0.41 AND h:asus:wl-330nul
    assert status_of(matcher, device("ASUS", "WL-330NUL", None, "3.0.0.41"),
                     "CVE-2015-7789") == "affected"
    assert status_of(matcher, device("ASUS", "WL-330NUL", None, "3.0.0.42"),
                     "CVE-2015-7789") == "not_affected"


def test_dash_version_with_a_versionless_description(matcher: Matcher) -> None:
    # CVE-2019-6989: tl-wr940n_firmware:- AND h:tl-wr940n:-, "TP-Link TL-WR940N is vulnerable"
    f = finding(matcher, device(TPL, "TL-WR940N", "4", "3.16.9 Build 150310"), "CVE-2019-6989")
    assert f.status == "affected" and "names no firmware version" in f.reason


def test_nvd_kev_date_counts_as_kev(matcher: Matcher) -> None:
    # CVE-2023-50224: cisaExploitAdd 2025-09-03 in NVD, absent from the 2025-08-25 KEV file.
    f = finding(matcher, device(TPL, "TL-WR841N", "12", "3.16.9 Build 200409 Rel.50995n"),
                "CVE-2023-50224")
    assert f.status == "affected" and f.kev and f.kev_date == "2025-09-03"


# --------------------------------------------------------------------------- catalog


def test_index_gives_few_candidates(matcher: Matcher) -> None:
    dev = matcher.device(device(TPL, "Archer AX21"))
    assert dev.vendor is not None
    cands = matcher.catalog.candidates(dev.vendor, dev.keys)
    assert 0 < len(cands) < len(matcher.catalog) // 10
    ids = {matcher.catalog.record(i).cve_id for i in cands}
    assert "CVE-2023-1389" in ids and "CVE-2023-33538" not in ids


def test_knows(matcher: Matcher) -> None:
    assert matcher.knows(device(TPL, "Archer AX21")) == (True, True)
    assert matcher.knows(device("tplink", "archer ax21")) == (True, True)
    assert matcher.knows(device(TPL, "Archer ZZ99")) == (True, False)
    assert matcher.knows(device("MikroTik", "hEX")) == (False, False)
    assert matcher.check(device(TPL, "Archer ZZ99", None, "1.0")) == []
    assert matcher.check(device("MikroTik", "hEX", None, "6.48.6")) == []


def test_unknown_vendor_or_model_gives_nothing(matcher: Matcher) -> None:
    assert matcher.check(DeviceIdentity(model="Archer AX21", firmware="1.1.2")) == []
    assert matcher.check(DeviceIdentity(vendor=TPL, firmware="1.1.2")) == []
    assert matcher.knows(DeviceIdentity()) == (False, False)


def test_findings_are_sorted_kev_epss_cvss(matcher: Matcher) -> None:
    found = matcher.check(device(TPL, "TL-WR841N", "8"))
    assert len(found) > 3
    keys = [(not f.kev, -(f.epss or -1), -(f.cvss or -1)) for f in found]
    assert keys == sorted(keys)
    assert {f.status for f in found} <= {"affected", "possible"}
