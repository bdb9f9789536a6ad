"""TP-Link (and Mercusys) firmware versions.

Forms read (case and "_"/" " separators do not matter, CPE escapes are removed):

==========================================  ==============================================
``1.1.4 Build 20230219 rel.73766``          release 1.1.4, build date 2023-02-19, rel 73766
``3.13.33 Build 130506 Rel.48660n``         6-digit yymmdd build date (2013-05-06), rel 48660
``1.1.4_build_20230219``, ``2.2.2build2023..``  NVD / CVE 5 spellings of the same
``1.1.4``                                   release only (compared on that precision)
``230506``, ``20230219``                    date-only (JP advisories: "prior to ..._230506")
``tl-wr840n(eu)_v5_171211``                 firmware file name: model, region EU, hardware 5,
                                            build date 2017-12-11
``Archer C50(JP)_V3_230505``, ``V2_160201_US``  the same with a vendor-style model / region
``AX21(US)_V3_1.1.1 Build 20220603``        model, region, hardware 3, release, date
``V3_1.1.4``, ``3.6_1.1.4``, ``7.0_3.0.14_Build_221115_Rel.56908n``
                                            a leading hardware revision: a ``v`` token, or a
                                            number of at most two parts followed by a release
                                            of three parts, or a bare 1-2 digit number
``0.9.1 4.16 v0001.0 Build 170622 Rel.64334n``  two release groups (0.9.1 and 4.16) read as one
                                            release 0.9.1.4.16 (NVD writes ``0.9.1_4.16``); a
                                            ``v`` tag after the release (``v0001.0``,
                                            ``v600c.0``) is kept in ``suffix``, not ordered
``v5.1.0 Build 20220926``                   a ``v`` token of three parts, or one followed by
                                            "Build", is the release
==========================================  ==============================================

Ordering: release, then build date, then rel number (see _base for the shared rules). A
hardware revision in the string is a gate: V3 firmware and V3.6 firmware do not compare (None).
A date-only bound compares with a device version only through the device's build date, so
``1.1.4`` (no date) against ``230506`` is None. A region is kept but does not order.

Not understood (None): camera strings such as ``LM.1.6.18P12_sign6``, bare numbers that are not a
date (``3230219``), free text ("firmware versions prior to ..."). A ``Build`` value that is not a
date (``1.0.11 build 2022052``, a typo in CVE-2024-2188) is kept in ``suffix`` and the version is
compared on its release only.
"""

from __future__ import annotations

import re

from routerwatch.identity.hardware import normalize_hardware
from routerwatch.identity.versions._base import (
    FirmwareVersion,
    clean_or_date,
    date8,
    dotted,
    ints,
    parse_date,
    register_formatter,
)

SCHEME = "tplink"

_REGION = re.compile(r"\(([a-z]{2,3})\)")
_PARENS = re.compile(r"\([^)]*\)")
_MODEL = re.compile(r"([a-z][a-z0-9+ -]*?\d[a-z0-9+ -]*?)[ _]+(?=v\d)")
_BUILD = re.compile(r"[ _.-]*(?<![a-z])build(?![a-z])[ _.-]*")
_REL = re.compile(r"[ _.-]*(?<![a-z])rel(?![a-z])\.?[ _]*")
_V_TOKEN = re.compile(r"v(\d+(?:\.\d+)*)")
_V_DATE = re.compile(r"v(\d{1,2})\.(\d{6})")
_V_TAG = re.compile(r"v[0-9a-z]+(?:\.[0-9a-z]+)*")
_GROUP = re.compile(r"\d+(?:\.\d+)+")
_REL_NUM = re.compile(r"(\d+)[a-z]?")
_REGION_WORD = re.compile(r"[a-z]{2}")


def parse(text: str) -> FirmwareVersion | None:
    s = clean_or_date(SCHEME, text)
    if not isinstance(s, str):
        return s
    s = s.replace(":", " ")  # CPE version and update joined: "1.3.0:build_20230322_rel_70591"
    if s == "0":
        return FirmwareVersion(SCHEME, release=(0,), text=text)

    region: str | None = None
    m = _REGION.search(s)
    if m:
        region = m.group(1).upper()
        s = s[: m.start()] + s[m.end() :]
    extra = [p.strip("() ") for p in _PARENS.findall(s)]
    s = _PARENS.sub(" ", s).strip()
    m = _MODEL.match(s)
    if m:
        s = s[m.end() :]
    s = _BUILD.sub(" build ", s)
    s = _REL.sub(" rel ", s)
    tokens = [t.strip(".") for t in re.split(r"[ _]+", s) if t.strip(".")]

    groups: list[tuple[int, ...]] = []
    hardware: str | None = None
    pending_v: str | None = None
    bare: str | None = None
    build_date = None
    date_by_keyword = False
    rel: int | None = None
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t == "build":
            if nxt is None or not nxt.isdigit():
                return None
            bd = parse_date(nxt)
            if bd is not None and build_date is None:
                build_date, date_by_keyword = bd, True
            else:
                extra.append(f"build {nxt}")
            i += 2
            continue
        if t == "rel":
            rm = _REL_NUM.fullmatch(nxt or "")
            if rm is None or rel is not None:
                return None
            rel = int(rm.group(1))
            i += 2
            continue
        vd = _V_DATE.fullmatch(t)
        if vd and not groups and pending_v is None and build_date is None:
            pending_v, build_date = vd.group(1), parse_date(vd.group(2))
            if build_date is None:
                return None
            i += 1
            continue
        if groups and _V_TAG.fullmatch(t):  # "v0001.0", "v600c.0" after the release: a tag
            extra.append(t)
            i += 1
            continue
        vm = _V_TOKEN.fullmatch(t)
        if vm:
            if vm.group(1).count(".") >= 2:  # "v5.1.0": the release itself
                groups.append(ints(vm.group(1)))
            elif pending_v is None and bare is None:
                pending_v = vm.group(1)
            else:
                return None
            i += 1
            continue
        if _GROUP.fullmatch(t):
            groups.append(ints(t))
            i += 1
            continue
        if t.isdigit():
            bd = parse_date(t) if len(t) in (6, 8, 9) else None
            if bd is not None and build_date is None:
                build_date = bd
            elif len(t) <= 2 and not groups and pending_v is None and bare is None:
                bare = t
            else:
                return None
            i += 1
            continue
        if _REGION_WORD.fullmatch(t) and i == len(tokens) - 1 and region is None:
            region = t.upper()
            i += 1
            continue
        return None

    if pending_v is not None:
        if groups or (build_date is not None and not date_by_keyword):
            hardware = pending_v
        elif build_date is not None or rel is not None:  # "v5.0 Build 20211201": the release
            groups.append(ints(pending_v))
        else:  # "V2" alone: a hardware revision, nothing to order by
            hardware = pending_v
    if bare is not None:
        if groups or build_date is not None:
            hardware = bare
        elif bare == "0":
            groups.append((0,))
        else:
            return None
    if len(groups) >= 2 and hardware is None and len(groups[0]) <= 2 and len(groups[1]) >= 3:
        hardware = dotted(groups.pop(0))
    if len(groups) > 2:
        return None
    release = tuple(p for g in groups for p in g)
    if not release and build_date is None and hardware is None:
        return None
    return FirmwareVersion(
        SCHEME,
        release=release,
        build_date=build_date,
        build=rel,
        hardware=normalize_hardware(hardware) if hardware is not None else None,
        region=region,
        suffix=" ".join(extra) or None,
        text=text,
    )


def format(v: FirmwareVersion) -> str:
    parts: list[str] = []
    if v.hardware is not None:
        parts.append(f"V{v.hardware}")
    if v.release:
        parts.append(dotted(v.release))
    elif v.build_date is not None:
        parts.append(date8(v.build_date))
    text = "_".join(parts)
    if v.release and v.build_date is not None:
        text += f" Build {date8(v.build_date)}"
    if v.build is not None:
        text += f" Rel.{v.build}"
    if v.region:
        text += f" ({v.region})"
    return text.strip()


register_formatter(SCHEME, format)
