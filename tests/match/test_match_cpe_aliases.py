"""CPE parsing and the product alias rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routerwatch.match.aliases import AliasRules, vendor_key
from routerwatch.match.cpe import CpeError, parse_cpe, unescape


def test_parse_cpe_fields_and_escapes() -> None:
    c = parse_cpe(r"cpe:2.3:o:tp-link:tl-wr841n_\(9.0\)_firmware:3.16.9:build_200409:*:*:*:*:*:*")
    assert (c.part, c.vendor, c.product) == ("o", "tp-link", "tl-wr841n_(9.0)_firmware")
    assert c.version_text() == "3.16.9 build 200409"
    c = parse_cpe("cpe:2.3:o:tp-link:tl-wr740n_firmware:3.16.4:130205:*:*:*:*:*:*")
    assert c.version_text() == "3.16.4 Build 130205"
    c = parse_cpe("cpe:2.3:o:tp-link:firmware:tl-wr1043nd_v1_120405:*:*:*:*:*:tp-link_wr1043n:*")
    assert c.target_hw == "tp-link_wr1043n"
    c = parse_cpe(r"cpe:2.3:h:asus:rt-n10\+d1:-:*:*:*:*:*:*:*")
    assert c.product == "rt-n10+d1" and c.version == "-"
    c = parse_cpe(r"cpe:2.3:a:x:y\:z:1.0")  # short form, escaped colon
    assert c.product == "y:z" and c.update == "*"


@pytest.mark.parametrize("bad", ["", "cpe:/o:tp-link:x", "cpe:2.3:x:v:p:1", "cpe:2.3:o"])
def test_parse_cpe_rejects(bad: str) -> None:
    with pytest.raises(CpeError):
        parse_cpe(bad)


@given(st.text(alphabet="abc-_.()\\:!", max_size=20))
def test_unescape_never_keeps_an_escaping_backslash(text: str) -> None:
    out = unescape(text)
    assert len(out) <= len(text)
    if "\\" not in text:
        assert out == text


def test_unescape_bound() -> None:
    assert unescape(r"tl-wr840n\(eu\)_v5_171211") == "tl-wr840n(eu)_v5_171211"


RULES = AliasRules.load()


@pytest.mark.parametrize(
    ("vendor", "product", "keys", "hardware"),
    [
        ("tp-link", "archer_ax21_firmware", {"archerax21"}, None),
        ("tp-link", "tl-wr841n_(9.0)_firmware", {"wr841n"}, "9"),
        ("tp-link", "wr940n", {"wr940n"}, None),
        ("tp-link", "tl-wr940n", {"wr940n"}, None),
        ("tp-link", "ac1750_firmware", {"ac1750", "archera7"}, None),
        ("tp-link", "omada_er605_firmware", {"er605"}, None),
        ("asus", "rt-ax56u_v2_firmware", {"rtax56u"}, "2"),
        ("netgear", "r6400v2_firmware", {"r6400"}, "2"),
        ("netgear", "prosafe_gs724t", {"gs724t"}, None),
        ("netgear", "dgn2200_series_firmware", {"dgn2200"}, None),
        ("cisco", "rv110w_wireless-n_vpn_firewall", {"rv110w"}, None),
    ],
)
def test_cpe_products(vendor: str, product: str, keys: set[str], hardware: str | None) -> None:
    vk = vendor_key(vendor)
    assert vk is not None
    ref = RULES.product(vk, product)
    assert ref is not None and ref.generic is None
    assert set(ref.keys) == keys and ref.hardware == hardware


@pytest.mark.parametrize(
    ("vendor", "product", "keys", "hardware"),
    [
        ("TP-Link", "Archer AX21(AX1800)", {"archerax21"}, None),
        ("TP-Link", "AX1800", {"ax1800", "archerax21"}, None),
        ("ASUS", "RT-AX56U V2", {"rtax56u"}, "2"),
        ("TP-Link", "ER7206 Omada Gigabit VPN Router", {"er7206"}, None),
        ("TP-Link", "TP-Link Tapo", {"tapo"}, None),
    ],
)
def test_cve5_free_text_products(vendor: str, product: str, keys: set[str],
                                 hardware: str | None) -> None:
    ref = RULES.product(vendor_key(vendor) or "", product, free_text=True)
    assert ref is not None
    assert set(ref.keys) == keys and ref.hardware == hardware


def test_generic_firmware_and_placeholders() -> None:
    asus = vendor_key("asus") or ""
    assert RULES.product(asus, "asuswrt").generic == "vendor"  # type: ignore[union-attr]
    assert RULES.product(asus, "rt_series_firmware").generic == "platform"  # type: ignore[union-attr]
    assert RULES.product(asus, "n/a", free_text=True) is None
    assert vendor_key("n/a") is None and vendor_key("TP-LINK ") == "TP-Link"
    assert vendor_key("zzinc") == "zzinc"


def test_device_keys_meet_product_keys() -> None:
    tpl = vendor_key("TP-Link") or ""
    assert RULES.model_keys(tpl, "TL-WR940N") == RULES.product(tpl, "wr940n").keys  # type: ignore[union-attr]
    assert RULES.model_keys(tpl, "Omada ER605") == {"er605"}
    assert "archera7" in RULES.product(tpl, "ac1750").keys  # type: ignore[union-attr]
    assert RULES.model_keys(tpl, "Archer A7") == {"archera7"}


def test_bad_scope_is_rejected() -> None:
    with pytest.raises(ValueError, match="scope"):
        AliasRules({"generic_firmware": {"ASUS": {"asuswrt": "everything"}}})


@pytest.mark.parametrize(("vendor", "model", "key"), [
    ("TP-Link", "Archer C7 AC1750", "archerc7"),            # a speed class describes
    ("NETGEAR", "Orbi RBR760", "rbr760"),                   # a series word
    ("Cisco", "RV110W Wireless-N VPN Firewall", "rv110w"),  # describing words
    ("TP-Link", "ER7206 Omada Gigabit VPN Router", "er7206"),
    ("TP-Link", "TL-WR841N/ND", "wr841nd"),                 # "/ND": the sibling model
    ("TP-Link", "TL-WR841N/ND", "wr841n"),
    ("Zyxel", "USG FLEX 50(W) series firmware", "usgflex50"),
])
def test_device_names_meet_kb_names_on_one_key(vendor: str, model: str, key: str) -> None:
    """Issue 9: names users and devices write go through the same rules as the KB's."""
    assert key in AliasRules.load().model_keys(vendor, model)


def test_device_names_do_not_take_alias_targets() -> None:
    # NVD files the Archer A7 as "ac1750"; a device that calls itself AC1750 is not an A7.
    assert "archera7" not in AliasRules.load().model_keys("TP-Link", "AC1750")
