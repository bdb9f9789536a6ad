"""Issue 19 item 4: multicast/broadcast/unspecified written as IPv6 are refused like IPv4.

Before the fix ``::ffff:239.255.255.250`` (the SSDP group, IPv4-mapped), ``::ffff:255.255.
255.255`` and ``::ffff:0.0.0.0`` passed the scope with ``--allow-public``. Nothing here opens
a socket towards them: the refusal happens in parse_scope / Guard.check, before any socket.
"""

from __future__ import annotations

import asyncio

import netaddr
import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.scan.guard import Guard
from routerwatch.scan.scope import OutOfScope, Scope, ScopeError, parse_scope

EMBEDDED_FORBIDDEN = [
    "::ffff:239.255.255.250", "::ffff:255.255.255.255", "::ffff:0.0.0.0", "::ffff:224.0.0.1",
    "::ffff:0.1.2.3", "::ffff:224.0.0.0/100", "::ffff:239.255.255.0/120",
    "64:ff9b::239.255.255.250", "64:ff9b::255.255.255.255", "2002:efff:fffa::1",
    "2002:ffff:ffff::1", "2002::1", "::ffff:239.255.255.249-::ffff:239.255.255.251",
]


@pytest.mark.parametrize("target", EMBEDDED_FORBIDDEN)
def test_embedded_multicast_broadcast_unspecified_refused_even_with_allow_public(
    target: str,
) -> None:
    with pytest.raises(ScopeError, match="multicast, broadcast or unspecified"):
        parse_scope([target], allow_public=True)


def test_scope_and_guard_never_let_them_through() -> None:
    wide = Scope(netaddr.IPSet(["::ffff:0:0/96", "64:ff9b::/96", "2002::/16"]),
                 allow_public=True)
    guard = Guard(wide)
    for text in ("::ffff:239.255.255.250", "::ffff:255.255.255.255", "::ffff:0.0.0.0",
                 "[::ffff:224.0.0.251]", "64:ff9b::e000:fb", "2002:e000:fb::1"):
        assert text not in wide
        with pytest.raises(OutOfScope):
            guard.check(text)
        with pytest.raises(OutOfScope):  # a datagram is refused before a socket exists
            asyncio.run(guard.udp_exchange(text, 1900, b"M-SEARCH", 0.1))
    assert guard.sent == 0
    assert "::ffff:8.8.8.8" in wide  # only the forbidden parts are dropped


def test_mapped_private_addresses_need_no_allow_public() -> None:
    scope = parse_scope(["::ffff:127.1.4.1", "::ffff:192.168.1.0/126"])
    assert "::ffff:127.1.4.1" in scope
    # the network and broadcast addresses of a mapped IPv4 CIDR are dropped, as for IPv4
    assert "::ffff:192.168.1.0" not in scope and "::ffff:192.168.1.3" not in scope
    assert "::ffff:192.168.1.1" in scope
    with pytest.raises(ScopeError, match="public"):
        parse_scope(["::ffff:8.8.8.8"])


def test_cli_refuses_with_one_line() -> None:
    result = CliRunner().invoke(app, ["scan", "::ffff:239.255.255.250", "--allow-public", "-q"])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "never scanned" in lines[0], result.stderr
