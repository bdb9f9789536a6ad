"""`routerwatch check` end to end: a real temporary SQLite KB (starter bundle), CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app

FW_OLD = "1.1.2 Build 20220714 rel.46227"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite KB for the module; the first check imports the starter bundle into it."""
    return f"sqlite:///{tmp_path_factory.mktemp('kb') / 'kb.db'}"


def findings(out: str) -> list[dict[str, object]]:
    """The findings of the one device of a `check --format json` report."""
    (host,) = json.loads(out)["hosts"]
    found: list[dict[str, object]] = host["findings"]
    return found


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_text_form_json(db: str) -> None:
    code, out, err = run("TP-Link Archer AX21 v3", "--firmware", FW_OLD, "--db", db,
                         "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["routerwatch"]["document"] == "report" and data["kind"] == "check"
    (host,) = data["hosts"]
    device = host["identity"]
    assert device["vendor"] == "TP-Link" and device["model"] == "Archer AX21"
    assert device["hardware"] == "3" and device["firmware"] == FW_OLD
    first = host["findings"][0]
    assert first["cve"] == "CVE-2023-1389" and first["status"] == "affected"
    assert first["kev"] is True and first["fixed_in"] == "1.1.4"
    assert isinstance(first["epss"], float) and isinstance(first["cvss"], float)
    assert "versionEndExcluding" in first["reason"]
    assert {f["status"] for f in host["findings"]} <= {"affected", "possible"}
    assert host["key"].startswith("description:") and host["risk_level"] in ("high", "critical")
    assert not any("does not guess" in w for w in data["warnings"])
    assert "days old" in err  # the starter bundle is older than 30 days: stale warning


def test_option_form_gives_the_same_findings(db: str) -> None:
    _, text_out, _ = run("TP-Link Archer AX21 v3", "--firmware", FW_OLD, "--db", db,
                         "--format", "json")
    code, opt_out, _ = run("--vendor", "tplink", "--model", "archer ax21", "--hardware", "3",
                           "--firmware", FW_OLD, "--db", db, "--format", "json")
    assert code == 0
    assert findings(opt_out) == findings(text_out)


def test_fixed_firmware_not_listed(db: str) -> None:
    code, out, _ = run("--vendor", "TP-Link", "--model", "Archer AX21", "--firmware",
                       "1.1.4 Build 20230219 rel.73766", "--db", db, "--format", "json")
    assert code == 0
    assert "CVE-2023-1389" not in {f["cve"] for f in findings(out)}
    code, out, _ = run("--vendor", "TP-Link", "--model", "Archer AX21", "--firmware",
                       "1.1.4 Build 20230219 rel.73766", "--db", db, "--format", "json", "--all")
    statuses = {f["cve"]: f["status"] for f in findings(out)}
    assert statuses["CVE-2023-1389"] == "not_affected"


def test_table(db: str) -> None:
    code, out, _ = run("TP-Link TL-WR841N v8", "--db", db)
    assert code == 0
    assert "TP-Link TL-WR841N v8" in out
    assert "CVE-2023-33538" in out and "affected" in out and "possible" in out
    assert "hardware v8" in out  # the reason is shown


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["Foo Bar 123"], "could not tell the vendor"),
        (["--vendor", "Zzvendor", "--model", "R1"], "nor any Zzvendor model"),
        (["--vendor", "Teltonika", "--model", "RUT955"], "not covered by this knowledge base"),
        (["--vendor", "TP-Link", "--model", "Archer ZZ99"], "not covered by this knowledge base"),
        (["--vendor", "TP-Link"], "no TP-Link model given"),
    ],
)
def test_unknown_device_is_a_message_not_a_guess(db: str, args: list[str], needle: str) -> None:
    code, out, _ = run(*args, "--db", db)
    assert code == 0 and needle in out and "CVE-" not in out
    code, out, _ = run(*args, "--db", db, "--format", "json")
    data = json.loads(out)
    assert code == 0 and findings(out) == [] and any(needle in w for w in data["warnings"])


def test_default_db_is_created_with_the_starter(tmp_path: Path) -> None:
    # No --db: the isolated ROUTERWATCH_HOME gets a SQLite KB filled from the starter bundle.
    code, out, err = run("ASUS RT-AX55", "--firmware", "3.0.0.4.386_51598", "--format", "json")
    assert code == 0, err
    assert "starter bundle" in err
    found = {f["cve"]: f for f in findings(out)}
    assert found["CVE-2023-39780"]["status"] == "affected"
    assert found["CVE-2023-41345"]["source"] == "cve5"  # a CVE-5-only record


def test_errors_are_one_line(db: str) -> None:
    code, out, err = run("--db", db)
    assert code == 2 and "say which device" in err
    code, out, err = run("TP-Link Archer AX21", "--db", "nosuchdb://x")
    assert code == 2 and "error:" in err and "Traceback" not in err + out


@pytest.mark.parametrize(("device", "firmware", "cve", "status"), [
    ("Cisco RV320", "1.4.2.17", "CVE-2019-1653", "possible"),   # KEV names RV320
    ("Cisco RV320", "1.4.2.17", "CVE-2023-20118", "possible"),  # KEV: RV Series
    ("MikroTik RB750Gr3", "6.40.5", "CVE-2018-14847", "possible"),  # KEV: RouterOS
    ("TP-Link Archer AX21 v3", "1.1.2", "CVE-2023-27359", "possible"),  # defaultStatus unknown
    ("TP-Link Archer AX21 v3", "1.1.2", "CVE-2023-1389", "affected"),
])
def test_issue_9_cases_with_the_starter_bundle(db: str, device: str, firmware: str, cve: str,
                                               status: str) -> None:
    code, out, err = run(device, "--firmware", firmware, "--db", db, "--format", "json")
    assert code == 0, err
    (host,) = json.loads(out)["hosts"]
    found = {f["cve"]: f for f in host["findings"]}
    assert found[cve]["status"] == status, found.get(cve)


def test_kb_status_shows_coverage_per_vendor(db: str) -> None:
    run("TP-Link Archer AX21", "--db", db)  # the starter is imported
    result = CliRunner().invoke(app, ["kb", "status", "--db", db, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    vendors = json.loads(result.stdout)["vendors"]
    for name in ("TP-Link", "D-Link", "Tenda", "TOTOLINK", "Zyxel", "Cisco", "MikroTik"):
        held = vendors[name]
        assert sum(held[s]["records"] for s in ("nvd", "cve5", "kev")) > 0, name
        assert any(held[s]["newest"] for s in ("nvd", "cve5", "kev")), name
    table = CliRunner().invoke(app, ["kb", "status", "--db", db])
    assert "Coverage per vendor" in table.stdout and "TOTOLINK" in table.stdout
