"""Vendor firmware version schemes: table tests of every format the issue and fixtures show."""

from __future__ import annotations

from datetime import date

import pytest

from routerwatch.identity.versions import (
    FirmwareVersion,
    compare_versions,
    parse_version,
    scheme_for,
)


def fields(v: FirmwareVersion | None) -> dict[str, object] | None:
    if v is None:
        return None
    out: dict[str, object] = {}
    for name in (
        "release",
        "patch",
        "secondary",
        "build_date",
        "build",
        "stage",
        "code",
        "hardware",
        "region",
    ):
        value = getattr(v, name)
        if value not in (None, ()):
            out[name] = value
    return out


D = date

PARSE_TABLE: list[tuple[str | None, str, dict[str, object] | None]] = [
    # ---- TP-Link
    (
        "TP-Link",
        "1.1.4 Build 20230219 rel.73766",
        {"release": (1, 1, 4), "build_date": D(2023, 2, 19), "build": 73766},
    ),
    ("TP-Link", "1.1.4_build_20230219", {"release": (1, 1, 4), "build_date": D(2023, 2, 19)}),
    ("TP-Link", "1.1.4", {"release": (1, 1, 4)}),
    (
        "TP-Link",
        "3.13.33 Build 130506 Rel.48660n",
        {"release": (3, 13, 33), "build_date": D(2013, 5, 6), "build": 48660},
    ),
    (
        "TP-Link",
        "1.6.1 Build 20231227 Rel. 80438",
        {"release": (1, 6, 1), "build_date": D(2023, 12, 27), "build": 80438},
    ),
    ("TP-Link", "201216", {"build_date": D(2020, 12, 16)}),
    ("TP-Link", "230506", {"build_date": D(2023, 5, 6)}),
    (
        "TP-Link",
        "tl-wr840n\\(eu\\)_v5_171211",
        {"build_date": D(2017, 12, 11), "hardware": "5", "region": "EU"},
    ),
    (
        "TP-Link",
        "TL-WR841N(UN)_V8_170210",
        {"build_date": D(2017, 2, 10), "hardware": "8", "region": "UN"},
    ),
    ("TP-Link", "tl-wr841n_v8_140724", {"build_date": D(2014, 7, 24), "hardware": "8"}),
    (
        "TP-Link",
        "Archer C50(JP)_V3_230505",
        {"build_date": D(2023, 5, 5), "hardware": "3", "region": "JP"},
    ),
    ("TP-Link", "v14_230506", {"build_date": D(2023, 5, 6), "hardware": "14"}),
    ("TP-Link", "v3.230508", {"build_date": D(2023, 5, 8), "hardware": "3"}),
    ("TP-Link", "2_160201_us", {"build_date": D(2016, 2, 1), "hardware": "2", "region": "US"}),
    (
        "TP-Link",
        "AX21(US)_V3_1.1.1 Build 20220603",
        {"release": (1, 1, 1), "build_date": D(2022, 6, 3), "hardware": "3", "region": "US"},
    ),
    (
        "TP-Link",
        "Archer AX6000(JP)_V1_1.3.0 Build 20221208",
        {"release": (1, 3, 0), "build_date": D(2022, 12, 8), "hardware": "1", "region": "JP"},
    ),
    ("TP-Link", "V3_1.1.4", {"release": (1, 1, 4), "hardware": "3"}),
    ("TP-Link", "3.6_1.1.4", {"release": (1, 1, 4), "hardware": "3.6"}),
    ("TP-Link", "3_1.1.4", {"release": (1, 1, 4), "hardware": "3"}),
    ("TP-Link", "1_1.1.6", {"release": (1, 1, 6), "hardware": "1"}),
    (
        "TP-Link",
        "7.0_3.0.14_Build_221115_Rel.56908n",
        {"release": (3, 0, 14), "build_date": D(2022, 11, 15), "build": 56908, "hardware": "7"},
    ),
    (
        "TP-Link",
        "V7.6_1.0.0 Build 20230616",
        {"release": (1, 0, 0), "build_date": D(2023, 6, 16), "hardware": "7.6"},
    ),
    (
        "TP-Link",
        "2.6_2.2.2build20231017",
        {"release": (2, 2, 2), "build_date": D(2023, 10, 17), "hardware": "2.6"},
    ),
    (
        "TP-Link",
        "2.6_2.2.2-build-20231017",
        {"release": (2, 2, 2), "build_date": D(2023, 10, 17), "hardware": "2.6"},
    ),
    (
        "TP-Link",
        "v2._1.5.8_build_20230619",
        {"release": (1, 5, 8), "build_date": D(2023, 6, 19), "hardware": "2"},
    ),
    (
        "TP-Link",
        "v1_1.1.3_build_20240415",
        {"release": (1, 1, 3), "build_date": D(2024, 4, 15), "hardware": "1"},
    ),
    (
        "TP-Link",
        "0.9.1 4.16 v0001.0 Build 170622 Rel.64334n",
        {"release": (0, 9, 1, 4, 16), "build_date": D(2017, 6, 22), "build": 64334},
    ),
    ("TP-Link", "0.9.1_3.16", {"release": (0, 9, 1, 3, 16)}),
    ("TP-Link", "v5.1.0 Build 20220926", {"release": (5, 1, 0), "build_date": D(2022, 9, 26)}),
    ("TP-Link", "v5.0 Build 20211201", {"release": (5, 0), "build_date": D(2021, 12, 1)}),
    (
        "TP-Link",
        "1.3.0:build_20230322_rel_70591",
        {"release": (1, 3, 0), "build_date": D(2023, 3, 22), "build": 70591},
    ),
    (
        "TP-Link",
        "1.1.15 Build 211130 Rel.15378n(4555)",
        {"release": (1, 1, 15), "build_date": D(2021, 11, 30), "build": 15378},
    ),
    (
        "TP-Link",
        "1.0.0 Build 20180502 rel.45702 (EU)",
        {"release": (1, 0, 0), "build_date": D(2018, 5, 2), "build": 45702, "region": "EU"},
    ),
    (
        "TP-Link",
        "ER605(UN)_v2_2.2.4 Build 020240119",
        {"release": (2, 2, 4), "build_date": D(2024, 1, 19), "hardware": "2", "region": "UN"},
    ),
    ("TP-Link", "1.0.11 build 2022052", {"release": (1, 0, 11)}),  # 7-digit "date": dropped
    ("TP-Link", "V2", {"hardware": "2"}),
    ("TP-Link", "0", {"release": (0,)}),
    ("TP-Link", "3230219", None),
    ("TP-Link", "14", None),
    ("TP-Link", "LM.1.6.18P12_sign6", None),
    ("TP-Link", "firmware versions prior to 'Archer C50(JP)_V3_230505'", None),
    ("TP-Link", "R.47.0.0 AutoCAD 2021 & R.47.0.0 AutoCAD LT 2021", None),
    ("TP-Link", "-", None),
    ("TP-Link", "*", None),
    ("TP-Link", "", None),
    # ---- NETGEAR
    ("NETGEAR", "V1.0.4.84_10.0.58", {"release": (1, 0, 4, 84), "secondary": (10, 0, 58)}),
    ("netgear", "1.0.11.136_10.2.120", {"release": (1, 0, 11, 136), "secondary": (10, 2, 120)}),
    ("NETGEAR", "1.0.9.90_3", {"release": (1, 0, 9, 90), "secondary": (3,)}),
    ("NETGEAR", "1.0.4.6.Beta", {"release": (1, 0, 4, 6), "stage": "beta"}),
    ("NETGEAR", "1.6.01.34", {"release": (1, 6, 1, 34)}),
    ("NETGEAR", "N300-V1.1.0.54_1.0.1", {"release": (1, 1, 0, 54), "secondary": (1, 0, 1)}),
    ("NETGEAR", "v1.0.0.11,", {"release": (1, 0, 0, 11)}),
    ("NETGEAR", "3.4.0_ap", {"release": (3, 4, 0)}),
    ("NETGEAR", "2017-01-06", {"build_date": D(2017, 1, 6)}),
    ("NETGEAR", "20240710", {"build_date": D(2024, 7, 10)}),
    ("NETGEAR", "m16kt61a", None),
    # ---- ASUS
    ("ASUS", "3.0.0.4.386_51529", {"release": (3, 0, 0, 4, 386), "build": 51529}),
    ("ASUS", "3.0.0.4_386_51529", {"release": (3, 0, 0, 4, 386), "build": 51529}),
    ("ASUS", "3.0.0.4.386.51529", {"release": (3, 0, 0, 4, 386), "build": 51529}),
    ("asus", "v3.0.0.4.386.51598", {"release": (3, 0, 0, 4, 386), "build": 51598}),
    ("ASUS", "3.0.0.4.388_22525-gd35b8fe", {"release": (3, 0, 0, 4, 388), "build": 22525}),
    ("ASUS", "3.0.0.4..374_979", {"release": (3, 0, 0, 4, 374), "build": 979}),
    ("ASUS", "3.0.0.4.374.x", {"release": (3, 0, 0, 4, 374)}),
    ("ASUS", "3.0.0.6.102_44544", {"release": (3, 0, 0, 6, 102), "build": 44544}),
    ("ASUS", "1.1.2.3_792", {"release": (1, 1, 2, 3), "build": 792}),
    ("ASUS", "1.0.1.4o", {"release": (1, 0, 1, 4), "patch": "o"}),
    ("ASUS", "7.0.2.38b", {"release": (7, 0, 2, 38), "patch": "b"}),
    ("ASUS", "2.0.0.25", {"release": (2, 0, 0, 25)}),
    ("ASUS", "3.0.0.41", {"release": (3, 0, 0, 41)}),
    ("ASUS", "3.0.0.376.3715", None),
    ("ASUS", "*3.0.0.4.380.8591", None),
    # ---- D-Link
    ("D-Link", "1.04B12", {"release": (1, 4), "build": 12}),
    ("dlink", "v1.04b12", {"release": (1, 4), "build": 12}),
    ("D-Link", "2.11NA", {"release": (2, 11), "region": "NA"}),
    ("D-Link", "1.14WW", {"release": (1, 14), "region": "WW"}),
    ("D-Link", "2.00W", {"release": (2, 0), "region": "W"}),
    ("D-Link", "1.05B03WW", {"release": (1, 5), "build": 3, "region": "WW"}),
    ("D-Link", "1.10B04_Beta", {"release": (1, 10), "build": 4, "stage": "beta"}),
    ("D-Link", "1.02B06 Hotfix", {"release": (1, 2), "build": 6, "stage": "hotfix"}),
    # ---- Zyxel
    ("Zyxel", "V5.21(ABUJ.1)C0", {"release": (5, 21), "build": 1, "stage": "c0", "code": "ABUJ"}),
    (
        "zyxel",
        "2.50\\(aazi.0\\)c0",
        {"release": (2, 50), "build": 0, "stage": "c0", "code": "AAZI"},
    ),
    ("Zyxel", "V5.50(ABVY.3)b5", {"release": (5, 50), "build": 3, "stage": "b5", "code": "ABVY"}),
    ("Zyxel", "5.21", {"release": (5, 21)}),
    ("Zyxel", "V5.21(ABUJ.1)ITS", None),
    # ---- DrayTek
    ("DrayTek", "1.5.1.4_Beta", {"release": (1, 5, 1, 4), "stage": "beta"}),
    ("DrayTek", "1.5.1.4_Beta/1.5.1.4", {"release": (1, 5, 1, 4), "stage": "beta"}),
    ("DrayTek", "3.9.7.2", {"release": (3, 9, 7, 2)}),
    ("DrayTek", "4.3.1_STD", {"release": (4, 3, 1)}),
    ("DrayTek", "4.3.2.6_RC2", {"release": (4, 3, 2, 6), "stage": "rc2"}),
    # ---- Cisco, Linksys, MikroTik
    ("Cisco", "1.0.03.24", {"release": (1, 0, 3, 24)}),
    ("Cisco", "v1.0.03.21", {"release": (1, 0, 3, 21)}),
    ("Linksys", "1.0.04 build 6", {"release": (1, 0, 4), "build": 6}),
    ("Linksys", "1.0.04 (build 6)", {"release": (1, 0, 4), "build": 6}),
    ("MikroTik", "6.48.6", {"release": (6, 48, 6)}),
    ("MikroTik", "6.49beta54", {"release": (6, 49), "stage": "beta54"}),
    ("MikroTik", "7.1rc3", {"release": (7, 1), "stage": "rc3"}),
    ("MikroTik", "6.49.10 (long-term)", {"release": (6, 49, 10)}),
    ("MikroTik", "RouterOS 6.40.5", {"release": (6, 40, 5)}),
    ("MikroTik", "7.12.1 stable", {"release": (7, 12, 1)}),
    # ---- Zyxel patch suffixes
    ("Zyxel", "5.36 patch1", {"release": (5, 36), "build": 1}),
    ("Zyxel", "V5.36 Patch 2", {"release": (5, 36), "build": 2}),
    ("Zyxel", "ZLD 5.37 p1", {"release": (5, 37), "build": 1}),
    # ---- TOTOLINK, Tenda, Mercusys, Huawei, ZTE, AVM, Ubiquiti
    ("TOTOLINK", "4.1.2cu.5182_B20201102",
     {"release": (4, 1, 2), "build": 5182, "build_date": D(2020, 11, 2)}),
    ("TOTOLINK", "V9.1.0u.6619_B20220224",
     {"release": (9, 1, 0), "build": 6619, "build_date": D(2022, 2, 24)}),
    ("TOTOLINK", "4.1.2", {"release": (4, 1, 2)}),
    ("Tenda", "V15.03.20_multi", {"release": (15, 3, 20)}),
    ("Tenda", "US_AC15V1.0BR_V15.03.05.19_multi_TD01", {"release": (15, 3, 5, 19)}),
    ("Tenda", "2.0.0.7(775)", {"release": (2, 0, 0, 7), "build": 775}),
    ("Mercusys", "1.0.3 Build 20200916 Rel. 56289",
     {"release": (1, 0, 3), "build_date": D(2020, 9, 16), "build": 56289}),
    ("Huawei", "V200R005C10SPC200SPH001",
     {"release": (200, 5, 10), "build": 200, "stage": "hotfix1", "code": "VRP"}),
    ("Huawei", "1.0.0.196(SP7C233)", {"release": (1, 0, 0, 196), "build": 7, "code": "DOT"}),
    ("ZTE", "V2.0.0P1T2", {"release": (2, 0, 0), "secondary": (1,), "build": 2}),
    ("ZTE", "ZXHN H298A V1.1.0_T1", {"release": (1, 1, 0), "build": 1}),
    ("AVM", "7.57", {"release": (7, 57)}),
    ("AVM", "154.07.57", {"release": (7, 57), "hardware": "154"}),
    ("AVM", "FRITZ!OS 7.59-112345", {"release": (7, 59), "build": 112345}),
    ("Ubiquiti", "v2.0.9-hotfix.7", {"release": (2, 0, 9), "stage": "hotfix7"}),
    ("Ubiquiti", "XW.v6.3.6", {"release": (6, 3, 6), "code": "XW"}),
    ("Ubiquiti", "EdgeRouter.ER-e300.v2.0.9-hotfix.6.5574651.230619.0655",
     {"release": (2, 0, 9), "stage": "hotfix6", "build": 5574651, "build_date": D(2023, 6, 19),
      "code": "EDGEROUTER.ER-E300"}),
    # ---- generic
    (None, "1.2.0.10", {"release": (1, 2, 0, 10)}),
    (None, "Firmware V2.3.1 (EU)", {"release": (2, 3, 1)}),
    (None, "fw_3.2.1 build 45 20230102",
     {"release": (3, 2, 1), "build": 45, "build_date": D(2023, 1, 2)}),
    (None, "R.47.0.0 AutoCAD 2021 & R.47.0.0 AutoCAD LT 2021", None),
    (None, "release two", None),
    ("Belkin", "v2.0.9-hotfix.7", {"release": (2, 0, 9), "stage": "hotfix7"}),
    (None, "1.6.18p12", {"release": (1, 6, 18), "patch": "p12"}),
    (None, "2.0-beta3", {"release": (2, 0), "stage": "beta3"}),
    (None, "20240710", {"build_date": D(2024, 7, 10)}),
    (None, "LM.1.6.18P12_sign6", None),
    (None, "n/a", None),
]


@pytest.mark.parametrize(("vendor", "text", "expected"), PARSE_TABLE)
def test_parse(vendor: str | None, text: str, expected: dict[str, object] | None) -> None:
    assert fields(parse_version(vendor, text)) == expected


@pytest.mark.parametrize(("vendor", "text", "expected"), [r for r in PARSE_TABLE if r[2]])
def test_str_parses_back(vendor: str | None, text: str, expected: object) -> None:
    v = parse_version(vendor, text)
    assert v is not None
    assert parse_version(vendor, str(v)) == v


COMPARE_TABLE: list[tuple[str | None, str, str, int | None]] = [
    # shared precision (issue): device build string against NVD's shorter bound
    ("TP-Link", "1.1.4 Build 20230219 rel.73766", "1.1.4", 0),
    ("TP-Link", "1.1.4 Build 20230219 rel.73766", "1.1.4_build_20230219", 0),
    ("TP-Link", "1.1.4 Build 20230101", "1.1.4 Build 20230219", -1),
    ("TP-Link", "1.1.3 Build 20221125", "1.1.4", -1),
    ("TP-Link", "1.1.4 Build 20230219 rel.73766", "1.1.4 Build 20230219 rel.70000", 1),
    ("TP-Link", "3.13.33 Build 130506 Rel.48660n", "3.13.9", 1),
    ("TP-Link", "3.13.9 Build 120201 Rel.54965n", "3.13.9", 0),
    # dates: 6-digit against 8-digit, free-text file names, date-only bounds
    ("TP-Link", "3.16.9 Build 150320 Rel.57500n", "tl-wr841n_v8_140724", 1),
    ("TP-Link", "0.9.1 3.16 v0001.0 Build 170608 Rel.58696n", "tl-wr840n\\(eu\\)_v5_171211", -1),
    ("TP-Link", "0.9.1 3.16 v0001.0 Build 171211 Rel.58696n", "tl-wr840n\\(eu\\)_v5_171211", 0),
    ("TP-Link", "1.0.15 Build 20190726 rel.51453", "190726", 0),
    ("TP-Link", "1.1.4 Build 20230219", "230506", -1),
    ("TP-Link", "1.1.4", "230506", None),  # a date against no date: cannot tell
    ("TP-Link", "3.15.3", "201216", None),
    # hardware gate
    ("TP-Link", "1.1.4 Build 20230219 rel.73766", "3_1.1.4", 0),
    ("TP-Link", "V3_1.1.4", "3.6_1.1.4", None),
    ("TP-Link", "2.6_2.2.2 Build 20231017", "2.2.2_build_20231017", 0),
    ("TP-Link", "1.3.0 Build 20230322 Rel.70591", "1.3.0:build_20230322_rel_70591", 0),
    ("TP-Link", "1.1.3", "3230219", None),  # junk bound
    ("TP-Link", "1.6.18P12_sign6", "1.6.18P12_sign5", None),
    # NETGEAR: numeric parts, GUI version, beta
    ("NETGEAR", "1.2.0.10", "1.2.0.9", 1),
    ("NETGEAR", "V1.0.4.84_10.0.58", "1.0.4.120", -1),
    ("NETGEAR", "V1.0.7.2_1.1.93", "1.0.7.2_1.1.93", 0),
    ("NETGEAR", "V1.0.7.2_1.1.99", "1.0.7.2_1.1.93", 1),
    ("NETGEAR", "V1.0.7.2_1.1.99", "1.0.7.2", 0),
    ("NETGEAR", "1.0.4.6.Beta", "1.0.4.6", -1),
    ("NETGEAR", "V1.0.7.6_1.1.99", "1.0.7.6.Beta", 1),
    ("NETGEAR", "1.0.9.92_1", "1.0.10.94", -1),
    ("NETGEAR", "1.0.11.96_2", "1.0.11.96", 0),
    ("NETGEAR", "3.3.2", "20240710", None),
    # ASUS: separators, branches, patch letters, "x"
    ("ASUS", "3.0.0.4.386_51529", "3.0.0.4_386_51529", 0),
    ("ASUS", "3.0.0.4.386.51529", "3.0.0.4.386_51598", -1),
    ("ASUS", "3.0.0.4.386_51529", "3.0.0.4.388_22525-gd35b8fe", -1),
    ("ASUS", "3.0.0.4.388_22525", "3.0.0.4.388_22525-gd35b8fe", 0),
    ("ASUS", "3.0.0.4.374_4887", "3.0.0.4.374.x", 0),
    ("ASUS", "3.0.0.4.376_3715", "3.0.0.4.374.x", 1),
    ("ASUS", "1.0.1.4", "1.0.1.4o", -1),
    ("ASUS", "1.0.1.4o", "1.0.1.5", -1),
    ("ASUS", "2.0.0.24", "2.0.0.25", -1),
    ("ASUS", "3.0.0.4.380_8591", "3.0.0.376.3715", None),
    # D-Link
    ("D-Link", "1.04B12", "1.04B13", -1),
    ("D-Link", "1.04B13", "1.05", -1),
    ("D-Link", "1.04", "1.04B12", 0),
    ("D-Link", "1.14WW", "1.14NA", 0),
    ("D-Link", "1.14WW", "1.13", 1),
    ("D-Link", "1.10B04_Beta", "1.10B04", -1),
    ("D-Link", "1.02B06 Hotfix", "1.02B06", 1),
    ("D-Link", "2.00W", "2.00", 0),
    # Zyxel
    ("Zyxel", "V5.21(ABUJ.1)C0", "V5.21(ABUJ.2)C0", -1),
    ("Zyxel", "V5.21(ABUJ.1)C1", "V5.21(ABUJ.1)C0", 1),
    ("Zyxel", "V5.50(ABVY.3)b5", "V5.50(ABVY.3)C0", -1),
    ("Zyxel", "V5.21(ABUJ.1)C0", "V5.21(ABCD.1)C0", None),
    ("Zyxel", "V5.21(ABUJ.7)C0", "5.30", -1),
    ("Zyxel", "2.40(AAZI.2)C0", "2.50\\(aazi.0\\)c0", -1),
    # DrayTek
    ("DrayTek", "1.5.1.4_Beta", "1.5.1.4", -1),
    ("DrayTek", "1.5.1.4_Beta/1.5.1.4", "1.5.1.4", -1),
    ("DrayTek", "4.3.2.6_RC2", "4.3.2.6", -1),
    ("DrayTek", "4.3.2.6_Beta", "4.3.2.6_RC2", -1),
    ("DrayTek", "4.3.1_STD", "4.3.1", 0),
    ("DrayTek", "3.9.7.2", "4.3.1", -1),
    # Cisco, Linksys, MikroTik, generic
    ("Cisco", "1.0.03.24", "1.0.3.24", 0),
    ("Cisco", "1.0.03.24", "1.0.3.100", -1),
    ("Linksys", "1.0.04 build 6", "1.0.04 build 7", -1),
    ("Linksys", "1.0.04 build 6", "1.0.04", 0),
    ("MikroTik", "6.49beta54", "6.49", -1),
    ("MikroTik", "6.49rc1", "6.49beta54", 1),
    ("MikroTik", "6.48.6", "6.49beta54", -1),
    (None, "1.2.0.10", "1.2.0.9", 1),
    (None, "1.0", "1.0.0", 0),
    (None, "2.0.9-hotfix.7", "2.0.9", 1),
    (None, "2.0-beta3", "2.0", -1),
    (None, "n/a", "1.0", None),
]


@pytest.mark.parametrize(("vendor", "a", "b", "expected"), COMPARE_TABLE)
def test_compare(vendor: str | None, a: str, b: str, expected: int | None) -> None:
    assert compare_versions(vendor, a, b) == expected
    assert compare_versions(vendor, b, a) == (None if expected is None else -expected)


@pytest.mark.parametrize(
    ("vendor", "scheme"),
    [
        ("TP-Link", "tplink"),
        ("tp-link", "tplink"),
        ("NETGEAR", "netgear"),
        ("ASUS", "asus"),
        ("dlink", "dlink"),
        ("Zyxel", "zyxel"),
        ("DrayTek", "draytek"),
        ("Cisco", "cisco"),
        ("Linksys", "linksys"),
        ("MikroTik", "mikrotik"),
        ("Ubiquiti", "ubiquiti"),
        ("Mercusys", "mercusys"),
        (None, "generic"),
        ("Nobody", "generic"),
    ],
)
def test_scheme_for(vendor: str | None, scheme: str) -> None:
    assert scheme_for(vendor) == scheme


def test_other_libraries_would_order_these_wrongly() -> None:
    """Why the schemes exist: a string compare gets these wrong, we do not."""
    assert "1.0.4.84" > "1.0.4.120"
    assert compare_versions("NETGEAR", "1.0.4.84", "1.0.4.120") == -1
    assert "1.1.4 Build 20230219" > "1.1.4"
    assert compare_versions("TP-Link", "1.1.4 Build 20230219", "1.1.4") == 0


def test_precision_names() -> None:
    v = parse_version("TP-Link", "1.1.4 Build 20230219 rel.73766")
    assert v is not None
    assert v.precision == ("release", "build_date", "build", "stage")
    d = parse_version("TP-Link", "230506")
    assert d is not None
    assert d.precision == ("build_date",)


def test_suffix_and_text_do_not_take_part_in_equality() -> None:
    a = parse_version("ASUS", "3.0.0.4.388_22525-gd35b8fe")
    b = parse_version("ASUS", "3.0.0.4.388_22525")
    assert a == b
    assert a is not None and a.suffix == "gd35b8fe"
    assert a.text == "3.0.0.4.388_22525-gd35b8fe"
