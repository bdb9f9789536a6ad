"""Names and versions the oracle corpus showed the matcher misread (issue 9, left-overs): fused
D-Link hardware revisions, Zyxel's OS-named ``zld`` firmware CPE, ZTE build-only firmware,
CVE 5 "up to X" / "X and earlier" texts, Buffalo "/N" model names — on real records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from match_helpers import device, status_of

from routerwatch.identity.versions import compare_versions, parse_version
from routerwatch.match import Matcher
from routerwatch.match.aliases import AliasRules
from routerwatch.models import CveRecord

ROOT = Path(__file__).resolve().parents[2]
ORACLE = ROOT / "tests" / "quality" / "oracle" / "cve5"
PICKS = ROOT / "tests" / "fixtures" / "nvd_picks"


def _cve5_record(cve: str) -> CveRecord:
    path = next(ORACLE.rglob(f"{cve}.json"))
    doc = json.loads(path.read_text())
    affected: list[Any] = list(doc["containers"]["cna"].get("affected", []))
    for adp in doc["containers"].get("adp", []):
        affected += adp.get("affected", [])
    return CveRecord(cve_id=cve, cve5_affected=tuple(affected))


def _nvd_record(path: Path) -> CveRecord:
    cve = json.loads(path.read_text())["vulnerabilities"][0]["cve"]
    return CveRecord(cve_id=cve["id"], configurations=tuple(cve["configurations"]),
                     description=cve["descriptions"][0]["value"])


# --------------------------------------------------------------------------- D-Link revisions


def test_fused_dlink_revision_is_split_on_both_sides() -> None:
    rules = AliasRules.load()
    ref = rules.product("D-Link", "dir820la1_firmware")  # CVE-2023-25280 (CISA ADP cpe)
    assert ref is not None and ref.keys == {"dir820l"} and ref.hardware == "a1"
    ref = rules.product("D-Link", "dir-825_r1_firmware")  # NVD: hardware dir-825:r1
    assert ref is not None and ref.keys == {"dir825"} and ref.hardware == "r1"
    # a model whose name ends in a digit + letter + digit without a letter suffix before it
    ref = rules.product("D-Link", "dir806a1")
    assert ref is not None and ref.keys == {"dir806a1"} and ref.hardware is None
    assert "dir850l" in rules.model_keys("D-Link", "DIR-850LB1")


def test_dlink_a1_record_does_not_affect_b1() -> None:
    # CISA ADP's affected entry of CVE-2023-25280 as in cisagov/vulnrichment @ b0ed758 (in the
    # starter bundle); the CNA entry is n/a
    m = Matcher([CveRecord(cve_id="CVE-2023-25280", cve5_affected=({
        "cpes": ["cpe:2.3:o:dlink:dir820la1_firmware:105b03:*:*:*:*:*:*:*"],
        "vendor": "dlink", "product": "dir820la1_firmware",
        "versions": [{"status": "affected", "version": "105b03"}],
        "defaultStatus": "unknown"},))])
    cve = "CVE-2023-25280"
    assert status_of(m, device("D-Link", "DIR-820L", "A1", "1.05B03"), cve) == "affected"
    assert status_of(m, device("D-Link", "DIR-820L", "B1", "1.05B03"), cve) == "not_affected"
    # revision unknown: possible, never affected
    assert status_of(m, device("D-Link", "DIR-820L", None, "1.05B03"), cve) == "possible"
    # the revision fused into the device's own model name counts
    assert status_of(m, device("D-Link", "DIR-820LA1", None, "1.05B03"), cve) == "affected"


def test_dlink_dotless_build_reads_as_the_dotted_one() -> None:
    assert compare_versions("D-Link", "1.05B03", "105b03") == 0
    assert compare_versions("D-Link", "1.05B04", "105b03") == 1
    assert parse_version("D-Link", "1050b03") is None  # not the three-digit form


def test_nvd_typo_firmare_names_the_dir850l() -> None:
    rules = AliasRules.load()
    ref = rules.product("D-Link", "dir-850l_firmare")  # CVE-2016-5681
    assert ref is not None and "dir850l" in ref.keys


# --------------------------------------------------------------------------- Zyxel ZLD


@pytest.fixture(scope="module")
def zld() -> Matcher:
    return Matcher([_nvd_record(PICKS / "zyxel.json")])  # CVE-2024-11667, real NVD record


@pytest.mark.parametrize(("model", "firmware", "expected"), [
    ("USG FLEX 200", "V5.36(ABUJ.0)", "affected"),
    ("USG FLEX 200", "5.37 patch1", "affected"),
    ("ATP100", "V5.38(ABPS.0)", "affected"),
    ("USG FLEX 200", "V5.39(ABUJ.0)", "not_affected"),
    ("USG FLEX 50W", "5.01", "not_affected"),  # its range starts at 5.10
    ("USG FLEX 50W", "5.10", "affected"),
    ("USG FLEX 200", None, "possible"),
    ("NWA50AX", "5.36", "not_affected"),  # an access point: no hardware CPE names it
])
def test_zld_firmware_counts_with_the_hardware_it_runs_on(
        zld: Matcher, model: str, firmware: str | None, expected: str) -> None:
    assert status_of(zld, device("Zyxel", model, None, firmware), "CVE-2024-11667") == expected


def test_zld_is_a_platform_family_not_a_model() -> None:
    ref = AliasRules.load().product("Zyxel", "zld")
    assert ref is not None and ref.generic == "platform" and not ref.keys


# --------------------------------------------------------------------------- ZTE, Buffalo


def test_zte_build_only_firmware() -> None:
    # CVE-2023-25643: CNA range "MC801A_Elisa3_B19" to <= "B19"; the web UI shows "B19"
    assert compare_versions("ZTE", "B19", "MC801A_Elisa3_B19") == 0
    assert compare_versions("ZTE", "B18", "B19") == -1
    assert str(parse_version("ZTE", "MC801A1_Elisa1_B04")) == "B4"
    m = Matcher([_cve5_record("CVE-2023-25643")])
    assert status_of(m, device("ZTE", "MC801A", None, "B19"), "CVE-2023-25643") == "affected"


def test_cve5_up_to_and_earlier_texts() -> None:
    m = Matcher([_cve5_record("CVE-2024-44072")])  # Buffalo: "Ver. 1.02 and earlier"
    cve = "CVE-2024-44072"
    assert status_of(m, device("Buffalo", "WEX-300HPTX/N", None, "1.02"), cve) == "affected"
    assert status_of(m, device("Buffalo", "WEX-300HPTX/N", None, "1.01"), cve) == "affected"
    assert status_of(m, device("Buffalo", "WEX-300HPTX/N", None, "1.03"), cve) != "affected"
    # ZTE: version "All versions up to V2.24.10P1" with lessThan V2.24.10P1
    z = Matcher([_cve5_record("CVE-2024-22069")])
    cve = "CVE-2024-22069"
    assert status_of(z, device("ZTE", "ZXV10 XT802", None, "V2.24.9P1"), cve) == "affected"
    assert status_of(z, device("ZTE", "ZXV10 XT802", None, "V2.24.10P1"), cve) == "not_affected"


def test_slash_model_keeps_the_whole_name_too() -> None:
    keys = AliasRules.load().model_keys("Buffalo", "WEX-300HPTX/N")
    assert "wex300hptxn" in keys
    assert {"wr841n", "wr841nd"} <= AliasRules.load().model_keys("TP-Link", "TL-WR841N/ND")


def test_routeros_is_a_vendor_wide_os_family() -> None:
    # CVE-2015-2350 as NVD files it: mikrotik:routeros up to 5.0, no hardware CPE
    rec = CveRecord(cve_id="CVE-2015-2350", configurations=({"nodes": [{
        "operator": "OR", "negate": False, "cpeMatch": [{
            "vulnerable": True, "criteria": "cpe:2.3:o:mikrotik:routeros:*:*:*:*:*:*:*:*",
            "versionEndIncluding": "5.0"}]}]},),
        description="MikroTik RouterOS 5.0 and earlier allows ...")
    m = Matcher([rec])
    cve = "CVE-2015-2350"
    assert status_of(m, device("MikroTik", "RB750Gr3", None, "4.17"), cve) == "affected"
    assert status_of(m, device("MikroTik", "RB750Gr3", None, "6.40.5"), cve) == "not_affected"
    assert status_of(m, device("MikroTik", "hAP ac2", None, None), cve) == "possible"
    ref = AliasRules.load().product("MikroTik", "routeros")
    assert ref is not None and ref.generic == "vendor"
