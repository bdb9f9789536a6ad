"""One emulated host: its address, profile and the per-host values its pages show.

MAC address, serial number and UPnP UUID are derived from (seed, profile, address), so a lab
started twice with the same seed serves byte-identical pages. The device's true identity is
not among the values: pages show only what the profile's ``vars`` spell out.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field

from routerwatch.lab.profiles import DeviceProfile, page_text

__all__ = ["DeviceContext"]

_VAR = re.compile(rb"\{\{([a-z_][a-z0-9_]*)\}\}")


@dataclass
class DeviceContext:
    """Everything a server needs to answer as one device."""

    address: str
    profile: DeviceProfile
    seed: int = 0
    values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(f"{self.seed}|{self.profile.id}|{self.address}".encode()).digest()
        oui = self.profile.vars.get("oui", "02:00:00").upper()
        mac = oui + ":" + ":".join(f"{b:02X}" for b in digest[:3])
        base = {
            "address": self.address,
            "mac": mac,
            "mac_hex": mac.replace(":", ""),
            "mac_dash": mac.replace(":", "-"),
            "mac_lower": mac.lower(),
            "serial": digest[3:9].hex().upper(),
            "uuid": str(uuid.UUID(bytes=digest[9:25], version=4)),
            "nonce": digest[25:32].hex(),
            "upnp_port": str(self.profile.ssdp.port) if self.profile.ssdp else "",
        }
        base["upnp_serial"] = base["serial"]
        # The truth label (profile.identity) is never a template value: what a device says about
        # itself is written out in its vars (or replayed from a capture), so renaming the truth
        # makes the end-to-end identification test fail instead of following along.
        merged = dict(base)
        for key, value in self.profile.vars.items():
            merged[key] = self._sub(value.encode(), merged).decode()
        self.values = merged

    @staticmethod
    def _sub(data: bytes, values: dict[str, str]) -> bytes:
        def repl(m: re.Match[bytes]) -> bytes:
            key = m.group(1).decode()
            return values[key].encode() if key in values else m.group(0)

        return _VAR.sub(repl, data)

    def render(self, data: bytes) -> bytes:
        """Replace ``{{name}}`` with this host's values (unknown names stay as written)."""
        return self._sub(data, self.values) if b"{{" in data else data

    def render_text(self, text: str) -> str:
        return self.render(text.encode("utf-8")).decode("utf-8")

    def body(self, inline: bytes | None, body_file: str | None, template: bool = True) -> bytes:
        data = page_text(body_file) if body_file is not None else (inline or b"")
        return self.render(data) if template else data
