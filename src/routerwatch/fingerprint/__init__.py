"""Fingerprint engine: identify a router's vendor, model, hardware and firmware from an
Observation with rules kept as data (own YAML rules and Rapid7 Recog databases).

>>> from routerwatch.fingerprint import Fingerprinter
>>> Fingerprinter().identify(observation)          # doctest: +SKIP
DeviceIdentity(vendor='TP-Link', model='TL-WR841N', hardware='8', ...)
"""

from routerwatch.fingerprint.engine import Fingerprinter, Hit, merge_hits
from routerwatch.fingerprint.recog import load_recog, shipped_recog
from routerwatch.fingerprint.rules import Example, Rule, RuleError, load_rules

__all__ = [
    "Example",
    "Fingerprinter",
    "Hit",
    "Rule",
    "RuleError",
    "load_recog",
    "load_rules",
    "merge_hits",
    "shipped_recog",
]
