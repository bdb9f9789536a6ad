"""TP-Link web API (tplinkrouterc6u): firmware, model, hardware, MACs, WAN DNS, remote admin.

tplinkrouterc6u's ``TplinkRouter`` class speaks the encrypted LuCI login of the Archer AX/C6
family (Archer AX21, AX10, AX20, AX50, AX55, C6, C7 v4/v5, A7 …; see docs/credentials.md):
``login?form=keys`` (RSA key for the password), ``login?form=auth`` (RSA key + sequence for the
request signature), ``login?form=login`` (password RSA-encrypted, body AES-CBC with a session
key the signature carries), then AES-encrypted JSON calls to ``admin/...``. That one class is
used, not the library's provider that tries ~30 client classes (a login attempt each).

Our subclass checks every ``admin/...`` call against ``ALLOWLIST`` before it is encrypted and
sent, and refuses a second password attempt (the library re-tries a login once on a 403 or a
non-JSON answer; that would be two failed logins per run). ``logout`` is allowlisted: it ends
the session and changes no setting (the TP-Link web UI admits one admin session at a time;
leaving ours open would lock the owner out until it times out). Runs in a worker thread (the
library uses requests); the address is the IP literal the scope guard allowed.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

from routerwatch.creds.collectors.interface import CollectError, Collector, Facts, short
from routerwatch.creds.model import Credential
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

FIRMWARE = "admin/firmware?form=upgrade&operation=read"
IPV4 = "admin/network?form=status_ipv4&operation=read"
LOGOUT = "admin/system?form=logout&operation=write"
#: the login exchange (what the lab server logs as calls before the password is checked)
LOGIN_STEPS = ("login?form=keys&operation=read", "login?form=auth&operation=read")


def call_key(path: str, data: str) -> str:
    """The call as the router receives it: tplinkrouterc6u's JSON client moves the form
    fields of ``data`` into the query (``admin/firmware?form=upgrade`` + ``operation=read``)."""
    for key, value in parse_qsl(data):
        if f"{key}=" not in path:
            path += f"&{key}={value}"
    return path


def hardware_revision(text: str) -> str | None:
    """``Archer AX21 v3.0`` -> ``3.0`` (the library's hardware_version names model + rev)."""
    head, sep, rev = text.rpartition(" v")
    if sep and head and rev[:1].isdigit():
        return rev
    low = text.lower()
    if low.startswith("v") and low[1:2].isdigit():
        return text[1:]
    return None


def _mac(value: Any) -> str | None:
    text = str(value or "").replace("-", ":").lower()
    return None if not text or text == "00:00:00:00:00:00" else text


class TplinkCollector(Collector):
    protocol = "http-tplink"
    label = "the TP-Link web API"
    ALLOWLIST = frozenset({FIRMWARE, IPV4, LOGOUT})

    def __init__(self) -> None:
        self.sent: list[str] = []

    def _read(self, address: str, cred: Credential, timeout: float) -> dict[str, Any]:
        from tplinkrouterc6u import TplinkRouter

        collector = self

        class GuardedRouter(TplinkRouter):
            logins = 0

            def _try_login(self) -> Any:
                self.logins += 1
                if self.logins > 1:  # the library's re-try after a 403: not ours to send
                    raise CollectError("auth", "TP-Link web API: the login was refused "
                                       "(not retried: one attempt per run)")
                return super()._try_login()

            def request(self, path: str, data: str, ignore_response: bool = False,
                        ignore_errors: bool = False) -> Any:
                key = call_key(path, data)
                collector.allow(key)
                collector.sent.append(key)
                return super().request(path, data, ignore_response, ignore_errors)

        port = cred.effective_port
        host = f"http://{address}" + ("" if port == 80 else f":{port}")
        router = GuardedRouter(host, cred.password or "", cred.user, None, True, timeout)
        router.authorize()
        try:
            fw = router.get_firmware()
            try:
                ipv4 = router.get_ipv4_status()
            except CollectError:
                raise
            except Exception:  # a model without status_ipv4: the firmware read stands
                ipv4 = None
        finally:
            try:
                router.logout()
            except CollectError:
                raise
            except Exception:
                pass
        return {"firmware": fw, "ipv4": ipv4}

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
        from tplinkrouterc6u.common.exception import ClientException

        self.sent = []
        checked = await guard.permit(address)
        port = cred.effective_port
        url = f"http://{checked}" + ("" if port == 80 else f":{port}")
        # the library posts with requests' module functions, which honour HTTP(S)_PROXY: the
        # password would go to the proxy, not only to the device it is bound to
        if requests.utils.get_environ_proxies(url):
            raise CollectError("refused", "TP-Link web API: an HTTP proxy is set in the "
                               "environment for this address (NO_PROXY it); nothing sent")
        try:
            async with asyncio.timeout(timeout * 8):
                got = await asyncio.to_thread(self._read, checked, cred, timeout)
        except CollectError:
            raise
        except ClientException as exc:
            text = str(exc)
            if "exceeded max attempts" in text or "attemptsAllowed': 0" in text:
                raise CollectError("locked", "TP-Link web API: login blocked after too many "
                                   "failed attempts") from None
            if "Cannot authorize" in text:
                raise CollectError("auth", f"TP-Link web API: login as {cred.user} refused "
                                   "(wrong password)") from None
            raise CollectError("unsupported", "TP-Link web API: the device does not answer "
                               "the Archer LuCI login (another TP-Link client class?)") from None
        except (TimeoutError, requests.Timeout):
            raise CollectError("timeout", f"TP-Link web API: no answer within {timeout:g} s"
                               ) from None
        except requests.ConnectionError:
            raise CollectError("unreachable", f"TP-Link web API: port {cred.effective_port} "
                               "did not answer") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise CollectError("protocol", f"TP-Link web API: unexpected answer "
                               f"({type(exc).__name__})") from None
        fw, ipv4 = got["firmware"], got["ipv4"]
        model = str(fw.model or "").strip() or None
        hw_text = str(fw.hardware_version or "").strip()
        firmware = str(fw.firmware_version or "").strip() or None
        settings: list[tuple[str, str]] = []
        mac = None
        if ipv4 is not None:
            mac = _mac(ipv4.lan_macaddr) or _mac(ipv4.wan_macaddr)
            dns = [str(d) for d in (ipv4.wan_ipv4_pridns, ipv4.wan_ipv4_snddns)
                   if d is not None and str(d) != "0.0.0.0"]  # fmt: skip
            if dns:
                # DHCP/PPPoE: the ISP's servers; static: typed in by someone
                typed = str(ipv4.wan_ipv4_conntype or "").lower() == "static"
                settings.append((f"wan.dns.{'servers' if typed else 'dynamic-servers'}",
                                 " ".join(dns)))  # fmt: skip
            if ipv4.remote is not None:
                settings.append(("remote_management", "1" if ipv4.remote else "0"))
        return Facts(
            protocol=self.protocol,
            source=self.source(cred),
            vendor="TP-Link",
            model=model,
            hardware=hardware_revision(hw_text),
            firmware=firmware,
            mac=mac,
            settings=tuple(settings),
            evidence=((f"POST {FIRMWARE}", short(
                f"model={model} hardware_version={hw_text} firmware_version={firmware}")),),
            calls=tuple(self.sent),
        )
