"""Hypothesis profiles for the fuzz targets (tests/fuzz/).

``fuzz-ci`` (the default) keeps every target to a small example budget so the suite stays
fast; ``HYPOTHESIS_PROFILE=long`` (or ``fuzz-long``) runs 5,000 examples per target, e.g.
``HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest -q -p no:cacheprovider tests/fuzz``.
The profiles are applied per test (``FUZZ`` in fuzzlib), never globally, so other tests keep
their own settings.
"""
