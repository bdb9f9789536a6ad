"""The vulnerability knowledge base: NVD 2.0, CVE JSON 5, CISA KEV and EPSS in one database."""

from routerwatch.kb.errors import KBError
from routerwatch.kb.store import KnowledgeBase, ensure_starter, open_kb, stale_warning

__all__ = ["KBError", "KnowledgeBase", "ensure_starter", "open_kb", "stale_warning"]
