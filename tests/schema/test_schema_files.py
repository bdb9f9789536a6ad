"""The published JSON Schemas match the code; every format version's fixture reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from routerwatch.models import Report
from routerwatch.report import from_dict, render
from routerwatch.schema import FORMAT, UPGRADES, read_document
from routerwatch.schema.jsonschema import DOCUMENTS, text

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs" / "schema"
FIXTURES = ROOT / "tests" / "fixtures" / "schema"


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_published_schema_is_what_the_code_generates(name: str) -> None:
    path = DOCS / f"{name}.schema.json"
    assert path.read_text() == text(name), (
        f"{path} is out of date: run `.venv/bin/python -m routerwatch.schema write`"
    )
    Draft202012Validator.check_schema(json.loads(path.read_text()))


def _current_fixture() -> Path:
    return FIXTURES / f"report-v{FORMAT}.json"


@pytest.mark.parametrize("version", [*sorted(UPGRADES), FORMAT])
def test_a_report_of_every_format_version_reads(version: int) -> None:
    """A report written by format N is read by N+1 and later (one fixture per version)."""
    path = FIXTURES / f"report-v{version}.json"
    assert path.exists(), f"no fixture for format {version}: add {path}"
    report = read_document(path.read_bytes())
    assert isinstance(report, Report) and report.assessments
    # read back through the current format, it stays the same
    assert from_dict(render(report, "json")) == report


def test_the_current_fixture_validates_against_the_published_schema() -> None:
    schema = json.loads((DOCS / "report.schema.json").read_text())
    Draft202012Validator(schema).validate(json.loads(_current_fixture().read_text()))


def test_format_1_upgrade_keeps_everything() -> None:
    old = read_document((FIXTURES / "report-v1.json").read_bytes())
    new = read_document(_current_fixture().read_bytes())
    assert isinstance(old, Report) and isinstance(new, Report)
    # the v2 fixture is the v1 report plus the fields format 2 added
    assert [a.identity for a in old.assessments] == [a.identity for a in new.assessments]
    assert [a.findings for a in old.assessments] == [a.findings for a in new.assessments]
    assert old.assessments[0].identity.evidence[0].fields == (("model", "TL-WR841N"),)


def test_legacy_check_json_reads_as_a_check_report() -> None:
    report = read_document((FIXTURES / "check-legacy.json").read_bytes())
    assert isinstance(report, Report) and report.kind == "check"
    (a,) = report.assessments
    assert a.identity.model == "Archer AX21" and a.findings[0].cve == "CVE-2023-1389"
