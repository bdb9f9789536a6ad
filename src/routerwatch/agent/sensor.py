"""Sensor rounds: pull the site's scan jobs, run the due ones inside the local scope, upload.

The sensor's own config (``sensor.json``: ``scope``) is the allowance: a job runs only when
every address it names lies inside it. The server can narrow a scan, or aim it anywhere within
that allowance, but never beyond: a job reaching outside is refused whole (nothing of it is
scanned) and the refusal is logged and shown in the status. The scan itself then runs under
the scanner's scope guard with exactly the job's addresses.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from routerwatch.agent.config import Credential, state_dir
from routerwatch.agent.outbox import Outbox
from routerwatch.agent.runner import (
    RoundResult,
    finish,
    pull_jobs,
    read_json,
    scan_options,
    write_json,
)
from routerwatch.agent.transport import http_client
from routerwatch.scan.scope import Scope, ScopeError, parse_scope

if TYPE_CHECKING:
    from routerwatch.pipeline import Engines
    from routerwatch.scan.scanner import ScanOptions

log = logging.getLogger("routerwatch.sensor")


class OutsideScope(ScopeError):
    """A job names addresses beyond the sensor's local scope."""


def local_scope(cred: Credential) -> Scope:
    if not cred.scope:
        raise ScopeError("the sensor has no local scope: set it with `routerwatch sensor "
                         "enroll ... --scope CIDR` (the server can only scan within it)")
    return parse_scope(cred.scope, allow_public=cred.allow_public)


def job_scope(job: dict[str, Any], local: Scope, allow_public: bool = False) -> Scope:
    """The scope of one job, only when it lies within the local scope (OutsideScope else)."""
    name = f"job {job.get('id')} ({job.get('name')!r})"
    targets = [str(x) for x in job.get("targets") or []]
    try:
        wanted = parse_scope(targets, allow_public=allow_public)
    except ScopeError as exc:
        raise OutsideScope(f"{name}: {exc}") from None
    outside = wanted.ipset - local.ipset
    if outside:
        first = outside.iter_cidrs()[0]
        raise OutsideScope(f"{name}: {first.ip if first.size == 1 else first} is outside this "
                           f"sensor's local scope ({', '.join(local.targets)})")
    return wanted


@dataclass
class SensorResult(RoundResult):
    jobs: list[dict[str, Any]] = field(default_factory=list)  # what ran / would run


def due(job: dict[str, Any], last: dict[str, float], moment: float) -> bool:
    return moment - last.get(str(job.get("id")), 0.0) >= float(job.get("interval_seconds") or 0)


def run_once(cred: Credential, engines: Engines | None, *, force: bool = False,
             dry_run: bool = False, options: ScanOptions | None = None) -> SensorResult:
    """One sensor round: the due jobs (every job with ``force``)."""
    from routerwatch.pipeline import run_scan
    from routerwatch.report import to_dict

    result = SensorResult(at=datetime.now(UTC).isoformat(timespec="seconds"))
    local = local_scope(cred)
    state_path = state_dir(cred.kind) / "last_runs.json"
    last: dict[str, float] = read_json(state_path) or {}
    with http_client(cred.url, cred.ca_cert, cred.token) as http, \
            Outbox(state_dir(cred.kind) / "outbox.db", cred.max_queue) as outbox:
        answer = pull_jobs(cred, http, result)
        jobs = [j for j in (answer or {}).get("jobs") or [] if isinstance(j, dict)]
        intervals = [int(j.get("interval_seconds") or 3600) for j in jobs]
        result.interval_seconds = min(intervals) if intervals else 300
        for job in jobs:
            moment = time.time()
            if not force and not due(job, last, moment):
                continue
            try:
                scope = job_scope(job, local, cred.allow_public)
            except OutsideScope as exc:
                result.refused.append(str(exc))
                log.warning("refused a job outside the local scope", extra={"error": str(exc)})
                continue
            entry = {"id": job.get("id"), "name": job.get("name"), "hosts": len(scope),
                     "targets": job.get("targets"), "ports": job.get("ports")}
            result.jobs.append(entry)
            if dry_run:
                continue
            assert engines is not None
            report = run_scan(scope, engines, targets=list(job.get("targets") or []),
                              options=scan_options(job.get("ports"), options), kind="scan")
            run_id = f"sensor{cred.agent_id}-j{job.get('id')}-{report.run_id}"
            entry["run_id"], entry["found"] = run_id, len(report.assessments)
            result.hosts += len(report.assessments)
            result.probed = True
            outbox.put(run_id, {"report": to_dict(report), "site": cred.site, "kind": "scan",
                                "complete": bool(job.get("complete"))})
            last[str(job.get("id"))] = moment
            write_json(state_path, last)
            log.info("job scanned", extra={"job": job.get("id"), "hosts": len(report.assessments),
                                           "run_id": run_id})
        if dry_run:
            return result
        finished = finish(cred, outbox, http, result)
        assert isinstance(finished, SensorResult)
        return finished
