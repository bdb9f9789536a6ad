"""CISA KEV entries as a source: which devices an entry's vendorProject/product names.

KEV names products in words: "Small Business RV320 and RV325 Routers", "AC7, AC9, and AC10
Routers", "Archer AX21", "WNR2000v5 Router", "RV160, RV260, RV340, and RV345 Series Routers",
"Small Business RV Series Routers", "Multiple Vigor Routers", "RouterOS". :func:`kev_names`
reads such a product into names:

* ``model``: a model name (through the alias rules, as CVE 5 free text: "RV320", "Archer AX21",
  "WNR2000v5" = WNR2000 hardware v5);
* ``prefix``: "<model> Series" = every model whose key starts with it (RV345 Series: RV345,
  RV345P);
* ``family``: a family or OS word the alias data lists for the vendor (``families`` in
  aliases.yaml: Cisco "RV Series", DrayTek "Vigor", MikroTik "RouterOS", Zyxel "Firewalls").

"Multiple Routers" / "Multiple Devices" name no device and give nothing: KEV alone never makes
every model of a vendor a finding. A KEV name that matches a device gives a *possible* finding
("KEV names <product>") unless NVD or CVE 5 data name the device and decide the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from routerwatch.match.aliases import AliasRules
from routerwatch.match.compare import hardware_matches

__all__ = ["KEV_WIDE", "KevName", "kev_names", "kev_names_device"]

KEV_WIDE = "\x00kev-family"  # product placeholder of the match index (never a real name)

_SPLIT = re.compile(r",\s*(?:and\s+|&\s*)?|\s+and\s+|\s*&\s*|\s*/\s*(?=[a-z]{2,}\d)", re.I)
_DIGIT = re.compile(r"\d")
_SKIP = frozenset({"multiple", "devices", "device", "model", "models", "products", "product",
                   "firmware", "various", "certain", "some", "the"})


@dataclass(frozen=True, slots=True)
class KevName:
    kind: Literal["model", "prefix", "family"]
    text: str  # as KEV writes it, for the explanation
    keys: frozenset[str] = frozenset()  # model keys (model), or the key prefix (prefix)
    hardware: str | None = None
    pattern: re.Pattern[str] | None = None  # family: regex on model keys


def _words(rules: AliasRules, part: str) -> list[str]:
    return [w for w in part.split() if w.lower() not in _SKIP
            and not (rules.is_descriptive(w.lower()) and not _is_model_word(w))]


def _is_model_word(word: str) -> bool:
    return bool(_DIGIT.search(word)) and len(word) >= 3 and not re.fullmatch(
        r"(?:ac|ax|axe|be|n)\d{3,5}", word.lower())


def kev_names(rules: AliasRules, vk: str, product: str) -> tuple[KevName, ...]:
    """The names in one KEV product text of vendor key ``vk``."""
    out: list[KevName] = []
    product = product.strip()
    for fam_text, pattern in rules.families(vk, product):
        out.append(KevName("family", fam_text, pattern=pattern))
    for raw in _SPLIT.split(product):
        part = raw.strip()
        if not part:
            continue
        series = bool(re.search(r"\bseries\b", part, re.I))
        words = _words(rules, re.sub(r"\bseries\b", " ", part, flags=re.I))
        models = [w for w in words if _is_model_word(w)]
        if not models:
            continue
        candidates = [" ".join(words)] if len(words) > 1 else []
        candidates += models
        for text in dict.fromkeys(candidates):
            ref = rules.product(vk, text, free_text=True)
            if ref is None or ref.generic is not None or not ref.keys:
                continue
            kind: Literal["model", "prefix"] = "prefix" if series else "model"
            out.append(KevName(kind, f"{text} Series" if series else text, ref.keys,
                               ref.hardware))
    return tuple(dict.fromkeys(out))


def kev_names_device(names: tuple[KevName, ...], keys: frozenset[str],
                     hardware: str | None) -> KevName | None:
    """The first name that covers a device (its model keys and hardware revision)."""
    for name in names:
        if name.kind == "family":
            assert name.pattern is not None
            if any(name.pattern.match(k) for k in keys):
                return name
        elif name.kind == "prefix":
            if any(k.startswith(p) for k in keys for p in name.keys):
                return name
        elif not name.keys.isdisjoint(keys):
            if name.hardware and hardware and hardware_matches(name.hardware, hardware) is False:
                continue
            return name
    return None
