"""Vendor policy: restricted vendors with a reason and a deadline, and sites by address.

A policy is a YAML file (docs/policy.md)::

    name: phase-out-tp-link
    description: ...
    example: true                      # optional: marks a shipped illustration
    restricted:
      - vendor: TP-Link                # any spelling routerwatch knows ("tplink", "TP-LINK");
                                       # "any" with a condition below: every vendor
        reason: ...
        deadline: 2027-06-30
        models: [Archer C7, TL-WR841N] # optional: only these models
        reference: https://...         # optional
        id: tx-tp-link                 # optional: names the restriction in reports
        effective: 2026-01-26          # optional: when it took effect
        scope: "state agencies ..."    # optional: whom it binds
        updates_until: 2027-03-01      # optional: no firmware updates allowed after this date
        produced_abroad: true          # optional: only devices produced outside `home`
        home: [US]                     #   (country of production from the inventory import)
        sources: [{publisher, date, url, checked, note}]   # optional, as in checks/sources.py

Restrictions with a condition on attributes the network cannot show (``produced_abroad``) are
decided by :mod:`routerwatch.assess.readiness` from the inventory import, never guessed from a
scan; :meth:`Policy.violations` skips them.
    sites:                             # optional: network -> site name (longest prefix wins)
      10.1.0.0/16: Head office
      10.2.0.0/16: Warehouse

No policy is applied unless the user names one; shipped examples live in ``assess/policies`` and
:func:`load_policy` accepts their names ("phase-out-tp-link"). :func:`site_summary` counts and
lists, per site, the devices to replace (policy or end-of-life).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from routerwatch.assess.remediation import Violation
from routerwatch.checks.sources import Source, parse_sources
from routerwatch.models import Assessment, DeviceIdentity

__all__ = [
    "ANY_VENDOR",
    "Policy",
    "PolicyError",
    "ReplaceItem",
    "Restriction",
    "Site",
    "SiteSummary",
    "load_policy",
    "shipped_policies",
    "site_summary",
]

MAX_POLICY_BYTES = 2**20
UNASSIGNED = "unassigned"
IpNet = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyError(Exception):
    """A policy file cannot be used; the message names the file and the field."""


def _vendor_key(text: str | None) -> str:
    if not text:
        return ""
    try:
        from routerwatch.identity.vendors import canonical_vendor
    except ImportError:  # pragma: no cover
        return text.casefold()
    return (canonical_vendor(text) or text.strip()).casefold()


def _vendor_display(text: str) -> str:
    try:
        from routerwatch.identity.vendors import canonical_vendor
    except ImportError:  # pragma: no cover
        return text.strip()
    return canonical_vendor(text) or text.strip()


def _model_key(text: str) -> str:
    try:
        from routerwatch.identity.hardware import model_key
    except ImportError:  # pragma: no cover
        return re.sub(r"[^a-z0-9+]", "", text.lower())
    return model_key(text)


ANY_VENDOR = "any"


@dataclass(frozen=True)
class Restriction:
    vendor: str
    reason: str
    deadline: date
    models: tuple[str, ...] = ()
    reference: str | None = None
    id: str = ""
    effective: date | None = None
    scope: str = ""
    updates_until: date | None = None
    produced_abroad: bool = False
    home: tuple[str, ...] = ("US",)
    sources: tuple[Source, ...] = ()

    @property
    def needs_inventory(self) -> bool:
        """Decided only with imported attributes (country of production)."""
        return self.produced_abroad

    def citation(self) -> str:
        if self.sources:
            return "; ".join(s.cite() for s in self.sources)
        return self.reference or ""

    def applies(self, identity: DeviceIdentity) -> bool:
        if self.vendor.casefold() == ANY_VENDOR:
            return not self.models or (
                identity.model is not None
                and _model_key(identity.model) in {_model_key(m) for m in self.models}
            )
        if not identity.vendor or _vendor_key(identity.vendor) != _vendor_key(self.vendor):
            return False
        if not self.models:
            return True
        return identity.model is not None and _model_key(identity.model) in {
            _model_key(m) for m in self.models
        }


@dataclass(frozen=True)
class Site:
    network: IpNet
    name: str


@dataclass(frozen=True)
class Policy:
    name: str
    restricted: tuple[Restriction, ...]
    description: str = ""
    sites: tuple[Site, ...] = ()
    example: bool = False
    source: str = ""

    def violations(self, identity: DeviceIdentity, today: date | None = None) -> list[Violation]:
        today = today or date.today()
        return [
            Violation(
                policy=self.name,
                vendor=r.vendor,
                reason=r.reason,
                deadline=r.deadline.isoformat(),
                overdue=today > r.deadline,
            )
            for r in self.restricted
            if not r.needs_inventory and r.applies(identity)
        ]

    def site_for(self, address: str | None) -> str | None:
        """The site of the longest network containing the address, else None."""
        if not address:
            return None
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        best: Site | None = None
        for s in self.sites:
            if (
                ip.version == s.network.version
                and ip in s.network
                and (best is None or s.network.prefixlen > best.network.prefixlen)
            ):
                best = s
        return best.name if best else None


# --------------------------------------------------------------------------- loading

_TOP_KEYS = {"name", "description", "example", "restricted", "sites"}
_RESTRICTION_KEYS = {
    "vendor", "reason", "deadline", "models", "scope", "reference", "id", "effective",
    "updates_until", "produced_abroad", "home", "sources",
}  # fmt: skip
_POLICY_DIR = "policies"


def shipped_policies() -> list[str]:
    """Names of the shipped example policies."""
    folder = resources.files("routerwatch.assess").joinpath(_POLICY_DIR)
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise PolicyError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}.{key}: missing or not text" if where else f"{key}: missing")
    return " ".join(value.split())


def _restriction(raw: Any, where: str) -> Restriction:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected a mapping with vendor, reason and deadline")
    unknown = set(raw) - _RESTRICTION_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    if "deadline" not in raw:
        raise PolicyError(f"{where}.deadline: missing")
    scope_raw = raw.get("scope")
    models = raw.get("models") or (scope_raw if isinstance(scope_raw, dict | list) else ())
    if isinstance(models, dict):  # scope: {models: [...]}
        models = models.get("models") or ()
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, list | tuple) or not all(isinstance(m, str) for m in models):
        raise PolicyError(f"{where}.models: expected a list of model names")
    vendor = _text(raw, "vendor", where)
    produced_abroad = raw.get("produced_abroad", False)
    if not isinstance(produced_abroad, bool):
        raise PolicyError(f"{where}.produced_abroad: expected true or false")
    if vendor.casefold() == ANY_VENDOR and not (produced_abroad or models):
        raise PolicyError(f"{where}.vendor: 'any' needs a condition (produced_abroad or models)")
    home = raw.get("home") or ["US"]
    if not isinstance(home, list) or not all(isinstance(h, str) and h for h in home):
        raise PolicyError(f"{where}.home: expected a list of country codes")
    try:
        sources = parse_sources(raw.get("sources"))
    except ValueError as e:
        raise PolicyError(f"{where}.{e}") from None

    def opt_date(key: str) -> date | None:
        return None if raw.get(key) is None else _date(raw[key], f"{where}.{key}")

    return Restriction(
        vendor=ANY_VENDOR if vendor.casefold() == ANY_VENDOR else _vendor_display(vendor),
        reason=_text(raw, "reason", where),
        deadline=_date(raw["deadline"], f"{where}.deadline"),
        models=tuple(models),
        reference=raw.get("reference"),
        id=str(raw.get("id") or ""),
        effective=opt_date("effective"),
        scope=" ".join(scope_raw.split()) if isinstance(scope_raw, str) else "",
        updates_until=opt_date("updates_until"),
        produced_abroad=produced_abroad,
        home=tuple(h.strip().upper() for h in home),
        sources=sources,
    )


def _sites(raw: Any, where: str) -> tuple[Site, ...]:
    if raw is None:
        return ()
    items: list[tuple[Any, Any]]
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = []
        for i, s in enumerate(raw):
            if not isinstance(s, dict) or "network" not in s or "name" not in s:
                raise PolicyError(f"{where}[{i + 1}]: expected network and name")
            items.append((s["network"], s["name"]))
    else:
        raise PolicyError(f"{where}: expected a mapping of network to site name")
    out = []
    for net, name in items:
        try:
            network = ipaddress.ip_network(str(net).strip(), strict=False)
        except ValueError:
            raise PolicyError(f"{where}: {net!r} is not a network (e.g. 10.1.0.0/16)") from None
        if not isinstance(name, str) or not name.strip():
            raise PolicyError(f"{where}: network {net} needs a site name")
        out.append(Site(network, name.strip()))
    return tuple(out)


def parse_policy(data: Any, source: str) -> Policy:
    """A Policy from parsed YAML; ``source`` names the file in error messages."""
    try:
        return _parse_policy(data)
    except PolicyError as e:
        raise PolicyError(f"policy {source}: {e}") from None


def _parse_policy(data: Any) -> Policy:
    if not isinstance(data, dict):
        raise PolicyError("expected a mapping with name and restricted")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PolicyError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    name = _text(data, "name", "")
    raw_restricted = data.get("restricted")
    if not isinstance(raw_restricted, list):
        raise PolicyError("restricted: expected a list of restricted vendors")
    restricted = tuple(
        _restriction(r, f"restricted[{i + 1}]") for i, r in enumerate(raw_restricted)
    )
    return Policy(
        name=name,
        restricted=restricted,
        description=" ".join(str(data.get("description") or "").split()),
        sites=_sites(data.get("sites"), "sites"),
        example=bool(data.get("example", False)),
        source="",
    )


def _load_text(text: str, source: str) -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        detail = " ".join(str(e).split())
        raise PolicyError(f"policy {source}: not valid YAML: {detail}") from None
    except ValueError as e:  # YAML dates like 2027-13-01 fail while loading
        raise PolicyError(f"policy {source}: not a valid date ({e})") from None
    policy = parse_policy(data, source)
    return replace(policy, source=source)


def load_policy(path: Path | str) -> Policy:
    """Load a policy file, or a shipped example by name ("phase-out-tp-link")."""
    p = Path(path)
    source = str(path)
    if p.is_file():
        try:
            with open(p, "rb") as f:
                raw = f.read(MAX_POLICY_BYTES + 1)
        except OSError as e:
            raise PolicyError(f"policy {source}: cannot read: {e.strerror or e}") from None
        if len(raw) > MAX_POLICY_BYTES:
            raise PolicyError(f"policy {source}: larger than 1 MiB")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PolicyError(f"policy {source}: not UTF-8 text") from None
        return _load_text(text, source)
    if p.exists():
        raise PolicyError(f"policy {source}: not a file")
    name = str(path).removesuffix(".yaml")
    if name in shipped_policies():
        folder = resources.files("routerwatch.assess").joinpath(_POLICY_DIR)
        text = folder.joinpath(f"{name}.yaml").read_text("utf-8")
        return _load_text(text, f"{name} (shipped example)")
    raise PolicyError(
        f"policy {source}: no such file or shipped example (examples: "
        f"{', '.join(shipped_policies())})"
    )


# --------------------------------------------------------------------------- site summary


@dataclass(frozen=True)
class ReplaceItem:
    address: str | None
    label: str
    reasons: tuple[str, ...]
    deadline: str | None = None  # earliest policy deadline, ISO
    overdue: bool = False
    eol: str | None = None  # end-of-life date, ISO

    @property
    def sort_date(self) -> str:
        """The earlier of the policy deadline and the EOL date ("replace by")."""
        return min(d for d in (self.deadline, self.eol, "9999-12-31") if d)

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "label": self.label,
            "reasons": list(self.reasons),
            "deadline": self.deadline,
            "overdue": self.overdue,
            "eol": self.eol,
        }


@dataclass(frozen=True)
class SiteSummary:
    site: str
    devices: int
    to_replace: tuple[ReplaceItem, ...] = field(default=())

    @property
    def replace_count(self) -> int:
        return len(self.to_replace)

    @property
    def overdue_count(self) -> int:
        return sum(1 for r in self.to_replace if r.overdue)

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "devices": self.devices,
            "replace": self.replace_count,
            "overdue": self.overdue_count,
            "to_replace": [r.to_dict() for r in self.to_replace],
        }


def _replace_item(a: Assessment, policy: Policy | None, today: date) -> ReplaceItem | None:
    reasons: list[str] = []
    deadlines: list[str] = []
    overdue = False
    if policy is not None:
        for v in policy.violations(a.identity, today):
            reasons.append(v.text())
            deadlines.append(v.deadline)
            overdue = overdue or v.overdue
    else:
        reasons.extend(a.policy)
        overdue = any("overdue" in p for p in a.policy)
    if a.eol:
        reasons.append(f"end-of-life ({a.eol})")
    if not reasons:
        return None
    return ReplaceItem(
        address=a.address,
        label=a.identity.label(),
        reasons=tuple(reasons),
        deadline=min(deadlines) if deadlines else None,
        overdue=overdue,
        eol=a.eol,
    )


def site_summary(
    assessments: Sequence[Assessment],
    policy: Policy | None,
    *,
    today: date | None = None,
) -> list[SiteSummary]:
    """Per site: how many devices, and which to replace (policy violations and end-of-life).

    The site is the assessment's own ``site``, else the policy's site for its address, else
    "unassigned". Sites are listed in policy order, then by name, "unassigned" last; devices to
    replace overdue first, then by the earlier of policy deadline and EOL date, then address.
    """
    today = today or date.today()
    groups: dict[str, list[Assessment]] = {}
    for a in assessments:
        site = a.site or (policy.site_for(a.address) if policy else None) or UNASSIGNED
        groups.setdefault(site, []).append(a)
    order = {s.name: i for i, s in reversed(list(enumerate(policy.sites)))} if policy else {}
    out = []
    for site in sorted(groups, key=lambda s: (s == UNASSIGNED, order.get(s, 1 << 20), s)):
        items = [x for x in (_replace_item(a, policy, today) for a in groups[site]) if x]
        items.sort(key=lambda r: (not r.overdue, r.sort_date, r.address or ""))
        out.append(SiteSummary(site=site, devices=len(groups[site]), to_replace=tuple(items)))
    return out
