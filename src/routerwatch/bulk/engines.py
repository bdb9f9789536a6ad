"""Engines for bulk workers: built once per process from a KB file/URL or a KB bundle.

Nothing heavy crosses the wire: a task carries only a :class:`KbSource` (a URL or a path) and
each worker process builds (and caches) its own matcher and fingerprinter from it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routerwatch.assess.policy import Policy
    from routerwatch.kb import KnowledgeBase
    from routerwatch.pipeline import Engines


@dataclass(frozen=True)
class KbSource:
    """Where a worker finds the knowledge base: a database URL, or a bundle file it imports."""

    url: str | None = None
    bundle: str | None = None
    policy: str | None = None  # a vendor policy name or file, applied on the workers
    stamp: str = ""  # what the KB looked like when the run started: a changed KB is new engines

    def describe(self) -> str:
        return self.bundle or self.url or "default"


_LOCK = threading.Lock()
_CACHE: dict[KbSource, tuple[Engines, Policy | None]] = {}
_OPEN: list[KnowledgeBase] = []  # the workers' KBs, open for the life of the process
BUILDS = {"count": 0}  # how many times this process built engines (tests read it)


def worker_engines(source: KbSource) -> tuple[Engines, Policy | None]:
    """This process's engines for ``source``, built on first use."""
    with _LOCK:
        cached = _CACHE.get(source)
        if cached is None:
            cached = _CACHE[source] = _build(source)
            BUILDS["count"] += 1
        return cached


def prime(source: KbSource, engines: Engines, policy: Policy | None = None) -> None:
    """Use already-loaded engines for ``source`` in this process (the demo's own)."""
    with _LOCK:
        _CACHE[source] = (engines, policy)


def _build(source: KbSource) -> tuple[Engines, Policy | None]:
    from routerwatch.kb import open_kb
    from routerwatch.pipeline import load_engines

    url = source.url
    if source.bundle:
        folder = tempfile.mkdtemp(prefix="routerwatch-bulk-kb-")
        url = f"sqlite:///{os.path.join(folder, 'kb.sqlite')}"
    kb = open_kb(url)  # stays open: the matcher reads its index per check
    try:
        if source.bundle:
            kb.import_paths([source.bundle])
        engines = load_engines(kb)
    except BaseException:
        kb.close()
        raise
    _OPEN.append(kb)
    policy = None
    if source.policy:
        from routerwatch.assess import load_policy

        policy = load_policy(source.policy)
    return engines, policy


def cache_stats() -> dict[str, int]:
    """This process's fingerprint input-cache counters over its engines (for benchmarks):
    inputs answered from the cache and inputs read by the rules."""
    with _LOCK:
        fps = [e.loaded_fingerprinter for e, _p in _CACHE.values()
               if e.loaded_fingerprinter is not None]
    return {"text_hits": sum(f.text_hits for f in fps),
            "text_misses": sum(f.text_misses for f in fps)}
