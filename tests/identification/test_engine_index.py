"""The prefix index skips only rules that cannot match: for multi-line inputs (SNMP sysDescr,
banners, pages) the rules it offers per line read exactly what trying every rule reads."""

from __future__ import annotations

import sys
from pathlib import Path

from routerwatch.fingerprint.engine import MAX_LINES, Fingerprinter
from routerwatch.fingerprint.inputs import extract_inputs

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import identification_quality as quality  # noqa: E402


def _multi_line_texts(fp: Fingerprinter) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for case in quality.load_corpus():
        for item in extract_inputs(case.observation):
            if "\n" in item.text:
                out.append((item.source, item.text))
    for rule in fp.rules:  # every rule example with a line break (Recog banners, sysDescr)
        for ex in rule.examples:
            if "\n" in ex.input:
                out.extend((source, ex.input) for source in rule.sources)
    return out


def test_multi_line_candidates_lose_no_hit() -> None:
    fp = Fingerprinter()
    texts = _multi_line_texts(fp)
    assert len(texts) > 50
    checked = 0
    for source, text in texts:
        index = fp._index.get(source)
        if index is None:
            continue
        offered = {id(r) for r in index.candidates(text)}
        for rule in index.rules:
            if id(rule) not in offered:
                assert not rule.extract(text), (rule.id, source, text[:120])
        checked += 1
        if text.count("\n") < MAX_LINES:
            assert len(offered) <= len(index.rules)
    assert checked > 50
