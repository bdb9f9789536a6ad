"""`routerwatch assess DATASET…`: assess scan datasets (ZGrab2, masscan, nmap, Shodan, Censys)
in bulk, locally or on a Dask cluster, into Parquet tables and a summary report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from routerwatch.cli.common import (
    RUNTIME,
    FailOnOption,
    QuietOption,
    VerboseOption,
    console,
    fail,
    note,
    parse_fail_on_or_fail,
    set_verbosity,
    warn,
)


def assess(
    datasets: list[Path] = typer.Argument(
        ...,
        metavar="DATASET...",
        help="Scan data files: ZGrab2/Shodan/Censys JSON lines, masscan -oL/-oJ, nmap XML "
        "(gzip or zstd compressed files are read as they are).",
    ),
    output: Path = typer.Option(
        Path("routerwatch-bulk"),
        "--output",
        "-o",
        help="Directory for the Parquet tables (devices/, findings/, indicators/), "
        "summary.json and the summary report; also holds the resume state (_state/).",
    ),
    input_format: str | None = typer.Option(
        None,
        "--input-format",
        help="Format of every DATASET (zgrab2, masscan-list, masscan-json, nmap, shodan, "
        "censys); default: detected per file from its first bytes.",
    ),
    fmt: str = typer.Option(
        "table", "--format", "-f", help="Summary format: table, json, csv or html."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Address of an existing Dask scheduler (tcp://host:8786). Its workers must see "
        "--output and the datasets at the same paths, and the knowledge base (--kb-bundle, or a "
        "--db URL they can reach).",
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        help="Worker processes of the local Dask cluster (default: one per core).",
    ),
    single_process: bool = typer.Option(
        False, "--single-process", help="No Dask: run every task in this process."
    ),
    partitions: int | None = typer.Option(
        None,
        "--partitions",
        min=1,
        max=4096,
        help="Number of partitions (default: one per 16 MiB of input, gzip/zstd counted 8x; at "
        "least 8 per worker).",
    ),
    partition_by: str = typer.Option(
        "vendor", "--partition-by", help="Parquet partition column: vendor or country."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Knowledge base URL (default: $ROUTERWATCH_DB or the local SQLite KB)."
    ),
    kb_bundle: Path | None = typer.Option(
        None,
        "--kb-bundle",
        help="Build each worker's knowledge base from this bundle (kb export) instead of --db.",
    ),
    policy: str | None = typer.Option(
        None, "--policy", help="Vendor policy (a shipped example name or a file)."
    ),
    restart: bool = typer.Option(
        False, "--restart", help="Discard an earlier (unfinished) run in --output and start over."
    ),
    fail_on: list[str] = FailOnOption,
    quiet: bool = QuietOption,
    verbose: bool = VerboseOption,
) -> None:
    """Assess scan datasets in bulk: read (streaming), identify routers, match CVEs, run the
    compromise/exposure checks and assess every host, on a local Dask cluster (default), an
    existing one (--scheduler) or in this process (--single-process).

    Writes Parquet tables partitioned by vendor (or country) and a summary (counts per
    vendor/model/firmware, KEV exposure, indicator hits, top CVEs). A run that stops (crash,
    Ctrl-C) resumes where it was when started again with the same arguments.

    Exit status: 0 clean, 1 findings at or above --fail-on (policy is not counted in bulk),
    2 usage error, 3 runtime error, 130 interrupted (docs/cli.md).
    """
    from routerwatch.bulk.io import DatasetError
    from routerwatch.bulk.render import FORMATS, print_summary, render
    from routerwatch.bulk.run import BulkOptions, run_bulk
    from routerwatch.bulk.service import prepare_kb
    from routerwatch.cli.common import RichBar

    set_verbosity(quiet, verbose)
    thresholds = parse_fail_on_or_fail(fail_on)
    if "policy" in thresholds:
        fail("--fail-on policy: bulk assessments do not count policy violations; use kev, "
             "compromised or a severity")
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    if scheduler and single_process:
        fail("--scheduler and --single-process exclude each other")
    if output.exists() and not output.is_dir():
        fail(f"--output {output} exists and is not a directory")
    try:
        from routerwatch.fingerprint.nuclei import check_env

        check_env()  # a bad ROUTERWATCH_NUCLEI_TEMPLATES (RuleError): one line, before any work
        source, kb_note = prepare_kb(db, kb_bundle, policy)
    except (DatasetError, ValueError) as exc:
        fail(str(exc))
    if kb_note:
        warn(kb_note)
    options = BulkOptions(
        inputs=[str(d) for d in datasets],
        output=output,
        kb=source,
        input_format=input_format,
        partitions=partitions,
        partition_by=partition_by,
        restart=restart,
    )
    executor = None
    try:
        if not single_process:
            from routerwatch.bulk.executor import DaskExecutor

            try:
                executor = DaskExecutor(scheduler=scheduler, workers=workers)
            except (OSError, TimeoutError) as exc:
                fail(f"cannot reach the Dask scheduler {scheduler or '(local)'}: {exc}", RUNTIME)
        bar = RichBar(enabled=not quiet)
        try:
            result = run_bulk(options, executor, bar)
        except DatasetError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail(f"interrupted: run the same command again to resume from {output}/_state", 130)
        except Exception as exc:
            fail(
                f"a bulk task failed ({type(exc).__name__}: {str(exc)[:300]}); finished "
                f"partitions are kept in {output}/_state: run again to resume", RUNTIME
            )
        finally:
            bar.finish()
    finally:
        if executor is not None:
            executor.close()
    if result.read.malformed:
        warn(
            f"{result.read.malformed} malformed line(s) skipped; first: "
            + "; ".join(result.read.errors[:3])
        )
    if fmt == "table":
        print_summary(result, console)
    else:
        text = render(result, fmt)
        from routerwatch import outputs

        path = output / f"summary.{fmt}"
        try:
            outputs.write_text(path, text)
        except outputs.OutputError as exc:
            fail(str(exc), RUNTIME)
        note(f"wrote {fmt} summary to {path}")
    note(
        f"assessed {result.summary.hosts:,} hosts from {result.read.records:,} records in "
        f"{result.elapsed:.1f} s; Parquet tables in {output}/"
    )
    _gate(result.summary, thresholds)


def _gate(summary: Any, thresholds: tuple[str, ...]) -> None:
    """``--fail-on`` over the bulk summary (affected findings per severity, KEV, compromised)."""
    if not thresholds:
        return
    from collections import Counter

    from routerwatch.cli.common import err_console
    from routerwatch.gate import EXIT_FINDINGS, Facts, failures
    from routerwatch.report.summary import severity_of

    affected: Counter[str] = Counter()
    for cve, devices in summary.counters.get("affected_by_cve", {}).items():
        affected[severity_of((summary.cves.get(cve) or {}).get("severity"))] += devices
    facts = Facts(affected=affected, kev=summary.kev_exposed, compromised=summary.compromised)
    reasons = failures(facts, thresholds)
    if reasons:
        err_console.print(f"fail-on: {'; '.join(reasons)}", highlight=False, markup=False)
        raise typer.Exit(EXIT_FINDINGS)
