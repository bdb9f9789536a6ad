"""Reading older formats: one upgrade step per format version, chained up to FORMAT.

``UPGRADES[n]`` turns a parsed document of format ``n`` into one of format ``n + 1``. Steps work
on plain data and never fail: whatever they cannot make sense of is left as it was, so the
validation that follows names the bad field. Adding format N+1 = one step here for N, plus a
fixture ``tests/fixtures/schema/report-v{N}.json`` (the tests read every registered version).

Documents without a header that older routerwatch versions wrote are recognised too
(``check --format json`` before format 2 wrote ``{"device": ..., "findings": [...]}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Doc = dict[str, Any]


def _pairs(value: Any) -> Any:
    """Format 1 wrote Evidence.fields as an object; format 2 keeps them as [name, value] pairs."""
    if isinstance(value, dict):
        return [[k, v] for k, v in value.items()]
    return value


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _evidence_list(items: Any) -> None:
    for e in _items(items):
        if isinstance(e, dict) and "fields" in e:
            e["fields"] = _pairs(e["fields"]) if e["fields"] is not None else []


def _v1_to_v2(doc: Doc) -> Doc:
    header = doc.get("routerwatch")
    if isinstance(header, dict):
        header["format"] = 2
        header.setdefault("document", "report")
    for host in _items(doc.get("hosts")):
        if not isinstance(host, dict):
            continue
        identity = host.get("identity")
        if isinstance(identity, dict):
            _evidence_list(identity.get("evidence"))
        for ind in _items(host.get("indicators")):
            if isinstance(ind, dict):
                _evidence_list(ind.get("evidence"))
    return doc


#: format n -> the step that makes it format n + 1
UPGRADES: dict[int, Callable[[Doc], Doc]] = {1: _v1_to_v2}


def upgrade(doc: Doc, from_format: int, to_format: int) -> Doc:
    """Apply the steps from ``from_format`` up to ``to_format``."""
    for n in range(from_format, to_format):
        doc = UPGRADES[n](doc)
    return doc


def legacy_check(doc: Doc, version: str) -> Doc | None:
    """The pre-format-2 ``check --format json`` shape as a format 2 report, else None."""
    if not isinstance(doc, dict) or set(doc) - {"device", "findings", "message"}:
        return None
    if "device" not in doc or "findings" not in doc:
        return None
    identity = doc["device"]
    if isinstance(identity, dict):
        _evidence_list(identity.get("evidence"))
    message = doc.get("message")
    return {
        "routerwatch": {"version": version, "format": 2, "document": "report"},
        "kind": "check",
        "warnings": [message] if isinstance(message, str) else ([] if message is None else message),
        "hosts": [{"address": None, "identity": identity, "findings": doc["findings"]}],
    }
