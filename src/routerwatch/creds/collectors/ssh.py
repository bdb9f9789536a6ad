"""SSH (asyncssh): firmware and config facts read with the owner's shell login.

One connection, one authentication attempt (only the method the credential has: password, or
the stored private key; no agent, no ~/.ssh/config, no keyboard-interactive fallback), then a
fixed set of read-only commands chosen by the firmware family. Every command is checked
against ``ALLOWLIST`` before it is sent. Families and what they read:

* OpenWrt: ``/etc/openwrt_release``, ``/tmp/sysinfo/model``, dropbear's authorized_keys and
  the UCI files /etc/config/network, dropbear and firewall (DNS, SSH port, port forwards:
  read by the same UCI parser as an audit-config export);
* ASUSWRT (ASUS stock firmware): ``nvram get`` of productid, firmver, buildno, extendno,
  serial, MAC and the settings audit-config reads (sshd_authkeys, sshd_port, WAN DNS,
  misc_http_x, vts_rulelist);
* DD-WRT and FreshTomato: ``nvram get os_version`` and the board name, keys, DNS, forwards;
* EdgeOS / VyOS: ``show version`` through the operational-mode wrapper;
* Zyxel (ZLD) and DrayTek (DrayOS): their ``show version`` / ``sys version``.

The host key is not verified against a known_hosts file (routers regenerate keys on reset);
its fingerprint is recorded as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from routerwatch.creds.collectors.interface import (
    CollectError,
    Collector,
    Facts,
    FailureKind,
    short,
)
from routerwatch.creds.model import Credential
from routerwatch.identity import parse_identity
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

OPENWRT = (
    "cat /etc/openwrt_release",
    "cat /tmp/sysinfo/model",
    "cat /etc/dropbear/authorized_keys",
    "cat /etc/config/network",
    "cat /etc/config/dropbear",
    "cat /etc/config/firewall",
)
ASUSWRT_VARS = (
    "productid", "firmver", "buildno", "extendno", "serial_no", "lan_hwaddr",
    "sshd_authkeys", "sshd_port", "wan_dns1_x", "wan_dns2_x", "wan0_dns", "misc_http_x",
    "vts_rulelist",
)  # fmt: skip
DDWRT_VARS = (
    "os_version", "DD_BOARD", "et0macaddr", "sshd_authorized_keys", "sshd_port", "wan_dns",
    "remote_management", "forward_port",
)  # fmt: skip
TOMATO_VARS = (
    "os_version", "t_model_name", "et0macaddr", "sshd_authkeys", "sshd_port", "wan_dns",
    "remote_management", "portforward",
)  # fmt: skip
EDGEOS = ("/opt/vyatta/bin/vyatta-op-cmd-wrapper show version",)
ZYXEL = ("show version",)
DRAYTEK = ("sys version",)

FAMILIES: dict[str, tuple[str, ...]] = {
    "openwrt": OPENWRT,
    "asuswrt": tuple(f"nvram get {v}" for v in ASUSWRT_VARS),
    "ddwrt": tuple(f"nvram get {v}" for v in DDWRT_VARS),
    "tomato": tuple(f"nvram get {v}" for v in TOMATO_VARS),
    "edgeos": EDGEOS,
    "zyxel": ZYXEL,
    "draytek": DRAYTEK,
}
MAX_OUTPUT = 64 * 1024
_KV = re.compile(r"^\s*([A-Za-z][A-Za-z /_.-]*?)\s*[:=]\s*(.*?)\s*$")
_QUOTED = re.compile(r"^(\w+)='?(.*?)'?$")


def family_for(hint: DeviceIdentity) -> str | None:
    """The firmware family to read, from what the unauthenticated scan saw."""
    os_name = (hint.os or "").lower()
    vendor = (hint.vendor or "").lower()
    if "openwrt" in os_name or "openwrt" in vendor:
        return "openwrt"
    if "dd-wrt" in os_name or "dd-wrt" in vendor:
        return "ddwrt"
    if "tomato" in os_name:
        return "tomato"
    if vendor.startswith("asus"):
        return "asuswrt"
    if vendor in ("ubiquiti", "vyos"):
        return "edgeos"
    if vendor == "zyxel":
        return "zyxel"
    if vendor == "draytek":
        return "draytek"
    if vendor in ("mikrotik", "avm", "cisco", "netgear", "linksys", "d-link"):
        return None  # their SSH (if any) is a vendor CLI routerwatch has no read set for
    # Anything else with an SSH login the owner gave us is most likely OpenWrt (TP-Link and
    # unknown boards flashed with it): reading /etc/openwrt_release tells.
    return "openwrt"


def _pairs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _KV.match(line)
        if m and m.group(1).strip().lower() not in out:
            out[m.group(1).strip().lower()] = m.group(2).strip()
    return out


def parse_openwrt(out: dict[str, str]) -> dict[str, str | None]:
    rel: dict[str, str] = {}
    for line in out.get("cat /etc/openwrt_release", "").splitlines():
        m = _QUOTED.match(line.strip())
        if m:
            rel[m.group(1)] = m.group(2)
    if not rel.get("DISTRIB_RELEASE"):
        raise CollectError("unsupported", "no /etc/openwrt_release: not OpenWrt")
    board = parse_identity(out.get("cat /tmp/sysinfo/model", "").strip() or None)
    return {
        "os": rel.get("DISTRIB_ID") or "OpenWrt",
        "firmware": rel["DISTRIB_RELEASE"],
        "vendor": board.vendor, "model": board.model, "hardware": board.hardware,
    }  # fmt: skip


def _nvram(out: dict[str, str]) -> dict[str, str]:
    return {cmd.removeprefix("nvram get "): v.strip() for cmd, v in out.items()}


def parse_asuswrt(out: dict[str, str]) -> dict[str, str | None]:
    nv = _nvram(out)
    if not nv.get("firmver") or not nv.get("buildno"):
        raise CollectError("unsupported", "nvram has no firmver/buildno: not ASUSWRT")
    extend = re.sub(r"-g[0-9a-f]+$", "", nv.get("extendno", ""))
    firmware = f"{nv['firmver']}.{nv['buildno']}" + (f"_{extend}" if extend else "")
    return {"vendor": "ASUS", "model": nv.get("productid") or None, "firmware": firmware,
            "serial": nv.get("serial_no") or None, "mac": nv.get("lan_hwaddr") or None}


def parse_ddwrt(out: dict[str, str]) -> dict[str, str | None]:
    nv = _nvram(out)
    if not nv.get("os_version"):
        raise CollectError("unsupported", "nvram has no os_version: not DD-WRT")
    board = parse_identity(nv.get("DD_BOARD") or None)
    return {"os": "DD-WRT", "firmware": f"r{nv['os_version'].lstrip('r')}",
            "vendor": board.vendor, "model": board.model, "hardware": board.hardware,
            "mac": nv.get("et0macaddr") or None}


def parse_tomato(out: dict[str, str]) -> dict[str, str | None]:
    nv = _nvram(out)
    if not nv.get("os_version"):
        raise CollectError("unsupported", "nvram has no os_version: not Tomato")
    board = parse_identity(nv.get("t_model_name") or None)
    return {"os": "FreshTomato", "firmware": nv["os_version"].split()[0],
            "vendor": board.vendor, "model": board.model, "hardware": board.hardware,
            "mac": nv.get("et0macaddr") or None}


def parse_edgeos(out: dict[str, str]) -> dict[str, str | None]:
    kv = _pairs(out.get(EDGEOS[0], ""))
    if not kv.get("version"):
        raise CollectError("unsupported", "`show version` named no version")
    model = re.sub(r"\s+\d+-Port$", "", kv.get("hw model", "")).strip() or None
    vendor = "VyOS" if "vyos" in kv["version"].lower() else "Ubiquiti"
    return {"vendor": vendor, "model": model, "firmware": kv["version"],
            "serial": kv.get("hw s/n") or None}


def parse_zyxel(out: dict[str, str]) -> dict[str, str | None]:
    kv = _pairs(out.get(ZYXEL[0], ""))
    if not kv.get("firmware version"):
        raise CollectError("unsupported", "`show version` named no firmware version")
    return {"vendor": "Zyxel", "model": kv.get("model") or None,
            "firmware": kv["firmware version"].split()[0],
            "serial": kv.get("serial number") or None}


def parse_draytek(out: dict[str, str]) -> dict[str, str | None]:
    text = out.get(DRAYTEK[0], "")
    model = re.search(r"Router Model\s*:\s*(\S+)", text)
    version = re.search(r"(?:Firmware )?Version\s*:\s*(\S+)", text)
    if not version:
        raise CollectError("unsupported", "`sys version` named no version")
    return {"vendor": "DrayTek", "model": model.group(1) if model else None,
            "firmware": version.group(1)}


PARSERS: dict[str, Callable[[dict[str, str]], dict[str, str | None]]] = {
    "openwrt": parse_openwrt, "asuswrt": parse_asuswrt, "ddwrt": parse_ddwrt,
    "tomato": parse_tomato, "edgeos": parse_edgeos, "zyxel": parse_zyxel,
    "draytek": parse_draytek,
}  # fmt: skip
#: nvram/uci output that carries config facts for audit-config (the rest is identity).
_CONFIG_NVRAM = frozenset(
    {"sshd_authkeys", "sshd_authorized_keys", "sshd_port", "wan_dns1_x", "wan_dns2_x",
     "wan0_dns", "wan_dns", "misc_http_x", "remote_management", "vts_rulelist",
     "forward_port", "portforward"}
)  # fmt: skip


def config_facts(family: str, out: dict[str, str]) -> tuple[tuple[tuple[str, str], ...], str]:
    """(settings, config text) for the audit-config checks."""
    if family == "openwrt":
        keys = out.get("cat /etc/dropbear/authorized_keys", "")
        settings = tuple(
            ("dropbear.authorized_keys", line.strip())
            for line in keys.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )
        uci = "\n\n".join(out.get(c, "") for c in OPENWRT[3:] if out.get(c))
        return settings, uci
    nv = _nvram(out)
    return tuple((k, v) for k, v in nv.items() if k in _CONFIG_NVRAM and v), ""


class SshCollector(Collector):
    protocol = "ssh"
    label = "SSH"
    ALLOWLIST = frozenset(c for cmds in FAMILIES.values() for c in cmds)

    async def collect(
        self,
        address: str,
        cred: Credential,
        guard: Guard,
        *,
        hint: DeviceIdentity,
        timeout: float,
    ) -> Facts:
        import asyncio

        import asyncssh

        family = family_for(hint)
        if family is None:
            raise CollectError(
                "unsupported",
                f"SSH: no read-only command set for {hint.vendor or 'an unknown vendor'} "
                "(supported: OpenWrt, ASUSWRT, DD-WRT, FreshTomato, EdgeOS/VyOS, Zyxel, DrayTek)",
            )
        commands = [self.allow(c) for c in FAMILIES[family]]
        port = cred.effective_port
        options: dict[str, object] = {
            "username": cred.user, "known_hosts": None, "agent_path": None, "config": None,
            "connect_timeout": timeout, "login_timeout": timeout, "kbdint_auth": False,
            "gss_auth": False, "host_based_auth": False, "keepalive_interval": 0,
        }  # fmt: skip
        if cred.key:
            try:
                options["client_keys"] = [asyncssh.import_private_key(cred.key)]
            except (asyncssh.KeyImportError, ValueError):
                raise CollectError(
                    "protocol", "SSH: the stored private key cannot be read"
                ) from None
            options["preferred_auth"] = "publickey"
            options["password"] = None
        else:
            options["client_keys"] = None
            options["password"] = cred.password
            options["preferred_auth"] = "password"
        out: dict[str, str] = {}
        host_key = ""
        try:
            async with asyncio.timeout(timeout * (2 + len(commands))):
                sock = await guard.connect(address, port, timeout)
                conn = await asyncssh.connect(sock=sock, **options)
                async with conn:
                    key = conn.get_server_host_key()
                    host_key = key.get_fingerprint() if key is not None else ""
                    for cmd in commands:
                        done = await conn.run(cmd, check=False, timeout=timeout)
                        text = done.stdout if isinstance(done.stdout, str) else ""
                        if done.exit_status == 0:
                            out[cmd] = text[:MAX_OUTPUT]
        except asyncssh.PermissionDenied as exc:
            if "lock" in str(exc.reason or "").lower():
                raise CollectError("locked", f"SSH: the account {cred.user} is locked: "
                                   f"{short(str(exc.reason), 80)}") from None
            raise CollectError("auth", f"SSH: login as {cred.user} refused (wrong password "
                               "or key, or the account is locked)") from None
        except asyncssh.DisconnectError as exc:
            reason = short(str(exc.reason) if exc.reason else type(exc).__name__, 100)
            kind: FailureKind = (
                "locked" if "lock" in reason.lower() or "too many" in reason.lower()
                else "protocol"
            )
            raise CollectError(kind, f"SSH: the device closed the connection: {reason}") from None
        except TimeoutError:
            raise CollectError("timeout", f"SSH: no answer within {timeout:g} s") from None
        except ConnectionRefusedError:
            raise CollectError("unreachable", f"SSH: port {port} refused the connection") from None
        except OSError as exc:
            raise CollectError("unreachable", f"SSH: {exc.strerror or exc}") from None
        except asyncssh.Error as exc:
            raise CollectError("protocol", f"SSH: {short(str(exc), 100)}") from None
        found = PARSERS[family](out)
        settings, config_text = config_facts(family, out)
        evidence = [(f"ssh {c}", short(v)) for c, v in out.items() if v.strip()]
        if host_key:
            evidence.append(("ssh host key", host_key))
        return Facts(
            protocol=self.protocol, source=self.source(cred), settings=settings,
            config_text=config_text or None, evidence=tuple(evidence), calls=tuple(commands),
            **{k: v for k, v in found.items() if k in _FACT_FIELDS},
        )  # fmt: skip


_FACT_FIELDS = frozenset({"vendor", "model", "hardware", "firmware", "serial", "mac", "os"})

