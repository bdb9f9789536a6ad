"""`kb sync`: download NVD (API 2.0), KEV and EPSS into the KB."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy.exc import SQLAlchemyError

from routerwatch import config
from routerwatch.kb.db import _short
from routerwatch.kb.errors import KBError
from routerwatch.kb.store import KnowledgeBase
from routerwatch.kb.sync.feeds import EPSS_URL, KEV_URL, sync_feed
from routerwatch.kb.sync.http import Fetcher, RateLimiter, Retry, make_client, nvd_limiter
from routerwatch.kb.sync.nvd import NVD_URL, PAGE_SIZE, NvdSync
from routerwatch.progress import NullProgress, Progress

SYNC_SOURCES = ("nvd", "kev", "epss")
DEFAULT_URLS = {"nvd": NVD_URL, "kev": KEV_URL, "epss": EPSS_URL}
URL_ENV = {"nvd": "ROUTERWATCH_NVD_URL", "kev": "ROUTERWATCH_KEV_URL",
           "epss": "ROUTERWATCH_EPSS_URL"}


@dataclass
class SyncOptions:
    sources: Sequence[str] = SYNC_SOURCES
    urls: dict[str, str] = field(default_factory=dict)  # overrides, else env, else default
    api_key: str | None = None  # else $NVD_API_KEY
    since: datetime | None = None
    full: bool = False
    limiter: RateLimiter | None = None  # else NVD's documented limit
    retry: Retry = field(default_factory=Retry)
    timeout: float = 60.0
    deadline: float = 300.0
    page_size: int = PAGE_SIZE
    now: Callable[[], datetime] | None = None
    client: httpx.Client | None = None


def source_url(source: str, override: str | None = None) -> str:
    url = override or os.environ.get(URL_ENV[source]) or DEFAULT_URLS[source]
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise KBError(f"bad URL {url!r} for {source}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise KBError(f"bad URL {url!r} for {source}: need http(s)://host/...")
    return url


def sync(kb: KnowledgeBase, options: SyncOptions | None = None,
         progress: Progress | None = None) -> list[str]:
    """Sync the chosen sources in order; one summary line each. Raises KBError."""
    opts = options or SyncOptions()
    unknown = [s for s in opts.sources if s not in SYNC_SOURCES]
    if unknown:
        raise KBError(f"unknown sync source {unknown[0]!r} (choose from nvd, kev, epss)")
    urls = {s: source_url(s, opts.urls.get(s)) for s in opts.sources}
    api_key = opts.api_key or config.nvd_api_key()
    client = opts.client or make_client(opts.timeout)
    since = opts.since
    if since is not None and since.tzinfo is not None:
        since = since.astimezone(UTC).replace(tzinfo=None)
    lines = []
    try:
        for source in opts.sources:
            limiter = opts.limiter or (nvd_limiter(api_key) if source == "nvd" else None)
            fetcher = Fetcher(client, limiter, opts.retry, deadline=opts.deadline)
            if source == "nvd":
                job = NvdSync(kb.engine, fetcher, urls["nvd"], api_key, opts.page_size,
                              progress=progress or NullProgress())
                if opts.now is not None:
                    job.now = opts.now
                lines.append(job.run(since, opts.full))
            else:
                lines.append(sync_feed(kb.engine, fetcher, source, urls[source]))
    except SQLAlchemyError as exc:
        raise KBError(f"database error during sync: {_short(exc)}") from None
    finally:
        if opts.client is None:
            client.close()
    return lines


__all__ = ["RateLimiter", "Retry", "SyncOptions", "source_url", "sync"]
