"""Talking to the fleet server: outbound HTTPS only (works behind NAT, no listening port).

TLS: by default the operating system's CA store (``ssl.create_default_context()``); with
``ca_cert`` only the CAs in that PEM file, which may be the server's own certificate (pinning
it). Nothing is pinned that cannot be rotated: the file can hold the old and the new
certificate during a rotation (see docs/agents.md).
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx

from routerwatch.agent.config import Credential
from routerwatch.agent.outbox import Outbox
from routerwatch.server.client import UploadError, upload_report

log = logging.getLogger("routerwatch.agent")
TIMEOUT = 30.0


class ServerError(Exception):
    """The server could not be reached or refused a call; one line. ``status`` when refused."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def tls_context(ca_cert: str | None) -> ssl.SSLContext:
    """System CAs, or only those of ``ca_cert`` (a CA bundle or the pinned server cert)."""
    try:
        return ssl.create_default_context(cafile=ca_cert) if ca_cert else \
            ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        raise ServerError(f"--ca-cert {ca_cert}: cannot load it: {exc}") from None


def http_client(url: str, ca_cert: str | None, token: str | None = None,
                timeout: float = TIMEOUT) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    verify: ssl.SSLContext | bool = tls_context(ca_cert) if url.startswith("https:") else True
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout,
                        verify=verify, follow_redirects=False)


def _detail(r: httpx.Response) -> str:
    try:
        return str(r.json().get("detail", ""))[:300]
    except ValueError:
        return r.text[:300]


def enroll(url: str, token: str, name: str, ca_cert: str | None = None) -> dict[str, Any]:
    """Exchange a one-time enrolment token for an agent credential."""
    if not url.startswith(("http://", "https://")):
        raise ServerError(f"expected an http(s):// server URL, got {url!r}")
    with http_client(url, ca_cert) as http:
        try:
            r = http.post("/api/v1/enrol", json={"token": token, "name": name})
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach {url}: {exc}") from None
    if r.status_code != 201:
        raise ServerError(f"{url} refused the enrolment ({r.status_code}): {_detail(r)}",
                          r.status_code)
    answer: dict[str, Any] = r.json()
    return answer


def fetch_jobs(http: httpx.Client) -> dict[str, Any]:
    """Who we are and our site's jobs (``GET /api/v1/agent/jobs``; counts as contact)."""
    try:
        r = http.get("/api/v1/agent/jobs")
    except httpx.HTTPError as exc:
        raise ServerError(f"cannot reach {http.base_url}: {exc}") from None
    if r.status_code != 200:
        raise ServerError(f"{http.base_url} answered {r.status_code}: {_detail(r)}",
                          r.status_code)
    answer: dict[str, Any] = r.json()
    return answer


@dataclass
class Delivery:
    delivered: list[str] = field(default_factory=list)  # run ids, in order
    rejected: list[str] = field(default_factory=list)
    error: str | None = None  # why delivery stopped (entries stay queued)
    status: int | None = None  # the HTTP status that stopped it (None: not reached)


def deliver(outbox: Outbox, cred: Credential, http: httpx.Client) -> Delivery:
    """Send the queued results oldest first; stop at the first that cannot be delivered now
    (unreachable, 5xx, credential refused), so the order holds. An entry the server refuses
    as invalid (409, 413, 422) can never succeed: it is dropped and counted."""
    out = Delivery()
    while True:
        batch = outbox.peek(50)
        if not batch:
            return out
        for entry_id, run_id, doc in batch:
            try:
                upload_report(doc["report"], cred.url, cred.token, site=doc["site"],
                              run_id=run_id, kind=doc["kind"], attempts=1, client=http,
                              complete=doc.get("complete"), extra=doc.get("extra"))
            except UploadError as exc:
                if exc.status in (409, 413, 422):
                    log.warning("result refused for good, dropped",
                                extra={"run_id": run_id, "error": str(exc)})
                    outbox.reject(entry_id)
                    out.rejected.append(run_id)
                    continue
                out.error, out.status = str(exc), exc.status
                return out
            outbox.ack(entry_id)
            out.delivered.append(run_id)
            log.info("result delivered", extra={"run_id": run_id})
