"""The vulnerability knowledge base: NVD 2.0, CVE JSON 5, CISA KEV and EPSS in one database.

The names below load on first use (PEP 562), so ``from routerwatch.kb import KBError`` does
not import SQLAlchemy (front ends that only report KB errors stay light).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from routerwatch.kb.errors import KBError

if TYPE_CHECKING:
    from routerwatch.kb.store import KnowledgeBase, ensure_starter, open_kb, stale_warning

__all__ = ["KBError", "KnowledgeBase", "ensure_starter", "open_kb", "stale_warning"]

_STORE = ("KnowledgeBase", "ensure_starter", "open_kb", "stale_warning")


def __getattr__(name: str) -> Any:
    if name in _STORE:
        from routerwatch.kb import store

        return getattr(store, name)
    raise AttributeError(f"module 'routerwatch.kb' has no attribute {name!r}")
