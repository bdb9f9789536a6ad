"""MikroTik RouterOS API (librouteros): ``/system/resource`` and ``/system/routerboard``.

librouteros speaks the API word protocol (TCP 8728). The connection is opened through the
scan's Guard and handed to librouteros' own AsyncApi; our protocol subclass checks every
outgoing sentence: ``/login`` once, then only ``<path>/print`` of the allowlisted paths. It
does not log sentences (librouteros' own protocol logs every word at DEBUG, the password too).
"""

from __future__ import annotations

import asyncio
from typing import Any

from routerwatch.creds.collectors.interface import (
    CollectError,
    Collector,
    Facts,
    FailureKind,
    short,
)
from routerwatch.creds.model import Credential
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

READ_PATHS = (
    "/system/resource",
    "/system/routerboard",
    "/ip/dns",
    "/ip/service",
    "/user/ssh-keys",
)


def _guarded_protocol(collector: RouterOsCollector) -> type:
    from librouteros.protocol import AsyncApiProtocol, encode_sentence

    class GuardedProtocol(AsyncApiProtocol):
        """librouteros' protocol, refusing any command outside the allowlist (not logged)."""

        async def writeSentence(self, cmd: str, *words: str) -> None:
            collector.allow(cmd)
            collector.sent.append(cmd)
            data = encode_sentence(cmd, *words, encoding=self.encoding)
            await asyncio.wait_for(self.transport.write(data), self.timeout)

    return GuardedProtocol


class RouterOsCollector(Collector):
    protocol = "routeros"
    label = "the RouterOS API"
    ALLOWLIST = frozenset({"/login", *(p + "/print" for p in READ_PATHS)})

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def collect(
        self,
        address: str,
        cred: Credential,
        guard: Guard,
        *,
        hint: DeviceIdentity,
        timeout: float,
    ) -> Facts:
        from librouteros.api import AsyncApi
        from librouteros.connections import AsyncSocketTransport
        from librouteros.exceptions import ConnectionClosed, FatalError, TrapError
        from librouteros.login import async_plain

        self.sent = []
        port = cred.effective_port
        rows: dict[str, list[dict[str, Any]]] = {}
        try:
            async with asyncio.timeout(timeout * (2 + len(READ_PATHS))):
                reader, writer = await guard.open_stream(address, port, timeout)
                transport = AsyncSocketTransport(reader=reader, writer=writer)
                proto = _guarded_protocol(self)(transport=transport, encoding="UTF-8",
                                                timeout=timeout)
                api = AsyncApi(protocol=proto)
                try:
                    try:
                        await async_plain(api, cred.user, cred.password or "")
                    except TrapError as exc:
                        raise CollectError(
                            "auth", f"RouterOS API: login as {cred.user} refused "
                            f"({short(str(exc), 80)})"
                        ) from None
                    for path in READ_PATHS:
                        try:
                            rows[path] = [r async for r in api.path(path)]
                        except TrapError:
                            rows[path] = []  # not on this version / no permission: skip
                finally:
                    writer.close()
        except TimeoutError:
            raise CollectError("timeout", f"RouterOS API: no answer within {timeout:g} s") from None
        except ConnectionRefusedError:
            raise CollectError(
                "unreachable", f"RouterOS API: port {port} refused the connection "
                "(API service disabled?)"
            ) from None
        except (ConnectionClosed, FatalError) as exc:
            text = short(str(exc), 80)
            kind: FailureKind = "locked" if "lock" in text.lower() else "protocol"
            raise CollectError(kind, f"RouterOS API: connection closed ({text})") from None
        except OSError as exc:
            raise CollectError("unreachable", f"RouterOS API: {exc.strerror or exc}") from None
        return self._facts(cred, rows)

    def _facts(self, cred: Credential, rows: dict[str, list[dict[str, Any]]]) -> Facts:
        res = (rows.get("/system/resource") or [{}])[0]
        board = (rows.get("/system/routerboard") or [{}])[0]
        version = str(res.get("version") or "").split(" ")[0] or None
        if version is None:
            raise CollectError("protocol", "RouterOS API: /system/resource named no version")
        model = board.get("model") or res.get("board-name")
        settings: list[tuple[str, str]] = []
        dns = (rows.get("/ip/dns") or [{}])[0]
        for name in ("servers", "dynamic-servers"):
            if dns.get(name):
                settings.append((f"ip.dns.{name}", str(dns[name])))
        for svc in rows.get("/ip/service", []):
            if str(svc.get("disabled")).lower() not in ("true", "yes") and svc.get("name"):
                settings.append((f"ip.service.{svc['name']}.enabled", "true"))
                settings.append((f"ip.service.{svc['name']}.port", str(svc.get("port", ""))))
                settings.append((f"ip.service.{svc['name']}.address",
                                 str(svc.get("address", ""))))
        for key in rows.get("/user/ssh-keys", []):
            text = key.get("key") or key.get("key-owner")
            if text:
                settings.append((f"user.ssh-keys.{key.get('user', '')}", str(text)))
        evidence = [
            ("routeros /system/resource/print",
             short(f"version={res.get('version')} board-name={res.get('board-name')}")),
        ]
        if board:
            evidence.append(("routeros /system/routerboard/print",
                             short(f"model={board.get('model')} "
                                   f"current-firmware={board.get('current-firmware')}")))
        return Facts(
            protocol=self.protocol, source=self.source(cred), vendor="MikroTik",
            model=str(model) if model else None, firmware=version, os="RouterOS",
            serial=str(board["serial-number"]) if board.get("serial-number") else None,
            settings=tuple(settings), evidence=tuple(evidence), calls=tuple(self.sent),
        )  # fmt: skip
