"""ScanRecords to and from compact JSON, for the partition spill files between the read and
assess stages (one process writes, another reads; both run this code version)."""

from __future__ import annotations

from typing import Any

import orjson

from routerwatch.bulk.record import ScanRecord
from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate, UpnpDescription


def dumps(record: ScanRecord) -> bytes:
    return orjson.dumps(record)


def loads(data: bytes) -> ScanRecord:
    d = orjson.loads(data)
    o = d["observation"]
    upnp = o.get("upnp")
    obs = Observation(
        address=o["address"],
        open_ports=tuple(o.get("open_ports") or ()),
        http=tuple(_http(h) for h in o.get("http") or ()),
        banners=tuple(Banner(**b) for b in o.get("banners") or ()),
        tls=tuple(TlsCertificate(**t) for t in o.get("tls") or ()),
        upnp=UpnpDescription(**upnp) if upnp else None,
        upnp_more=tuple(UpnpDescription(**u) for u in o.get("upnp_more") or ()),
        snmp_sysdescr=o.get("snmp_sysdescr"),
        snmp_sysobjectid=o.get("snmp_sysobjectid"),
        mac=o.get("mac"),
        mac_vendor=o.get("mac_vendor"),
        errors=tuple(o.get("errors") or ()),
        elapsed=float(o.get("elapsed") or 0.0),
    )
    return ScanRecord(
        observation=obs,
        source=d["source"],
        country=d.get("country"),
        asn=d.get("asn"),
        seen=d.get("seen"),
        extra=d.get("extra") or {},
    )


def _http(h: dict[str, Any]) -> HttpObservation:
    h = dict(h)
    h["headers"] = tuple((k, v) for k, v in h.get("headers") or ())
    return HttpObservation(**h)
