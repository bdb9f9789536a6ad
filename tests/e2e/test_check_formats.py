"""`routerwatch check` writes every report format (issue 5: scan, check and demo do)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app

DEVICE = ["TP-Link Archer AX21 v3", "--firmware", "1.1.2 Build 20220714 rel.46227"]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('kb') / 'kb.db'}"


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [
        ("html", "<html"),
        ("csv", "CVE-2023-1389"),
        ("sarif", '"version": "2.1.0"'),
        ("cyclonedx", '"specVersion": "1.6"'),
        ("json", '"findings"'),
    ],
)
def test_check_writes_format(db: str, tmp_path: Path, fmt: str, marker: str) -> None:
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(app, ["check", *DEVICE, "--db", db, "-f", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert marker in text
    if fmt in ("html", "csv", "sarif", "cyclonedx"):
        assert "CVE-2023-1389" in text


def test_check_json_shape_on_stdout(db: str) -> None:
    result = CliRunner().invoke(app, ["check", *DEVICE, "--db", db, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    first = data["hosts"][0]["findings"][0]
    assert first["cve"] == "CVE-2023-1389" and first["status"] == "affected" and first["kev"]
    for key in ("epss", "cvss", "fixed_in", "reason"):
        assert key in first


def test_check_unknown_vendor_exits_zero_without_findings(db: str) -> None:
    result = CliRunner().invoke(
        app, ["check", "--vendor", "Nosuchvendor", "--model", "X1", "--db", db, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["hosts"][0]["findings"] == []
    # an uncovered vendor is said to be not covered, never "no known CVEs"
    assert any("not covered by this knowledge base" in w and "Nosuchvendor" in w
               for w in data["warnings"])


def test_check_json_reads_back_with_report(db: str, tmp_path: Path) -> None:
    """`check -f json` writes the report document that `report` re-renders."""
    out = tmp_path / "check.json"
    result = CliRunner().invoke(app, ["check", *DEVICE, "--db", db, "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(app, ["report", str(out), "-f", "csv"])
    assert again.exit_code == 0, again.output
    assert "CVE-2023-1389" in again.stdout
