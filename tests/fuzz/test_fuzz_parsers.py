"""Fuzz targets: every parser of outside input either answers or raises its own error type.

Run small in CI (the ``fuzz-ci`` profile); ``HYPOTHESIS_PROFILE=long`` for 5,000 examples a
target (docs/dev/fuzzing.md). A target fails on any other exception: a traceback for a user.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import contextlib

from fuzzlib import FUZZ, JSON, TEXTY, mutate

from routerwatch.checks.config_parse import ConfigAuditError, parse_text
from routerwatch.identity.parse import parse_identity
from routerwatch.identity.versions import SCHEMES, parse_version
from routerwatch.kb.errors import KBError, RecordError
from routerwatch.kb.sources import cve5, epss, kev, nvd
from routerwatch.match.cpe import CpeError, parse_cpe
from routerwatch.match.description import (
    advisory_regions,
    named_versions,
    names_firmware_version,
    same_version,
)
from routerwatch.report import ReportError, from_dict
from routerwatch.scan.probes import http, snmp, tls, upnp
from routerwatch.scan.scope import ScopeError, parse_scope
from routerwatch.schema import SchemaError

FIX = Path(__file__).resolve().parents[1] / "fixtures"
NVD_RECORD = json.loads((FIX / "nvd" / "tp-link.json").read_text())["vulnerabilities"][0]["cve"]
CVE5_RECORD = json.loads(next((FIX / "cve5").rglob("*.json")).read_text())
KEV_ENTRY = json.loads((FIX / "kev" / "known_exploited_vulnerabilities.json").read_text())[
    "vulnerabilities"][0]
REPORT = json.loads((FIX.parent / "report" / "snapshots" / "report.json").read_text())


# --------------------------------------------------------------------------- identity

@FUZZ
@given(st.sampled_from(sorted(SCHEMES)), TEXTY)
def test_versions(vendor: str, text: str) -> None:
    parse_version(vendor, text)  # None or a FirmwareVersion, never an exception


@FUZZ
@given(TEXTY, TEXTY)
def test_description_facts(text: str, firmware: str) -> None:
    """What the matcher reads from a CVE description: sets of strings, never an exception."""
    pairs = named_versions(text)
    assert all(isinstance(m, str) and isinstance(v, str) for m, v in pairs)
    advisory_regions(text)
    names_firmware_version(text)
    for _model, version in pairs:
        assert same_version(version, version)
        same_version(firmware, version)


@FUZZ
@given(TEXTY)
def test_cpe(text: str) -> None:
    try:
        parse_cpe("cpe:2.3:" + text)
        parse_cpe(text)
    except CpeError:
        pass


@FUZZ
@given(TEXTY, st.one_of(st.none(), TEXTY))
def test_identity_text(text: str, firmware: str | None) -> None:
    with contextlib.suppress(ValueError):
        parse_identity(text, firmware=firmware)


# --------------------------------------------------------------------------- configs, scope

@FUZZ
@given(st.one_of(TEXTY, JSON.map(json.dumps),
                 TEXTY.map(lambda t: f"<config><a b=\"{t}\">{t}</a></config>")))
def test_config(text: str) -> None:
    with contextlib.suppress(ConfigAuditError):
        parse_text(text, "fuzz")


@FUZZ
@given(st.lists(TEXTY, min_size=1, max_size=3), st.booleans())
def test_scope(targets: list[str], allow_public: bool) -> None:
    try:
        scope = parse_scope(targets, allow_public=allow_public, max_hosts=1024)
    except ScopeError:
        return
    for address in scope.hosts():  # nothing forbidden ever gets through
        assert not address.startswith(("224.", "239.", "255.255.255.255", "0."))


# --------------------------------------------------------------------------- probes

@FUZZ
@given(st.binary(max_size=600))
def test_ssdp(data: bytes) -> None:
    upnp.parse_ssdp_response(data)
    upnp.pick_reply([data, data[::-1]])


@FUZZ
@given(st.one_of(st.binary(max_size=600),
                 TEXTY.map(lambda t: f"<root><device><modelName>{t}</modelName></device></root>"
                           .encode("utf-8", "surrogatepass"))))
def test_upnp_description(xml: bytes) -> None:
    with contextlib.suppress(upnp.UpnpError):
        upnp.parse_description(xml, location="http://127.0.0.1/x.xml")


@FUZZ
@given(st.binary(max_size=600), st.one_of(st.none(), TEXTY))
def test_http(body: bytes, content_type: str | None) -> None:
    text = http.decode_body(body, content_type)
    http.extract_title(text)
    http.parse_realm(content_type)
    http.parse_currentsetting(text)
    http.parse_luci_locale(text)
    with contextlib.suppress(ValueError, ScopeError):
        http.redirect_target("http://127.0.0.1/", content_type, "127.0.0.1")


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([snmp.V1, snmp.V2C]),
       st.integers(0, 2**31 - 1))
def test_snmp(data: bytes, version: int, request_id: int) -> None:
    with contextlib.suppress(snmp.SnmpError):
        snmp.parse_response(data)
    with contextlib.suppress(snmp.SnmpError):
        snmp.read_reply(data, "public", version, request_id)


@FUZZ
@given(st.sampled_from(["public", "x"]), st.sampled_from([snmp.V1, snmp.V2C]),
       st.integers(1, 2**31 - 1), st.data())
def test_snmp_mutated_replies(community: str, version: int, request_id: int,
                              data: st.DataObject) -> None:
    """A real request datagram with bytes flipped, cut or appended: no crash, no false answer."""
    raw = bytearray(snmp.build_request(community, version, request_id))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))] + data.draw(st.binary(max_size=8))
    try:
        answer = snmp.read_reply(bytes(raw), community, version, request_id)
    except snmp.SnmpError:
        return
    assert answer is None  # a GetRequest is never taken for a GetResponse


@FUZZ
@given(st.binary(max_size=800))
def test_tls_certificate(der: bytes) -> None:
    with contextlib.suppress(tls.TlsError):
        tls.parse_certificate(der, 443)


# --------------------------------------------------------------------------- KB records

def _record(parser: Any, value: Any) -> None:
    with contextlib.suppress(RecordError):
        parser(value, 0)


@FUZZ
@given(st.data())
def test_nvd_records(data: st.DataObject) -> None:
    _record(nvd.parse_record, mutate(copy.deepcopy(NVD_RECORD), data))


@FUZZ
@given(st.data())
def test_cve5_records(data: st.DataObject) -> None:
    _record(cve5.parse_record, mutate(copy.deepcopy(CVE5_RECORD), data))


@FUZZ
@given(st.data())
def test_kev_entries(data: st.DataObject) -> None:
    _record(kev.parse_entry, mutate(copy.deepcopy(KEV_ENTRY), data))
    # meta of a non-catalog is never called by the importer (detect comes first)
    with contextlib.suppress(RecordError, AttributeError, TypeError):
        kev.meta(data.draw(JSON) if data.draw(st.booleans()) else {"vulnerabilities": []})


@FUZZ
@given(st.lists(st.lists(TEXTY, max_size=4), max_size=5), st.sampled_from(["\n", "\r", "\r\n"]))
def test_epss_csv(rows: list[list[str]], newline: str) -> None:
    text = newline.join(["cve,epss,percentile", *(",".join(r) for r in rows)])
    with contextlib.suppress(RecordError):
        list(epss.parse(text))


@FUZZ
@given(st.data())
def test_bundle_lines(data: st.DataObject) -> None:
    from routerwatch.kb.bundle import _parse_line

    source = data.draw(st.sampled_from(["nvd", "cve5", "kev", "epss", "other"]))
    base = {"nvd": NVD_RECORD, "cve5": CVE5_RECORD, "kev": KEV_ENTRY,
            "epss": {"cve": "CVE-2024-0001", "epss": 0.5, "percentile": 0.5}}.get(source, {})
    value = mutate(copy.deepcopy(base), data)
    line = json.dumps({source: value}).encode() + b"\n"
    if data.draw(st.booleans()):
        line = data.draw(st.binary(max_size=200)) + b"\n"
    with contextlib.suppress(KBError):
        _parse_line(Path("fuzz.rwkb"), 2, line)


# --------------------------------------------------------------------------- reports

@FUZZ
@given(st.data())
def test_report_loading(data: st.DataObject) -> None:
    document = mutate(copy.deepcopy(REPORT), data)
    for form in (document, json.dumps(document)):
        with contextlib.suppress(ReportError, SchemaError):
            from_dict(form)  # type: ignore[arg-type]
