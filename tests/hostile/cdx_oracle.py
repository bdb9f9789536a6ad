"""Test oracle: the CycloneDX renderer as it was, on cyclonedx-python-lib (O(n²), slow), kept to
prove the direct renderer (routerwatch.report.cyclonedx) writes byte-identical documents.
Not used by routerwatch itself; the VEX mapping is documented in the renderer."""

from __future__ import annotations

import hashlib
import json
import uuid
import warnings
from datetime import datetime
from decimal import Decimal

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisJustification,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from routerwatch.assess.remediation import user_version
from routerwatch.models import Assessment, Finding, Report
from routerwatch.report.cyclonedx import device_cpes, device_label, firmware_purl
from routerwatch.report.summary import host_name, severity_of
from routerwatch.report.text import nvd_url

STATE = {
    "affected": ImpactAnalysisState.EXPLOITABLE,
    "possible": ImpactAnalysisState.IN_TRIAGE,
    "not_affected": ImpactAnalysisState.NOT_AFFECTED,
}
VERSION_STATUS = {
    "affected": ImpactAnalysisAffectedStatus.AFFECTED,
    "possible": ImpactAnalysisAffectedStatus.UNKNOWN,
    "not_affected": ImpactAnalysisAffectedStatus.UNAFFECTED,
}
NVD = "https://nvd.nist.gov/"


def _props(pairs: list[tuple[str, str | None]]) -> list[Property]:
    return [Property(name=f"routerwatch:{k}", value=v) for k, v in pairs if v not in (None, "")]


def _timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _device(a: Assessment, index: int) -> tuple[Component, Component]:
    ident = a.identity
    ref = f"device-{index + 1}"
    hardware_cpe, firmware_cpe = device_cpes(a)
    purl = firmware_purl(a)
    firmware = Component(
        type=ComponentType.FIRMWARE,
        bom_ref=f"{ref}-firmware",
        name=f"{device_label(a)} firmware",
        version=ident.firmware or None,
        manufacturer=OrganizationalEntity(name=ident.vendor) if ident.vendor else None,
        cpe=firmware_cpe,
        purl=PackageURL.from_string(purl) if purl else None,
    )
    pairs: list[tuple[str, str | None]] = [
        ("address", host_name(a, index)),
        ("open_ports", ",".join(str(p) for p in a.open_ports)),
        ("confidence", f"{ident.confidence:.3f}"),
        ("region", ident.region),
        ("risk", f"{a.risk:.1f}"),
        ("risk_level", a.risk_level),
        ("eol", a.eol),
        ("site", a.site),
    ]
    pairs += [("policy", p) for p in a.policy]
    pairs += [
        ("indicator", f"{i.rule} ({i.kind}, certainty {i.certainty}): {i.title}")
        for i in a.indicators
    ]
    device = Component(
        type=ComponentType.DEVICE,
        bom_ref=ref,
        name=device_label(a),
        version=ident.hardware or None,
        cpe=hardware_cpe,
        manufacturer=OrganizationalEntity(name=ident.vendor) if ident.vendor else None,
        description=ident.label(),
        properties=_props(pairs),
        components=[firmware],
    )
    return device, firmware


def _detail(f: Finding) -> str:
    text = (f.reason or f.status.replace("_", " ")).rstrip()
    if text and not text.endswith((".", "!", "?")):
        text += "."
    if f.kev:
        text += f" Listed in CISA KEV{' since ' + f.kev_date if f.kev_date else ''}."
    if f.exploited_by:
        text += f" Exploited by {', '.join(f.exploited_by)}."
    return text


def _vulnerability(f: Finding, a: Assessment, firmware: Component, ref: str) -> Vulnerability:
    url = nvd_url(f.cve)
    source = VulnerabilitySource(name="NVD", url=XsUri(url or NVD))
    ratings = []
    if f.cvss is not None or f.severity:
        sev = severity_of(f.severity)
        ratings.append(
            VulnerabilityRating(
                source=VulnerabilitySource(name="NVD", url=XsUri(url or NVD)),
                score=Decimal(str(f.cvss)) if f.cvss is not None else None,
                severity=VulnerabilitySeverity(sev),
            )
        )
    responses = []
    if f.status == "affected" and f.fixed_in:
        responses.append(ImpactAnalysisResponse.UPDATE)
    analysis = VulnerabilityAnalysis(
        state=STATE[f.status],
        justification=(
            ImpactAnalysisJustification.CODE_NOT_PRESENT if f.status == "not_affected" else None
        ),
        responses=responses,
        detail=_detail(f),
    )
    recommendations = []
    if f.status != "not_affected":
        recommendations = [x.text for x in a.actions if f.cve in x.clears]
    if f.fixed_in and f.status != "not_affected" and not recommendations:
        recommendations.append(f"Update the firmware to {user_version(f.fixed_in)}.")
    versions = []
    if firmware.version:
        versions.append(
            BomTargetVersionRange(version=firmware.version, status=VERSION_STATUS[f.status])
        )
    pairs: list[tuple[str, str | None]] = [
        ("status", f.status),
        ("kev", "true" if f.kev else "false"),
        ("kev_date", f.kev_date),
        ("epss", None if f.epss is None else f"{f.epss:.5f}"),
        ("fixed_in", f.fixed_in),
        ("matched_from", f.source),
    ]
    pairs += [("criteria", c) for c in f.criteria]
    pairs += [("exploited_by", c) for c in f.exploited_by]
    return Vulnerability(
        bom_ref=ref,
        id=f.cve,
        source=source,
        ratings=ratings,
        description=f.description or None,
        recommendation=" ".join(recommendations) or None,
        analysis=analysis,
        affects=[BomTarget(ref=str(firmware.bom_ref.value), versions=versions)],
        properties=_props(pairs),
    )


def build_bom(report: Report) -> Bom:
    from routerwatch.report.jsonfmt import to_dict

    digest = hashlib.sha256(
        json.dumps(to_dict(report), sort_keys=True, default=str).encode()
    ).hexdigest()
    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"urn:routerwatch:{digest}"))
    stamp = _timestamp(report.generated)
    if stamp is not None:
        bom.metadata.timestamp = stamp
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="routerwatch", version=report.tool_version)
    )
    bom.metadata.properties.update(
        _props(
            [("kind", report.kind), ("policy", report.policy)]
            + [("scope", s) for s in report.scope]
        )
    )
    seen: set[str] = set()
    devices: list[Component] = []
    vulnerabilities: list[Vulnerability] = []
    for index, a in enumerate(report.assessments):
        device, firmware = _device(a, index)
        devices.append(device)
        for f in a.findings:
            ref = f"{device.bom_ref.value}-{f.cve}"
            n = 2
            while ref in seen:
                ref = f"{device.bom_ref.value}-{f.cve}-{n}"
                n += 1
            seen.add(ref)
            vulnerabilities.append(_vulnerability(f, a, firmware, ref))
    for device in devices:
        bom.components.add(device)
    for vulnerability in vulnerabilities:
        bom.vulnerabilities.add(vulnerability)
    return bom


def render_cyclonedx(report: Report) -> str:
    bom = build_bom(report)
    with warnings.catch_warnings():
        # The library warns that devices have no dependency graph: they have none to give.
        warnings.simplefilter("ignore")
        text = JsonV1Dot6(bom).output_as_string(indent=2)
    return text + "\n"
