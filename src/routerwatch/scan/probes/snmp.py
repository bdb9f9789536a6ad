"""SNMP probe: sysDescr (1.3.6.1.2.1.1.1.0) and sysObjectID (1.3.6.1.2.1.1.2.0), only with a
community the user gave.

I/O half: :class:`SnmpProbe` — one GetRequest per exchange (v2c first, v1 when v2c got no
answer) on its own connected UDP socket made by :meth:`Guard.udp_exchange`, so the scope is
checked before the datagram leaves and only datagrams from the probed address and port are
read. A reply counts only when it is a well-formed GetResponse of the same SNMP version, with
the same community and the same (random, 31-bit) request id; anything else — garbage, other
request ids, other PDUs — is dropped and counted. pysnmp's shared dispatcher is not used: it
reads every host's replies from one unconnected socket and matches them by request id alone,
so one hostile host could answer for the others.

Pure half: :func:`build_request` (the datagram), :func:`read_reply` (a datagram → an
:class:`SnmpSystem`, or None when it is not the answer to our request) and
:func:`parse_response` (a recorded GetResponse → sysDescr text).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from routerwatch.scan.guard import Guard
from routerwatch.scan.probes.banner import printable

SYSDESCR_OID = "1.3.6.1.2.1.1.1.0"
SYSOBJECTID_OID = "1.3.6.1.2.1.1.2.0"
MAX_SYSDESCR = 512
MAX_OID = 128  # characters of a dotted sysObjectID kept
MAX_REPLY = 4096  # bytes of a reply datagram read
MAX_IGNORED = 64  # datagrams dropped per exchange before the exchange gives up
V2C, V1 = 1, 0  # pysnmp's message version numbers


class SnmpError(Exception):
    """The agent answered with an error, or nothing usable."""


@dataclass(frozen=True)
class SnmpSystem:
    """What the agent told about itself."""

    sysdescr: str | None
    sysobjectid: str | None = None


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


def _oid_text(value: Any) -> str | None:
    """A sysObjectID value → dotted text (None unless it really is an OBJECT IDENTIFIER)."""
    if type(value).__name__ != "ObjectIdentifier":
        return None
    try:
        text = ".".join(str(int(arc)) for arc in value.asTuple())
    except (TypeError, ValueError, AttributeError):
        return None
    return text if 0 < len(text) <= MAX_OID else None


def system_from_varbinds(var_binds: Any) -> SnmpSystem:
    """The varbinds of a GetResponse → SnmpSystem; SnmpError when sysDescr is missing."""
    descr: str | None = None
    oid_value: str | None = None
    missing: str | None = None
    for oid, value in var_binds or ():
        key = str(oid)
        tag = type(value).__name__
        if key == SYSDESCR_OID:
            if tag in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
                missing = f"sysDescr not available ({tag})"
                continue
            descr = decode_value(value)
        elif key == SYSOBJECTID_OID:
            oid_value = _oid_text(value)
    if descr is None:
        raise SnmpError(missing or "answer without sysDescr")
    return SnmpSystem(descr, oid_value)


def sysdescr_from_result(error_indication: Any, error_status: Any, var_binds: Any) -> str | None:
    """(errorIndication, errorStatus, varBinds) as pysnmp's get_cmd returns them → sysDescr.

    None when the agent did not answer (timeout); SnmpError when it answered with an error.
    """
    if error_indication:
        text = str(error_indication)
        if "timeout" in text.lower() or "timed out" in text.lower():
            return None
        raise SnmpError(text)
    if error_status and int(error_status):
        shown = error_status.prettyPrint() if hasattr(error_status, "prettyPrint") else error_status
        raise SnmpError(f"agent error {shown}")
    return system_from_varbinds(var_binds).sysdescr


def build_request(community: str, version: int, request_id: int) -> bytes:
    """A GetRequest for sysDescr.0 and sysObjectID.0 (pysnmp's message classes, BER)."""
    from pyasn1.codec.ber import encoder
    from pysnmp.proto import api

    module = api.PROTOCOL_MODULES[version]
    pdu = module.GetRequestPDU()
    module.apiPDU.set_defaults(pdu)
    module.apiPDU.set_request_id(pdu, request_id)
    module.apiPDU.set_varbinds(
        pdu,
        [
            (module.ObjectIdentifier(SYSDESCR_OID), module.Null("")),
            (module.ObjectIdentifier(SYSOBJECTID_OID), module.Null("")),
        ],
    )
    message = module.Message()
    module.apiMessage.set_defaults(message)
    module.apiMessage.set_community(message, community.encode("utf-8"))
    module.apiMessage.set_pdu(message, pdu)
    data: bytes = encoder.encode(message)
    return data


def _decode(datagram: bytes) -> tuple[int, Any, Any]:
    """(version, module, message) of an SNMPv1/v2c message; SnmpError when it is not one."""
    from pyasn1.codec.ber import decoder
    from pyasn1.error import PyAsn1Error
    from pysnmp.proto import api

    try:
        version = int(api.decodeMessageVersion(datagram))
        module = api.PROTOCOL_MODULES[version]
        message, rest = decoder.decode(datagram, asn1Spec=module.Message())
    except (PyAsn1Error, KeyError, ValueError, TypeError, IndexError, RecursionError) as exc:
        raise SnmpError(f"malformed SNMP message ({type(exc).__name__})") from None
    except Exception as exc:  # pyasn1/pysnmp raise their own errors on hostile BER
        raise SnmpError(f"malformed SNMP message ({type(exc).__name__})") from None
    if rest:
        raise SnmpError("malformed SNMP message (trailing bytes)")
    return version, module, message


def _system(module: Any, pdu: Any) -> SnmpSystem:
    status = int(module.apiPDU.get_error_status(pdu))
    if status:
        raise SnmpError(f"agent error {status}")
    return system_from_varbinds(module.apiPDU.get_varbinds(pdu))


def read_reply(datagram: bytes, community: str, version: int, request_id: int) -> SnmpSystem | None:
    """The answer to OUR request, or None when the datagram is anything else (garbage, another
    version, community or request id, not a GetResponse). SnmpError when it is our answer and
    says the agent has an error or no sysDescr."""
    try:
        got_version, module, message = _decode(datagram)
        if got_version != version:
            return None
        if bytes(module.apiMessage.get_community(message)) != community.encode("utf-8"):
            return None
        pdu = module.apiMessage.get_pdu(message)
        if not pdu.isSameTypeWith(module.GetResponsePDU()):
            return None
        if int(module.apiPDU.get_request_id(pdu)) != request_id:
            return None
    except SnmpError:
        return None
    except Exception:  # a decoded message whose parts are not what they claim: not ours
        return None
    return _system(module, pdu)


def parse_response(datagram: bytes) -> str | None:
    """A recorded SNMPv1/v2c GetResponse datagram → its sysDescr (SnmpError if malformed)."""
    _, module, message = _decode(datagram)
    try:
        pdu = module.apiMessage.get_pdu(message)
        return _system(module, pdu).sysdescr
    except SnmpError:
        raise
    except Exception as exc:
        raise SnmpError(f"malformed SNMP message ({type(exc).__name__})") from None


class SnmpProbe:
    """SNMP GETs for one scan: every exchange has its own socket through the Guard."""

    def __init__(self, guard: Guard, community: str, *, port: int = 161) -> None:
        self.guard = guard
        self.community = community
        self.port = port

    async def system(self, address: str, timeout: float) -> SnmpSystem | None:
        """sysDescr + sysObjectID of the agent at ``address``; None when it does not answer
        (or answers only with datagrams that are not the answer to our request)."""
        ignored = 0
        for version in (V2C, V1):
            request_id = 1 + secrets.randbelow(2**31 - 2)
            outcome: list[SnmpSystem | SnmpError] = []

            def accept(
                data: bytes,
                version: int = version,
                request_id: int = request_id,
                outcome: list[SnmpSystem | SnmpError] = outcome,
            ) -> bool:
                try:
                    answer = read_reply(data, self.community, version, request_id)
                except SnmpError as exc:
                    outcome.append(exc)
                    return True
                if answer is None:
                    return False
                outcome.append(answer)
                return True

            try:
                _, dropped = await self.guard.udp_conversation(
                    address,
                    self.port,
                    build_request(self.community, version, request_id),
                    max(timeout / 2, 0.2),
                    accept=accept,
                    max_bytes=MAX_REPLY,
                    max_ignored=MAX_IGNORED,
                )
            except ConnectionRefusedError:  # ICMP port unreachable: no agent there
                return None
            except OSError as exc:
                raise SnmpError(f"cannot send: {exc.strerror or exc}") from None
            ignored += dropped
            if outcome:
                first = outcome[0]
                if isinstance(first, SnmpError):
                    raise first
                return first
        if ignored:
            raise SnmpError(f"no valid answer; {ignored} stray or malformed datagram(s) ignored")
        return None

    async def sysdescr(self, address: str, timeout: float) -> str | None:
        """sysDescr alone (see :meth:`system`)."""
        answer = await self.system(address, timeout)
        return answer.sysdescr if answer else None

    def close(self) -> None:
        """Nothing to release: every exchange closes its own socket."""
