"""Ubiquiti firmware versions (EdgeOS, UniFi, airOS).

Forms: ``v2.0.9-hotfix.7``, ``v1.10.11``, ``2.0.9-hotfix.6``, the full EdgeOS build string
``EdgeRouter.ER-e300.v2.0.9-hotfix.6.5574651.230619.0655`` (platform, release, stage, build
number, build date and time), UniFi ``4.3.20.11298`` / ``6.5.54`` / ``7.0.23``, airOS
``XW.v6.3.6`` / ``WA.v8.7.11`` (a platform prefix), ``v2.0.0-beta.3``, ``v1.9.7-rc1``.

Ordering: release, then build date, then build number, then stage (alpha < beta < rc < final <
hotfix, each by number). The platform prefix is a gate: airOS ``XW`` and ``WA`` firmware do not
compare; a version without a prefix compares with any.
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_date,
    parse_with,
    release_formatter,
)

SCHEME = "ubiquiti"

_FORM = re.compile(
    r"(?:(?P<code>(?!v\d)[a-z][a-z0-9-]*(?:\.(?!v\d)[a-z][a-z0-9-]*)*)\.)?v?(?P<rel>\d+(?:\.\d+){1,3})"
    r"(?:[-.]?(?P<stage>alpha|beta|rc|hotfix)[.]?(?P<n>\d*))?"
    r"(?:\.(?P<build>\d{5,8}))?(?:\.(?P<date>\d{6})\.\d{4})?"
)


def _fields(m: re.Match[str]) -> dict[str, object]:
    fields: dict[str, object] = {"release": tuple(int(p) for p in m.group("rel").split("."))}
    if m.group("code"):
        fields["code"] = m.group("code").upper()
    if m.group("stage"):
        fields["stage"] = m.group("stage") + (m.group("n") or "")
    if m.group("build"):
        fields["build"] = int(m.group("build"))
    if m.group("date"):
        d = parse_date(m.group("date"))
        if d is not None:
            fields["build_date"] = d
    return fields


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text, _fields)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = ("" if v.code is None else v.code + ".") + "v" + dotted(v.release)
    if v.stage:
        m = re.fullmatch(r"([a-z]+)(\d*)", v.stage)
        assert m is not None
        text += f"-{m.group(1)}" + (f".{m.group(2)}" if m.group(2) else "")
    if v.build is not None:
        text += f".{v.build:05d}"
        if v.build_date is not None:
            text += f".{v.build_date:%y%m%d}.0000"
    return text
