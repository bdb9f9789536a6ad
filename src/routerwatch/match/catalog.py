"""The product catalog: which CVEs name which (vendor, model), built from the KB's own CPEs.

Building it only reads each record's CPE vendor and product names (and its CVE 5 ``affected``
vendors, products and ADP CPEs) and files the
record under (vendor key, product name). The first time a device of a vendor is checked, that
vendor's product names go through the alias rules into canonical model keys, giving the
(vendor key, model key) -> records index the matcher looks devices up in. Records compile
(criteria interned) when first evaluated. A 300k-record KB thus costs one pass over the CPE
strings up front, and only the vendors actually checked pay for name resolution.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from routerwatch.match.aliases import AliasRules, free_text_parts, vendor_key
from routerwatch.match.cpe import CpeError, parse_cpe, vendor_product
from routerwatch.match.criteria import Compiler, Node
from routerwatch.match.cve5 import Cve5Entry, compile_affected
from routerwatch.match.description import RegionTag, advisory_regions, names_firmware_version
from routerwatch.models import CveRecord
from routerwatch.progress import NullProgress, Progress

__all__ = ["Catalog", "CompiledCve"]

_Name = tuple[str, bool]  # (product as written, free text?)
_BAD = ("", "")


@dataclass(frozen=True, slots=True)
class CompiledCve:
    record: CveRecord
    configurations: tuple[Node, ...]
    cve5: tuple[Cve5Entry, ...]
    dash_all: bool  # the description names no firmware version: NVD's "-" = every version
    regions: frozenset[RegionTag]  # regional builds the description names (model, "JP")


@dataclass(frozen=True, slots=True)
class _VendorIndex:
    by_model: dict[str, tuple[int, ...]]
    vendor_wide: tuple[int, ...]  # records naming a vendor-wide firmware family (asuswrt)


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


def _cve5_names(affected: Iterable[Any]) -> Iterator[tuple[str, _Name]]:
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


class Catalog:
    """The records, compiled on demand, and the (vendor, model) index over them."""

    def __init__(
        self,
        records: Iterable[CveRecord],
        rules: AliasRules | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.rules = rules or AliasRules.load()
        self._compiler = Compiler(self.rules)
        self._records: list[CveRecord] = []
        self._compiled: list[CompiledCve | None] = []
        self._names: dict[str, dict[_Name, list[int]]] = defaultdict(dict)
        self._vendors: dict[str, _VendorIndex] = {}
        progress = progress or NullProgress()
        progress.start("indexing CVEs")
        for idx, record in enumerate(records):
            self._records.append(record)
            names: set[tuple[str, _Name]] = set()
            if record.configurations:
                for vendor, product in {vendor_product(t) or _BAD for t in
                                        _criteria_texts(record.configurations)}:
                    vk = vendor_key(vendor) if vendor else None
                    if vk is not None:
                        names.add((vk, (product, False)))
            # CVE 5 data answers for records without configurations, and for those whose
            # configurations do not name the device (see Matcher).
            names.update(_cve5_names(record.cve5_affected))
            for vk, name in names:
                self._names[vk].setdefault(name, []).append(idx)
            if idx % 1000 == 999:
                progress.advance(1000)
        progress.finish()
        self._compiled = [None] * len(self._records)
        self._ids = {r.cve_id.upper(): i for i, r in enumerate(self._records)}

    def __len__(self) -> int:
        return len(self._records)

    # ------------------------------------------------------------------ records

    def record(self, idx: int) -> CveRecord:
        return self._records[idx]

    def entry(self, idx: int) -> CompiledCve:
        """The compiled record at position ``idx`` (compiled on first use)."""
        entry = self._compiled[idx]
        if entry is None:
            r = self._records[idx]
            entry = self._compiled[idx] = CompiledCve(
                r,
                self._compiler.configurations(r.configurations),
                compile_affected(r.cve5_affected, self.rules),
                bool(r.description.strip()) and not names_firmware_version(r.description),
                advisory_regions(r.description),
            )
        return entry

    def index_of(self, cve_id: str) -> int | None:
        """Position of a CVE, or None."""
        return self._ids.get(cve_id.strip().upper())

    # ------------------------------------------------------------------ index

    def _vendor(self, vk: str) -> _VendorIndex | None:
        index = self._vendors.get(vk)
        if index is None:
            names = self._names.get(vk)
            if names is None:
                return None
            by_model: dict[str, set[int]] = defaultdict(set)
            vendor_wide: set[int] = set()
            for (product, free), idxs in names.items():
                ref = self.rules.product(vk, product, free_text=free)
                if ref is None:
                    continue
                if ref.generic == "vendor" and not free:
                    vendor_wide.update(idxs)
                if ref.generic is None:
                    for k in ref.keys:
                        by_model[k].update(idxs)
            index = self._vendors[vk] = _VendorIndex(
                {k: tuple(sorted(v)) for k, v in by_model.items()}, tuple(sorted(vendor_wide))
            )
        return index

    def knows_vendor(self, vendor: str | None) -> bool:
        return vendor is not None and vendor in self._names

    def knows_model(self, vendor: str | None, keys: Iterable[str]) -> bool:
        index = self._vendor(vendor) if vendor is not None else None
        return index is not None and any(k in index.by_model for k in keys)

    def candidates(self, vendor: str, keys: Iterable[str]) -> list[int]:
        """Positions of the records that may concern a device (sorted, no duplicates)."""
        index = self._vendor(vendor)
        if index is None:
            return []
        found = [index.by_model.get(k, ()) for k in keys]
        found.append(index.vendor_wide)
        hits = [f for f in found if f]
        if len(hits) == 1:
            return list(hits[0])
        return sorted(set().union(*hits))

    def models(self, vendor: str) -> frozenset[str]:
        """Canonical model keys the KB names for one vendor key."""
        index = self._vendor(vendor)
        return frozenset(index.by_model) if index is not None else frozenset()
