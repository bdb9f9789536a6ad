"""Issue 19 item 5: a KEV catalog without ``dateReleased`` must not replace a newer one.

Before the fix, importing a one-entry catalog without ``dateReleased`` after the real
2025.08.25 catalog (1,404 entries) replaced it: 1,404 entries → 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from routerwatch.cli.main import app

FIX = Path(__file__).resolve().parents[1] / "fixtures"
KEV = FIX / "kev" / "known_exploited_vulnerabilities.json"


def _catalog(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(KEV.read_text())
    doc.update(changes)
    return doc


def _kev_count(db: str) -> int:
    status = CliRunner().invoke(app, ["kb", "status", "-f", "json", "--db", db])
    records: int = json.loads(status.stdout)["sources"]["kev"]["records"]
    return records


def _import(db: str, path: Path) -> Any:
    return CliRunner().invoke(app, ["kb", "import", str(path), "--db", db])


def test_undated_catalog_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    assert _import(db, KEV).exit_code == 0
    assert _kev_count(db) == 1404
    one = _catalog()
    one["vulnerabilities"] = one["vulnerabilities"][-1:]
    for key in ("dateReleased", "catalogVersion", "count"):
        one.pop(key)
    path = tmp_path / "undated.json"
    path.write_text(json.dumps(one))
    result = _import(db, path)
    assert result.exit_code == 0, result.output
    assert "kept the stored catalog" in result.output
    assert _kev_count(db) == 1404
    # undated, its only entry added long ago: older than the stored catalog
    none = {"vulnerabilities": [{**one["vulnerabilities"][0], "dateAdded": "2025-01-01"}]}
    path.write_text(json.dumps(none))
    assert _import(db, path).exit_code == 0
    assert _kev_count(db) == 1404


def test_undated_catalog_with_a_newer_version_replaces(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    assert _import(db, KEV).exit_code == 0
    newer = _catalog(catalogVersion="2025.09.03")
    newer.pop("dateReleased")
    newer["vulnerabilities"] = newer["vulnerabilities"][:10]
    newer["count"] = 10
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(newer))
    result = _import(db, path)
    assert result.exit_code == 0, result.output
    assert _kev_count(db) == 10
