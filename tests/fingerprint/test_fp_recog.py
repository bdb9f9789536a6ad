"""Recog loader: every example of the shipped databases, regex conversion, hostile XML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routerwatch.fingerprint import Example, Rule, RuleError, load_recog, shipped_recog
from routerwatch.fingerprint.recog import (
    RECOG_DATABASES,
    RecogPatternError,
    override_reasons,
    ruby_to_python,
    shipped_recog_files,
)
from routerwatch.identity.vendors import canonical_vendor

RULES, NOTES = shipped_recog()
EXAMPLES = sum(len(r.examples) for r in RULES)


def test_all_router_relevant_databases_are_shipped_and_loaded() -> None:
    files = shipped_recog_files()
    assert [p.name for p in files] == list(RECOG_DATABASES)
    assert all(p.is_file() for p in files)
    folder = files[0].parent
    assert (folder / "LICENSE").read_text().startswith("Copyright (c) 2014-2015, Rapid7")
    notice = (folder / "NOTICE.md").read_text()
    assert "14fa1a7211e7fb5707c7a1b421a07d6c2cf4eec5" in notice and "BSD 2-Clause" in notice
    by_db = {rule.recog.db for rule in RULES if rule.recog is not None}
    assert by_db == set(RECOG_DATABASES)
    # 2818 fingerprints in the ten files at commit 14fa1a7, none skipped
    assert len(RULES) + sum("skipped" in n for n in NOTES) == 2818
    print(f"Recog: {len(RULES)} rules, {EXAMPLES} examples, notes: {len(NOTES)}")
    for note in NOTES:
        print("  ", note)
    assert all("skipped" in n or "not tested" in n for n in NOTES)


def _example_problems(rule: Rule, ex: Example) -> list[str]:
    """What Recog's own verifier checks (the example matches and every attribute holds),
    plus the consistency of routerwatch's identity mapping with Recog's fields."""
    where = f"{rule.id} ({rule.description}) example {ex.input[:60]!r}"
    params = rule.recog_params(ex.input)
    if params is None:
        return [f"{where}: no match for {rule.regex.pattern!r}"]
    problems = [
        f"{where}: {name} is {params.get(name)!r}, expected {want!r}"
        for name, want in ex.recog_attrs
        if params.get(name) != want
    ]
    fields = rule.extract(ex.input) or {}
    if "vendor" in fields:
        raw = params.get("hw.vendor") or params.get("os.vendor") or ""
        if fields["vendor"] != (canonical_vendor(raw) or " ".join(raw.split())):
            problems.append(f"{where}: vendor {fields['vendor']!r} is not Recog's {raw!r}")
    problems += [f"{where}: empty {k}" for k, v in fields.items() if not v or v != v.strip()]
    return problems


@pytest.mark.parametrize("db", list(RECOG_DATABASES))
def test_every_recog_example(db: str) -> None:
    """Every <example> of every fingerprint of the database (grouped per file: ~4,900
    examples as separate test items would cost most of the suite's time budget)."""
    rules = [r for r in RULES if r.recog is not None and r.recog.db == db]
    examples = [(r, ex) for r in rules for ex in r.examples]
    assert rules and examples
    problems = [p for r, ex in examples for p in _example_problems(r, ex)]
    print(f"{db}: {len(rules)} fingerprints, {len(examples)} examples checked")
    assert problems == [], "\n".join(problems[:50])


def test_example_checker_catches_a_wrong_attribute() -> None:
    rule = next(r for r in RULES if r.examples and r.examples[0].recog_attrs)
    ex = rule.examples[0]
    bad = type(ex)(input=ex.input, recog_attrs=((ex.recog_attrs[0][0], "wrong value"),))
    assert _example_problems(rule, bad)
    assert _example_problems(rule, type(ex)(input="\x00 no such banner \x00"))


def _one(db: str, description: str) -> Rule:
    (rule,) = [
        r for r in RULES if r.recog and (r.recog.db, r.recog.description) == (db, description)
    ]
    return rule


@pytest.mark.parametrize(
    ("db", "description", "text", "want"),
    [
        (
            "http_servers.xml",
            "D-Link DIR-XXX Router - WEBACCESS variant",
            "Linux, WEBACCESS/1.0, DIR-850L Ver 1.14WW",
            {"vendor": "D-Link", "model": "DIR-850L", "firmware": "1.14WW"},
        ),
        (
            "http_servers.xml",
            "TP-Link WAP UPnP Server",
            "ipos/7.0 UPnP/1.0 TL-WR841N/8.0",
            {"vendor": "TP-Link", "model": "TL-WR841N", "hardware": "8"},
        ),
        (
            "http_servers.xml",
            "Netgear WNR2000v5 Router UPnP",
            "WNR2000v5 UPnP/1.0 miniupnpd/1.0",
            {"vendor": "NETGEAR", "model": "WNR2000", "hardware": "5"},
        ),
        (
            "http_servers.xml",
            "DrayTek Vigor router UPnP Server",
            "DrayTek/Vigor2130 UPnP/1.0 miniupnpd/1.0",
            {"vendor": "DrayTek", "model": "Vigor2130"},
        ),
        (
            "http_servers.xml",
            "AsusWRT Firmware",
            "AsusWRT/3.0.0.4 UPnP/1.1 MiniUPnPd/1.9",
            {"vendor": "ASUS"},
        ),
        (
            "ftp_banners.xml",
            "MikroTik",
            "example.com FTP server (MikroTik 6.18) ready",
            {"vendor": "MikroTik", "firmware": "6.18"},
        ),
        (
            "snmp_sysdescr.xml",
            "Ubiquiti Switch w/Version and Linux version",
            "US-24-500W, 5.43.36.12724, Linux 3.6.5",
            {"vendor": "Ubiquiti", "model": "US-24-500W", "firmware": "5.43.36.12724"},
        ),
        (
            "snmp_sysdescr.xml",
            "Cisco Small Business RV Series Routers",
            "Linux, Cisco RV320, Version 1.4.2.17 Mon Oct 30 15:52:47 CST 2017",
            {"vendor": "Cisco", "model": "RV320", "firmware": "1.4.2.17"},
        ),
        (
            "http_wwwauth.xml",
            "TP-LINK Routers",
            'Basic realm="TP-LINK Wireless N Router WR841N"',
            {"vendor": "TP-Link"},
        ),
        (
            "x509_subjects.xml",
            "DrayTek Vigor Router - without model or version",
            "CN=Vigor Router,OU=DrayTek Support,O=DrayTek Corp.,L=HuKou,ST=HsinChu,C=TW",
            {"vendor": "DrayTek"},
        ),
    ],
)
def test_identity_mapping_of_router_fingerprints(
    db: str, description: str, text: str, want: dict[str, str]
) -> None:
    assert _one(db, description).extract(text) == want


def test_mapping_never_takes_a_general_os_version_as_firmware() -> None:
    rule = _one("http_servers.xml", "Belkin/Linksys BRCM400 Wireless Router UPnP Server")
    params = rule.recog_params("LINUX/2.4 UPnP/1.0 BRCM400/1.0")
    assert params is not None and params["os.version"] == "2.4"
    assert rule.extract("LINUX/2.4 UPnP/1.0 BRCM400/1.0") == {"vendor": "Linksys"}
    # a generic web server names no device vendor at all
    apache = [
        r for r in RULES if "http.server" in r.sources and r.extract("Apache/2.4.41 (Ubuntu)")
    ]
    assert apache == []


def test_every_override_names_an_existing_fingerprint() -> None:
    known = {(r.recog.db, r.recog.description) for r in RULES if r.recog}
    reasons = override_reasons()
    assert reasons and set(reasons) <= known
    assert all(len(reason) > 20 for reason in reasons.values())


def test_recog_weights_are_below_own_rules() -> None:
    assert max(r.weight for r in RULES) <= 0.35
    assert min(r.weight for r in RULES) > 0


# --------------------------------------------------------------------------- regex conversion


@pytest.mark.parametrize(
    ("pattern", "flags", "text", "match"),
    [
        (r"^a\hb$", None, "a5b", True),
        (r"^a\hb$", None, "azb", False),
        (r"^[\h:]+$", None, "de:ad:BE:ef", True),
        (r"^x\z", None, "x\n", False),
        (r"^x\Z", None, "x\n", True),
        (r"^(?i)cisco$", None, "CISCO", True),  # Ruby scopes the flag, Python hoists it
        (r"(?m)a.b", None, "a\nb", True),  # Ruby (?m) is Python DOTALL
        (r"a.b", "REG_MULTILINE", "a\nb", True),
        (r"a.b", "REG_DOT_NEWLINE", "a\nb", True),
        (r"a.b", None, "a\nb", False),
        (r"^second$", None, "first\nsecond\nthird", True),  # ^ $ are line anchors in Ruby
        (r"\Afirst", None, "x\nfirst", False),
        (r"^(?<ver>\d+)\.(?<rel>\d+)$", None, "6.48", True),
        (r"^[[:alpha:]]+[[:digit:]]$", None, "abc1", True),
        (r"^ab*+b$", None, "abbb", False),  # possessive, as in Ruby
        (r"^(?>a|ab)c$", None, "abc", False),  # atomic group
        (r"^foo$", "REG_ICASE", "FOO", True),
        (r"^[]a]+$", None, "]a]", True),
        (r"^\w+$", None, "ünï", False),  # Ruby \w is ASCII
        (r"(?i:abc)d", None, "ABCd", True),
        (r"(?mi:a.c)", None, "A\nC", True),
    ],
)
def test_ruby_to_python(pattern: str, flags: str | None, text: str, match: bool) -> None:
    assert bool(ruby_to_python(pattern, flags).search(text)) is match


@pytest.mark.parametrize(
    ("pattern", "flags", "reason"),
    [
        (r"^\p{Alpha}+$", None, r"\p"),
        (r"\Gfoo", None, r"\G"),
        (r"foo\Kbar", None, r"\K"),
        (r"[a-z&&[^aeiou]]", None, "intersection &&"),
        (r"[a-z[0-9]]", None, "nested character class"),
        (r"(?~abc)", None, "does not compile"),
        (r"^[[:nonsense:]]$", None, "POSIX"),
        (r"(unclosed", None, "does not compile"),
        (r"abc", "REG_FANCY", "unsupported flag"),
        (r"(?-i)abc", None, "inline flag removal"),
        ("abc\\", None, "trailing backslash"),
    ],
)
def test_unsupported_ruby_patterns_are_refused(
    pattern: str, flags: str | None, reason: str
) -> None:
    with pytest.raises(RecogPatternError, match=re.escape(reason)):
        ruby_to_python(pattern, flags)


# --------------------------------------------------------------------------- loading files

DB = """<?xml version='1.0' encoding='UTF-8'?>
<fingerprints matches="http_header.server" protocol="http">
  <fingerprint pattern="^Acme/(\\d+)$">
    <description>good one</description>
    <example hw.version="7">Acme/7</example>
    <example _encoding="base64" hw.version="8">QWNtZS84</example>
    <param pos="0" name="hw.vendor" value="Acme"/>
    <param pos="0" name="hw.device" value="Router"/>
    <param pos="1" name="hw.version"/>
  </fingerprint>
  <fingerprint pattern="^\\p{Alpha}+$">
    <description>unicode property</description>
    <param pos="0" name="hw.vendor" value="Acme"/>
  </fingerprint>
  <fingerprint pattern="^Acme (\\d+)$">
    <description>param beyond the groups</description>
    <param pos="2" name="hw.product"/>
  </fingerprint>
  <fingerprint pattern="^Acme$">
    <description>external example</description>
    <example _filename="acme.txt"/>
    <param pos="0" name="hw.vendor" value="Acme"/>
  </fingerprint>
</fingerprints>
"""


def test_load_recog_skips_what_python_cannot_match_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "acme.xml"
    path.write_text(DB)
    rules, notes = load_recog(path)
    assert [r.recog.description for r in rules if r.recog] == ["good one", "external example"]
    assert rules[0].sources == ("http.server", "upnp.server")  # from matches="http_header.server"
    assert rules[0].extract("Acme/7") == {"vendor": "Acme", "hardware": "7"}
    assert [ex.input for ex in rules[0].examples] == ["Acme/7", "Acme/8"]
    assert len(notes) == 3
    assert "unicode property" in notes[0] and "skipped" in notes[0] and r"\p" in notes[0]
    assert "param beyond the groups" in notes[1] and "capture group" in notes[1]
    assert "acme.txt" in notes[2] and "not tested" in notes[2]
    rules, _ = load_recog(path, source="banner.ftp")
    assert rules[0].sources == ("banner.ftp",)


def test_load_recog_needs_to_know_the_source(tmp_path: Path) -> None:
    path = tmp_path / "mystery.xml"
    path.write_text(DB.replace(' matches="http_header.server"', ""))
    with pytest.raises(RuleError, match="pass source="):
        load_recog(path)


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<fingerprints matches="html_title"><fingerprint pattern="&lol3;">
<description>&lol3;</description><param pos="0" name="hw.vendor" value="x"/>
</fingerprint></fingerprints>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE fingerprints [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<fingerprints matches="html_title"><fingerprint pattern="^x$">
<description>&xxe;</description><param pos="0" name="hw.vendor" value="x"/>
</fingerprint></fingerprints>
"""
DTD_ONLY = """<?xml version="1.0"?>
<!DOCTYPE fingerprints SYSTEM "http://127.0.0.1:9/evil.dtd">
<fingerprints matches="html_title"/>
"""


@pytest.mark.parametrize("text", [BOMB, EXTERNAL, DTD_ONLY], ids=["bomb", "external", "dtd"])
def test_hostile_recog_xml_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "html_title.xml"
    path.write_text(text)
    with pytest.raises(RuleError, match="refused unsafe XML"):
        load_recog(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<fingerprints><fingerprint", "not well-formed"),
        ("<other/>", "expected <fingerprints>"),
    ],
)
def test_broken_recog_xml_is_a_rule_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "html_title.xml"
    path.write_text(text)
    with pytest.raises(RuleError, match=message):
        load_recog(path)
    with pytest.raises(RuleError, match="cannot read"):
        load_recog(tmp_path / "missing.xml")
