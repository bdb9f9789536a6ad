"""A bad ROUTERWATCH_NUCLEI_TEMPLATES ends a command with one error line (exit 2), no traceback.

Runs the real CLI in a subprocess; the scan target is on this helper's loopback range and no
probe is sent (the check comes first)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(args: list[str], env_value: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ROUTERWATCH_NUCLEI_TEMPLATES": env_value,
           "ROUTERWATCH_DB": f"sqlite:///{tmp_path / 'kb.sqlite'}"}
    return subprocess.run(
        [sys.executable, "-m", "routerwatch", *args],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [("missing-dir", "no such file or folder"), ("notes.txt", "neither a folder nor")],
)
def test_bad_templates_path_is_one_line(tmp_path: Path, value: str, reason: str) -> None:
    (tmp_path / "notes.txt").write_text("not a template")
    target = str(tmp_path / value)
    result = _run(["scan", "127.47.0.1", "--ports", "80"], target, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ROUTERWATCH_NUCLEI_TEMPLATES=")
    assert reason in lines[0] and target in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
