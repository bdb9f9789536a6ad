"""The fingerprint engine: every rule over every piece of evidence, merged into one identity.

Merging (documented with examples in docs/fingerprints.md):

1. Each rule that matches an input is a *hit* with a weight and the fields it read.
   Hits are grouped by *family* (the evidence source without port: ``http.realm``,
   ``upnp`` for all description fields, ``banner.ftp``...); within a family a value counts
   once, with its highest weight, so one answer seen on two ports is not two witnesses.
2. Vendor: the vendor with the largest summed weight wins; hits naming another vendor are
   conflicting and none of their fields is used.
3. Model: among the remaining hits the model with the largest summed weight wins. Models
   compare by ``identity.hardware.model_key`` (case, ``-``, ``_``, blanks ignored) and a key
   that ends another (``WR841N`` in ``TL-WR841N``) agrees with it; the spelling of the heaviest
   hit is shown.
4. Hardware, firmware, region: only from hits that agree with vendor and model (a hit without
   a model agrees unless its family named a different model); largest summed weight wins.
5. Confidence, with ``S(x)`` = 1 - prod(1 - w) over the families supporting x::

       c = S(vendor) * (0.6 + 0.4 * S(model))        (0.6 * S(vendor) without a model;
                                                        0.4 * S(model) without a vendor)
       c += (1 - c) * 0.25 * S(firmware)              (firmware known)
       c *= W(vendor) / (W(vendor) + W(other vendors)) (W = summed family weights)

   Two independent own rules agreeing on vendor and model give >= 0.9; one vendor-only
   banner about 0.35; conflicting vendors pull it down.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from routerwatch.fingerprint.generic import generic_hits
from routerwatch.fingerprint.inputs import Input, extract_inputs
from routerwatch.fingerprint.nuclei import ENV_VAR, env_stamp, nuclei_from_env, shipped_nuclei
from routerwatch.fingerprint.recog import shipped_recog
from routerwatch.fingerprint.rules import Rule, load_rules
from routerwatch.identity.hardware import model_key
from routerwatch.models import DeviceIdentity, Evidence, Observation

__all__ = ["Fingerprinter", "Hit", "merge_hits"]

MAX_EVIDENCE_VALUE = 200


@dataclass(frozen=True)
class Hit:
    """One rule that read something from one input."""

    rule: Rule
    label: str  # Evidence.source, e.g. "http.realm:80"
    family: str  # independence group, e.g. "http.realm"
    text: str
    fields: tuple[tuple[str, str], ...]

    @property
    def weight(self) -> float:
        return self.rule.weight

    def get(self, name: str) -> str | None:
        for k, v in self.fields:
            if k == name:
                return v
        return None


def _family(source: str) -> str:
    if source.startswith("upnp.") and source != "upnp.server":
        return "upnp"
    if source == "http.wwwauth":
        return "http.realm"
    return source


def _printable(text: str) -> str:
    # Only the shown part is escaped (a 64 KB page body as evidence cost ~1 ms per hit):
    # every character gives at least one, so MAX + 1 characters decide the cut and the "…".
    text = text[: MAX_EVIDENCE_VALUE + 1]
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(out) > MAX_EVIDENCE_VALUE:
        out = out[: MAX_EVIDENCE_VALUE - 1] + "…"
    return out


_META = frozenset(".^$*+?{}[]()|")
KEY_LEN = 3
MAX_LINES = 64  # multi-line inputs up to this many lines use the prefix index per line


@cache
def literal_prefix(regex: re.Pattern[str]) -> str | None:
    """Text every match must start with, when the pattern is ``^literal...`` (else None).

    Used only to skip rules that cannot match: a pattern with top-level alternation, verbose
    mode or fewer than KEY_LEN leading literal characters gives None and is always tried.
    """
    p = regex.pattern
    if regex.flags & re.VERBOSE:
        return None
    if p.startswith("^"):
        i = 1
    elif p.startswith("\\A"):
        i = 2
    else:
        return None
    depth, j, in_class = 0, 0, False
    while j < len(p):  # refuse a top-level "|": "^abc|xyz" need not start with "abc"
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if p[j + 1 : j + 2] == "^":
                j += 1
            if p[j + 1 : j + 2] == "]":
                j += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return None
        j += 1
    out: list[str] = []
    while i < len(p):
        c = p[i]
        if c == "\\":
            d = p[i + 1 : i + 2]
            if not d or d.isalnum():
                break
            out.append(d)
            i += 2
            continue
        if c in _META:
            break
        out.append(c)
        i += 1
    if i < len(p) and p[i] in "?*{" and out:
        out.pop()  # the last literal is optional or repeated zero times
    prefix = "".join(out)
    return prefix if len(prefix) >= KEY_LEN else None


@dataclass
class _SourceIndex:
    """Rules of one source; those whose matches must start with a literal text are looked up
    by the first KEY_LEN characters of the input and kept only when the input starts with
    their whole prefix."""

    always: list[Rule] = field(default_factory=list)
    exact: dict[str, list[tuple[str, Rule]]] = field(default_factory=dict)
    folded: dict[str, list[tuple[str, Rule]]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)
        prefix = literal_prefix(rule.regex)
        if prefix is None or not prefix.isascii() or "\n" in prefix:
            self.always.append(rule)
        elif rule.regex.flags & re.IGNORECASE:
            low = prefix.lower()
            self.folded.setdefault(low[:KEY_LEN], []).append((low, rule))
        else:
            self.exact.setdefault(prefix[:KEY_LEN], []).append((prefix, rule))

    def candidates(self, text: str) -> Iterator[Rule]:
        """Rules that may match ``text``: those without a usable prefix plus those whose prefix
        fits the start of the text - or, for multi-line text (``^`` is a line anchor there),
        the start of one of its lines (all rules beyond MAX_LINES lines)."""
        if "\n" not in text:
            yield from self.always
            yield from self._prefixed(text)
            return
        lines = text.split("\n", MAX_LINES)
        if len(lines) > MAX_LINES:
            yield from self.rules
            return
        yield from self.always
        seen: set[int] = set()
        for line in lines:
            for rule in self._prefixed(line):
                if id(rule) not in seen:
                    seen.add(id(rule))
                    yield rule

    def _prefixed(self, text: str) -> Iterator[Rule]:
        """Rules with a literal prefix that ``text`` starts with."""
        for prefix, rule in self.exact.get(text[:KEY_LEN], ()):
            if text.startswith(prefix):
                yield rule
        bucket = self.folded.get(text[:KEY_LEN].lower())
        if bucket:
            low = text[: KEY_LEN + max(len(p) for p, _ in bucket)].lower()
            for prefix, rule in bucket:
                if low.startswith(prefix):
                    yield rule


def _build_shipped(use_recog: bool) -> tuple[Rule, ...]:
    rules = list(load_rules())
    if use_recog:
        rules.extend(shipped_recog()[0])
        # nuclei-templates, loaded like Recog (converted passive matchers, lower weight than
        # own rules): the shipped curated set, then a checkout the user points at
        # (ROUTERWATCH_NUCLEI_TEMPLATES) without the shipped ids.
        shipped = shipped_nuclei()
        rules.extend(shipped)
        rules.extend(nuclei_from_env(skip=[r.id for r in shipped]))
    return tuple(rules)


def _shipped_inputs() -> list[Path]:
    """Every file the shipped rule set is derived from: the rules, the Recog databases and
    overrides, the loader code, the vendor registry."""
    here = Path(__file__).parent
    identity = here.parent / "identity"
    files = [p for p in here.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [p for p in identity.glob("*.py")] + [p for p in (identity / "data").glob("*")]
    return sorted(files)


@cache
def _shipped(use_recog: bool) -> tuple[Rule, ...]:
    """The shipped rules, from the on-disk cache when no input changed (routerwatch.cache)."""
    from routerwatch import cache as disk

    # A bad ROUTERWATCH_NUCLEI_TEMPLATES is an error even when the cache is warm; an edited
    # checkout builds a new rule set.
    checkout = env_stamp() if use_recog else ""
    key = disk.digest(_shipped_inputs(), extra=f"recog={use_recog};{ENV_VAR}={checkout}")
    name = "fingerprint-rules" if use_recog else "fingerprint-rules-own"
    rules = disk.load_or_build(name, key, lambda: _build_shipped(use_recog))
    # The rule set lives as long as the process (this function is cached): moved out of the
    # garbage collector's generations, a full collection no longer walks ~3,000 rules in the
    # middle of an identify() (measured: max 6.7 -> 1.6 ms CPU per call, median unchanged).
    gc.freeze()
    return rules


TEXT_CACHE_CHARS = 32 * 1024 * 1024  # characters of input text the per-input cache may hold
_Read = tuple[Rule, tuple[tuple[str, str], ...]]


class Fingerprinter:
    """Identify a device from an Observation with fingerprint rules.

    ``rules=None`` uses the shipped rules (``fingerprint/rules/*.yaml``); ``use_recog`` adds
    the shipped Recog databases as a lower-weight fallback. Rules are compiled once per
    process and indexed by input source, so ``identify`` does no loading.
    """

    def __init__(
        self, rules: Sequence[Rule] | None = None, use_recog: bool = True, use_generic: bool = True,
        text_cache: int = TEXT_CACHE_CHARS,
    ) -> None:
        self.use_generic = use_generic
        # (source, text, path) -> the (rule, fields) pairs the rules read from that input,
        # before the per-observation ``require`` test: scan data repeats the same banners,
        # titles and headers across hosts, so most inputs are read once per process.
        # Bounded by the characters of its texts (``text_cache``; 0 turns it off).
        self._text_cache: dict[tuple[str, str, str | None], tuple[_Read, ...]] = {}
        self._text_cache_max = text_cache
        self._text_cache_chars = 0
        self.text_hits = 0  # inputs answered from the cache (for benchmarks)
        self.text_misses = 0
        if rules is None:
            all_rules = list(_shipped(use_recog))
        else:
            all_rules = list(rules)
            if use_recog:
                all_rules.extend(shipped_recog()[0])
        self.rules: tuple[Rule, ...] = tuple(all_rules)
        index: dict[str, _SourceIndex] = defaultdict(_SourceIndex)
        for rule in self.rules:
            for source in rule.sources:
                index[source].add(rule)
        self._index = dict(index)

    def hits(self, obs: Observation, inputs: Sequence[Input] | None = None) -> list[Hit]:
        """Every (rule, input) pair that read identity fields, heaviest first. ``inputs``:
        ``extract_inputs(obs)`` when the caller has it already."""
        if inputs is None:
            inputs = extract_inputs(obs)
        by_source: dict[str, list[Input]] = defaultdict(list)
        texts: dict[str, list[str]] = defaultdict(list)
        for item in inputs:
            by_source[item.source].append(item)
            texts[item.source].append(item.text)
        found: list[Hit] = []
        for source, items in by_source.items():
            index = self._index.get(source)
            if index is None:
                continue
            unique: dict[tuple[str, str | None], Input] = {}
            for item in items:
                unique.setdefault((item.text, item.path), item)
            family = _family(source)
            for (text, path), item in unique.items():
                for rule, fields in self._read(index, source, text, path):
                    if rule.require and not rule.requirements_met(texts):
                        continue
                    found.append(Hit(rule, item.label, family, text, fields))
        if self.use_generic:
            for g in generic_hits(obs):
                if g.fields:
                    found.append(Hit(g.rule, g.label, g.family, g.text, g.fields))
        found.sort(
            key=lambda h: (
                -h.weight,
                h.rule.origin.startswith("recog:"),
                h.label,
                h.rule.id,
                h.text,
            )
        )
        return found

    def _read(self, index: _SourceIndex, source: str, text: str,
              path: str | None) -> tuple[_Read, ...]:
        """What every rule of ``source`` reads from one input (rules whose path does not fit
        left out), in candidate order; from the cache when this input was read before. The
        rules are pure functions of the text, so a cached answer equals a fresh one."""
        key = (source, text, path)
        cached = self._text_cache.get(key)
        if cached is not None:
            self.text_hits += 1
            return cached
        self.text_misses += 1
        read: list[_Read] = []
        for rule in index.candidates(text):
            if rule.path is not None and (path is None or not rule.path.fullmatch(path)):
                continue
            fields = rule.extract(text)
            if fields:
                read.append((rule, tuple(fields.items())))
        out = tuple(read)
        if self._text_cache_max:
            size = len(text) + len(path or "") + 64
            if self._text_cache_chars + size > self._text_cache_max:
                self._text_cache.clear()  # start afresh: memory stays bounded
                self._text_cache_chars = 0
            self._text_cache[key] = out
            self._text_cache_chars += size
        return out

    def identify(self, obs: Observation, inputs: Sequence[Input] | None = None) -> DeviceIdentity:
        """The merged identity of the device behind ``obs``, with confidence and evidence
        (``inputs`` as for :meth:`hits`)."""
        return merge_hits(self.hits(obs, inputs))


# --------------------------------------------------------------------------- merging


def _noisy_or(weights: Iterable[float]) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - min(max(w, 0.0), 1.0)
    return 1.0 - p


def _family_weights(hits: Iterable[Hit]) -> dict[str, float]:
    best: dict[str, float] = {}
    for h in hits:
        best[h.family] = max(best.get(h.family, 0.0), h.weight)
    return best


def _vote(hits: Sequence[Hit], name: str) -> tuple[str | None, list[Hit], float]:
    """Winner of one field by summed family weight: (value, hits for it, summed weight)."""
    groups: dict[str, list[Hit]] = defaultdict(list)
    for h in hits:
        value = h.get(name)
        if value is not None:
            groups[value.casefold()].append(h)
    if not groups:
        return None, [], 0.0

    def score(key: str) -> tuple[float, float]:
        fam = _family_weights(groups[key])
        return sum(fam.values()), max(fam.values())

    key = max(groups, key=score)
    winners = groups[key]
    return winners[0].get(name), winners, score(key)[0]


def _model_groups(hits: Sequence[Hit]) -> list[tuple[set[str], list[Hit]]]:
    """Hits with a model, grouped so that keys equal or ending one another share a group."""
    groups: list[tuple[set[str], list[Hit]]] = []
    for h in hits:
        model = h.get("model")
        if model is None:
            continue
        key = model_key(model) or model.casefold()
        for keys, members in groups:
            if any(_keys_agree(key, k) for k in keys):
                keys.add(key)
                members.append(h)
                break
        else:
            groups.append(({key}, [h]))
    return groups


def _keys_agree(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return len(short) >= 4 and long_.endswith(short)


def merge_hits(hits: Sequence[Hit]) -> DeviceIdentity:
    """Merge hits into one DeviceIdentity (see the module docstring for the rules)."""
    if not hits:
        return DeviceIdentity()
    evidence = tuple(
        Evidence(source=h.label, value=_printable(h.text), rule=h.rule.id, fields=h.fields)
        for h in hits
    )
    vendor, vendor_hits, vendor_weight = _vote(hits, "vendor")
    other_weight = 0.0
    if vendor is not None:
        others = [h for h in hits if h.get("vendor") not in (None, vendor)]
        other_weight = sum(_family_weights(others).values())
    compatible = [h for h in hits if h.get("vendor") in (None, vendor)]

    model: str | None = None
    model_hits: list[Hit] = []
    groups = _model_groups(compatible)
    if groups:
        _keys, model_hits = max(
            groups, key=lambda g: (sum(_family_weights(g[1]).values()), max(h.weight for h in g[1]))
        )
        top = max(model_hits, key=lambda h: (h.weight, not h.rule.origin.startswith("recog:")))
        model = top.get("model")
    in_model = {id(h) for h in model_hits}
    off_model_families = {
        h.family for h in compatible if h.get("model") is not None and id(h) not in in_model
    }
    detail = [
        h
        for h in compatible
        if id(h) in in_model or (h.get("model") is None and h.family not in off_model_families)
    ]
    values: dict[str, str | None] = {"vendor": vendor, "model": model}
    support: dict[str, float] = {}
    for name in ("hardware", "firmware", "region", "os"):
        value, winners, _w = _vote(detail, name)
        values[name] = value
        support[name] = _noisy_or(_family_weights(winners).values())

    if vendor is None and values["os"] is not None:
        # Only a firmware project is known (DD-WRT on unknown hardware): show it as the vendor.
        vendor = values["os"]
        vendor_hits = [h for h in hits if h.get("os") == vendor]
    s_vendor = _noisy_or(_family_weights(vendor_hits).values())
    s_model = _noisy_or(_family_weights(model_hits).values())
    if vendor is not None and model is not None:
        conf = s_vendor * (0.6 + 0.4 * s_model)
    elif vendor is not None:
        conf = 0.6 * s_vendor
    elif model is not None:
        conf = 0.4 * s_model
    else:
        conf = 0.0
    if values["firmware"] is not None and conf > 0:
        conf += (1.0 - conf) * 0.25 * support["firmware"]
    if vendor is not None and other_weight > 0:
        conf *= vendor_weight / (vendor_weight + other_weight)
    return DeviceIdentity(
        vendor=vendor,
        model=values["model"],
        hardware=values["hardware"],
        firmware=values["firmware"],
        region=values["region"],
        confidence=round(min(max(conf, 0.0), 1.0), 3),
        evidence=evidence,
        os=values["os"],
    )
