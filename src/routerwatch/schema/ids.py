"""Stable identities: device keys, finding ids, run ids and knowledge-base snapshot ids.

A device key names what identifies the box across address changes, and says what it was built
from: ``mac:00:11:22:33:44:55``, ``udn:uuid:…``, ``serial:<manufacturer>/<model>/<serial>``,
``snmp-engine:<hex>``, ``tls-key:<sha256 hex>``, and only as the last resort
``address:<ip>``. Devices known only from a description (``check``, an inventory row) get
``asset:<id>``, ``mac:…``, ``address:…`` or ``description:<hash of vendor/model/hardware/fw>``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from routerwatch.models import DeviceIdentity, Observation

_HEX = re.compile(r"[0-9a-f]")
_PLACEHOLDER = re.compile(r"^(.)\1*$|^(0123456789|123456789|12345678|1234)$")


def normalise_mac(text: str | None) -> str | None:
    """``AA-BB-CC-DD-EE-FF`` / ``aabb.ccdd.eeff`` → ``aa:bb:cc:dd:ee:ff``; None when it is not
    a usable unicast MAC (all zeros, broadcast, multicast)."""
    digits = "".join(_HEX.findall((text or "").lower()))
    if len(digits) != 12 or len((text or "").strip()) > 17:
        return None
    if digits in ("000000000000", "ffffffffffff") or int(digits[1], 16) & 1:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _udn(text: str | None) -> str | None:
    value = (text or "").strip().lower()
    if not value.startswith("uuid:"):
        value = "uuid:" + value if value else ""
    body = value[5:].replace("-", "")
    return value if body and set(body) - {"0"} else None


def _serial(obs: Observation) -> str | None:
    u = obs.upnp
    serial = (u.serial_number or "").strip() if u is not None else ""
    if u is None or len(serial) < 4 or _PLACEHOLDER.match(serial.lower()):
        return None
    maker = (u.manufacturer or "").strip().lower()
    model = (u.model_name or "").strip().lower()
    return f"{maker}/{model}/{serial}"


def _key_candidates(obs: Observation) -> list[str]:
    """Every key the observation allows, most stable first, the address last."""
    out: list[str] = []
    mac = normalise_mac(obs.mac)
    if mac:
        out.append(f"mac:{mac}")
    udn = _udn(obs.upnp.udn) if obs.upnp is not None else None
    if udn:
        out.append(f"udn:{udn}")
    serial = _serial(obs)
    if serial:
        out.append(f"serial:{serial}")
    engine = (obs.snmp_engine_id or "").strip().lower()
    if engine and set(engine) - {"0"}:
        out.append(f"snmp-engine:{engine}")
    for cert in sorted(obs.tls, key=lambda c: c.port):
        if cert.key_sha256:
            out.append(f"tls-key:{cert.key_sha256.lower()}")
            break
    out.append(f"address:{obs.address}")
    return out


def device_key(obs: Observation) -> str:
    """The most stable key the observation allows (MAC, UPnP UDN, UPnP serial, SNMP engine id,
    TLS key fingerprint, then the address)."""
    return _key_candidates(obs)[0]


def device_keys(observations: Sequence[Observation]) -> list[str]:
    """The keys of the hosts of one scan: each host's most stable key that no other host of the
    scan shares. Firmware often ships one TLS key (or a default UDN/serial) on every unit, so a
    value seen on two hosts identifies neither; those hosts fall back to their next key."""
    candidates = [_key_candidates(o) for o in observations]
    seen = Counter(k for keys in candidates for k in set(keys))
    return [next((k for k in keys if seen[k] == 1), keys[-1]) for keys in candidates]


def description_key(identity: DeviceIdentity) -> str:
    """``description:<16 hex>`` from the normalised vendor, model, hardware and firmware."""
    text = "|".join(
        (v or "").strip().lower()
        for v in (identity.vendor, identity.model, identity.hardware, identity.firmware)
    )
    return "description:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def asset_key(
    identity: DeviceIdentity,
    *,
    asset: str | None = None,
    mac: str | None = None,
    address: str | None = None,
) -> str:
    """The key of a described device (``check``, an inventory row): the asset id the owner
    gave, else its MAC, else its address, else a hash of the description."""
    if asset and asset.strip():
        return f"asset:{asset.strip()}"
    norm = normalise_mac(mac)
    if norm:
        return f"mac:{norm}"
    if address and address.strip():
        return f"address:{address.strip()}"
    return description_key(identity)


def finding_id(key: str, ref: str) -> str:
    """``<device key>#<CVE id or indicator rule>``: the same finding on the same box in any run."""
    return f"{key}#{ref}"


def new_run_id(now: datetime | None = None) -> str:
    """``20261203T182233Z-9f3a1c2e``: sortable by start time, unique by its random part."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
