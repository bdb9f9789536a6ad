"""The match index: what a record contributes to the (vendor, model) -> CVE lookup, and its
compiled criteria in a form the KB can store (JSON) and read back without recompiling.

Both catalogs use it: the in-memory :class:`~routerwatch.match.catalog.Catalog` (tests,
``Matcher(records)``) and the KB-stored index (``kb_match_index`` / ``kb_match_compiled``,
built by ``routerwatch.kb.index`` whenever records are written). One function decides which
keys a record is filed under (:func:`index_keys`), one compiles it (:func:`compile_record`).

Keys are (vendor key, model key); the model key :data:`VENDOR_WIDE` files a record naming a
vendor-wide firmware family (asuswrt), :data:`NAMED` one that names the vendor but no usable
model (so "the KB knows this vendor" still holds).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

from routerwatch.match.aliases import AliasRules, ProductRef, free_text_parts, vendor_key
from routerwatch.match.cpe import CpeError, parse_cpe, vendor_product
from routerwatch.match.criteria import Bound, Compiler, Criterion, Node
from routerwatch.match.cve5 import Cve5Entry, Cve5Version, compile_affected
from routerwatch.match.description import (
    NamedPair,
    RegionTag,
    advisory_regions,
    named_versions,
    names_firmware_version,
)
from routerwatch.match.kev import KEV_WIDE, KevName, kev_names
from routerwatch.models import CveRecord

try:  # orjson: the index of a full NVD import encodes ~250k records
    from orjson import dumps as _dumps
    from orjson import loads as _loads

    def _text(value: Any) -> str:
        return _dumps(value).decode()
except ImportError:  # pragma: no cover - orjson is a dependency, json the fallback
    import json

    _loads = json.loads  # type: ignore[assignment]

    def _text(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

__all__ = [
    "INDEX_FORMAT", "NAMED", "VENDOR_WIDE", "CompiledCve", "Decoder", "IndexSource",
    "compile_record", "encode", "index_keys", "normaliser_version", "record_names",
]

INDEX_FORMAT = 3  # bump when the stored JSON shape below changes
VENDOR_WIDE = "*"
NAMED = ""

Name = tuple[str, bool]  # (product as written, free text?)


@dataclass(frozen=True, slots=True)
class CompiledCve:
    record: CveRecord
    configurations: tuple[Node, ...]
    cve5: tuple[Cve5Entry, ...]
    dash_all: bool  # the description names no firmware version: NVD's "-" = every version
    regions: frozenset[RegionTag]  # regional builds the description names (model, "JP")
    kev: tuple[KevName, ...] = ()  # what the KEV entry's product names (see match.kev)
    named: frozenset[NamedPair] = frozenset()  # (model, exact firmware) the description names


class IndexSource(Protocol):
    """A stored match index (the KB implements it; see routerwatch.kb.index.KbIndex)."""

    def vendor_known(self, vendor: str) -> bool: ...

    def model_known(self, vendor: str, keys: Iterable[str]) -> bool: ...

    def models(self, vendor: str) -> frozenset[str]: ...

    def candidates(self, vendor: str, keys: Iterable[str]) -> list[str]:
        """CVE ids filed under (vendor, key) for any key, or under (vendor, VENDOR_WIDE)."""
        ...

    def load(self, cve_ids: Iterable[str]) -> list[tuple[CveRecord, str | None]]:
        """The records (without raw configurations) and their stored compiled JSON."""
        ...


# ---------------------------------------------------------------------- keys


def _criteria_texts(raw: Any) -> Iterator[str]:
    """Every CPE criteria string of NVD configurations (nodes, and 1.1-style children)."""
    for conf in raw:
        if not isinstance(conf, dict):
            continue
        stack = list(conf.get("nodes") or ())
        while stack:
            node = stack.pop()
            if not isinstance(node, dict):
                continue
            for m in node.get("cpeMatch") or ():
                text = m.get("criteria") if isinstance(m, dict) else None
                if isinstance(text, str):
                    yield text
            if "children" in node:
                stack.extend(node["children"] or ())


def _cve5_names(affected: Iterable[Any]) -> Iterator[tuple[str, Name]]:
    for entry in affected:
        if not isinstance(entry, dict):
            continue
        vk = vendor_key(str(entry.get("vendor") or ""))
        if vk is not None:
            for part in free_text_parts(str(entry.get("product") or "")):
                yield vk, (part, True)
        for text in entry.get("cpes") or ():
            try:
                cpe = parse_cpe(str(text))
            except CpeError:
                continue
            cvk = vendor_key(cpe.vendor)
            if cvk is not None:
                yield cvk, (cpe.product, False)


def record_names(record: CveRecord) -> set[tuple[str, Name]]:
    """(vendor key, product name) pairs a record names: its NVD CPEs and, since CVE 5 data
    answers for records without configurations (and those whose configurations do not name
    a device), its CVE 5 affected vendors/products and ADP CPEs."""
    names: set[tuple[str, Name]] = set()
    if record.configurations:
        for text in {t for t in _criteria_texts(record.configurations)}:
            vendor, product = vendor_product(text) or ("", "")
            vk = vendor_key(vendor) if vendor else None
            if vk is not None:
                names.add((vk, (product, False)))
    names.update(_cve5_names(record.cve5_affected))
    names.update(_kev_names(record))
    return names


def _kev_names(record: CveRecord) -> Iterator[tuple[str, Name]]:
    """KEV as a source: the model names of the entry's product, and KEV_WIDE for a family or
    series ("RV Series", "RouterOS": filed vendor-wide, the matcher reads the name)."""
    kev = record.kev
    if kev is None or not kev.vendor or not kev.product:
        return
    vk = vendor_key(kev.vendor)
    if vk is None:
        return
    for name in _kev_compiled(vk, kev.product):
        if name.kind == "model":
            yield from ((vk, (k, False)) for k in name.keys)
        else:
            yield vk, (KEV_WIDE, False)


@lru_cache(maxsize=4096)
def _kev_compiled(vk: str, product: str) -> tuple[KevName, ...]:
    return kev_names(AliasRules.load(), vk, product)


def name_keys(rules: AliasRules, vk: str, name: Name) -> Iterator[str]:
    """The model keys one named product files a record under (VENDOR_WIDE for a family)."""
    product, free = name
    if product == KEV_WIDE:  # a KEV family or series name: the matcher reads the name
        yield VENDOR_WIDE
        return
    ref = rules.product(vk, product, free_text=free)
    if ref is None:
        return
    if ref.generic == "vendor" and not free:
        yield VENDOR_WIDE
    if ref.generic is None:
        yield from ref.keys


def index_keys(record: CveRecord, rules: AliasRules) -> set[tuple[str, str]]:
    """Every (vendor key, model key) the record is filed under in the match index."""
    out: set[tuple[str, str]] = set()
    vendors: set[str] = set()
    for vk, name in record_names(record):
        vendors.add(vk)
        out.update((vk, k) for k in name_keys(rules, vk, name))
    out.update((vk, NAMED) for vk in vendors - {vk for vk, _ in out})
    return out


def compile_record(record: CveRecord, compiler: Compiler) -> CompiledCve:
    """The record ready for the evaluator (criteria interned in ``compiler``)."""
    return CompiledCve(
        record,
        compiler.configurations(record.configurations),
        compile_affected(record.cve5_affected, compiler.rules),
        bool(record.description.strip()) and not names_firmware_version(record.description),
        advisory_regions(record.description),
        _kev_of(record, compiler.rules),
        named_versions(record.description),
    )


def _kev_of(record: CveRecord, rules: AliasRules) -> tuple[KevName, ...]:
    kev = record.kev
    if kev is None or not kev.vendor or not kev.product:
        return ()
    vk = vendor_key(kev.vendor)
    return kev_names(rules, vk, kev.product) if vk is not None else ()


# ---------------------------------------------------------------------- normaliser version

_NORMALISER_FILES = (
    ("routerwatch.match", ("aliases.py", "cpe.py", "criteria.py", "cve5.py", "compare.py",
                           "description.py", "index.py", "kev.py")),
    ("routerwatch.identity", ("hardware.py", "vendors.py")),
)
_NORMALISER_DATA = ("routerwatch.match", "routerwatch.identity")


@lru_cache(maxsize=1)
def normaliser_version() -> str:
    """A digest of everything that decides the index keys and compiled criteria: the key
    and compiler code and the alias/vendor data. A KB whose index was built under another
    digest rebuilds it on open."""
    digest = hashlib.sha256(f"format {INDEX_FORMAT}".encode())
    for package, names in _NORMALISER_FILES:
        folder = resources.files(package)
        for name in names:
            item = folder / name
            if item.is_file():
                digest.update(name.encode() + b"\0" + item.read_bytes())
    for package in _NORMALISER_DATA:
        data = resources.files(package) / "data"
        if data.is_dir():
            for item in sorted(data.iterdir(), key=lambda p: p.name):
                if item.is_file():
                    digest.update(item.name.encode() + b"\0" + item.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------------- stored form


def _ref(ref: ProductRef | None) -> Any:
    if ref is None:
        return None
    return [ref.name, sorted(ref.keys), ref.hardware, ref.generic]


def _bound(b: Bound | None) -> Any:
    return None if b is None else [b.version, b.inclusive, b.attr]


def _item(item: Criterion | Node) -> Any:
    if isinstance(item, Node):
        return {"o": item.operator, "n": item.negate, "i": [_item(i) for i in item.items]}
    c = item
    return [c.text, c.vulnerable, c.vendor, _ref(c.ref), c.kind, c.version, list(c.hardware),
            _bound(c.start), _bound(c.end)]


def _cve5(e: Cve5Entry) -> Any:
    return [e.origin, e.vendor, e.product, [[vk, _ref(r)] for vk, r in e.refs],
            list(e.hardware),
            [[v.kind, v.status, v.version, v.end, v.end_inclusive, v.text,
              [list(c) for c in v.changes], v.version_type] for v in e.versions],
            e.default, e.default_given]


def _kev(n: KevName) -> Any:
    return [n.kind, n.text, sorted(n.keys), n.hardware,
            n.pattern.pattern if n.pattern is not None else None]


def encode(entry: CompiledCve) -> str:
    """The compiled criteria of one record as compact JSON (see :class:`Decoder`)."""
    return _text({
        "c": [_item(n) for n in entry.configurations],
        "a": [_cve5(e) for e in entry.cve5],
        "d": entry.dash_all,
        "r": sorted(entry.regions),
        "k": [_kev(n) for n in entry.kev],
        "n": sorted(entry.named),
    })


class Decoder:
    """Reads stored compiled criteria back, interning criteria, nodes and product refs (as
    the compiler does), so a criterion shared by many records is one object."""

    def __init__(self) -> None:
        self._refs: dict[tuple[Any, ...], ProductRef] = {}
        self._criteria: dict[tuple[Any, ...], Criterion] = {}
        self._nodes: dict[tuple[Any, ...], Node] = {}

    def clear(self) -> None:
        self._refs.clear()
        self._criteria.clear()
        self._nodes.clear()

    def decode(self, record: CveRecord, text: str) -> CompiledCve:
        data = _loads(text)
        nodes = tuple(self._node(n) for n in data["c"])
        return CompiledCve(
            record, nodes, tuple(self._entry(e) for e in data["a"]), bool(data["d"]),
            frozenset((str(m), str(r)) for m, r in data["r"]),
            tuple(KevName(kind, text, frozenset(keys), hw,
                          re.compile(pat) if pat is not None else None)
                  for kind, text, keys, hw, pat in data.get("k", ())),
            frozenset((str(m), str(v)) for m, v in data.get("n", ())),
        )

    def _ref(self, raw: Any) -> ProductRef | None:
        if raw is None:
            return None
        name, keys, hardware, generic = raw
        key = (name, *keys, "\0", hardware, generic)
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = ProductRef(name, frozenset(keys), hardware, generic)
        return ref

    @staticmethod
    def _bound(raw: Any) -> Bound | None:
        return None if raw is None else Bound(raw[0], bool(raw[1]), raw[2])

    def _node(self, raw: Any) -> Node:
        items = tuple(self._node(i) if isinstance(i, dict) else self._criterion(i)
                      for i in raw["i"])
        key = (raw["o"], raw["n"], *map(id, items))
        node = self._nodes.get(key)
        if node is None:
            node = self._nodes[key] = Node(raw["o"], bool(raw["n"]), items)
        return node

    def _criterion(self, raw: list[Any]) -> Criterion:
        text, vulnerable, vendor, ref, kind, version, hardware, start, end = raw
        key = (text, vulnerable, *(start or ("",)), "\0", *(end or ("",)))
        crit = self._criteria.get(key)
        if crit is None:
            crit = self._criteria[key] = Criterion(
                text, bool(vulnerable), vendor, self._ref(ref), kind, version, tuple(hardware),
                self._bound(start), self._bound(end),
            )
        return crit

    def _entry(self, raw: list[Any]) -> Cve5Entry:
        origin, vendor, product, refs, hardware, versions, default, given = raw
        return Cve5Entry(
            origin, vendor, product,
            tuple((vk, r) for vk, r in ((vk, self._ref(r)) for vk, r in refs) if r is not None),
            tuple(hardware),
            tuple(Cve5Version(k, st, v, e, bool(i), t, tuple((at, cs) for at, cs in ch), vt)
                  for k, st, v, e, i, t, ch, vt in versions),
            default, bool(given),
        )
