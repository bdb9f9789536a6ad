"""Own fingerprint rules: every example of every shipped rule, and the rule-file checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routerwatch.fingerprint import Rule, RuleError, load_rules
from routerwatch.fingerprint.rules import IDENTITY_FIELDS, INPUT_SOURCES, shipped_rule_files

RULES = load_rules()
CASES = [
    pytest.param(rule, i, id=f"{rule.id}[{i}]") for rule in RULES for i in range(len(rule.examples))
]
BRIEF_VENDORS = {
    "TP-Link",
    "NETGEAR",
    "ASUS",
    "D-Link",
    "Zyxel",
    "Linksys",
    "DrayTek",
    "Cisco",
    "MikroTik",
    "Ubiquiti",
}


@pytest.mark.parametrize(("rule", "index"), CASES)
def test_rule_example(rule: Rule, index: int) -> None:
    ex = rule.examples[index]
    context: dict[str, list[str]] = {}
    for source, text in ex.context:
        context.setdefault(source, []).append(text)
    assert rule.requirements_met(context), f"context {ex.context} does not satisfy require"
    got = rule.extract(ex.input)
    if ex.negative:
        assert not got, f"negative example {ex.input!r} yielded {got}"
        return
    assert got is not None, f"{ex.input!r} did not match {rule.regex.pattern}"
    for name, want in ex.expect:
        assert got.get(name) == want, f"{name}: {got.get(name)!r} != {want!r} ({got})"


def test_every_rule_has_a_positive_example_and_passes_check() -> None:
    for rule in RULES:
        assert any(not e.negative for e in rule.examples), rule.id
        assert rule.check_examples() == []


def test_rule_files_are_valid_and_cover_the_brief_vendors() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    vendors = set()
    for rule in RULES:
        assert set(rule.sources) <= INPUT_SOURCES
        assert set(rule.regex.groupindex) <= set(IDENTITY_FIELDS)
        assert 0 < rule.weight <= 1
        assert rule.references and rule.description
        fixed = dict(rule.fixed)
        if "vendor" in fixed:
            vendors.add(fixed["vendor"])
        # every positive example yields a vendor: the engine never shows a model alone
        for ex in rule.examples:
            if not ex.negative:
                got = rule.extract(ex.input)
                assert got and got.get("vendor"), (rule.id, ex.input)
    assert vendors >= BRIEF_VENDORS
    files = {p.name for p in shipped_rule_files()}
    assert {"tp-link.yaml", "netgear.yaml", "mikrotik.yaml", "generic.yaml"} <= files


def test_examples_name_their_origin_and_rules_their_references() -> None:
    missing = [
        (r.id, e.input) for r in RULES for e in r.examples if not e.negative and not e.origin
    ]
    assert missing == []


def test_load_rules_from_folder_and_file(tmp_path: Path) -> None:
    one = shipped_rule_files()[0]
    assert [r.id for r in load_rules([one])] == [r.id for r in RULES if r.origin == one.name]
    (tmp_path / "a.yaml").write_text(one.read_text())
    assert len(load_rules([tmp_path])) == len(load_rules([one]))


GOOD = """
vendor: Example
rules:
  - id: example-rule
    source: http.server
    pattern: '^Example/(?P<firmware>[\\d.]+)$'
    weight: 0.5
    description: test rule
    references: [test]
    examples:
      - input: Example/1.2
        expect: {vendor: Example, firmware: "1.2"}
"""


def _write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_minimal_rule_file_loads(tmp_path: Path) -> None:
    (rule,) = load_rules([_write(tmp_path, GOOD)])
    assert rule.extract("Example/1.2") == {"vendor": "Example", "firmware": "1.2"}
    assert rule.check_examples() == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("source: http.server", "source: http.nothing", "unknown source 'http.nothing'"),
        ("'^Example/(?P<firmware>[\\d.]+)$'", "'^Example/(?P<firmware>[\\d.]+$'", "compile"),
        ("(?P<firmware>", "(?P<build>", "named groups ['build']"),
        ("weight: 0.5", "weight: 1.5", "'weight'"),
        ("references: [test]", "references: []", "'references'"),
        ("description: test rule", "colour: red", "unknown keys ['colour']"),
        ("id: example-rule", "id: Example Rule", "'id'"),
        ("expect: {vendor: Example", "expect: {vendr: Example", "'expect'"),
    ],
)
def test_invalid_rule_files_name_file_and_rule(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RuleError) as info:
        load_rules([path])
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_rule_without_examples_is_refused(tmp_path: Path) -> None:
    text = GOOD[: GOOD.index("    examples:")]
    with pytest.raises(RuleError, match="at least one example"):
        load_rules([_write(tmp_path, text)])


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    a = _write(tmp_path, GOOD, "a.yaml")
    b = _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleError, match=re.escape("id already used in")):
        load_rules([a, b])


def test_unreadable_yaml_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read rule file"):
        load_rules([_write(tmp_path, "rules: [unclosed")])
    with pytest.raises(RuleError, match="'rules' list"):
        load_rules([_write(tmp_path, "- just a list")])


def test_failing_examples_are_reported_by_check_examples(tmp_path: Path) -> None:
    text = GOOD.replace('firmware: "1.2"', 'firmware: "9.9"') + "    negative: [Example/3.4]\n"
    (rule,) = load_rules([_write(tmp_path, text)])
    problems = rule.check_examples()
    assert any("firmware is '1.2', expected '9.9'" in p for p in problems)
    assert any("negative example 'Example/3.4'" in p for p in problems)


def test_templates_prefix_and_transforms(tmp_path: Path) -> None:
    text = """
vendor: TP-LINK
rules:
  - id: t1
    source: http.realm
    pattern: '^(?P<model>[a-z]{2}\\d{3}[a-z]?)( v(?P<hardware>[\\d.]+))?$'
    model_prefix: TL-
    transforms: {model: upper}
    weight: 0.5
    description: d
    references: [r]
    examples:
      - input: wr841n v8.0
        expect: {vendor: TP-Link, model: TL-WR841N, hardware: "8"}
  - id: t2
    source: snmp.sysdescr
    pattern: '^Model (?P<model>\\d+)$'
    vendor: DrayTek
    model: 'Vigor{model}'
    weight: 0.5
    description: d
    references: [r]
    examples:
      - input: Model 2960
        expect: {vendor: DrayTek, model: Vigor2960}
"""
    rules = load_rules([_write(tmp_path, text)])
    assert [r.check_examples() for r in rules] == [[], []]
    # the vendor spelling of the file is canonicalised to the display name
    assert rules[0].extract("wr841n") == {"vendor": "TP-Link", "model": "TL-WR841N"}


def test_template_naming_a_missing_group_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("weight: 0.5", "model: 'X{model}'\n    weight: 0.5")
    with pytest.raises(RuleError, match=re.escape("uses {model}")):
        load_rules([_write(tmp_path, text)])
