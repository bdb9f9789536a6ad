"""NETGEAR SOAP API (pynetgear): ``DeviceInfo GetInfo`` and ``WANIPConnection GetInfo``.

The SOAP service the NETGEAR Genie/Nighthawk apps use (``/soap/server_sa/`` on TCP 5000, or 80;
R6xxx/R7xxx/R8xxx Nighthawk, Orbi, WNDR/WNR …): ``DeviceConfig SOAPLogin`` (login v2: a
session cookie), then SOAP actions with that cookie. pynetgear re-logs in and re-tries on a
401, a timeout, an SSL error or a 503, and falls back from login v2 to v1 (``Authenticate``);
our subclass sends login v2 **once**, never re-tries, and checks every action against
``ALLOWLIST`` before it is sent. pynetgear has no logout (a NETGEAR SOAP session ends by
itself). Runs in a worker thread (pynetgear uses requests).
"""

from __future__ import annotations

import asyncio
from typing import Any

from routerwatch.creds.collectors.interface import CollectError, Collector, Facts, short
from routerwatch.creds.model import Credential
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

ACTIONS = (
    ("DeviceConfig:1", "SOAPLogin"),
    ("DeviceInfo:1", "GetInfo"),
    ("WANIPConnection:1", "GetInfo"),
)


def _clean(value: Any) -> str | None:
    text = str(value or "").strip()
    return None if not text or text.lower() in ("n/a", "unknown", "<unknown>", "--") else text


class NetgearCollector(Collector):
    protocol = "http-netgear"
    label = "the NETGEAR SOAP API"
    ALLOWLIST = frozenset(f"{s} {a}" for s, a in ACTIONS)

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failure: str | None = None

    def _read(self, address: str, cred: Credential, timeout: float) -> dict[str, Any]:
        import requests
        from pynetgear import Netgear

        collector = self

        class GuardedNetgear(Netgear):
            tried = False

            def login(self) -> bool:
                if self.tried:  # pynetgear logs in again after a 401: one attempt per run
                    return False
                self.tried = True
                self._logging_in = True
                try:
                    return bool(self.login_v2())  # v1 sends the password in a SOAP body too
                finally:
                    self._logging_in = False

            def _make_request(self, service: str, method: str, params: Any = None,
                              body: str = "", need_auth: bool = True,
                              check: bool = True) -> Any:
                collector.allow(f"{service} {method}")
                collector.sent.append(f"{service} {method}")
                return super()._make_request(service, method, params, body, need_auth, check)

            def _try_request(self, message: str, service: str, method: str, params: Any,
                             need_auth: bool = True, check: bool = True,
                             retry: bool = False) -> Any:
                return super()._try_request(message, service, method, params, need_auth,
                                            check, retry=True)  # never the library's re-try

            def _post_request(self, headers: dict[str, str], message: str) -> Any:
                try:
                    # never through an HTTP(S)_PROXY of the environment: the login carries
                    # the password, which goes to the bound device only
                    resp = requests.post(self.soap_url, headers=headers, data=message,
                                         timeout=timeout, verify=False, allow_redirects=False,
                                         proxies={"http": None, "https": None})  # type: ignore[dict-item]  # fmt: skip
                except requests.Timeout:
                    collector.failure = "timeout"
                    raise
                except requests.ConnectionError:
                    collector.failure = "unreachable"
                    raise
                if resp.status_code == 401 or "<ResponseCode>401</ResponseCode>" in resp.text:
                    collector.failure = collector.failure or "auth"
                return resp

        nt = GuardedNetgear(password=cred.password, host=address, user=cred.user,
                            port=cred.effective_port, ssl=cred.effective_port in (443, 5555))
        if not nt.login():
            return {}
        info = nt.get_info(use_cache=False) or {}
        wan = nt.get_wan_ip_con_info() or {}
        return {"info": info, "wan": wan}

    async def collect(
        self,
        address: str,
        cred: Credential,
        guard: Guard,
        *,
        hint: DeviceIdentity,
        timeout: float,
    ) -> Facts:
        self.sent, self.failure = [], None
        checked = await guard.permit(address)
        try:
            async with asyncio.timeout(timeout * 6):
                got = await asyncio.to_thread(self._read, checked, cred, timeout)
        except CollectError:
            raise
        except TimeoutError:
            raise CollectError("timeout", f"NETGEAR SOAP API: no answer within {timeout:g} s"
                               ) from None
        info = got.get("info") or {}
        if not info:
            kind = self.failure or "protocol"
            text = {
                "auth": f"login as {cred.user} refused (wrong password)",
                "timeout": f"no answer within {timeout:g} s",
                "unreachable": f"port {cred.effective_port} did not answer",
            }.get(kind, "no usable DeviceInfo answer (unsupported model or API off?)")
            raise CollectError(kind, f"NETGEAR SOAP API: {text}")  # type: ignore[arg-type]
        wan = got.get("wan") or {}
        settings: list[tuple[str, str]] = []
        dns = _clean(wan.get("NewDNSServers"))
        if dns:
            # the answer does not say whether they were typed in or came from the ISP: read
            # as obtained (the DNS rule then reports an unknown one with low certainty)
            settings.append(("wan.dns.dynamic-servers", " ".join(dns.replace(",", " ").split())))
        mac = _clean(wan.get("NewMACAddress"))
        model = _clean(info.get("ModelName"))
        firmware = _clean(info.get("Firmwareversion"))
        hardware = _clean(info.get("Hardwareversion"))
        return Facts(
            protocol=self.protocol,
            source=self.source(cred),
            vendor="NETGEAR",
            model=model,
            # NETGEAR reports the model again as "Hardwareversion" (R7000 -> "R7000")
            hardware=None if hardware and model and hardware.upper() == model.upper()
            else hardware,
            firmware=firmware,
            serial=_clean(info.get("SerialNumber")),
            mac=mac.lower() if mac else None,
            settings=tuple(settings),
            evidence=(("soap DeviceInfo:1 GetInfo", short(
                f"ModelName={model} Firmwareversion={firmware}")),),
            calls=tuple(self.sent),
        )
