"""The nuclei-templates converter: passive matchers become rules, nothing is ever requested."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerwatch.fingerprint.engine import Fingerprinter
from routerwatch.fingerprint.nuclei import (
    ENV_VAR,
    SHIPPED,
    check_env,
    convert_template,
    load_nuclei,
    nuclei_from_env,
    shipped_nuclei,
)
from routerwatch.fingerprint.rules import RuleError
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
    # Ids the shipped set already has are not loaded twice.
    assert nuclei_from_env(skip=["nuclei.airos-panel"]) == [
        r for r in nuclei_from_env() if r.id != "nuclei.airos-panel"
    ]
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(RuleError, match=ENV_VAR):
        nuclei_from_env()
    (tmp_path / "notes.txt").write_text("x")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "notes.txt"))
    with pytest.raises(RuleError, match="neither a folder nor a"):
        check_env()
    (tmp_path / "bad.yaml").write_text("id: [unclosed")
    rules, notes = load_nuclei(tmp_path)
    assert rules == [] and notes and "unreadable" in notes[0]


def test_shipped_templates_load_with_provenance_and_match() -> None:
    rules, notes = load_nuclei(SHIPPED)
    assert notes == []
    vendors = {dict(r.fixed)["vendor"] for r in rules}
    assert {"Tenda", "ASUS", "Huawei", "Linksys", "MikroTik", "Zyxel", "Ubiquiti"} <= vendors
    sources = (SHIPPED / "SOURCES.md").read_text("utf-8")
    for path in SHIPPED.rglob("*.yaml"):
        assert path.name in sources, path.name  # every shipped template has its origin listed
    for rule in rules:
        assert rule.check_examples() == [], rule.id
        assert "MIT" in rule.references[0]
    # Loaded by default, below the own rules: a Tenda login page names the vendor only.
    page = HttpObservation(
        80, "http", "GET", "/", 200, body="<html><title>Tenda Web Master</title></html>"
    )
    ident = Fingerprinter().identify(Observation(address="x", http=(page,)))
    assert ident.vendor == "Tenda" and ident.model is None
    assert any(e.rule == "nuclei.tenda-web-master" for e in ident.evidence)
    assert {r.id for r in shipped_nuclei()} == {r.id for r in rules}


def test_tags_give_the_vendor_only_when_they_name_one() -> None:
    base = {"id": "t", "http": [{"matchers": [{"type": "word", "words": ["<title>X</title>"]}]}]}
    one = {**base, "info": {"name": "x", "tags": "panel,tenda,router"}}
    assert dict(convert_template(one, "t.yaml")[0][0].fixed) == {"vendor": "Tenda"}
    two = {**base, "info": {"name": "x", "tags": "panel,tenda,asus"}}
    assert convert_template(two, "t.yaml") == ([], "t.yaml: vendor not in the registry")


def test_and_words_stay_linear_on_a_large_page() -> None:
    import time

    raw = {
        "id": "and-words",
        "info": {"name": "x", "metadata": {"vendor": "mikrotik"}},
        "http": [{"matchers": [{"type": "word", "condition": "and",
                                "words": ["first missing word", "second word"]}]}],
    }
    rule = convert_template(raw, "a.yaml")[0][0]
    page = "second word " + "x" * 65536
    started = time.process_time()
    for _ in range(20):
        assert rule.regex.search(page) is None
    # The lazy lookahead form took ~10 ms per search here (quadratic); linear is well below.
    assert (time.process_time() - started) / 20 < 0.002
    assert rule.regex.search("second word ... first missing word") is not None


def test_cache_stamp_follows_the_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os
    import shutil

    from routerwatch.fingerprint.nuclei import env_stamp

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert env_stamp() == ""
    shutil.copytree(TEMPLATES / "http", tmp_path / "http")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    before = env_stamp()
    assert str(tmp_path.resolve()) in before and ":2:" in before
    edited = tmp_path / "http" / "exposed-panels" / "airos-panel.yaml"
    stat = edited.stat()
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert env_stamp() != before  # an edited template builds a new rule set
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone"))
    with pytest.raises(RuleError):
        env_stamp()
