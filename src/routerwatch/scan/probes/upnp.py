"""UPnP probe: a unicast SSDP M-SEARCH to the target, then its device description XML.

Pure half: :func:`build_msearch`, :func:`parse_ssdp_response`, :func:`parse_description`
(defusedxml: entity declarations, external references and bombs are refused cleanly).
I/O half: :func:`probe_upnp` — one datagram to <host>:1900 through the Guard; the reply's
LOCATION is fetched only when it names the same address (and the Guard agrees), with the
bounded HTTP fetcher. :func:`discover` is the multicast path behind ``--discover`` only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as StdET
from collections.abc import Iterable

import defusedxml
from defusedxml import ElementTree as DefusedET

from routerwatch.models import UpnpDescription, replace
from routerwatch.scan.guard import Guard
from routerwatch.scan.probes.banner import printable
from routerwatch.scan.probes.http import (
    FETCH_ERRORS,
    HttpFetcher,
    describe_error,
    redirect_target,
)

SSDP_PORT = 1900
MAX_SSDP = 8192
MAX_FIELD = 256
FIELDS = {
    "manufacturer": "manufacturer",
    "modelName": "model_name",
    "modelNumber": "model_number",
    "modelDescription": "model_description",
    "friendlyName": "friendly_name",
    "serialNumber": "serial_number",
    "deviceType": "device_type",
    "UDN": "udn",
}
# Firmware-like fields some vendors add to a device (read as UpnpDescription.firmware).
FIRMWARE_FIELDS = {"firmwareVersion": "firmware", "softwareVersion": "firmware"}
MAX_EMBEDDED = 16


class UpnpError(ValueError):
    """A description that cannot or must not be read."""


# =========================================================================== pure half


def build_msearch(address: str, port: int = SSDP_PORT, st: str = "upnp:rootdevice") -> bytes:
    """A UNICAST M-SEARCH addressed to the device itself (UDA 1.1 §1.3.2: HOST is the
    device's address; no MX)."""
    host = f"[{address}]" if ":" in address else address
    return (
        "M-SEARCH * HTTP/1.1\r\n"
        f"HOST: {host}:{port}\r\n"
        'MAN: "ssdp:discover"\r\n'
        f"ST: {st}\r\n"
        "USER-AGENT: routerwatch UPnP/1.1 read-only-scan\r\n"
        "\r\n"
    ).encode("ascii")


def build_msearch_multicast(mx: int = 2, st: str = "upnp:rootdevice") -> bytes:
    """The multicast M-SEARCH of ``--discover`` (never sent unless the flag is given)."""
    return (
        "M-SEARCH * HTTP/1.1\r\n"
        "HOST: 239.255.255.250:1900\r\n"
        'MAN: "ssdp:discover"\r\n'
        f"MX: {mx}\r\n"
        f"ST: {st}\r\n"
        "\r\n"
    ).encode("ascii")


_STATUS = re.compile(r"^HTTP/1\.[01]\s+200\b", re.I)


def parse_ssdp_response(data: bytes) -> dict[str, str] | None:
    """An SSDP reply (``HTTP/1.1 200 OK`` + headers) → {lower-case header: value}, else None."""
    text = data[:MAX_SSDP].decode("utf-8", errors="replace")
    lines = re.split(r"\r\n|\n", text)
    if not lines or not _STATUS.match(lines[0].strip()):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line.strip():
            break
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.setdefault(name.strip().lower(), printable(value.strip())[:1024])
    return headers


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_description(
    xml: bytes, *, location: str | None = None, server: str | None = None
) -> UpnpDescription:
    """A UPnP device description → the root device's identity fields, with the devices of
    its deviceList tree in ``embedded`` and the TR-064 systemVersion as ``firmware``.

    Raises UpnpError for XML that is malformed or unsafe (DTD entities, external
    references — the "billion laughs" bomb ends here, cleanly, without expanding anything).
    """
    try:
        root = DefusedET.fromstring(
            xml.lstrip(), forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise UpnpError(f"unsafe XML refused ({type(exc).__name__})") from exc
    except StdET.ParseError as exc:
        raise UpnpError(f"malformed XML ({exc})") from exc
    device = next((el for el in root if _local(el.tag) == "device"), None)
    if device is None:
        device = next((el for el in root.iter() if _local(el.tag) == "device"), None)
    if device is None:
        raise UpnpError("no <device> element in the description")
    firmware = _system_version(root)
    top = _device_fields(device, location=location, server=server)
    embedded = tuple(_device_fields(d) for d in _embedded(device))[:MAX_EMBEDDED]
    if firmware and not top.firmware:
        top = replace(top, firmware=firmware)
    return replace(top, embedded=embedded)


def _text(el: StdET.Element) -> str | None:
    text = printable((el.text or "").strip())[:MAX_FIELD]
    return text or None


def _device_fields(
    device: StdET.Element, *, location: str | None = None, server: str | None = None
) -> UpnpDescription:
    values: dict[str, str | None] = {}
    for child in device:
        name = _local(child.tag)
        key = FIELDS.get(name) or FIRMWARE_FIELDS.get(name)
        if key and key not in values:
            values[key] = _text(child)
    return replace(UpnpDescription(location=location, server=server), **values)


def _embedded(device: StdET.Element) -> list[StdET.Element]:
    """The devices of ``device``'s deviceList tree, depth first (bounded)."""
    out: list[StdET.Element] = []
    stack = [device]
    while stack and len(out) < MAX_EMBEDDED:
        current = stack.pop()
        for child in current:
            if _local(child.tag) == "deviceList":
                found = [d for d in child if _local(d.tag) == "device"]
                out.extend(found)
                stack.extend(reversed(found))
    return out


def _system_version(root: StdET.Element) -> str | None:
    """TR-064 ``<systemVersion><Display>`` (AVM: ``154.07.10``), the firmware of the box."""
    for child in root:
        if _local(child.tag) == "systemVersion":
            for el in child:
                if _local(el.tag) == "Display":
                    return _text(el)
    return None


def pick_reply(replies: Iterable[bytes]) -> dict[str, str] | None:
    """The first parseable SSDP reply, preferring one with a LOCATION."""
    parsed = [h for h in (parse_ssdp_response(r) for r in replies) if h is not None]
    for headers in parsed:
        if headers.get("location"):
            return headers
    return parsed[0] if parsed else None


# =========================================================================== I/O half


async def probe_upnp(
    guard: Guard,
    fetcher: HttpFetcher,
    address: str,
    *,
    timeout: float,
    port: int = SSDP_PORT,
    seeded: dict[str, str] | None = None,
) -> tuple[UpnpDescription | None, list[str]]:
    """(description or None, errors). ``seeded`` is an SSDP reply from ``--discover``."""
    errors: list[str] = []
    headers = None
    try:
        replies = await guard.udp_exchange(
            address, port, build_msearch(address, port), timeout, max_bytes=MAX_SSDP
        )
    except ConnectionRefusedError:
        replies = []  # ICMP port unreachable: no UPnP here
    except OSError as exc:
        replies = []
        errors.append(f"udp/{port} ssdp: {exc}")
    if replies:
        headers = pick_reply(replies)
        if headers is None:
            errors.append(f"udp/{port} ssdp: unreadable reply ({len(replies[0])} bytes)")
    if headers is None:
        headers = seeded
    if headers is None:
        return None, errors
    description, more = await describe(fetcher, address, headers)
    return description, errors + more


TR064_ST = "urn:dslforum-org:device:InternetGatewayDevice:1"


async def probe_tr64(
    guard: Guard,
    fetcher: HttpFetcher,
    address: str,
    *,
    timeout: float,
    port: int = SSDP_PORT,
    known: str | None = None,
) -> tuple[UpnpDescription | None, list[str]]:
    """The TR-064 description (``tr64desc.xml``) when the device announces one: a unicast
    M-SEARCH for the DSL Forum device type; its LOCATION is fetched when it differs from
    ``known`` (the UPnP description already read). (None, []) when nothing answers."""
    try:
        replies = await guard.udp_exchange(
            address, port, build_msearch(address, port, st=TR064_ST), timeout, max_bytes=MAX_SSDP
        )
    except OSError:
        return None, []
    headers = pick_reply(replies) if replies else None
    if headers is None or not headers.get("location") or headers.get("location") == known:
        return None, []
    if TR064_ST not in headers.get("st", TR064_ST):
        return None, []  # a device answering every ST with its IGD description
    description, errors = await describe(fetcher, address, headers)
    if description.manufacturer is None and description.model_name is None:
        return None, errors
    return description, errors


async def describe(
    fetcher: HttpFetcher, address: str, headers: dict[str, str]
) -> tuple[UpnpDescription, list[str]]:
    """Fetch and parse the LOCATION of an SSDP reply (same host only)."""
    location = headers.get("location") or None
    server = headers.get("server") or None
    base = UpnpDescription(location=location, server=server)
    if not location:
        return base, []
    target = redirect_target(location, location, address)
    if target is None:
        return base, [f"upnp: LOCATION {location[:120]!r} not fetched (not this host)"]
    try:
        raw = await fetcher.fetch(target)
    except FETCH_ERRORS as exc:
        return base, [f"upnp: {target}: {describe_error(exc, fetcher.probe_timeout)}"]
    if raw.status != 200:
        return base, [f"upnp: {target}: HTTP {raw.status}"]
    if raw.truncated:
        return base, [f"upnp: {target}: description larger than {fetcher.max_body} bytes"]
    try:
        return parse_description(raw.body, location=location, server=server), []
    except UpnpError as exc:
        return base, [f"upnp: {target}: {exc}"]


async def discover(guard: Guard, timeout: float = 3.0) -> dict[str, dict[str, str]]:
    """``--discover`` only: one multicast M-SEARCH (TTL 1) → {in-scope address: SSDP headers}.

    The Guard refuses this unless the scan was started with discover=True.
    """
    found: dict[str, dict[str, str]] = {}
    for source, data in await guard.multicast_ssdp(build_msearch_multicast(), timeout):
        headers = parse_ssdp_response(data)
        if headers is not None:
            found.setdefault(source, headers)
    return found
