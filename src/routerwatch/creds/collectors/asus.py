"""ASUS web API (asusrouter): the ASUSWRT nvram variables through ``appGet.cgi`` hooks.

Stock ASUSWRT and Asuswrt-Merlin answer the web UI's own API on TCP 80 (8443 with HTTPS):
``login.cgi`` (``login_authorization`` = base64 of user:password) gives an ``asus_token``
cookie; ``appGet.cgi`` with ``hook=nvram_get(<name>);…`` returns those nvram variables as
JSON; ``Logout.asp`` ends the session. asusrouter's ``Connection`` class speaks exactly that
(aiohttp); its high-level ``AsusRouter.async_connect`` is not used, because it then reads
~20 endpoints to build its identity. Our subclass checks every request before it is sent:
one login, the logout, and hooks made only of ``nvram_get`` of the same variables the SSH
collector reads on ASUSWRT (``ASUSWRT_VARS``); fallbacks to other ports/schemes are off. The
answer is parsed exactly like the SSH ``nvram get`` output (firmver.buildno_extendno), and the
config variables go through the same audit-config rules (AyySSHush ``sshd_authkeys``, WAN DNS,
``misc_http_x`` remote admin, ``vts_rulelist`` port forwards).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from routerwatch.creds.collectors.interface import CollectError, Collector, Facts, short
from routerwatch.creds.collectors.ssh import ASUSWRT_VARS, config_facts, parse_asuswrt
from routerwatch.creds.model import Credential
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

HOOK = "hook=" + ";".join(f"nvram_get({v})" for v in ASUSWRT_VARS)
LOGIN, APPGET, LOGOUT = "login.cgi", "appGet.cgi", "Logout.asp"


class AsusCollector(Collector):
    protocol = "http-asus"
    label = "the ASUS web API"
    ALLOWLIST = frozenset({LOGIN, LOGOUT, *(f"{APPGET} nvram_get({v})" for v in ASUSWRT_VARS)})

    def __init__(self) -> None:
        self.sent: list[str] = []

    def _connection(self, address: str, cred: Credential, timeout: float) -> Any:
        from asusrouter.connection import Connection
        from asusrouter.connection_config import ARConnectionConfigKey as Key

        collector = self

        class GuardedConnection(Connection):
            async def _send_request(self, endpoint: Any, payload: str | None = None,
                                    headers: dict[str, str] | None = None,
                                    request_type: Any = None) -> Any:
                name = str(endpoint.value)
                if name == APPGET:
                    items = (payload or "").removeprefix("hook=").split(";")
                    for item in items:
                        collector.allow(f"{APPGET} {item}")
                    collector.sent.extend(f"{APPGET} {i}" for i in items)
                else:
                    if name == LOGIN and LOGIN in collector.sent:
                        raise CollectError("auth", "ASUS web API: the login was refused (not "
                                           "retried: one attempt per run)")
                    collector.allow(name)
                    collector.sent.append(name)
                if request_type is None:
                    return await super()._send_request(endpoint, payload, headers)
                return await super()._send_request(endpoint, payload, headers, request_type)

        https = cred.effective_port in (443, 8443)
        return GuardedConnection(
            address, cred.user, cred.password or "", port=cred.effective_port, use_ssl=https,
            timeout=max(1, int(timeout)),
            config={Key.ALLOW_FALLBACK: False, Key.VERIFY_SSL: False},
        )  # fmt: skip

    async def collect(
        self,
        address: str,
        cred: Credential,
        guard: Guard,
        *,
        hint: DeviceIdentity,
        timeout: float,
    ) -> Facts:
        from asusrouter.error import (
            AsusRouterAccessError,
            AsusRouterConnectionError,
            AsusRouterError,
            AsusRouterLogoutError,
            AsusRouterTimeoutError,
        )
        from asusrouter.modules.endpoint import Endpoint
        from asusrouter.modules.endpoint.error import AccessError
        from asusrouter.tools.readers import read_json_content

        self.sent = []
        checked = await guard.permit(address)
        conn = self._connection(checked, cred, timeout)
        try:
            async with asyncio.timeout(timeout * 4):
                if not await conn.async_connect():
                    raise CollectError("timeout", f"ASUS web API: no answer within "
                                       f"{timeout:g} s")  # fmt: skip
                try:
                    _s, _h, content = await conn.async_query(Endpoint.HOOK, HOOK)
                finally:
                    with contextlib.suppress(AsusRouterError, OSError):
                        await conn.async_disconnect()
        except CollectError:
            raise
        except AsusRouterAccessError as exc:
            # asusrouter re-raises the login's error with the original as its cause
            code = None
            err: BaseException | None = exc
            while err is not None and code is None:
                code = err.args[1] if len(err.args) > 1 else None
                err = err.__cause__
            if code in (AccessError.TRY_AGAIN, AccessError.CAPTCHA):
                raise CollectError("locked", "ASUS web API: logins are blocked for a while "
                                   "after failed attempts") from None
            if code == AccessError.CREDENTIALS:
                raise CollectError("auth", f"ASUS web API: login as {cred.user} refused "
                                   "(wrong password)") from None
            raise CollectError("refused", f"ASUS web API: access refused ({code})") from None
        except (TimeoutError, AsusRouterTimeoutError):
            raise CollectError("timeout", f"ASUS web API: no answer within {timeout:g} s"
                               ) from None
        except AsusRouterConnectionError:
            raise CollectError("unreachable", f"ASUS web API: port {cred.effective_port} did "
                               "not answer") from None
        except AsusRouterLogoutError:
            raise CollectError("protocol", "ASUS web API: the session ended during the read"
                               ) from None
        except AsusRouterError as exc:
            raise CollectError("unsupported", f"ASUS web API: {short(str(exc), 80)} (not "
                               "ASUSWRT?)") from None
        finally:
            with contextlib.suppress(Exception):
                await conn.async_close()
        nvram = read_json_content(content)
        out = {f"nvram get {k}": str(v if v is not None else "") for k, v in nvram.items()
               if k in ASUSWRT_VARS}  # fmt: skip
        ident = parse_asuswrt(out)
        settings, _text = config_facts("asuswrt", out)
        return Facts(
            protocol=self.protocol,
            source=self.source(cred),
            vendor="ASUS",
            model=ident.get("model"),
            firmware=ident.get("firmware"),
            serial=ident.get("serial"),
            mac=(ident.get("mac") or "").lower() or None,
            settings=settings,
            evidence=(("appGet.cgi nvram_get(productid, firmver, buildno, extendno)", short(
                " ".join(f"{k}={nvram.get(k)}" for k in ("productid", "firmver", "buildno",
                                                          "extendno")))),),
            calls=tuple(self.sent),
        )
