"""Fixtures of the matcher tests (helpers live in match_helpers.py)."""

from __future__ import annotations

import pytest
from match_helpers import shared_matcher

from routerwatch.match import Matcher


@pytest.fixture
def matcher() -> Matcher:
    return shared_matcher()
