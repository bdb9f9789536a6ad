"""The lab's 2025-26 devices, scanned for real on this helper's loopback range (127.7.3.0/24):
the new indicators fire where the lab shows them, and the near-misses stay quiet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routerwatch.checks import evaluate
from routerwatch.fingerprint import Fingerprinter
from routerwatch.lab.runner import Lab
from routerwatch.models import Indicator
from routerwatch.scan.scanner import ScanOptions, scan
from routerwatch.scan.scope import parse_scope

WATCHED = (
    "asus-rt-ac1300gplus-wrthug",
    "decoy-telnet-2323",
    "tplink-archer-ax21-v3-old",
    "decoy-esp-wifi-repeater",
    "cisco-rv340-old",
    "asus-rt-ac68u-quad7",
)


@pytest.fixture(scope="module")
def indicators() -> Iterator[dict[str, dict[str, Indicator]]]:
    with Lab(base="127.7.3.0", include_hostile=False) as lab:
        devices = {d.profile_id: d for d in lab.devices() if d.profile_id in WATCHED}
        assert set(devices) == set(WATCHED)
        observations = scan(
            parse_scope([d.address for d in devices.values()]), ScanOptions(host_timeout=8.0)
        )
        by_address = {o.address: o for o in observations}
        fp = Fingerprinter()
        out = {}
        for pid, d in devices.items():
            obs = by_address[d.address]
            out[pid] = {i.rule: i for i in evaluate(obs, fp.identify(obs))}
        yield out


def test_wrthug_asus_shows_the_certificate_and_aicloud(
    indicators: dict[str, dict[str, Indicator]],
) -> None:
    got = indicators["asus-rt-ac1300gplus-wrthug"]
    assert got["wrthug-aicloud-cert"].certainty == "high"
    assert (
        got["wrthug-aicloud-cert"].campaign == "WrtHug" and got["wrthug-aicloud-cert"].port == 443
    )
    assert got["exposure-aicloud"].campaign == "WrtHug"
    assert "tls-selfsigned-high-port" not in got and "wrthug-cert-name" not in got


def test_telnet_2323_exposure(indicators: dict[str, dict[str, Indicator]]) -> None:
    got = indicators["decoy-telnet-2323"]
    assert set(got) == {"exposure-telnet-2323"}
    assert "Mirai" in (got["exposure-telnet-2323"].campaign or "")


def test_luci_locale_on_the_archer_ax21(indicators: dict[str, dict[str, Indicator]]) -> None:
    assert "Ballista" in (
        indicators["tplink-archer-ax21-v3-old"]["exposure-luci-locale"].campaign or ""
    )


def test_near_misses_stay_quiet(indicators: dict[str, dict[str, Indicator]]) -> None:
    new = {"login-prompt-high-port", "tls-selfsigned-high-port", "wrthug-aicloud-cert",
           "wrthug-cert-name", "polaredge-polarssl-cert"}  # fmt: skip
    # the ESP console on 7777 is no login prompt; the Cisco's own self-signed cert on 443
    # is expected; the Quad7 ASUS keeps its specific rule, not the generic one
    assert not new & set(indicators["decoy-esp-wifi-repeater"])
    assert not new & set(indicators["cisco-rv340-old"])
    assert "quad7-alogin-63256" in indicators["asus-rt-ac68u-quad7"]
    assert not new & set(indicators["asus-rt-ac68u-quad7"])
