"""Ban-readiness progress over time: the pure series (assess.readiness.readiness_progress)
and the read-only fleet route GET /api/v1/readiness/progress on a real `routerwatch serve`
(127.48.0.0/16) with SQLite and PostgreSQL, fed two uploads of a real lab scan."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import server_helpers
from server_helpers import lab_report, make_token, upload_doc

from routerwatch.assess.readiness import (
    ReadinessInputs,
    apply_readiness,
    load_exceptions,
    readiness_progress,
    regulation_policies,
)
from routerwatch.models import ReadinessItem, Report, replace
from routerwatch.schema import decode_report, encode_report

HOST = os.environ.get("ROUTERWATCH_TEST_SERVER_HOST", "127.48.0.1")  # this work's loopback range


@pytest.fixture(autouse=True)
def _own_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_helpers, "HOST", HOST)
    monkeypatch.setattr(server_helpers.free_port, "__defaults__", (HOST,))


def _item(status: str, deadline: str | None = "2026-06-01") -> ReadinessItem:
    return ReadinessItem(policy="p", restriction="r", status=status,  # type: ignore[arg-type]
                         reason="x", deadline=deadline)


def test_series_counts_and_progress() -> None:
    t1 = ("2026-05-01T00:00:00Z", [("a", (_item("affected"),)), ("b", (_item("unknown"),)),
                                   ("c", (_item("excepted"), _item("unknown"))), ("d", ())])
    t2 = ("2026-07-01T00:00:00Z", [("a", (_item("affected"),)), ("c", (_item("excepted"),)),
                                   ("d", ())])
    p1, p2 = readiness_progress([t1, t2])
    assert (p1.devices, p1.in_scope, p1.affected, p1.unknown, p1.excepted) == (4, 3, 1, 2, 0)
    assert p1.overdue == 0 and p1.replaced == 0 and p1.progress == 0.0
    # b is gone (replaced), c's unknown item was settled, a is past its deadline
    assert (p2.in_scope, p2.affected, p2.unknown, p2.excepted) == (2, 1, 0, 1)
    assert p2.overdue == 1 and p2.replaced == 1 and p2.progress == round(1 - 1 / 3, 4)
    assert readiness_progress([("2026-01-01T00:00:00Z", [("x", ())])])[0].progress == 1.0


def _report(tmp_path: Path, *, drop: set[str], exceptions: str | None) -> dict[str, Any]:
    """The lab scan with ban readiness applied (shipped US regulations), minus some models."""
    report: Report = decode_report(lab_report())
    kept = tuple(a for a in report.assessments if a.identity.model not in drop)
    inputs = ReadinessInputs(policies=regulation_policies())
    if exceptions:
        path = tmp_path / "exceptions.csv"
        path.write_text(exceptions)
        inputs = ReadinessInputs(policies=inputs.policies, exceptions=load_exceptions(path))
    done = apply_readiness(kept, inputs, today=date(2026, 1, 10))
    out: dict[str, Any] = json.loads(encode_report(replace(report, assessments=tuple(done))))
    return out


def test_route_reports_progress_from_the_upload_history(db_url, kb_url, start_server,
                                                        tmp_path: Path) -> None:
    server = start_server(db_url, kb_url)
    op = server.client(make_token(db_url, "acme", "operator"))
    first = _report(tmp_path, drop=set(), exceptions=None)
    r = op.post("/api/v1/uploads", json=upload_doc("r-jan", first,
                                                   observed_at="2026-01-10T09:00:00Z"))
    assert r.status_code == 201, r.text
    # February: four TP-Link models replaced; the Archer AX21 kept under an exception
    ax21 = next(h for h in first["hosts"] if h["identity"]["model"] == "Archer AX21")
    second = _report(
        tmp_path, drop={"Archer C80", "Deco M5", "ER605"},
        exceptions=("device,policy,reason,approver,expires,compensating_controls\n"
                    f"{ax21['address']},us-texas-prohibited-2026,lab,ciso,2026-12-31,isolated\n"))
    r = op.post("/api/v1/uploads", json=upload_doc("r-feb", second,
                                                   observed_at="2026-02-10T09:00:00Z"))
    assert r.status_code == 201, r.text

    viewer = server.client(make_token(db_url, "acme", "viewer"))
    body = viewer.get("/api/v1/readiness/progress").json()
    assert body["skipped"] == 0 and body["site"] is None
    jan, feb = body["points"]
    assert jan["at"].startswith("2026-01-10") and feb["at"].startswith("2026-02-10")
    assert jan["devices"] == len(first["hosts"])
    caught = sum(1 for h in first["hosts"] if h["readiness"])
    assert jan["in_scope"] == caught and jan["affected"] == 5 and jan["overdue"] == 0
    assert jan["progress"] == 0.0
    # TL-WR841N still there and past the Texas deadline (2026-01-26); AX21 excepted
    assert feb["affected"] == 1 and feb["overdue"] == 1 and feb["replaced"] == 3
    # the excepted AX21 still has its FCC "unknown" item, which is worse than excepted
    assert feb["excepted"] == 0 and feb["unknown"] == caught - 5 + 1
    assert feb["progress"] == round(1 - (1 + feb["unknown"]) / caught, 4)

    assert viewer.get("/api/v1/readiness/progress", params={"site": "nowhere"}).json()[
        "points"] == []
    assert viewer.get("/api/v1/readiness/progress", params={"limit": 1}).json()[
        "points"][0]["at"].startswith("2026-02-10")
    other = server.client(make_token(db_url, "other", "viewer"))
    assert other.get("/api/v1/readiness/progress").json()["points"] == []
    assert server.client(None).get("/api/v1/readiness/progress").status_code == 401
    assert viewer.get("/api/v1/readiness/progress", params={"limit": 0}).status_code == 422
