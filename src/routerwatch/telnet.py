"""Telnet negotiation removed from service greetings: the one implementation.

The scanner strips it from the bytes it reads (:func:`strip_telnet`); the fingerprint engine
and the compromise checks read a Banner model, whose ``raw_hex`` holds the first bytes as sent
and whose ``text`` is the lenient decoding, where an IAC byte may show as a ``\\xff`` escape,
as U+FFFD or as Latin-1 ``ÿ`` (:func:`banner_texts`). Sequences removed: ``IAC WILL/WONT/DO/
DONT option``, ``IAC SB … IAC SE`` (to the end when SE never comes), ``IAC command``;
``IAC IAC`` is a literal 0xFF data byte.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from routerwatch.models import Banner

IAC, SB, SE = 0xFF, 0xFA, 0xF0
REPLACEMENT = 0xFFFD  # what a lenient decoder made of an IAC byte
_NEGOTIATE = (0xFB, 0xFC, 0xFD, 0xFE)  # WILL, WONT, DO, DONT
_UNIT = re.compile(r"\\x[0-9a-fA-F]{2}|.", re.S)
_HEX = re.compile(r"(?:[0-9a-f]{2})+")


def strip_codes(codes: Sequence[int], iac: tuple[int, ...] = (IAC,)) -> tuple[list[int], bool]:
    """Remove Telnet command sequences from byte values (or text code points, with
    ``iac=(IAC, REPLACEMENT)``); (the rest, whether any were present)."""
    out: list[int] = []
    i, n, found = 0, len(codes), False
    while i < n:
        c = codes[i]
        if c not in iac:
            out.append(c)
            i += 1
            continue
        found = True
        if i + 1 >= n:
            break
        cmd = codes[i + 1]
        if cmd == IAC:  # escaped 0xff data byte
            out.append(IAC)
            i += 2
        elif cmd in _NEGOTIATE or cmd == REPLACEMENT:
            i += 3
        elif cmd == SB:  # subnegotiation: skip to IAC SE
            i += 2
            while i < n and not (
                codes[i] in iac and i + 1 < n and codes[i + 1] in (SE, REPLACEMENT)
            ):
                i += 1
            i += 2
        else:
            i += 2
    return out, found


def strip_telnet(data: bytes) -> tuple[bytes, bool]:
    """Remove Telnet IAC command sequences; (clean bytes, whether any were present)."""
    if IAC not in data:
        return data, False
    codes, found = strip_codes(data)
    return bytes(codes), found


def _text_codes(text: str) -> list[int]:
    """The scanner's lenient text as code points, its ``\\xNN`` escapes undone."""
    return [
        int(u[2:], 16) if len(u) == 4 and u[:2] == "\\x" else ord(u) for u in _UNIT.findall(text)
    ]


def banner_texts(banner: Banner) -> list[str]:
    """The greeting without Telnet negotiation: from the raw bytes (when the banner has them;
    UTF-8, else Latin-1), then from the text. Empty forms are left out."""
    forms: list[str] = []
    raw = banner.raw_hex.strip().lower()
    if raw and _HEX.fullmatch(raw):
        clean, _ = strip_telnet(bytes.fromhex(raw))
        try:
            forms.append(clean.decode("utf-8"))
        except UnicodeDecodeError:
            forms.append(clean.decode("latin-1"))
    if banner.text:
        codes, _ = strip_codes(_text_codes(banner.text), (IAC, REPLACEMENT))
        forms.append("".join(map(chr, codes)))
    return [f for f in forms if f]


def lstrip_controls(text: str) -> str:
    """``text`` from its first character that is neither whitespace nor a control."""
    i = 0
    while i < len(text) and (ord(text[i]) < 0x21 or 0x7F <= ord(text[i]) < 0xA0):
        i += 1
    return text[i:]
