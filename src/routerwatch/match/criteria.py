"""NVD configurations compiled once into small objects the evaluator walks quickly.

A configuration (NVD API 2.0) is ``{"operator": "AND"|"OR", "negate": bool, "nodes": [...]}``;
each node is ``{"operator", "negate", "cpeMatch": [...]}`` and, in the older 1.1 shape, may hold
``children`` nodes — both are read, to any depth. Identical cpeMatch entries (the same CPE
appears in thousands of records) compile to one shared :class:`Criterion`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from routerwatch.match.aliases import AliasRules, ProductRef, vendor_key
from routerwatch.match.compare import norm_hardware
from routerwatch.match.cpe import ANY, NA, CpeError, parse_cpe, unescape

Kind = Literal["firmware", "hardware"]

__all__ = ["Bound", "Compiler", "Criterion", "Kind", "Node"]

_BOUNDS = (
    ("versionStartIncluding", True, True),
    ("versionStartExcluding", True, False),
    ("versionEndIncluding", False, True),
    ("versionEndExcluding", False, False),
)


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a version range, unescaped."""

    version: str
    inclusive: bool
    attr: str  # the NVD attribute it came from, for explanations


@dataclass(frozen=True, slots=True, eq=False)
class Criterion:
    """One cpeMatch entry, ready to test against a device."""

    text: str  # the CPE criteria string as NVD wrote it
    vulnerable: bool
    vendor: str | None  # vendor key (see aliases.vendor_key)
    ref: ProductRef | None  # None when the product names nothing usable
    kind: Kind  # "hardware" for h: CPEs, "firmware" for o: and a:
    version: str  # firmware version text ("*", "-", "1.3.0 Build 20230322") or revision
    hardware: tuple[str, ...] = ()  # revisions the device must have (name and h: version)
    start: Bound | None = None
    end: Bound | None = None
    # Derived once (criteria are interned and evaluated for many devices): the explanation
    # pieces that do not depend on the device.
    ranged: bool = field(init=False)  # a version range rather than one version
    firmware: bool = field(init=False)  # kind == "firmware"
    ops: str = field(init=False)  # ">= 1.0 and < 1.1.4 (versionStartIncluding, ...)"
    fixed_in: str | None = field(init=False)  # what a vulnerable range says is fixed
    hw_phrase: str = field(init=False)  # "archer_c7 hardware v2 listed as vulnerable"

    def __post_init__(self) -> None:
        start, end = self.start, self.end
        ranged = start is not None or end is not None
        parts = []
        if start is not None:
            parts.append(f"{'>=' if start.inclusive else '>'} {start.version}")
        if end is not None:
            parts.append(f"{'<=' if end.inclusive else '<'} {end.version}")
        attrs = ", ".join(b.attr for b in (start, end) if b is not None)
        fixed = None
        if end is not None and self.vulnerable:
            fixed = f"later than {end.version}" if end.inclusive else end.version
        hw_phrase = ""
        if self.kind == "hardware" and self.ref is not None:
            rev_text = " ".join(f"v{r}" for r in self.hardware) or "(any revision)"
            if self.vulnerable:
                hw_phrase = f"{self.ref.name} hardware {rev_text} listed as vulnerable"
            else:
                hw_phrase = f"running on {self.ref.name} hardware {rev_text}"
        set_ = object.__setattr__
        set_(self, "ranged", ranged)
        set_(self, "firmware", self.kind == "firmware")
        set_(self, "ops", f"{' and '.join(parts)} ({attrs})")
        set_(self, "fixed_in", fixed)
        set_(self, "hw_phrase", hw_phrase)


class Node:
    """An AND/OR over criteria and child nodes, maybe negated (immutable once built).

    Besides its items a node knows which (vendor key, model key) pairs and which vendor-wide
    firmware families appear anywhere below it, so the evaluator can skip a configuration that
    cannot concern a device, and a long flat OR keeps its criteria by model key, so a device
    looks at its own few instead of all 108 of them.
    """

    __slots__ = ("generic_vendors", "items", "keys", "lookup", "negate", "operator")

    keys: frozenset[tuple[str, str]]  # (vendor key, model key) named anywhere below
    generic_vendors: frozenset[str]  # vendors whose firmware families appear below

    def __init__(self, operator: Literal["AND", "OR"], negate: bool,
                 items: tuple[Criterion | Node, ...]) -> None:
        self.operator = operator
        self.negate = negate
        self.items = items
        keys: set[tuple[str, str]] = set()
        generic: set[str] = set()
        for item in items:
            if isinstance(item, Node):
                keys |= item.keys
                generic |= item.generic_vendors
            elif item.vendor is not None and item.ref is not None:
                if item.ref.generic is not None:
                    generic.add(item.vendor)
                for k in item.ref.keys:
                    keys.add((item.vendor, k))
        self.keys = frozenset(keys)
        self.generic_vendors = frozenset(generic)
        self.lookup: dict[tuple[str, str] | str, tuple[tuple[int, Criterion], ...]] | None = None
        if operator == "OR" and not negate and len(items) > 3 and all(
            isinstance(i, Criterion) for i in items
        ):
            table: dict[tuple[str, str] | str, list[tuple[int, Criterion]]] = {}
            for pos, item in enumerate(items):
                assert isinstance(item, Criterion)
                if item.vendor is None or item.ref is None:
                    continue
                if item.ref.generic is not None:
                    table.setdefault(item.vendor, []).append((pos, item))
                for k in item.ref.keys:
                    table.setdefault((item.vendor, k), []).append((pos, item))
            self.lookup = {k: tuple(v) for k, v in table.items()}

    def criteria(self) -> Iterator[Criterion]:
        for item in self.items:
            if isinstance(item, Node):
                yield from item.criteria()
            else:
                yield item


def _drop_companions(items: list[Criterion | Node]) -> list[Criterion | Node]:
    """Old NVD records list a model's hardware as vulnerable in the same OR as its firmware
    versions (CVE-2011-4497: ``rt-n56u_firmware <= 1.0.1.4`` OR ``h:rt-n56u``). The firmware
    criteria say which builds; the hardware one, taken alone, would make every build
    vulnerable. It is dropped when a firmware criterion of the same model sits beside it."""
    fw_keys: set[str] = set()
    for i in items:
        if isinstance(i, Criterion) and i.kind == "firmware" and i.ref is not None:
            fw_keys.update(i.ref.keys)
    if not fw_keys:
        return items
    return [
        i for i in items
        if not (isinstance(i, Criterion) and i.kind == "hardware" and i.vulnerable
                and i.ref is not None and not i.ref.keys.isdisjoint(fw_keys))
    ]


class Compiler:
    """Compiles raw NVD configurations with one set of alias rules, interning criteria and
    nodes (the same configuration in two records is one object, evaluated once per check)."""

    def __init__(self, rules: AliasRules) -> None:
        self.rules = rules
        self._criteria: dict[tuple[Any, ...], Criterion] = {}
        self._nodes: dict[tuple[Any, ...], Node] = {}

    def configurations(self, raw: Iterable[Any]) -> tuple[Node, ...]:
        out = []
        for conf in raw:
            if isinstance(conf, dict):
                out.append(self._node(conf, nodes_key="nodes"))
        return tuple(out)

    def _node(self, raw: dict[str, Any], nodes_key: str = "children") -> Node:
        items: list[Criterion | Node] = []
        for m in raw.get("cpeMatch") or raw.get("cpe_match") or ():
            if isinstance(m, dict):
                items.append(self.criterion(m))
        for child in raw.get(nodes_key) or ():
            if isinstance(child, dict):
                items.append(self._node(child))
        op: Literal["AND", "OR"] = "AND" if str(raw.get("operator")).upper() == "AND" else "OR"
        negate = bool(raw.get("negate"))
        if op == "OR" and not negate:
            items = _drop_companions(items)
        key = (op, negate, *map(id, items))  # items are interned: ids are stable
        node = self._nodes.get(key)
        if node is None:
            node = self._nodes[key] = Node(op, negate, tuple(items))
        return node

    def criterion(self, m: dict[str, Any]) -> Criterion:
        text = m.get("criteria") or m.get("cpe23Uri") or ""
        g = m.get
        key = (text, g("vulnerable", True), g("versionStartIncluding"),
               g("versionStartExcluding"), g("versionEndIncluding"), g("versionEndExcluding"))
        crit = self._criteria.get(key)
        if crit is None:
            bounds = tuple(None if v in (None, "") else str(v) for v in key[2:])
            crit = self._criteria[key] = self._compile(str(text), bool(key[1]), bounds)
        return crit

    def _compile(self, text: str, vulnerable: bool, bounds: tuple[str | None, ...]) -> Criterion:
        try:
            cpe = parse_cpe(text)
        except CpeError:
            return Criterion(text, vulnerable, None, None, "firmware", ANY)
        vk = vendor_key(cpe.vendor)
        ref = self.rules.product(vk, cpe.product) if vk else None
        kind: Kind = "hardware" if cpe.part == "h" else "firmware"
        hardware: list[str] = []
        if ref is not None and ref.hardware:
            rev = norm_hardware(ref.hardware)
            if rev:
                hardware.append(rev)
        if kind == "hardware":
            version = cpe.version
            if version not in (ANY, NA):
                rev = norm_hardware(version)
                if rev and rev not in hardware:
                    hardware.append(rev)
        else:
            version = cpe.version_text()
        start = end = None
        for (attr, is_start, inclusive), value in zip(_BOUNDS, bounds, strict=True):
            if value is None:
                continue
            bound = Bound(unescape(value).strip(), inclusive, attr)
            if is_start:
                start = bound
            else:
                end = bound
        return Criterion(text, vulnerable, vk, ref, kind, version, tuple(hardware), start, end)
