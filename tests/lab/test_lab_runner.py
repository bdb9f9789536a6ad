"""Lab engine: start/stop, clashes, bounds, the 254-host lab."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from routerwatch.lab import Lab, LabBindError, load_profiles
from routerwatch.lab.context import DeviceContext

# one base per test, so the tests never clash with each other or with other suites
BASE_CLASH = "127.0.172.0"
BASE_BULK = "127.0.173.0"
BASE_CAP = "127.0.176.0"
BASE_RESTART = "127.0.177.0"
BASE_MEMORY = "127.0.178.0"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def port_free(addr: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, port))
        except OSError:
            return False
        return True


def test_clash_names_address_and_port_and_leaves_nothing_bound() -> None:
    first = Lab(base=BASE_CLASH, include_hostile=False)
    second_addr = first.devices()[1].address
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind((second_addr, 80))
    blocker.listen()
    try:
        with pytest.raises(
            LabBindError, match=rf"cannot bind {second_addr}:80/tcp .*already in use"
        ):
            first.start()
        assert not first.running
    finally:
        blocker.close()
    # the sockets of the first device were bound before the clash and are released again
    assert port_free(first.devices()[0].address, 80)
    assert port_free(first.devices()[0].address, 1900)
    with first:  # and the same lab starts fine once the port is free
        r = httpx.get(f"http://{second_addr}/", timeout=3)
        assert r.status_code in (200, 401, 404)


def test_two_labs_on_one_base_clash_clearly() -> None:
    with Lab(base=BASE_CLASH) as lab:
        with pytest.raises(LabBindError, match="already in use: another lab"):
            Lab(base=BASE_CLASH).start()
        assert lab.running
        assert httpx.get(f"http://{lab.devices()[0].address}/", timeout=3).status_code == 401


def test_stop_releases_everything_and_the_lab_restarts() -> None:
    before = open_fds()
    lab = Lab(base=BASE_RESTART)
    lab.start()
    assert open_fds() > before + 50
    lab.stop()
    lab.stop()  # idempotent
    assert open_fds() <= before + 2
    with Lab(base=BASE_RESTART) as again:
        assert httpx.get(f"http://{again.devices()[0].address}/", timeout=3).status_code == 401


def test_254_host_lab_starts_fast_with_bounded_descriptors() -> None:
    before = open_fds()
    lab = Lab(base=BASE_BULK, count=254)
    started = time.monotonic()
    lab.start()
    try:
        took = time.monotonic() - started
        devices = lab.devices()
        assert len(devices) == len({d.address for d in devices}) == 254
        assert devices[-1].address == "127.0.173.254"
        listeners = sum(len(d.ports) + len(d.udp_ports) for d in devices)
        assert open_fds() - before <= listeners + 16, "one descriptor per listening socket"
        assert took < 10, f"254 hosts took {took:.1f} s to start"
        profiles = load_profiles()
        assert {d.profile_id for d in devices} == {p.id for p in profiles}
        last_router = next(d for d in reversed(devices) if d.identity and 80 in d.ports)
        assert httpx.get(f"http://{last_router.address}/", timeout=3).status_code < 500
    finally:
        lab.stop()
    assert open_fds() <= before + 2


def test_connection_cap_per_device() -> None:
    lab = Lab(base=BASE_CAP)
    lab.max_per_device = 8
    tarpit = next(d for d in lab.devices() if d.hostile == "tarpit")
    with lab:
        conns = [socket.create_connection((tarpit.address, 80), timeout=2) for _ in range(12)]
        try:
            time.sleep(0.3)
            closed = 0
            for c in conns:
                c.settimeout(0.2)
                try:
                    closed += c.recv(1) == b""
                except ConnectionResetError:
                    closed += 1
                except TimeoutError:
                    pass
            assert closed == 4, "connections beyond the cap are closed at once"
        finally:
            for c in conns:
                c.close()
        router = next(d for d in lab.devices() if d.identity is not None)
        assert httpx.get(f"http://{router.address}/", timeout=3).status_code == 401


def test_stalled_clients_of_the_endless_body_cost_no_memory() -> None:
    with Lab(base=BASE_MEMORY) as lab:
        endless = next(d for d in lab.devices() if d.hostile == "endless-body")
        before = rss_mib()
        conns = []
        for _ in range(6):
            c = socket.create_connection((endless.address, 80), timeout=2)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            conns.append(c)
        time.sleep(1.5)  # an unbounded writer would queue gigabytes by now
        grown = rss_mib() - before
        assert conns[0].recv(64).startswith(b"HTTP/1.1 200 OK")
        for c in conns:
            c.close()
        assert grown < 32, f"lab memory grew {grown:.0f} MiB for 6 stalled clients"


def test_status_json_is_the_truth_table() -> None:
    lab = Lab(base="127.0.179.0")
    status = lab.status_json()
    json.dumps(status)
    devices = status["devices"]
    assert [d["address"] for d in devices][:2] == ["127.0.179.1", "127.0.179.2"]
    for d in devices:
        assert set(d) >= {"address", "profile", "identity", "hostile"}
        if d["hostile"] or d["decoy"]:
            assert d["identity"] is None
        else:
            assert set(d["identity"]) == {"vendor", "model", "hardware", "firmware"}
            assert d["identity"]["vendor"] and d["identity"]["model"]


def test_per_host_values_follow_the_seed() -> None:
    profile = load_profiles()[0]
    a = DeviceContext("127.0.179.1", profile, seed=7).values
    assert a == DeviceContext("127.0.179.1", profile, seed=7).values
    b = DeviceContext("127.0.179.1", profile, seed=8).values
    assert a["mac"] != b["mac"] and a["uuid"] != b["uuid"]
    assert a["mac"].startswith(profile.vars["oui"])
    rendered = DeviceContext("127.0.179.1", profile, seed=7).render(b"{{address}} {{unknown}}")
    assert rendered == b"127.0.179.1 {{unknown}}"
