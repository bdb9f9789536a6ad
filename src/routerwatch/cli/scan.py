"""`routerwatch scan`: find routers on your network, identify them, list what is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from routerwatch.cli.common import (
    FailOnOption,
    QuietOption,
    ReportFormat,
    TodayOption,
    VerboseOption,
    check_output,
    fail,
    gate,
    parse_fail_on_or_fail,
    parse_today,
)
from routerwatch.cli.readiness import (
    EXCEPTIONS_HELP,
    INVENTORY_HELP,
    PLAN_HELP,
    REGULATIONS_HELP,
    build_inputs,
)
from routerwatch.cli.upload import SiteOption, TokenOption, UploadOption

if TYPE_CHECKING:
    from routerwatch.creds.collect import CredentialOptions
    from routerwatch.scan.scanner import ScanOptions

SCAN_HELP = """Scan TARGETS for routers, identify them and report CVEs, botnet indicators and
exposure.

TARGETS are IP addresses, CIDRs (192.168.1.0/24), ranges (192.168.1.1-20 or
192.168.1.1-192.168.1.20) or @FILE (one target per line). Only scan networks you own or are
allowed to test. Public addresses are refused unless --allow-public. Probes are read-only: no
logins, no exploit payloads, no credential guessing. The one exception is yours: with
credentials stored by `routerwatch creds add`, each device they are bound to is logged into
once and read (read-only allowlisted calls; see docs/credentials.md).

More than 4096 addresses: the scan says how long it will take and needs --yes. Ctrl-C (or
SIGTERM) stops the scan cleanly: the hosts that finished are assessed and written, the report
marked partial, exit status 130. Exit status: 0 clean, 1 findings at or above --fail-on,
2 usage error, 3 runtime error, 130 interrupted (docs/cli.md).
"""

#: From this many addresses on, a scan needs --yes (it says how long it will take first).
LARGE_SCOPE = 4096


def scan(
    targets: list[str] = typer.Argument(
        None, help="IPs, CIDRs, ranges or @file.", show_default=False
    ),
    gateway: bool = typer.Option(False, "--gateway", help="Scan this machine's default gateway."),
    route_table: Path = typer.Option(
        Path("/proc/net/route"),
        "--route-table",
        help="Where --gateway reads the IPv4 route table (a saved copy works too).",
    ),
    exclude: list[str] = typer.Option([], "--exclude", "-x", help="Addresses/CIDRs to skip."),
    allow_public: bool = typer.Option(
        False, "--allow-public", help="Allow public (internet) addresses as targets."
    ),
    ports: str | None = typer.Option(
        None, "--ports", "-p", help="Comma-separated TCP ports (default: the router port set)."
    ),
    rate: float | None = typer.Option(
        None, "--rate", help="Global limit, connections per second (default 2000)."
    ),
    concurrency: int | None = typer.Option(
        None, "--concurrency", help="Hosts scanned at once (default 128)."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", help="Per-probe timeout, seconds (default 2)."
    ),
    host_timeout: float | None = typer.Option(
        None, "--host-timeout", help="Time budget per host, seconds (default 10)."
    ),
    snmp_community: str | None = typer.Option(
        None, "--snmp-community", help="Read sysDescr over SNMP with this community (yours)."
    ),
    discover: bool = typer.Option(
        False, "--discover", help="Also send multicast SSDP discovery on the local link."
    ),
    creds: bool | None = typer.Option(
        None, "--creds/--no-creds", help="Read the devices your stored credentials are bound to "
        "(`routerwatch creds`), once each, read-only. Default: when a store exists and opens "
        "without a prompt (keyring, or ROUTERWATCH_CREDS_PASSPHRASE).", show_default=False,
    ),
    creds_timeout: float = typer.Option(
        5.0, "--creds-timeout", help="Seconds per credentialed login/read step."
    ),
    known_key: Path | None = typer.Option(
        None, "--known-key", help="Your authorized_keys: SSH keys read from devices that are "
        "not in it are reported (as in audit-config)."
    ),
    dns_allow: str | None = typer.Option(
        None, "--dns-allow", help="Credentialed reads: comma-separated DNS servers or networks "
        "you use on purpose (as in audit-config)."
    ),
    isp_dns: str | None = typer.Option(
        None, "--isp-dns", help="Credentialed reads: your ISP's DNS servers, comma-separated "
        "(as in audit-config)."
    ),
    policy: str | None = typer.Option(
        None, "--policy", help="Vendor policy file (or a shipped example name)."
    ),
    inventory: Path | None = typer.Option(None, "--inventory", help=INVENTORY_HELP),
    exceptions: Path | None = typer.Option(None, "--exceptions", help=EXCEPTIONS_HELP),
    plan: Path | None = typer.Option(None, "--plan", help=PLAN_HELP),
    regulations: str | None = typer.Option(None, "--regulations", help=REGULATIONS_HELP),
    fmt: ReportFormat = typer.Option(
        ReportFormat("table"), "--format", "-f", help="Output format."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to this file or directory."
    ),
    db: str | None = typer.Option(None, "--db", help="Knowledge base URL."),
    fail_on: list[str] = FailOnOption,
    yes: bool = typer.Option(
        False, "--yes", "-y", help=f"Scan more than {LARGE_SCOPE} addresses without asking."
    ),
    quiet: bool = QuietOption,
    verbose: bool = VerboseOption,
    upload_url: str | None = UploadOption,
    site: str = SiteOption,
    token: str | None = TokenOption,
    today: str | None = TodayOption,
) -> None:
    # The help text is SCAN_HELP, set below.
    import time

    from routerwatch.cli.common import RichBar, detail, note, set_verbosity
    from routerwatch.scan.scope import ScopeError, default_gateway, parse_scope

    set_verbosity(quiet, verbose)
    thresholds = parse_fail_on_or_fail(fail_on)
    as_of = parse_today(today)
    given = list(targets or [])
    if gateway:
        try:
            route_text = route_table.read_text(errors="replace")[:1_000_000]
        except OSError as exc:
            fail(f"cannot read the route table {route_table}: {exc.strerror or exc}")
        gw = default_gateway(route_text)
        if gw is None:
            fail(f"no IPv4 default gateway in {route_table}")
        given.append(gw)
    if not given:
        fail("no targets: give IPs, CIDRs, ranges or @file, or --gateway (see --help)")
    try:
        scope = parse_scope(given, exclude=exclude, allow_public=allow_public)
    except ScopeError as exc:
        fail(str(exc))
    check_output(output, fmt.value)
    options = _options(ports, rate, concurrency, timeout, host_timeout, snmp_community, discover)
    estimate = _estimate(len(scope), options)
    if len(scope) > LARGE_SCOPE and not yes:
        fail(f"{len(scope)} addresses to scan, {estimate}: add --yes to go ahead (or narrow "
             "the targets)")
    detail(f"{len(scope)} addresses, {len(options.ports)} ports each: {estimate}")
    from routerwatch.cli.runtime import emit, kb_errors, load_engines_or_fail, load_policy_or_fail
    from routerwatch.pipeline import ScanInterrupted, run_scan

    pol = load_policy_or_fail(policy)
    readiness = build_inputs(inventory, exceptions, plan, regulations)
    engines = load_engines_or_fail(db)
    credentials = _credentials(creds, creds_timeout, known_key, dns_allow, isp_dns)

    bar = RichBar(enabled=not quiet)
    started = time.monotonic()
    interrupted: ScanInterrupted | None = None
    try:
        with kb_errors(), _sigterm_as_interrupt():
            report = run_scan(
                scope, engines, targets=given, options=options, policy=pol, progress=bar,
                kind="scan", today=as_of, readiness=readiness, credentials=credentials,
            )
    except ScanInterrupted as exc:
        interrupted, report = exc, exc.report
    finally:
        bar.finish()
    detail(f"scanned and assessed in {time.monotonic() - started:.1f} s")
    if not report.assessments and interrupted is None:
        note(f"no host answered: none of the {len(scope)} address(es) had an open port of the "
             "probed set or answered UPnP/SNMP (wrong range, host down or filtered)")
    emit(report, fmt.value, output)
    if interrupted is not None:
        from routerwatch.gate import EXIT_INTERRUPTED

        where = f" to {output}" if output is not None else ""
        fail(f"interrupted: the scan stopped; the {interrupted.finished} host(s) that finished "
             f"were written{where}, marked partial", EXIT_INTERRUPTED)
    if upload_url:
        from routerwatch.cli.upload import upload

        upload(report, upload_url, site, token)
    gate(report, thresholds)


scan.__doc__ = SCAN_HELP


def _credentials(
    wanted: bool | None,
    timeout: float,
    known_key: Path | None,
    dns_allow: str | None,
    isp_dns: str | None,
) -> CredentialOptions | None:
    """The stored credentials for this scan (None: none, or not wanted)."""
    import os

    from routerwatch.creds import CredentialError, CredentialStore
    from routerwatch.creds.collect import CredentialOptions
    from routerwatch.creds.store import PASSPHRASE_ENV, FileBackend

    if timeout <= 0:
        fail("--creds-timeout must be positive")
    from routerwatch.checks.config_audit import ConfigAuditError, _networks
    from routerwatch.cli.audit import _list

    allow, isp = tuple(_list(dns_allow)), tuple(_list(isp_dns))
    try:  # the same validation as audit-config, before any device is contacted
        _networks(allow, "--dns-allow")
        _networks(isp, "--isp-dns")
    except ConfigAuditError as exc:
        fail(str(exc))
    if wanted is False:
        return None
    keys: tuple[str, ...] = ()
    if known_key is not None:
        from routerwatch.cli.audit import _known_keys

        keys = tuple(_known_keys(known_key))
    try:
        store = CredentialStore.open()
        if wanted is None and (
            not store.exists()
            or (isinstance(store.backend, FileBackend) and not os.environ.get(PASSPHRASE_ENV))
        ):
            return None
        found = tuple(store.load())
    except CredentialError as exc:
        fail(f"--creds: {exc}")
    if not found:
        if wanted:
            fail("--creds: no credentials stored (see `routerwatch creds add --help`)")
        return None
    return CredentialOptions(creds=found, timeout=timeout, known_keys=keys, dns_allow=allow,
                             isp_dns=isp)  # fmt: skip


def _options(
    ports: str | None,
    rate: float | None,
    concurrency: int | None,
    timeout: float | None,
    host_timeout: float | None,
    snmp_community: str | None,
    discover: bool,
) -> ScanOptions:
    from routerwatch.scan.scanner import ScanOptions

    kwargs: dict[str, object] = {"snmp_community": snmp_community, "discover": discover}
    if ports:
        try:
            parsed = tuple(int(p) for p in ports.split(",") if p.strip())
        except ValueError:
            fail(f"--ports: not a comma-separated list of numbers: {ports!r}")
        if not parsed or any(not 0 < p < 65536 for p in parsed):
            fail(f"--ports: ports must be 1-65535: {ports!r}")
        kwargs["ports"] = parsed
    for flag, name, value, low in (
        ("--rate", "rate", rate, 0.1),
        ("--concurrency", "host_concurrency", concurrency, 1),
        ("--timeout", "probe_timeout", timeout, 0.05),
        ("--host-timeout", "host_timeout", host_timeout, 0.1),
    ):
        if value is not None:
            if value < low:
                fail(f"{flag} must be at least {low}")
            kwargs[name] = value
    return ScanOptions(**kwargs)  # type: ignore[arg-type]


def _estimate(hosts: int, options: ScanOptions) -> str:
    """How long a scan of ``hosts`` addresses takes: at least the rate limit's time for every
    connection, at most every host using its whole time budget."""
    low = hosts * len(options.ports) / options.rate
    rounds = -(-hosts // max(1, options.host_concurrency))
    high = max(low, rounds * options.host_timeout)
    return f"about {_duration(low)} to {_duration(high)}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the scan like Ctrl-C (the partial report is written), then is restored."""
    import os
    import signal

    def forward(signum: int, frame: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    try:
        previous = signal.signal(signal.SIGTERM, forward)
    except ValueError:  # not the main thread (in-process tests): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
