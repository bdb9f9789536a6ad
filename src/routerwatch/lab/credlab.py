"""The credentialed lab: routers that take a login, on loopback, for tests and benchmarks.

    with CredLab(base="127.44.1.0") as lab:
        for d in lab.devices():            # address, profile, true identity, credentials
            ...
        lab.log.snapshot()                 # every login and call the lab servers received

Each device is a main-lab profile (its unauthenticated face: web pages, UPnP, banners) plus
the login services it really has, from ``lab/creds/devices.yaml``: SSH (asyncssh server),
the RouterOS API, an SNMPv3 agent (pysnmp), TR-064 and the TP-Link / NETGEAR / ASUS web APIs (see
routerwatch.lab.credservers). A service that takes a port the profile already answers on (a
banner on 22, the v2c SNMP agent, TR-064 on 49000) replaces that answer; the web API servers
answer their API paths and leave every other request of that port to the profile's own site.
Only 127.0.0.0/8 is ever bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import TracebackType
from typing import Any

import yaml

from routerwatch.lab.context import DeviceContext
from routerwatch.lab.credservers import (
    RequestLog,
    start_asus,
    start_netgear,
    start_routeros,
    start_snmpv3,
    start_ssh,
    start_tplink,
    start_tr064,
)
from routerwatch.lab.profiles import DeviceProfile, load_profiles, parse_profile
from routerwatch.lab.runner import Lab, lab_addresses
from routerwatch.models import DeviceIdentity

__all__ = ["CredLab", "CredLabDevice", "cred_specs"]

DEFAULT_BASE = "127.44.1.0"
KINDS = ("ssh", "snmpv3", "routeros", "tr064", "http-tplink", "http-netgear", "http-asus")
_PORTS = {"ssh": 22, "routeros": 8728, "tr064": 49000, "http-tplink": 80, "http-netgear": 5000,
          "http-asus": 80}
#: web API servers that answer the rest of their port from the profile's own site
_WEB = {"http-tplink": start_tplink, "http-netgear": start_netgear, "http-asus": start_asus}


@dataclass(frozen=True)
class CredLabDevice:
    address: str
    profile_id: str
    identity: DeviceIdentity | None
    services: dict[str, dict[str, Any]]  # kind -> spec (user, password / keys, port, …)

    def credentials(self) -> list[dict[str, Any]]:
        """What an owner would store for this device: kind, user, secrets, port."""
        out = []
        for kind, spec in self.services.items():
            row: dict[str, Any] = {"kind": kind, "user": spec["user"],
                                   "port": spec.get("port")}  # fmt: skip
            if kind == "snmpv3":
                row.update(auth_key=spec["auth_key"], priv_key=spec["priv_key"],
                           auth_protocol=spec.get("auth_protocol", "SHA"),
                           priv_protocol=spec.get("priv_protocol", "AES"))  # fmt: skip
            else:
                row["password"] = spec["password"]
            out.append(row)
        return out


@cache
def cred_specs() -> tuple[tuple[DeviceProfile, dict[str, dict[str, Any]]], ...]:
    """(profile with the login ports freed, services) of every credentialed-lab device."""
    folder = resources.files("routerwatch.lab").joinpath("creds")
    data = yaml.safe_load(folder.joinpath("devices.yaml").read_text(encoding="utf-8"))
    extra = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml") and entry.name != "devices.yaml":
            prof = parse_profile(yaml.safe_load(entry.read_text(encoding="utf-8")),
                                 f"lab/creds/{entry.name}")  # fmt: skip
            extra[prof.id] = prof
    known = {p.id: p for p in load_profiles(include_hostile=False)} | extra
    out = []
    for row in data["devices"]:
        pid = row["profile"]
        if pid not in known:
            raise ValueError(f"lab/creds/devices.yaml: unknown profile {pid!r}")
        services = {k: dict(row[k]) for k in KINDS if k in row}
        profile = known[pid]
        taken = {int(spec.get("port", _PORTS[k])) for k, spec in services.items() if k in _PORTS}
        for kind, spec in services.items():
            if kind in _WEB:  # the site that answered on that port keeps answering the rest
                port = int(spec.get("port", _PORTS[kind]))
                spec["site"] = next((s.site for s in profile.services if s.port == port), None)
        changes: dict[str, Any] = {
            "services": tuple(s for s in profile.services if s.port not in taken)
        }
        if "snmpv3" in services:
            changes["snmp"] = None
        out.append((dataclasses.replace(profile, **changes), services))
    return tuple(out)


class CredLab:
    """The credentialed lab: a :class:`Lab` of the profiles plus the login services."""

    def __init__(
        self,
        base: str = DEFAULT_BASE,
        seed: int = 0,
        overrides: dict[str, dict[str, dict[str, Any]]] | None = None,
    ) -> None:
        """``overrides``: profile id -> kind -> spec keys replaced (tests: a device whose
        login service answers differently from the shipped lab)."""
        specs = cred_specs()
        if overrides:
            specs = tuple(
                (p, {k: {**spec, **overrides.get(p.id, {}).get(k, {})}
                     for k, spec in services.items()})
                for p, services in specs
            )  # fmt: skip
        self.base = base
        self.seed = seed
        self.lab = Lab(base=base, profiles=[p for p, _ in specs], seed=seed)
        self.addresses = lab_addresses(base, len(specs))
        self._specs = specs
        self.log = RequestLog()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closers: list[Any] = []
        self.authorized: dict[str, set[str]] = {}  # address -> SSH public keys (OpenSSH text)

    def authorize_key(self, address: str, public_key: str) -> None:
        """Let ``public_key`` (an authorized_keys line) log into the SSH server at address."""
        self.authorized.setdefault(address, set()).add(public_key.strip())

    def devices(self) -> list[CredLabDevice]:
        return [
            CredLabDevice(addr, p.id, p.identity, services)
            for addr, (p, services) in zip(self.addresses, self._specs, strict=True)
        ]

    def start(self) -> None:
        import asyncssh

        self.lab.start()
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []
        host_key = asyncssh.generate_private_key("ssh-ed25519")

        profiles = {a: p for a, (p, _) in zip(self.addresses, self._specs, strict=True)}

        async def bind() -> None:
            for d in self.devices():
                for kind, spec in d.services.items():
                    if kind == "ssh":
                        keys = self.authorized.setdefault(d.address, set())
                        server = await start_ssh(d.address, spec, self.log, host_key, keys)
                        self._closers.append(server.close)
                    elif kind == "routeros":
                        srv = await start_routeros(d.address, spec, self.log)
                        self._closers.append(srv.close)
                    elif kind == "snmpv3":
                        engine = start_snmpv3(d.address, spec, self.log)
                        self._closers.append(engine.close_dispatcher)
                    elif kind == "tr064" or kind in _WEB:
                        if kind == "tr064":
                            http = start_tr064(d.address, spec, self.log)
                        else:
                            profile = profiles[d.address]
                            ctx = DeviceContext(d.address, profile, self.seed)
                            site = profile.sites.get(spec.get("site") or "")
                            http = _WEB[kind](d.address, spec, self.log, ctx, site)
                        self._closers.append(http.shutdown)
                        self._closers.append(http.server_close)
            await asyncio.sleep(0.05)  # let pysnmp's endpoints bind

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(bind())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"credlab-{self.base}", daemon=True)
        self._thread.start()
        ready.wait(60)
        if failure:
            self.stop()
            raise failure[0]

    def stop(self) -> None:
        loop = self._loop
        if loop is not None:
            async def close_all() -> None:
                for close in reversed(self._closers):
                    with contextlib.suppress(Exception):
                        if getattr(close, "__name__", "") == "shutdown":
                            threading.Thread(target=close, daemon=True).start()
                        else:
                            close()
                me = asyncio.current_task()
                tasks = [t for t in asyncio.all_tasks() if t is not me]
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                loop.stop()

            if loop.is_running():
                asyncio.run_coroutine_threadsafe(close_all(), loop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            with contextlib.suppress(Exception):
                loop.close()
        self._closers.clear()
        self._loop = None
        self._thread = None
        self.lab.stop()

    def __enter__(self) -> CredLab:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
