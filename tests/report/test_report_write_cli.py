"""write(): stdout, file, directory, atomic; and `routerwatch report FILE` re-rendering."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli import report as report_cli
from routerwatch.cli.main import app
from routerwatch.models import Report
from routerwatch.report import DEFAULT_NAMES, FORMATS, ReportError, from_dict, render, write

# --------------------------------------------------------------------------- write()


def test_write_to_stdout_returns_none(report: Report, capsys: pytest.CaptureFixture[str]) -> None:
    assert write(report, "sarif", None) is None
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_into_a_directory_uses_the_default_name(
    fmt: str, report: Report, tmp_path: Path
) -> None:
    path = write(report, fmt, tmp_path)
    assert path == tmp_path / DEFAULT_NAMES[fmt]
    assert path.read_bytes().decode("utf-8") == render(report, fmt)
    assert [p.name for p in tmp_path.iterdir()] == [DEFAULT_NAMES[fmt]], "no temp file left"


def test_write_to_a_file_replaces_it_and_follows_umask(report: Report, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    old = os.umask(0o027)
    try:
        assert write(report, "csv", target) == target
    finally:
        os.umask(old)
    assert target.read_bytes().decode("utf-8") == render(report, "csv")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_whole(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous report")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ReportError, match=r"cannot write .*report\.html: No space left on device"):
        write(report, "html", target)
    assert target.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"], "temp file cleaned up"


def test_write_into_a_missing_directory_fails_clearly(report: Report, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"directory .*nowhere does not exist"):
        write(report, "json", tmp_path / "nowhere" / "r.json")


def test_write_unknown_format(report: Report, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="unknown report format 'xml'"):
        write(report, "xml", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def saved(report: Report, tmp_path: Path) -> Path:
    path = write(report, "json", tmp_path / "scan.json")
    assert path is not None
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["report", *args], env={"COLUMNS": "120"})
    return result.exit_code, result.stdout, result.stderr


def test_cli_formats_match_the_api() -> None:
    assert tuple(f.value for f in report_cli.ReportFormat) == FORMATS


def test_cli_rerenders_as_table_by_default(saved: Path) -> None:
    code, out, err = _invoke(str(saved))
    assert code == 0, err
    assert "routerwatch scan report" in out
    assert "192.168.1.1" in out and "Quad7 xlogin shell" in out


@pytest.mark.parametrize("fmt", ["html", "cyclonedx", "csv", "sarif", "json", "table"])
def test_cli_rerenders_into_a_directory(fmt: str, saved: Path, report: Report) -> None:
    out_dir = saved.parent / "out"
    out_dir.mkdir()
    code, out, err = _invoke(str(saved), "--format", fmt, "--output", str(out_dir))
    assert code == 0, err
    written = out_dir / DEFAULT_NAMES[fmt]
    assert f"wrote {fmt} report to {written}" in out
    assert written.read_bytes().decode("utf-8") == render(report, fmt)


def test_cli_json_to_stdout_round_trips(saved: Path, report: Report) -> None:
    code, out, err = _invoke(str(saved), "-f", "json")
    assert code == 0, err
    assert from_dict(json.loads(out)) == report


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "not a valid routerwatch document: not JSON: JSON is malformed"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[1, 2]", "not a valid routerwatch document: document: expected `object`, got `array`"),
        (b'{"hosts": []}', "not a valid routerwatch document: not a routerwatch document"),
        (
            b'{"routerwatch": {"version": "9", "format": 9}, "hosts": []}',
            "routerwatch.format: format 9 is not supported: written by a newer routerwatch",
        ),
        (
            b'{"routerwatch": {"format": 1}, "hosts": []}',
            "routerwatch.version: missing",
        ),
        (
            b'{"routerwatch": {"version": "", "format": 1},'
            b' "hosts": [{"address": "x", "identity": []}]}',
            "hosts[0].identity: expected `object`, got `array`",
        ),
        (b"[" * 100000 + b"]" * 100000, "document: expected `object`, got `array`"),
        (
            b'{"routerwatch": {"version": "", "format": 2}, "kb": {"a": '
            + b"[" * 100000
            + b"]" * 100000
            + b'}, "hosts": []}',
            "JSON nested too deeply",
        ),
    ],
)
def test_cli_bad_input_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, out, err = _invoke(str(path), "-f", "html", "-o", str(tmp_path))
    assert code == 2
    assert err.startswith("error: ")
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err + out
    assert not (tmp_path / "routerwatch-report.html").exists()


def test_cli_missing_file_and_directory(tmp_path: Path) -> None:
    code, _, err = _invoke(str(tmp_path / "nope.json"))
    assert (code, "no such file" in err) == (2, True)
    code, _, err = _invoke(str(tmp_path))
    assert (code, "not a regular file" in err) == (2, True)


def test_cli_refuses_oversized_files(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_cli, "MAX_BYTES", 1024)
    code, _, err = _invoke(str(saved))
    assert code == 2
    assert "larger than" in err


def test_cli_output_directory_missing(saved: Path) -> None:
    code, _, err = _invoke(str(saved), "-f", "csv", "-o", str(saved.parent / "no" / "x.csv"))
    assert code == 2
    assert "cannot write the csv report: directory" in err
