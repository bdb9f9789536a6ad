"""`scan --upload URL`: send the finished scan to a fleet server (routerwatch serve)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from routerwatch.cli.common import console, fail

if TYPE_CHECKING:
    from routerwatch.models import Report

UploadOption = typer.Option(None, "--upload", help="Also send the scan to this fleet server "
                            "(routerwatch serve), e.g. https://fleet.example.com.")
SiteOption = typer.Option("default", "--site", help="Site name for --upload.")
TokenOption = typer.Option(None, "--token", help="API token for --upload (operator role); "
                           "default $ROUTERWATCH_TOKEN.")


def upload(report: Report, url: str, site: str, token: str | None) -> None:
    """Send ``report`` to the server at ``url``; one error line when that fails."""
    from routerwatch.report import to_dict
    from routerwatch.server.client import UploadError, upload_report

    token = token or os.environ.get("ROUTERWATCH_TOKEN")
    if not token:
        fail("--upload needs a token: --token or $ROUTERWATCH_TOKEN")
    if not url.startswith(("http://", "https://")):
        fail(f"--upload: expected an http(s):// URL, got {url!r}")
    try:
        answer = upload_report(to_dict(report), url, token, site=site)
    except UploadError as exc:
        fail(str(exc))
    state = "already there" if answer.get("duplicate") else "stored"
    console.print(f"uploaded run {answer.get('run_id')} to {url} ({state}: "
                  f"{answer.get('devices')} devices, {answer.get('events')} events)")
