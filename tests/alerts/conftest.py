"""Fixtures for the alert tests: a fleet store (SQLite and PostgreSQL), real receivers on
127.42.0.0/16, and an alert worker driven round by round."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "server"))

from receivers import SmtpReceiver, SyslogReceiver, WebhookReceiver
from server_helpers import Server, server_fixtures, serving

from routerwatch.server import events as ev
from routerwatch.server.alerts.worker import AlertWorker
from routerwatch.server.store import FleetStore


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTERWATCH_ALERT_TARGETS", "127.42.0.0/16")


@pytest.fixture
def store(db_url: str) -> Iterator[FleetStore]:
    s = FleetStore(db_url)
    yield s
    s.close()


@pytest.fixture
def org(store: FleetStore) -> int:
    with store.write() as conn:
        return store.ensure_org(conn, "acme")


@pytest.fixture
def worker(store: FleetStore) -> Iterator[AlertWorker]:
    w = AlertWorker(store)
    yield w
    w.stop()


@pytest.fixture
def run(worker: AlertWorker) -> Callable[[], None]:
    """One full alert round: plan, send, wait for the sends."""

    def go() -> None:
        worker.dispatcher.cool.clear()
        worker.round()
        worker.dispatcher.wait(30)

    return go


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver("127.42.0.1")
    yield r
    r.close()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpReceiver]:
    r = SmtpReceiver("127.42.0.2", tmp_path).start()
    yield r
    r.close()


@pytest.fixture
def emit(store: FleetStore, org: int) -> Callable[..., None]:
    """Record events through the server's own event writer."""

    def go(*events: ev.Event) -> None:
        with store.write() as conn:
            ev.write(conn, list(events))

    return go


@pytest.fixture
def syslog_udp() -> Iterator[SyslogReceiver]:
    r = SyslogReceiver("udp", "127.42.0.3")
    yield r
    r.close()


@pytest.fixture
def syslog_tcp() -> Iterator[SyslogReceiver]:
    r = SyslogReceiver("tcp", "127.42.0.3")
    yield r
    r.close()


_server = server_fixtures()  # the KB fixtures of tests/server (a starter KB per server)
kb_template = _server.kb_template
kb_url = _server.kb_url
db_url = _server.db_url  # SQLite and PostgreSQL
SERVER_HOST = "127.42.1.1"


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`routerwatch serve` processes on 127.42.1.1, stopped after the test."""
    yield from serving(tmp_path, SERVER_HOST)
