"""The dashboard's data layer on SQLite and PostgreSQL: accounts, sessions and the login rate
limit; the overview, device page, trends and phase-out read from a fleet ingested through the
core (``server.ingest``) from the recorded lab scan; hostile strings stored intact and rendered
inert; migration f0004 down and up."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from web_helpers import HOSTILE_BANNER, HOSTILE_KEY, HOSTILE_MODEL, PASSWORD, fleet_days

from routerwatch.assess.policy import load_policy
from routerwatch.server import kbops
from routerwatch.server.ingest import ingest
from routerwatch.server.knowledge import Knowledge
from routerwatch.server.store import FleetStore
from routerwatch.server.store import schema as t
from routerwatch.server.store import web as w
from routerwatch.server.triage import triage
from routerwatch.server.web import accounts, queries
from routerwatch.server.web.views import templates
from routerwatch.server.wire import parse_upload


class Filled:
    def __init__(self, store: FleetStore, org_id: int, other_org: int) -> None:
        self.store, self.org_id, self.other_org = store, org_id, other_org


@pytest.fixture
def filled(db_url: str, kb_url: str) -> Iterator[Filled]:
    store = FleetStore(db_url)
    knowledge = Knowledge(kb_url)
    try:
        kbops.record_change(store, knowledge, "external", "test")
        with store.write() as conn:
            org = store.ensure_org(conn, "acme")
            other = store.ensure_org(conn, "other")
        for doc in fleet_days():
            body = json.dumps(doc).encode()
            ingest(store, knowledge, org, parse_upload(doc), hashlib.sha256(body).hexdigest())
        yield Filled(store, org, other)
    finally:
        knowledge.close()
        store.close()


def _user(f: Filled, name: str = "vera", role: str = "viewer") -> accounts.WebUser:
    with f.store.write() as conn:
        accounts.create_user(conn, f.org_id, name, PASSWORD, role)
    return accounts.login(f.store, name, PASSWORD, "127.43.1.1")


def test_accounts_sessions_and_rate_limit(filled: Filled) -> None:
    store = filled.store
    with store.write() as conn:
        for bad, message in ((("x y", PASSWORD, "viewer"), "user name"),
                             (("ann", "short", "viewer"), "at least 10"),
                             (("ann", PASSWORD, "root"), "role must be")):
            with pytest.raises(accounts.AccountError, match=message):
                accounts.create_user(conn, filled.org_id, *bad)
    user = _user(filled, "Vera", "operator")
    assert (user.username, user.org, user.role) == ("Vera", "acme", "operator")
    with store.read() as conn:
        stored = conn.execute(sa.select(w.users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with store.write() as conn, pytest.raises(accounts.AccountError, match="exists"):
        accounts.create_user(conn, filled.org_id, "vera", PASSWORD, "viewer")
    # sessions: only the hash of the cookie is stored; close and idle end them
    cookie, session = accounts.open_session(store, user)
    with store.read() as conn:
        keys = conn.execute(sa.select(w.sessions.c.id)).scalars().all()
    assert cookie not in keys and session.key in keys
    assert accounts.load_session(store, cookie).user.id == user.id
    assert accounts.load_session(store, cookie + "x") is None
    with store.write() as conn:
        conn.execute(sa.update(w.sessions).values(
            last_seen_at=datetime.now(UTC) - timedelta(minutes=accounts.IDLE_MINUTES + 1)))
    assert accounts.load_session(store, cookie) is None
    cookie, session = accounts.open_session(store, user)
    accounts.close_session(store, session.key)
    assert accounts.load_session(store, cookie) is None
    # rate limit: 5 failures of one user at one address lock the pair, not others
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.LoginFailed):
            accounts.login(store, "vera", "wrong password", "127.43.1.2")
    with pytest.raises(accounts.LockedOut) as locked:
        accounts.login(store, "vera", PASSWORD, "127.43.1.2")
    assert 800 < locked.value.retry_after <= accounts.WINDOW.total_seconds()
    assert accounts.login(store, "VERA", PASSWORD, "127.43.1.3").id == user.id
    # once the window has passed, the pair may try again
    with store.write() as conn:
        conn.execute(sa.update(w.login_attempts).values(
            at=w.login_attempts.c.at - accounts.WINDOW))
    assert accounts.login(store, "vera", PASSWORD, "127.43.1.2").id == user.id
    # a success resets the count for the pair
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(accounts.LoginFailed):
            accounts.login(store, "vera", "wrong password", "127.43.1.2")
    accounts.login(store, "vera", PASSWORD, "127.43.1.2")
    with pytest.raises(accounts.LoginFailed):
        accounts.login(store, "vera", "wrong password", "127.43.1.2")
    accounts.login(store, "vera", PASSWORD, "127.43.1.2")
    # spraying many names from one address locks the address
    for n in range(accounts.MAX_CLIENT_FAILURES):
        with pytest.raises(accounts.LoginFailed):
            accounts.login(store, f"guess{n}", "wrong password", "127.43.1.9")
    with pytest.raises(accounts.LockedOut):
        accounts.login(store, "vera", PASSWORD, "127.43.1.9")
    # disabling ends every session and refuses the password
    cookie, _s = accounts.open_session(store, user)
    with store.write() as conn:
        assert accounts.set_disabled(conn, "Vera", True)
    assert accounts.load_session(store, cookie) is None
    with pytest.raises(accounts.LoginFailed):
        accounts.login(store, "vera", PASSWORD, "127.43.1.4")


def _present(conn: sa.Connection, org_id: int) -> list[Any]:
    d = t.devices
    return conn.execute(sa.select(d).where(d.c.org_id == org_id, d.c.state == "present")).all()


def test_overview_counts_match_the_rows(filled: Filled) -> None:
    with filled.store.read() as conn:
        o = queries.overview(conn, filled.org_id)
        rows = _present(conn, filled.org_id)
        empty = queries.overview(conn, filled.other_org)
    assert o.present == len(rows) == 31 and o.gone == 2
    bad = [r for r in rows if any(i["kind"] == "compromise" for i in json.loads(r.indicators))]
    assert o.compromised == len(bad) >= 3
    assert o.kev_devices == sum(1 for r in rows if r.kev_open > 0) > 0
    assert o.kev_findings == sum(r.kev_open for r in rows)
    assert o.open_findings == sum(r.open_findings for r in rows) == sum(o.severities.values())
    assert o.eol == sum(1 for r in rows if r.eol)
    assert o.policy == sum(1 for r in rows if json.loads(r.policy))
    assert {s["name"]: s["devices"] for s in o.sites} == {"hq": 26, "branch": 5}
    with filled.store.read() as conn:  # the gone Archer AX21 keeps open findings: not counted
        gone_open = conn.execute(sa.select(sa.func.count()).select_from(t.findings).join(
            t.devices, t.devices.c.id == t.findings.c.device_id).where(
            t.devices.c.org_id == filled.org_id, t.devices.c.state == "gone",
            t.findings.c.state == "open")).scalar_one()
    assert gone_open > 0
    assert sum(v["devices"] for v in o.vendors) <= o.present
    assert o.events and all(e["id"] for e in o.events)
    assert empty.devices == 0 and empty.sites == [] and empty.events == []


def test_device_page_keeps_hostile_strings_and_renders_them_inert(filled: Filled) -> None:
    with filled.store.read() as conn:
        device_id = conn.execute(sa.select(t.devices.c.id).where(
            t.devices.c.device_key == HOSTILE_KEY)).scalar_one()
        data = queries.device_page(conn, filled.org_id, device_id)
        assert queries.device_page(conn, filled.other_org, device_id) is None
    assert data is not None
    d = data["device"]
    assert d["model"] == HOSTILE_MODEL  # stored exactly as the device said it
    assert d["indicators"][0]["evidence"][0]["value"] == HOSTILE_BANNER
    user = accounts.WebUser(1, "otto", filled.org_id, "acme", "operator", False)
    html = templates.get_template("device.html").render(
        user=user, csrf="tok", nav="device.html", today=date.today().isoformat(), **data)
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    for ch in ("\x1b", "\x07", "\u202e", "\u202b", "\u2066", "\u2069"):
        assert ch not in html
    assert "\\x1b[2J" in html and "\\u202e" in html


def test_trends_replay_the_event_log(filled: Filled) -> None:
    store = filled.store
    f = t.findings
    with store.read() as conn:
        tr = queries.trends(conn, filled.org_id, days=10)
        open_now = conn.execute(sa.select(sa.func.count()).where(
            f.c.org_id == filled.org_id, f.c.state == "open")).scalar_one()
        kev_now = conn.execute(sa.select(sa.func.count()).where(
            f.c.org_id == filled.org_id, f.c.state == "open", f.c.kev)).scalar_one()
        target = conn.execute(sa.select(f.c.id).where(
            f.c.org_id == filled.org_id, f.c.state == "open", f.c.kev).limit(1)).scalar_one()
    assert tr.days[-1] == datetime.now(UTC).date() and len(tr.days) == 10
    assert tr.open_findings[-1] == open_now and tr.kev_findings[-1] == kev_now
    day6, day3 = 3, 6  # indexes of 6 and 3 days ago
    assert tr.open_findings[:day6] == [0, 0, 0]  # nothing before the first scan
    # the RT-AC68U's firmware update on day -3 closed findings (finding.closed events)
    assert tr.open_findings[day6] > tr.open_findings[day3] == open_now
    assert len(set(tr.open_findings[day6:day3])) == 1
    # firmware currency: known from day -6; the R7000 was behind until day -3
    assert tr.firmware_current[:day6] == [None] * 3
    assert tr.firmware_current[day6] is not None and tr.firmware_current[day6] < 100.0
    assert tr.firmware_current[-1] == 100.0 and tr.firmware_known[-1] > tr.firmware_known[day6]
    triage(store, filled.org_id, target, "accepted", reason="isolated", by="otto",
           expires=datetime.now(UTC) + timedelta(days=5))
    with store.read() as conn:
        after = queries.trends(conn, filled.org_id, days=10)
    assert after.open_findings[-1] == open_now - 1 and after.kev_findings[-1] == kev_now - 1


def test_phase_out_progress_per_site(filled: Filled) -> None:
    policy = load_policy("phase-out-tp-link")
    with filled.store.read() as conn:
        sites = {x.summary.site: x for x in queries.phase_out(
            conn, filled.org_id, policy, today=date(2026, 12, 1))}
        late = {x.summary.site: x for x in queries.phase_out(
            conn, filled.org_id, policy, today=date(2027, 1, 15))}
    hq, branch = sites["hq"], sites["branch"]
    assert (hq.in_scope, hq.replaced, hq.remaining) == (5, 2, 3)  # Archer C80, AX21 gone
    assert hq.progress == 40.0 and hq.deadline == "2026-12-31" and hq.overdue == 0
    assert (branch.in_scope, branch.replaced, branch.remaining) == (5, 0, 5)
    assert late["hq"].overdue == 1  # the TL-WR841N's first deadline has passed


def test_migration_f0004_down_and_up(db_url: str) -> None:
    from alembic import command

    from routerwatch.server.store.db import _config

    store = FleetStore(db_url)
    try:
        cfg = _config(store.engine)
        names = ("fleet_web_users", "fleet_web_sessions", "fleet_web_login_attempts")
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "f0003")
        assert not set(names) & set(sa.inspect(store.engine).get_table_names())
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert set(names) <= set(sa.inspect(store.engine).get_table_names())
    finally:
        store.close()
