"""Enrolment, the agent credential's limits, revocation and silence, on a real server
(SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from server_helpers import Server, lab_report, make_token, upload_doc

from routerwatch.agent.transport import ServerError, enroll


def _events(c: httpx.Client, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = c.get("/api/v1/events", params={"type": prefix,
                                                                 "limit": 1000}).json()["items"]
    return items


def test_enrol_upload_revoke_and_silence(db_url: str, kb_url: str,
                                         start_server: Callable[..., Server]) -> None:
    server = start_server(db_url, kb_url)
    admin = make_token(db_url, "acme", "admin")
    other_admin = make_token(db_url, "other", "admin")
    with server.client(admin) as c:
        r = c.post("/api/v1/enrolments", json={"site": "remote", "kind": "agent"})
        assert r.status_code == 201, r.text
        one_time = r.json()["token"]
        assert one_time.startswith("rwe_")
        sensor_tok = c.post("/api/v1/enrolments", json={
            "site": "branch", "kind": "sensor", "silent_after_seconds": 5}).json()["token"]
        unused = c.post("/api/v1/enrolments", json={"site": "remote"}).json()
        assert c.delete(f"/api/v1/enrolments/{unused['id']}").status_code == 204

    with pytest.raises(ServerError, match="revoked"):
        enroll(server.url, unused["token"], "x")
    with pytest.raises(ServerError, match="malformed"):
        enroll(server.url, "rwt_1_nope", "x")
    with pytest.raises(ServerError, match="unknown enrolment token"):
        enroll(server.url, one_time[:-2] + "xx", "x")
    answer = enroll(server.url, one_time, "laptop-1")
    assert (answer["kind"], answer["site"], answer["org"]) == ("agent", "remote", "acme")
    with pytest.raises(ServerError, match="already used"):
        enroll(server.url, one_time, "laptop-2")
    cred = answer["token"]

    report = lab_report()
    with server.client(cred) as agent:
        ok = agent.post("/api/v1/uploads", json=upload_doc(
            "agent1-a", report, site="remote", kind="agent", network={"ssid": "Home"}))
        assert ok.status_code == 201, ok.text
        again = agent.post("/api/v1/uploads", json=upload_doc(
            "agent1-a", report, site="remote", kind="agent", network={"ssid": "Home"}))
        assert again.status_code == 200 and again.json()["duplicate"]  # harmless re-delivery
        wrong_site = agent.post("/api/v1/uploads", json=upload_doc(
            "agent1-b", report, site="hq", kind="agent"))
        assert wrong_site.status_code == 403
        assert "enrolled for site 'remote'" in wrong_site.json()["detail"]
        wrong_kind = agent.post("/api/v1/uploads", json=upload_doc(
            "agent1-c", report, site="remote", kind="scan"))
        assert wrong_kind.status_code == 403
        assert agent.get("/api/v1/devices").status_code == 403  # an agent reads nothing
        assert agent.post("/api/v1/enrolments", json={"site": "x"}).status_code == 403
        me = agent.get("/api/v1/agent/jobs").json()
        assert me["agent"]["site"] == "remote" and me["jobs"] == []

    with server.client(admin) as c:
        assert c.get("/api/v1/agent/jobs").status_code == 403  # people are not agents
        agents = c.get("/api/v1/agents").json()["items"]
        laptop = next(a for a in agents if a["name"] == "laptop-1")
        assert laptop["uploads"] == 2 and laptop["network"] == {"ssid": "Home"}
        devices = c.get("/api/v1/devices", params={"site": "remote"}).json()
        assert devices["total"] == len(report["hosts"])
        with server.client(other_admin) as o:  # another organisation sees none of it
            assert o.get("/api/v1/agents").json()["items"] == []
            assert o.delete(f"/api/v1/agents/{laptop['id']}").status_code == 404
        assert c.delete(f"/api/v1/agents/{laptop['id']}").status_code == 204
    with server.client(cred) as agent:
        gone = agent.post("/api/v1/uploads", json=upload_doc(
            "agent1-d", report, site="remote", kind="agent"))
        assert gone.status_code == 401 and "revoked" in gone.json()["detail"]

    # a sensor that stops reporting becomes one sensor.silent event
    sensor = enroll(server.url, sensor_tok, "branch-pi")
    with server.client(sensor["token"]) as s:
        assert s.get("/api/v1/agent/jobs").status_code == 200
    with server.client(admin) as c:
        deadline = time.monotonic() + 30
        while not _events(c, "sensor.silent") and time.monotonic() < deadline:
            time.sleep(0.5)
        silent = _events(c, "sensor.silent")
        assert len(silent) == 1 and "branch-pi" in silent[0]["why"]
        time.sleep(1.0)
        assert len(_events(c, "sensor.silent")) == 1  # once, not every round
        kinds = [e["type"] for e in _events(c, "agent.")]
        assert kinds == ["agent.enrolled", "agent.revoked", "agent.enrolled"]
    with server.client(sensor["token"]) as s:  # heard from again: the next silence counts anew
        assert s.get("/api/v1/agent/jobs").status_code == 200
    with server.client(admin) as c:
        row = next(a for a in c.get("/api/v1/agents").json()["items"] if a["kind"] == "sensor")
        assert row["silent"] is False
