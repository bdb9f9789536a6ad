"""End-of-life router models (``assess/data/eol.yaml``) and their lookup.

A device is end-of-life when an entry has its vendor, its model (compared with
``identity.hardware.model_key``, so "Archer C7" and "archer_c7" meet) and, when the entry names
hardware revisions, one of them. When the entry names revisions and the device's revision is
unknown the answer is "not known to be EOL" (never a guess); :func:`eol_candidates` lists such
entries so the assessment can ask the user to check the label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from routerwatch.cache import load_yaml
from routerwatch.models import DeviceIdentity

__all__ = ["EolEntry", "eol_candidates", "eol_entries", "eol_for"]


@dataclass(frozen=True)
class EolEntry:
    vendor: str
    model: str
    eol: date
    date_basis: Literal["announced", "stated"]
    source: str
    url: str | None = None
    hardware: tuple[str, ...] = ()  # empty: every revision
    campaign: str | None = None  # a campaign the source says targets this EOL model
    checked: str = "primary"  # "secondary": the source was read through reporting quoting it

    def describe(self) -> str:
        """ "end-of-life (on or before 2025-06-16; CISA KEV ...)"."""
        when = (
            f"since {self.eol.isoformat()}"
            if self.date_basis == "announced"
            else f"on or before {self.eol.isoformat()}"
        )
        return f"end-of-life {when} per {self.source}"

    @property
    def citation(self) -> str:
        """The source's name without its quote: "CISA KEV CVE-2024-0769"."""
        return self.source.split(" (")[0].split(":")[0].strip()

    def label(self) -> str:
        revs = "/".join(f"v{h}" for h in self.hardware)
        return f"{self.vendor} {self.model}" + (f" {revs}" if revs else "")


def _model_key(text: str) -> str:
    try:
        from routerwatch.identity.hardware import model_key
    except ImportError:  # pragma: no cover - identity package missing
        return re.sub(r"[^a-z0-9+]", "", text.lower())
    return model_key(text)


@lru_cache(maxsize=4096)
def _hardware(text: str | None) -> str | None:
    try:
        from routerwatch.identity.hardware import normalize_hardware
    except ImportError:  # pragma: no cover
        return None if text is None else text.strip().lower().lstrip("v") or None
    return normalize_hardware(text)


@lru_cache(maxsize=4096)
def _vendor(text: str | None) -> str:
    if not text:
        return ""
    try:
        from routerwatch.identity.vendors import canonical_vendor
    except ImportError:  # pragma: no cover
        return text.casefold()
    return (canonical_vendor(text) or text).casefold()


def _entry(raw: dict[str, Any], index: int) -> EolEntry:
    where = f"assess/data/eol.yaml entry #{index + 1}"
    try:
        eol = raw["eol"]
        if not isinstance(eol, date):
            eol = date.fromisoformat(str(eol))
        basis = raw.get("date_basis", "stated")
        if basis not in ("announced", "stated"):
            raise ValueError(f"date_basis {basis!r}")
        if raw.get("checked", "primary") not in ("primary", "secondary"):
            raise ValueError(f"checked {raw.get('checked')!r}")
        hardware = tuple(
            h for h in (_hardware(str(x)) for x in raw.get("hardware") or ()) if h is not None
        )
        return EolEntry(
            vendor=str(raw["vendor"]),
            model=str(raw["model"]),
            eol=eol,
            date_basis=basis,
            source=" ".join(str(raw["source"]).split()),
            url=raw.get("url"),
            hardware=hardware,
            campaign=str(raw["campaign"]) if raw.get("campaign") else None,
            checked=str(raw.get("checked") or "primary"),
        )
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{where}: {e}") from e


@lru_cache(maxsize=1)
def eol_entries() -> tuple[EolEntry, ...]:
    """Every shipped EOL entry."""
    text = resources.files("routerwatch.assess").joinpath("data/eol.yaml").read_text("utf-8")
    data = load_yaml(text)
    return tuple(_entry(e, i) for i, e in enumerate(data["entries"]))


@lru_cache(maxsize=1)
def _by_model() -> dict[tuple[str, str], tuple[EolEntry, ...]]:
    """The entries by (canonical vendor, model key): one lookup per device, not a scan."""
    index: dict[tuple[str, str], list[EolEntry]] = {}
    for e in eol_entries():
        index.setdefault((_vendor(e.vendor), _model_key(e.model)), []).append(e)
    return {k: tuple(v) for k, v in index.items()}


def _model_matches(identity: DeviceIdentity) -> list[EolEntry]:
    if not identity.vendor or not identity.model:
        return []
    return list(_by_model().get((_vendor(identity.vendor), _model_key(identity.model)), ()))


def eol_for(identity: DeviceIdentity) -> EolEntry | None:
    """The EOL entry that applies to the device (earliest date when several do), else None."""
    hw = _hardware(identity.hardware)
    hits = [
        e
        for e in _model_matches(identity)
        if not e.hardware or (hw is not None and hw in e.hardware)
    ]
    return min(hits, key=lambda e: e.eol) if hits else None


def eol_candidates(identity: DeviceIdentity) -> list[EolEntry]:
    """Entries for the device's model whose revisions cannot be checked (revision unknown)."""
    if _hardware(identity.hardware) is not None:
        return []
    return [e for e in _model_matches(identity) if e.hardware]
