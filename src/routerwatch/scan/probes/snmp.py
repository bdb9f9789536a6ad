"""SNMP probe: sysDescr (1.3.6.1.2.1.1.1.0), only with a community the user gave.

I/O half: :class:`SnmpProbe` — pysnmp 7's asyncio v1/v2c GET (v2c first, v1 when v2c got no
answer), sent only after the Guard permitted the address. Pure half: :func:`sysdescr_from_result`
(what get_cmd returned → text) and :func:`parse_response` (a recorded response datagram → text).
"""

from __future__ import annotations

import asyncio
from typing import Any

from routerwatch.scan.guard import Guard
from routerwatch.scan.probes.banner import printable

SYSDESCR_OID = "1.3.6.1.2.1.1.1.0"
MAX_SYSDESCR = 512


class SnmpError(Exception):
    """The agent answered with an error, or nothing usable."""


def decode_value(value: Any) -> str:
    """An SNMP OCTET STRING (or anything printable) → bounded printable text."""
    if hasattr(value, "asOctets"):
        raw = value.asOctets()
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        raw = str(value).encode("utf-8", "replace")
    text = printable(raw.decode("utf-8", errors="backslashreplace")).strip()
    return text[:MAX_SYSDESCR]


def sysdescr_from_result(error_indication: Any, error_status: Any, var_binds: Any) -> str | None:
    """get_cmd's (errorIndication, errorStatus, varBinds) → sysDescr text.

    None when the agent did not answer (timeout); SnmpError when it answered with an error
    (wrong community on v2c agents is usually silence, so that is None too).
    """
    if error_indication:
        text = str(error_indication)
        if "timeout" in text.lower() or "timed out" in text.lower():
            return None
        raise SnmpError(text)
    if error_status and int(error_status):
        shown = error_status.prettyPrint() if hasattr(error_status, "prettyPrint") else error_status
        raise SnmpError(f"agent error {shown}")
    for oid, value in var_binds or ():
        if str(oid) != SYSDESCR_OID:
            continue
        tag = type(value).__name__
        if tag in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
            raise SnmpError(f"sysDescr not available ({tag})")
        return decode_value(value)
    raise SnmpError("answer without sysDescr")


def parse_response(datagram: bytes) -> str | None:
    """A recorded SNMPv1/v2c GetResponse datagram → its sysDescr (SnmpError if malformed)."""
    from pyasn1.codec.ber import decoder
    from pyasn1.error import PyAsn1Error
    from pysnmp.proto import api

    try:
        version = int(api.decodeMessageVersion(datagram))
        module = api.PROTOCOL_MODULES[version]
        message, _ = decoder.decode(datagram, asn1Spec=module.Message())
        pdu = module.apiMessage.get_pdu(message)
        status = module.apiPDU.get_error_status(pdu)
        binds = module.apiPDU.get_varbinds(pdu)
    except (PyAsn1Error, KeyError, ValueError, TypeError) as exc:
        raise SnmpError(f"malformed SNMP message ({exc})") from exc
    return sysdescr_from_result(None, status, binds)


class SnmpProbe:
    """One pysnmp dispatcher per scan (created on first use); :meth:`close` at the end."""

    def __init__(self, guard: Guard, community: str, *, port: int = 161) -> None:
        self.guard = guard
        self.community = community
        self.port = port
        self._dispatcher: Any = None

    async def sysdescr(self, address: str, timeout: float) -> str | None:
        from pysnmp.error import PySnmpError
        from pysnmp.hlapi.v1arch.asyncio import (
            CommunityData,
            SnmpDispatcher,
            Udp6TransportTarget,
            UdpTransportTarget,
            get_cmd,
        )
        from pysnmp.proto.rfc1902 import Null, ObjectName

        if self._dispatcher is None:
            self._dispatcher = SnmpDispatcher()
        for mp_model in (1, 0):  # v2c, then v1
            checked = await self.guard.permit(address)  # scope + rate before each request
            target_cls = Udp6TransportTarget if ":" in checked else UdpTransportTarget
            target = await target_cls.create(
                (checked, self.port), timeout=max(timeout / 2, 0.2), retries=0
            )
            try:
                async with asyncio.timeout(timeout):
                    indication, status, _index, binds = await get_cmd(
                        self._dispatcher,
                        CommunityData(self.community, mpModel=mp_model),
                        target,
                        (ObjectName(SYSDESCR_OID), Null("")),
                    )
            except PySnmpError as exc:
                raise SnmpError(str(exc)) from exc
            text = sysdescr_from_result(indication, status, binds)
            if text is not None:
                return text
        return None

    def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.transport_dispatcher.close_dispatcher()
            self._dispatcher = None
