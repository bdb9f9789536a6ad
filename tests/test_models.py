"""The pure helpers on the shared models."""

from __future__ import annotations

import pytest

from routerwatch.models import DeviceIdentity, HttpObservation, www_authenticate_realms


@pytest.mark.parametrize(
    ("header", "realms"),
    [
        ('Basic realm="TP-LINK Wireless N Router WR841N"', ["TP-LINK Wireless N Router WR841N"]),
        ('Digest realm="a\\"b", nonce="x", Basic realm=NETGEAR', ['a"b', "NETGEAR"]),
        ("Basic realm='RT-AX55'", ["RT-AX55"]),
        ('Basic realm="unclosed', ["unclosed"]),
        ('Basic realm=""', []),
        ("Bearer", []),
        (None, []),
    ],
)
def test_www_authenticate_realms(header: str | None, realms: list[str]) -> None:
    assert www_authenticate_realms(header) == realms


def test_header_lookup_is_case_insensitive_and_first_wins() -> None:
    h = HttpObservation(
        port=80,
        scheme="http",
        method="GET",
        path="/",
        status=401,
        headers=(("server", "a"), ("server", "b")),
    )
    assert h.header("Server") == "a" and h.header("x-none") is None


def test_identity_label_and_dict() -> None:
    ident = DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="2", firmware="3.15.1")
    assert ident.label() == "TP-Link Archer C7 v2 (fw 3.15.1)"
    assert DeviceIdentity().label() == "unknown device"
    from routerwatch.schema import to_builtins

    assert to_builtins(ident)["model"] == "Archer C7"
