"""The published JSON Schemas (docs/schema/*.schema.json), generated from the models.

``python -m routerwatch.schema write [DIR]`` regenerates them; tests/schema checks that the
files in docs/schema equal what the code generates, so they cannot drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from routerwatch.schema.documents import FORMAT, ObservationBatch, ReportDocument

#: file name stem -> (document type, title)
DOCUMENTS: dict[str, tuple[type[Any], str]] = {
    "report": (ReportDocument, "routerwatch report"),
    "observations": (ObservationBatch, "routerwatch observations (one run's raw scan results)"),
}


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one document type."""
    type_, title = DOCUMENTS[name]
    body = msgspec.json.schema(type_)
    # A reader takes every format from the oldest upgradable one to FORMAT; the schema
    # describes documents of this format only.
    header = body["$defs"]["Header"]
    header["properties"]["format"] = {"const": FORMAT, "type": "integer"}
    header["properties"]["document"] = {"const": name, "default": "report"}
    if name != "report":
        header["required"] = [*header["required"], "document"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://routerwatch.invalid/schema/{name}.schema.json",
        "title": title,
        "description": (
            f"routerwatch format {FORMAT}. Unknown fields are ignored by readers of the same "
            "format (see docs/schema/README.md)."
        ),
        **body,
    }


def text(name: str) -> str:
    return json.dumps(schema(name), indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    """Write every schema into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name in DOCUMENTS:
        path = directory / f"{name}.schema.json"
        path.write_text(text(name), encoding="utf-8")
        out.append(path)
    return out
