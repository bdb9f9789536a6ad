"""A simulated week of a lab site on SQLite and PostgreSQL: every change yields its events
exactly once, in order, with its why.

Day 1 is a real scan of the lab (tests/server/data/lab-scan.json); later days are that scan
with what happened to the site applied: a firmware update, a new open port, a device replaced
(its successor gets a new device key at the same address; the old one is gone after two
complete scans and 24 h), a KB update that adds a KEV entry, a firmware downgrade.
The KEV update is CISA's real catalog of 2025-08-25 plus one entry for CVE-2023-39745 made up
for this test (that CVE is not in KEV): the lab has no device that a real later KEV addition
matches.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

from server_helpers import lab_report, make_token, upload_doc

FIXTURE_KEV = "tests/fixtures/kev/known_exploited_vulnerabilities.json"
R7000_NEW = "V1.0.11.216_2.0.23"


def _keyed(report: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(report)
    for h in out["hosts"]:
        h["device_key"] = f"lab:{h['address']}"
    return out


def _host(report: dict[str, Any], model: str) -> dict[str, Any]:
    return next(h for h in report["hosts"] if h["identity"]["model"] == model)


def _kev_update() -> bytes:
    data = json.loads(Path(FIXTURE_KEV).read_text(encoding="utf-8"))
    data["catalogVersion"] = "2026.11.06"
    data["dateReleased"] = "2026-11-06T15:00:00.000Z"
    data["vulnerabilities"].insert(0, {
        "cveID": "CVE-2023-39745", "vendorProject": "TP-Link", "product": "TL-WR841N",
        "vulnerabilityName": "TP-Link TL-WR841N (test entry, not a real KEV listing)",
        "dateAdded": "2026-11-06", "shortDescription": "test entry",
        "requiredAction": "Apply mitigations per vendor instructions.",
        "dueDate": "2026-11-27", "knownRansomwareCampaignUse": "Unknown", "notes": "",
        "cwes": [],
    })
    data["count"] = len(data["vulnerabilities"])
    return json.dumps(data).encode()


def _events(client, after: int) -> list[dict[str, Any]]:
    items = client.get("/api/v1/events", params={"after": after, "limit": 1000}).json()["items"]
    return [e for e in items if e["type"] != "kb.stale"]


def test_simulated_week(db_url, kb_url, start_server):
    server = start_server(db_url, kb_url, "--gone-after-runs", "2", "--gone-after-hours", "24")
    op = server.client(make_token(db_url, "lab-site", "admin", system=True))
    day1 = _keyed(lab_report())
    n = len(day1["hosts"])

    def scan(day: int, report: dict[str, Any]) -> list[dict[str, Any]]:
        last = op.get("/api/v1/events", params={"after": 0, "limit": 1000}).json()
        start = last["items"][-1]["id"] if last["items"] else 0
        at = f"2026-11-0{day}T09:00:00Z"
        r = op.post("/api/v1/uploads", json=upload_doc(f"week-day{day}", report, observed_at=at))
        assert r.status_code == 201, r.text
        # the same run delivered twice (an agent retrying) changes nothing
        assert op.post("/api/v1/uploads", json=upload_doc(
            f"week-day{day}", report, observed_at=at)).json()["duplicate"] is True
        return _events(op, start)

    # Monday: first scan. Every device is new, every finding and indicator too.
    ev1 = scan(1, day1)
    assert [e["type"] for e in ev1].count("device.new") == n
    # the server matches with its own KB: one finding.new per stored finding
    findings_total = op.get("/api/v1/findings", params={"limit": 1}).json()["total"]
    assert [e["type"] for e in ev1].count("finding.new") == findings_total > 20
    assert all(e["why"] for e in ev1)

    # Tuesday: the same site again: nothing changed, nothing to say.
    assert scan(2, day1) == []

    # Wednesday: the R7000 got a firmware update, the DrayTek opened 8443.
    day3 = copy.deepcopy(day1)
    r7000 = _host(day3, "R7000")
    r7000["identity"]["firmware"] = R7000_NEW
    draytek = _host(day3, "Vigor2960")
    draytek["open_ports"] = sorted([*draytek["open_ports"], 8443])
    ev3 = scan(3, day3)
    kinds = [(e["type"], e["device_id"]) for e in ev3]
    fw = [e for e in ev3 if e["type"] == "device.firmware_changed"]
    assert len(fw) == 1 and fw[0]["data"]["direction"] == "up"
    assert fw[0]["why"] == f"firmware up: V1.0.9.88_10.2.88 → {R7000_NEW}"
    opened = [e for e in ev3 if e["type"] == "port.opened"]
    assert len(opened) == 1 and opened[0]["data"]["port"] == 8443
    closed = [e for e in ev3 if e["type"] == "finding.closed"]
    new = [e for e in ev3 if e["type"] == "finding.new"]
    r7000_id = fw[0]["device_id"]
    assert all(e["device_id"] == r7000_id for e in closed + new)
    assert all(f"firmware V1.0.9.88_10.2.88 → {R7000_NEW}" in e["why"] for e in closed + new)
    assert {t for t, _ in kinds} <= {"device.firmware_changed", "port.opened", "finding.closed",
                                     "finding.new"}
    # the firmware event comes before the finding changes it caused
    assert kinds.index(("device.firmware_changed", r7000_id)) < min(
        (kinds.index((e["type"], e["device_id"])) for e in closed + new), default=99)

    # Thursday: the Archer AX21 was replaced by a new box at the same address.
    day4 = copy.deepcopy(day3)
    ax21 = _host(day4, "Archer AX21")
    ax21["device_key"] = "lab:replacement-ax21"
    ev4 = scan(4, day4)
    assert ev4[0]["type"] == "device.new" and "lab:replacement-ax21" in ev4[0]["why"]
    assert {e["device_id"] for e in ev4} == {ev4[0]["device_id"]}  # all about the new box
    assert [e["type"] for e in ev4].count("device.new") == 1
    assert {e["type"] for e in ev4} <= {"device.new", "finding.new", "indicator.new",
                                        "policy.violation"}
    # Friday: a second complete scan without the old AX21, a day after it was last seen.
    ev5 = scan(5, day4)
    assert [e["type"] for e in ev5] == ["device.gone"]
    assert "not seen in 2 complete scans" in ev5[0]["why"]
    old_ax21 = op.get("/api/v1/devices", params={"state": "gone"}).json()["items"]
    assert [d["device_key"] for d in old_ax21] == [f"lab:{ax21['address']}"]

    # Saturday: the KB learns that CVE-2023-39745 is exploited (KEV); the re-match says so.
    before = op.get("/api/v1/events", params={"limit": 1000}).json()["items"][-1]["id"]
    r = op.post("/api/v1/kb/import", params={"name": "known_exploited_vulnerabilities.json"},
                content=_kev_update())
    assert r.status_code == 201, r.text
    assert r.json()["kb_change"] is not None
    time.sleep(0.5)
    server.wait_idle("")
    ev6 = _events(op, before)
    assert [e["type"] for e in ev6] == ["kb.changed", "finding.kev"]
    kev = ev6[1]
    assert kev["cve"] == "CVE-2023-39745" and kev["severity"] == "critical"
    assert kev["why"] == "CVE-2023-39745 was added to CISA KEV on 2026-11-06 (known exploited)"
    assert kev["kb_change_id"] == ev6[0]["kb_change_id"]
    wr841 = op.get(f"/api/v1/devices/{kev['device_id']}").json()
    assert wr841["model"] == "TL-WR841N" and wr841["kev_open"] >= 2
    assert op.get("/api/v1/devices", params={"kev": True}).json()["total"] >= 1

    # Sunday: the RAX50 was downgraded; everything else is as on Friday.
    day7 = copy.deepcopy(day4)
    rax50 = _host(day7, "RAX50")
    rax50["identity"]["firmware"] = "V1.0.2.28_1.0.21"
    ev7 = scan(7, day7)
    fw7 = [e for e in ev7 if e["type"] == "device.firmware_changed"]
    assert len(fw7) == 1 and fw7[0]["data"]["direction"] == "down"
    assert fw7[0]["severity"] == "medium"
    assert {e["type"] for e in ev7} <= {"device.firmware_changed", "finding.new"}

    # The whole log: strictly increasing ids, no event twice.
    log = op.get("/api/v1/events", params={"limit": 1000}).json()["items"]
    ids = [e["id"] for e in log]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    keys = [(e["type"], e["device_id"], e["cve"], e["upload_id"], e["kb_change_id"],
             json.dumps(e["data"], sort_keys=True)) for e in log]
    assert len(set(keys)) == len(keys)
    # history kept: the R7000 has both firmware versions, every sighting is there
    hist = op.get(f"/api/v1/devices/{r7000_id}/history").json()
    assert [i["firmware"] for i in hist["identities"]] == ["V1.0.9.88_10.2.88", R7000_NEW]
    assert len(hist["sightings"]) == 6
