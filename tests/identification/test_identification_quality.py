"""The identification quality gate on real captures.

See tests/captures and scripts/identification_quality.py.

Figures per field and split must not fall below tests/identification/baseline.json; the
corpus itself must keep its size, spread, truth labels and provenance.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INDEX = ROOT / "tests" / "captures" / "index.yaml"
ALLOWED_LICENCES = {"MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "CC0-1.0", "public domain"}


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "identification_quality.py"
    spec = importlib.util.spec_from_file_location("rw_ident_quality", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rw_ident_quality"] = module
    spec.loader.exec_module(module)
    return module


quality = _load_script()


@pytest.fixture(scope="module")
def index() -> list[dict[str, Any]]:
    return yaml.safe_load(INDEX.read_text("utf-8"))["devices"]


@pytest.fixture(scope="module")
def evaluated() -> tuple[list[Any], dict[str, Any]]:
    return quality.evaluate(quality.load_corpus())


def test_corpus_size_and_spread(index: list[dict[str, Any]]) -> None:
    vendors = {d["truth"]["vendor"] for d in index}
    assert len(index) >= 60
    assert len(vendors) >= 20
    own = [d for d in index if not d.get("recog")]
    assert len({d["truth"]["vendor"] for d in own}) >= 15


def test_every_capture_has_truth_and_provenance(index: list[dict[str, Any]]) -> None:
    ids = [d["id"] for d in index]
    assert len(ids) == len(set(ids))
    for d in index:
        assert d["truth"].get("vendor"), d["id"]
        assert set(d["truth"]) <= {"vendor", "model", "hardware", "firmware", "os"}, d["id"]
        src = d["source"]
        assert src["repo"] and src["path"] and len(src["commit"]) == 40, d["id"]
        assert src["licence"] in ALLOWED_LICENCES, d["id"]
        # Recog is also a rule source: its examples must be marked so the gate can set them apart.
        assert bool(d.get("recog")) == (src["repo"] == "rapid7/recog"), d["id"]
        for cap in d["captures"]:
            for key in ("file", "body"):
                if key in cap:
                    assert (INDEX.parent / cap[key]).is_file(), (d["id"], cap[key])


def test_heldout_split_is_the_stated_rule(index: list[dict[str, Any]]) -> None:
    import hashlib

    for d in index:
        number = int(hashlib.sha256(d["id"].encode()).hexdigest(), 16)
        assert quality.held_out(d["id"]) == (number % 3 == 0)
    share = sum(quality.held_out(d["id"]) for d in index) / len(index)
    assert 0.2 < share < 0.45


def test_no_regression_against_baseline(evaluated: tuple[list[Any], dict[str, Any]]) -> None:
    _results, figures = evaluated
    baseline = json.loads((ROOT / "tests" / "identification" / "baseline.json").read_text())
    assert quality.regressions(figures, baseline) == []


def test_wrong_answers_stay_rare(evaluated: tuple[list[Any], dict[str, Any]]) -> None:
    """A wrong answer costs more than a missing one: at most 1 % of the labelled devices of
    every split and field (below 100 labelled devices that means none)."""
    _results, figures = evaluated
    for split in ("all", "heldout", "not_recog", "heldout_not_recog"):
        for name in ("vendor", "model", "hardware", "firmware", "os"):
            s = figures[split]["fields"][name]
            assert s["wrong"] <= 0.01 * s["labelled"], (split, name, s)


def test_gate_detects_a_worse_identifier(evaluated: tuple[list[Any], dict[str, Any]]) -> None:
    """The gate can fail: without the generic identification the figures regress."""
    from routerwatch.fingerprint.engine import Fingerprinter

    cases = quality.load_corpus()
    _r, worse = quality.evaluate(cases, Fingerprinter(use_generic=False))
    baseline = json.loads((ROOT / "tests" / "identification" / "baseline.json").read_text())
    assert quality.regressions(worse, baseline)


def test_script_exits_zero_on_the_baseline() -> None:
    assert quality.main(["--json"]) == 0
