"""The fingerprint engine's per-input cache (and the precompiled generic firmware-OS patterns)
change no answer: every hit and identity equals the uncached search (kept here verbatim as the
oracle) on the captures corpus and on records of the bulk generator in all five formats,
with the cache cold, warm, and overflowing."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from routerwatch.bulk.dataset import plan_chunks, read_chunk
from routerwatch.bulk.generate import write_dataset
from routerwatch.bulk.record import ReadStats, merge_records
from routerwatch.fingerprint import Fingerprinter
from routerwatch.fingerprint.engine import Hit, _family, merge_hits
from routerwatch.fingerprint.generic import _vocab, firmware_os, generic_hits
from routerwatch.fingerprint.inputs import Input, extract_inputs
from routerwatch.models import Observation

ROOT = Path(__file__).resolve().parents[2]
FORMATS = {"shodan": "s.jsonl", "zgrab2": "z.jsonl", "censys": "c.jsonl",
           "masscan-list": "m.txt", "nmap": "n.xml"}


def oracle_hits(fp: Fingerprinter, obs: Observation) -> list[Hit]:
    """Fingerprinter.hits as it was before the cache."""
    by_source: dict[str, list[Input]] = defaultdict(list)
    texts: dict[str, list[str]] = defaultdict(list)
    for item in extract_inputs(obs):
        by_source[item.source].append(item)
        texts[item.source].append(item.text)
    found: list[Hit] = []
    for source, items in by_source.items():
        index = fp._index.get(source)
        if index is None:
            continue
        unique: dict[tuple[str, str | None], Input] = {}
        for item in items:
            unique.setdefault((item.text, item.path), item)
        for (text, path), item in unique.items():
            for rule in index.candidates(text):
                if rule.require and not rule.requirements_met(texts):
                    continue
                if rule.path is not None and (path is None or not rule.path.fullmatch(path)):
                    continue
                fields = rule.extract(text)
                if fields:
                    found.append(Hit(rule, item.label, _family(source), text,
                                     tuple(fields.items())))
    for g in generic_hits(obs):
        if g.fields:
            found.append(Hit(g.rule, g.label, g.family, g.text, g.fields))
    found.sort(key=lambda h: (-h.weight, h.rule.origin.startswith("recog:"), h.label,
                              h.rule.id, h.text))
    return found


@pytest.fixture(scope="module")
def observations(tmp_path_factory: pytest.TempPathFactory) -> list[Observation]:
    spec = importlib.util.spec_from_file_location(
        "rw_ident_quality_fp", ROOT / "scripts" / "identification_quality.py")
    assert spec is not None and spec.loader is not None
    quality: Any = importlib.util.module_from_spec(spec)
    sys.modules["rw_ident_quality_fp"] = quality
    spec.loader.exec_module(quality)
    out = [case.observation for case in quality.load_corpus()]
    folder = tmp_path_factory.mktemp("gen")
    paths = []
    for seed, (fmt, name) in enumerate(FORMATS.items(), start=1):
        write_dataset(folder / name, fmt, 500, seed=seed, router_share=0.4,
                      captures=ROOT / "tests" / "captures")
        paths.append(folder / name)
    groups: dict[str, list[Any]] = defaultdict(list)
    for chunk in plan_chunks(paths):
        for record in read_chunk(chunk, ReadStats()):
            groups[record.observation.address].append(record)
    out += [merge_records(g).observation for g in groups.values()]
    return out


def test_cached_hits_equal_the_uncached_search(observations: list[Observation]) -> None:
    fp = Fingerprinter()
    assert len(observations) > 1500
    want = [oracle_hits(fp, obs) for obs in observations]
    assert sum(map(len, want)) > 1000  # the comparison covers many hits
    for _round in range(2):  # cold, then warm
        for obs, hits in zip(observations, want, strict=True):
            assert fp.hits(obs) == hits, obs.address
    assert fp.text_hits > fp.text_misses > 0
    tiny = Fingerprinter(text_cache=4096)  # overflows and starts afresh again and again
    for obs, hits in zip(observations, want, strict=True):
        assert tiny.hits(obs) == hits
        assert tiny.identify(obs) == merge_hits(hits)
    off = Fingerprinter(text_cache=0)
    for obs, hits in zip(observations[:300], want, strict=False):
        assert off.hits(obs) == hits
    assert not off._text_cache


def test_firmware_os_equals_the_per_call_regex() -> None:
    def oracle(text: str) -> str | None:
        low = text.casefold()
        for key, name in _vocab().firmware_os.items():
            if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", low):
                return name
        return None

    keys = list(_vocab().firmware_os)
    texts = ["", "Linux", "DD-WRT v24-sp2", "dd-wrtx", "x-openwrt", "OpenWrt 19.07",
             "my tomato-shibby", "FreshTomato", "ASUSWRT-Merlin", "padavan (rt-n56u)"]
    texts += [f"{pre}{k}{post}" for k in keys for pre in ("", " ", "-", "a") for post in
              ("", " 1.0", "-x", "b")]
    for text in texts:
        assert firmware_os(text) == oracle(text), text


def test_server_header_readings_equal_fresh_ones(observations: list[Observation]) -> None:
    from routerwatch.fingerprint.generic import _read_server, _server

    def plain(hits: Any) -> list[tuple[Any, ...]]:
        return [(g.rule, g.label, g.family, g.text, g.fields) for g in hits]

    headers = {(f"http.server:{h.port}", h.header("server")) for obs in observations
               for h in obs.http if h.header("server")}
    assert len(headers) > 50
    for _round in range(2):
        for label, header in sorted(headers, key=str):
            assert header is not None
            assert plain(_server(label, "http.server", header)) == plain(
                _read_server(label, "http.server", header))
