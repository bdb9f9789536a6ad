"""The scan runs on uvloop's event loop when installed: same observations as asyncio's loop.

One host of each non-hostile lab profile (real pages, banners, certificates, UPnP
descriptions) on 127.53.250.x, scanned once through ``scan()`` (uvloop) and once through
``scan_async`` on asyncio's own loop; the observations must be equal apart from timings.
"""

from __future__ import annotations

import asyncio

import pytest
import uvloop  # a dependency off Windows (pyproject.toml)

from routerwatch.lab import Lab
from routerwatch.models import Observation, replace
from routerwatch.scan import scanner
from routerwatch.scan.scanner import ScanOptions, event_loop_factory, scan, scan_async
from routerwatch.scan.scope import parse_scope


def _untimed(observations: list[Observation]) -> list[Observation]:
    return [replace(o, elapsed=0.0, observed_at="") for o in observations]


def test_the_loop_factory_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTERWATCH_EVENT_LOOP", raising=False)
    assert event_loop_factory() is uvloop.new_event_loop
    monkeypatch.setenv("ROUTERWATCH_EVENT_LOOP", "asyncio")
    assert event_loop_factory() is None


def test_uvloop_and_asyncio_give_the_same_observations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTERWATCH_EVENT_LOOP", raising=False)
    used: list[type] = []
    real = scan_async

    async def spy(*args: object, **kwargs: object) -> list[Observation]:
        used.append(type(asyncio.get_running_loop()))
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    with Lab(base="127.53.250.0", include_hostile=False) as lab:
        addresses = [d.address for d in lab.devices()]
        options = ScanOptions(arp_table=None)
        monkeypatch.setattr(scanner, "scan_async", spy)
        on_uvloop = scan(parse_scope(addresses), options)
        monkeypatch.setattr(scanner, "scan_async", real)
        on_asyncio = asyncio.run(scan_async(parse_scope(addresses), options))
    assert used == [uvloop.Loop]
    assert len(on_asyncio) == len(addresses)
    assert sum(len(o.http) for o in on_asyncio) > 50
    assert _untimed(on_uvloop) == _untimed(on_asyncio)
