"""NETGEAR firmware versions.

Forms read: ``V1.0.4.84_10.0.58`` (release 1.0.4.84, then the GUI/language version 10.0.58 as a
secondary level), ``1.0.11.136_10.2.120``, ``1.0.9.90_3`` (a hotfix counter after ``_``, read as
the secondary level), ``1.0.4.6.Beta`` (beta of 1.0.4.6: older than 1.0.4.6), ``1.6.01.34``
(leading zeros do not matter), ``N300-V1.1.0.54_1.0.1`` (a model prefix before ``-V`` is dropped),
``3.4.0_ap`` and ``1.7.0.34 x64`` (a trailing word is a label, kept in ``suffix``, not ordered),
date-only strings such as ``20240710`` or ``2017-01-06``.

Ordering: release (numerically, so 1.0.4.120 > 1.0.4.84), then the secondary group, then the
stage (Beta < final). A bound without the secondary group (``1.0.7.2``) compares on the release
only. Not understood (None): ``1.4_beta_release_17``, ``m16kt61a``.
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

SCHEME = "netgear"

_FORM = re.compile(
    r"v?(?P<rel>\d+(?:\.\d+)+)"
    r"(?:_(?P<sec>\d+(?:\.\d+)*))?"
    r"(?:[._ -]?(?P<stage>beta|rc)(?P<n>\d*))?"
    r"(?:[._ -]?(?P<label>[a-z][a-z0-9]*))?"
)


def parse(text: str) -> FirmwareVersion | None:
    s = clean(text)
    if s is None:
        return None
    d = date_only(s)
    if d is not None:
        return FirmwareVersion(SCHEME, build_date=d, text=text)
    s = re.sub(r"^[a-z0-9]+-(?=v\d)", "", s)  # "n300-v1.1.0.54_1.0.1"
    m = _FORM.fullmatch(s)
    if m is None:
        return None
    stage = (m.group("stage") + m.group("n")) if m.group("stage") else None
    return FirmwareVersion(
        SCHEME,
        release=ints(m.group("rel")),
        secondary=ints(m.group("sec")) if m.group("sec") else (),
        stage=stage,
        suffix=m.group("label"),
        text=text,
    )


def format(v: FirmwareVersion) -> str:
    if not v.release:
        return date8(v.build_date) if v.build_date else ""
    text = "V" + dotted(v.release)
    if v.secondary:
        text += "_" + dotted(v.secondary)
    if v.stage:
        text += "." + v.stage.capitalize()
    if v.suffix:
        text += "_" + v.suffix
    return text


register_formatter(SCHEME, format)
