"""DeviceIdentity from what a user types ("TP-Link Archer C7 V2 firmware 3.15.1") or from fields.

Free text is read left to right: an optional vendor name ("TP-Link", "tplink", "NETGEAR"), an
optional series word ("Nighthawk", "Omada"), the model, then the hardware revision and the
firmware in any of these spellings:

* hardware: ``v2``, ``V8``, ``v8.0``, ``hw 2``, ``H/W: 2.20``, ``rev A1``, ``Hardware Version 3``,
  a glued ``R6400v2``, a letter revision after the model (``RT-AC66U B1``, ``DIR-850L A1``), and
  for TP-Link a bare ``2.20`` after the model (how TP-Link writes revisions: "Archer C80 2.20");
* firmware: ``firmware 3.15.1``, ``fw: 1.1.4 Build 20230219 rel.73766``, ``(fw 3.15.1)`` (the form
  DeviceIdentity.label() writes), or without a keyword a token that can only be a firmware version
  (three or more numbers, ``1.14WW``, ``1.04B12``, ``V5.21(ABUJ.1)C0``) and everything after it;
* region: a two-letter code in parentheses, ``TL-WR840N(EU)``.

Parenthesised marketing names are dropped ("Archer AX21 (AX1800)" -> "Archer AX21"). Without a
vendor name the vendor comes from the model family table in vendors.yaml (RT-/GT-/TUF- -> ASUS,
TL-/Archer/Deco -> TP-Link, DIR-/COVR -> D-Link, R####/RAX/WNR/EX#### -> NETGEAR, Vigor ->
DrayTek, RV### -> Cisco, EA/WRT/E#### -> Linksys, NBG/VMG -> Zyxel, ...); a model in no family
keeps the vendor unknown. Known families are written the vendor's way ("tl-wr841n" ->
"TL-WR841N", "archer ax21" -> "Archer AX21").

Keyword arguments override what the text says and count as user-given; a ``model`` argument may
carry a hardware revision ("Archer C7 v2") that fills ``hardware`` when that is not given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from routerwatch.identity.hardware import normalize_hardware
from routerwatch.identity.vendors import (
    canonical_vendor,
    infer_vendor,
    model_family,
    series_words,
    split_vendor_prefix,
)
from routerwatch.models import DeviceIdentity, Evidence

__all__ = ["parse_identity"]

_FW_KEYWORD = re.compile(
    r"(?P<open>\(\s*)?(?<![\w/])(?:firmware|fw|f/w|software|sw)(?:\s*(?:version|ver\.?))?"
    r"\s*[:=]?\s+(?=\S)|(?P<open2>\(\s*)?(?<![\w/])(?:firmware|fw)\s*[:=]\s*(?=\S)",
    re.IGNORECASE,
)
_FW_TOKEN = re.compile(
    r"v?\d+(?:\.\d+){2,}\S*|v?\d+\.\d+[a-z_(]\S*|v?\d+\.\d+\s*build\b.*",
    re.IGNORECASE,
)
_BARE_DOTTED = re.compile(r"\d+\.\d+")
_V_TOKEN = re.compile(r"v(\d+(?:\.\d+)?|[a-h]\d)", re.IGNORECASE)  # "v2", "v8.0", label()'s "vb1"
_HW_GLUED = re.compile(r"(?:rev\.?|hw:?|h/w:?)([a-z]?\d+(?:\.\d+)?|[a-z][0-9x]?)", re.IGNORECASE)
_HW_WORDS = frozenset(
    {"hw", "hw:", "h/w", "h/w:", "rev", "rev.", "rev:", "revision", "ver", "ver."}
)
_HW_LONG = frozenset({"hardware", "hw"})
_VERSION_WORDS = frozenset({"version", "version:", "ver", "ver.", "ver:"})
_REGION = re.compile(r"\(([A-Za-z]{2})\)")
_PARENS = re.compile(r"\([^)]*\)")
_GLUED_V = re.compile(r"(.*\d[a-z]{0,2})v(\d{1,2})", re.IGNORECASE)
_LETTER_REV = re.compile(r"[a-h]\d", re.IGNORECASE)


@dataclass
class _Parsed:
    vendor: str | None = None
    vendor_stated: bool = False
    model: str | None = None
    hardware: str | None = None
    firmware: str | None = None
    region: str | None = None
    bare: list[str] = field(default_factory=list)  # "2.20" after the model: revision or unknown
    ignored: list[str] = field(default_factory=list)


def _split_firmware(s: str) -> tuple[str, str | None]:
    """(device part, firmware) of a free text."""
    m = _FW_KEYWORD.search(s)
    if m:
        fw = s[m.end() :].strip()
        if (m.group("open") or m.group("open2")) and fw.endswith(")"):
            fw = fw[:-1].strip()
        return s[: m.start()].strip(), fw or None
    tokens = s.split(" ")
    for i in range(1, len(tokens)):
        if _FW_TOKEN.fullmatch(tokens[i]):
            return " ".join(tokens[:i]), " ".join(tokens[i:])
    return s, None


def _device_tokens(device: str, out: _Parsed) -> list[str]:
    """Tokens of the device part after region and marketing parentheses are taken out."""
    m = _REGION.search(device)
    if m:
        out.region = m.group(1).upper()
        device = device[: m.start()] + device[m.end() :]
    device = _PARENS.sub(" ", device)
    return device.replace(",", " ").split()


def _take_hardware(tokens: list[str], out: _Parsed) -> list[str]:
    """Model tokens, with hardware revision tokens taken into ``out``."""
    model: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.lower()
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if (
            model
            and low in _HW_LONG
            and nxt
            and nxt.lower() in _VERSION_WORDS
            and i + 2 < len(tokens)
        ):
            out.hardware = out.hardware or normalize_hardware(tokens[i + 2])
            i += 3
            continue
        if model and low in _HW_WORDS and nxt is not None:
            out.hardware = out.hardware or normalize_hardware(nxt)
            i += 2
            continue
        g = _HW_GLUED.fullmatch(low)
        if model and g:
            out.hardware = out.hardware or normalize_hardware(g.group(1))
            i += 1
            continue
        vm = _V_TOKEN.fullmatch(tok)
        if model and vm:
            out.hardware = out.hardware or normalize_hardware(vm.group(1))
            i += 1
            continue
        if model and _BARE_DOTTED.fullmatch(tok):
            out.bare.append(tok)  # hardware for TP-Link, unknown for others (decided later)
            i += 1
            continue
        if out.hardware is not None or out.bare:
            out.ignored.append(tok)  # words after the revision: not part of the model
            i += 1
            continue
        model.append(tok)
        i += 1
    return model


def _split_model_revision(model: str) -> tuple[str, str | None]:
    """A revision glued to or written after the model: "R6400v2", "RT-AC66U B1"."""
    parts = model.split()
    if len(parts) >= 2 and _LETTER_REV.fullmatch(parts[-1]):
        head = " ".join(parts[:-1])
        if any(c.isdigit() for c in head):
            return head, normalize_hardware(parts[-1])
    m = _GLUED_V.fullmatch(model)
    if m and not m.group(1).lower().endswith("ip"):
        return m.group(1), normalize_hardware(m.group(2))
    return model, None


def _drop_series(vendor: str | None, model: str) -> str:
    low = model.lower()
    words = series_words(vendor) if vendor else ()
    for word in sorted(words, key=len, reverse=True):
        if low.startswith(word + " ") and model[len(word) :].strip():
            return model[len(word) :].strip()
    return model


def _read_text(text: str) -> _Parsed:
    out = _Parsed()
    s = " ".join(text.split())
    device, out.firmware = _split_firmware(s)
    vendor, rest = split_vendor_prefix(device.strip(" ,;:-"))
    if vendor is not None:
        out.vendor, out.vendor_stated = vendor, True
    tokens = _device_tokens(rest, out)
    model_tokens = _take_hardware(tokens, out)
    model = " ".join(model_tokens).strip(" ,;:-_")
    if model and out.hardware is None:
        model, out.hardware = _split_model_revision(model)
    out.model = model or None
    return out


def _finish_model(vendor: str | None, model: str | None) -> tuple[str | None, str | None, bool]:
    """(vendor, model written the vendor's way, vendor was inferred)."""
    if not model:
        return vendor, None, False
    if vendor is None:
        inferred = infer_vendor(model)
        if inferred is None:
            return None, model, False
        vendor, model = inferred
        return vendor, _drop_series(vendor, model), True
    model = _drop_series(vendor, model)
    fam = model_family(vendor, model)
    return vendor, (fam.display(model) if fam is not None else model), False


def parse_identity(
    text: str | None = None,
    *,
    vendor: str | None = None,
    model: str | None = None,
    hardware: str | None = None,
    firmware: str | None = None,
    region: str | None = None,
) -> DeviceIdentity:
    """A DeviceIdentity from free text and/or fields; unknown parts stay None.

    ``parse_identity("TP-Link Archer C7 V2 firmware 3.15.1")`` -> TP-Link / Archer C7 / 2 /
    3.15.1; ``parse_identity("RT-AX88U")`` -> ASUS / RT-AX88U (vendor from the model family);
    ``parse_identity(vendor="tplink", model="archer ax21 v3")`` -> TP-Link / Archer AX21 / 3.
    Confidence is 1.0 when the vendor was stated (or nothing had to be inferred), 0.9 when the
    vendor was inferred from the model family, 0.0 when nothing at all is known.
    """
    parsed = _read_text(text) if text and text.strip() else _Parsed()
    bare = parsed.bare

    v = parsed.vendor
    stated = parsed.vendor_stated
    if vendor is not None and vendor.strip():
        v, stated = canonical_vendor(vendor) or vendor.strip(), True
    m = parsed.model
    hw = parsed.hardware
    if model is not None and model.strip():
        mv, mrest = split_vendor_prefix(model.strip())
        if mv is not None and mrest:
            if v is None:
                v, stated = mv, True
            model_text = mrest
        else:
            model_text = model.strip()
        sub = _read_text(model_text)
        m = sub.model
        if hardware is None and sub.hardware is not None:
            hw = sub.hardware
        if region is None and sub.region is not None:
            parsed.region = sub.region
    v, m, inferred = _finish_model(v, m)
    if hardware is not None:
        hw = normalize_hardware(hardware)
    elif hw is None and bare and v == "TP-Link":
        hw = normalize_hardware(bare[0])
    fw = firmware.strip() if firmware is not None and firmware.strip() else parsed.firmware
    reg = region.strip().upper() if region is not None and region.strip() else parsed.region

    known = any(x is not None for x in (v, m, hw, fw))
    confidence = 0.0 if not known else (0.9 if inferred and not stated else 1.0)
    source = text.strip() if text and text.strip() else ""
    given = [
        f"{k}={val}"
        for k, val in (
            ("vendor", vendor),
            ("model", model),
            ("hardware", hardware),
            ("firmware", firmware),
            ("region", region),
        )
        if val
    ]
    value = "; ".join([source, *given]) if source else "; ".join(given)
    fields = tuple(
        (k, val)
        for k, val in (
            ("vendor", v),
            ("model", m),
            ("hardware", hw),
            ("firmware", fw),
            ("region", reg),
        )
        if val is not None
    )
    evidence = (Evidence(source="user", value=value[:300], rule="identity.parse", fields=fields),)
    return DeviceIdentity(
        vendor=v,
        model=m,
        hardware=hw,
        firmware=fw,
        region=reg,
        confidence=confidence,
        evidence=evidence if known else (),
    )
