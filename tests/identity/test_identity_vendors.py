"""Vendor spellings, NVD ids and the model-family table (identity/data/vendors.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routerwatch.identity.vendors import (
    canonical_vendor,
    infer_vendor,
    nvd_vendor_ids,
    split_vendor_prefix,
    vendors,
)

BRIEF_DISPLAY = [
    "TP-Link",
    "NETGEAR",
    "ASUS",
    "D-Link",
    "Zyxel",
    "Linksys",
    "DrayTek",
    "Cisco",
    "MikroTik",
    "Ubiquiti",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tplink", "TP-Link"),
        ("TP-LINK", "TP-Link"),
        ("tp_link", "TP-Link"),
        ("tp-link", "TP-Link"),
        ("TP-Link Technologies", "TP-Link"),
        ("TP-LINK TECHNOLOGIES CO., LTD.", "TP-Link"),
        ("dlink", "D-Link"),
        ("D-Link Systems, Inc.", "D-Link"),
        ("D-Link Corporation", "D-Link"),
        ("netgear", "NETGEAR"),
        ("NETGEAR, Inc.", "NETGEAR"),
        ("Netgear Nighthawk", "NETGEAR"),
        ("asus", "ASUS"),
        ("ASUSTeK COMPUTER INC.", "ASUS"),
        ("ZyXEL Communications Corp.", "Zyxel"),
        ("zyxel", "Zyxel"),
        ("Linksys", "Linksys"),
        ("DrayTek Corp.", "DrayTek"),
        ("Cisco Systems, Inc.", "Cisco"),
        ("MikroTik", "MikroTik"),
        ("Mikrotikls SIA", "MikroTik"),
        ("ui", "Ubiquiti"),
        ("UBNT", "Ubiquiti"),
        ("Ubiquiti Networks", "Ubiquiti"),
        ("Shenzhen Tenda Technology Co.,Ltd.", "Tenda"),
        ("totolink", "TOTOLINK"),
        ("Huawei Technologies Co., Ltd.", "Huawei"),
        ("ZTE Corporation", "ZTE"),
        ("Belkin International", "Belkin"),
        ("Buffalo Inc.", "Buffalo"),
        ("AVM GmbH", "AVM"),
        ("mi", "Xiaomi"),
        ("Ruijie Networks", "Ruijie"),
        ("Juniper Networks", "Juniper"),
        (None, None),
        ("", None),
        ("  ", None),
        ("Acme Widgets", None),
        ("Inc.", None),
    ],
)
def test_canonical_vendor(text: str | None, expected: str | None) -> None:
    assert canonical_vendor(text) == expected


def test_display_names_are_fixed_points() -> None:
    for v in vendors():
        assert canonical_vendor(v.display) == v.display
    assert set(BRIEF_DISPLAY) <= {v.display for v in vendors()}


@pytest.mark.parametrize(
    ("display", "ids"),
    [
        ("TP-Link", ("tp-link", "tplink", "tp_link")),
        ("D-Link", ("dlink", "d-link")),
        ("Ubiquiti", ("ui", "ubiquiti", "ubnt")),
        ("NETGEAR", ("netgear",)),
        ("ASUS", ("asus",)),
        ("tplink", ("tp-link", "tplink", "tp_link")),  # any spelling works
        ("Xiaomi", ("mi", "xiaomi")),
        ("Nobody", ()),
    ],
)
def test_nvd_vendor_ids(display: str, ids: tuple[str, ...]) -> None:
    assert nvd_vendor_ids(display) == ids


def test_every_nvd_id_maps_back_to_its_vendor() -> None:
    for v in vendors():
        for nvd_id in v.nvd:
            assert canonical_vendor(nvd_id) == v.display, nvd_id


def test_vendor_ids_seen_in_the_fixtures(fixtures: Path) -> None:
    """The spellings real records use (tp-link, tplink, tp_link in CVE 5 ADP entries) resolve."""
    seen: set[str] = set()
    for name in ("tp-link", "netgear", "asus"):
        data = json.loads((fixtures / "nvd" / f"{name}.json").read_text())
        for item in data["vulnerabilities"]:
            for conf in item["cve"].get("configurations", []):
                for node in conf["nodes"]:
                    seen.update(m["criteria"].split(":")[3] for m in node["cpeMatch"])
    for path in (fixtures / "cve5").rglob("*.json"):
        record = json.loads(path.read_text())
        for c in [record["containers"]["cna"], *record["containers"].get("adp", [])]:
            for a in c.get("affected", []):
                seen.update(cpe.split(":")[3] for cpe in a.get("cpes", []))
    expected = {
        "tp-link": "TP-Link",
        "tplink": "TP-Link",
        "tp_link": "TP-Link",
        "netgear": "NETGEAR",
        "asus": "ASUS",
        "dlink": "D-Link",
        "zyxel": "Zyxel",
        "cisco": "Cisco",
        "linksys": "Linksys",
        "huawei": "Huawei",
        "mi": "Xiaomi",
    }
    assert set(expected) <= seen
    for vid, display in expected.items():
        assert canonical_vendor(vid) == display


MODEL_FAMILIES = [
    ("RT-AX88U", "ASUS", "RT-AX88U"),
    ("rt-ac68u", "ASUS", "RT-AC68U"),
    ("GT-AX11000", "ASUS", "GT-AX11000"),
    ("TUF-AX5400", "ASUS", "TUF-AX5400"),
    ("DSL-N55U", "ASUS", "DSL-N55U"),
    ("zenwifi xt8", "ASUS", "ZenWiFi XT8"),
    ("TL-WR841N", "TP-Link", "TL-WR841N"),
    ("archer ax21", "TP-Link", "Archer AX21"),
    ("Archer C7", "TP-Link", "Archer C7"),
    ("deco m4", "TP-Link", "Deco M4"),
    ("ER605", "TP-Link", "ER605"),
    ("TD-W9970", "TP-Link", "TD-W9970"),
    ("DIR-850L", "D-Link", "DIR-850L"),
    ("DSL-2640R", "D-Link", "DSL-2640R"),
    ("COVR-C1203", "D-Link", "COVR-C1203"),
    ("R7000", "NETGEAR", "R7000"),
    ("r6400", "NETGEAR", "R6400"),
    ("RAX30", "NETGEAR", "RAX30"),
    ("WNR2000", "NETGEAR", "WNR2000"),
    ("WNDR3700", "NETGEAR", "WNDR3700"),
    ("EX6120", "NETGEAR", "EX6120"),
    ("XR1000", "NETGEAR", "XR1000"),
    ("DGN2200", "NETGEAR", "DGN2200"),
    ("RBR760", "NETGEAR", "RBR760"),
    ("CAX30", "NETGEAR", "CAX30"),
    ("Vigor2960", "DrayTek", "Vigor2960"),
    ("vigor 2960", "DrayTek", "Vigor2960"),
    ("RV340", "Cisco", "RV340"),
    ("RV345-K9", "Cisco", "RV345-K9"),
    ("EA7500", "Linksys", "EA7500"),
    ("WRT3200ACM", "Linksys", "WRT3200ACM"),
    ("E1200", "Linksys", "E1200"),
    ("NBG6817", "Zyxel", "NBG6817"),
    ("VMG3625-T20A", "Zyxel", "VMG3625-T20A"),
    ("EX5601-T0", "Zyxel", "EX5601-T0"),
    ("hAP ac2", "MikroTik", "hAP ac2"),
    ("RB750Gr3", "MikroTik", "RB750Gr3"),
    ("EdgeRouter X", "Ubiquiti", "EdgeRouter X"),
    ("Keenetic Giga", "Keenetic", "Keenetic Giga"),
    ("lyra mini", "ASUS", "Lyra Mini"),
    ("archer air r5", "TP-Link", "Archer Air R5"),
    ("FRITZ!Box 7590", "AVM", "FRITZ!Box 7590"),
    ("RT2600ac", "Synology", "RT2600AC"),
]


@pytest.mark.parametrize(("model", "vendor", "written"), MODEL_FAMILIES)
def test_infer_vendor_from_model(model: str, vendor: str, written: str) -> None:
    assert infer_vendor(model) == (vendor, written)


@pytest.mark.parametrize("model", ["Foo 3000", "AX21", "C7", "Router", "7590", ""])
def test_models_outside_every_family_stay_unknown(model: str) -> None:
    assert infer_vendor(model) is None


def test_families_of_different_vendors_do_not_overlap() -> None:
    """Each real model of the table above matches the families of exactly one vendor."""
    for model, _, _ in MODEL_FAMILIES:
        low = model.lower()
        owners = {v.display for v in vendors() for f in v.models if f.pattern.match(low)}
        assert len(owners) == 1, (model, owners)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TP-Link Archer C7", ("TP-Link", "Archer C7")),
        ("tplink archer c7", ("TP-Link", "archer c7")),
        ("NETGEAR R7000", ("NETGEAR", "R7000")),
        ("asuswrt", (None, "asuswrt")),
        ("Archer C7", (None, "Archer C7")),
        ("Mi Router 4", (None, "Mi Router 4")),  # two-letter ids never strip
    ],
)
def test_split_vendor_prefix(text: str, expected: tuple[str | None, str]) -> None:
    assert split_vendor_prefix(text) == expected
