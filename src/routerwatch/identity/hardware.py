"""Hardware revisions and model names as NVD, CVE 5 and devices write them.

Hardware revisions come as ``-``, ``8.0``, ``v5``, ``a1``, ``bx``, ``rev._a1`` or inside the
product name (``rt-ax56u_v2_firmware``, ``r6400v2_firmware``, ``p660hn-t1a_v1_firmware``,
``tl-wr841n_\\(9.0\\)_firmware``). :func:`normalize_hardware` gives one spelling for all of
them (``V8`` = ``8.0`` = ``v8.0`` = ``8`` -> ``"8"``), :func:`split_product` takes a revision out
of a CPE product token and :func:`model_key` gives a key under which "Archer AX21 (AX1800)" and
"archer_ax21" meet.

Decisions (see docs/identity.md):

* A fractional part made of zeros only is dropped (``8.0`` -> ``8``) but any other is kept as
  written: TP-Link labels say ``2.20`` and ``2.2`` would be a different string.
* ``split_product`` splits a glued ``v<1-2 digits>`` off a model only when the part before it
  ends in a digit (optionally followed by one or two letters): ``r6400v2``, ``wnr2000v5``,
  ``dg834gv5``, ``td-w9970v3``. No router model we know of ends in ``<digit>v<digit>`` as part of
  its name; ``EX20v`` or ``Archer C5v`` have no digit after the ``v`` and stay whole.
* A letter revision (``_b1``, ``_c1``, ``+d1``) is split off only when the model before it
  contains a digit and the revision is one of ``a1`` .. ``h9``: ``rt-ac66u_b1`` -> ``b1`` while
  ``archer_c7`` and ``deco_m4`` stay whole.
"""

from __future__ import annotations

import re
from functools import lru_cache

from routerwatch.identity.vendors import all_series_words, split_vendor_prefix

__all__ = ["model_key", "normalize_hardware", "split_product", "unescape_cpe"]

_CPE_ESCAPE = re.compile(r"\\(.)")
_EMPTY = frozenset({"", "-", "*", "n/a", "na", "none", "unknown", "any", "all"})
_PREFIX = re.compile(
    r"^(?:hardware\s*version|hardware\s*ver\.?|hardware|hw\s*version|hw\s*ver\.?|h/w\s*version"
    r"|h/w\s*ver\.?|h/w|hw|revision|rev\.?|version|ver\.?|v(?=\d))[\s._:=#-]*"
)
_NUMERIC = re.compile(r"\d+(?:\.\d+)*")
_LETTER_REV = re.compile(r"[a-z]{1,2}\d{0,2}|[a-z]x")
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")


def unescape_cpe(text: str) -> str:
    """Remove CPE 2.3 backslash escapes: ``tl-wr840n\\(eu\\)`` -> ``tl-wr840n(eu)``."""
    return _CPE_ESCAPE.sub(r"\1", text) if "\\" in text else text


def normalize_hardware(text: str | None) -> str | None:
    """One spelling for a hardware revision, or None when there is none.

    ``"V8"``, ``"8.0"``, ``"v8.0"``, ``"8"`` -> ``"8"``; ``"2.20"`` -> ``"2.20"``; ``"v5.3"`` ->
    ``"5.3"``; ``"rev._a1"``, ``"A1"``, ``"Rev A1"`` -> ``"a1"``; ``"bx"`` -> ``"bx"``;
    ``"-"``, ``"*"``, ``""`` -> None; TP-Link's UPnP ``"v8 00000000"`` -> ``"8"``. Text that does
    not look like a revision (spaces, long words) gives None rather than a guess.
    """
    if text is None:
        return None
    s = unescape_cpe(text).strip().lower()
    if s in _EMPTY:
        return None
    s = re.sub(r"\s+0{4,}[0-9a-f]*$", "", s)  # TP-Link "WR841N v8 00000000": a board id
    for _ in range(3):  # ".HW", "HWREV": prefix words alone are no revision
        stripped = _PREFIX.sub("", s.strip(" ._-"), count=1).strip(" ._-")
        if stripped == s:
            break
        s = stripped
    if s in _EMPTY:
        return None
    if _NUMERIC.fullmatch(s):
        parts = s.split(".")
        parts[0] = str(int(parts[0]))
        while len(parts) > 1 and set(parts[-1]) == {"0"}:
            parts.pop()
        return ".".join(parts)
    if _LETTER_REV.fullmatch(s):
        return s
    if len(s) <= 8 and _TOKEN.fullmatch(s):
        return s
    return None


_FIRMWARE_SUFFIX = re.compile(r"[_ -]firmware$")
_PAREN_REV = re.compile(r"(.+?)[_ ]?\((v?\d{1,2}(?:\.\d{1,2})?)\)")
_SEP_V_REV = re.compile(r"(.+?)[_ -]v(\d{1,2}(?:\.\d{1,2})?)")
_WORD_REV = re.compile(r"(.+?)[_ -]rev[._ -]*([a-z]?\d{1,2}(?:\.\d{1,2})?|[a-z][a-z0-9]?)")
_LETTER_SPLIT = re.compile(r"(.*\d.*?)(?:[_ ]|(?<=\+))([a-h]\d)")
_GLUED_V = re.compile(r"(.*\d[a-z]{0,2})v(\d{1,2})")


def split_product(product: str) -> tuple[str, str | None]:
    """Split an NVD/CVE 5 product token into (model token, hardware revision or None).

    The model token loses a trailing ``_firmware`` and CPE escapes, and stays lower-case:
    ``"rt-ax56u_v2_firmware"`` -> ``("rt-ax56u", "2")``; ``"r6400v2_firmware"`` ->
    ``("r6400", "2")``; ``"p660hn-t1a_v1_firmware"`` -> ``("p660hn-t1a", "1")``;
    ``"tl-wr841n_\\(9.0\\)_firmware"`` -> ``("tl-wr841n", "9")``; ``"rt-ac66u_b1"`` ->
    ``("rt-ac66u", "b1")``; ``"archer_ax21_firmware"`` -> ``("archer_ax21", None)``;
    ``"tl-wr841n"`` -> ``("tl-wr841n", None)``.
    """
    s = unescape_cpe(product).strip().lower()
    s = _FIRMWARE_SUFFIX.sub("", s)
    for pattern in (_PAREN_REV, _SEP_V_REV, _WORD_REV, _LETTER_SPLIT):
        m = pattern.fullmatch(s)
        if m:
            return m.group(1).rstrip("_ -"), normalize_hardware(m.group(2))
    m = _GLUED_V.fullmatch(s)
    if m and not m.group(1).endswith("ip"):  # "ipv6" is no revision
        return m.group(1), normalize_hardware(m.group(2))
    return s, None


_PARENS = re.compile(r"\([^)]*\)")
_FIRMWARE_WORD = re.compile(r"\s+firmware\s*$")
_KEY_DROP = re.compile(r"[^a-z0-9+]")


@lru_cache(maxsize=65536)
def model_key(text: str) -> str:
    """Normalisation key for comparing model names across sources.

    Lower-case; CPE escapes, a leading vendor name, a leading series word ("Nighthawk",
    "Omada"), parenthesised marketing ("(AX1800)") and a trailing "firmware" are dropped, then
    everything but letters, digits and "+" (RT-N12 and RT-N12+ are different routers):
    "Archer AX21 (AX1800)" and "archer_ax21" -> "archerax21"; "TL-WR841N" -> "tlwr841n";
    "RT-AX88U" -> "rtax88u"; "Nighthawk R7000" -> "r7000". Cached: the matcher asks for the same
    names again and again.
    """
    s = unescape_cpe(text).lower().replace("_", " ")
    s = _PARENS.sub(" ", s)
    s = _FIRMWARE_WORD.sub("", s).strip()
    vendor, rest = split_vendor_prefix(s)
    if vendor is not None and rest:
        s = rest
    for word in all_series_words():
        if s.startswith(word + " ") and s[len(word) :].strip():
            s = s[len(word) :].strip()
            break
    return _KEY_DROP.sub("", s)
