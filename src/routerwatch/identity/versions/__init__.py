"""Vendor firmware version schemes.

One module per vendor (``tplink``, ``mercusys``, ``netgear``, ``asus``, ``dlink``, ``zyxel``,
``draytek``, ``cisco``, ``linksys``, ``mikrotik``, ``ubiquiti``, ``tenda``, ``totolink``,
``huawei``, ``zte``, ``avm``) and ``generic`` for the rest; vendors.yaml says which vendor uses
which, and ``SCHEMES`` below is the one registry. The shared ordering rules are in ``_base``.

>>> compare_versions("TP-Link", "1.1.3 Build 20221125 rel.45870", "1.1.4")
-1
>>> compare_versions("TP-Link", "1.1.4 Build 20230219 rel.73766", "1.1.4_build_20230219")
0
>>> compare_versions("NETGEAR", "V1.0.4.120_10.0.91", "1.0.4.84") # numeric, not string order
1
>>> compare_versions("TP-Link", "1.1.4", "230506") is None  # a date against no date
True

``compare_versions`` is on the matcher's hot path: parsing is cached (lru_cache) per
(scheme, text) and results per (vendor, a, b).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from routerwatch.identity.vendors import vendor as _vendor
from routerwatch.identity.versions import (
    asus,
    avm,
    cisco,
    dlink,
    draytek,
    generic,
    huawei,
    linksys,
    mercusys,
    mikrotik,
    netgear,
    tenda,
    totolink,
    tplink,
    ubiquiti,
    zte,
    zyxel,
)
from routerwatch.identity.versions._base import FirmwareVersion, compare

__all__ = [
    "SCHEMES",
    "FirmwareVersion",
    "compare",
    "compare_versions",
    "parse_version",
    "scheme_for",
]

SCHEMES: dict[str, Callable[[str], FirmwareVersion | None]] = {
    tplink.SCHEME: tplink.parse,
    netgear.SCHEME: netgear.parse,
    asus.SCHEME: asus.parse,
    dlink.SCHEME: dlink.parse,
    zyxel.SCHEME: zyxel.parse,
    draytek.SCHEME: draytek.parse,
    cisco.SCHEME: cisco.parse,
    linksys.SCHEME: linksys.parse,
    mikrotik.SCHEME: mikrotik.parse,
    mercusys.SCHEME: mercusys.parse,
    ubiquiti.SCHEME: ubiquiti.parse,
    tenda.SCHEME: tenda.parse,
    totolink.SCHEME: totolink.parse,
    huawei.SCHEME: huawei.parse,
    zte.SCHEME: zte.parse,
    avm.SCHEME: avm.parse,
    generic.SCHEME: generic.parse,
}


@lru_cache(maxsize=1024)
def scheme_for(vendor: str | None) -> str:
    """Name of the version scheme for a vendor (any spelling); "generic" when unknown."""
    v = _vendor(vendor)
    if v is None or v.scheme not in SCHEMES:
        return generic.SCHEME
    return v.scheme


@lru_cache(maxsize=65536)
def _parse(scheme: str, text: str) -> FirmwareVersion | None:
    return SCHEMES[scheme](text)


def parse_version(vendor: str | None, text: str) -> FirmwareVersion | None:
    """Parse a firmware string with the vendor's scheme; None when it is not understood.

    ``vendor`` may be a display name, an NVD vendor id or None (generic dotted scheme).
    Placeholders (``-``, ``*``, ``n/a``) are not versions and give None too.
    """
    if not text:
        return None
    return _parse(scheme_for(vendor), text)


@lru_cache(maxsize=262144)
def compare_versions(vendor: str | None, a: str, b: str) -> int | None:
    """-1 / 0 / 1 when ``a`` is older / equal / newer than ``b`` on the precision both state.

    None when either string is not understood or the two cannot be compared meaningfully (a
    build date against a version without one, firmware of different hardware revisions or
    Zyxel model codes): the caller should then say "possible", not guess.
    """
    va = parse_version(vendor, a)
    if va is None:
        return None
    vb = parse_version(vendor, b)
    if vb is None:
        return None
    return compare(va, vb)
