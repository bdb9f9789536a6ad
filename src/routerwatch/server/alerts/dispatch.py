"""Sending: due deliveries go out per channel, each channel in its own job, so a slow or
failing channel never holds up the others; every attempt's outcome is written back.

A delivery is marked ``sent`` only after its channel accepted it (HTTP 2xx, SMTP accepted,
syslog written); a failure makes it ``retrying`` with exponential backoff (with jitter, or the
receiver's ``Retry-After``), and ``failed`` after the channel's ``max_attempts`` or at once
for a permanent refusal (HTTP 4xx, SMTP 5xx). Rows of a digest rule that are due together go
out as one message.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from routerwatch.server.alerts import render
from routerwatch.server.alerts.plan import Lookup
from routerwatch.server.alerts.rules import channel_spec
from routerwatch.server.alerts.senders import EmailSender, SendError, SyslogSender, WebhookSender
from routerwatch.server.alerts.specs import EmailSpec, Retry, SyslogSpec, WebhookSpec
from routerwatch.server.store import FleetStore
from routerwatch.server.store import alerts as a
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now

log = logging.getLogger("routerwatch.server.alerts")


@dataclass
class Outcome:
    ids: list[int]
    error: SendError | None
    at: datetime


def backoff(retry: Retry, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempts + 1`` (``attempts`` made so far, ≥ 1)."""
    delay = min(retry.base_seconds * 2 ** (attempts - 1), retry.max_seconds)
    delay *= random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, retry.max_seconds))
    return delay


class Dispatcher:
    """Starts one job per channel that has due deliveries and no job running."""

    def __init__(self, store: FleetStore, *, workers: int = 8, per_job: int = 500,
                 flush_every: int = 50) -> None:
        self.store = store
        self.per_job = per_job
        self.flush_every = flush_every
        self.pool = ThreadPoolExecutor(max_workers=workers,
                                       thread_name_prefix="routerwatch-alerts")
        self.running: dict[int, Future[None]] = {}
        self.cool: dict[int, float] = {}  # channel id → monotonic time to try again
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def round(self) -> int:
        """Start jobs for channels with due deliveries; returns how many jobs started."""
        with self._lock:
            for cid in [c for c, f in self.running.items() if f.done()]:
                self.running.pop(cid).result()  # re-raise a bug in a job (logged by caller)
        d = a.deliveries
        at = now()
        with self.store.read() as conn:
            busy = set(self.running) | {c for c, until in self.cool.items()
                                        if until > time.monotonic()}
            cond = [d.c.state.in_(("pending", "retrying")), d.c.not_before <= at]
            channels = conn.execute(sa.select(d.c.channel_id).where(*cond).distinct()).scalars()
            todo = [c for c in channels if c not in busy]
        started = 0
        for cid in todo:
            if self.stopping.is_set():
                break
            with self._lock:
                self.running[cid] = self.pool.submit(self._job, cid)
            started += 1
        return started

    def wait(self, timeout: float | None = None) -> None:
        """Until every running job finished (tests, shutdown)."""
        with self._lock:
            futures = list(self.running.values())
        for f in futures:
            f.result(timeout)

    def close(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=True)

    # ------------------------------------------------------------------ one channel
    def _job(self, channel_id: int) -> None:
        try:
            self._send_channel(channel_id)
        except Exception:
            log.exception("alert channel job failed", extra={"channel": channel_id})

    def _send_channel(self, channel_id: int) -> None:
        """Send the channel's due deliveries, a batch at a time, until none is due, the
        channel fails (it cools down for its backoff) or the worker stops."""
        while not self.stopping.is_set() and self._send_batch(channel_id):
            pass

    def _send_batch(self, channel_id: int) -> bool:
        """One batch; True when it was full and went out without error (more may be due)."""
        d = a.deliveries
        at = now()
        with self.store.read() as conn:
            crow = conn.execute(sa.select(a.channels).where(a.channels.c.id == channel_id)).first()
            if crow is None or not crow.enabled:
                self.cool[channel_id] = time.monotonic() + 30
                return False
            spec = channel_spec(crow)
            rows = conn.execute(sa.select(d).where(
                d.c.channel_id == channel_id, d.c.state.in_(("pending", "retrying")),
                d.c.not_before <= at).order_by(d.c.id).limit(self.per_job)).all()
            ev_ids = sorted({r.event_id for r in rows if r.event_id})
            events = {}
            for i in range(0, len(ev_ids), 500):
                for ev in conn.execute(sa.select(t.events)
                                       .where(t.events.c.id.in_(ev_ids[i:i + 500]))):
                    events[ev.id] = ev
            look = Lookup.load(conn, events.values())
        docs = {i: render.event_doc(ev, look.devices.get(ev.device_id),
                                    look.sites.get(ev.site_id)) for i, ev in events.items()}
        # messages: one per event row; one per rule for digest rows due together
        messages: list[tuple[list[Any], bool]] = []
        digests: dict[int, list[Any]] = defaultdict(list)
        for r in rows:
            if r.kind == "digest":
                digests[r.rule_id].append(r)
            else:
                messages.append(([r], False))
        messages += [(group, True) for group in digests.values()]
        messages.sort(key=lambda m: m[0][0].id)
        sender = _sender(spec)
        outcomes: list[Outcome] = []
        failed = False
        try:
            for group, digest in messages:
                if self.stopping.is_set():
                    break
                group_docs = [docs[r.event_id] for r in group if r.event_id in docs]
                error = None
                try:
                    _send(sender, spec, group[0].id, group_docs, digest)
                except SendError as exc:
                    error = exc
                outcomes.append(Outcome([r.id for r in group], error, now()))
                if len(outcomes) >= self.flush_every:
                    self._record(spec, rows, outcomes)
                    outcomes = []
                if error is not None:
                    failed = True
                    attempts = max(r.attempts for r in group) + 1
                    self.cool[channel_id] = time.monotonic() + backoff(spec.retry, attempts,
                                                                       error.retry_after)
                    break
        finally:
            sender.close()
            self._record(spec, rows, outcomes)
        return len(rows) == self.per_job and not failed

    def _record(self, spec: WebhookSpec | EmailSpec | SyslogSpec, rows: Sequence[Any],
                outcomes: list[Outcome]) -> None:
        if not outcomes:
            return
        d = a.deliveries
        before = {r.id: r for r in rows}
        changes: list[dict[str, Any]] = []
        for o in outcomes:
            for rid in o.ids:
                n = before[rid].attempts + 1
                change = {"_id": rid, "attempts": n, "updated_at": o.at, "state": "sent",
                          "sent_at": o.at, "last_error": None,
                          "not_before": before[rid].not_before}
                if o.error is not None:
                    change.update(sent_at=None, last_error=str(o.error), state="failed")
                    if not o.error.permanent and n < spec.retry.max_attempts:
                        wait = backoff(spec.retry, n, o.error.retry_after)
                        change.update(state="retrying",
                                      not_before=o.at + timedelta(seconds=wait))
                changes.append(change)
        with self.store.write() as conn:
            conn.execute(sa.update(d).where(d.c.id == sa.bindparam("_id")).values(
                {k: sa.bindparam(k) for k in changes[0] if k != "_id"}), changes)
        for o in outcomes:
            if o.error is not None:
                log.warning("alert delivery failed", extra={
                    "channel": spec.name, "deliveries": o.ids, "error": str(o.error)})


Sender = WebhookSender | EmailSender | SyslogSender


def _sender(spec: WebhookSpec | EmailSpec | SyslogSpec) -> Sender:
    if isinstance(spec, WebhookSpec):
        return WebhookSender(spec)
    if isinstance(spec, EmailSpec):
        return EmailSender(spec)
    return SyslogSender(spec)


def _send(sender: Sender, spec: WebhookSpec | EmailSpec | SyslogSpec, delivery_id: int,
          docs: list[dict[str, Any]], digest: bool) -> None:
    if not docs:
        raise SendError("the event of this delivery no longer exists", permanent=True)
    if isinstance(sender, WebhookSender):
        assert isinstance(spec, WebhookSpec)
        body = render.webhook_body(spec, docs, delivery_id, digest)
        sender.send(delivery_id, body, "digest" if digest else docs[0]["type"])
    elif isinstance(sender, EmailSender):
        assert isinstance(spec, EmailSpec)
        sender.send(render.email_message(spec, docs, delivery_id, digest))
    else:
        assert isinstance(spec, SyslogSpec)
        sender.send([render.syslog_message(spec, doc) for doc in docs])
