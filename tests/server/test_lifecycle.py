"""Findings lifecycle through the API: accepted risk expires and reopens, false positives are
carried across scans and re-matches, fixed when seen gone; exported as CycloneDX VEX."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from server_helpers import lab_report, make_token, upload_doc
from test_week import _kev_update


def _until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not reached")


def test_lifecycle_and_vex(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url)
    op = server.client(make_token(db_url, "acme", "admin", system=True))
    viewer = server.client(make_token(db_url, "acme", "viewer"))
    report = lab_report()
    assert op.post("/api/v1/uploads", json=upload_doc("d1", report)).status_code == 201
    wr = next(d for d in op.get("/api/v1/devices", params={"limit": 100}).json()["items"]
              if d["model"] == "TL-WR841N")
    findings = {f["cve"]: f for f in op.get(f"/api/v1/devices/{wr['id']}").json()["findings"]}
    fp, acc, other = findings["CVE-2012-5687"], findings["CVE-2023-39745"], \
        findings["CVE-2012-6276"]
    # viewers cannot triage; bad triage is refused with a reason
    assert viewer.post(f"/api/v1/findings/{fp['id']}/triage",
                       json={"state": "false_positive", "reason": "x"}).status_code == 403
    r = op.post(f"/api/v1/findings/{fp['id']}/triage", json={"state": "false_positive"})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = op.post(f"/api/v1/findings/{acc['id']}/triage",
                json={"state": "accepted", "reason": "isolated VLAN"})
    assert r.status_code == 422 and "expiry" in r.json()["detail"]
    assert op.post("/api/v1/findings/999999/triage", json={
        "state": "false_positive", "reason": "x"}).status_code == 404
    # triage
    r = op.post(f"/api/v1/findings/{fp['id']}/triage",
                json={"state": "false_positive", "reason": "hardware v8 runs 3.16, not 3.13"})
    assert r.status_code == 200 and r.json()["state"] == "false_positive"
    expires = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
    r = op.post(f"/api/v1/findings/{acc['id']}/triage",
                json={"state": "accepted", "reason": "isolated VLAN", "expires_at": expires})
    assert r.status_code == 200 and r.json()["triage_by"] == "acme-admin"
    long = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    assert op.post(f"/api/v1/findings/{other['id']}/triage", json={
        "state": "accepted", "reason": "replacing it", "expires_at": long}).status_code == 200
    device = op.get(f"/api/v1/devices/{wr['id']}").json()
    assert device["open_findings"] == wr["open_findings"] - 3

    vex = op.get("/api/v1/vex", params={"device_id": wr["id"]})
    text = vex.text
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    vulns = {v["id"]: v for v in json.loads(text)["vulnerabilities"]}
    assert vulns["CVE-2012-5687"]["analysis"]["state"] == "false_positive"
    assert "3.16" in vulns["CVE-2012-5687"]["analysis"]["detail"]
    assert vulns["CVE-2012-6276"]["analysis"]["response"] == ["will_not_fix"]
    assert "replacing it" in vulns["CVE-2012-6276"]["analysis"]["detail"]
    assert vulns["CVE-2023-33538"]["analysis"]["state"] == "exploitable"

    # the accepted risk expires: the worker reopens it, with the why
    _until(lambda: op.get("/api/v1/findings", params={"cve": "CVE-2023-39745", "device_id":
                                                      wr["id"]}).json()["items"][0]["state"]
           == "open")
    expired = op.get("/api/v1/events", params={"type": "finding.risk_expired"}).json()["items"]
    assert len(expired) == 1 and "isolated VLAN" in expired[0]["why"]

    # a re-scan and a re-match (KB change) keep the false positive and the accepted risk
    assert op.post("/api/v1/uploads", json=upload_doc("d2", report)).status_code == 201
    assert op.post("/api/v1/kb/import", params={"name": "kev.json"},
                   content=_kev_update()).status_code == 201
    time.sleep(0.5)
    server.wait_idle("")
    states = {f["cve"]: f["state"] for f in op.get(f"/api/v1/devices/{wr['id']}")
              .json()["findings"]}
    assert states["CVE-2012-5687"] == "false_positive"
    assert states["CVE-2012-6276"] == "accepted"
    assert states["CVE-2023-39745"] == "open"
    kev = op.get("/api/v1/events", params={"type": "finding.kev"}).json()["items"]
    assert [e["cve"] for e in kev] == ["CVE-2023-39745"]

    # the device is updated: its findings are seen gone (fixed), triage kept for the record
    fixed = copy.deepcopy(report)
    host = next(h for h in fixed["hosts"] if h["identity"]["model"] == "TL-WR841N")
    host["identity"]["model"] = "TL-WR841N replaced-by-test"
    assert op.post("/api/v1/uploads", json=upload_doc("d3", fixed)).status_code == 201
    after = {f["cve"]: f for f in op.get(f"/api/v1/devices/{wr['id']}").json()["findings"]}
    assert after["CVE-2023-33538"]["state"] == "fixed" and after["CVE-2023-33538"]["fixed_at"]
    assert after["CVE-2012-6276"]["state"] == "fixed"  # accepted, then gone
    assert after["CVE-2012-5687"]["state"] == "false_positive"
    assert op.get(f"/api/v1/devices/{wr['id']}").json()["open_findings"] == 0
    vulns = {v["id"]: v for v in op.get("/api/v1/vex", params={"device_id": wr["id"]})
             .json()["vulnerabilities"]}
    assert vulns["CVE-2023-33538"]["analysis"]["state"] == "resolved"
    closed = op.get("/api/v1/events", params={"type": "finding.closed", "limit": 1000}).json()
    assert {e["cve"] for e in closed["items"]} >= {"CVE-2023-33538", "CVE-2012-6276"}
    assert "CVE-2012-5687" not in {e["cve"] for e in closed["items"]}
