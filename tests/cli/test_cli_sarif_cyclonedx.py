"""Item 2: SARIF that GitHub code scanning and the VS Code SARIF viewer accept; CycloneDX with
CPE/purl. Validated against the official OASIS SARIF 2.1.0 schema (tests/report/
sarif-schema-2.1.0.json, identical to oasis-tcs/sarif-spec sarif-2.1/schema/, see
tests/report/SCHEMAS.md) and cyclonedx-python-lib's strict 1.6 validator, plus GitHub's
documented upload constraints (docs.github.com "SARIF support for code scanning" and
"SARIF results exceed limits")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clilib import ROOT, invoke
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from routerwatch.models import Assessment, DeviceIdentity, Finding, Indicator, Report
from routerwatch.report import render
from routerwatch.report.sarif import MAX_RESULTS, to_sarif

SCHEMA = json.loads((ROOT / "tests" / "report" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)
ASSETS = (
    "vendor,model,hardware,firmware,asset\n"
    "TP-Link,Archer AX21,3,1.1.2 Build 20220714 rel.46227,A-1\n"
    "TP-Link,Archer AX21,3,1.1.2 Build 20220714 rel.46227,A-2\n"
    "NETGEAR,R7000,,V1.0.11.116_10.2.100,A-3\n"
)


def github_problems(doc: dict[str, Any]) -> list[str]:
    """GitHub code scanning's documented requirements and hard limits for an upload."""
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    if len(doc["runs"]) > 20:
        problems.append("more than 20 runs")
    for run in doc["runs"]:
        rules = run["tool"]["driver"]["rules"]
        results = run["results"]
        if len(results) > 25_000 or len(rules) > 25_000:
            problems.append("more than 25,000 results or rules in a run")
        for rule in rules:
            if not rule.get("id") or not rule.get("shortDescription", {}).get("text") \
                    or not rule.get("fullDescription", {}).get("text"):
                problems.append(f"rule {rule.get('id')}: id/short/full description missing")
            if not rule.get("help", {}).get("text"):
                problems.append(f"rule {rule['id']}: no help text")
            if len(rule.get("properties", {}).get("tags", [])) > 20:
                problems.append(f"rule {rule['id']}: more than 20 tags")
            sev = rule.get("properties", {}).get("security-severity")
            if sev is not None and not 0.0 <= float(sev) <= 10.0:
                problems.append(f"rule {rule['id']}: security-severity {sev}")
        seen: set[tuple[str, str]] = set()
        for n, res in enumerate(results):
            if res["ruleId"] != rules[res["ruleIndex"]]["id"]:
                problems.append(f"result {n}: ruleId differs from rules[ruleIndex].id")
            if not res.get("message", {}).get("text"):
                problems.append(f"result {n}: no message text")
            locations = res.get("locations") or []
            if not 1 <= len(locations) <= 1000:
                problems.append(f"result {n}: {len(locations)} locations")
            for loc in locations:
                if not loc.get("physicalLocation", {}).get("artifactLocation", {}).get("uri"):
                    problems.append(f"result {n}: no physicalLocation.artifactLocation.uri")
            fingerprints = res.get("partialFingerprints") or {}
            if not fingerprints:
                problems.append(f"result {n}: no partialFingerprints")
            for key, value in fingerprints.items():
                if (key, value) in seen:
                    problems.append(f"result {n}: fingerprint {key} repeats another result's")
                seen.add((key, value))
    return problems


@pytest.fixture(scope="module")
def inventory_sarif(kb_db: str, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The SARIF of the same asset list checked twice (two runs)."""
    folder = tmp_path_factory.mktemp("inv")
    assets = folder / "assets.csv"
    assets.write_text(ASSETS)
    docs = []
    for n in range(2):
        out = folder / f"run{n}.sarif"
        code, _, err = invoke("check", "--inventory", str(assets), "--db", kb_db, "-f", "sarif",
                              "-o", str(out))
        assert code == 0, err
        docs.append(json.loads(out.read_text()))
    return docs


def test_inventory_sarif_meets_schema_and_github_constraints(
    inventory_sarif: list[dict[str, Any]],
) -> None:
    doc = inventory_sarif[0]
    assert doc["version"] == "2.1.0" and doc["runs"][0]["results"]
    assert github_problems(doc) == []


def test_locations_point_at_the_inventory_row_and_name_the_device(
    inventory_sarif: list[dict[str, Any]],
) -> None:
    (run,) = inventory_sarif[0]["runs"]
    rows = {}
    for res in run["results"]:
        (loc,) = res["locations"]
        physical = loc["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith("assets.csv")
        (logical,) = loc["logicalLocations"]
        assert logical["kind"] == "device" and logical["name"].startswith("asset:A-")
        rows[logical["name"]] = physical["region"]["startLine"]
    assert rows == {"asset:A-1": 2, "asset:A-2": 3, "asset:A-3": 4}  # CSV lines of the rows


def test_fingerprints_unique_per_device_and_stable_across_runs(
    inventory_sarif: list[dict[str, Any]],
) -> None:
    first, second = ([r["partialFingerprints"] for r in d["runs"][0]["results"]]
                     for d in inventory_sarif)
    assert first == second  # the next run matches the same alerts
    # two identical devices with the same CVEs: different fingerprints
    ids = [f["routerwatchFinding/v1"] for f in first if "routerwatchFinding/v1" in f]
    assert len(ids) == len(set(ids)) and len(ids) >= 2


def test_rules_carry_help_with_the_remediation(inventory_sarif: list[dict[str, Any]]) -> None:
    rules = {r["id"]: r for r in inventory_sarif[0]["runs"][0]["tool"]["driver"]["rules"]}
    rule = rules["CVE-2023-1389"]
    assert "Remediation: Update the device's firmware to" in rule["help"]["text"]
    assert "**Remediation:**" in rule["help"]["markdown"]
    assert "nvd.nist.gov" in rule["helpUri"] and "CISA" in rule["help"]["text"]


def test_check_devices_without_address_never_collide(kb_db: str, tmp_path: Path) -> None:
    """Two `check` reports (no addresses) merged by a consumer: no shared router:// URI."""
    uris = []
    for model in ("TP-Link Archer AX21 v3", "NETGEAR R7000"):
        code, out, err = invoke("check", model, "--db", kb_db, "-f", "sarif")
        assert code == 0, err
        doc = json.loads(out)
        assert github_problems(doc) == []
        uris.append({loc["physicalLocation"]["artifactLocation"]["uri"]
                     for res in doc["runs"][0]["results"] for loc in res["locations"]})
    assert all(len(u) == 1 for u in uris) and uris[0] != uris[1]
    assert not any("device-1" in u for group in uris for u in group)
    assert all(u.startswith("router://description/") for group in uris for u in group)


def _many(n: int) -> Report:
    ident = DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="2")
    hosts = tuple(
        Assessment(
            address=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", identity=ident,
            findings=(Finding("CVE-2020-0001", "possible", "r", severity="LOW"),
                      Finding("CVE-2020-0002", "affected", "r", severity="CRITICAL")),
            indicators=(Indicator("quad7-xlogin-7777", "compromise", "Quad7", "high"),),
        )
        for i in range(n)
    )
    return Report(assessments=hosts, generated="2026-12-03T00:00:00+00:00", tool_version="t")


def test_results_beyond_githubs_limit_keep_the_most_severe() -> None:
    devices = MAX_RESULTS // 3 + 10  # 3 results a device (2 errors, 1 note): over 25,000
    doc = to_sarif(_many(devices))
    (run,) = doc["runs"]
    levels = [r["level"] for r in run["results"]]
    assert len(levels) == MAX_RESULTS
    assert levels.count("error") == 2 * devices  # every error kept, notes left out
    assert levels.count("note") == MAX_RESULTS - 2 * devices
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("25000 most severe" in n["message"]["text"] for n in notes)
    assert github_problems(doc) == []


def test_partial_scan_sarif_says_execution_unsuccessful() -> None:
    import msgspec

    report = msgspec.structs.replace(_many(1), partial=True)
    (run,) = to_sarif(report)["runs"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["properties"]["partial"] is True


# --------------------------------------------------------------------------- CycloneDX


def _cdx(report: Report) -> dict[str, Any]:
    text = render(report, "cyclonedx")
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert not errors, [str(e) for e in errors]
    doc: dict[str, Any] = json.loads(text)
    return doc


def test_cyclonedx_components_carry_cpe_and_purl_and_vendor_names() -> None:
    hosts = (
        Assessment(address="192.0.2.1", identity=DeviceIdentity(
            vendor="TP-Link", model="Archer AX21", hardware="3",
            firmware="1.1.2 Build 20220714 rel.46227")),
        Assessment(address="192.0.2.2", identity=DeviceIdentity(vendor="NETGEAR")),
        Assessment(address="192.0.2.3", identity=DeviceIdentity(
            vendor="Linksys", model="WRT3200ACM", firmware="23.05.3", os="OpenWrt")),
        Assessment(address="192.0.2.4", identity=DeviceIdentity()),
    )
    doc = _cdx(Report(assessments=hosts, generated="2026-12-03T00:00:00+00:00",
                      tool_version="t"))
    by_address = {
        next(p["value"] for p in c["properties"] if p["name"] == "routerwatch:address"): c
        for c in doc["components"]
    }
    ax21 = by_address["192.0.2.1"]
    assert ax21["cpe"] == "cpe:2.3:h:tp-link:archer_ax21:3:*:*:*:*:*:*:*"
    (fw,) = ax21["components"]
    assert fw["cpe"] == ("cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2_build_20220714_"
                         "rel.46227:*:*:*:*:*:*:*")
    assert "purl" not in fw  # no package URL exists for vendor firmware
    assert by_address["192.0.2.2"]["name"] == "NETGEAR device"  # not "unknown device"
    assert "cpe" not in by_address["192.0.2.2"]  # no model: routerwatch does not guess
    openwrt_fw = by_address["192.0.2.3"]["components"][0]
    assert openwrt_fw["purl"] == "pkg:generic/openwrt@23.05.3"
    assert by_address["192.0.2.4"]["name"] == "unknown device"


def test_cyclonedx_cpe_escapes_special_characters() -> None:
    ident = DeviceIdentity(vendor="Zyxel", model="NBG6604", firmware="V1.01(ABIR.1)C0")
    doc = _cdx(Report(assessments=(Assessment(address=None, identity=ident),),
                      generated="2026-12-03T00:00:00+00:00", tool_version="t"))
    fw = doc["components"][0]["components"][0]
    assert fw["cpe"] == "cpe:2.3:o:zyxel:nbg6604_firmware:v1.01\\(abir.1\\)c0:*:*:*:*:*:*:*"


@pytest.mark.parametrize("model", ["Archer\u202eAX21", "Ärcher", "A\tB", "x*y?z\\w"])
def test_cyclonedx_stays_valid_for_hostile_names(model: str) -> None:
    ident = DeviceIdentity(vendor="TP-Link", model=model, firmware="1.0 [beta]")
    doc = _cdx(Report(assessments=(Assessment(address=None, identity=ident),),
                      generated="2026-12-03T00:00:00+00:00", tool_version="t"))
    cpe = doc["components"][0].get("cpe")
    assert cpe is None or cpe.startswith("cpe:2.3:h:tp-link:")
