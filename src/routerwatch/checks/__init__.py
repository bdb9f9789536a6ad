"""Compromise and exposure indicators: rules as data (checks/rules/*.yaml) and their engine.

``evaluate(obs, identity)`` runs the scan rules over one Observation; ``audit_config(path)``
(in :mod:`routerwatch.checks.config_audit`) runs the config rules over an owner's
configuration export. See docs/checks.md.
"""

from __future__ import annotations

from routerwatch.checks.config_audit import ConfigAuditError, audit_config
from routerwatch.checks.engine import IndicatorRule, RuleError, evaluate, load_indicator_rules

__all__ = [
    "ConfigAuditError",
    "IndicatorRule",
    "RuleError",
    "audit_config",
    "evaluate",
    "load_indicator_rules",
]
