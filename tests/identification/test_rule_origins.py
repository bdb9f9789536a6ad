"""Rule origins must be checkable by someone else, and never the project's own lab.

A rule whose strings come from the lab proves nothing about real devices: the lab was
written after the rule (or the other way round). Every reference must name a public source
a reader can open: a Recog database, FIELD-NOTES (with its own sources), a sample or capture
of tests/, an issue, a URL, a repository path, a Greenbone VT, a nuclei template, an RFC, the
vendor registry or the Wireshark OUI file.
"""

from __future__ import annotations

import re

from routerwatch.fingerprint.rules import load_rules

CHECKABLE = re.compile(
    r"Recog|FIELD-NOTES|samples/|captures/|https?://|issue \d+|docs/|vendors\.yaml|Wireshark|"
    r"Greenbone VT|nuclei|RFC \d+|UPnP Device Architecture|\b[\w.-]+/[\w.-]+\.\w+\b"
)
THE_LAB = re.compile(r"\blab\b|lab profile|routerwatch lab|emulated", re.I)


def test_no_rule_cites_the_lab() -> None:
    bad = [
        (r.id, ref)
        for r in load_rules()
        for ref in (*r.references, *(e.origin for e in r.examples))
        if THE_LAB.search(ref)
    ]
    assert bad == []


def test_every_rule_names_a_checkable_source() -> None:
    bad = [r.id for r in load_rules() if not any(CHECKABLE.search(ref) for ref in r.references)]
    assert bad == []


def test_the_check_refuses_what_it_should() -> None:
    assert THE_LAB.search("title as emulated by the routerwatch lab profile zyxel-vmg8825-t50")
    assert not CHECKABLE.search("public code comment")
    assert CHECKABLE.search('Recog html_title.xml "FRITZ!Box"')
