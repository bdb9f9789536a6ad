"""Hardware revisions, CPE product tokens and model keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routerwatch.identity.hardware import model_key, normalize_hardware, split_product


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("V8", "8"),
        ("8.0", "8"),
        ("v8.0", "8"),
        ("8", "8"),
        ("08", "8"),
        ("2.20", "2.20"),
        ("v5.3", "5.3"),
        ("1.1.0", "1.1"),
        ("rev._a1", "a1"),
        ("A1", "a1"),
        ("Rev A1", "a1"),
        ("rev. B", "b"),
        ("bx", "bx"),
        ("B1", "b1"),
        ("hw 2", "2"),
        ("H/W: 2.20", "2.20"),
        ("Hardware Version 3.0", "3"),
        ("ver 2.0", "2"),
        ("v8 00000000", "8"),  # TP-Link UPnP "WR841N v8 00000000"
        ("v\\(5.0\\)", None),  # parentheses are not a revision
        ("-", None),
        ("*", None),
        ("", None),
        ("  ", None),
        ("n/a", None),
        (None, None),
        ("Archer C7", None),
        ("a very long text", None),
    ],
)
def test_normalize_hardware(text: str | None, expected: str | None) -> None:
    assert normalize_hardware(text) == expected


@given(
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["", "v", "V", "rev ", "hw "]),
    st.sampled_from(["", ".0", ".00"]),
)
def test_normalize_hardware_spellings_agree(n: int, prefix: str, frac: str) -> None:
    assert normalize_hardware(f"{prefix}{n}{frac}") == str(n)


@given(st.text(max_size=30))
def test_normalize_hardware_is_idempotent(text: str) -> None:
    once = normalize_hardware(text)
    assert normalize_hardware(once) == once


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        ("rt-ax56u_v2_firmware", ("rt-ax56u", "2")),
        ("r6400v2_firmware", ("r6400", "2")),
        ("p660hn-t1a_v1_firmware", ("p660hn-t1a", "1")),
        ("archer_ax21_firmware", ("archer_ax21", None)),
        ("tl-wr841n", ("tl-wr841n", None)),
        ("tl-wr841n_\\(9.0\\)_firmware", ("tl-wr841n", "9")),
        ("tl-wr841nd_\\(11.0\\)_firmware", ("tl-wr841nd", "11")),
        ("archer_c5_\\(1.2\\)", ("archer_c5", "1.2")),
        ("wr841n_v8_firmware", ("wr841n", "8")),
        ("tl-wr940n_v2", ("tl-wr940n", "2")),
        ("archer_c50_v3_firmware", ("archer_c50", "3")),
        ("tapo_c200_v3_firmware", ("tapo_c200", "3")),
        ("zenwifi_xt8_v2_firmware", ("zenwifi_xt8", "2")),
        ("rt-ac66u_b1", ("rt-ac66u", "b1")),
        ("rt-n12\\+_b1_firmware", ("rt-n12+", "b1")),
        ("rt-n10\\+d1_firmware", ("rt-n10+", "d1")),
        ("dsl-n55u_c1", ("dsl-n55u", "c1")),
        ("dsl-n10_c1_firmware", ("dsl-n10", "c1")),
        ("wnr2000v5_firmware", ("wnr2000", "5")),
        ("dgn2200bv4_firmware", ("dgn2200b", "4")),
        ("dg834gv5", ("dg834g", "5")),
        ("ex6200v1", ("ex6200", "1")),
        ("jnr1010v2", ("jnr1010", "2")),
        ("td-w9970v3", ("td-w9970", "3")),
        ("dir-850l_rev_a1", ("dir-850l", "a1")),
        # names that only look like revisions stay whole
        ("archer_c7", ("archer_c7", None)),
        ("archer_a7_firmware", ("archer_a7", None)),
        ("deco_m4", ("deco_m4", None)),
        ("tapo_c100", ("tapo_c100", None)),
        ("expertwifi_ebm63", ("expertwifi_ebm63", None)),
        ("ex3700_ac750", ("ex3700_ac750", None)),
        ("ipv6", ("ipv6", None)),
        ("ac1750_firmware", ("ac1750", None)),
        ("rt-ac66u", ("rt-ac66u", None)),
    ],
)
def test_split_product(product: str, expected: tuple[str, str | None]) -> None:
    assert split_product(product) == expected


def _fixture_products(fixtures: Path) -> set[str]:
    products: set[str] = set()
    for name in ("tp-link", "netgear", "asus"):
        data = json.loads((fixtures / "nvd" / f"{name}.json").read_text())
        for item in data["vulnerabilities"]:
            for conf in item["cve"].get("configurations", []):
                for node in conf["nodes"]:
                    for m in node["cpeMatch"]:
                        products.add(m["criteria"].split(":")[4])
    for path in (fixtures / "cve5").rglob("*.json"):
        record = json.loads(path.read_text())
        containers = [record["containers"]["cna"], *record["containers"].get("adp", [])]
        for c in containers:
            for a in c.get("affected", []):
                for cpe in a.get("cpes", []):
                    products.add(cpe.split(":")[4])
    return products


def test_split_product_on_every_fixture_product(fixtures: Path) -> None:
    products = _fixture_products(fixtures)
    assert len(products) > 200
    for product in products:
        model, hw = split_product(product)
        assert model and not model.endswith("_firmware")
        assert "\\" not in model
        if hw is not None:
            assert normalize_hardware(hw) == hw
        # a split never leaves a revision marker dangling at the end
        assert not model.endswith(("_v", "-v", "_")), product


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Archer AX21 (AX1800)", "archerax21"),
        ("archer_ax21", "archerax21"),
        ("archer_ax21_firmware", "archerax21"),
        ("TL-WR841N", "tlwr841n"),
        ("tl-wr841n", "tlwr841n"),
        ("RT-AX88U", "rtax88u"),
        ("rt-ax88u", "rtax88u"),
        ("TP-Link Archer C7", "archerc7"),
        ("tplink archer_c7", "archerc7"),
        ("Nighthawk R7000", "r7000"),
        ("NETGEAR Nighthawk R7000", "r7000"),
        ("omada_er605", "er605"),
        ("Omada ER605", "er605"),
        ("RT-N12+", "rtn12+"),
        ("rt-n12\\+", "rtn12+"),
        ("Deco M4", "decom4"),
        ("ASUS", "asus"),  # a vendor name alone is kept
    ],
)
def test_model_key(text: str, expected: str) -> None:
    assert model_key(text) == expected


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_ ()+", max_size=25))
def test_model_key_is_idempotent_and_clean(text: str) -> None:
    key = model_key(text)
    assert key == model_key(key)
    assert all(c.isalnum() or c == "+" for c in key)
