"""The nuclei-templates converter: passive matchers become rules, nothing is ever requested."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerwatch.fingerprint.engine import Fingerprinter
from routerwatch.fingerprint.nuclei import ENV_VAR, convert_template, load_nuclei, nuclei_from_env
from routerwatch.models import HttpObservation, Observation

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "nuclei"


def test_real_templates_convert_with_their_ids() -> None:
    rules, notes = load_nuclei(TEMPLATES)
    by_id = {r.id: r for r in rules}
    assert set(by_id) == {"nuclei.airos-panel", "nuclei.airos-panel.2"}
    favicon, body = by_id["nuclei.airos-panel"], by_id["nuclei.airos-panel.2"]
    assert favicon.sources == ("http.favicon.mmh3",) and body.sources == ("http.body",)
    assert dict(favicon.fixed) == {"vendor": "Ubiquiti"}  # metadata vendor "ui" via the registry
    assert "template id airos-panel" in favicon.references[0]
    assert favicon.origin == "nuclei:http/exposed-panels/airos-panel.yaml"
    for rule in rules:
        assert rule.check_examples() == []
    # Aethra names no vendor the registry knows: left out, with a note saying why.
    assert notes == ["http/exposed-panels/aethra-panel.yaml: vendor not in the registry"]


def test_converted_rules_identify_from_what_the_scanner_fetched() -> None:
    rules, _ = load_nuclei(TEMPLATES)
    fp = Fingerprinter(rules=rules, use_recog=False, use_generic=False)
    icon = HttpObservation(80, "http", "GET", "/favicon.ico", 200, favicon_mmh3=-697231354)
    assert fp.identify(Observation(address="x", http=(icon,))).vendor == "Ubiquiti"
    page = HttpObservation(80, "http", "GET", "/", 200, body='<img src="airos_logo.png">')
    assert fp.identify(Observation(address="x", http=(page,))).vendor == "Ubiquiti"
    other = HttpObservation(80, "http", "GET", "/favicon.ico", 200, favicon_mmh3=-697231355)
    assert fp.identify(Observation(address="x", http=(other,))).vendor is None


def test_active_or_unknown_templates_are_left_out() -> None:
    raw = {
        "id": "x-rce",
        "info": {"name": "X", "metadata": {"vendor": "tp-link"}},
        "http": [{"raw": ["POST /cgi-bin/luci HTTP/1.1\r\n\r\nexploit"], "matchers": []}],
    }
    rules, why = convert_template(raw, "x.yaml")
    assert rules == [] and why == "x.yaml: no passive matcher"
    assert convert_template("not a mapping", "y.yaml") == ([], "y.yaml: not a template")


def test_checkout_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert nuclei_from_env() == []
    monkeypatch.setenv(ENV_VAR, str(TEMPLATES))
    assert {r.id for r in nuclei_from_env()} == {"nuclei.airos-panel", "nuclei.airos-panel.2"}
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=ENV_VAR):
        nuclei_from_env()
    (tmp_path / "bad.yaml").write_text("id: [unclosed")
    rules, notes = load_nuclei(tmp_path)
    assert rules == [] and notes and "unreadable" in notes[0]
