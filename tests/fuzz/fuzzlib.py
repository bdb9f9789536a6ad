"""Shared settings and strategies for the fuzz targets."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "fuzz-ci", max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "fuzz-long", max_examples=5000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
_NAME = os.environ.get("HYPOTHESIS_PROFILE", "fuzz-ci")
FUZZ = settings.get_profile("fuzz-long" if _NAME in ("long", "fuzz-long") else "fuzz-ci")

#: text that looks a little like what the parsers read: digits, dots, separators, letters,
#: controls, bidi overrides, surrogate-free unicode
TEXTY = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("0123456789.-_/ ():,;=<>\"'[]{}vVbBrR\r\n\t\x00\x9b\u202e")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=200,
)

#: arbitrary JSON values, nested a little
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=5),
    max_leaves=30,
)


def mutate(value: object, data: st.DataObject) -> object:
    """Replace one node of a JSON value with an arbitrary one (a hostile mirror's edit)."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        return {**value, key: mutate(value[key], data)}
    if isinstance(value, list) and value and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], mutate(value[index], data), *value[index + 1:]]
    return data.draw(JSON)
