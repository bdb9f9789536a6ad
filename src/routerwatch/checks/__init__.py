"""Compromise and exposure indicators: rules as data (checks/rules/*.yaml) and their engine.

``evaluate(obs, identity)`` runs the scan rules over one Observation; ``audit_config(path)``
(in :mod:`routerwatch.checks.config_audit`) runs the config rules over an owner's
configuration export. See docs/checks.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routerwatch.checks.config_audit import ConfigAuditError, audit_config
    from routerwatch.checks.engine import (
        IndicatorRule,
        RuleError,
        evaluate,
        load_indicator_rules,
    )

__all__ = [
    "ConfigAuditError",
    "IndicatorRule",
    "RuleError",
    "audit_config",
    "evaluate",
    "load_indicator_rules",
]

_HOMES = {"ConfigAuditError": "config_audit", "audit_config": "config_audit",
          "IndicatorRule": "engine", "RuleError": "engine", "evaluate": "engine",
          "load_indicator_rules": "engine"}


def __getattr__(name: str) -> Any:
    """The names above load their module on first use (PEP 562): ``assess`` needs only the
    campaign sources, not the config audit's parsers."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'routerwatch.checks' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"routerwatch.checks.{home}"), name)
