"""CycloneDX 1.6 VEX of the stored inventory, with the findings' lifecycle as the analysis.

The report's CycloneDX writer renders devices, firmware and findings; this module builds that
report from the store and then sets each vulnerability's ``analysis`` from the lifecycle:
open → as matched (exploitable / in_triage), accepted → exploitable + will_not_fix (who, why,
until when), false positive → false_positive, fixed → resolved.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from routerwatch import __version__
from routerwatch.models import Assessment, DeviceIdentity, Finding, Report
from routerwatch.server.timeutil import iso


def build_vex(devices: list[dict[str, Any]], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The VEX document (as JSON data) for device rows and their finding rows."""
    from routerwatch.report import render

    by_device: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        by_device[f["device_id"]].append(f)
    assessments = []
    lifecycle: dict[str, dict[str, Any]] = {}
    for index, d in enumerate(devices):
        rows = sorted(by_device.get(d["id"], []), key=lambda r: r["cve"])
        for r in rows:
            lifecycle[f"device-{index + 1}-{r['cve']}"] = r
        assessments.append(Assessment(
            address=d.get("address"),
            identity=DeviceIdentity(vendor=d.get("vendor"), model=d.get("model"),
                                    hardware=d.get("hardware"), firmware=d.get("firmware"),
                                    region=d.get("region"), confidence=d.get("confidence", 0)),
            open_ports=tuple(d.get("open_ports") or ()),
            findings=tuple(Finding(
                cve=r["cve"], status=r["match_status"], reason=r["reason"], kev=r["kev"],
                kev_date=r["kev_date"], epss=r["epss"], cvss=r["cvss"], severity=r["severity"],
                fixed_in=r["fixed_in"]) for r in rows),
            risk=d.get("risk", 0.0), risk_level=d.get("risk_level", "none"), eol=d.get("eol"),
            site=d.get("site"),
        ))
    report = Report(assessments=tuple(assessments),
                    generated=datetime.now(UTC).isoformat(timespec="seconds"),
                    tool_version=__version__, kind="scan")
    doc: dict[str, Any] = json.loads(render(report, "cyclonedx"))
    for vuln in doc.get("vulnerabilities", []):
        row = lifecycle.get(vuln.get("bom-ref", ""))
        if row is not None:
            _analysis(vuln, row)
    return doc


def _analysis(vuln: dict[str, Any], row: dict[str, Any]) -> None:
    analysis = vuln.setdefault("analysis", {})
    state = row["state"]
    vuln.setdefault("properties", []).append({"name": "routerwatch:lifecycle", "value": state})
    if state == "accepted":
        analysis["state"] = "exploitable"
        analysis["response"] = ["will_not_fix"]
        analysis["detail"] = (f"Risk accepted by {row['triage_by']} until "
                              f"{row['triage_expires']}: {row['triage_reason']}")
    elif state == "false_positive":
        analysis["state"] = "false_positive"
        analysis.pop("response", None)
        analysis.pop("justification", None)
        analysis["detail"] = f"Marked false positive by {row['triage_by']}: {row['triage_reason']}"
    elif state == "fixed":
        analysis["state"] = "resolved"
        analysis.pop("response", None)
        analysis["detail"] = f"No longer matched since {row['fixed_at']}."
    analysis["lastUpdated"] = iso(_parse(row.get("updated_at")))


def _parse(text: Any) -> datetime | None:
    if isinstance(text, datetime):
        return text
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
