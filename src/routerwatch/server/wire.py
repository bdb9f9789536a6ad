"""The one place that knows the upload payload's shape: JSON in, an ``Upload`` out.

Everything else in the server works on ``Upload`` / ``HostRecord``. An upload is an envelope
around a routerwatch JSON report of any supported format, read strictly by the versioned
schema (``routerwatch.schema.decode_report``, which names the first bad field)::

    {"run_id": "…", "site": "hq", "kind": "scan", "complete": true,
     "observed_at": "2026-12-01T10:00:00Z", "kb_snapshot": null,
     "report": {"routerwatch": {"format": 1, …}, "hosts": [{…, "device_key": "mac:…"}]}}

``complete`` says the run covered the whole site, so devices it did not see count a miss
(a device is "gone" after ``gone_after_runs`` misses). A host's stable key is the schema's
``key`` (``routerwatch.schema.device_key``); a ``device_key`` in the host object overrides it;
without either the server derives one from MAC/serial evidence, else from site and address.
``run_id`` defaults to the report's own ``run_id``; ``kb_snapshot`` to its KB snapshot id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from routerwatch.models import DeviceIdentity, Indicator

KINDS = ("scan", "agent", "check")
MAX_HOSTS = 10_000
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_MAC = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$", re.I)


class WireError(ValueError):
    """The upload is not valid; the message names the first bad value."""


@dataclass(frozen=True)
class HostRecord:
    """One device as one run saw it."""

    device_key: str
    address: str | None
    identity: DeviceIdentity
    open_ports: tuple[int, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    policy: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Upload:
    """One run's result as the server ingests it."""

    run_id: str
    site: str
    kind: str
    complete: bool
    observed_at: datetime
    hosts: tuple[HostRecord, ...]
    kb_snapshot: str | None = None


def _text(data: dict[str, Any], key: str, default: str | None, limit: int = 200) -> str | None:
    value = data.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise WireError(f"{key}: expected a non-empty string of at most {limit} characters")
    return value.strip()


def parse_time(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise WireError(f"{path}: expected an ISO 8601 time string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WireError(f"{path}: not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def derive_key(identity: DeviceIdentity, site: str, address: str | None) -> str:
    """A device key from MAC or serial evidence, else ``addr:SITE/ADDRESS``."""
    for ev in identity.evidence:
        source = ev.source.lower()
        if "mac" in source and _MAC.match(ev.value.strip()):
            return "mac:" + ev.value.strip().lower().replace("-", ":")
        if "serial" in source and ev.value.strip():
            return "serial:" + ev.value.strip()[:150]
    return f"addr:{site}/{address or 'unknown'}"


def parse_upload(data: Any) -> Upload:
    """Validate an upload document (already JSON-decoded); raises WireError."""
    from routerwatch.schema import SchemaError, decode_report

    if not isinstance(data, dict):
        raise WireError("upload: expected a JSON object")
    raw = data.get("report")
    if not isinstance(raw, dict):
        raise WireError("report: expected a routerwatch JSON report object")
    default_run = raw.get("run_id") if isinstance(raw.get("run_id"), str) else None
    run_id = _text(data, "run_id", default_run, 100)
    if run_id is None or not _RUN_ID.match(run_id):
        raise WireError("run_id: expected 1-100 characters of A-Z a-z 0-9 . _ : -")
    site = _text(data, "site", "default") or "default"
    kind = _text(data, "kind", "scan") or "scan"
    if kind not in KINDS:
        raise WireError(f"kind: expected one of {'/'.join(KINDS)}, got {kind[:20]!r}")
    complete = data.get("complete", kind == "scan")
    if not isinstance(complete, bool):
        raise WireError("complete: expected true or false")
    hosts_raw = raw.get("hosts")
    if isinstance(hosts_raw, list) and len(hosts_raw) > MAX_HOSTS:
        raise WireError(f"report.hosts: more than {MAX_HOSTS} hosts in one upload")
    try:
        report = decode_report(raw)
    except SchemaError as exc:
        raise WireError(f"report.{exc}") from None
    observed = data.get("observed_at", report.generated or None)
    observed_at = parse_time(observed, "observed_at") if observed else datetime.now(UTC)
    hosts = []
    seen: set[str] = set()
    assert isinstance(hosts_raw, list)
    for i, (a, host) in enumerate(zip(report.assessments, hosts_raw, strict=True)):
        key = host.get("device_key", a.key)
        if key is None:
            key = derive_key(a.identity, site, a.address)
        elif not isinstance(key, str) or not _KEY.match(key):
            raise WireError(f"report.hosts[{i}].device_key: expected 1-200 printable characters")
        if key in seen:
            raise WireError(f"report.hosts[{i}].device_key: {key[:60]!r} appears twice")
        seen.add(key)
        hosts.append(HostRecord(
            device_key=key,
            address=a.address,
            identity=a.identity,
            open_ports=tuple(sorted(set(a.open_ports))),
            indicators=a.indicators,
            policy=a.policy,
            data=host,
        ))
    return Upload(
        run_id=run_id, site=site, kind=kind, complete=complete, observed_at=observed_at,
        hosts=tuple(hosts), kb_snapshot=_text(
            data, "kb_snapshot", report.kb_snapshot.id if report.kb_snapshot else None, 100),
    )


def make_upload(report_dict: dict[str, Any], *, run_id: str, site: str = "default",
                kind: str = "scan", complete: bool | None = None) -> dict[str, Any]:
    """The upload document for a report (what ``scan --upload`` sends)."""
    doc: dict[str, Any] = {"run_id": run_id, "site": site, "kind": kind, "report": report_dict}
    if complete is not None:
        doc["complete"] = complete
    return doc
