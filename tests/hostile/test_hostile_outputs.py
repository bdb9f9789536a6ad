"""Issue 19 item 3: ``-o`` never replaces a symlink, FIFO or device node; it is checked first.

Before the fix ``-o`` onto any of these replaced it with a regular file (as root, ``-o
/dev/null`` would have replaced the system's node). Each destination here is real: a symlink
to a file someone cares about, a FIFO made with mkfifo, a character device made with mknod
(the same major/minor as /dev/null, inside the test's own directory).
"""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch import outputs
from routerwatch.cli.main import app

SNAPSHOT = Path(__file__).resolve().parents[1] / "report" / "snapshots" / "report.json"


def _symlink(tmp: Path) -> Path:
    precious = tmp / "precious.txt"
    precious.write_text("keep me")
    link = tmp / "out"
    link.symlink_to(precious)
    return link


def _fifo(tmp: Path) -> Path:
    path = tmp / "out"
    os.mkfifo(path)
    return path


def _device(tmp: Path) -> Path:
    path = tmp / "out"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root (CI runs as root)") if not os.environ.get("CI") else None
        raise
    return path


def _socket(tmp: Path) -> Path:
    path = tmp / "out"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


def _dangling(tmp: Path) -> Path:
    link = tmp / "out"
    link.symlink_to(tmp / "nowhere" / "x")
    return link


KINDS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "symlink": (_symlink, "a symbolic link"),
    "dangling-symlink": (_dangling, "a symbolic link"),
    "fifo": (_fifo, "a FIFO"),
    "device": (_device, "a character device"),
    "socket": (_socket, "a socket"),
}


def _fingerprint(path: Path) -> tuple[int, int, int]:
    st = os.lstat(path)
    return st.st_mode, st.st_ino, st.st_rdev


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "report-json": lambda out: ["report", str(SNAPSHOT), "-f", "json", "-o", str(out)],
    "report-sarif": lambda out: ["report", str(SNAPSHOT), "-f", "sarif", "-o", str(out)],
    "report-cyclonedx": lambda out: ["report", str(SNAPSHOT), "-f", "cyclonedx", "-o", str(out)],
    "check-json": lambda out: ["check", "TP-Link Archer AX21 v3", "-f", "json", "-o", str(out)],
    "check-html": lambda out: ["check", "TP-Link Archer AX21 v3", "-f", "html", "-o", str(out)],
    "kb-export": lambda out: ["kb", "export", str(out), "--force"],
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_special_destinations_are_refused_and_left_alone(
    kind: str, command: str, tmp_path: Path
) -> None:
    make, what = KINDS[kind]
    out = make(tmp_path)
    before = _fingerprint(out)
    listing = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(app, COMMANDS[command](out), catch_exceptions=False)
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and what in lines[0] and str(out) in lines[0], result.stderr
    assert _fingerprint(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing, "no temp file left behind"
    if kind == "symlink":
        assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_regular_files_and_directories_still_work(tmp_path: Path) -> None:
    out = tmp_path / "r.sarif"
    out.write_text("old")
    result = CliRunner().invoke(app, ["report", str(SNAPSHOT), "-f", "sarif", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert '"version": "2.1.0"' in out.read_text()
    # a directory reached through a symlink is fine: the file written inside it is regular
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "dirlink").symlink_to(real)
    result = CliRunner().invoke(app, ["report", str(SNAPSHOT), "-f", "csv",
                                      "-o", str(tmp_path / "dirlink")])
    assert result.exit_code == 0, result.output
    assert [p.name for p in real.iterdir()] == ["routerwatch-report.csv"]


def test_atomic_writer_refuses_a_link_planted_during_the_write(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    precious = tmp_path / "precious"
    precious.write_text("keep")
    with (pytest.raises(outputs.OutputError, match="symbolic link"),
          outputs.atomic_writer(target) as handle):
        handle.write(b"new content")
        target.symlink_to(precious)  # an attacker swaps in a link before the rename
    assert target.is_symlink() and precious.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "precious"]


@pytest.fixture()
def silent_listener() -> Iterator[tuple[str, list[float]]]:
    """A TCP listener on 127.1.3.1:80 that records connections and never answers."""
    address = "127.1.3.1"
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, 80))
    server.listen(16)
    server.settimeout(0.2)
    seen: list[float] = []
    stop = threading.Event()
    held: list[socket.socket] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(time.monotonic())
            held.append(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield address, seen
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_scan_checks_the_output_before_scanning(
    silent_listener: tuple[str, list[float]], tmp_path: Path
) -> None:
    address, seen = silent_listener
    fifo = _fifo(tmp_path)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["scan", address, "-p", "80", "--timeout", "5", "-q",
                                      "-f", "json", "-o", str(fifo)])
    assert result.exit_code != 0
    assert "a FIFO" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert seen == [], "the scan must not start when its output cannot be written"
    assert time.monotonic() - started < 5
    missing = tmp_path / "no" / "such" / "dir" / "r.json"
    result = CliRunner().invoke(app, ["scan", address, "-p", "80", "-q", "-f", "json",
                                      "-o", str(missing)])
    assert result.exit_code != 0 and "does not exist" in result.stderr and seen == []
