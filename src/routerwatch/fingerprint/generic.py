"""Generic, data-driven identification: what devices say about themselves in standard fields.

Vendor rules (``rules/*.yaml``, Recog) read vendor-specific strings. Before them, this module
reads the fields whose meaning is fixed by a standard, for every device:

* UPnP descriptions - the root device, every embedded device of its deviceList tree and
  further descriptions such as TR-064's ``tr64desc.xml``: ``manufacturer`` through the vendor
  vocabulary (``AVM Berlin``, ``Sagemcom Broadband SAS``), ``modelName`` / ``modelNumber`` when
  they name a model and not a device class, TR-064 ``systemVersion`` / ``softwareVersion`` as
  firmware;
* the SSDP ``SERVER`` header and HTTP ``Server`` header: product tokens after the OS and
  UPnP stack tokens are dropped;
* SNMP ``sysObjectID``: the IANA private enterprise number (PEN) names the maker
  (``data/pen.tsv``, derived from the IANA registry); ``sysDescr``: a vendor name in front;
* TLS certificates: the subject's or issuer's organisation (``O=``);
* HTTP page titles and realms that start with a vendor name.

A firmware project named where the maker belongs (``DD-WRT``, ``OpenWrt``, ``Tomato``) is
reported as the device's ``os``, never as its vendor: the hardware maker comes from elsewhere
(or stays unknown, and then the engine shows the project as the vendor).

Each hit carries a synthetic rule (``generic.*``) so the engine merges it like any other
evidence; the weights are below the vendor rules' so a specific rule wins a disagreement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import yaml

from routerwatch.fingerprint.rules import Rule
from routerwatch.identity.vendors import (
    canonical_vendor,
    infer_vendor,
    model_family,
    split_vendor_prefix,
)
from routerwatch.models import Observation, UpnpDescription

__all__ = ["GENERIC_RULES", "GenericHit", "firmware_os", "generic_hits", "pen_vendor"]


def _rule(rid: str, source: str, weight: float, description: str) -> Rule:
    return Rule(
        id=f"generic.{rid}",
        sources=(source,),
        regex=re.compile(""),
        weight=weight,
        description=description,
        references=("docs/fingerprints.md#generic-identification",),
        origin="generic",
    )


GENERIC_RULES = {
    "upnp-manufacturer": _rule(
        "upnp-manufacturer", "upnp", 0.8, "UPnP manufacturer via the vendor vocabulary"
    ),
    "upnp-model": _rule("upnp-model", "upnp", 0.75, "UPnP modelName/modelNumber naming a model"),
    "upnp-firmware": _rule("upnp-firmware", "upnp", 0.7, "TR-064 systemVersion / softwareVersion"),
    "server-product": _rule(
        "server-product", "upnp.server", 0.55, "product token of an SSDP/HTTP Server header"
    ),
    "snmp-pen": _rule("snmp-pen", "snmp.sysobjectid", 0.7, "IANA enterprise number of sysObjectID"),
    "snmp-sysdescr": _rule("snmp-sysdescr", "snmp.sysdescr", 0.6, "vendor name in sysDescr"),
    "tls-organisation": _rule(
        "tls-organisation", "tls.subject", 0.45, "organisation of a TLS certificate"
    ),
    "http-status-page": _rule(
        "http-status-page", "http.body", 0.5, "model/firmware rows of a status page"
    ),
    "banner-os": _rule("banner-os", "banner.telnet", 0.5, "firmware project named in a banner"),
    "http-vendor-text": _rule(
        "http-vendor-text", "http.title", 0.5, "page title or realm starting with a vendor"
    ),
}


@dataclass(frozen=True)
class _Vocab:
    firmware_os: dict[str, str]  # casefolded spelling -> project name
    generic_models: re.Pattern[str]
    stack_tokens: re.Pattern[str]


@cache
def _vocab() -> _Vocab:
    path = resources.files("routerwatch.fingerprint").joinpath("data/generic.yaml")
    data = yaml.safe_load(path.read_text("utf-8"))
    return _Vocab(
        firmware_os={str(k).casefold(): str(v) for k, v in data["firmware_os"].items()},
        generic_models=re.compile("|".join(f"(?:{p})" for p in data["generic_models"]), re.I),
        stack_tokens=re.compile(str(data["stack_token"])),
    )


@cache
def _pen_table() -> dict[int, str]:
    text = resources.files("routerwatch.fingerprint").joinpath("data/pen.tsv").read_text("utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pen, _org, vendor = line.split("\t")[:3]
        table[int(pen)] = vendor
    return table


_ENTERPRISE = re.compile(r"^\.?1\.3\.6\.1\.4\.1\.(\d+)(?:\.|$)")


def pen_vendor(sysobjectid: str | None) -> str | None:
    """The vendor whose IANA private enterprise number starts ``sysobjectid``, or None.

    >>> pen_vendor("1.3.6.1.4.1.2011.2.23.276")
    'Huawei'
    """
    if not sysobjectid:
        return None
    m = _ENTERPRISE.match(sysobjectid.strip())
    return None if m is None else _pen_table().get(int(m.group(1)))


def firmware_os(text: str | None) -> str | None:
    """The firmware project a text names as a whole word (``DD-WRT``, ``OpenWrt``), or None."""
    if not text:
        return None
    low = text.casefold()
    for key, pattern, name in _firmware_os_patterns():
        if key in low and pattern.search(low):  # the substring test skips most regexes
            return name
    return None


@cache
def _firmware_os_patterns() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(key, its whole-word pattern, name) per firmware project, compiled once."""
    return tuple((key, re.compile(rf"(?<![\w-]){re.escape(key)}(?![\w-])"), name)
                 for key, name in _vocab().firmware_os.items())


class GenericHit:
    """(rule, label, family, text, fields) of one generic reading, for the engine's Hit."""

    __slots__ = ("family", "fields", "label", "rule", "text")

    def __init__(
        self, rule: str, label: str, family: str, text: str, fields: dict[str, str]
    ) -> None:
        self.rule = GENERIC_RULES[rule]
        self.label = label
        self.family = family
        self.text = text
        self.fields = tuple((k, v) for k, v in fields.items() if v)


# --------------------------------------------------------------------------- model names

_SKU = re.compile(r"-\d{3}[A-Z]{2,4}$")  # NETGEAR "C3700-100NAS": the model is "C3700"
_CLASS_PREFIX = re.compile(r"^(?:LAN|WAN|WANConnection)Device\s*-\s*", re.I)  # AVM embedded
_VERSION_ONLY = re.compile(r"^[vV]?\d+(?:[._]\d+)*[a-zA-Z]?$")
_TOKEN = re.compile(r"[^\s,;()\[\]]+")


def _clean_model(vendor: str | None, text: str | None) -> str | None:
    """A model name from a UPnP model field, or None for device classes and versions."""
    if not text:
        return None
    s = _CLASS_PREFIX.sub("", " ".join(text.split())).strip(" -")
    if not s or len(s) > 48:
        return None
    v, rest = split_vendor_prefix(s)
    if v is not None and rest:
        s = rest
    if _VERSION_ONLY.match(s) or not any(c.isdigit() for c in s) or not any(c.isalpha() for c in s):
        return None
    if _vocab().generic_models.search(s):
        return None
    return _SKU.sub("", s)


def model_in_text(vendor: str | None, text: str) -> str | None:
    """The first token of ``text`` that belongs to a model family of ``vendor`` (or, without a
    vendor, of any vendor), written the vendor's way."""
    for token in _TOKEN.findall(text):
        token = token.strip(".:-'\"")
        if not token or not any(c.isdigit() for c in token):
            continue
        if vendor is not None:
            fam = model_family(vendor, token)
            if fam is not None:
                return _SKU.sub("", fam.display(token))
        else:
            found = infer_vendor(token)
            if found is not None:
                return _SKU.sub("", found[1])
    return None


# --------------------------------------------------------------------------- readers


def _descriptions(obs: Observation) -> Iterator[tuple[str, UpnpDescription]]:
    roots = ([obs.upnp] if obs.upnp is not None else []) + list(obs.upnp_more)
    for n, root in enumerate(roots):
        where = "upnp" if n == 0 else f"upnp[{n}]"
        yield where, root
        for i, dev in enumerate(root.embedded):
            yield f"{where}.device[{i + 1}]", dev


def _upnp(obs: Observation) -> Iterator[GenericHit]:
    for where, d in _descriptions(obs):
        maker = d.manufacturer or ""
        project = firmware_os(maker)
        vendor = None if project else canonical_vendor(maker)
        if project:
            yield GenericHit(
                "upnp-manufacturer", f"{where}.manufacturer", "upnp", maker, {"os": project}
            )
        elif vendor:
            yield GenericHit(
                "upnp-manufacturer", f"{where}.manufacturer", "upnp", maker, {"vendor": vendor}
            )
        if not project:
            # "DD-WRT v24 (05/20/08)" as modelNumber, "DD-WRT Router" as friendlyName: the
            # firmware project, whoever made the hardware.
            for name, text in (
                ("modelNumber", d.model_number),
                ("modelName", d.model_name),
                ("modelDescription", d.model_description),
                ("friendlyName", d.friendly_name),
            ):
                named = firmware_os(text)
                if named:
                    project = named
                    yield GenericHit(
                        "upnp-manufacturer", f"{where}.{name}", "upnp", text or "", {"os": named}
                    )
                    break
        model = _clean_model(vendor, d.model_name)
        text = d.model_name or ""
        if model is None:
            model = _clean_model(vendor, d.model_number)
            text = d.model_number or ""
        if model is not None:
            fields = {"model": model}
            if vendor:
                fields["vendor"] = vendor
                fam = model_family(vendor, model)
                if fam is not None:
                    fields["model"] = fam.display(model)
            elif not project:
                found = infer_vendor(model)
                if found is not None:
                    fields.update(vendor=found[0], model=found[1])
            yield GenericHit("upnp-model", f"{where}.modelName", "upnp", text, fields)
        if d.firmware:
            yield GenericHit(
                "upnp-firmware", f"{where}.firmware", "upnp", d.firmware, {"firmware": d.firmware}
            )


def _server_products(header: str) -> str:
    """The header with OS and UPnP-stack product tokens removed."""
    stack = _vocab().stack_tokens
    return " ".join(stack.sub(" ", header).replace(",", " ").split())


def _server(label: str, family: str, header: str) -> Iterator[GenericHit]:
    """What a Server header names (scan data repeats a few thousand of them: read once)."""
    return iter(_server_hits(label, family, header))


@lru_cache(maxsize=16384)
def _server_hits(label: str, family: str, header: str) -> tuple[GenericHit, ...]:
    return tuple(_read_server(label, family, header))


def _read_server(label: str, family: str, header: str) -> Iterator[GenericHit]:
    project = firmware_os(header)
    if project:
        yield GenericHit("server-product", label, family, header, {"os": project})
    rest = _server_products(header)
    if not rest:
        return
    vendor, after = split_vendor_prefix(rest)
    if vendor is None:
        for token in rest.split():
            vendor = canonical_vendor(token) if len(token) >= 3 else None
            if vendor:
                after = rest.split(token, 1)[1]
                break
    model = model_in_text(vendor, after if vendor else rest)
    if vendor is None and model is not None:
        found = infer_vendor(model)
        vendor = found[0] if found else None
    if vendor:
        yield GenericHit(
            "server-product", label, family, header, {"vendor": vendor, "model": model or ""}
        )


_SPEED_OR_VERSION = re.compile(
    r"(?i)^(?:\d+(?:\.\d+)?[GMK](?:b(?:e|ps|it)?|bps)?|[vV]?\d+(?:[._]\d+)*[a-zA-Z]?|\d+-bit|"
    r"x86_64|i\d86|0x[0-9a-f]+|fc\d+)$"
)
_MODEL_WORD = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9+/-]{1,23}$")
# A model code starts with letters and carries at least two digits, or a hyphen before its
# number (MX-8): "S2", "fc3", "L3", "NET3" are release or feature tags, "4Gb" and "10ag" are no
# codes. Measured on out-of-corpus sysDescr texts (Recog's snmp_sysdescr.xml examples and
# snmpsim-data recordings not in tests/captures), where the looser reading named image names,
# speeds and release numbers as models.
_CODE_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:\d.*\d|-\d)")
_STOP_WORDS = re.compile(
    r"(?i)^(?:software|version|release|series|build|copyright|kernel|rev|revision)"
)
# Words after which the next token is a version, build or serial, never the model.
_VERSION_WORD = re.compile(
    r"(?i)^(?:version|ver|release|rel|revision|rev|build|rom|boot|patch|sn|serial|firmware)[:.]?$"
)
# "Software (C3750-IPBASE-M)", "Software (ucs-6100-k9-system)": an image name, not the model.
_IMAGE_NAME = re.compile(r"(?i)\bsoftware\s*\([^)]*\)")
_MODEL_LABEL = re.compile(r"(?i)\bmodel\s*[:=]\s*([A-Za-z0-9+/-]{3,24})")


def _model_token(token: str) -> bool:
    return bool(
        _MODEL_WORD.match(token)
        and not _SPEED_OR_VERSION.match(token)
        and _CODE_SHAPE.match(token)
    )


def model_code(text: str) -> str | None:
    """The first model-like code of a free text (``C3750``, ``DES-3200-18``, ``ZXR10 9908``):
    letters then digits, not a version, speed, image name or the word after "Version"; a
    following number-bearing word joins it. None when no token has a model code's shape."""
    m = _MODEL_LABEL.search(text)
    if m:
        return m.group(1)
    tokens = [t.strip(".,;:'\"") for t in re.split(r"[\s()\[\],]+", _IMAGE_NAME.sub(" ", text))]
    tokens = [t for t in tokens if t]
    for i, token in enumerate(tokens):
        if i and _VERSION_WORD.match(tokens[i - 1]):
            continue
        if not _model_token(token):
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if (
            nxt
            and any(c.isdigit() for c in nxt)
            and _MODEL_WORD.match(nxt)
            and not _SPEED_OR_VERSION.match(nxt)
            and not _STOP_WORDS.match(nxt)
        ):
            return f"{token} {nxt}"
        return token
    return None


def _snmp(obs: Observation) -> Iterator[GenericHit]:
    vendor = pen_vendor(obs.snmp_sysobjectid)
    if vendor:
        yield GenericHit(
            "snmp-pen",
            "snmp.sysobjectid",
            "snmp.sysobjectid",
            obs.snmp_sysobjectid or "",
            {"vendor": vendor},
        )
    descr = (obs.snmp_sysdescr or "").strip()
    if not descr:
        return
    head = descr.splitlines()[0][:160]
    said, rest = split_vendor_prefix(head)
    if said is None:
        m = re.search(r"\bby\s+([A-Z][\w-]+(?:\s+[A-Z][\w-]+)?)", head)
        said = canonical_vendor(m.group(1)) if m else None
        rest = head
    if said is None and vendor is None:
        return
    if said is not None and vendor is not None and said != vendor:
        return  # sysDescr and enterprise number disagree: say nothing of the model
    # After the vendor's name (and company words), the first model code names the model.
    rest = re.sub(
        r"(?i)^(?:networks|communications|systems|technologies|inc|co|ltd|[,.])+\s*", "", rest
    )
    rest = re.sub(
        r"(?i)^(?:(?:networks|communications|systems|technologies|inc|co|ltd)[,.]?\s+)+", "", rest
    )
    model = model_in_text(said or vendor, rest) or model_code(rest)
    if model and firmware_os(model):
        model = None
    fields = {"vendor": said or "", "model": model or ""}
    if said is None:
        fields["vendor"] = vendor or ""
    yield GenericHit("snmp-sysdescr", "snmp.sysdescr", "snmp.sysdescr", head, fields)


_ORG = re.compile(r"(?:^|,)O=((?:[^,\\]|\\.)+)")


# Google Cast device certificates carry O=Google Inc (subject and issuer) on every Cast-enabled
# product, whoever made it (Recog x509_subjects.xml: "OU=Cast TV (Vizio),O=Google Inc").
_CAST_DEVICE = re.compile(r"(?:^|,)OU=(?:Cast\b|Google TV\b)")


def _tls(obs: Observation) -> Iterator[GenericHit]:
    for cert in obs.tls:
        if _CAST_DEVICE.search(cert.subject or ""):
            continue
        for name in (cert.subject, cert.issuer):
            m = _ORG.search(name or "")
            vendor = canonical_vendor(m.group(1).replace("\\", "")) if m else None
            if vendor:
                yield GenericHit(
                    "tls-organisation",
                    f"tls.subject:{cert.port}",
                    "tls.subject",
                    name,
                    {"vendor": vendor},
                )
                break


def _http(obs: Observation) -> Iterator[GenericHit]:
    for h in obs.http:
        if h.status >= 500:
            continue
        server = h.header("server")
        if server:
            yield from _server(f"http.server:{h.port}", "http.server", server)
        for text, label in ((h.title, f"http.title:{h.port}"),):
            if not text:
                continue
            project = firmware_os(text)
            if project:
                yield GenericHit("http-vendor-text", label, "http.title", text, {"os": project})
                continue
            vendor, rest = split_vendor_prefix(" ".join(text.split()))
            if vendor:
                model = model_in_text(vendor, rest)
                yield GenericHit(
                    "http-vendor-text",
                    label,
                    "http.title",
                    text,
                    {"vendor": vendor, "model": model or ""},
                )


def _banners(obs: Observation) -> Iterator[GenericHit]:
    for b in obs.banners:
        project = firmware_os(b.text[:512])
        if project:
            family = f"banner.{b.protocol}"
            yield GenericHit(
                "banner-os", f"{family}:{b.port}", family, b.text[:200], {"os": project}
            )


# A status-page row: the label, then tags / &nbsp; / a colon, then the value - read from the
# raw HTML in one pass (no tag-stripped copy of a 64 KB page is built).
_LABELLED = re.compile(
    r"(?i)\b(?P<label>model\s*(?:name|number)?|hardware\s*version|product\s*(?:name|type)|"
    r"software\s*version|firmware\s*version|vendor|manufacturer)(?:\s|&nbsp;|:|<[^>]{0,200}>){1,12}"
    r"(?P<value>[A-Za-z0-9][\w.+/-]{1,40})"
)


_LABEL_WORDS = ("model", "hardware", "product", "software", "firmware", "vendor", "manufacturer")
MAX_ROWS = 64


def _label_rows(body: str) -> Iterator[re.Match[str]]:
    """Matches of _LABELLED, tried only where a label word starts (str.find is far cheaper
    than running the case-insensitive alternation at every position of a 64 KB page)."""
    low = body.lower()
    starts: list[int] = []
    for word in _LABEL_WORDS:
        at = low.find(word)
        while at >= 0 and len(starts) < 4 * MAX_ROWS:
            starts.append(at)
            at = low.find(word, at + len(word))
    for at in sorted(starts)[: 4 * MAX_ROWS]:
        m = _LABELLED.match(body, at, at + 400)
        if m is not None:
            yield m


def _status_page(label: str, body: str) -> dict[str, str]:
    """Model and firmware from a status page's "Hardware Version TC4400" / "Software Version
    70.12.42" rows (DOCSIS modems and many gateways show them before login)."""
    out: dict[str, str] = {}
    said: str | None = None  # a "Vendor: Technicolor" row
    codes: list[str] = []  # model-row values of no known family
    for m in _label_rows(body[:65536]):
        kind, value = m.group("label").lower(), m.group("value")
        if kind.startswith(("software", "firmware")):
            if "firmware" not in out and any(c.isdigit() for c in value) and "." in value:
                out["firmware"] = value
        elif kind.startswith(("vendor", "manufacturer")):
            said = said or canonical_vendor(value)
        elif "model" not in out:
            found = infer_vendor(value)
            if found is not None:
                out.update(vendor=found[0], model=found[1])
            elif _model_token(value):
                codes.append(value)
    if "model" not in out and said is not None and codes:
        # "Vendor: Technicolor" + "Product Type: XB7": the page names both.
        out.update(vendor=said, model=codes[0])
    return out if "model" in out else {}


def _http_pages(obs: Observation) -> Iterator[GenericHit]:
    for h in obs.http:
        if h.status >= 400:
            continue
        if h.title:
            found = infer_vendor(h.title.strip()) if _MODEL_WORD.match(h.title.strip()) else None
            if found is not None:  # the title is a bare model code of a known family ("MB8611")
                yield GenericHit(
                    "http-vendor-text",
                    f"http.title:{h.port}",
                    "http.title",
                    h.title,
                    {"vendor": found[0], "model": found[1]},
                )
        if h.body:
            fields = _status_page(f"http.body:{h.port}", h.body)
            if fields:
                yield GenericHit(
                    "http-status-page", f"http.body:{h.port}{h.path}", "http.body", h.path, fields
                )


def generic_hits(obs: Observation) -> list[GenericHit]:
    """Every generic reading of ``obs`` (see the module docstring)."""
    out: list[GenericHit] = list(_upnp(obs))
    out.extend(_banners(obs))
    if obs.upnp is not None and obs.upnp.server:
        out.extend(_server("upnp.server", "upnp.server", obs.upnp.server))
    out.extend(_snmp(obs))
    out.extend(_tls(obs))
    out.extend(_http(obs))
    out.extend(_http_pages(obs))
    return out
