"""CycloneDX 1.6 and SARIF 2.1.0 output: schema-valid, and saying what docs/reports.md says.

The SARIF schema is the official OASIS one (sarif-schema-2.1.0.json, errata01), vendored in
tests/report/ (see tests/report/SCHEMAS.md for its origin and licence).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from routerwatch.models import Report
from routerwatch.report import render

SARIF_SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"

# --------------------------------------------------------------------------- CycloneDX


def _cdx_errors(text: str) -> list[str]:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    return [str(e) for e in errors or []]


@pytest.mark.parametrize("name", ["report", "empty_report", "check_report"])
def test_cyclonedx_is_valid_1_6(name: str, request: pytest.FixtureRequest) -> None:
    text = render(request.getfixturevalue(name), "cyclonedx")
    assert json.loads(text)["specVersion"] == "1.6"
    assert _cdx_errors(text) == []


def test_the_cyclonedx_validator_does_catch_errors(report: Report) -> None:
    doc = json.loads(render(report, "cyclonedx"))
    doc["components"][0]["type"] = "router"
    doc["vulnerabilities"][0]["analysis"]["state"] = "pwned"
    assert len(_cdx_errors(json.dumps(doc))) >= 2


def _cdx(report: Report) -> dict[str, Any]:
    return json.loads(render(report, "cyclonedx"))


def test_devices_are_hardware_with_nested_firmware(report: Report) -> None:
    doc = _cdx(report)
    device = next(c for c in doc["components"] if c["bom-ref"] == "device-1")
    assert device["type"] == "device"
    assert device["manufacturer"] == {"name": "TP-Link"}
    assert (device["name"], device["version"]) == ("TL-WR841N", "8")
    (firmware,) = device["components"]
    assert firmware["type"] == "firmware"
    assert firmware["version"] == "3.16.9 Build 150310 Rel.56236n"
    props = {(p["name"], p["value"]) for p in device["properties"]}
    assert ("routerwatch:address", "192.168.1.1") in props
    assert (
        "routerwatch:indicator",
        "quad7-xlogin-7777 (compromise, certainty high): Quad7 xlogin shell on TCP 7777",
    ) in props
    unknown = next(c for c in doc["components"] if c["bom-ref"] == "device-3")
    assert unknown["name"] == "unknown device"
    assert "manufacturer" not in unknown and "version" not in unknown
    assert doc["metadata"]["timestamp"] == "2026-11-24T09:30:00+00:00"
    assert doc["metadata"]["tools"]["components"][0]["name"] == "routerwatch"


def _vuln(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    return next(v for v in doc["vulnerabilities"] if v["bom-ref"] == ref)


def test_vex_mapping(report: Report) -> None:
    doc = _cdx(report)
    affected = _vuln(doc, "device-1-CVE-2023-33538")
    assert affected["id"] == "CVE-2023-33538"
    assert affected["source"]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2023-33538"
    assert affected["analysis"]["state"] == "exploitable"
    assert "Listed in CISA KEV since 2025-06-16." in affected["analysis"]["detail"]
    assert affected["affects"] == [
        {
            "ref": "device-1-firmware",
            "versions": [{"status": "affected", "version": "3.16.9 Build 150310 Rel.56236n"}],
        }
    ]
    (rating,) = affected["ratings"]
    assert (rating["score"], rating["severity"]) == (8.8, "high")
    props = {p["name"]: p["value"] for p in affected["properties"]}
    assert props["routerwatch:kev"] == "true"
    assert props["routerwatch:kev_date"] == "2025-06-16"
    assert props["routerwatch:epss"] == "0.41874"

    possible = _vuln(doc, "device-1-CVE-2025-9377")
    assert possible["analysis"]["state"] == "in_triage"
    assert possible["affects"][0]["versions"][0]["status"] == "unknown"

    fixed = _vuln(doc, "device-2-CVE-2023-39780")
    assert fixed["analysis"]["response"] == ["update"]
    assert fixed["recommendation"] == "Update the firmware to 3.0.0.4.386_51529 or later."

    clean = _vuln(doc, "device-4-CVE-2016-6277")
    assert clean["analysis"]["state"] == "not_affected"
    assert clean["analysis"]["justification"] == "code_not_present"
    assert "recommendation" not in clean


def test_cyclonedx_serial_number_is_stable_per_content(report: Report) -> None:
    from routerwatch.models import replace

    first = _cdx(report)["serialNumber"]
    assert first == _cdx(report)["serialNumber"]
    assert first != _cdx(replace(report, generated="2026-11-25T00:00:00+00:00"))["serialNumber"]


# --------------------------------------------------------------------------- SARIF


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def _sarif_errors(validator: jsonschema.Draft4Validator, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("name", ["report", "empty_report", "check_report"])
def test_sarif_is_valid_2_1_0(
    name: str, request: pytest.FixtureRequest, sarif_validator: jsonschema.Draft4Validator
) -> None:
    doc = json.loads(render(request.getfixturevalue(name), "sarif"))
    assert doc["version"] == "2.1.0"
    assert _sarif_errors(sarif_validator, doc) == []


def test_the_sarif_validator_does_catch_errors(
    report: Report, sarif_validator: jsonschema.Draft4Validator
) -> None:
    doc = json.loads(render(report, "sarif"))
    doc["runs"][0]["results"][0]["level"] = "critical"
    doc["runs"][0]["tool"]["driver"]["rules"][0]["unexpected"] = 1
    del doc["runs"][0]["results"][1]["message"]
    assert len(_sarif_errors(sarif_validator, doc)) >= 3


def test_sarif_rules_results_and_locations(report: Report) -> None:
    (run,) = json.loads(render(report, "sarif"))["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "routerwatch"
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    by_key = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]): r
        for r in run["results"]
    }
    quad7 = by_key[("router://192.168.1.1", "quad7-xlogin-7777")]
    assert quad7["level"] == "error"
    assert quad7["locations"][0]["logicalLocations"][0] == {
        "name": "192.168.1.1",
        "fullyQualifiedName": "router://192.168.1.1",
        "kind": "device",
    }
    assert by_key[("router://192.168.1.1", "CVE-2023-33538")]["level"] == "error"
    assert by_key[("router://192.168.1.1", "CVE-2023-50224")]["level"] == "warning"
    assert by_key[("router://192.168.1.1", "CVE-2025-9377")]["level"] == "warning"  # possible
    assert by_key[("router://192.168.1.66", "telnet-open")]["level"] == "note"
    # not-affected findings are not problems
    assert not any(uri == "router://192.168.1.20" for uri, _ in by_key)
    cve_rule = driver["rules"][ids.index("CVE-2023-33538")]
    assert cve_rule["helpUri"] == "https://nvd.nist.gov/vuln/detail/CVE-2023-33538"
    assert cve_rule["properties"]["security-severity"] == "8.8"
    hostile_rule = driver["rules"][ids.index("ayysshush-ssh-53282")]
    assert hostile_rule["helpUri"] == "https://www.greynoise.io/blog/ayysshush"
    assert run["invocations"][0]["endTimeUtc"] == "2026-11-24T09:30:00Z"


def test_sarif_uris_without_address_and_for_ipv6(check_report: Report) -> None:
    (run,) = json.loads(render(check_report, "sarif"))["runs"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "router://device-1" in uris
    assert all(u.startswith("router://") for u in uris)
    # the IPv6 NETGEAR has no open findings; its URI form is tested directly
    from routerwatch.report.sarif import device_uri

    assert device_uri(check_report.assessments[1], 1) == "router://[fd00::1]"
