"""Product names -> model keys: the alias rules of ``match/data/aliases.yaml``.

NVD and CVE 5 name a product in many ways (``tl-wr940n`` / ``wr940n``, ``rt-ax56u_v2_firmware``,
``ac1750`` for the Archer A7, ``rv110w_wireless-n_vpn_firewall``, ``"Archer AX21(AX1800)"``).
:class:`AliasRules` turns each into a :class:`ProductRef`: the canonical model keys it stands
for, the hardware revision its name carries, and whether it names a whole family. Devices go
through the same rules (:meth:`AliasRules.model_keys`), so both sides meet on one key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from routerwatch.cache import load_yaml
from routerwatch.identity.hardware import model_key, split_product
from routerwatch.identity.vendors import canonical_vendor, split_vendor_prefix

Generic = Literal["vendor", "platform"]

__all__ = ["AliasRules", "Generic", "ProductRef", "free_text_parts", "vendor_key"]

_SPACES = re.compile(r"\s+")
_PAREN_MODEL = re.compile(r"\(([^()]*\d[^()]*)\)")


def free_text_parts(product: str) -> list[str]:
    """The product names inside one CVE 5 product text: comma-separated ones, and a model in
    parentheses ("AC1350 Wireless MU-MIMO Gigabit Access Point (EAP225 V3)" -> that text and
    "EAP225 V3"). A parenthesis without digits ("(EU)") is a region, not a model."""
    out: list[str] = []
    for part in product.split(","):
        part = part.strip()
        if part:
            out.append(part)
            out.extend(m.group(1).strip() for m in _PAREN_MODEL.finditer(part))
    return out
_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=65536)
def vendor_key(text: str | None) -> str | None:
    """One key per vendor: the display name when routerwatch knows the vendor ("tp-link",
    "TP-LINK", "tplink" -> "TP-Link"), else the text itself in lower case ("zzinc")."""
    if text is None or not text.strip() or text.strip().lower() in ("n/a", "*", "-"):
        return None
    return canonical_vendor(text) or text.strip().lower()


@dataclass(frozen=True, slots=True)
class ProductRef:
    """What one product name stands for."""

    name: str  # as written in the source, unescaped ("archer_ax21_firmware")
    keys: frozenset[str]  # canonical model keys ({"archerax21"}); empty for generic firmware
    hardware: str | None = None  # hardware revision named in the product ("2" for _v2)
    generic: Generic | None = None  # a firmware family, not a model (see aliases.yaml)


class AliasRules:
    """The rules of one aliases file; use :meth:`load` for the shipped one."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._descriptive = frozenset(str(w).lower() for w in data.get("descriptive_words", ()))
        self._patterns = tuple(
            re.compile(str(p), re.I) for p in data.get("descriptive_patterns", ())
        )
        self._prefixes: dict[str, tuple[str, ...]] = {}
        self._aliases: dict[tuple[str, str], frozenset[str]] = {}
        self._generic: dict[tuple[str, str], Generic] = {}
        self._cache: dict[tuple[str, str, bool], ProductRef | None] = {}
        for vendor_text, rules in (data.get("vendors") or {}).items():
            vk = vendor_key(str(vendor_text))
            if vk is None:
                continue
            prefixes = tuple(sorted((str(p) for p in rules.get("prefixes", ())), key=len))
            self._prefixes[vk] = tuple(reversed(prefixes))  # longest first
        for vendor_text, rules in (data.get("vendors") or {}).items():
            vk = vendor_key(str(vendor_text))
            if vk is None:
                continue
            for product, targets in (rules.get("products") or {}).items():
                key = self._canonical(vk, model_key(str(product)))
                self._aliases[(vk, key)] = frozenset(
                    self._canonical(vk, model_key(str(t))) for t in targets
                )
        self._families: dict[str, tuple[tuple[re.Pattern[str], str, re.Pattern[str]], ...]] = {}
        for vendor_text, families in (data.get("families") or {}).items():
            vk = vendor_key(str(vendor_text))
            if vk is None:
                continue
            self._families[vk] = tuple(
                (re.compile(str(f["name"]), re.I), str(f["name"]), re.compile(str(f["models"])))
                for f in families
            )
        self._fused: dict[str, tuple[re.Pattern[str], ...]] = {}
        for vendor_text, patterns in (data.get("fused_revisions") or {}).items():
            vk = vendor_key(str(vendor_text))
            if vk is not None:
                self._fused[vk] = tuple(re.compile(str(p)) for p in patterns)
        for vendor_text, products in (data.get("generic_firmware") or {}).items():
            vk = vendor_key(str(vendor_text))
            if vk is None:
                continue
            for key, scope in products.items():
                if scope not in ("vendor", "platform"):
                    raise ValueError(f"aliases.yaml: generic_firmware scope {scope!r} of {key}")
                self._generic[(vk, str(key))] = scope

    @classmethod
    def load(cls) -> AliasRules:
        """The rules shipped in ``routerwatch/match/data/aliases.yaml`` (read once)."""
        return _shipped()

    # ------------------------------------------------------------------ keys

    def _canonical(self, vk: str, key: str) -> str:
        for prefix in self._prefixes.get(vk, ()):
            rest = key[len(prefix) :]
            if key.startswith(prefix) and _DIGIT.search(rest):
                return rest
        return key

    def fused_revision(self, vk: str, key: str) -> tuple[str, str] | None:
        """(model key, hardware revision) of a key with the revision fused to the model
        (D-Link ``dir820la1`` -> ``dir820l`` + ``a1``; the vendor's pattern in
        ``fused_revisions``), else None."""
        for pattern in self._fused.get(vk, ()):
            m = pattern.fullmatch(key)
            if m:
                return m.group("model"), m.group("rev")
        return None

    def model_keys(self, vk: str, model: str) -> frozenset[str]:
        """Canonical keys of a model as a device or a user writes it, through the same rules
        as the KB's product names (one normaliser for both sides): "Archer AX21" ->
        {"archerax21"}; "Archer C7 AC1750" -> {"archerc7"} (a speed class describes);
        "RV110W Wireless-N VPN Firewall" -> {"rv110w"}; "Orbi RBR760" -> {"rbr760"};
        "TL-WR841N/ND" -> {"wr841n", "wr841nd", "wr841nnd"} (a "/suffix" names a sibling
        model, or is part of the name: Buffalo "WEX-300HPTX/N")."""
        key = model_key(model)
        if not key:
            return frozenset()
        out = {self._canonical(vk, key)}
        head, sep, tail = model.partition("/")
        variants = [model]
        if sep and tail.strip().isalpha() and len(tail.strip()) <= 3:
            base = head.strip()
            stem = base.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            # the whole name too: for Buffalo "WEX-300HPTX/N" the "/N" is part of the model,
            # and the KB's product name keeps it (CVE-2024-44072)
            variants = [base] + ([stem + tail.strip()] if stem != base else []) + [model]
            out = set()
        for text in variants:
            primary = self._primary(vk, text)
            if primary:
                out.add(primary)
        return frozenset(out) if out else frozenset((self._canonical(vk, key),))

    def _primary(self, vk: str, text: str) -> str | None:
        """The canonical key a product name resolves to, before alias targets are added (a
        device named "AC1750" is not thereby an Archer A7)."""
        _vendor, rest = split_vendor_prefix(text.strip())
        token, _hw = split_product(_SPACES.sub("_", rest.strip().lower()))
        key = self._canonical(vk, model_key(self._strip_descriptive(token)))
        if not key or (vk, key) in self._generic:
            return None
        fused = self.fused_revision(vk, key)
        return fused[0] if fused else key

    def _keys_of(self, vk: str, key: str) -> frozenset[str]:
        """A canonical key and the keys its alias rules add."""
        return frozenset((key,)) | self._aliases.get((vk, key), frozenset())

    def is_descriptive(self, word: str) -> bool:
        """Whether a (lower-case) word describes a product rather than names it."""
        return word in self._descriptive or any(p.fullmatch(word) for p in self._patterns)

    _is_descriptive = is_descriptive

    def families(self, vk: str, text: str) -> list[tuple[str, re.Pattern[str]]]:
        """Family or OS names of the vendor found in a text ("RV Series", "Vigor",
        "RouterOS"): (the name as matched, regex on the model keys it covers)."""
        out = []
        for finder, _name, models in self._families.get(vk, ()):
            m = finder.search(text)
            if m:
                out.append((m.group(0), models))
        return out

    def _strip_descriptive(self, token: str) -> str:
        """Drop describing words around the model: leading ones without digits ("orbi
        satellite rbs750"), and all words after a first one holding a digit when they all
        describe ("rv110w wireless-n vpn firewall", "ex3700 ac750")."""
        words = [w for w in token.split("_") if w]
        start = 0
        while start < len(words) - 1 and self._is_descriptive(words[start]) \
                and not _DIGIT.search(words[start]):
            start += 1
        if start and not any(_DIGIT.search(w) for w in words[start:]):
            start = 0
        words = words[start:]
        if len(words) > 1 and _DIGIT.search(words[0]) and all(
            self._is_descriptive(w) for w in words[1:]
        ):
            return words[0]
        # trailing describing words after the model ("archer c7 ac1750"): dropped while a
        # word holding a digit that is not itself describing stays
        end = len(words)
        while end > 1 and self._is_descriptive(words[end - 1]) and any(
                _DIGIT.search(w) and not self._is_descriptive(w) for w in words[:end - 1]):
            end -= 1
        return "_".join(words[:end])

    # ------------------------------------------------------------------ products

    def product(self, vk: str, product: str, *, free_text: bool = False) -> ProductRef | None:
        """Resolve one product name of vendor key ``vk``.

        ``product`` is a CPE product (unescaped) or, with ``free_text``, a CVE 5 product
        ("RT-AX56U V2", "Archer AX21(AX1800)"). None when nothing usable is left ("n/a").
        """
        key = (vk, product, free_text)
        try:
            return self._cache[key]
        except KeyError:
            ref = self._cache[key] = self._resolve(vk, product, free_text)
            return ref

    def _resolve(self, vk: str, product: str, free_text: bool) -> ProductRef | None:
        name = product.strip()
        if not name or name.lower() in ("n/a", "*", "-"):
            return None
        text = name
        if free_text:
            _vendor, text = split_vendor_prefix(text)
            text = _SPACES.sub("_", text.strip().lower())
        token, hardware = split_product(text.lower())
        token = self._strip_descriptive(token)
        key = self._canonical(vk, model_key(token))
        if not key:
            return None
        scope = self._generic.get((vk, key))
        if scope is not None:
            return ProductRef(name=name, keys=frozenset(), hardware=hardware, generic=scope)
        fused = self.fused_revision(vk, key) if hardware is None else None
        if fused is not None:  # "dir820la1_firmware": the DIR-820L of hardware A1 only
            key, hardware = fused
        return ProductRef(name=name, keys=self._keys_of(vk, key), hardware=hardware)


@lru_cache(maxsize=1)
def _shipped() -> AliasRules:
    text = resources.files("routerwatch.match").joinpath("data/aliases.yaml").read_text("utf-8")
    return AliasRules(load_yaml(text))
