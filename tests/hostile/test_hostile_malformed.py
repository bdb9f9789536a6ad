"""Issue 19 item 8: malformed input gives one error line, never a traceback.

Real files on disk (and real HTTP pages from a server on 127.1.8.1): integers of 5,001
digits, JSON nested 100,000 levels deep, a bare CR inside EPSS CSV. Before the fix these
crashed with ValueError ("Exceeds the limit (4300 digits)"), RecursionError or csv.Error.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kb"))
from kb_fakeserver import serve
from kb_testlib import new_kb, snapshot

from routerwatch.cli.main import app
from routerwatch.kb import KBError
from routerwatch.kb.sync import RateLimiter, Retry, SyncOptions, sync

HUGE = "9" * 5001
DEEP = "[" * 100_000 + "]" * 100_000


def _one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr[-2000:]
    return lines[0]


NVD_HUGE = ('{"format":"NVD_CVE","resultsPerPage":' + HUGE
            + ',"vulnerabilities":[{"cve":{"id":"CVE-2024-0001"}}]}')
NVD_DEEP = '{"format":"NVD_CVE","vulnerabilities":' + DEEP + "}"


@pytest.mark.parametrize("body", [NVD_HUGE, NVD_DEEP, '{"a": ' + HUGE + "}", DEEP])
def test_import_of_huge_numbers_and_deep_json(body: str, tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(body)
    line = _one_line_error(["kb", "import", str(path), "--db", f"sqlite:///{tmp_path}/kb.db"])
    assert str(path) in line


def _bundle(path: Path, payload: bytes) -> Path:
    manifest = {"format": "routerwatch-kb-bundle", "version": 1, "counts": {"nvd": 1},
                "sources": {}, "payload_sha256": hashlib.sha256(payload).hexdigest(),
                "payload_bytes": len(payload)}
    path.write_bytes(lzma.compress((json.dumps(manifest, separators=(",", ":")) + "\n").encode())
                     + lzma.compress(payload))
    return path


@pytest.mark.parametrize("line", ['{"nvd":' + DEEP + "}", '{"nvd":{"id":' + HUGE + "}}"])
def test_bundle_lines_with_huge_numbers_or_deep_nesting(line: str, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b.rwkb.xz", (line + "\n").encode())
    text = _one_line_error(["kb", "import", str(bundle), "--db", f"sqlite:///{tmp_path}/kb.db"])
    assert "line 2" in text


def test_epss_with_a_bare_cr(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/kb.db"
    stray = tmp_path / "stray.csv"
    stray.write_bytes(b"cve,epss,percentile\nCVE-2024-0001,0.1\r0.2,0.3\nCVE-2024-0002,0.2,0.4\n")
    assert "columns" in _one_line_error(["kb", "import", str(stray), "--db", db])
    # a file with old-Mac CR line ends is read, not refused
    mac = tmp_path / "mac.csv"
    mac.write_bytes(b"cve,epss,percentile\rCVE-2024-0001,0.1,0.3\rCVE-2024-0002,0.2,0.4\r")
    result = CliRunner().invoke(app, ["kb", "import", str(mac), "--db", db])
    assert result.exit_code == 0, result.output
    assert "2 epss" in result.stdout


@pytest.mark.parametrize("body", [NVD_HUGE, NVD_DEEP])
def test_sync_pages_with_huge_numbers_or_deep_nesting(body: str, tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    before = snapshot(kb, data_only=True)
    with serve([], {"/hostile": body.encode()}, host="127.1.8.1") as feeds:
        options = SyncOptions(sources=["nvd"], urls={"nvd": feeds.base + "/hostile"}, full=True,
                              retry=Retry(attempts=2, base=0.001, cap=0.01),
                              limiter=RateLimiter(1000, 1.0), timeout=2.0)
        with pytest.raises(KBError, match=r"invalid or truncated JSON|nested|number") as info:
            sync(kb, options)
    assert "\n" not in str(info.value)
    assert snapshot(kb, data_only=True) == before


@pytest.mark.parametrize("body", ['{"routerwatch": {"version": ' + HUGE + "}}", DEEP,
                                  '{"routerwatch": ' + DEEP + "}"])
def test_report_of_huge_numbers_and_deep_json(body: str, tmp_path: Path) -> None:
    path = tmp_path / "scan.json"
    path.write_text(body)
    assert str(path) in _one_line_error(["report", str(path), "-f", "json"])


@pytest.mark.parametrize("body", ['{"dns": ' + HUGE + "}", '{"x": ' + DEEP + "}"])
def test_audit_config_of_huge_numbers_and_deep_json(body: str, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(body)
    assert str(path) in _one_line_error(["audit-config", str(path)])
