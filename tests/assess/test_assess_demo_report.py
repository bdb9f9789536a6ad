"""Proof for #14: a report of the demo (real lab on 127.7.20.0/24, this helper's range) names
campaigns on findings and indicators and carries the ban-readiness section built from the
imported example inventory, in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.report import from_dict


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("demo")
    out = tmp / "report"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "-o",
            str(out),
            "--base",
            "127.7.20.0",
            "--db",
            f"sqlite:///{tmp / 'kb.db'}",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_json_names_campaigns_and_carries_readiness(demo: tuple[Path, str]) -> None:
    out, _ = demo
    report = from_dict(json.loads((out / "routerwatch-report.json").read_text()))
    exploited = {c for a in report.assessments for f in a.findings for c in f.exploited_by}
    assert {"Ballista", "WrtHug"} <= exploited
    campaigns = {i.campaign for a in report.assessments for i in a.indicators if i.campaign}
    assert "WrtHug" in campaigns and "CovertNetwork-1658 / Quad7" in campaigns
    by_model = {a.identity.model: a for a in report.assessments if a.identity.model}
    wr841 = by_model["TL-WR841N"]
    assert dict(wr841.extra)["country_of_production"] == "CN"  # imported, not scanned
    statuses = {(r.policy, r.status) for r in wr841.readiness}
    assert ("us-fcc-covered-list-2026", "affected") in statuses
    assert ("us-texas-prohibited-2026", "affected") in statuses
    assert wr841.replacement is not None and wr841.replacement.cost == 149.0
    excepted = [r for r in by_model["RT-AX88U"].readiness if r.status == "excepted"]
    assert excepted and "CISO (example)" in excepted[0].exception


def test_every_format_has_the_section(demo: tuple[Path, str]) -> None:
    out, printed = demo
    assert "Ban readiness" in printed  # the terminal table
    html = (out / "routerwatch-report.html").read_text()
    assert 'id="ban-readiness"' in html and "exploited by" in html and "made in CN" in html
    csv_text = (out / "routerwatch-report.csv").read_text()
    assert "us-fcc-covered-list-2026/fcc-foreign-consumer-routers,affected" in csv_text
    assert any(line.startswith("readiness,") for line in csv_text.splitlines())
    assert "country_of_production=CN" in csv_text
    sarif = json.loads((out / "routerwatch-report.sarif").read_text())
    ready = sarif["runs"][0]["properties"]["banReadiness"]
    assert ready["summary"]["devices_to_replace"] >= 5 and ready["items"]
    cdx = json.loads((out / "routerwatch-report.cdx.json").read_text())
    meta = {p["name"]: p["value"] for p in cdx["metadata"]["properties"]}
    assert meta["routerwatch:readiness:planned_cost:USD"] == "447"
