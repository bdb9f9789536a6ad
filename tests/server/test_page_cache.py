"""The inventory API's page cache (server/api/pagecache.py): answers are served from a
process's cache only at the store's current write generation, which database triggers bump
in the transaction of every change to devices, sites or findings, whoever writes. Proved
with two server processes on one PostgreSQL schema (one writes, the other has the page
cached) and with writes that bypass the server (plain SQL); and the fast row path gives the
same answers as the row-by-row mapping it replaced."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from server_helpers import lab_report, make_token, upload_doc

from routerwatch.server.api.deps import json_bytes, row_dict
from routerwatch.server.api.inventory import DEVICE_JSON, device_rows
from routerwatch.server.api.pagecache import PageCache
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t

PAGE = {"limit": 50}


def test_a_write_in_another_process_invalidates_the_cached_page(pg_url, kb_url, start_server):
    reader = start_server(pg_url, kb_url)
    writer = start_server(pg_url, kb_url)  # another process: its own cache
    token = make_token(pg_url, "acme", "admin", system=True)
    ra, wb = reader.client(token), writer.client(token)
    r = wb.post("/api/v1/uploads", json=upload_doc("d1", lab_report(),
                                                   observed_at="2026-11-01T10:00:00Z"))
    assert r.status_code == 201, r.text
    first = ra.get("/api/v1/devices", params=PAGE).json()
    assert first["total"] == 27
    assert ra.get("/api/v1/devices", params=PAGE).json() == first  # now served from the cache
    dev = first["items"][0]
    detail = ra.get(f"/api/v1/devices/{dev['id']}").json()
    assert ra.get(f"/api/v1/devices/{dev['id']}").json() == detail

    # 1. ingest through the other process: every device seen again, later
    r = wb.post("/api/v1/uploads", json=upload_doc("d2", lab_report(),
                                                   observed_at="2026-11-02T10:00:00Z"))
    assert r.status_code == 201, r.text
    again = ra.get("/api/v1/devices", params=PAGE).json()
    assert again["items"][0]["last_seen"] == "2026-11-02T10:00:00Z" != dev["last_seen"]
    assert ra.get(f"/api/v1/devices/{dev['id']}").json()["last_seen"] == "2026-11-02T10:00:00Z"

    # 2. writers outside the server (plain SQL, its own transaction) on each watched table
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(t.devices).where(t.devices.c.id == dev["id"])
                         .values(model="Changed-Model"))
        assert ra.get("/api/v1/devices", params=PAGE).json()["items"][0]["model"] == \
            "Changed-Model"
        with engine.begin() as conn:
            conn.execute(sa.update(t.sites).values(name="renamed"))
        assert {d["site"] for d in ra.get("/api/v1/devices", params=PAGE).json()["items"]} == \
            {"renamed"}
        with_findings = next(d for d in again["items"] if d["open_findings"])
        before = ra.get(f"/api/v1/devices/{with_findings['id']}").json()
        with engine.begin() as conn:
            conn.execute(sa.update(t.findings).where(
                t.findings.c.device_id == with_findings["id"]).values(reason="edited"))
        after = ra.get(f"/api/v1/devices/{with_findings['id']}").json()
        assert before["findings"] and {f["reason"] for f in after["findings"]} == {"edited"}
        # a write that changes no row leaves the generation (and the cache) alone
        with engine.connect() as conn:
            gen = conn.execute(sa.select(t.generation.c.n)).scalar_one()
        with engine.begin() as conn:
            conn.execute(sa.update(t.devices).where(t.devices.c.id == -1).values(model="x"))
        with engine.connect() as conn:
            assert conn.execute(sa.select(t.generation.c.n)).scalar_one() == gen
    finally:
        engine.dispose()
    # other organisations never share an entry (the key holds the caller's org)
    other = reader.client(make_token(pg_url, "other", "viewer"))
    assert other.get("/api/v1/devices", params=PAGE).json()["total"] == 0


def test_the_generation_moves_with_every_write_on_sqlite(sqlite_url, kb_url, start_server):
    server = start_server(sqlite_url, kb_url)
    c = server.client(make_token(sqlite_url, "acme", "operator"))
    assert c.get("/api/v1/devices", params=PAGE).json()["total"] == 0
    assert c.post("/api/v1/uploads", json=upload_doc("d1", lab_report())).status_code == 201
    assert c.get("/api/v1/devices", params=PAGE).json()["total"] == 27
    store = FleetStore(sqlite_url)
    try:
        with store.read() as conn:
            gen = store.generation(conn)
        with store.write() as conn:
            conn.execute(sa.update(t.devices).values(vendor="Zz"))
        with store.read() as conn:
            assert store.generation(conn) > gen
    finally:
        store.close()
    assert {d["vendor"] for d in c.get("/api/v1/devices", params=PAGE).json()["items"]} == {"Zz"}


def test_fast_rows_equal_the_row_mapping(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    c = server.client(make_token(db_url, "acme", "operator"))
    assert c.post("/api/v1/uploads", json=upload_doc("d1", lab_report())).status_code == 201
    d, s = t.devices, t.sites
    store = FleetStore(db_url)
    try:
        with store.read() as conn:
            # the mapping the list page used before: SQLAlchemy rows through row_dict
            oracle = [row_dict(r, drop=("org_id", "findings_digest"), json_cols=DEVICE_JSON)
                      for r in conn.execute(sa.select(d, s.c.name.label("site"))
                                            .join(s, s.c.id == d.c.site_id).order_by(d.c.id))]
            parsed = device_rows(conn, [], None, 0)
            raw = orjson.loads(json_bytes(device_rows(conn, [], None, 0, raw_json=True)))
    finally:
        store.close()
    assert len(oracle) == 27
    assert parsed == oracle == raw
    assert [list(x) for x in parsed] == [list(x) for x in oracle]  # same key order too
    api = c.get("/api/v1/devices", params={"limit": 1000}).json()["items"]
    assert api == orjson.loads(json_bytes(oracle))


def test_page_cache_bounds_and_generations():
    cache = PageCache(max_entries=2, max_bytes=10)
    assert cache.get(5, "a") is None
    cache.put(5, "a", b"12345")
    cache.put(4, "b", b"x")  # made at an older generation: not kept
    assert cache.get(5, "a") == b"12345" and cache.get(5, "b") is None
    cache.put(5, "b", b"678")
    cache.put(5, "c", b"9")  # over max_entries: the least recently used goes
    assert cache.get(5, "a") is None and cache.get(5, "c") == b"9"
    cache.put(5, "d", b"123456789")  # over max_bytes
    assert cache.get(5, "b") is None
    assert cache.get(6, "d") is None  # a newer generation drops everything
    assert cache.get(5, "d") is None


def test_a_burst_shares_generation_reads_and_sees_every_earlier_commit(pg_url):
    import asyncio

    store = FleetStore(pg_url)

    async def burst() -> list[int]:
        return list(await asyncio.gather(*(store.generation_async() for _ in range(30))))

    try:
        first = asyncio.run(burst())
        assert len(set(first)) == 1 and first[0] == store.generation()
        assert store._reads_started < 30  # shared: at most one read begun per waiting batch
        with store.write() as conn:  # a commit before the next call: it must see it
            conn.execute(sa.update(t.generation).values(n=t.generation.c.n + 1))
        store.close()  # a new event loop: a new connection and lock
        store._alock = None
        assert asyncio.run(store.generation_async()) == first[0] + 1
    finally:
        store.close()
