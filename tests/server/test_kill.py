"""SIGKILL during ingest and during a re-match: no accepted upload lost, nothing half-applied."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import httpx
import sqlalchemy as sa
from server_helpers import lab_report, make_token, upload_doc
from test_week import _kev_update


def _engine(db_url: str) -> sa.Engine:
    from routerwatch.kb.db import create_engine

    return create_engine(db_url)


def _consistent(db_url: str) -> dict[str, int]:
    """Every stored upload is whole: its sightings and events are all there; device counters
    agree with the findings table."""
    eng = _engine(db_url)
    with eng.connect() as conn:
        uploads = conn.execute(sa.text(
            "SELECT u.id, u.hosts, u.events, "
            "(SELECT count(*) FROM fleet_sightings s WHERE s.upload_id = u.id) AS seen, "
            "(SELECT count(*) FROM fleet_events e WHERE e.upload_id = u.id) AS ev "
            "FROM fleet_uploads u")).all()
        for u in uploads:
            assert u.seen == u.hosts and u.ev == u.events, u
        bad = conn.execute(sa.text(
            "SELECT d.id FROM fleet_devices d WHERE d.kev_open != (SELECT count(*) FROM "
            "fleet_findings f WHERE f.device_id = d.id AND f.state = 'open' AND f.kev) OR "
            "d.open_findings != (SELECT count(*) FROM fleet_findings f WHERE "
            "f.device_id = d.id AND f.state = 'open')")).all()
        assert bad == []
        devices = conn.execute(sa.text("SELECT count(*) FROM fleet_devices")).scalar_one()
    eng.dispose()
    return {"uploads": len(uploads), "devices": devices}


def _many(report: dict[str, Any], copies: int, tag: str) -> dict[str, Any]:
    out = copy.deepcopy(report)
    hosts = []
    for i in range(copies):
        for h in report["hosts"]:
            c = copy.deepcopy(h)
            c["device_key"] = f"{tag}-{i}-{h['address']}"
            hosts.append(c)
    out["hosts"] = hosts
    return out


def test_sigkill_during_ingest(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    token = make_token(db_url, "acme", "operator")
    base = lab_report()
    docs = [upload_doc(f"run-{i:03d}", _many(base, 2, f"r{i}"), complete=False)
            for i in range(60)]
    accepted: list[str] = []
    stop = threading.Event()

    def send() -> None:
        with server.client(token) as c:
            for d in docs:
                if stop.is_set():
                    return
                try:
                    r = c.post("/api/v1/uploads", json=d, timeout=30)
                except httpx.HTTPError:
                    return
                if r.status_code in (200, 201):
                    accepted.append(d["run_id"])

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 120
    while len(accepted) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL, most likely in the middle of an upload's transaction
    stop.set()
    sender.join(60)
    assert 5 <= len(accepted) < len(docs)
    state = _consistent(db_url)
    again = start_server(db_url, kb_url)
    with again.client(token) as c:
        stored = {u["run_id"] for u in c.get("/api/v1/uploads", params={"limit": 1000})
                  .json()["items"]}
        assert set(accepted) <= stored  # no accepted upload lost
        assert state["uploads"] == len(stored)
        for d in docs:  # the client retries everything: accepted ones are duplicates
            r = c.post("/api/v1/uploads", json=d)
            assert r.status_code == (200 if d["run_id"] in stored else 201), r.text
        assert c.get("/api/v1/uploads").json()["total"] == len(docs)
    _consistent(db_url)


def test_sigkill_during_rematch(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url, "--rematch-chunk", "25")
    token = make_token(db_url, "ops", "admin", system=True)
    c = server.client(token)
    fleet = _many(lab_report(), 60, "fleet")  # 1,620 devices, 60 of them TL-WR841N
    assert c.post("/api/v1/uploads", json=upload_doc("big", fleet)).status_code == 201
    assert c.post("/api/v1/kb/import", params={"name": "kev.json"},
                  content=_kev_update()).status_code == 201
    eng = _engine(db_url)
    deadline = time.monotonic() + 60
    with eng.connect() as conn:
        while time.monotonic() < deadline:
            done = conn.execute(sa.text("SELECT max(devices_rematched) FROM fleet_kb_changes"))
            if (done.scalar() or 0) > 0:
                break
            conn.rollback()
            time.sleep(0.005)
    server.kill()
    with eng.connect() as conn:
        target = conn.execute(sa.text("SELECT max(id) FROM fleet_kb_changes")).scalar_one()
        behind = conn.execute(sa.text("SELECT count(*) FROM fleet_devices WHERE matched_kb < :t"),
                              {"t": target}).scalar_one()
        state = conn.execute(sa.text("SELECT rematch_state FROM fleet_kb_changes WHERE id = :t"),
                             {"t": target}).scalar_one()
    assert behind > 0 and state == "running"  # killed half-way through the re-match
    _consistent(db_url)
    again = start_server(db_url, kb_url, "--rematch-chunk", "25")
    again.wait_idle(token)
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM fleet_devices WHERE matched_kb < :t"),
                            {"t": target}).scalar_one() == 0
        per_device = conn.execute(sa.text(
            "SELECT device_id, count(*) FROM fleet_events WHERE type = 'finding.kev' "
            "GROUP BY device_id")).all()
    eng.dispose()
    assert len(per_device) == 60 and all(n == 1 for _, n in per_device)  # each exactly once
    _consistent(db_url)
