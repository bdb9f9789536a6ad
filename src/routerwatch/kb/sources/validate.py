"""Strict type and range checks for the parts of a record the matcher and reports use.

The parsers call these before a row is built, so a record that would later crash a check
(an object where a version string belongs, a list where a boolean belongs, a CVSS score of
1e999) is refused at import/sync time with one :class:`RecordError` naming the field, e.g.
``configurations[0].nodes[1].cpeMatch[2].versionEndExcluding: expected a string, got
object``. Unknown keys are allowed (the feeds grow); known keys must have the right type.
"""

from __future__ import annotations

import math
from typing import Any

from routerwatch.kb.errors import RecordError

__all__ = [
    "Check",
    "cve5_containers",
    "cvss_score",
    "kev_entry",
    "nvd_configurations",
    "nvd_record",
    "probability",
]

MAX_DEPTH = 16  # nested configuration nodes (NVD uses 2)
MAX_TEXT = 1 << 20  # characters in one text field
_OPERATORS = ("AND", "OR")
_CVE5_STATUS = ("affected", "unaffected", "unknown")

_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
          float: "number", type(None): "null"}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return _NAMES.get(type(value), type(value).__name__)


class Check:
    """Raise RecordError(index, cve_id) naming the field path."""

    def __init__(self, index: int | None, cve_id: str | None) -> None:
        self.index = index
        self.cve_id = cve_id

    def fail(self, path: str, problem: str) -> RecordError:
        return RecordError(f"{path}: {problem}", self.index, self.cve_id)

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_kind(value)}")
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected an array, got {_kind(value)}")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {_kind(value)}")
        if len(value) > MAX_TEXT:
            raise self.fail(path, f"string longer than {MAX_TEXT} characters")
        return value

    def flag(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {_kind(value)}")
        return value

    def number(self, value: Any, path: str, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"expected a number, got {_kind(value)}")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float range
            raise self.fail(path, "number out of range") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise self.fail(path, f"{_short_number(value)} is outside {low:g}..{high:g}")
        return number

    # optional variants: absent or null is fine
    def opt_text(self, d: dict[str, Any], key: str, path: str) -> str | None:
        value = d.get(key)
        return None if value is None else self.text(value, _join(path, key))

    def opt_array(self, d: dict[str, Any], key: str, path: str) -> list[Any]:
        value = d.get(key)
        return [] if value is None else self.array(value, _join(path, key))

    def opt_flag(self, d: dict[str, Any], key: str, path: str) -> bool | None:
        value = d.get(key)
        return None if value is None else self.flag(value, _join(path, key))

    def choice(self, d: dict[str, Any], key: str, path: str, allowed: tuple[str, ...],
               fold: bool = False) -> str | None:
        value = self.opt_text(d, key, path)
        if value is not None and (value.lower() if fold else value) not in allowed:
            shown = ", ".join(allowed)
            raise self.fail(_join(path, key), f"{value[:40]!r} is not one of {shown}")
        return value


def _short_number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        bits = value.bit_length()
        return str(value) if bits < 200 else f"an integer of {bits} bits"
    return repr(value)


def cvss_score(check: Check, value: Any, path: str) -> float:
    """A CVSS base score: a finite number in 0..10."""
    return check.number(value, path, 0.0, 10.0)


def probability(check: Check, value: Any, path: str) -> float:
    """An EPSS score or percentile: a finite number in 0..1."""
    return check.number(value, path, 0.0, 1.0)


# --------------------------------------------------------------------------- NVD

_BOUNDS = ("versionStartIncluding", "versionStartExcluding",
           "versionEndIncluding", "versionEndExcluding")


def _cpe_match(check: Check, raw: Any, path: str) -> None:
    m = check.obj(raw, path)
    criteria = m.get("criteria", m.get("cpe23Uri"))
    key = "criteria" if "criteria" in m or "cpe23Uri" not in m else "cpe23Uri"
    text = check.text(criteria, _join(path, key))
    if not text.startswith("cpe:2.3:"):
        raise check.fail(_join(path, key), f"{text[:40]!r} is not a CPE 2.3 name")
    check.opt_flag(m, "vulnerable", path)  # absent: vulnerable (as the evaluator reads it)
    check.opt_text(m, "matchCriteriaId", path)
    for bound in _BOUNDS:
        check.opt_text(m, bound, path)


def _node(check: Check, raw: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise check.fail(path, f"nested deeper than {MAX_DEPTH} levels")
    node = check.obj(raw, path)
    check.choice(node, "operator", path, _OPERATORS)
    check.opt_flag(node, "negate", path)
    for key in ("cpeMatch", "cpe_match"):
        for i, m in enumerate(check.opt_array(node, key, path)):
            _cpe_match(check, m, f"{path}.{key}[{i}]")
    for i, child in enumerate(check.opt_array(node, "children", path)):
        _node(check, child, f"{path}.children[{i}]", depth + 1)


def nvd_configurations(check: Check, value: Any) -> None:
    """``configurations``: [{operator?, negate?, nodes: [{operator, negate?, cpeMatch: [...]}]}]."""
    for i, conf in enumerate(check.array(value, "configurations")):
        path = f"configurations[{i}]"
        c = check.obj(conf, path)
        check.choice(c, "operator", path, _OPERATORS)
        check.opt_flag(c, "negate", path)
        for j, node in enumerate(check.array(c.get("nodes"), f"{path}.nodes")):
            _node(check, node, f"{path}.nodes[{j}]", 1)


def _lang_texts(check: Check, d: dict[str, Any], key: str, path: str) -> None:
    for i, item in enumerate(check.opt_array(d, key, path)):
        where = f"{_join(path, key)}[{i}]"
        entry = check.obj(item, where)
        check.opt_text(entry, "lang", where)
        check.text(entry.get("value"), f"{where}.value")


def _nvd_metrics(check: Check, value: Any) -> None:
    metrics = check.obj(value, "metrics")
    for key, entries in metrics.items():
        if not key.startswith("cvssMetric"):  # other metrics (SSVC, ...) are not read
            continue
        path = f"metrics.{key}"
        for i, entry in enumerate(check.array(entries, path)):
            e = check.obj(entry, f"{path}[{i}]")
            check.opt_text(e, "type", f"{path}[{i}]")
            check.opt_text(e, "source", f"{path}[{i}]")
            check.opt_text(e, "baseSeverity", f"{path}[{i}]")
            for sub in ("exploitabilityScore", "impactScore"):
                if e.get(sub) is not None:
                    cvss_score(check, e[sub], f"{path}[{i}].{sub}")
            data = check.obj(e.get("cvssData"), f"{path}[{i}].cvssData")
            cvss_score(check, data.get("baseScore"), f"{path}[{i}].cvssData.baseScore")
            for text_key in ("version", "vectorString", "baseSeverity"):
                check.opt_text(data, text_key, f"{path}[{i}].cvssData")


def nvd_record(check: Check, cve: dict[str, Any]) -> None:
    """Every part of an NVD CVE object that routerwatch reads."""
    check.opt_text(cve, "vulnStatus", "")
    if cve.get("configurations") is not None:
        nvd_configurations(check, cve["configurations"])
    if cve.get("metrics") is not None:
        _nvd_metrics(check, cve["metrics"])
    _lang_texts(check, cve, "descriptions", "")
    for i, ref in enumerate(check.opt_array(cve, "references", "")):
        r = check.obj(ref, f"references[{i}]")
        check.text(r.get("url"), f"references[{i}].url")
    for i, weakness in enumerate(check.opt_array(cve, "weaknesses", "")):
        w = check.obj(weakness, f"weaknesses[{i}]")
        _lang_texts(check, w, "description", f"weaknesses[{i}]")
    for key in ("cisaExploitAdd", "cisaActionDue", "cisaRequiredAction",
                "cisaVulnerabilityName", "published"):
        check.opt_text(cve, key, "")


# --------------------------------------------------------------------------- CVE JSON 5

def _cve5_affected(check: Check, raw: Any, path: str) -> None:
    item = check.obj(raw, path)
    for key in ("vendor", "product", "collectionURL", "packageName", "repo"):
        check.opt_text(item, key, path)
    check.choice(item, "defaultStatus", path, _CVE5_STATUS, fold=True)
    for i, cpe in enumerate(check.opt_array(item, "cpes", path)):
        check.text(cpe, f"{path}.cpes[{i}]")
    for i, v in enumerate(check.opt_array(item, "versions", path)):
        vp = f"{path}.versions[{i}]"
        version = check.obj(v, vp)
        check.text(version.get("version"), f"{vp}.version")
        check.choice(version, "status", vp, _CVE5_STATUS, fold=True)
        for key in ("lessThan", "lessThanOrEqual", "versionType"):
            check.opt_text(version, key, vp)
        for j, change in enumerate(check.opt_array(version, "changes", vp)):
            c = check.obj(change, f"{vp}.changes[{j}]")
            check.opt_text(c, "at", f"{vp}.changes[{j}]")
            check.choice(c, "status", f"{vp}.changes[{j}]", _CVE5_STATUS, fold=True)
    for key in ("platforms", "modules", "programFiles", "programRoutines"):
        check.opt_array(item, key, path)


_CVE5_CVSS = ("cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0")


def cve5_containers(check: Check, containers: list[tuple[str, dict[str, Any]]]) -> None:
    """The CNA and ADP containers: affected, metrics, references, problem types, texts."""
    for name, container in containers:
        for i, item in enumerate(check.opt_array(container, "affected", name)):
            _cve5_affected(check, item, f"{name}.affected[{i}]")
        for i, metric in enumerate(check.opt_array(container, "metrics", name)):
            mp = f"{name}.metrics[{i}]"
            m = check.obj(metric, mp)
            for key in _CVE5_CVSS:
                if m.get(key) is None:
                    continue
                data = check.obj(m[key], f"{mp}.{key}")
                cvss_score(check, data.get("baseScore"), f"{mp}.{key}.baseScore")
                check.opt_text(data, "vectorString", f"{mp}.{key}")
                check.opt_text(data, "baseSeverity", f"{mp}.{key}")
        for i, ref in enumerate(check.opt_array(container, "references", name)):
            r = check.obj(ref, f"{name}.references[{i}]")
            check.text(r.get("url"), f"{name}.references[{i}].url")
        for i, problem in enumerate(check.opt_array(container, "problemTypes", name)):
            pp = f"{name}.problemTypes[{i}]"
            p = check.obj(problem, pp)
            for j, d in enumerate(check.opt_array(p, "descriptions", pp)):
                desc = check.obj(d, f"{pp}.descriptions[{j}]")
                check.opt_text(desc, "cweId", f"{pp}.descriptions[{j}]")
        _lang_texts(check, container, "descriptions", name)


# --------------------------------------------------------------------------- KEV

_KEV_TEXT = ("vendorProject", "product", "vulnerabilityName", "requiredAction",
             "knownRansomwareCampaignUse", "shortDescription", "notes")


def kev_entry(check: Check, entry: dict[str, Any]) -> None:
    for key in _KEV_TEXT:
        check.opt_text(entry, key, "")
    for i, cwe in enumerate(check.opt_array(entry, "cwes", "")):
        check.text(cwe, f"cwes[{i}]")
