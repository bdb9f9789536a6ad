"""The server for real (uvicorn on 127.6.0.1) on SQLite and PostgreSQL: ingest, auth, API."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa
from server_helpers import lab_report, make_token, upload_doc


def test_health_openapi_and_auth(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    anon = server.client(None)
    health = anon.get("/health").json()
    assert health["status"] == "ok" and health["database"] == "ok"
    spec = anon.get("/openapi.json").json()
    assert "/api/v1/devices" in spec["paths"] and "/api/v1/uploads" in spec["paths"]
    r = anon.get("/api/v1/devices")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert server.client("rwt_1_nonsense").get("/api/v1/devices").status_code == 401
    assert server.client("garbage").get("/api/v1/devices").status_code == 401
    viewer = make_token(db_url, "acme", "viewer")
    assert server.client(viewer).get("/api/v1/devices").json()["total"] == 0
    r = server.client(viewer).post("/api/v1/uploads", json=upload_doc("r1", lab_report()))
    assert r.status_code == 403 and "operator" in r.json()["detail"]


def test_ingest_is_idempotent_validated_and_bounded(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url, "--max-upload-mb", "1")
    op = server.client(make_token(db_url, "acme", "operator"))
    report = lab_report()
    doc = upload_doc("scan-001", report)
    first = op.post("/api/v1/uploads", json=doc)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["devices"] == len(report["hosts"]) == body["new_devices"]
    assert body["events"] > body["devices"]
    again = op.post("/api/v1/uploads", json=doc)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["upload_id"] == body["upload_id"]
    changed = copy.deepcopy(doc)
    changed["report"]["hosts"] = changed["report"]["hosts"][:3]
    conflict = op.post("/api/v1/uploads", json=changed)
    assert conflict.status_code == 409 and "scan-001" in conflict.json()["detail"]
    # strict validation: one line naming the bad value
    bad = copy.deepcopy(doc)
    bad["run_id"] = "scan-002"
    bad["report"]["hosts"][2]["findings"][0]["status"] = "maybe"
    r = op.post("/api/v1/uploads", json=bad)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("report.hosts[2].findings[0].status")
    assert op.post("/api/v1/uploads", content=b"{not json").status_code == 422
    assert op.post("/api/v1/uploads", json={"run_id": "x y", "report": {}}).status_code == 422
    big = b'{"run_id": "big", "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert op.post("/api/v1/uploads", content=big).status_code == 413
    # nothing of the refused uploads was stored
    uploads = op.get("/api/v1/uploads").json()
    assert uploads["total"] == 1
    devices = op.get("/api/v1/devices", params={"limit": 1000}).json()
    assert devices["total"] == len(report["hosts"])
    events = op.get("/api/v1/events", params={"limit": 1000}).json()["items"]
    assert len(events) == body["events"] + (1 if any(
        e["type"] == "kb.stale" for e in events) else 0)


def test_inventory_filters_paging_export(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    op = server.client(make_token(db_url, "acme", "operator"))
    assert op.post("/api/v1/uploads", json=upload_doc("s1", lab_report())).status_code == 201
    all_devices = op.get("/api/v1/devices", params={"limit": 1000}).json()["items"]
    tplink = op.get("/api/v1/devices", params={"vendor": "tp-link"}).json()
    assert tplink["total"] == sum(1 for d in all_devices if d["vendor"] == "TP-Link") >= 4
    page1 = op.get("/api/v1/devices", params={"limit": 5}).json()
    page2 = op.get("/api/v1/devices", params={"limit": 5, "offset": 5}).json()
    assert page1["next_offset"] == 5 and len(page2["items"]) == 5
    assert not {d["id"] for d in page1["items"]} & {d["id"] for d in page2["items"]}
    risky = op.get("/api/v1/devices", params={"risk_min": 90, "sort": "risk"}).json()["items"]
    assert risky and all(d["risk"] >= 90 for d in risky)
    assert [d["risk"] for d in risky] == sorted((d["risk"] for d in risky), reverse=True)
    assert op.get("/api/v1/devices", params={"site": "nowhere"}).json()["total"] == 0
    assert op.get("/api/v1/devices", params={"site": "hq"}).json()["total"] == len(all_devices)
    csv_text = op.get("/api/v1/devices", params={"format": "csv"}).text
    assert csv_text.splitlines()[0].startswith("id,site,device_key")
    assert len(csv_text.strip().splitlines()) == len(all_devices) + 1
    open_f = op.get("/api/v1/findings", params={"state": "open", "limit": 1000}).json()
    assert open_f["total"] == sum(d["open_findings"] for d in all_devices) > 0
    wr841 = next(d for d in all_devices if d["model"] == "TL-WR841N")
    detail = op.get(f"/api/v1/devices/{wr841['id']}").json()
    assert detail["findings"] and {i["rule"] for i in detail["indicators"]} >= {
        "quad7-xlogin-7777"}
    history = op.get(f"/api/v1/devices/{wr841['id']}/history").json()
    assert len(history["identities"]) == 1 and len(history["sightings"]) == 1
    assert {p["port"] for p in history["ports"]} == set(wr841["open_ports"])
    fcsv = op.get("/api/v1/findings", params={"format": "csv", "device_id": wr841["id"]}).text
    assert len(fcsv.strip().splitlines()) == len(detail["findings"]) + 1


def test_one_org_never_sees_another(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    a = server.client(make_token(db_url, "customer-a", "admin"))
    b = server.client(make_token(db_url, "customer-b", "admin"))
    report = lab_report()
    assert a.post("/api/v1/uploads", json=upload_doc("same-run", report)).status_code == 201
    # the same run id in another organisation is another upload
    assert b.post("/api/v1/uploads", json=upload_doc(
        "same-run", {**report, "hosts": report["hosts"][:2]})).status_code == 201
    a_dev = a.get("/api/v1/devices", params={"limit": 1000}).json()
    b_dev = b.get("/api/v1/devices", params={"limit": 1000}).json()
    assert a_dev["total"] == len(report["hosts"]) and b_dev["total"] == 2
    a_ids = {d["id"] for d in a_dev["items"]}
    b_ids = {d["id"] for d in b_dev["items"]}
    assert not a_ids & b_ids
    for device_id in a_ids:
        assert b.get(f"/api/v1/devices/{device_id}").status_code == 404
        assert b.get(f"/api/v1/devices/{device_id}/history").status_code == 404
        assert b.get("/api/v1/findings", params={"device_id": device_id}).json()["total"] == 0
        assert b.get("/api/v1/events", params={"device_id": device_id}).json()["items"] == []
    b_findings = b.get("/api/v1/findings", params={"limit": 1000}).json()["items"]
    assert {f["device_id"] for f in b_findings} <= b_ids
    a_finding = a.get("/api/v1/findings").json()["items"][0]
    r = b.post(f"/api/v1/findings/{a_finding['id']}/triage",
               json={"state": "false_positive", "reason": "not ours"})
    assert r.status_code == 404
    assert {e["device_id"] for e in b.get("/api/v1/events", params={"limit": 1000})
            .json()["items"] if e["device_id"]} <= b_ids
    vex = b.get("/api/v1/vex").json()
    assert len(vex["components"]) == 2
    assert b.get("/api/v1/devices", params={"format": "csv"}).text.count("\n") == 3
    assert len(b.get("/api/v1/uploads").json()["items"]) == 1
    a_tokens = {t["id"] for t in a.get("/api/v1/tokens").json()["items"]}
    for token_id in a_tokens:
        assert b.delete(f"/api/v1/tokens/{token_id}").status_code == 404


def test_tokens_shown_once_hashed_expiring_revocable(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    admin = server.client(make_token(db_url, "acme", "admin"))
    made = admin.post("/api/v1/tokens", json={"name": "ci", "role": "viewer",
                                              "expires_in_days": 1})
    assert made.status_code == 201
    text = made.json()["token"]
    listed = admin.get("/api/v1/tokens").json()["items"]
    assert all("token" not in t and "secret_hash" not in t for t in listed)
    engine = sa.create_engine(db_url.replace("sqlite:///", "sqlite:///"))
    with engine.connect() as conn:
        hashes = conn.execute(sa.text("SELECT secret_hash FROM fleet_tokens")).scalars().all()
    engine.dispose()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(text in h for h in hashes)
    viewer = server.client(text)
    assert viewer.get("/api/v1/devices").status_code == 200
    assert viewer.post("/api/v1/tokens", json={"name": "x", "role": "admin"}).status_code == 403
    assert admin.delete(f"/api/v1/tokens/{made.json()['id']}").status_code == 204
    assert viewer.get("/api/v1/devices").status_code == 401
    expired = make_token(db_url, "acme", "viewer", expires_days=-1)
    r = server.client(expired).get("/api/v1/devices")
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_uploads_survive_restart(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    token = make_token(db_url, "acme", "operator")
    assert server.client(token).post("/api/v1/uploads", json=upload_doc(
        "r1", lab_report())).status_code == 201
    # SIGTERM: graceful (uvicorn re-raises the signal once shut down, hence -15)
    assert server.stop() in (0, -15)
    log = server.log.read_text().splitlines()
    assert any(json.loads(line).get("message") == "server stopped" for line in log)
    again = start_server(db_url, kb_url)
    client = again.client(token)
    assert client.get("/api/v1/devices").json()["total"] == len(lab_report()["hosts"])
    r = client.post("/api/v1/uploads", json=upload_doc("r1", lab_report()))
    assert r.json()["duplicate"] is True


@pytest.mark.parametrize("args", [["--db", "mysql://x/y"], ["--log-level", "loud"]])
def test_serve_bad_options_one_line(args):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "routerwatch", "serve", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error:") and len(r.stderr.strip().splitlines()) <= 2
