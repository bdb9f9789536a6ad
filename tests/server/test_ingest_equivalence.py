"""The bulk write paths store exactly what the plain ones do.

On PostgreSQL, ingest and re-match write through COPY and reserve device ids from the sequence
(one whole insert per new device); on SQLite they use executemany INSERTs and insert-then-update
of new devices. The same week of uploads and a KB update through both must leave the same rows
(every column of devices, findings, sightings, identity and port history, and events, in id
order), apart from the server's own clock (times the re-match stamps with "now").
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from server_helpers import lab_report, upload_doc
from test_week import _kev_update

from routerwatch.server import kbops, rematch
from routerwatch.server.ingest import ingest
from routerwatch.server.knowledge import Knowledge
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now, utc
from routerwatch.server.wire import parse_upload

TABLES = (t.devices, t.findings, t.sightings, t.identities, t.ports, t.events)


def _week() -> list[dict[str, Any]]:
    """First sightings, a re-scan with changes (firmware, ports, a device missing), and a
    complete re-scan that makes the missing device gone."""
    first = lab_report()
    second = copy.deepcopy(first)
    hosts = second["hosts"]
    hosts[0]["open_ports"] = [*hosts[0]["open_ports"][:-1], 8443]  # one closed, one opened
    r7000 = next(h for h in hosts if h["identity"]["model"] == "R7000")
    r7000["identity"]["firmware"] = "V1.0.11.116_10.2.100"  # firmware up
    gone = hosts.pop(3)
    third = copy.deepcopy(second)
    third["hosts"].append(gone)  # back again
    return [
        upload_doc("d1", first, observed_at="2026-11-02T08:00:00Z", complete=True),
        upload_doc("d2", second, observed_at="2026-11-03T08:00:00Z", complete=True),
        upload_doc("d3", second, observed_at="2026-11-04T08:00:00Z", complete=True),
        upload_doc("d4", third, observed_at="2026-11-05T08:00:00Z", complete=True),
    ]


def _norm(value: Any, started: datetime) -> Any:
    if isinstance(value, datetime):
        moment = utc(value)
        assert moment is not None
        return "now" if moment >= started else moment.isoformat()  # the week is in the past
    return value


def _run(db: str, kb: str) -> dict[str, list[tuple[Any, ...]]]:
    started = now()
    store = FleetStore(db)
    knowledge = Knowledge(kb)
    try:
        kbops.record_change(store, knowledge, "external", "test start")
        with store.write() as conn:
            org = store.ensure_org(conn, "acme")
        for i, doc in enumerate(_week()):
            ingest(store, knowledge, org, parse_upload(doc), f"digest-{i}")
        kbops.import_bytes(store, knowledge, _kev_update(), "kev.json")
        done = rematch.rematch(store, knowledge)
        assert done is not None and done.done and done.diffed > 0
        out: dict[str, list[tuple[Any, ...]]] = {}
        with store.read() as conn:
            for table in TABLES:
                rows = conn.execute(sa.select(table).order_by(table.c.id)).all()
                out[table.name] = [tuple(_norm(v, started) for v in r) for r in rows]
        return out
    finally:
        knowledge.close()
        store.close()


def test_copy_path_stores_what_the_insert_path_stores(sqlite_url, pg_url, kb_url, tmp_path):
    import shutil

    kb2 = tmp_path / "kb2.db"
    shutil.copy(kb_url.removeprefix("sqlite:///"), kb2)
    plain = _run(sqlite_url, kb_url)
    bulk = _run(pg_url, f"sqlite:///{kb2}")
    kinds = {row[2] for row in plain["fleet_events"]}
    # the week exercised what it is meant to: new, changed, gone, back, KEV by re-match
    assert {"device.new", "device.firmware_changed", "port.opened", "port.closed",
            "device.gone", "device.back", "finding.new", "finding.kev"} <= kinds, kinds
    for table in TABLES:
        assert len(plain[table.name]) > 0, table.name
        assert plain[table.name] == bulk[table.name], table.name
