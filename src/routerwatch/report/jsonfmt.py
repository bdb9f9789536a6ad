"""The JSON report: ``to_dict`` / ``from_dict`` (its exact inverse) and the JSON text.

The shape (format 1) extends the scan JSON of the scanner issue; see docs/reports.md::

    {"routerwatch": {"version": "0.1.0", "format": 1}, "kind": "scan", "generated": "...",
     "scope": [...], "kb": {...}, "policy": null, "elapsed": 1.2, "warnings": [...],
     "summary": {...},
     "hosts": [{"address", "open_ports", "identity", "findings", "indicators", "risk",
                "risk_level", "actions", "eol", "policy", "site", "notes"}]}

``summary`` is derived and ignored on reading. ``from_dict`` checks every value it reads and
raises ReportError naming the path of the first bad one (``hosts[2].findings[0].status``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar, cast

from routerwatch.models import (
    Action,
    Assessment,
    DeviceIdentity,
    Evidence,
    Finding,
    Indicator,
    Report,
)
from routerwatch.report.errors import ReportError
from routerwatch.report.summary import summary

FORMAT_VERSION = 1
KINDS = ("scan", "check", "demo")
STATUSES = ("affected", "possible", "not_affected")
SOURCES = ("nvd", "cve5", "kev")
INDICATOR_KINDS = ("compromise", "exposure")
CERTAINTIES = ("high", "medium", "low")

T = TypeVar("T")

# --------------------------------------------------------------------------- writing


def _jsonable(value: Any) -> Any:
    """The KB status may carry dates or tuples: make it plain JSON."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def action_to_dict(action: Action) -> dict[str, Any]:
    return {
        "priority": action.priority,
        "kind": action.kind,
        "text": action.text,
        "clears": list(action.clears),
    }


def host_to_dict(a: Assessment) -> dict[str, Any]:
    return {
        "address": a.address,
        "open_ports": list(a.open_ports),
        "identity": a.identity.to_dict(),
        "findings": [f.to_dict() for f in a.findings],
        "indicators": [i.to_dict() for i in a.indicators],
        "risk": a.risk,
        "risk_level": a.risk_level,
        "actions": [action_to_dict(x) for x in a.actions],
        "eol": a.eol,
        "policy": list(a.policy),
        "site": a.site,
        "notes": list(a.notes),
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The whole report as plain JSON-ready data (format 1)."""
    return {
        "routerwatch": {"version": report.tool_version, "format": FORMAT_VERSION},
        "kind": report.kind,
        "generated": report.generated,
        "scope": list(report.scope),
        "kb": _jsonable(report.kb),
        "policy": report.policy,
        "elapsed": report.elapsed,
        "warnings": list(report.warnings),
        "summary": summary(report),
        "hosts": [host_to_dict(a) for a in report.assessments],
    }


def render_json(report: Report) -> str:
    try:
        return json.dumps(to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:  # NaN or infinity somewhere in the report
        raise ReportError(f"report holds a number JSON cannot carry: {exc}") from exc


# --------------------------------------------------------------------------- reading


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _bad(path: str, expected: str, value: Any) -> ReportError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ReportError(f"{path}: expected {expected}, got {_type_name(value)} {shown}")


class _Obj:
    """A JSON object being read, with the path used in error messages."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _bad(path or "document", "an object", value)
        self.data: dict[str, Any] = value
        self.path = path

    def _p(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                raise ReportError(f"{self._p(key)}: missing")
            return None
        return self.data[key]

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default is None)
        if value is None and default is not None and key not in self.data:
            return default
        if not isinstance(value, str):
            raise _bad(self._p(key), "a string", value)
        return value

    def opt_str(self, key: str) -> str | None:
        value = self._get(key, False)
        if value is not None and not isinstance(value, str):
            raise _bad(self._p(key), "a string or null", value)
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise _bad(self._p(key), "one of " + "/".join(choices), value)
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            raise _bad(self._p(key), "true or false", value)
        return value

    def _number(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(self._p(key), "a number", value)
        if not math.isfinite(value):
            raise _bad(self._p(key), "a finite number", value)
        return float(value)

    def num(self, key: str, default: float = 0.0) -> float:
        if key not in self.data:
            return default
        return self._number(key, self.data[key])

    def opt_num(self, key: str) -> float | None:
        value = self._get(key, False)
        return None if value is None else self._number(key, value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self._get(key, default is None)
        if key not in self.data and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self._p(key), "an integer", value)
        return value

    def opt_int(self, key: str) -> int | None:
        value = self._get(key, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self._p(key), "an integer or null", value)
        return value

    def obj(self, key: str, required: bool = True) -> _Obj:
        value = self._get(key, required)
        return _Obj({} if value is None and not required else value, self._p(key))

    def array(self, key: str, read: Callable[[Any, str], T], required: bool = False) -> list[T]:
        value = self._get(key, required)
        if value is None and key not in self.data:
            return []
        if not isinstance(value, list):
            raise _bad(self._p(key), "an array", value)
        return [read(item, f"{self._p(key)}[{i}]") for i, item in enumerate(value)]


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _bad(path, "a string", value)
    return value


def _port(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise _bad(path, "a port number 0-65535", value)
    return value


def _evidence(value: Any, path: str) -> Evidence:
    o = _Obj(value, path)
    fields = o.data.get("fields") or {}
    if not isinstance(fields, dict):
        raise _bad(o._p("fields"), "an object", fields)
    for k, v in fields.items():
        if not isinstance(v, str):
            raise _bad(f"{o._p('fields')}.{k}", "a string", v)
    return Evidence(
        source=o.text("source"),
        value=o.text("value"),
        rule=o.opt_str("rule"),
        fields=tuple(fields.items()),
    )


def _identity(o: _Obj) -> DeviceIdentity:
    confidence = o.num("confidence")
    if not 0.0 <= confidence <= 1.0:
        raise _bad(o._p("confidence"), "a number from 0 to 1", confidence)
    return DeviceIdentity(
        vendor=o.opt_str("vendor"),
        model=o.opt_str("model"),
        hardware=o.opt_str("hardware"),
        firmware=o.opt_str("firmware"),
        region=o.opt_str("region"),
        confidence=confidence,
        evidence=tuple(o.array("evidence", _evidence)),
    )


def _finding(value: Any, path: str) -> Finding:
    o = _Obj(value, path)
    return Finding(
        cve=o.text("cve"),
        status=cast(Any, o.choice("status", STATUSES)),
        reason=o.text("reason", ""),
        source=cast(Any, o.choice("source", SOURCES, "nvd")),
        kev=o.flag("kev"),
        kev_date=o.opt_str("kev_date"),
        epss=o.opt_num("epss"),
        cvss=o.opt_num("cvss"),
        severity=o.opt_str("severity"),
        fixed_in=o.opt_str("fixed_in"),
        description=o.text("description", ""),
        criteria=tuple(o.array("criteria", _string)),
        exploited_by=tuple(o.array("exploited_by", _string)),
    )


def _indicator(value: Any, path: str) -> Indicator:
    o = _Obj(value, path)
    port = o.opt_int("port")
    if port is not None:
        _port(port, o._p("port"))
    return Indicator(
        rule=o.text("rule"),
        kind=cast(Any, o.choice("kind", INDICATOR_KINDS)),
        title=o.text("title", ""),
        certainty=cast(Any, o.choice("certainty", CERTAINTIES)),
        evidence=tuple(o.array("evidence", _evidence)),
        campaign=o.opt_str("campaign"),
        references=tuple(o.array("references", _string)),
        port=port,
    )


def _action(value: Any, path: str) -> Action:
    o = _Obj(value, path)
    return Action(
        priority=o.integer("priority"),
        kind=o.text("kind"),
        text=o.text("text"),
        clears=tuple(o.array("clears", _string)),
    )


def _host(value: Any, path: str) -> Assessment:
    o = _Obj(value, path)
    if "address" not in o.data:
        raise ReportError(f"{o._p('address')}: missing")
    return Assessment(
        address=o.opt_str("address"),
        identity=_identity(o.obj("identity")),
        open_ports=tuple(o.array("open_ports", _port)),
        findings=tuple(o.array("findings", _finding)),
        indicators=tuple(o.array("indicators", _indicator)),
        risk=o.num("risk"),
        risk_level=o.text("risk_level", "none"),
        actions=tuple(o.array("actions", _action)),
        eol=o.opt_str("eol"),
        policy=tuple(o.array("policy", _string)),
        site=o.opt_str("site"),
        notes=tuple(o.array("notes", _string)),
    )


def from_dict(data: Any) -> Report:
    """Read a report written by ``to_dict`` back; ReportError names the first bad value."""
    top = _Obj(data, "")
    if "routerwatch" not in top.data:
        raise ReportError(
            "not a routerwatch report: the 'routerwatch' header "
            '({"version": ..., "format": 1}) is missing'
        )
    header = top.obj("routerwatch")
    fmt = header.integer("format")
    if fmt != FORMAT_VERSION:
        raise ReportError(
            f"routerwatch.format: report format {fmt} is not supported "
            f"(this routerwatch reads format {FORMAT_VERSION})"
        )
    kb = top.data.get("kb")
    kb = {} if kb is None else kb
    if not isinstance(kb, dict):
        raise _bad("kb", "an object", kb)
    return Report(
        assessments=tuple(top.array("hosts", _host, required=True)),
        generated=top.text("generated", ""),
        tool_version=header.text("version", ""),
        kind=cast(Any, top.choice("kind", KINDS, "scan")),
        scope=tuple(top.array("scope", _string)),
        kb=kb,
        policy=top.opt_str("policy"),
        elapsed=top.num("elapsed"),
        warnings=tuple(top.array("warnings", _string)),
    )
