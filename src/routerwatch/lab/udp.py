"""UDP services: SSDP answers to unicast M-SEARCH (UDP 1900) and an SNMP sysDescr agent (161).

Both only ever answer the sender of a datagram, and only when that sender is on loopback;
both rate-limit their answers. Nothing here sends multicast.

SNMP uses pysnmp's message classes (pyasn1 BER) rather than a hand-written encoder: the
decoder rejects malformed packets for us and v1/v2c differences stay pysnmp's business.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from typing import Any, cast

from routerwatch.lab.context import DeviceContext

__all__ = ["SilentProtocol", "SnmpProtocol", "SnmpSpoofProtocol", "SsdpProtocol", "ssdp_replies"]

log = logging.getLogger("routerwatch.lab")

MAX_DATAGRAM = 2048
ROOT_DEVICE = "upnp:rootdevice"
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def _from_loopback(addr: Any) -> bool:
    try:
        return ipaddress.ip_address(addr[0]) in _LOOPBACK
    except (ValueError, IndexError, TypeError):
        return False


class _Bucket:
    """Token bucket: at most ``rate`` answers a second, bursts of ``burst``."""

    def __init__(self, rate: float = 200.0, burst: float = 50.0) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _parse_msearch(data: bytes) -> str | None:
    """The ST of a well-formed M-SEARCH, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\r\n")
    if not lines or lines[0].strip().upper() != "M-SEARCH * HTTP/1.1":
        return None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().upper()] = value.strip()
    if "ssdp:discover" not in headers.get("MAN", "").lower():
        return None
    return headers.get("ST")


def ssdp_replies(ctx: DeviceContext, st: str) -> list[bytes]:
    """The datagrams the device sends back for one search target (none when it does not
    have that type). ``ssdp:all`` gets root device, device type and UUID, as miniupnpd does."""
    spec = ctx.profile.ssdp
    assert spec is not None
    udn = f"uuid:{ctx.values['uuid']}"
    device_type = ctx.render_text(spec.device_type)
    if st == "ssdp:all":
        targets = [ROOT_DEVICE, udn, device_type]
    elif st in (ROOT_DEVICE, udn, device_type):
        targets = [st]
    else:
        return []
    host = spec.location_host or ctx.address
    location = f"http://{host}:{spec.port}{ctx.render_text(spec.path)}"
    out = []
    for target in targets:
        usn = udn if target == udn else f"{udn}::{target}"
        lines = [
            "HTTP/1.1 200 OK",
            "CACHE-CONTROL: max-age=120",
            f"ST: {target}",
            f"USN: {usn}",
            "EXT:",
            f"SERVER: {ctx.render_text(spec.server)}",
            f"LOCATION: {location}",
        ]
        if not spec.server:  # a replayed device whose SERVER header was not captured
            lines.remove("SERVER: ")
        lines += [f"{k}: {ctx.render_text(v)}" for k, v in spec.extra_headers]
        out.append(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
    return out


class _LoopbackAgent(asyncio.DatagramProtocol):
    """A UDP service of one lab device: answers loopback senders only, rate-limited."""

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx = ctx
        self.bucket = _Bucket()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def accepts(self, data: bytes, addr: Any) -> bool:
        return self.transport is not None and len(data) <= MAX_DATAGRAM and _from_loopback(addr)


class SsdpProtocol(_LoopbackAgent):
    """Answers unicast M-SEARCH like the device's UPnP daemon."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.accepts(data, addr):
            return
        assert self.transport is not None
        st = _parse_msearch(data)
        if st is None:
            return
        for reply in ssdp_replies(self.ctx, st):
            if not self.bucket.take():
                return
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable
        log.debug("ssdp %s: %s", self.ctx.address, exc)


SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"


class SnmpProtocol(_LoopbackAgent):
    """SNMP v1/v2c agent for the system group's sysDescr.0 (plus sysObjectID.0, sysName.0).

    A wrong community gets no answer at all, as real agents do."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.accepts(data, addr):
            return
        assert self.transport is not None
        try:
            reply = self.answer(data)
        except Exception as exc:  # malformed BER from a client: drop it, as agents do
            log.debug("snmp %s: bad request: %s", self.ctx.address, exc)
            return
        if reply is not None and self.bucket.take():
            self.transport.sendto(reply, addr)

    def answer(self, data: bytes) -> bytes | None:
        from pyasn1.codec.ber import decoder, encoder
        from pysnmp.proto import api

        spec = self.ctx.profile.snmp
        assert spec is not None
        version = int(api.decodeMessageVersion(data))
        if version not in api.PROTOCOL_MODULES:
            return None
        p_mod = api.PROTOCOL_MODULES[version]
        request, _rest = decoder.decode(data, asn1Spec=p_mod.Message())
        community = bytes(p_mod.apiMessage.get_community(request))
        if community != spec.community.encode():
            return None
        pdu = p_mod.apiMessage.get_pdu(request)
        if not pdu.isSameTypeWith(p_mod.GetRequestPDU()):
            return None
        response = p_mod.apiMessage.get_response(request)
        rsp_pdu = p_mod.apiMessage.get_pdu(response)
        values = {SYS_DESCR: p_mod.OctetString(self.ctx.render_text(spec.sysdescr))}
        if spec.sysobjectid:
            values[SYS_OBJECT_ID] = p_mod.ObjectIdentifier(spec.sysobjectid)
        if spec.sysname:
            values[SYS_NAME] = p_mod.OctetString(self.ctx.render_text(spec.sysname))
        varbinds = []
        missing = 0
        for index, (oid, _value) in enumerate(p_mod.apiPDU.get_varbinds(pdu), start=1):
            key = str(oid)
            if key in values:
                varbinds.append((oid, values[key]))
            elif version == api.SNMP_VERSION_1:
                varbinds.append((oid, p_mod.Null("")))
                missing = missing or index
            else:
                varbinds.append((oid, p_mod.NoSuchObject()))
        p_mod.apiPDU.set_varbinds(rsp_pdu, varbinds)
        if missing:
            p_mod.apiPDU.set_error_status(rsp_pdu, 2)  # noSuchName
            p_mod.apiPDU.set_error_index(rsp_pdu, missing)
        out: bytes = encoder.encode(response)
        return out


#: request ids sprayed around the one seen (a scanner with sequential ids uses these next)
SPOOF_IDS = range(-8, 97)
#: the requester's port and its neighbours (a scanner's other exchanges may use these)
SPOOF_PORTS = range(-4, 5)


def snmp_garbage(seed: int) -> list[bytes]:
    """Datagrams that look a little like SNMP and are not: what a parser must survive."""
    import hashlib
    import random

    rng = random.Random(hashlib.sha256(f"snmp-garbage|{seed}".encode()).digest())
    return [
        rng.randbytes(64),
        b"\x30\x82\xff\xff\x02\x01\x01",  # SEQUENCE claiming 65535 bytes, then nothing
        b"\x30" + b"\x80" * 8,  # indefinite lengths, nested
        b"\x30\x84\x7f\xff\xff\xff" + b"\x30" * 32,  # a 2 GiB length
        b"\x30\x03\x02\x01\x09",  # version 9
        b"\x00" * 16,
        ("\ufffd" * 40).encode(),
    ]


class SnmpSpoofProtocol(_LoopbackAgent):
    """Hostile SNMP host: for every GetRequest it sees it sends garbage datagrams, then
    GetResponses carrying its own sysDescr for the request ids around the one it saw, to the
    requester's port and its neighbours — but never a valid answer to the request itself.

    Against a scanner that reads all hosts' replies from one socket and matches them by
    request id alone, these answers land on the *other* hosts' requests: their identities
    are rewritten and silent hosts gain one. Loopback senders only, like every lab agent.
    """

    def __init__(self, ctx: DeviceContext) -> None:
        super().__init__(ctx)
        self.bucket = _Bucket(rate=20000.0, burst=2000.0)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.accepts(data, addr):
            return
        try:
            datagrams = self.spray(data)
        except Exception as exc:  # malformed BER from a client: drop it
            log.debug("snmp-spoof %s: bad request: %s", self.ctx.address, exc)
            return
        assert self.transport is not None
        for offset in SPOOF_PORTS:
            port = int(addr[1]) + offset
            if not 1024 <= port <= 65535 and offset:
                continue
            for datagram in datagrams:
                if not self.bucket.take():
                    return
                self.transport.sendto(datagram, (addr[0], port))

    def spray(self, data: bytes) -> list[bytes]:
        from pyasn1.codec.ber import decoder, encoder
        from pysnmp.proto import api

        spec = self.ctx.profile.snmp
        assert spec is not None
        version = int(api.decodeMessageVersion(data))
        p_mod = api.PROTOCOL_MODULES[version]
        request, _rest = decoder.decode(data, asn1Spec=p_mod.Message())
        pdu = p_mod.apiMessage.get_pdu(request)
        seen = int(p_mod.apiPDU.get_request_id(pdu))
        oids = [oid for oid, _ in p_mod.apiPDU.get_varbinds(pdu)]
        values = {SYS_DESCR: p_mod.OctetString(self.ctx.render_text(spec.sysdescr))}
        if spec.sysobjectid:
            values[SYS_OBJECT_ID] = p_mod.ObjectIdentifier(spec.sysobjectid)
        out = snmp_garbage(self.ctx.seed)
        for offset in SPOOF_IDS:
            if offset == 0:
                continue  # never the real answer: the spoofer has no identity of its own
            response = p_mod.apiMessage.get_response(request)
            rsp_pdu = p_mod.apiMessage.get_pdu(response)
            p_mod.apiPDU.set_request_id(rsp_pdu, (seen + offset) % 2**31)
            p_mod.apiPDU.set_varbinds(
                rsp_pdu, [(oid, values.get(str(oid), p_mod.Null(""))) for oid in oids]
            )
            out.append(encoder.encode(response))
        return out


class SilentProtocol(asyncio.DatagramProtocol):
    """Bound, never answers (the tarpit's UDP ports: the client waits its full timeout)."""
