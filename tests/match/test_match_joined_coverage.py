"""Why a finding joined and whether the KB covers a device, as the reports show them
(`check` end to end on a real temporary SQLite KB with the starter bundle)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('kb') / 'kb.db'}"


def _check(db: str, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["check", *args, "--db", db, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _host(data: dict[str, object]) -> dict[str, object]:
    hosts = data["hosts"]
    assert isinstance(hosts, list) and len(hosts) == 1
    host: dict[str, object] = hosts[0]
    return host


def test_alias_join_is_explained(db: str) -> None:
    # CVE-2020-10882: NVD files the Archer A7 as tp-link:ac1750 (an aliases.yaml rule)
    host = _host(_check(db, "TP-Link Archer A7", "--firmware", "190726"))
    f = next(f for f in host["findings"] if f["cve"] == "CVE-2020-10882")  # type: ignore[attr-defined]
    assert f["joined"].startswith("device 'Archer A7' -> model key archera7")
    assert "NVD o:ac1750_firmware -> archera7 (alias rule in aliases.yaml)" in f["joined"]
    assert host["coverage"] == {
        "level": "yes", "key": "archera7", "sources": ["kev", "nvd"],
        "note": "covered: the knowledge base names TP-Link Archer A7 "
                "(model key archera7; kev, nvd)"}


def test_revision_and_kev_joins_are_explained(db: str) -> None:
    host = _host(_check(db, "--vendor", "ASUS", "--model", "RT-AX56U", "--hardware", "2",
                        "--firmware", "3.0.0.4.386_50460"))
    f = next(f for f in host["findings"] if f["cve"] == "CVE-2023-35086")  # type: ignore[attr-defined]
    assert f["status"] == "affected" and f["source"] == "cve5"
    assert "CVE 5 CNA product 'RT-AX56U V2' -> rtax56u (revision 2 in the name)" in f["joined"]
    host = _host(_check(db, "MikroTik RB750Gr3", "--firmware", "6.40.5"))
    f = next(f for f in host["findings"] if f["cve"] == "CVE-2018-14847")  # type: ignore[attr-defined]
    assert "KEV product 'RouterOS' names family 'RouterOS'" in f["joined"]
    cov = host["coverage"]
    # RouterOS is a vendor-wide OS family in NVD (aliases.yaml): NVD data decides versions
    assert isinstance(cov, dict) and cov["level"] == "yes" and cov["sources"] == ["kev", "nvd"]
    # a model only KEV's family word names: partly
    host = _host(_check(db, "--vendor", "DrayTek", "--model", "Vigor2927"))
    cov = host["coverage"]
    assert isinstance(cov, dict) and cov["level"] == "partly" and cov["sources"] == ["kev"]
    assert "only CISA KEV names it" in cov["note"]


def test_not_covered_device_says_so(db: str, tmp_path: Path) -> None:
    host = _host(_check(db, "--vendor", "Teltonika", "--model", "RUT955"))
    cov = host["coverage"]
    assert isinstance(cov, dict) and cov["level"] == "no" and cov["sources"] == []
    assert "not covered by this knowledge base" in cov["note"]
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["check", "--vendor", "Teltonika", "--model", "RUT955",
                                      "--db", db, "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    html = out.read_text()
    assert "KB coverage" in html and "Not covered by this knowledge base" in html
    assert "No known vulnerability applies" not in html


def test_html_shows_the_join(db: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["check", "D-Link DIR-850L B1", "--firmware", "2.07",
                                      "--db", db, "--format", "html", "-o", str(out)])
    assert result.exit_code in (0, 1), result.stderr
    html = out.read_text()
    assert "CVE-2016-5681" in html
    assert "joined: device &#39;DIR-850L&#39; -&gt; model key dir850l, hardware b1" in html
    assert "dir-850l_firmare -&gt; dir850l (alias rule in aliases.yaml)" in html


def test_table_says_not_covered_instead_of_none_known(db: str, tmp_path: Path) -> None:
    rows = tmp_path / "assets.csv"
    rows.write_text("vendor,model,firmware\nTeltonika,RUT955,7.0\nTP-Link,Archer A7,190726\n")
    result = CliRunner().invoke(app, ["check", "--inventory", str(rows), "--db", db],
                                env={"COLUMNS": "160"})
    assert result.exit_code in (0, 1), result.stderr
    line = next(ln for ln in result.stdout.splitlines() if "RUT955" in ln)
    assert "not covered" in line and "none known" not in line
    assert "not covered by the KB 1" in " ".join(result.stdout.split())  # the headline count
    out = tmp_path / "r.json"
    CliRunner().invoke(app, ["check", "--inventory", str(rows), "--db", db, "-f", "json",
                             "-o", str(out)])
    assert json.loads(out.read_text())["summary"]["not_covered"] == 1
