"""Merge what a credentialed read returned into the identity the fingerprint rules built.

Credentialed facts outrank unauthenticated guesses: a field read after login replaces the
guessed one (and when the vendor itself differs, every guessed detail of the other vendor is
dropped). Each read adds its evidence with its source ("read over SSH as root"); a guessed
value that disagrees with a read one is reported as a note naming both, so a web UI that
claims one firmware while SSH reads another is visible in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from routerwatch.identity.hardware import model_key, normalize_hardware
from routerwatch.identity.vendors import canonical_vendor
from routerwatch.models import DeviceIdentity, Evidence, Observation, replace

FIELDS = ("vendor", "model", "hardware", "firmware")


class ReadFacts(Protocol):
    """What identity merging needs of routerwatch.creds.collectors.interface.Facts."""

    protocol: str
    source: str
    vendor: str | None
    model: str | None
    hardware: str | None
    firmware: str | None
    serial: str | None
    mac: str | None
    os: str | None
    sysdescr: str | None
    sysobjectid: str | None
    evidence: tuple[tuple[str, str], ...]


def _norm(field: str, value: str) -> str:
    text = value.strip()
    if field == "vendor":
        return (canonical_vendor(text) or text).casefold()
    if field == "model":
        return model_key(text) or text.casefold()
    if field == "hardware":
        return (normalize_hardware(text) or text).casefold()
    return text.casefold().lstrip("v")


def same(field: str, a: str, b: str) -> bool:
    """Whether two spellings of one identity field name the same thing."""
    x, y = _norm(field, a), _norm(field, b)
    if x == y:
        return True
    if field == "model":  # "TL-WR841N" and "WR841N", "EdgeRouter X" and "EdgeRouter X SFP"
        short, long_ = sorted((x, y), key=len)
        return len(short) >= 4 and (long_.endswith(short) or long_.startswith(short))
    return False


def read_identity(
    facts: ReadFacts, fingerprint: Callable[[Observation], DeviceIdentity] | None, address: str
) -> dict[str, str | None]:
    """The identity fields one read gives: its own fields, then what the fingerprint rules
    make of an SNMP sysDescr/sysObjectID it returned (for fields it did not read directly)."""
    values: dict[str, str | None] = {f: getattr(facts, f) for f in FIELDS}
    values["vendor"] = canonical_vendor(values["vendor"]) or values["vendor"]
    values["os"] = facts.os
    if fingerprint is not None and (facts.sysdescr or facts.sysobjectid):
        seen = fingerprint(
            Observation(address=address, snmp_sysdescr=facts.sysdescr,
                        snmp_sysobjectid=facts.sysobjectid)
        )  # fmt: skip
        if seen.vendor and (values["vendor"] is None or same("vendor", seen.vendor,
                                                             values["vendor"])):
            for f in FIELDS:
                if values[f] is None:
                    values[f] = getattr(seen, f)
            values["os"] = values["os"] or seen.os
    return values


def merge_credentialed(
    identity: DeviceIdentity,
    reads: Sequence[ReadFacts],
    *,
    address: str,
    fingerprint: Callable[[Observation], DeviceIdentity] | None = None,
) -> tuple[DeviceIdentity, list[str]]:
    """(identity with the credentialed fields, notes on mismatches)."""
    if not reads:
        return identity, []
    notes: list[str] = []
    best: dict[str, tuple[str, str]] = {}  # field -> (value, source)
    evidence: list[Evidence] = []
    for facts in reads:
        values = read_identity(facts, fingerprint, address)
        for f in (*FIELDS, "os"):
            v = values.get(f)
            if not v:
                continue
            held = best.get(f)
            if held is None:
                best[f] = (v, facts.source)
            elif f in FIELDS and not same(f, held[0], v):
                notes.append(
                    f"credentialed reads disagree on the {f}: {held[1]} gives {held[0]!r}, "
                    f"{facts.source} gives {v!r}; the first is used"
                )
        fields = tuple((f, str(values[f])) for f in (*FIELDS, "os") if values.get(f))
        extra = tuple((k, str(getattr(facts, k))) for k in ("serial", "mac") if getattr(facts, k))
        evidence.append(
            Evidence(source=facts.source, value=", ".join(f"{k}={v}" for k, v in fields + extra),
                     rule=f"credentialed.{facts.protocol}", fields=fields)
        )  # fmt: skip
        evidence.extend(
            Evidence(source=f"{facts.source}: {call}", value=text,
                     rule=f"credentialed.{facts.protocol}")
            for call, text in facts.evidence
        )  # fmt: skip
    if not best:
        return replace(identity, evidence=(*evidence, *identity.evidence)), notes
    guessed = {f: getattr(identity, f) for f in FIELDS}
    read_vendor = best.get("vendor")
    vendor_changed = bool(
        read_vendor and guessed["vendor"] and not same("vendor", read_vendor[0],
                                                       guessed["vendor"])
    )
    # a firmware project the fingerprint showed as the vendor ("OpenWrt" on unknown hardware)
    # is no disagreement with the board maker read after login
    projects = {p.casefold() for p in (identity.os, best.get("os", ("", ""))[0]) if p}
    if guessed["vendor"] and guessed["vendor"].casefold() in projects:
        vendor_changed = False
        guessed["vendor"] = None
    for f in FIELDS:
        g, r = guessed[f], best.get(f)
        if g and r and not same(f, g, r[0]):
            notes.append(
                f"{f} mismatch: the unauthenticated scan saw {g!r}, {r[1]} reads {r[0]!r} "
                "(the credentialed value is used)"
            )
    changes: dict[str, object] = {}
    for f in FIELDS:
        if f in best:
            changes[f] = best[f][0]
        elif vendor_changed:
            changes[f] = None  # a guessed detail of another vendor says nothing about this box
    if "os" in best:
        changes["os"] = best["os"][0]
    full = "model" in best and "firmware" in best
    changes["confidence"] = max(identity.confidence, 0.98 if full else 0.9)
    changes["evidence"] = (*evidence, *identity.evidence)
    return replace(identity, **changes), notes
