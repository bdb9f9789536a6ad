"""KEV and EPSS sync: one bounded download each, imported like a file (one transaction)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from routerwatch.kb import reader
from routerwatch.kb.errors import KBError
from routerwatch.kb.importer import apply_document
from routerwatch.kb.state import iso, put_state, utcnow
from routerwatch.kb.sync.http import Fetcher
from routerwatch.kb.writer import Writer

KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
MAX_DOWNLOAD = 64 * 1024 * 1024


def sync_feed(engine: Engine, fetcher: Fetcher, source: str, url: str,
              max_size: int = reader.DEFAULT_MAX_SIZE) -> str:
    data = fetcher.get_bytes(url, max_bytes=MAX_DOWNLOAD)
    doc = reader.parse(reader.decompress(data, url, max_size), url)
    with engine.begin() as conn:
        writer = Writer(conn)
        name, count = apply_document(writer, doc, explicit=True)
        if name != source:
            raise KBError(f"{url}: expected {source} data but the download is {name} data")
        writer.flush()
        now = iso(utcnow())
        put_state(conn, source, last_import=now, last_sync=now)
    note = f"; {writer.skipped[0]}" if writer.skipped else ""
    return f"{source.upper()}: {count} records{note}"
