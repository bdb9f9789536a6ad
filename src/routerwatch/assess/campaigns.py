"""Which campaigns exploit which router CVEs (``assess/data/campaigns.yaml``), with sources.

:func:`exploited_by` answers for one CVE, :func:`annotate` fills ``Finding.exploited_by`` so
every report says "exploited by …"; the risk score and the remediation order read that field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from routerwatch.cache import load_yaml
from routerwatch.checks.sources import Source, parse_sources
from routerwatch.models import Finding, replace

__all__ = ["Campaign", "annotate", "campaigns", "exploited_by"]

_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_WHERE = "assess/data/campaigns.yaml"


@dataclass(frozen=True)
class Campaign:
    name: str
    cves: tuple[str, ...]
    sources: tuple[Source, ...]


def _campaign(raw: Any, index: int) -> Campaign:
    where = f"{_WHERE} campaign #{index + 1}"
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ValueError(f"{where}: needs a name")
    cves = raw.get("cves")
    if not isinstance(cves, list) or not cves:
        raise ValueError(f"{where} ({raw['name']}): needs a list of CVEs")
    for c in cves:
        if not isinstance(c, str) or not _CVE.fullmatch(c):
            raise ValueError(f"{where} ({raw['name']}): {c!r} is not a CVE id")
    try:
        sources = parse_sources(raw.get("sources"))
    except ValueError as e:
        raise ValueError(f"{where} ({raw['name']}): {e}") from e
    if not sources:
        raise ValueError(f"{where} ({raw['name']}): needs sources")
    return Campaign(name=str(raw["name"]), cves=tuple(dict.fromkeys(cves)), sources=sources)


@lru_cache(maxsize=1)
def campaigns() -> tuple[Campaign, ...]:
    """Every shipped campaign, in file order."""
    text = resources.files("routerwatch.assess").joinpath("data/campaigns.yaml").read_text("utf-8")
    data = load_yaml(text)
    return tuple(_campaign(c, i) for i, c in enumerate(data["campaigns"]))


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for c in campaigns():
        for cve in c.cves:
            out.setdefault(cve, []).append(c.name)
    return {cve: tuple(names) for cve, names in out.items()}


def exploited_by(cve: str) -> tuple[str, ...]:
    """Names of the campaigns known to exploit ``cve`` (file order), or ()."""
    return _index().get(cve.strip().upper(), ())


def annotate(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """The findings with ``exploited_by`` filled in (names already there are kept, first)."""
    out = []
    for f in findings:
        names = tuple(dict.fromkeys((*f.exploited_by, *exploited_by(f.cve))))
        out.append(f if names == f.exploited_by else replace(f, exploited_by=names))
    return tuple(out)
