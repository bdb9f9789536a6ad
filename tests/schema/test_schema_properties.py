"""The schema's laws, by hypothesis: model → JSON → model is the identity; any JSON that the
published JSON Schema accepts loads; junk is refused with one error naming the field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schema_strategies import STRATEGIES, json_value, observation, report, scan_run

from routerwatch import models
from routerwatch.models import Model, Report
from routerwatch.report import from_dict, render, to_dict
from routerwatch.schema import (
    FORMAT,
    ObservationBatch,
    SchemaError,
    decode,
    encode,
    encode_observations,
    encode_report,
    from_builtins,
    read_document,
    to_builtins,
)

DOCS = Path(__file__).parents[2] / "docs" / "schema"
ALL_MODELS = sorted(
    (c for c in vars(models).values() if isinstance(c, type) and issubclass(c, Model)
     and c is not Model),
    key=lambda c: c.__name__,
)


def test_every_model_has_a_strategy() -> None:
    assert set(ALL_MODELS) == set(STRATEGIES)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_model_json_model_is_identity(model: type, data: st.DataObject) -> None:
    value = data.draw(STRATEGIES[model])
    raw = encode(value)
    assert decode(raw, model) == value
    assert from_builtins(json.loads(raw), model) == value
    assert to_builtins(value) == json.loads(raw)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report)
def test_report_document_round_trip(r: Report) -> None:
    assert read_document(encode_report(r)) == r
    assert from_dict(to_dict(r)) == r
    assert from_dict(render(r, "json")) == r


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scan_run, st.lists(observation, max_size=3))
def test_observations_document_round_trip(run: models.ScanRun, obs: list[Any]) -> None:
    doc = read_document(encode_observations(run, obs))
    assert isinstance(doc, ObservationBatch)
    assert doc.run == run and list(doc.observations) == obs
    assert doc.routerwatch.format == FORMAT and doc.routerwatch.document == "observations"


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((DOCS / f"{name}.schema.json").read_text())
    return schema


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """JSON values that ``schema`` accepts, for the subset of JSON Schema the published files
    use ($ref, object/array/string/integer/number/boolean/null, anyOf, enum, const, pattern,
    bounds). Written here because hypothesis-jsonschema no longer runs on current Hypothesis.
    Optional properties come and go, and unknown ones are added now and then."""
    defs = schema.get("$defs", {})

    def gen(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
        if "$ref" in node:
            return st.deferred(lambda: gen(defs[node["$ref"].rsplit("/", 1)[-1]], depth + 1))
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        if "anyOf" in node:
            return st.one_of([gen(n, depth) for n in node["anyOf"]])
        kind = node.get("type")
        if kind is None:
            return json_value
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return st.integers(node.get("minimum", -(2**53)), node.get("maximum", 2**53))
        if kind == "number":
            return st.floats(node.get("minimum"), node.get("maximum"), allow_nan=False,
                             allow_infinity=False)
        if kind == "string":
            if "pattern" in node:
                return st.from_regex(node["pattern"])
            return st.text(max_size=10)
        if kind == "array":
            if "prefixItems" in node:
                return st.tuples(*(gen(n, depth) for n in node["prefixItems"])).map(list)
            return st.lists(gen(node.get("items", {}), depth), max_size=0 if depth > 3 else 2)
        if kind == "object":
            props = node.get("properties")
            if props is None:
                extra = node.get("additionalProperties", {})
                return st.dictionaries(st.text(max_size=6), gen(extra, depth), max_size=2)
            required = set(node.get("required", ()))

            @st.composite
            def obj(draw: st.DrawFn) -> dict[str, Any]:
                out = {}
                for key, sub in props.items():
                    if key in required or draw(st.booleans()):
                        out[key] = draw(gen(sub, depth + 1))
                if draw(st.integers(0, 9)) == 0:
                    out.setdefault("x_added_later", draw(json_value))
                return out

            return obj()
        raise AssertionError(f"schema construct not handled: {node}")

    return gen({k: v for k, v in schema.items() if k != "$defs"})


@pytest.mark.parametrize("name", ["report", "observations"])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_any_json_the_published_schema_accepts_loads(name: str, data: st.DataObject) -> None:
    schema = _schema(name)
    doc = data.draw(from_schema(schema))
    Draft202012Validator(schema).validate(doc)  # the generator stays within the schema
    loaded = read_document(json.dumps(doc))  # must not raise
    assert type(loaded).__name__ == ("Report" if name == "report" else "ObservationBatch")


# --------------------------------------------------------------------------- junk

def _leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every value in parsed JSON, in msgspec's path syntax."""
    out = [(path, node)] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _leaves(v, f"{path}[{i}]")
    return out


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _set(doc: Any, path: str, value: Any) -> None:
    steps = [int(i) if i else k for k, i in _STEP.findall(path)]
    node = doc
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value


_FREE = re.compile(r"^(kb|summary)\b|\.newest\b|^hosts\[\d+\]\.(extra|identity\.evidence)")


def _junk_for(value: Any) -> Any:
    """A value of another JSON type than ``value`` (so no field of the schema accepts both)."""
    if isinstance(value, dict):
        return "junk"
    if isinstance(value, list):
        return {"junk": 1}
    if isinstance(value, str):
        return {"junk": "x"}
    return ["junk"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report, st.data())
def test_junk_in_any_field_is_refused_naming_that_field(r: Report, data: st.DataObject) -> None:
    doc = json.loads(encode_report(r))
    leaves = [(p, v) for p, v in _leaves(doc) if not _FREE.search(p) and p != "routerwatch"]
    assume(leaves)
    path, value = data.draw(st.sampled_from(leaves))
    _set(doc, path, _junk_for(value))
    with pytest.raises(SchemaError) as caught:
        read_document(json.dumps(doc))
    assert caught.value.path == path, str(caught.value)
    assert str(caught.value).startswith(path + ": ")


@settings(max_examples=100, deadline=None)
@given(json_value)
def test_random_json_is_refused_cleanly(value: Any) -> None:
    try:
        read_document(json.dumps(value))
    except SchemaError as exc:
        assert str(exc)
    else:  # only a document with the header can load
        raise AssertionError(f"loaded {value!r}")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_are_refused_cleanly(raw: bytes) -> None:
    with pytest.raises(SchemaError):
        read_document(raw)


def test_observation_junk_names_the_field() -> None:
    good = encode(models.Observation(address="127.0.0.1", open_ports=(80,)))
    bad = good.replace(b"[80]", b'[80,"x"]')
    with pytest.raises(SchemaError, match=r"^open_ports\[1\]: expected `int`, got `str`"):
        decode(bad, models.Observation)
    with pytest.raises(SchemaError, match=r"^address: missing"):
        decode(b"{}", models.Observation)
    with pytest.raises(SchemaError, match=r"^http\[0\]\.port: expected `int` <= 65535"):
        decode(b'{"address": "a", "http": [{"port": 70000}]}', models.Observation)


def test_unknown_fields_are_ignored_within_a_format() -> None:
    """The upgrade rule: a newer writer of the same format may add fields; readers skip them."""
    raw = msgspec.json.encode({"address": "127.0.0.1", "added_later": {"x": [1, 2]}})
    assert decode(raw, models.Observation) == models.Observation(address="127.0.0.1")
