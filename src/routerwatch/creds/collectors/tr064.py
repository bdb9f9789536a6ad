"""AVM TR-064 (fritzconnection): ``DeviceInfo1 GetInfo`` with the box's login.

fritzconnection reads the device descriptions (``tr64desc.xml``, ``igddesc.xml`` and the
service SCPDs, all plain GETs), then sends SOAP actions with HTTP digest auth. Our subclass
checks every action against ``ALLOWLIST`` before it is sent. Runs in a worker thread
(fritzconnection uses requests); the address is the IP literal the scope guard allowed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from routerwatch.creds.collectors.interface import CollectError, Collector, Facts, short
from routerwatch.creds.model import Credential
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

ACTIONS = (
    ("DeviceInfo1", "GetInfo"),
    ("X_AVM-DE_RemoteAccess1", "GetInfo"),
    # fritzconnection itself asks for the last user on FRITZ!OS >= 7.24 when the user is the
    # historic default "dslf-config": a read, allowed so that login works as the library does.
    ("LANConfigSecurity1", "X_AVM-DE_GetUserList"),
)


class Tr064Collector(Collector):
    protocol = "tr064"
    label = "TR-064"
    ALLOWLIST = frozenset(f"{s} {a}" for s, a in ACTIONS)

    def __init__(self) -> None:
        self.sent: list[str] = []

    def _connect(self, address: str, cred: Credential, timeout: float) -> dict[str, Any]:
        from fritzconnection import FritzConnection

        collector = self

        class GuardedFritz(FritzConnection):
            def call_action(self, service_name: str, action_name: str, *, arguments: Any = None,
                            **kwargs: Any) -> Any:
                collector.allow(f"{service_name} {action_name}")
                collector.sent.append(f"{service_name} {action_name}")
                return super().call_action(service_name, action_name, arguments=arguments,
                                           **kwargs)

        fc = GuardedFritz(
            address=address, port=cred.effective_port, user=cred.user, password=cred.password,
            timeout=timeout, use_cache=False,
        )  # fmt: skip
        info = dict(fc.call_action("DeviceInfo1", "GetInfo"))
        remote: dict[str, Any] = {}
        if "X_AVM-DE_RemoteAccess1" in fc.services:
            try:
                remote = dict(fc.call_action("X_AVM-DE_RemoteAccess1", "GetInfo"))
            except Exception:  # an older FRITZ!OS without it: not a failure of the read
                remote = {}
        return {"info": info, "remote": remote}

    async def collect(
        self,
        address: str,
        cred: Credential,
        guard: Guard,
        *,
        hint: DeviceIdentity,
        timeout: float,
    ) -> Facts:
        import requests
        from fritzconnection.core.exceptions import (
            FritzAuthorizationError,
            FritzConnectionException,
        )

        self.sent = []
        checked = await guard.permit(address)
        try:
            async with asyncio.timeout(timeout * 6):
                got = await asyncio.to_thread(self._connect, checked, cred, timeout)
        except FritzAuthorizationError:
            raise CollectError("auth", f"TR-064: login as {cred.user} refused (wrong password, "
                               "or the box blocks logins for a while)") from None
        except CollectError:
            raise
        except (TimeoutError, requests.Timeout):
            raise CollectError("timeout", f"TR-064: no answer within {timeout:g} s") from None
        except requests.ConnectionError:
            raise CollectError("unreachable", f"TR-064: port {cred.effective_port} did not "
                               "answer (TR-064 access off?)") from None
        except FritzConnectionException as exc:
            raise CollectError("protocol", f"TR-064: {short(str(exc), 100)}") from None
        info, remote = got["info"], got["remote"]
        settings: list[tuple[str, str]] = []
        if remote:
            settings.append(("remote_access.enabled", "1" if remote.get("NewEnabled") else "0"))
        vendor = str(info.get("NewManufacturerName") or "") or None
        return Facts(
            protocol=self.protocol,
            source=self.source(cred),
            vendor="AVM" if vendor and vendor.upper().startswith("AVM") else vendor,
            model=str(info.get("NewModelName") or "") or None,
            firmware=str(info.get("NewSoftwareVersion") or "") or None,
            serial=str(info.get("NewSerialNumber") or "") or None,
            os="FRITZ!OS",
            settings=tuple(settings),
            evidence=(("tr064 DeviceInfo1 GetInfo", short(
                f"ModelName={info.get('NewModelName')} "
                f"SoftwareVersion={info.get('NewSoftwareVersion')}")),),
            calls=tuple(self.sent),
        )
