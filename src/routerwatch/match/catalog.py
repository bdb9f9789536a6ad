"""The product catalogs: which CVEs name which (vendor, model), and the compiled records.

Two catalogs behind one shape (what :class:`~routerwatch.match.matcher.Matcher` reads):

* :class:`Catalog` holds records in memory (``Matcher(records)``: tests, small sets). Building
  it reads each record's CPE vendor and product names and files the record under (vendor key,
  product name); a vendor's names resolve to model keys on its first check.
* :class:`IndexCatalog` reads the index stored in the knowledge base (built when records are
  written, see ``routerwatch.kb.index``): a check fetches only the candidate records of the
  device's vendor and model, with their stored compiled criteria, so memory does not grow
  with the KB. Compiled records are kept in a bounded LRU.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from routerwatch.match.aliases import AliasRules
from routerwatch.match.criteria import Compiler
from routerwatch.match.index import (
    NAMED,
    VENDOR_WIDE,
    CompiledCve,
    Decoder,
    IndexSource,
    Name,
    compile_record,
    name_keys,
    record_names,
)
from routerwatch.models import CveRecord
from routerwatch.progress import NullProgress, Progress

__all__ = ["Catalog", "CompiledCve", "IndexCatalog"]


@dataclass(frozen=True, slots=True)
class _VendorIndex:
    by_model: dict[str, tuple[int, ...]]
    vendor_wide: tuple[int, ...]  # records naming a vendor-wide firmware family (asuswrt)


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
        self._names: dict[str, dict[Name, list[int]]] = defaultdict(dict)
        self._vendors: dict[str, _VendorIndex] = {}
        progress = progress or NullProgress()
        progress.start("indexing CVEs")
        for idx, record in enumerate(records):
            self._records.append(record)
            for vk, name in record_names(record):
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
            entry = self._compiled[idx] = compile_record(self._records[idx], self._compiler)
        return entry

    def entries(self, ids: Iterable[int]) -> list[CompiledCve]:
        return [self.entry(i) for i in ids]

    def index_of(self, cve_id: str) -> int | None:
        """Position of a CVE, or None."""
        return self._ids.get(cve_id.strip().upper())

    def lookup(self, cve_id: str) -> CompiledCve | None:
        """One compiled record by CVE id, candidate or not (for explanations)."""
        idx = self.index_of(cve_id)
        return self.entry(idx) if idx is not None else None

    # ------------------------------------------------------------------ index

    def _vendor(self, vk: str) -> _VendorIndex | None:
        index = self._vendors.get(vk)
        if index is None:
            names = self._names.get(vk)
            if names is None:
                return None
            by_model: dict[str, set[int]] = defaultdict(set)
            vendor_wide: set[int] = set()
            for name, idxs in names.items():
                for k in name_keys(self.rules, vk, name):
                    (vendor_wide if k == VENDOR_WIDE else by_model[k]).update(idxs)
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


LRU_MAX = 8192  # compiled records kept between checks (a few KB each)
_ANSWERS_MAX = 4096


class IndexCatalog:
    """The catalog shape over a stored index: candidates come from indexed lookups, and
    records (with their compiled criteria) are read per check, only the candidates."""

    def __init__(self, source: IndexSource, rules: AliasRules | None = None,
                 cache: int = LRU_MAX) -> None:
        self.rules = rules or AliasRules.load()
        self.source = source
        self._compiler = Compiler(self.rules)
        self._decoder = Decoder()
        self._cache: OrderedDict[str, CompiledCve] = OrderedDict()
        self._cache_max = cache
        self._vendors: dict[str, bool] = {}
        self._known: dict[tuple[str, frozenset[str]], bool] = {}
        self.reads = 0  # records read from the source (for tests and benchmarks)
        self.hits = 0  # compiled records served from the LRU

    def knows_vendor(self, vendor: str | None) -> bool:
        if vendor is None:
            return False
        known = self._vendors.get(vendor)
        if known is None:
            if len(self._vendors) >= _ANSWERS_MAX:
                self._vendors.clear()
            known = self._vendors[vendor] = self.source.vendor_known(vendor)
        return known

    def knows_model(self, vendor: str | None, keys: Iterable[str]) -> bool:
        wanted = frozenset(keys) - {NAMED, VENDOR_WIDE}
        if vendor is None or not wanted:
            return False
        known = self._known.get((vendor, wanted))
        if known is None:
            if len(self._known) >= _ANSWERS_MAX:
                self._known.clear()
            known = self._known[(vendor, wanted)] = self.source.model_known(vendor, wanted)
        return known

    def candidates(self, vendor: str, keys: Iterable[str]) -> list[str]:
        """CVE ids of the records that may concern a device (sorted, no duplicates)."""
        wanted = frozenset(keys) - {NAMED, VENDOR_WIDE}
        return sorted(set(self.source.candidates(vendor, wanted)))

    def entries(self, ids: Iterable[str]) -> list[CompiledCve]:
        """The compiled records of ``ids`` (in that order; ids the KB lacks are left out):
        from the LRU, the rest read from the source in one batch."""
        ids = list(ids)
        missing = [i for i in ids if i not in self._cache]
        if missing:
            self._load(missing)
        out = []
        for cve_id in ids:
            entry = self._cache.get(cve_id)
            if entry is not None:
                self._cache.move_to_end(cve_id)
                out.append(entry)
        self.hits += len(ids) - len(missing)
        return out

    def _load(self, ids: list[str]) -> None:
        if len(self._cache) + len(ids) > self._cache_max:
            # Dropping whole generations keeps the interning tables bounded too.
            while self._cache and len(self._cache) + len(ids) > self._cache_max // 2:
                self._cache.popitem(last=False)
            self._decoder.clear()
            self._compiler = Compiler(self.rules)
        for record, compiled in self.source.load(ids):
            self.reads += 1
            if compiled is not None:
                entry = self._decoder.decode(record, compiled)
            else:  # a record written before its index entry (never after a KB write)
                entry = compile_record(record, self._compiler)
            self._cache[record.cve_id] = entry

    def lookup(self, cve_id: str) -> CompiledCve | None:
        """One compiled record by CVE id, candidate or not (for explanations)."""
        found = self.entries([cve_id.strip().upper()])
        return found[0] if found else None

    def models(self, vendor: str) -> frozenset[str]:
        return self.source.models(vendor) - {NAMED, VENDOR_WIDE}
