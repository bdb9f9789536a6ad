"""What every version scheme shares: the FirmwareVersion value, its ordering and small parsers.

Ordering model
--------------
A FirmwareVersion is a sequence of *levels*, compared in this order::

    release      numeric parts (trailing zeros ignored: 1.1 == 1.1.0), a letter patch on the
                 last part orders after the bare number (1.0.1.4 < 1.0.1.4o < 1.0.1.5)
    secondary    a second number group (NETGEAR's GUI version in V1.0.4.84_10.0.58)
    build_date   a date (TP-Link "Build 20230219", 6-digit yymmdd "130506", date-only bounds)
    build        a build/release counter (TP-Link rel.73766, ASUS _51529, D-Link B12, ...)
    stage        alpha < beta < rc < final < hotfix; present whenever a release is

A level missing on either side is skipped: two versions are compared on the precision they share
(``1.1.4`` vs ``1.1.4 Build 20230219 rel.73766`` -> equal; ``1.1.4 Build 20230219`` vs
``1.1.4 Build 20230101`` -> the second is older). When the two share no level (a date-only bound
against a version without a date) the answer is None: "cannot tell", never a guess. Two *gates*
must agree when both are known, else the answer is None too: ``hardware`` (TP-Link
``V3_1.1.4`` is firmware for hardware v3) and ``code`` (Zyxel's model code ``ABUJ``).

Laws (tested with hypothesis): compare(a, a) == 0; compare(a, b) == -compare(b, a) (None
both ways); strict order is transitive (a < b and b < c imply a < c) whenever the levels present
form a prefix of the list above, and versions of full precision are totally ordered. Equality on
shared precision is not transitive across precisions (1.1.4 equals both 1.1.4 Build 20230101 and
1.1.4 Build 20230219) and a date-only version compared with versions that have a release can
break transitivity; both are inherent in "compare on what both say".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "FirmwareVersion",
    "clean",
    "clean_or_date",
    "compare",
    "date_only",
    "match_fields",
    "parse_date",
    "parse_with",
    "release_formatter",
    "stage_key",
]

# Stage words and their rank. "c" is Zyxel's release counter (C0, C1), ranked as a final release.
# "b" is Zyxel's beta counter; D-Link's "B12" is a build number and never reaches this table.
_STAGE_RANK = {
    "alpha": -3,
    "beta": -2,
    "b": -2,
    "pre": -1,
    "rc": -1,
    "c": 0,
    "": 0,
    "hotfix": 1,
    "hf": 1,
}
_STAGE = re.compile(r"([a-z]*)\s*(\d*)")


def stage_key(stage: str | None) -> tuple[int, int]:
    """Order of a stage string: "beta2" -> (-2, 2); None or "" -> (0, 0) (a final release)."""
    if not stage:
        return (0, 0)
    m = _STAGE.fullmatch(stage)
    if m is None or m.group(1) not in _STAGE_RANK:
        raise ValueError(f"unknown release stage {stage!r}")
    return (_STAGE_RANK[m.group(1)], int(m.group(2) or 0))


def _release_key(release: tuple[int, ...], patch: str | None) -> tuple[tuple[int, str, int], ...]:
    parts = [(n, "", 0) for n in release]
    if patch:
        m = re.fullmatch(r"([a-z]+)(\d*)", patch)
        if m is None:
            raise ValueError(f"bad patch {patch!r}")
        parts[-1] = (release[-1], m.group(1), int(m.group(2) or 0))
    while parts and parts[-1] == (0, "", 0):
        parts.pop()
    return tuple(parts)


def _strip_zeros(parts: tuple[int, ...]) -> tuple[int, ...]:
    end = len(parts)
    while end and parts[end - 1] == 0:
        end -= 1
    return parts[:end]


_FORMATTERS: dict[str, Callable[[FirmwareVersion], str]] = {}


@dataclass(frozen=True)
class FirmwareVersion:
    """One firmware version string, parsed by a vendor scheme.

    Two versions are equal (==) when every ordered field and both gates are equal; ``suffix``
    (labels that do not order: git hashes, flavours such as DrayTek ``STD``, ignored tokens) and
    ``text`` (the input) are informational. ``str()`` gives the scheme's canonical spelling, which
    parses back to an equal value.
    """

    scheme: str
    release: tuple[int, ...] = ()
    patch: str | None = None  # letter tail of the last release part ("o" in 1.0.1.4o)
    secondary: tuple[int, ...] = ()
    build_date: date | None = None
    build: int | None = None
    stage: str | None = None  # "beta", "beta2", "rc1", "hotfix", Zyxel "c0"/"b3"
    code: str | None = None  # gate: Zyxel model code "ABUJ"
    hardware: str | None = None  # gate: hardware revision the firmware is for
    region: str | None = None  # "EU", "US", "JP", D-Link "WW"/"NA": not ordered
    suffix: str | None = field(default=None, compare=False)
    text: str = field(default="", compare=False)
    key: tuple[Any, ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        has_release = bool(self.release)
        key = (
            _release_key(self.release, self.patch) if has_release else None,
            _strip_zeros(self.secondary) if self.secondary else None,
            self.build_date,
            self.build,
            stage_key(self.stage) if has_release else None,
        )
        object.__setattr__(self, "key", key)

    def __str__(self) -> str:
        fmt = _FORMATTERS.get(self.scheme)
        return fmt(self) if fmt is not None else self.text

    @property
    def precision(self) -> tuple[str, ...]:
        """Names of the levels this version states, e.g. ("release", "build_date", "build")."""
        names = ("release", "secondary", "build_date", "build", "stage")
        return tuple(n for n, k in zip(names, self.key, strict=True) if k is not None)


def register_formatter(scheme: str, fmt: Callable[[FirmwareVersion], str]) -> None:
    _FORMATTERS[scheme] = fmt


def release_formatter(
    scheme: str,
) -> Callable[[Callable[[FirmwareVersion], str]], Callable[[FirmwareVersion], str]]:
    """Decorator: register ``fmt`` as the scheme's ``str()``, writing a version without a release
    (a date-only bound) as ``yyyymmdd`` ("" when it has no date either), so ``fmt`` only ever
    sees versions that have a release."""

    def register(fmt: Callable[[FirmwareVersion], str]) -> Callable[[FirmwareVersion], str]:
        @functools.wraps(fmt)
        def formatted(v: FirmwareVersion) -> str:
            if not v.release:
                return date8(v.build_date) if v.build_date else ""
            return fmt(v)

        register_formatter(scheme, formatted)
        return formatted

    return register


def compare(a: FirmwareVersion, b: FirmwareVersion) -> int | None:
    """-1, 0 or 1 on the precision both versions share; None when they cannot be compared."""
    if a.scheme != b.scheme:
        return None
    if a.hardware is not None and b.hardware is not None and a.hardware != b.hardware:
        return None
    if a.code is not None and b.code is not None and a.code != b.code:
        return None
    shared = False
    for x, y in zip(a.key, b.key, strict=True):
        if x is None or y is None:
            continue
        shared = True
        if x != y:
            return -1 if x < y else 1
    return 0 if shared else None


# --------------------------------------------------------------------------- small parsers

_ESCAPE = re.compile(r"\\(.)")
_NOT_A_VERSION = frozenset(
    {"", "-", "*", "n/a", "na", "none", "unknown", "all", "any", "all versions", "x"}
)


def clean(text: str | None) -> str | None:
    """Lower-cased text with CPE escapes, quotes, edge punctuation and extra spaces removed.

    None for empty text and for the NVD/CVE 5 placeholders ``-``, ``*``, ``n/a``, "all versions".
    """
    if text is None:
        return None
    s = _ESCAPE.sub(r"\1", text) if "\\" in text else text
    s = " ".join(s.split()).strip().strip("\"'`").strip(" ,;").lower()
    if s in _NOT_A_VERSION:
        return None
    return s


def parse_date(digits: str) -> date | None:
    """A build date from ``yyyymmdd``, ``yymmdd`` (years 70-99 -> 19xx) or a 9-digit typo with a
    leading zero (``020240119``); None when the digits are not a calendar date."""
    if len(digits) == 9 and digits[0] == "0":
        digits = digits[1:]
    try:
        if len(digits) == 8:
            y, m, d = int(digits[:4]), int(digits[4:6]), int(digits[6:])
            if not 1990 <= y <= 2099:
                return None
        elif len(digits) == 6:
            yy, m, d = int(digits[:2]), int(digits[2:4]), int(digits[4:])
            y = 1900 + yy if yy >= 70 else 2000 + yy
        else:
            return None
        return date(y, m, d)
    except ValueError:
        return None


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def date_only(s: str) -> date | None:
    """The date when the whole (cleaned) string is a date: ``20240710``, ``230506``,
    ``2017-01-06``. Every scheme reads such strings as date-only versions."""
    if s.isdigit():
        return parse_date(s) if len(s) in (6, 8) else None
    m = _ISO_DATE.fullmatch(s)
    if m:
        # the same year bounds as the 8-digit form, so a date-only version's text parses back
        return parse_date(m.group(1) + m.group(2) + m.group(3))
    return None


def ints(dotted: str) -> tuple[int, ...]:
    """``"1.0.03.24"`` -> (1, 0, 3, 24); accepts "." and "_" as separators."""
    return tuple(int(p) for p in re.split(r"[._]", dotted) if p)


def dotted(parts: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in parts)


def date8(d: date) -> str:
    # not strftime: glibc writes year 1 as "1", not "0001", and the text would not parse back
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


# --------------------------------------------------------------------------- the parse skeleton


def clean_or_date(scheme: str, text: str) -> str | FirmwareVersion | None:
    """The first steps every scheme shares: None for empty text and placeholders (see
    :func:`clean`), a date-only version for a bare date (see :func:`date_only`), else the cleaned
    string for the scheme to read."""
    s = clean(text)
    if s is None:
        return None
    d = date_only(s)
    if d is not None:
        return FirmwareVersion(scheme, build_date=d, text=text)
    return s


def match_fields(m: re.Match[str]) -> dict[str, Any]:
    """FirmwareVersion fields from a scheme regex's named groups, by one naming convention:

    ``rel`` -> release (numbers, "." or "_" separated; required), ``patch`` -> patch as written,
    ``sec`` -> secondary, ``build`` -> build (an int), ``stage`` + ``n`` -> stage ("beta" + "2"),
    ``code`` and ``region`` -> upper-cased, ``label`` -> suffix. A group the regex lacks or that
    did not take part in the match leaves its field at the default.
    """
    g = m.groupdict()
    fields: dict[str, Any] = {"release": ints(g["rel"])}
    if g.get("patch"):
        fields["patch"] = g["patch"]
    if g.get("sec"):
        fields["secondary"] = ints(g["sec"])
    if g.get("build"):
        fields["build"] = int(g["build"])
    if g.get("stage"):
        fields["stage"] = g["stage"] + (g.get("n") or "")
    if g.get("code"):
        fields["code"] = g["code"].upper()
    if g.get("region"):
        fields["region"] = g["region"].upper()
    if g.get("label"):
        fields["suffix"] = g["label"]
    return fields


def parse_with(
    scheme: str,
    form: re.Pattern[str],
    text: str,
    fields: Callable[[re.Match[str]], dict[str, Any]] = match_fields,
) -> FirmwareVersion | None:
    """The whole ``parse()`` of a scheme described by one regex: :func:`clean_or_date`, then
    ``form`` must match the whole cleaned string (else None) and ``fields`` maps the match to
    FirmwareVersion fields (by default :func:`match_fields`' group-name convention)."""
    s = clean_or_date(scheme, text)
    if not isinstance(s, str):
        return s
    m = form.fullmatch(s)
    if m is None:
        return None
    return FirmwareVersion(scheme, text=text, **fields(m))
