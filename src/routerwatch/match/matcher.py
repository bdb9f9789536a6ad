"""The matcher: DeviceIdentity -> the CVEs that affect it, each with why and how sure.

>>> m = Matcher(records)                        # builds the catalog/index once (in memory)
>>> m = Matcher.from_index(kb.match_index())   # or reads the KB's stored index per check
>>> m.check(DeviceIdentity(vendor="TP-Link", model="Archer AX21",
...                        firmware="1.1.2 Build 20220714 rel.46227"))
[Finding(cve='CVE-2023-1389', status='affected', ...), ...]

Per CVE: NVD configurations when the record has any (the best configuration decides:
affected > possible > not_affected), else the CVE 5 ``affected`` data (``source="cve5"``).
A device without a known vendor and model gets no findings: the matcher never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from routerwatch.identity.hardware import model_key, split_product
from routerwatch.match.aliases import AliasRules, vendor_key
from routerwatch.match.catalog import Catalog, CompiledCve, IndexCatalog
from routerwatch.match.compare import VersionCache, norm_hardware
from routerwatch.match.cpe import CpeError, parse_cpe
from routerwatch.match.cve5 import evaluate_affected
from routerwatch.match.description import same_version
from routerwatch.match.evaluator import ConfigVerdict, DeviceView, Evaluator, Level, Memo
from routerwatch.match.index import IndexSource
from routerwatch.match.kev import kev_names_device
from routerwatch.models import CveRecord, DeviceIdentity, Finding, FindingStatus, replace
from routerwatch.progress import Progress

__all__ = ["Matcher", "sort_findings"]

_RANK: dict[FindingStatus, int] = {"not_affected": 0, "possible": 1, "affected": 2}
_STATUS_OF: dict[Level, FindingStatus] = {
    Level.YES: "affected", Level.MAYBE: "possible", Level.NO: "not_affected"
}
_CVE_NUM = re.compile(r"^CVE-(\d+)-(\d+)$", re.I)
_VIEW_MAX = 50_000
_RESULTS_MAX = 20_000  # identical devices (same vendor/model/hardware/firmware) share results



@lru_cache(maxsize=65536)
def _cve_key(cve: str) -> tuple[int, int, str]:
    m = _CVE_NUM.match(cve)
    return (int(m.group(1)), int(m.group(2)), cve) if m else (0, 0, cve)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """KEV first, then EPSS, then CVSS (highest first, unknown last), then CVE id."""
    return sorted(
        findings,
        key=lambda f: (
            not f.kev,
            -(f.epss if f.epss is not None else -1.0),
            -(f.cvss if f.cvss is not None else -1.0),
            _cve_key(f.cve),
        ),
    )


class Matcher:
    """Matches devices against CVE records: a fixed set held in memory (``Matcher(records)``)
    or the KB's stored match index (:meth:`from_index`, memory independent of the KB)."""

    def __init__(
        self,
        records: Iterable[CveRecord] = (),
        *,
        rules: AliasRules | None = None,
        progress: Progress | None = None,
        catalog: Catalog | IndexCatalog | None = None,
    ) -> None:
        self.catalog = catalog if catalog is not None else Catalog(records, rules, progress)
        self.rules = self.catalog.rules
        self._versions = VersionCache()
        self._views: dict[tuple[str | None, ...], DeviceView] = {}
        self._models: dict[tuple[str, str], tuple[frozenset[str], str | None]] = {}
        self._memo: Memo = {}
        self._results: dict[tuple[object, ...], tuple[Finding, ...]] = {}
        self._coverage: dict[tuple[object, ...], tuple[str, ...]] = {}

    @classmethod
    def from_index(cls, source: IndexSource, *, rules: AliasRules | None = None) -> Matcher:
        """A matcher over a stored index (``KnowledgeBase.match_index()``): each check reads
        only its candidate records."""
        return cls(catalog=IndexCatalog(source, rules))

    # ------------------------------------------------------------------ public API

    def knows(self, identity: DeviceIdentity) -> tuple[bool, bool]:
        """(vendor known in the KB, model known in the KB)."""
        dev = self.device(identity)
        vendor_known = self.catalog.knows_vendor(dev.vendor)
        if not vendor_known or dev.vendor is None:
            return vendor_known, False
        if self.catalog.knows_model(dev.vendor, dev.keys):
            return True, True
        # a KEV entry naming the model's family or series ("RV Series", "RouterOS")
        # a KEV entry naming the model's family or series ("RV Series", "RouterOS"): such
        # records are filed vendor-wide, so they are among the candidates of any model
        wide = self.catalog.candidates(dev.vendor, frozenset())
        return True, any(
            kev_names_device(e.kev, dev.keys, dev.hardware) is not None
            for e in self.catalog.entries(wide)  # type: ignore[arg-type]
            if e.kev and not e.configurations and not e.cve5
        )

    def coverage(self, identity: DeviceIdentity) -> dict[str, object]:
        """Whether the KB covers this device, for "no known CVEs" to mean something:
        ``{"vendor": bool, "model": bool, "key": "archerax21", "level": "yes", "sources":
        ["cve5", "nvd"], "note": "..."}``. The key is the normalised model key the KB was
        searched under; ``level`` yes (NVD or CVE 5 name the model), partly (only KEV does,
        or the vendor is known but not the model), no (the vendor is unknown)."""
        dev = self.device(identity)
        vendor_known, model_known = self.knows(identity)
        key = ",".join(sorted(dev.keys)) or None
        name = f"{identity.vendor or 'unknown vendor'} {identity.model or '(no model)'}"
        sources = self._sources(dev) if model_known else ()
        level = ("yes" if {"nvd", "cve5"} & set(sources) else
                 "partly" if sources or vendor_known else "no")
        if model_known:
            note = (f"covered: the knowledge base names {name} (model key {key}; "
                    f"{', '.join(sources) or 'no source'})")
            if level == "partly":
                note += ("; only CISA KEV names it, so versions cannot be decided: import "
                         "NVD/CVE 5 data for it (`routerwatch kb sync`)")
        else:
            held = ("" if vendor_known else
                    f", nor any {identity.vendor} model" if identity.vendor else "")
            note = (f"not covered by this knowledge base: it names no CVE for {name} (model key "
                    f"{key or 'none'}){held}, so \"no known CVEs\" cannot be said; run "
                    "`routerwatch kb sync` (needs internet) or import a fuller bundle with "
                    "`routerwatch kb import FILE`, and check the model spelling")
        return {"vendor": vendor_known, "model": model_known, "key": key, "level": level,
                "sources": list(sources), "note": note}

    def _sources(self, dev: DeviceView) -> tuple[str, ...]:
        """Which sources name the device's model among its candidate records."""
        if dev.vendor is None or not dev.keys:
            return ()
        cached = self._coverage.get((dev.vendor, dev.keys, dev.hardware))
        if cached is not None:
            return cached
        pairs = {(dev.vendor, k) for k in dev.keys}
        found: set[str] = set()
        for e in self.catalog.entries(self.catalog.candidates(dev.vendor, dev.keys)):  # type: ignore[arg-type]
            # a configuration naming the model, or a vendor-wide OS family (routeros)
            if "nvd" not in found and any(not n.keys.isdisjoint(pairs)
                                          or dev.vendor in n.generic_vendors
                                          for n in e.configurations):
                found.add("nvd")
            if "cve5" not in found and any(not ref.keys.isdisjoint(dev.keys)
                                           for x in e.cve5 for _vk, ref in x.refs):
                found.add("cve5")
            if "kev" not in found and e.kev and kev_names_device(
                    e.kev, dev.keys, dev.hardware) is not None:
                found.add("kev")
            if len(found) == 3:
                break
        out = tuple(sorted(found))
        if len(self._coverage) >= _VIEW_MAX:
            self._coverage.clear()
        self._coverage[(dev.vendor, dev.keys, dev.hardware)] = out
        return out

    def check(self, identity: DeviceIdentity, *, include_unaffected: bool = False
              ) -> list[Finding]:
        """Findings for one device: affected and possible ones (plus not_affected ones for
        the CVEs that name the device when ``include_unaffected``), sorted by KEV, EPSS, CVSS,
        CVE id."""
        key = (identity.vendor, identity.model, identity.hardware, identity.firmware,
               identity.region, include_unaffected)
        cached = self._results.get(key)
        if cached is None:
            cached = self._check(identity, include_unaffected)
            if len(self._results) >= _RESULTS_MAX:
                self._results.clear()
            self._results[key] = cached
        return list(cached)

    def _check(self, identity: DeviceIdentity, include_unaffected: bool) -> tuple[Finding, ...]:
        dev = self.device(identity)
        if dev.vendor is None or not dev.keys:
            return ()
        ev = self._evaluator(dev, identity)
        findings = []
        ids = self.catalog.candidates(dev.vendor, dev.keys)
        for entry in self.catalog.entries(ids):  # type: ignore[arg-type]
            finding = self._judge(ev, entry)
            if finding is not None and (include_unaffected or finding.status != "not_affected"):
                findings.append(finding)
        return tuple(sort_findings(findings))

    def _evaluator(self, dev: DeviceView, identity: DeviceIdentity) -> Evaluator:
        return Evaluator(dev, self._versions, identity.vendor, self._memo)

    def prepare(self, vendor: str) -> int:
        """Resolve the product names of one vendor (any spelling) now rather than on its
        first check; returns how many models the KB names for it."""
        vk = vendor_key(vendor)
        return len(self.catalog.models(vk)) if vk is not None else 0

    def explain(self, identity: DeviceIdentity, cve_id: str) -> Finding | None:
        """The verdict on one CVE for one device, whatever the index says (for "why is CVE X
        not listed?"); None when the KB does not have the CVE or it names no products."""
        dev = self.device(identity)
        if dev.vendor is None or not dev.keys:
            return None
        entry = self.catalog.lookup(cve_id)
        if entry is None:
            return None
        return self._judge(self._evaluator(dev, identity), entry)

    def device(self, identity: DeviceIdentity) -> DeviceView:
        """The identity as the matcher reads it (canonical vendor and model keys)."""
        key = (identity.vendor, identity.model, identity.hardware, identity.firmware,
               identity.region)
        view = self._views.get(key)
        if view is None:
            if len(self._views) >= _VIEW_MAX:
                self._views.clear()
            view = self._views[key] = self._view(identity)
        return view

    # ------------------------------------------------------------------ internals

    def _view(self, identity: DeviceIdentity) -> DeviceView:
        vk = vendor_key(identity.vendor)
        model = (identity.model or "").strip() or None
        hardware = norm_hardware(identity.hardware) if identity.hardware else None
        firmware = (identity.firmware or "").strip() or None
        keys: frozenset[str] = frozenset()
        if vk is not None and model is not None:
            keys, implied = self._model(vk, model)
            if hardware is None:
                hardware = implied
        region = (identity.region or "").strip().upper() or None
        return DeviceView(vk, model, keys, hardware, firmware, region)

    def _model(self, vk: str, model: str) -> tuple[frozenset[str], str | None]:
        """Canonical keys of a model and the revision its name carries ("WNR1000v2": "2")."""
        cached = self._models.get((vk, model))
        if cached is None:
            keys = self.rules.model_keys(vk, model)
            token, hw = split_product(re.sub(r"\s+", "_", model.lower()))
            implied = None
            if hw and token:
                keys |= self.rules.model_keys(vk, token)
                implied = norm_hardware(hw)
            else:  # "DIR-850LB1": a revision fused to the model (aliases.yaml)
                for fused in filter(None, (self.rules.fused_revision(vk, model_key(p))
                                           for p in model.split())):
                    implied = norm_hardware(fused[1])
            if len(self._models) >= _VIEW_MAX:
                self._models.clear()
            cached = self._models[(vk, model)] = (keys, implied)
        return cached

    def _judge(self, ev: Evaluator, entry: CompiledCve) -> Finding | None:
        finding = self._judge_nvd(ev, entry) if entry.configurations else None
        named = finding is not None and (
            finding.status != "not_affected" or any(map(ev.names, entry.configurations)))
        if entry.cve5 and not named:
            # No configurations yet, or none names this model: the CVE 5 data may.
            supplement = self._judge_cve5(ev, entry)
            if supplement is not None:
                finding, named = supplement, True
        if entry.kev and not named:
            # Neither NVD nor CVE 5 names the device (or the KB has neither record): KEV may.
            finding = self._judge_kev(ev, entry) or finding
        if finding is not None and finding.status == "possible" and entry.named:
            # The data names the model but cannot decide the version; the description may
            # name this exact model and firmware ("Netgear EX6120 v1.0.0.68 is vulnerable").
            pair = self._named(ev.device, entry.named)
            if pair is not None:
                finding = replace(finding, status="affected", reason=(
                    f"{finding.reason}; the description names {pair[0]} {pair[1]}: this "
                    "device's model on exactly that firmware"))
        if finding is not None and finding.status == "affected" and entry.regions:
            regions = self._regions(ev.device, entry.regions)
            region = ev.device.region or ""
            if regions and region not in regions:
                tags = "/".join(sorted(regions))
                finding = replace(finding, status="possible", reason=(
                    f"{finding.reason}; the advisory is about {tags} firmware of this model "
                    f"and the device's region is {region or 'unknown'}"
                ))
        if finding is not None and finding.status != "not_affected":
            finding = replace(finding, joined=self._joined(ev.device, finding, entry))
        return finding

    def _joined(self, dev: DeviceView, finding: Finding, entry: CompiledCve) -> str:
        """Why the device and the record were joined: the device's model key(s) and the KB
        product name that resolved to one of them (through which rule)."""
        assert dev.vendor is not None
        keys = ",".join(sorted(dev.keys))
        side = f"device {dev.model!r} -> model key {keys}"
        if dev.hardware:
            side += f", hardware {dev.hardware}"
        kb: list[str] = []
        if finding.source == "nvd":
            for text in finding.criteria:
                try:
                    cpe = parse_cpe(text)
                except CpeError:
                    continue
                cvk = vendor_key(cpe.vendor)
                ref = self.rules.product(cvk, cpe.product) if cvk else None
                if ref is None:
                    continue
                if ref.generic is not None:
                    kb.append(f"NVD {cpe.part}:{cpe.product} (a {ref.generic}-wide firmware "
                              "family, joined through the hardware CPE or version)")
                elif not ref.keys.isdisjoint(dev.keys):
                    both = ref.keys & dev.keys
                    kb.append(f"NVD {cpe.part}:{cpe.product} -> {','.join(sorted(both))}"
                              + (f" (revision {ref.hardware} in the name)" if ref.hardware
                                 else "") + self._rule_note(dev.vendor, cpe.product, both))
        elif finding.source == "cve5":
            for e in entry.cve5:
                for _vk, ref in e.refs:
                    if not ref.keys.isdisjoint(dev.keys):
                        kb.append(f"CVE 5 {e.origin} product {ref.name!r} -> "
                                  f"{','.join(sorted(ref.keys & dev.keys))}"
                                  + (f" (revision {ref.hardware} in the name)"
                                     if ref.hardware else ""))
        else:
            name = kev_names_device(entry.kev, dev.keys, dev.hardware)
            kev = entry.record.kev
            if name is not None and kev is not None:
                kb.append(f"KEV product {kev.product!r} names {name.kind} {name.text!r}")
        seen: list[str] = []
        for item in kb:
            if item not in seen:
                seen.append(item)
        return side + "; " + ("; ".join(seen[:3]) if seen else "no product name (version data)")

    def _rule_note(self, vk: str, product: str, keys: frozenset[str]) -> str:
        """" (alias rule ...)" when an aliases.yaml rule, not the name itself, gave the key."""
        own = self.rules.model_keys(vk, product.removesuffix("_firmware"))
        return "" if not own.isdisjoint(keys) else " (alias rule in aliases.yaml)"

    def _named(self, dev: DeviceView, pairs: frozenset[tuple[str, str]]
               ) -> tuple[str, str] | None:
        """The (model, version) pair of the description that is this device on its firmware."""
        assert dev.vendor is not None
        if dev.firmware is None:
            return None
        for text, version in sorted(pairs):
            if same_version(dev.firmware, version) and not self._model(
                    dev.vendor, text)[0].isdisjoint(dev.keys):
                return text, version
        return None

    def _regions(self, dev: DeviceView, tags: frozenset[tuple[str, str]]) -> set[str]:
        """The regions of the builds a description names for this device's model."""
        assert dev.vendor is not None
        return {
            region for text, region in tags
            if not self._model(dev.vendor, text)[0].isdisjoint(dev.keys)
        }

    def _judge_nvd(self, ev: Evaluator, entry: CompiledCve) -> Finding:
        best: tuple[int, ConfigVerdict] | None = None
        for i, node in enumerate(entry.configurations, 1):
            verdict = ev.configuration(node, entry.dash_all)
            if best is None or _better(verdict, best[1]):
                best = (i, verdict)
        assert best is not None
        i, verdict = best
        out = verdict.outcome
        if verdict.status == "not_affected":
            why = "; ".join(out.notes) if out.near else "no configuration names this device"
            reason = f"NVD config {i}: {why}"
            return self._finding(entry, "not_affected", reason, "nvd", None, out.criteria)
        reason = f"NVD config {i}: " + ", ".join(out.notes)
        if verdict.caveats:
            reason += "; " + "; ".join(verdict.caveats)
        elif "unspecified" in out.weak and "hardware" not in out.pins:
            reason += "; the description names no firmware version either: every version"
        return self._finding(entry, verdict.status, reason, "nvd", out.fixed_in, out.criteria)

    def _judge_cve5(self, ev: Evaluator, entry: CompiledCve) -> Finding | None:
        res = evaluate_affected(entry.cve5, ev.device, self._versions, ev.vendor, entry.dash_all)
        if res is None:
            return None
        status = _STATUS_OF[res.level]
        if entry.configurations:
            why = "NVD's configurations do not name this model"
        else:
            why = f"NVD has no configurations yet ({entry.record.vuln_status or 'no analysis'})"
        return self._finding(entry, status, f"{why}; {res.note}", "cve5", res.fixed_in, ())

    def _judge_kev(self, ev: Evaluator, entry: CompiledCve) -> Finding | None:
        kev = entry.record.kev
        dev = ev.device
        if kev is None or dev.vendor is None or not kev.vendor:
            return None
        if vendor_key(kev.vendor) != dev.vendor:
            return None
        name = kev_names_device(entry.kev, dev.keys, dev.hardware)
        if name is None or (name.kind != "model" and (entry.configurations or entry.cve5)):
            # A family or series ("Multiple Archer Devices", "RV Series") is vaguer than the
            # models NVD or CVE 5 list: it counts only where the KB has neither.
            return None
        if entry.configurations or entry.cve5:
            data = "NVD and CVE 5 data do not name this model"
        else:
            data = "the KB has no NVD or CVE 5 record of it to decide the version"
        what = {"model": name.text, "prefix": name.text,
                "family": f"{name.text}, which covers this model"}[name.kind]
        reason = (f"KEV names {what} (CISA KEV, added {kev.date_added}); {data}: "
                  "possible until the firmware is checked against the vendor's advisory")
        return self._finding(entry, "possible", reason, "kev", None, ())

    @staticmethod
    def _finding(entry: CompiledCve, status: FindingStatus, reason: str, source: str,
                 fixed_in: str | None, criteria: tuple[str, ...]) -> Finding:
        # Finding is a msgspec Struct: building it costs well under a microsecond.
        r = entry.record
        return Finding(
            cve=r.cve_id,
            status=status,
            reason=reason,
            source="cve5" if source == "cve5" else "kev" if source == "kev" else "nvd",
            kev=r.in_kev,
            kev_date=r.kev.date_added if r.kev is not None else r.nvd_kev_date,
            epss=r.epss,
            cvss=r.cvss_score,
            severity=r.severity,
            fixed_in=fixed_in if status != "not_affected" else None,
            description=r.description,
            criteria=criteria,
            exploited_by=(),  # filled in by assess (campaign data), not by matching
        )


def _better(new: ConfigVerdict, old: ConfigVerdict) -> bool:
    if _RANK[new.status] != _RANK[old.status]:
        return _RANK[new.status] > _RANK[old.status]
    # Among not_affected ones, one that says why (version/revision excluded it) explains more.
    return new.status == "not_affected" and new.outcome.near and not old.outcome.near
