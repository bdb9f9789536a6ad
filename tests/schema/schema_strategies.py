"""Hypothesis strategies for every model of routerwatch.models (within the schema's bounds)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import strategies as st

from routerwatch import models as m
from routerwatch.models import DEVICE_KEY_BASES

text = st.text(max_size=12)
opt_text = st.none() | text
fraction = st.floats(0.0, 1.0)
json_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(
    allow_nan=False, allow_infinity=False
) | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
pairs = st.lists(st.tuples(text, text), max_size=3).map(tuple)
port = st.integers(0, 65535)
timestamp = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
iso_date = st.dates().map(lambda d: d.isoformat())
device_key = st.builds(
    lambda basis, value: f"{basis}:{value}",
    st.sampled_from(DEVICE_KEY_BASES),
    st.text(min_size=1, max_size=16).filter(lambda s: not s[0].isspace()),
)


def tuples(strategy: st.SearchStrategy[Any], n: int = 3) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(strategy, max_size=n).map(tuple)


evidence = st.builds(m.Evidence, source=text, value=text, rule=opt_text, fields=pairs)
identity = st.builds(
    m.DeviceIdentity, vendor=opt_text, model=opt_text, hardware=opt_text, firmware=opt_text,
    region=opt_text, confidence=fraction, evidence=tuples(evidence), os=opt_text,
)
http = st.builds(
    m.HttpObservation, port=port, scheme=st.sampled_from(["http", "https"]), method=text,
    path=text, status=st.integers(0, 999), headers=pairs, body=st.text(max_size=40),
    title=opt_text, favicon_md5=opt_text, truncated=st.booleans(),
    favicon_mmh3=st.none() | st.integers(-(2**31), 2**31 - 1),
)
banner = st.builds(m.Banner, port=port, protocol=text, text=text, raw_hex=text)
tls = st.builds(
    m.TlsCertificate, port=port, subject=text, issuer=text, not_after=opt_text,
    self_signed=st.booleans(), key_sha256=opt_text,
)
def _upnp(embedded: st.SearchStrategy[tuple[Any, ...]]) -> st.SearchStrategy[Any]:
    return st.builds(
        m.UpnpDescription, location=opt_text, server=opt_text, manufacturer=opt_text,
        model_name=opt_text, model_number=opt_text, model_description=opt_text,
        friendly_name=opt_text, serial_number=opt_text, device_type=opt_text, udn=opt_text,
        firmware=opt_text, embedded=embedded,
    )


upnp = _upnp(tuples(_upnp(st.just(())), 2))
observation = st.builds(
    m.Observation, address=text, open_ports=tuples(port, 5), http=tuples(http, 2),
    banners=tuples(banner), tls=tuples(tls, 2), upnp=st.none() | upnp, snmp_sysdescr=opt_text,
    mac=opt_text, mac_vendor=opt_text, errors=tuples(text, 2),
    elapsed=st.floats(0.0, 1e9), observed_at=st.none() | timestamp,
    snmp_sysobjectid=opt_text, snmp_engine_id=opt_text, upnp_more=tuples(upnp, 1),
)
finding = st.builds(
    m.Finding, cve=text, status=st.sampled_from(["affected", "possible", "not_affected"]),
    reason=text, source=st.sampled_from(["nvd", "cve5"]), kev=st.booleans(), kev_date=opt_text,
    epss=st.none() | fraction, cvss=st.none() | st.floats(0.0, 10.0), severity=opt_text,
    fixed_in=opt_text, description=text, criteria=tuples(text, 2), joined=text,
)
remediation = st.builds(m.Remediation, kind=text, text=text)
indicator = st.builds(
    m.Indicator, rule=text, kind=st.sampled_from(["compromise", "exposure"]), title=text,
    certainty=st.sampled_from(["high", "medium", "low"]), evidence=tuples(evidence, 2),
    campaign=opt_text, references=tuples(text, 2), port=st.none() | port,
    risk_weight=st.none() | st.floats(0.0, 100.0), remediation=st.none() | remediation,
)
action = st.builds(
    m.Action, priority=st.integers(-5, 100), kind=text, text=text, clears=tuples(text, 2)
)
readiness_item = st.builds(
    m.ReadinessItem, policy=text, restriction=text,
    status=st.sampled_from(["affected", "excepted", "exception-expired", "unknown"]),
    reason=text, scope=text, effective=st.none() | iso_date, deadline=st.none() | iso_date,
    updates_until=st.none() | iso_date, detail=text, exception=text, source=text,
)
replacement = st.builds(
    m.ReplacementPlan, target_model=opt_text, cost=st.none() | st.floats(0.0, 1e9),
    currency=text, deadline=st.none() | iso_date, owner=opt_text,
)
coverage = st.builds(
    m.DeviceCoverage, level=st.sampled_from(["yes", "partly", "no"]), key=opt_text,
    sources=tuples(st.sampled_from(["nvd", "cve5", "kev"]), 3), note=text,
)
assessment = st.builds(
    m.Assessment, address=opt_text, identity=identity, open_ports=tuples(port, 4),
    findings=tuples(finding), indicators=tuples(indicator, 2), risk=st.floats(0.0, 100.0),
    risk_level=st.sampled_from(["critical", "high", "medium", "low", "none"]),
    actions=tuples(action), eol=opt_text, policy=tuples(text, 2), site=opt_text,
    notes=tuples(text, 2), key=st.none() | device_key, observed_at=st.none() | timestamp,
    extra=pairs, readiness=tuples(readiness_item, 2), replacement=st.none() | replacement,
    coverage=st.none() | coverage,
)
kb_snapshot = st.builds(
    m.KbSnapshot, id=text, records=st.integers(0, 2**53),
    newest=st.dictionaries(text, opt_text, max_size=3),
)
kinds = st.sampled_from(["scan", "check", "demo", "inventory", "audit-config", "agent"])
scan_run = st.builds(
    m.ScanRun, id=text, kind=kinds, started=st.none() | timestamp, tool_version=text,
    scope=tuples(text, 2), site=opt_text, agent=opt_text,
)
report = st.builds(
    m.Report, assessments=tuples(assessment), generated=text, tool_version=text, kind=kinds,
    scope=tuples(text, 2), kb=st.dictionaries(text, json_value, max_size=3), policy=opt_text,
    elapsed=st.floats(0.0, 1e9), warnings=tuples(text, 2), run_id=opt_text,
    kb_snapshot=st.none() | kb_snapshot, today=st.none() | iso_date,
)
kev = st.builds(
    m.KevEntry, cve_id=text, date_added=text, due_date=opt_text, ransomware=opt_text,
    vendor=opt_text, product=opt_text, name=opt_text, required_action=opt_text,
)
cve_record = st.builds(
    m.CveRecord, cve_id=text, published=opt_text, description=text,
    cvss_score=st.none() | st.floats(0.0, 10.0), configurations=tuples(json_value, 2),
    cve5_affected=tuples(json_value, 2), kev=st.none() | kev, epss=st.none() | fraction,
    references=tuples(text, 2), cwes=tuples(text, 2),
)

#: every model class -> its strategy (a test checks that no model is missing)
STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    m.KevEntry: kev,
    m.CveRecord: cve_record,
    m.Evidence: evidence,
    m.DeviceIdentity: identity,
    m.Target: st.builds(m.Target, address=text),
    m.HttpObservation: http,
    m.Banner: banner,
    m.TlsCertificate: tls,
    m.UpnpDescription: upnp,
    m.Observation: observation,
    m.Finding: finding,
    m.Remediation: remediation,
    m.Indicator: indicator,
    m.Action: action,
    m.Assessment: assessment,
    m.ReadinessItem: readiness_item,
    m.ReplacementPlan: replacement,
    m.DeviceCoverage: coverage,
    m.KbSnapshot: kb_snapshot,
    m.ScanRun: scan_run,
    m.Report: report,
}
