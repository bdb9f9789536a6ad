"""parse_identity: free text and fields to a DeviceIdentity."""

from __future__ import annotations

import pytest

from routerwatch.identity.parse import parse_identity
from routerwatch.models import DeviceIdentity

Row = tuple[str | None, str | None, str | None, str | None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TP-Link Archer C7 V2", ("TP-Link", "Archer C7", "2", None)),
        ("Netgear R7000", ("NETGEAR", "R7000", None, None)),
        ("RT-AX88U", ("ASUS", "RT-AX88U", None, None)),
        ("TP-Link Archer AX21 v3", ("TP-Link", "Archer AX21", "3", None)),
        ("tl-wr841n v8", ("TP-Link", "TL-WR841N", "8", None)),
        ("TP-Link Archer C7 V2 firmware 3.15.1", ("TP-Link", "Archer C7", "2", "3.15.1")),
        ("TP-Link Archer C7 v2 (fw 3.15.1)", ("TP-Link", "Archer C7", "2", "3.15.1")),
        (
            "tplink archer c7 v2 fw: 3.15.3 Build 180114 Rel.39265n",
            ("TP-Link", "Archer C7", "2", "3.15.3 Build 180114 Rel.39265n"),
        ),
        (
            "TP-Link Archer AX21 (AX1800) v3 1.1.4 Build 20230219 rel.73766",
            ("TP-Link", "Archer AX21", "3", "1.1.4 Build 20230219 rel.73766"),
        ),
        (
            "TP-Link TL-WR841N hw 14 fw 0.9.1 4.19 v0001.0 Build 220119",
            ("TP-Link", "TL-WR841N", "14", "0.9.1 4.19 v0001.0 Build 220119"),
        ),
        ("TP-Link Archer C7 Hardware Version 5", ("TP-Link", "Archer C7", "5", None)),
        ("TP-Link Archer C80 2.20", ("TP-Link", "Archer C80", "2.20", None)),
        (
            "NETGEAR Nighthawk R7000 firmware V1.0.11.136_10.2.120",
            ("NETGEAR", "R7000", None, "V1.0.11.136_10.2.120"),
        ),
        ("Netgear R7000 V1.0.11.136_10.2.120", ("NETGEAR", "R7000", None, "V1.0.11.136_10.2.120")),
        ("Netgear R6400v2", ("NETGEAR", "R6400", "2", None)),
        ("WNR2000v5", ("NETGEAR", "WNR2000", "5", None)),
        ("ASUS RT-AC66U B1 3.0.0.4.386_51665", ("ASUS", "RT-AC66U", "b1", "3.0.0.4.386_51665")),
        ("RT-N12+ B1", ("ASUS", "RT-N12+", "b1", None)),
        ("ZenWiFi XT8 V2", ("ASUS", "ZenWiFi XT8", "2", None)),
        ("D-Link DIR-850L A1 1.14WW", ("D-Link", "DIR-850L", "a1", "1.14WW")),
        ("dir-850l rev. A1", ("D-Link", "DIR-850L", "a1", None)),
        ("D-Link DIR-859 firmware 1.06B01", ("D-Link", "DIR-859", None, "1.06B01")),
        ("Zyxel NBG6817 V5.21(ABUJ.1)C0", ("Zyxel", "NBG6817", None, "V5.21(ABUJ.1)C0")),
        ("Vigor2960 1.5.1.4_Beta", ("DrayTek", "Vigor2960", None, "1.5.1.4_Beta")),
        ("DrayTek Vigor 2960", ("DrayTek", "Vigor2960", None, None)),
        ("Cisco RV340 1.0.03.24", ("Cisco", "RV340", None, "1.0.03.24")),
        ("Linksys EA7500 1.0.04 build 6", ("Linksys", "EA7500", None, "1.0.04 build 6")),
        ("MikroTik hAP ac2", ("MikroTik", "hAP ac2", None, None)),
        ("Omada ER605 v2.6", ("TP-Link", "ER605", "2.6", None)),
        ("archer ax21", ("TP-Link", "Archer AX21", None, None)),
        ("TP-Link", ("TP-Link", None, None, None)),
        ("Foo Bar 3000", (None, "Foo Bar 3000", None, None)),
        ("Foo Bar 3000 2.20", (None, "Foo Bar 3000", None, None)),  # a bare 2.20: unknown
    ],
)
def test_free_text(text: str, expected: Row) -> None:
    ident = parse_identity(text)
    assert (ident.vendor, ident.model, ident.hardware, ident.firmware) == expected


def test_region_in_parentheses() -> None:
    ident = parse_identity("TP-Link TL-WR840N(EU) v5")
    assert (ident.model, ident.hardware, ident.region) == ("TL-WR840N", "5", "EU")


def test_keywords_override_text_and_count_as_user_given() -> None:
    ident = parse_identity("TP-Link Archer C7 v2 fw 3.15.1", hardware="v5.0", firmware="3.16.9")
    assert (ident.vendor, ident.model, ident.hardware, ident.firmware) == (
        "TP-Link",
        "Archer C7",
        "5",
        "3.16.9",
    )
    assert ident.confidence == 1.0
    assert ident.evidence[0].source == "user"
    assert dict(ident.evidence[0].fields)["hardware"] == "5"


def test_keywords_only() -> None:
    ident = parse_identity(vendor="tplink", model="archer ax21 v3", firmware=" 1.1.4 ", region="us")
    assert (ident.vendor, ident.model, ident.hardware, ident.firmware, ident.region) == (
        "TP-Link",
        "Archer AX21",
        "3",
        "1.1.4",
        "US",
    )
    assert ident.confidence == 1.0


def test_model_keyword_with_vendor_name() -> None:
    ident = parse_identity(model="TP-Link Archer A7", hardware="5")
    assert (ident.vendor, ident.model, ident.hardware) == ("TP-Link", "Archer A7", "5")


def test_unknown_vendor_keeps_users_spelling() -> None:
    ident = parse_identity(vendor="Acme Routers", model="X1")
    assert (ident.vendor, ident.model) == ("Acme Routers", "X1")


def test_inferred_vendor_lowers_confidence() -> None:
    assert parse_identity("RT-AX88U").confidence == 0.9
    assert parse_identity("ASUS RT-AX88U").confidence == 1.0


@pytest.mark.parametrize("text", [None, "", "   "])
def test_nothing_known(text: str | None) -> None:
    assert parse_identity(text) == DeviceIdentity()


@pytest.mark.parametrize(
    "identity",
    [
        DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="2", firmware="3.15.1"),
        DeviceIdentity(
            vendor="TP-Link",
            model="Archer AX21",
            hardware="3",
            firmware="1.1.4 Build 20230219 rel.73766",
        ),
        DeviceIdentity(vendor="NETGEAR", model="R7000", firmware="V1.0.11.136_10.2.120"),
        DeviceIdentity(
            vendor="ASUS", model="RT-AC66U", hardware="b1", firmware="3.0.0.4.386_51665"
        ),
        DeviceIdentity(vendor="D-Link", model="DIR-850L", hardware="a1", firmware="1.14WW"),
        DeviceIdentity(vendor="Zyxel", model="NBG6817", firmware="V5.21(ABUJ.1)C0"),
        DeviceIdentity(vendor="ASUS", model="RT-AX88U"),
    ],
)
def test_label_parses_back(identity: DeviceIdentity) -> None:
    back = parse_identity(identity.label())
    assert (back.vendor, back.model, back.hardware, back.firmware) == (
        identity.vendor,
        identity.model,
        identity.hardware,
        identity.firmware,
    )
