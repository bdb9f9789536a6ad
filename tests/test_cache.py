"""routerwatch.cache: derived data cached on disk by a digest of its inputs, regexes compiled
on first use; the shipped fingerprint rules come out of it the same as freshly built."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routerwatch import cache


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROUTERWATCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_built_once_then_read_and_rebuilt_when_an_input_changes(tmp_path: Path) -> None:
    source = tmp_path / "rules.txt"
    source.write_text("one")
    calls: list[str] = []

    def build() -> dict[str, object]:
        calls.append(source.read_text())
        return {"text": source.read_text(), "regex": re.compile(r"^ab+c", re.I)}

    first = cache.load_or_build("thing", cache.digest([source]), build)
    again = cache.load_or_build("thing", cache.digest([source]), build)
    assert calls == ["one"] and again["text"] == "one"
    lazy = again["regex"]
    assert isinstance(lazy, cache.LazyPattern) and lazy._compiled is None
    assert lazy.pattern == "^ab+c" and lazy.flags == first["regex"].flags  # type: ignore[union-attr]
    assert lazy._compiled is None  # pattern and flags need no compilation
    assert lazy.search("xx") is None and lazy.match("ABBC") is not None
    assert lazy.groups == 0 and lazy == first["regex"]
    source.write_text("two")
    assert cache.load_or_build("thing", cache.digest([source]), build)["text"] == "two"
    assert calls == ["one", "two"]
    assert len(list(cache.cache_dir().glob("thing.*.pickle"))) == 1  # the stale one is gone


def test_a_damaged_or_unwritable_cache_is_rebuilt_not_an_error(
        _own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache.digest([], extra="x")
    cache.load_or_build("thing", key, lambda: 1)
    [path] = _own_cache.glob("thing.*.pickle")
    path.write_bytes(b"\x80\x05garbage")
    assert cache.load_or_build("thing", key, lambda: 2) == 2
    blocker = _own_cache.parent / "file"
    blocker.write_text("")
    monkeypatch.setenv("ROUTERWATCH_CACHE", str(blocker / "sub"))
    assert cache.load_or_build("thing", key, lambda: 3) == 3


def test_cached_fingerprint_rules_equal_freshly_built_ones(_own_cache: Path) -> None:
    from routerwatch.fingerprint import engine

    fresh = engine._build_shipped(True)
    engine._shipped.cache_clear()
    try:
        engine._shipped(True)  # builds and stores
        engine._shipped.cache_clear()
        cached = engine._shipped(True)  # reads the pickle
    finally:
        engine._shipped.cache_clear()
    assert list(_own_cache.glob("fingerprint-rules.*.pickle"))
    assert len(cached) == len(fresh) > 1000
    for a, b in zip(cached, fresh, strict=True):
        assert (a.id, a.sources, a.weight, a.examples, a.recog) == \
            (b.id, b.sources, b.weight, b.examples, b.recog)
        assert (a.regex.pattern, a.regex.flags) == (b.regex.pattern, b.regex.flags)
    # ... and they still pass their own examples (which compiles the patterns they need).
    problems = [p for rule in cached[:400] for p in rule.check_examples()]
    assert problems == [p for rule in fresh[:400] for p in rule.check_examples()]


def test_yaml_loader_reads_like_safe_load() -> None:
    import yaml

    text = "a: [1, 2.5, yes, null]\nb: {c: 'x'}\n"
    assert cache.load_yaml(text) == yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError):
        cache.load_yaml("!!python/object:os.system {}")
