"""SNMPv3 (pysnmp): sysDescr, sysObjectID and the ENTITY-MIB chassis entry, with USM.

One GET (after USM engine discovery, which pysnmp does first), no retries, no walk: only the
OIDs of ``ALLOWLIST``. The sysDescr/sysObjectID go through the same fingerprint rules as an
open SNMP answer; the ENTITY-MIB model name, software revision and serial number are read as
they are.
"""

from __future__ import annotations

from routerwatch.creds.collectors.interface import CollectError, Collector, Facts, short
from routerwatch.creds.model import Credential
from routerwatch.identity import canonical_vendor
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
_ENT = "1.3.6.1.2.1.47.1.1.1.1."
ENT_HARDWARE_REV = _ENT + "8.1"
ENT_SOFTWARE_REV = _ENT + "10.1"
ENT_SERIAL = _ENT + "11.1"
ENT_MFG = _ENT + "12.1"
ENT_MODEL = _ENT + "13.1"
OIDS = (SYS_DESCR, SYS_OBJECT_ID, ENT_HARDWARE_REV, ENT_SOFTWARE_REV, ENT_SERIAL, ENT_MFG,
        ENT_MODEL)


def _protocols(cred: Credential) -> tuple[object, object]:
    import pysnmp.hlapi.v3arch.asyncio as h

    auth = {
        "MD5": h.usmHMACMD5AuthProtocol, "SHA": h.usmHMACSHAAuthProtocol,
        "SHA224": h.usmHMAC128SHA224AuthProtocol, "SHA256": h.usmHMAC192SHA256AuthProtocol,
        "SHA384": h.usmHMAC256SHA384AuthProtocol, "SHA512": h.usmHMAC384SHA512AuthProtocol,
    }[cred.auth_protocol.upper()]  # fmt: skip
    priv = {
        "AES": h.usmAesCfb128Protocol, "AES192": h.usmAesCfb192Protocol,
        "AES256": h.usmAesCfb256Protocol, "DES": h.usmDESPrivProtocol,
        "NONE": h.usmNoPrivProtocol,
    }[cred.priv_protocol.upper()]  # fmt: skip
    return auth, priv


def _failure(indication: str, user: str, timeout: float) -> CollectError:
    low = indication.lower()
    if "timeout" in low or "no snmp response" in low:
        return CollectError("timeout", f"SNMPv3: no answer within {timeout:g} s (wrong "
                            "privacy passphrase, or SNMP off)")
    if "unknown" in low and "user" in low:
        return CollectError("auth", f"SNMPv3: the device does not know the user {user}")
    if "digest" in low or "authentication" in low or "decrypt" in low:
        return CollectError("auth", f"SNMPv3: authentication as {user} failed (wrong "
                            "passphrase or protocol)")
    return CollectError("protocol", f"SNMPv3: {short(indication, 100)}")


class Snmpv3Collector(Collector):
    protocol = "snmpv3"
    label = "SNMPv3"
    ALLOWLIST = frozenset(OIDS)

    async def collect(
        self,
        address: str,
        cred: Credential,
        guard: Guard,
        *,
        hint: DeviceIdentity,
        timeout: float,
    ) -> Facts:
        import pysnmp.hlapi.v3arch.asyncio as h

        oids = [self.allow(o) for o in OIDS]
        checked = await guard.permit(address)  # scope + rate limit; pysnmp owns the socket
        auth, priv = _protocols(cred)
        user = h.UsmUserData(
            cred.user, authKey=cred.auth_key, authProtocol=auth,
            privKey=cred.priv_key if cred.priv_protocol.upper() != "NONE" else None,
            privProtocol=priv,
        )  # fmt: skip
        engine = h.SnmpEngine()
        try:
            target = await h.UdpTransportTarget.create(
                (checked, cred.effective_port), timeout=timeout, retries=0
            )
            indication, status, _index, binds = await h.get_cmd(
                engine, user, target, h.ContextData(),
                *(h.ObjectType(h.ObjectIdentity(o)) for o in oids),
            )  # fmt: skip
        except OSError as exc:
            raise CollectError("unreachable", f"SNMPv3: {exc.strerror or exc}") from None
        finally:
            engine.close_dispatcher()
        if indication:
            raise _failure(str(indication), cred.user, timeout)
        if status and not binds:
            raise CollectError("protocol", f"SNMPv3: error status {status.prettyPrint()}")
        values: dict[str, str] = {}
        for name, value in binds:
            tag = type(value).__name__
            if tag in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
                continue
            text = value.prettyPrint()
            if text:
                values[str(name)] = text
        if not values:
            raise CollectError("unsupported", "SNMPv3: none of the system/entity objects answered")
        mfg = values.get(ENT_MFG)
        return Facts(
            protocol=self.protocol,
            source=self.source(cred),
            vendor=canonical_vendor(mfg) if mfg else None,
            model=values.get(ENT_MODEL),
            hardware=values.get(ENT_HARDWARE_REV),
            firmware=values.get(ENT_SOFTWARE_REV),
            serial=values.get(ENT_SERIAL),
            sysdescr=values.get(SYS_DESCR),
            sysobjectid=values.get(SYS_OBJECT_ID),
            evidence=tuple((f"snmpv3 get {oid}", short(v)) for oid, v in values.items()),
            calls=tuple(f"GET {o}" for o in oids),
        )
