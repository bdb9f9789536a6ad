"""Scope parsing: what may be scanned, and what is refused (no packet is sent by these tests)."""

from __future__ import annotations

from pathlib import Path

import netaddr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routerwatch.scan.scope import (
    DEFAULT_PORTS,
    Scope,
    ScopeError,
    default_gateway,
    parse_scope,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("targets", "exclude", "expected"),
    [
        (["192.168.1.1"], [], ["192.168.1.1"]),
        (["192.168.1.0/30"], [], ["192.168.1.1", "192.168.1.2"]),  # network + broadcast dropped
        (["192.168.1.4/31"], [], ["192.168.1.4", "192.168.1.5"]),  # /31: both are hosts
        (["10.0.0.7/32"], [], ["10.0.0.7"]),
        (["192.168.1.5/30"], [], ["192.168.1.5", "192.168.1.6"]),  # host bits set: its network
        (["192.168.1.10-12"], [], ["192.168.1.10", "192.168.1.11", "192.168.1.12"]),
        (["10.0.0.254-10.0.1.1"], [], ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]),
        (["192.168.1.1,192.168.1.3"], [], ["192.168.1.1", "192.168.1.3"]),
        (["192.168.1.3", "192.168.1.1", "192.168.1.3"], [], ["192.168.1.1", "192.168.1.3"]),
        (["192.168.1.0/29"], ["192.168.1.2-4"], ["192.168.1.1", "192.168.1.5", "192.168.1.6"]),
        (["192.168.1.0/24"], ["192.168.1.0/25", "192.168.1.128/26", "192.168.1.192/27",
                              "192.168.1.224/28", "192.168.1.240/29", "192.168.1.248/30",
                              "192.168.1.252"], ["192.168.1.253", "192.168.1.254"]),
        (["127.0.0.1"], [], ["127.0.0.1"]),
        (["::1"], [], ["::1"]),
        (["fd00::1-fd00::3"], [], ["fd00::1", "fd00::2", "fd00::3"]),
        (["169.254.1.1"], [], ["169.254.1.1"]),
    ],
)  # fmt: skip
def test_targets_become_hosts(targets: list[str], exclude: list[str], expected: list[str]) -> None:
    scope = parse_scope(targets, exclude=exclude)
    assert list(scope.hosts()) == expected
    assert len(scope) == len(expected)
    for host in expected:
        assert host in scope


def test_broadcast_of_a_given_cidr_is_never_in_scope() -> None:
    scope = parse_scope(["192.168.7.0/24", "192.168.7.255"])
    assert "192.168.7.255" not in scope
    assert "192.168.7.0" not in scope
    assert "192.168.7.254" in scope
    assert len(scope) == 254


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("8.8.8.8", ["'8.8.8.8'", "public", "--allow-public"]),
        ("192.168.0.0/15", ["192.169.0.0", "public"]),
        ("100.64.0.1", ["public"]),  # carrier-grade NAT is the ISP's, not the user's network
        ("2001:db8::1", ["public"]),
        ("224.0.0.1", ["multicast"]),
        ("239.255.255.250", ["multicast"]),
        ("255.255.255.255", ["broadcast"]),
        ("0.0.0.0", ["unspecified"]),
        ("::", ["unspecified"]),
        ("ff02::1", ["multicast"]),
        ("garbage", ["'garbage'", "not an IP address"]),
        ("router.lan", ["'router.lan'", "host names"]),
        ("192.168.1.300", ["'192.168.1.300'"]),
        ("192.168.1.1/33", ["'192.168.1.1/33'"]),
        ("192.168.1.9-3", ["'192.168.1.9-3'", "before the start"]),
        ("192.168.1.9-256", ["'192.168.1.9-256'"]),
        ("192.168.1.1-::1", ["mixes"]),
        ("192.168.1.1-2-3", ["'192.168.1.1-2-3'"]),
        ("", ["empty target"]),
    ],
)
def test_refused_targets_name_the_target(target: str, words: list[str]) -> None:
    with pytest.raises(ScopeError) as info:
        parse_scope([target])
    for word in words:
        assert word in str(info.value)


def test_allow_public_lets_public_in_but_never_multicast() -> None:
    scope = parse_scope(["8.8.8.8", "1.1.1.0/30"], allow_public=True)
    assert list(scope.hosts()) == ["1.1.1.1", "1.1.1.2", "8.8.8.8"]
    with pytest.raises(ScopeError, match="multicast"):
        parse_scope(["224.0.0.0/24"], allow_public=True)
    with pytest.raises(ScopeError, match="broadcast"):
        parse_scope(["255.255.255.255"], allow_public=True)


def test_exclude_can_make_a_target_private_enough_or_empty() -> None:
    scope = parse_scope(["192.168.0.0/15"], exclude=["192.169.0.0/16"])
    assert "192.168.3.4" in scope
    assert "192.169.0.1" not in scope
    with pytest.raises(ScopeError, match="empty after --exclude"):
        parse_scope(["192.168.1.1"], exclude=["192.168.1.0/24"])
    with pytest.raises(ScopeError, match="'nonsense'"):
        parse_scope(["192.168.1.1"], exclude=["nonsense"])


def test_too_many_hosts_refused() -> None:
    with pytest.raises(ScopeError, match="65536"):
        parse_scope(["10.0.0.0/8"])
    assert len(parse_scope(["10.0.0.0/16"])) == 65534
    with pytest.raises(ScopeError, match="more than the limit of 100"):
        parse_scope(["10.0.0.0/24"], max_hosts=100)
    with pytest.raises(ScopeError):
        parse_scope(["fd00::/64"])


def test_target_file(tmp_path: Path) -> None:
    path = tmp_path / "targets.txt"
    path.write_text("# my lab\n192.168.1.1   # the router\n\n192.168.1.10-11, 10.0.0.0/30\n  \n")
    expected = ["10.0.0.1", "10.0.0.2", "192.168.1.1", "192.168.1.10", "192.168.1.11"]
    assert list(parse_scope([f"@{path}"]).hosts()) == expected
    assert list(parse_scope([str(path)]).hosts()) == expected  # an existing path works too
    excl = tmp_path / "skip.txt"
    excl.write_text("192.168.1.10\n")
    assert "192.168.1.10" not in parse_scope([f"@{path}"], exclude=[f"@{excl}"])


def test_target_file_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "targets.txt"
    path.write_text("192.168.1.1\n\n8.8.4.4\n")
    with pytest.raises(ScopeError) as info:
        parse_scope([f"@{path}"])
    assert f"{path}:3" in str(info.value) and "'8.8.4.4'" in str(info.value)
    path.write_text("192.168.1.1\nwat?\n")
    with pytest.raises(ScopeError, match=r"targets\.txt:2: not an IP address.*'wat\?'"):
        parse_scope([f"@{path}"])
    with pytest.raises(ScopeError, match="cannot read target file"):
        parse_scope([f"@{tmp_path / 'missing.txt'}"])
    with pytest.raises(ScopeError, match="no targets"):
        parse_scope([])


def test_scope_built_directly_is_still_safe() -> None:
    with pytest.raises(ScopeError, match="public"):
        Scope(netaddr.IPSet(["9.9.9.9/32"]))
    scope = Scope(netaddr.IPSet(["127.0.0.0/30", "224.0.0.1/32"]))
    assert "224.0.0.1" not in scope
    assert "127.0.0.1" in scope
    assert "not an ip" not in scope
    assert 42 not in scope


def test_default_ports_follow_the_probe_plan() -> None:
    required = {21, 22, 23, 53, 80, 443, 1900, 7547, 8080, 8443, 8291, 7777, 11288, 63256, 53282}
    assert required <= set(DEFAULT_PORTS)
    assert {49152, 5000} <= set(DEFAULT_PORTS)
    assert len(DEFAULT_PORTS) == len(set(DEFAULT_PORTS))


# --------------------------------------------------------------------------- properties

octet = st.integers(0, 255)
private_v4 = st.one_of(
    st.tuples(st.just(10), octet, octet, octet),
    st.tuples(st.just(192), st.just(168), octet, octet),
    st.tuples(st.just(172), st.integers(16, 31), octet, octet),
    st.tuples(st.just(127), octet, octet, octet),
).map(lambda t: ".".join(map(str, t)))
target = st.one_of(
    private_v4,
    st.tuples(private_v4, st.integers(22, 32)).map(lambda t: f"{t[0]}/{t[1]}"),
    st.tuples(private_v4, st.integers(0, 255)).map(lambda t: f"{t[0]}-{t[1]}"),
)


def _oracle(item: str) -> tuple[netaddr.IPSet, netaddr.IPSet] | None:
    """Independent reading of one generated target: (addresses, network/broadcast to drop)."""
    if "/" in item:
        net = netaddr.IPNetwork(item).cidr
        edges = netaddr.IPSet([net.network, net.broadcast]) if net.prefixlen < 31 else None
        return netaddr.IPSet([net]), edges or netaddr.IPSet()
    if "-" in item:
        first, last = item.split("-")
        start = netaddr.IPAddress(first)
        end = netaddr.IPAddress((int(start) & ~0xFF) | int(last))
        if end < start:
            return None
        return netaddr.IPSet(netaddr.IPRange(start, end)), netaddr.IPSet()
    return netaddr.IPSet([netaddr.IPAddress(item)]), netaddr.IPSet()


@settings(max_examples=200, deadline=None)
@given(st.lists(target, min_size=1, max_size=4), st.lists(target, max_size=3))
def test_hosts_are_exactly_targets_minus_excluded(targets: list[str], exclude: list[str]) -> None:
    readings = [_oracle(t) for t in targets + exclude]
    if any(r is None for r in readings):
        with pytest.raises(ScopeError, match="before the start"):
            parse_scope(targets, exclude=exclude)
        return
    wanted, edges, excluded = netaddr.IPSet(), netaddr.IPSet(), netaddr.IPSet()
    for item in targets:
        addresses, edge = _oracle(item)  # type: ignore[misc]
        wanted |= addresses
        edges |= edge
    for item in exclude:
        excluded |= _oracle(item)[0]  # type: ignore[index]
    expected = wanted - excluded - edges
    if not expected:
        with pytest.raises(ScopeError, match="empty"):
            parse_scope(targets, exclude=exclude)
        return
    scope = parse_scope(targets, exclude=exclude)
    hosts = list(scope.hosts())
    assert len(hosts) == len(scope) == len(set(hosts)) == expected.size
    assert hosts == sorted(hosts, key=lambda h: int(netaddr.IPAddress(h)))
    for host in hosts:
        assert host in scope
        assert netaddr.IPAddress(host) in expected  # in a target, not excluded, not an edge
        assert netaddr.IPAddress(host) not in excluded


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(octet, octet, octet, octet), min_size=1, max_size=3))
def test_public_addresses_always_refused_without_flag(quads: list[tuple[int, ...]]) -> None:
    addresses = [".".join(map(str, q)) for q in quads]
    private = netaddr.IPSet(
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16"]
    )
    try:
        scope = parse_scope(addresses)
    except ScopeError:
        assert any(netaddr.IPAddress(a) not in private for a in addresses)
        return
    for host in scope.hosts():
        assert netaddr.IPAddress(host) in private


# --------------------------------------------------------------------------- --gateway


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("route_single.txt", "192.168.1.1"),
        ("route_none.txt", None),
        ("route_multi.txt", "192.168.1.254"),  # metric 100 beats 600; the gateway-less tun0 skipped
        ("route_down_flag.txt", None),  # no RTF_GATEWAY flag
    ],
)
def test_default_gateway_from_recorded_route_tables(fixture: str, expected: str | None) -> None:
    assert default_gateway((DATA / fixture).read_text()) == expected


def test_default_gateway_odd_input() -> None:
    assert default_gateway("") is None
    assert default_gateway("garbage\nmore garbage with many fields a b c d e f g\n") is None
    header = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
    tie = (
        header
        + "eth1\t00000000\t0200A8C0\t0003\t0\t0\t5\t00000000\t0\t0\t0\n"
        + "eth0\t00000000\t0100A8C0\t0003\t0\t0\t5\t00000000\t0\t0\t0\n"
    )
    assert default_gateway(tie) == "192.168.0.2"  # equal metrics: the first one
