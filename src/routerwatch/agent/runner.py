"""One agent round, and the schedule: find the gateway, probe it (and nothing else) with the
core pipeline, queue the result on disk, deliver the queue in order.

The hard guard: whatever the server's job lists, the agent probes exactly one address, this
machine's default gateway; every other target is refused (logged and shown in the status),
and the scan scope is that single address, which the scanner's guard enforces on every
packet (redirects and UPnP locations included).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routerwatch.agent.config import Credential, state_dir
from routerwatch.agent.gateway import DiscoveryError, Network
from routerwatch.agent.outbox import Outbox
from routerwatch.agent.transport import ServerError, deliver, fetch_jobs, http_client
from routerwatch.scan.scope import Scope, ScopeError, parse_scope

if TYPE_CHECKING:
    from routerwatch.models import Report
    from routerwatch.pipeline import Engines
    from routerwatch.scan.scanner import ScanOptions

log = logging.getLogger("routerwatch.agent")
GATEWAY_WORDS = frozenset({"gateway", "default-gateway", "@gateway"})
DEFAULT_INTERVAL = 3600
JOB_REFRESH = 3600.0  # an agent asks for its job at most this often (seconds)


class RefusedTarget(ScopeError):
    """A target other than the gateway: the agent never probes it."""


@dataclass
class RoundResult:
    """What one round did (``agent run-once --json`` prints it; ``status`` shows the last)."""

    at: str
    network: dict[str, Any] | None = None
    target: str | None = None
    ports: list[int] | None = None
    refused: list[str] = field(default_factory=list)
    probed: bool = False
    hosts: int = 0
    run_id: str | None = None
    queued: int = 0  # still on disk after delivery
    delivered: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    dropped_total: int = 0
    interval_seconds: int = DEFAULT_INTERVAL
    server: str = "unknown"  # ok / unreachable / refused
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def refused_targets(requested: Sequence[str], gateway: str) -> list[str]:
    """Every requested target that is not exactly the gateway (``gateway`` names it too)."""
    out = []
    gw = ipaddress.ip_address(gateway.split("%")[0])
    for text in requested:
        t = str(text).strip()
        if t.lower() in GATEWAY_WORDS:
            continue
        try:
            if ipaddress.ip_address(t.split("%")[0]) == gw:
                continue
        except ValueError:
            pass
        out.append(t)
    return out


def gateway_scope(target: str) -> Scope:
    """The scan scope of exactly one address; RefusedTarget for anything wider. The address
    comes from this machine's own route table (never from the server), so a public one (the
    global IPv6 address of the router, a hotel's public next hop) is this network's gateway
    too and is allowed."""
    scope = parse_scope([target], allow_public=True)
    if len(scope) != 1 or target not in scope:
        raise RefusedTarget(f"the agent scope must be exactly its gateway, not {target!r}")
    return scope


def agent_job(answer: dict[str, Any] | None) -> dict[str, Any]:
    """The first agent job of the site, or an empty one (defaults apply)."""
    jobs = (answer or {}).get("jobs") or []
    return dict(jobs[0]) if jobs and isinstance(jobs[0], dict) else {}


def scan_options(ports: Sequence[int] | None, base: ScanOptions | None = None) -> ScanOptions:
    """The scanner's options for a job: its ports; never multicast discovery."""
    from routerwatch.scan.scanner import ScanOptions

    opts = base or ScanOptions()
    return dataclasses.replace(opts, ports=tuple(ports) if ports else opts.ports, discover=False)


def probe_gateway(target: str, engines: Engines, options: ScanOptions) -> Report:
    """The core pipeline on a scope of exactly the gateway."""
    from routerwatch.pipeline import run_scan

    return run_scan(gateway_scope(target), engines, targets=[target], options=options,
                    kind="agent")


def result_doc(report_dict: dict[str, Any], network: Network, cred: Credential,
               target: str) -> dict[str, Any]:
    """The queued upload: the gateway host keyed by its network (so home, café and office are
    separate devices), kind ``agent``, never ``complete``."""
    for host in report_dict.get("hosts") or []:
        if host.get("address") == target:
            host["device_key"] = network.device_key()
            host["network"] = network.to_dict()
    return {"report": report_dict, "site": cred.site, "kind": "agent", "complete": False,
            "extra": {"network": network.to_dict()}}


# ------------------------------------------------------------------------------ state files

def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


def pull_jobs(cred: Credential, http: Any, result: RoundResult,
              max_age: float = 0.0) -> dict[str, Any] | None:
    """The server's answer to the job pull, remembered on disk. Within ``max_age`` seconds of
    the last pull the remembered answer is used without asking (uploads count as contact
    too); when the server cannot be reached, the remembered one whatever its age."""
    cache = state_dir(cred.kind) / "jobs.json"
    cached = read_json(cache)
    cached = cached if isinstance(cached, dict) and "answer" in cached else None
    if cached is not None and max_age > 0 and \
            0 <= time.time() - float(cached.get("fetched_at", 0)) < max_age:
        answer: dict[str, Any] = cached["answer"]
        return answer
    try:
        fresh = fetch_jobs(http)
    except ServerError as exc:
        result.server = "refused" if exc.status else "unreachable"
        result.error = str(exc)
        log.warning("job pull failed; using the last jobs", extra={"error": str(exc)})
        return cached["answer"] if cached is not None else None
    result.server = "ok"
    write_json(cache, {"fetched_at": time.time(), "answer": fresh})
    return fresh


def finish(cred: Credential, outbox: Outbox, http: Any, result: RoundResult) -> RoundResult:
    """Deliver the queue in order; record the round as the last status."""
    if result.server != "refused":
        sent = deliver(outbox, cred, http)
        result.delivered, result.rejected = sent.delivered, sent.rejected
        if sent.error:
            result.server = "refused" if sent.status and sent.status < 500 else "unreachable"
            result.error = sent.error
        elif result.server == "unknown":
            result.server = "ok"
    result.queued = len(outbox)
    result.dropped_total = outbox.dropped
    write_json(state_dir(cred.kind) / "status.json", result.to_dict())
    return result


def run_once(cred: Credential, engines: Engines | None, discover: Callable[[], Network], *,
             dry_run: bool = False, options: ScanOptions | None = None) -> RoundResult:
    """One agent round. ``dry_run``: find the gateway and the job, probe and send nothing."""
    result = RoundResult(at=datetime.now(UTC).isoformat(timespec="seconds"))
    with http_client(cred.url, cred.ca_cert, cred.token) as http, \
            Outbox(state_dir(cred.kind) / "outbox.db", cred.max_queue) as outbox:
        try:
            network = discover()
        except DiscoveryError as exc:
            result.error = str(exc)
            log.error("no gateway", extra={"error": str(exc)})
            return result if dry_run else finish(cred, outbox, http, result)
        result.network = network.to_dict()
        result.target = network.target
        job = agent_job(pull_jobs(cred, http, result, 0.0 if dry_run else JOB_REFRESH))
        result.interval_seconds = int(job.get("interval_seconds") or DEFAULT_INTERVAL)
        result.ports = job.get("ports") or list(scan_options(None, options).ports)
        if result.target is None:
            result.error = "the gateway is an IPv6 link-local address only; nothing to probe"
            return result if dry_run else finish(cred, outbox, http, result)
        result.refused = refused_targets(job.get("targets") or [], result.target)
        for target in result.refused:
            log.warning("refused a target that is not this machine's gateway",
                        extra={"target": target, "gateway": result.target})
        if dry_run:
            return result
        assert engines is not None
        try:
            report = probe_gateway(result.target, engines, scan_options(result.ports, options))
        except (ScopeError, ValueError) as exc:
            result.error = f"cannot probe {result.target}: {exc}"
            log.error("probe refused", extra={"error": str(exc)})
            return finish(cred, outbox, http, result)
        from routerwatch.report import to_dict

        result.probed = True
        result.hosts = len(report.assessments)
        result.run_id = f"agent{cred.agent_id}-{report.run_id}"
        dropped = outbox.put(result.run_id,
                             result_doc(to_dict(report), network, cred, result.target))
        if dropped:
            log.warning("queue full: dropped the oldest results", extra={"dropped": dropped})
        log.info("gateway probed", extra={"target": result.target, "hosts": result.hosts,
                                          "run_id": result.run_id})
        return finish(cred, outbox, http, result)


def next_delay(interval: float, jitter: float, rng: random.Random | None = None) -> float:
    """``interval`` ± ``jitter`` (a fraction), so a fleet does not report in lockstep."""
    r = rng or random
    return max(1.0, interval * (1 + r.uniform(-jitter, jitter)))


def run_forever(round_fn: Callable[[], RoundResult], *, interval: float | None, jitter: float,
                rounds: int | None = None, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run rounds on the schedule (the server's job interval unless ``interval``); returns
    how many ran. A first random delay spreads agents that start together."""
    done = 0
    sleep(next_delay(min(interval or 60, 60), 1.0) * jitter)
    while rounds is None or done < rounds:
        result = round_fn()
        done += 1
        if rounds is not None and done >= rounds:
            break
        sleep(next_delay(interval or result.interval_seconds, jitter))
    return done


def last_status(kind: str) -> dict[str, Any] | None:
    data = read_json(state_dir(kind) / "status.json")
    return data if isinstance(data, dict) else None
