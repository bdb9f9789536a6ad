"""The configuration evaluator: one device against one CVE's NVD configurations.

Three-valued logic (Kleene): every criterion, node and configuration is YES, NO or MAYBE
(firmware or hardware revision unknown, or a bound that could not be compared). AND takes the
weakest child, OR the strongest, ``negate`` swaps YES and NO. On top of the level an
:class:`Outcome` carries what a user needs to judge it: the phrases of the criteria that
decided, whether a ``vulnerable: true`` criterion is among them (platform CPEs alone never make
a finding), and "weak" marks that keep a YES at "possible":

* ``unspecified``: a firmware CPE with version ``-`` and no range (NVD gives no version). It
  counts as affected only when the configuration pins the device's hardware revision
  (CVE-2023-33538: ``tl-wr841n_firmware:-`` AND ``tl-wr841n:8.0``/``10.0``), else possible.
* ``generic-vendor`` / ``generic-platform``: a firmware family (``asuswrt``,
  ``prosafe_firmware``) rather than a model; see ``data/aliases.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from routerwatch.match.compare import VersionCache, hardware_matches
from routerwatch.match.cpe import ANY, NA
from routerwatch.match.criteria import Criterion, Node
from routerwatch.models import FindingStatus

__all__ = ["ConfigVerdict", "DeviceView", "Evaluator", "Level", "Outcome"]


class Level(IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A DeviceIdentity as the matcher reads it (vendor key, canonical model keys)."""

    vendor: str | None  # vendor key (display name for known vendors)
    model: str | None  # as the device reports it, for explanations
    keys: frozenset[str] = frozenset()  # canonical model keys
    hardware: str | None = None  # normalised revision ("8", "2.20", "a1")
    firmware: str | None = None
    region: str | None = None


@dataclass(slots=True, eq=False)
class Outcome:
    """The result of evaluating a criterion or node against one device (never mutated;
    not frozen only because frozen dataclasses are slower to build on this hot path)."""

    level: Level
    vulnerable: bool = False  # rests on a vulnerable:true criterion
    notes: tuple[str, ...] = ()  # one readable phrase per criterion that counted
    criteria: tuple[str, ...] = ()  # the CPE strings behind the notes
    weak: frozenset[str] = frozenset()
    pins: frozenset[str] = frozenset()  # "model", "hardware": what named the device itself
    fixed_in: str | None = None
    near: bool = False  # NO although the product matched (version or revision excluded it)


_NO = Outcome(Level.NO)
_EMPTY: frozenset[str] = frozenset()
_MODEL = frozenset(("model",))
_HARDWARE = frozenset(("hardware",))
_UNSPECIFIED = frozenset(("unspecified",))
_GENERIC = {"vendor": frozenset(("generic-vendor",)), "platform": frozenset(("generic-platform",))}


@dataclass(frozen=True, slots=True)
class ConfigVerdict:
    """What one configuration says about the device."""

    status: FindingStatus
    outcome: Outcome
    caveats: tuple[str, ...] = field(default=())


_UNRELATED = ConfigVerdict("not_affected", _NO)
_MEMO_MAX = 100_000  # device keys (each with the outcomes of its few criteria)
_YES, _MAYBE, _NO_LEVEL = Level.YES, Level.MAYBE, Level.NO

Memo = dict[tuple[object, ...], dict[Criterion, Outcome]]


class Evaluator:
    """Evaluates configurations for one device.

    ``memo`` may be shared between evaluators of one matcher (criteria are interned and live
    as long as it): a criterion's outcome is kept per (vendor, model, hardware, firmware) and
    criterion, firmware left out for hardware criteria, so devices of one model share them.
    """

    def __init__(self, device: DeviceView, versions: VersionCache, vendor: str | None,
                 memo: Memo | None = None) -> None:
        self.device = device
        self.versions = versions
        self.vendor = vendor  # display name handed to compare_versions
        memo = {} if memo is None else memo
        d = device
        fw_key = (d.vendor, d.model, d.hardware, d.firmware)
        hw_key = (d.vendor, d.model, d.hardware, None)
        fw = memo.get(fw_key)
        hw = memo.get(hw_key)
        if fw is None or hw is None:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
                fw = hw = None
            if fw is None:
                fw = memo[fw_key] = {}
            if hw is None:
                hw = memo.setdefault(hw_key, {})  # the same dict when firmware is unknown
        self._fw_memo: dict[Criterion, Outcome] = fw
        self._hw_memo: dict[Criterion, Outcome] = hw
        self._configs: dict[tuple[int, bool], ConfigVerdict] = {}
        self._keyset = frozenset((device.vendor, k) for k in device.keys)

    # ------------------------------------------------------------------ configurations

    def names(self, node: Node) -> bool:
        """Whether any criterion of the configuration can name the device at all."""
        return self.device.vendor in node.generic_vendors or not node.keys.isdisjoint(
            self._keyset
        )

    def configuration(self, node: Node, dash_all: bool = False) -> ConfigVerdict:
        """The verdict of one configuration (memoised: interned configurations repeat).

        ``dash_all``: the CVE's description names no firmware version, so a firmware CPE
        with version ``-`` stands for every version.
        """
        if not self.names(node):
            return _UNRELATED  # no criterion below can name the device
        key = (id(node), dash_all)
        verdict = self._configs.get(key)
        if verdict is None:
            verdict = self._configs[key] = self._configuration(node, dash_all)
        return verdict

    def _configuration(self, node: Node, dash_all: bool) -> ConfigVerdict:
        out = self.node(node)
        if out.level is Level.NO or not out.vulnerable:
            return ConfigVerdict("not_affected", out)
        model_pinned = "model" in out.pins
        if "generic-platform" in out.weak and not model_pinned:
            return ConfigVerdict("not_affected", out, ("names a firmware family, no model",))
        caveats = []
        if "generic-vendor" in out.weak and not model_pinned:
            caveats.append("NVD names the vendor's firmware family, not this model")
        if "unspecified" in out.weak and "hardware" not in out.pins and not dash_all:
            caveats.append("NVD gives no firmware version and the description names some")
        if out.level is Level.MAYBE or caveats:
            return ConfigVerdict("possible", out, tuple(caveats))
        return ConfigVerdict("affected", out)

    def node(self, node: Node) -> Outcome:
        if node.lookup is not None:  # a long flat OR: only the device's own criteria
            return self._lookup(node.lookup)
        outs = [
            self.node(item) if isinstance(item, Node) else self.criterion(item)
            for item in node.items
        ]
        if not outs:
            result = _NO
        elif node.operator == "AND":
            result = _all(outs)
        else:
            result = _any(outs)
        return _negate(result) if node.negate else result

    def _lookup(self, lookup: dict[tuple[str, str] | str, tuple[tuple[int, Criterion], ...]]
                ) -> Outcome:
        dev = self.device
        found: list[tuple[int, Criterion]] = []
        if dev.vendor is not None:
            found.extend(lookup.get(dev.vendor, ()))
            for k in dev.keys:
                found.extend(lookup.get((dev.vendor, k), ()))
        if not found:
            return _NO
        found.sort(key=lambda pc: pc[0])
        return _any([self.criterion(c) for _pos, c in found])

    # ------------------------------------------------------------------ criteria

    def criterion(self, c: Criterion) -> Outcome:
        if c.vendor != self.device.vendor or c.ref is None:
            return _NO
        memo = self._fw_memo if c.firmware else self._hw_memo
        out = memo.get(c)
        if out is None:
            out = memo[c] = self._criterion(c)
        return out

    def _criterion(self, c: Criterion) -> Outcome:
        dev = self.device
        ref = c.ref
        assert ref is not None
        weak: frozenset[str] = _EMPTY
        if ref.generic is not None:
            # A firmware family: a platform one needs the model from elsewhere; a vendor-wide
            # one (asuswrt) is decided by a version comparison, but not by "all versions".
            if ref.generic == "platform" or (not c.ranged and c.version in (ANY, NA)):
                weak = _GENERIC[ref.generic]
            pins = _EMPTY
        elif ref.keys.isdisjoint(dev.keys):
            return _NO
        else:
            pins = _MODEL
        level = _YES
        hw_notes: list[str] = []
        # Hardware revision named by the product or by the h: CPE's version.
        hardware = dev.hardware
        for rev in c.hardware:
            if hardware is None:
                level = _MAYBE
                hw_notes.append(f"{ref.name} hardware v{rev}, device hardware revision unknown")
                continue
            ok = hardware_matches(rev, hardware)
            if ok is False:
                return self._near(c, f"hardware v{hardware} is not the v{rev} of {ref.name}")
            if ok is None:
                level = _MAYBE
                hw_notes.append(f"{ref.name} hardware v{rev}, device reports only v{hardware}")
            else:
                pins = pins | _HARDWARE
        if c.firmware:
            subject = dev.model if pins and dev.model else ref.name
            vl, vnote = self._firmware(c)
            if vl is _NO_LEVEL:
                return self._near(c, f"{subject} firmware {vnote}")
            if not c.ranged and c.version == NA:
                weak = weak | _UNSPECIFIED
            if vl < level:
                level = vl
            first = f"{subject} firmware {vnote}"
        else:
            first = c.hw_phrase
            if c.ranged:
                vl, vnote = self._range(c, hardware, "hardware")
                if vl is _NO_LEVEL:
                    return self._near(c, vnote)
                if vl < level:
                    level = vl
                first = f"{first} ({vnote})"
        notes = (first, *hw_notes) if hw_notes else (first,)
        return Outcome(level, c.vulnerable, notes, (c.text,), weak, pins, c.fixed_in)

    def _near(self, c: Criterion, note: str) -> Outcome:
        return Outcome(Level.NO, c.vulnerable, (note,), (c.text,), near=True)

    def _firmware(self, c: Criterion) -> tuple[Level, str]:
        fw = self.device.firmware
        if c.ranged:
            return self._range(c, fw, "firmware")
        if c.version == ANY:
            return Level.YES, "(all versions)"
        if c.version == NA:
            return Level.YES, "(version not specified by NVD)"
        if fw is None:
            return Level.MAYBE, f"{c.version} affected, device firmware unknown"
        r = self.versions.compare(self.vendor, fw, c.version)
        if r is None:
            return Level.MAYBE, f"{fw} could not be compared with the listed {c.version}"
        if r == 0:
            return Level.YES, f"{fw} = {c.version} (exact version listed)"
        return Level.NO, f"{fw} is not the listed {c.version}"

    def _range(self, c: Criterion, value: str | None, what: str) -> tuple[Level, str]:
        if value is None:
            return _MAYBE, f"{c.ops} affected, device {what} unknown"
        level = Level.YES
        for bound, is_start in ((c.start, True), (c.end, False)):
            if bound is None:
                continue
            r = self.versions.compare(self.vendor, value, bound.version)
            if r is None:
                level = Level.MAYBE
                continue
            if is_start:
                ok = r >= 0 if bound.inclusive else r > 0
            else:
                ok = r <= 0 if bound.inclusive else r < 0
            if not ok:
                return _NO_LEVEL, f"{value} is not {c.ops}"
        if level is _MAYBE:
            return level, f"{value} vs {c.ops}: versions could not be compared"
        return level, f"{value} {c.ops}"


# ---------------------------------------------------------------------- combining


def _rank(o: Outcome) -> tuple[bool, int, int, int]:
    return (o.vulnerable, int(o.level), -len(o.weak), len(o.pins))


def _any(outs: list[Outcome]) -> Outcome:
    if len(outs) == 1:
        o = outs[0]
        return o if o.level is not _NO_LEVEL or o.near else _NO
    live = [o for o in outs if o.level is not Level.NO]
    if not live:
        return next((o for o in outs if o.near), _NO)
    return max(live, key=_rank)


def _all(outs: list[Outcome]) -> Outcome:
    for o in outs:
        if o.level is Level.NO:
            return next((n for n in outs if n.level is Level.NO and n.near), o)
    ordered = sorted(outs, key=lambda o: not o.vulnerable)  # vulnerable phrases first
    fixed = next((o.fixed_in for o in ordered if o.fixed_in), None)
    return Outcome(
        level=min(o.level for o in outs),
        vulnerable=any(o.vulnerable for o in outs),
        notes=tuple(n for o in ordered for n in o.notes),
        criteria=tuple(c for o in ordered for c in o.criteria),
        weak=frozenset().union(*(o.weak for o in outs)),
        pins=frozenset().union(*(o.pins for o in outs)),
        fixed_in=fixed,
    )


def _negate(o: Outcome) -> Outcome:
    level = {Level.YES: Level.NO, Level.NO: Level.YES, Level.MAYBE: Level.MAYBE}[o.level]
    notes = tuple(f"not ({n})" for n in o.notes) or ("none of the excluded products",)
    return Outcome(level=level, notes=notes, criteria=o.criteria)
