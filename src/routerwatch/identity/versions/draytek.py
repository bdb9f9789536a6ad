"""DrayTek (Vigor) firmware versions.

Forms: ``3.9.7.2``, ``4.3.1_STD``, ``1.5.1.4_Beta``, ``4.3.2.6_RC2``, ``3.9.6.3_BT``, and the SNMP
form ``1.5.1.4_Beta/1.5.1.4`` (displayed version / base version; the part before "/" is read, the
rest kept in ``suffix``).

Ordering: release, then stage: ``_Beta`` < ``_RC<n>`` < final. ``_STD`` ("standard") and other
flavour labels (``_BT``, ``_LTE``, ...) are the final release of another build flavour: kept in
``suffix``, not ordered, so ``4.3.1_STD`` == ``4.3.1``.
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    clean,
    date8,
    date_only,
    dotted,
    ints,
    register_formatter,
)

SCHEME = "draytek"

_FORM = re.compile(
    r"v?(?P<rel>\d+(?:\.\d+)+)"
    r"(?:[_ .-]?(?P<stage>beta|rc)[_ .-]?(?P<n>\d*))?"
    r"(?:[_ -](?P<label>[a-z][a-z0-9]*))?"
)


def parse(text: str) -> FirmwareVersion | None:
    s = clean(text)
    if s is None:
        return None
    d = date_only(s)
    if d is not None:
        return FirmwareVersion(SCHEME, build_date=d, text=text)
    main, slash, alt = s.partition("/")
    m = _FORM.fullmatch(main.strip())
    if m is None:
        return None
    labels = [x for x in (m.group("label"), alt.strip() if slash else None) if x]
    return FirmwareVersion(
        SCHEME,
        release=ints(m.group("rel")),
        stage=(m.group("stage") + m.group("n")) if m.group("stage") else None,
        suffix=" ".join(labels) or None,
        text=text,
    )


def format(v: FirmwareVersion) -> str:
    if not v.release:
        return date8(v.build_date) if v.build_date else ""
    text = dotted(v.release)
    if v.stage:
        text += "_" + (v.stage.upper() if v.stage.startswith("rc") else v.stage.capitalize())
    return text


register_formatter(SCHEME, format)
