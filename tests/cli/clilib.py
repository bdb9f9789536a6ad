"""Helpers of the CLI tests (issue 18)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from routerwatch.cli.main import app

ROOT = Path(__file__).parents[2]
CONFIGS = ROOT / "tests" / "fixtures" / "configs"


def invoke(*args: str) -> tuple[int, str, str]:
    """Run `routerwatch ARGS` in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr
