"""Run the credentialed collectors for the scanned devices: once per device and credential.

For each observed host the credentials bound to it (address, device key, or a site network)
are picked (one per protocol, a device binding before a site binding); the scope guard must
allow the address, then each collector logs in exactly once. Every failure becomes a note on
that device; the other devices and protocols go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from routerwatch.creds.collectors.interface import CollectError, Collector, Facts
from routerwatch.creds.model import Credential, pick
from routerwatch.models import DeviceIdentity, Indicator
from routerwatch.scan.guard import Guard
from routerwatch.scan.scope import OutOfScope, Scope

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 16

# pynetgear and asusrouter log failed calls at ERROR; with no logging configured Python's
# last-resort handler would print those raw lines into the scan's output. The failure is the
# device's note; the records still reach any handler a caller sets up (tests capture them).
for _name in ("pynetgear", "asusrouter", "tplinkrouterc6u"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


def collectors() -> dict[str, type[Collector]]:
    from routerwatch.creds.collectors.asus import AsusCollector
    from routerwatch.creds.collectors.netgear import NetgearCollector
    from routerwatch.creds.collectors.routeros import RouterOsCollector
    from routerwatch.creds.collectors.snmpv3 import Snmpv3Collector
    from routerwatch.creds.collectors.ssh import SshCollector
    from routerwatch.creds.collectors.tplink import TplinkCollector
    from routerwatch.creds.collectors.tr064 import Tr064Collector

    return {"ssh": SshCollector, "snmpv3": Snmpv3Collector, "routeros": RouterOsCollector,
            "tr064": Tr064Collector, "http-tplink": TplinkCollector,
            "http-netgear": NetgearCollector, "http-asus": AsusCollector}


@dataclass
class DeviceReads:
    """The credentialed reads of one device: what was learned, what failed, what was tried."""

    address: str
    facts: list[Facts] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (credential name, kind)


class _Redact(logging.Filter):
    """Drops log records that would carry a secret (a library logging at DEBUG)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return False
        return not any(s in text for s in self.secrets)


async def _one(
    kind: str, cred: Credential, address: str, guard: Guard, hint: DeviceIdentity,
    timeout: float, reads: DeviceReads,
) -> None:  # fmt: skip
    reads.attempts.append((cred.name, kind))
    collector = collectors()[kind]()
    try:
        facts = await collector.collect(address, cred, guard, hint=hint, timeout=timeout)
    except CollectError as exc:
        reads.notes.append(f"credentialed read ({cred.name}, {exc.kind}): {exc}")
        return
    except OutOfScope as exc:
        reads.notes.append(f"credentialed read ({cred.name}): refused by the scope guard: {exc}")
        return
    except Exception as exc:  # a device answering nonsense must not end the scan
        reads.notes.append(
            f"credentialed read ({cred.name}, protocol): unexpected {type(exc).__name__}"
        )
        return
    reads.facts.append(facts)


async def collect_async(
    scope: Scope,
    creds: Sequence[Credential],
    devices: Mapping[str, tuple[DeviceIdentity, tuple[str, ...]]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    rate: float = 200.0,
    concurrency: int = DEFAULT_CONCURRENCY,
    guard: Guard | None = None,
) -> dict[str, DeviceReads]:
    """Reads for every device ``address -> (unauthenticated identity, device keys)``."""
    guard = guard or Guard(scope, rate=rate)
    out: dict[str, DeviceReads] = {}
    limit = asyncio.Semaphore(concurrency)
    secrets = [s for c in creds for s in c.secrets()]
    redact = _Redact(secrets)
    # filters act only on records logged on that very logger: cover the libraries' children
    prefixes = ("asyncssh", "librouteros", "fritzconnection", "pysnmp", "urllib3", "requests",
                "tplinkrouterc6u", "pynetgear", "asusrouter", "aiohttp")
    names = {n for n in logging.root.manager.loggerDict if n.split(".")[0] in prefixes}
    loggers = [logging.getLogger(n) for n in sorted(names | set(prefixes))]
    for lg in loggers:
        lg.addFilter(redact)

    async def run(kind: str, cred: Credential, address: str, hint: DeviceIdentity) -> None:
        async with limit:
            await _one(kind, cred, address, guard, hint, timeout, out[address])

    try:
        async with asyncio.TaskGroup() as group:
            for address, (hint, keys) in devices.items():
                bound = pick(list(creds), address, keys)
                if not bound:
                    continue
                out[address] = DeviceReads(address)
                try:
                    guard.check(address)
                except OutOfScope as exc:
                    out[address].notes.append(
                        f"credentials not sent: refused by the scope guard: {exc}"
                    )
                    continue
                for cred in bound:
                    group.create_task(run(cred.kind, cred, address, hint))
    finally:
        for lg in loggers:
            lg.removeFilter(redact)
    return out


def collect(
    scope: Scope,
    creds: Sequence[Credential],
    devices: Mapping[str, tuple[DeviceIdentity, tuple[str, ...]]],
    **kwargs: float | int,
) -> dict[str, DeviceReads]:
    """Blocking wrapper of :func:`collect_async`."""
    return asyncio.run(collect_async(scope, creds, devices, **kwargs))  # type: ignore[arg-type]


@dataclass(frozen=True)
class CredentialOptions:
    """What a scan needs to read devices with credentials (``run_scan(credentials=...)``)."""

    creds: tuple[Credential, ...]
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    # the same inputs as audit-config for the config facts read from the devices
    dns_allow: tuple[str, ...] = ()
    isp_dns: tuple[str, ...] = ()
    known_keys: tuple[str, ...] = ()


def audit_reads(
    reads: DeviceReads, options: CredentialOptions
) -> tuple[list[Indicator], list[str]]:
    """The config facts of a device's reads through the audit-config checks (same rules, same
    parser): (indicators, notes)."""
    from routerwatch.checks.config_audit import audit_parsed
    from routerwatch.checks.config_parse import ConfigAuditError, ParsedConfig, Setting, parse_text

    indicators: list[Indicator] = []
    notes: list[str] = []
    for facts in reads.facts:
        settings = [Setting(k, v) for k, v in facts.settings]
        records: tuple = ()
        name = f"{reads.address} ({facts.source})"
        if facts.config_text:
            try:
                parsed = parse_text(facts.config_text, name)
                settings.extend(parsed.settings)
                records = parsed.records
            except ConfigAuditError as exc:
                notes.append(f"config read {facts.source}: {exc}")
        if not settings and not records:
            continue
        try:
            audit = audit_parsed(
                ParsedConfig(name=name, format="text", settings=tuple(settings), records=records),
                dns_allow=options.dns_allow, isp_dns=options.isp_dns,
                known_keys=options.known_keys,
            )  # fmt: skip
        except ConfigAuditError as exc:
            notes.append(str(exc))
            continue
        indicators.extend(audit.indicators)
        notes.extend(f"{facts.source}: {n}" for n in audit.notes)
    return indicators, notes
