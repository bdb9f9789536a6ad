"""One credential: what protocol it is for, which device (or site) it is bound to, the secret.

The secret fields never appear in ``repr``, ``public()`` or any error text; only the store
(encrypted) and the collector of the bound device ever read them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "ssh", "snmpv3", "routeros", "tr064", "http-tplink", "http-netgear", "http-asus"
]
KINDS: tuple[str, ...] = (
    "ssh", "snmpv3", "routeros", "tr064", "http-tplink", "http-netgear", "http-asus"
)
#: The port each protocol uses unless the credential names another.
DEFAULT_PORTS: dict[str, int] = {"ssh": 22, "snmpv3": 161, "routeros": 8728, "tr064": 49000,
                                 "http-tplink": 80, "http-netgear": 5000, "http-asus": 80}
SNMP_AUTH = ("SHA", "SHA224", "SHA256", "SHA384", "SHA512", "MD5")
SNMP_PRIV = ("AES", "AES192", "AES256", "DES", "none")
#: Kinds asked about and not implemented (see docs/credentials.md).
NOT_SUPPORTED = {
    "http-linksys": "Linksys web API (no maintained client library)",
    "http-dlink": "D-Link web API (no maintained client library)",
}
_KEY = re.compile(r"^(mac|udn|serial|snmp-engine|tls-key):\S+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:/-]{0,79}$")


class CredentialError(ValueError):
    """A credential (or the store) is unusable; the message is one line and holds no secret."""


@dataclass(frozen=True)
class Binding:
    """Where a credential may be sent: one address, one device key, or a site's network."""

    device: str | None = None  # an IP address, or a device key such as "mac:00:11:22:33:44:55"
    site: str | None = None  # a network in CIDR form: every address in it (within the scope)

    def __post_init__(self) -> None:
        if (self.device is None) == (self.site is None):
            raise CredentialError("a credential is bound to exactly one --device or --site")
        if self.device is not None and self.device.lower().startswith("mac:"):
            from routerwatch.schema.ids import normalise_mac

            mac = normalise_mac(self.device[4:])
            if mac is None:
                raise CredentialError(f"--device {self.device!r}: not a unicast MAC address")
            object.__setattr__(self, "device", "mac:" + mac)  # as device keys write it
        if self.device is not None and not _KEY.match(self.device):
            try:
                ipaddress.ip_address(self.device)
            except ValueError:
                raise CredentialError(
                    f"--device {self.device!r}: not an IP address or device key "
                    "(mac:…, udn:…, serial:…, snmp-engine:…, tls-key:…)"
                ) from None
        if self.site is not None:
            try:
                ipaddress.ip_network(self.site, strict=False)
            except ValueError:
                raise CredentialError(f"--site {self.site!r}: not a network (CIDR)") from None

    def text(self) -> str:
        return f"device {self.device}" if self.device else f"site {self.site}"

    def covers(self, address: str, keys: tuple[str, ...] = ()) -> bool:
        """True when a device at ``address`` with the device ``keys`` is bound by this."""
        if self.device is not None:
            if self.device in keys:
                return True
            try:
                return ipaddress.ip_address(self.device) == ipaddress.ip_address(address)
            except ValueError:
                return False
        assert self.site is not None
        try:
            return ipaddress.ip_address(address) in ipaddress.ip_network(self.site, strict=False)
        except ValueError:
            return False

    @property
    def specific(self) -> int:
        """Higher binds tighter: a device credential wins over a site credential."""
        return 1 if self.device else 0


@dataclass(frozen=True)
class Credential:
    """One stored credential. ``password``/``key``/``auth_key``/``priv_key`` are secrets."""

    name: str
    kind: Kind
    binding: Binding
    user: str
    port: int | None = None
    password: str | None = field(default=None, repr=False)  # all but SNMPv3
    key: str | None = field(default=None, repr=False)  # SSH private key (OpenSSH/PEM text)
    auth_key: str | None = field(default=None, repr=False)  # SNMPv3 authentication passphrase
    priv_key: str | None = field(default=None, repr=False)  # SNMPv3 privacy passphrase
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            hint = NOT_SUPPORTED.get(self.kind)
            why = f"{hint} is not supported yet" if hint else f"use one of {', '.join(KINDS)}"
            raise CredentialError(f"kind {self.kind!r}: {why}")
        if not _NAME.match(self.name):
            raise CredentialError(
                f"name {self.name!r}: 1-80 letters, digits and . _ @ : / - (starting with a "
                "letter or digit)"
            )
        if not self.user or len(self.user) > 128 or any(c in self.user for c in "\r\n\x00"):
            raise CredentialError("user: 1-128 characters on one line")
        if self.port is not None and not 0 < self.port < 65536:
            raise CredentialError(f"port {self.port}: must be 1-65535")
        if self.kind == "snmpv3":
            if self.auth_protocol.upper() not in SNMP_AUTH:
                raise CredentialError(f"auth protocol: one of {', '.join(SNMP_AUTH)}")
            if self.priv_protocol.upper() not in {p.upper() for p in SNMP_PRIV}:
                raise CredentialError(f"priv protocol: one of {', '.join(SNMP_PRIV)}")
            if not self.auth_key or len(self.auth_key) < 8:
                raise CredentialError("SNMPv3 needs an authentication passphrase (8+ chars)")
            if self.priv_protocol.lower() != "none" and (
                not self.priv_key or len(self.priv_key) < 8
            ):
                raise CredentialError("SNMPv3 needs a privacy passphrase (8+ chars)")
        elif self.kind == "ssh":
            if not self.password and not self.key:
                raise CredentialError("SSH needs a password or a private key")
        elif not self.password:
            raise CredentialError(f"{self.kind} needs a password")

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.kind]

    def public(self) -> dict[str, Any]:
        """What `creds list` shows: everything except the secrets (only whether they exist)."""
        secrets = [n for n in ("password", "key", "auth_key", "priv_key") if getattr(self, n)]
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "bound_to": self.binding.text(),
            "user": self.user,
            "port": self.effective_port,
            "secrets": secrets,
        }
        if self.kind == "snmpv3":
            out["auth_protocol"] = self.auth_protocol.upper()
            out["priv_protocol"] = self.priv_protocol.upper()
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything, secrets included: only ever written encrypted (routerwatch.creds.store)."""
        return {
            "name": self.name, "kind": self.kind, "device": self.binding.device,
            "site": self.binding.site, "user": self.user, "port": self.port,
            "password": self.password, "key": self.key, "auth_key": self.auth_key,
            "priv_key": self.priv_key, "auth_protocol": self.auth_protocol,
            "priv_protocol": self.priv_protocol,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credential:
        try:
            return cls(
                name=str(data["name"]),
                kind=data["kind"],
                binding=Binding(device=data.get("device"), site=data.get("site")),
                user=str(data["user"]),
                port=data.get("port"),
                password=data.get("password"),
                key=data.get("key"),
                auth_key=data.get("auth_key"),
                priv_key=data.get("priv_key"),
                auth_protocol=str(data.get("auth_protocol") or "SHA"),
                priv_protocol=str(data.get("priv_protocol") or "AES"),
            )
        except (KeyError, TypeError) as exc:
            raise CredentialError(f"credential store entry is malformed ({exc})") from None

    def secrets(self) -> list[str]:
        """The secret values (tests grep outputs for them; the log filter redacts them)."""
        return [s for s in (self.password, self.key, self.auth_key, self.priv_key) if s]


def pick(creds: list[Credential], address: str, keys: tuple[str, ...] = ()) -> list[Credential]:
    """The credentials bound to a device, one per protocol: a device binding wins over a site
    binding, then the earlier stored one."""
    best: dict[str, Credential] = {}
    for c in creds:
        if not c.binding.covers(address, keys):
            continue
        held = best.get(c.kind)
        if held is None or c.binding.specific > held.binding.specific:
            best[c.kind] = c
    return [best[k] for k in KINDS if k in best]
