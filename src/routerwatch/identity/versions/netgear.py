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
    dotted,
    parse_with,
    release_formatter,
)

SCHEME = "netgear"

_FORM = re.compile(
    r"(?:[a-z0-9]+-(?=v\d))?"  # a model prefix: "n300-v1.1.0.54_1.0.1"
    r"v?(?P<rel>\d+(?:\.\d+)+)"
    r"(?:_(?P<sec>\d+(?:\.\d+)*))?"
    r"(?:[._ -]?(?P<stage>beta|rc)(?P<n>\d*))?"
    r"(?:[._ -]?(?P<label>[a-z][a-z0-9]*))?"
)


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = "V" + dotted(v.release)
    if v.secondary:
        text += "_" + dotted(v.secondary)
    if v.stage:
        text += "." + v.stage.capitalize()
    if v.suffix:
        text += "_" + v.suffix
    return text
