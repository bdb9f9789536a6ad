"""Vendor names: spellings, display names, NVD vendor ids and model families.

The data lives in ``identity/data/vendors.yaml``; this module only reads it. Display names follow
the project conventions ("TP-Link", "NETGEAR", "ASUS", "D-Link", "Zyxel", "Linksys", "DrayTek",
"Cisco", "MikroTik", "Ubiquiti", then the vendor's own spelling for the others).

>>> canonical_vendor("TP-Link Technologies Co., Ltd.")
'TP-Link'
>>> nvd_vendor_ids("D-Link")
('dlink', 'd-link')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from routerwatch.cache import load_yaml

__all__ = [
    "ModelFamily",
    "Vendor",
    "all_series_words",
    "canonical_vendor",
    "infer_vendor",
    "model_family",
    "nvd_vendor_ids",
    "series_words",
    "split_vendor_prefix",
    "vendor",
    "vendors",
]


@dataclass(frozen=True)
class ModelFamily:
    """A family of model names of one vendor (``TL-…``, ``Archer …``, ``RT-…``)."""

    pattern: re.Pattern[str]
    prefix: str | None = None  # written as is, the rest upper-cased ("Archer" + " AX21")
    case: str = "upper"  # "upper" or "keep" when no prefix
    join: bool = False  # no space after the prefix ("Vigor 2960" -> "Vigor2960")

    def display(self, model: str) -> str:
        """The model as the vendor writes it: ``"archer ax21"`` -> ``"Archer AX21"``,
        ``"lyra mini"`` -> ``"Lyra Mini"``, ``"tl-wr841n"`` -> ``"TL-WR841N"``.

        After a prefix, words holding a digit (model codes) and single letters are upper-cased,
        other words get a capital first letter.
        """
        if self.prefix is not None:
            rest = " ".join(_word_case(w) for w in model[len(self.prefix) :].split(" "))
            return self.prefix + (rest.lstrip() if self.join else rest)
        if self.case == "upper":
            return model.upper()
        return model


def _word_case(word: str) -> str:
    if any(c.isdigit() for c in word) or len(word) == 1:
        return word.upper()
    return word[:1].upper() + word[1:]


@dataclass(frozen=True)
class Vendor:
    display: str
    aliases: tuple[str, ...]
    nvd: tuple[str, ...]
    scheme: str
    series: tuple[str, ...]
    models: tuple[ModelFamily, ...]


@dataclass(frozen=True)
class _Registry:
    by_display: dict[str, Vendor]
    by_key: dict[str, str]  # normalised spelling -> display
    company_words: frozenset[str]
    prefix_spellings: tuple[tuple[str, str], ...]  # (lower-case spelling, display), longest first
    # The same spellings as one alternation, tried in that order, each only when followed by a
    # separator or the end: matches what a scan of prefix_spellings would find first.
    prefix_pattern: re.Pattern[str]
    prefix_display: dict[str, str]  # lower-case spelling -> display (first one wins)
    series_words: tuple[str, ...]  # of every vendor, longest first


_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PREFIX_SEPARATORS = " _,:/"  # what may follow a vendor name in front of a model


def _key(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


def _family(raw: dict[str, Any]) -> ModelFamily:
    return ModelFamily(
        pattern=re.compile(str(raw["match"])),
        prefix=raw.get("prefix"),
        case=str(raw.get("case", "upper")),
        join=bool(raw.get("join", False)),
    )


@lru_cache(maxsize=1)
def _registry() -> _Registry:
    text = resources.files("routerwatch.identity").joinpath("data/vendors.yaml").read_text("utf-8")
    data = load_yaml(text)
    by_display: dict[str, Vendor] = {}
    by_key: dict[str, str] = {}
    spellings: list[tuple[str, str]] = []
    for raw in data["vendors"]:
        v = Vendor(
            display=str(raw["display"]),
            aliases=tuple(str(a) for a in raw.get("aliases", ())),
            nvd=tuple(str(a) for a in raw.get("nvd", ())),
            scheme=str(raw.get("scheme", "generic")),
            series=tuple(str(s) for s in raw.get("series", ())),
            models=tuple(_family(m) for m in raw.get("models", ())),
        )
        by_display[v.display] = v
        for spelling in (v.display, *v.aliases, *v.nvd):
            by_key.setdefault(_key(spelling), v.display)
        # Spellings that may stand in front of a model in free text ("TP-Link Archer C7").
        # Two-letter NVD ids ("ui", "mi") are left out: "Mi Router" is a model name.
        for spelling in (v.display, *v.aliases):
            if len(_key(spelling)) >= 3:
                spellings.append((spelling.lower(), v.display))
    spellings.sort(key=lambda s: -len(s[0]))
    prefix_display: dict[str, str] = {}
    for spelling, display in spellings:
        prefix_display.setdefault(spelling, display)
    alternation = "|".join(re.escape(spelling) for spelling, _ in spellings) or "(?!)"
    series = {w for v in by_display.values() for w in v.series}
    return _Registry(
        by_display=by_display,
        by_key=by_key,
        company_words=frozenset(str(w) for w in data.get("company_words", ())),
        prefix_spellings=tuple(spellings),
        prefix_pattern=re.compile(f"(?:{alternation})(?=[{re.escape(_PREFIX_SEPARATORS)}]|\\Z)"),
        prefix_display=prefix_display,
        series_words=tuple(sorted(series, key=lambda w: -len(w))),
    )


@lru_cache(maxsize=4096)
def canonical_vendor(text: str | None) -> str | None:
    """The display name for any spelling of a router vendor, or None when unknown.

    Accepts display names, NVD CPE vendor ids and company names: "tplink", "TP-LINK",
    "tp_link", "TP-Link Technologies" -> "TP-Link"; "dlink", "D-Link Systems, Inc." -> "D-Link";
    "ui", "UBNT" -> "Ubiquiti". A longer text that starts with a vendor name ("Netgear
    Nighthawk") gives that vendor. Unknown spellings give None, never a guess.
    """
    if not text or not text.strip():
        return None
    reg = _registry()
    full = _key(text)
    if full in reg.by_key:
        return reg.by_key[full]
    tokens = [t for t in _NON_ALNUM.split(text.lower()) if t]
    kept = [t for t in tokens if t not in reg.company_words]
    if "".join(kept) in reg.by_key:
        return reg.by_key["".join(kept)]
    # "TP-Link Archer" / "Netgear Nighthawk": the longest leading run of words that is a vendor.
    for n in range(len(kept) - 1, 0, -1):
        head = "".join(kept[:n])
        if len(head) >= 3 and head in reg.by_key:
            return reg.by_key[head]
    return None


def nvd_vendor_ids(display: str) -> tuple[str, ...]:
    """CPE vendor ids NVD/CVE 5 use for a vendor: "TP-Link" -> ("tp-link", "tplink", "tp_link").

    Any spelling canonical_vendor() knows is accepted; unknown vendors give ().
    """
    name = canonical_vendor(display)
    if name is None:
        return ()
    return _registry().by_display[name].nvd


def vendor(display: str | None) -> Vendor | None:
    """The registry entry of a vendor (any known spelling), or None."""
    name = canonical_vendor(display)
    return None if name is None else _registry().by_display[name]


def vendors() -> tuple[Vendor, ...]:
    """Every vendor of the registry, in file order."""
    return tuple(_registry().by_display.values())


def split_vendor_prefix(text: str) -> tuple[str | None, str]:
    """Split a leading vendor name off a text: "TP-Link Archer C7" -> ("TP-Link", "Archer C7").

    The vendor must be followed by a space, "_" or the end of the text, so "asuswrt" keeps its
    name. Returns (None, text) when the text does not start with a vendor name.
    """
    reg = _registry()
    lowered = text.lower()
    if len(lowered) == len(text):  # the usual case: positions in lowered are positions in text
        m = reg.prefix_pattern.match(lowered)
        if m is None:
            return None, text
        return reg.prefix_display[m.group()], text[m.end() :].lstrip(_PREFIX_SEPARATORS)
    for spelling, display in reg.prefix_spellings:  # lower() changed the length ("İ" -> "i̇")
        if lowered.startswith(spelling):
            rest = text[len(spelling) :]
            if not rest or rest[0] in _PREFIX_SEPARATORS:
                return display, rest.lstrip(_PREFIX_SEPARATORS)
    return None, text


def infer_vendor(model: str) -> tuple[str, str] | None:
    """(vendor, model as the vendor writes it) when the model belongs to a known model family,
    else None: ``"RT-AX88U"`` -> ``("ASUS", "RT-AX88U")``, ``"archer c7"`` -> ``("TP-Link",
    "Archer C7")``. Families are disjoint by construction (see vendors.yaml)."""
    lowered = model.lower().replace("_", " ").strip()
    for v in _registry().by_display.values():
        for fam in v.models:
            if fam.pattern.match(lowered):
                return v.display, fam.display(model.strip())
    return None


def model_family(display: str | None, model: str) -> ModelFamily | None:
    """The family of a model within one vendor (for writing it as the vendor does)."""
    v = vendor(display)
    if v is None:
        return None
    lowered = model.lower().replace("_", " ").strip()
    for fam in v.models:
        if fam.pattern.match(lowered):
            return fam
    return None


def series_words(display: str | None) -> tuple[str, ...]:
    """Marketing series words of a vendor ("Nighthawk", "Omada"), lower-case."""
    v = vendor(display)
    return () if v is None else v.series


def all_series_words() -> tuple[str, ...]:
    """Series words of every vendor, longest first."""
    return _registry().series_words
