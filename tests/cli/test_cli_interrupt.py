"""Item 3: Ctrl-C/SIGTERM stop a real lab scan cleanly and write what finished, marked partial
(exit 130); an unusable output path is one error line before any work. The lab runs on
127.45.3.x (this area's loopback range); run under `flock /work/lab.lock`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clilib import invoke

from routerwatch.lab import Lab

BASE = "127.45.3.0"
BIN = Path(sys.executable).parent / "routerwatch"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(base=BASE, include_hostile=False) as running:
        yield running


def _scan(lab: Lab, kb_db: str, out: Path) -> subprocess.Popen[str]:
    addresses = [d.address for d in lab.devices()]
    # one host at a time, slowly: the interrupt lands with some hosts done and most not
    return subprocess.Popen(
        [str(BIN), "scan", f"{addresses[0]}-{addresses[-1]}", "--db", kb_db, "-f", "json",
         "-o", str(out), "--concurrency", "1", "--rate", "40", "--host-timeout", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "100"},
    )


def _wait_for_hosts(proc: subprocess.Popen[str]) -> None:
    """Give the scan time to finish a few hosts: one host takes about 2 s at these settings
    (the whole lab about a minute), loading the KB about 2 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the scan ended before it was interrupted"
        time.sleep(0.2)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_scan_writes_the_partial_report(
    lab: Lab, kb_db: str, tmp_path: Path, signum: int
) -> None:
    out = tmp_path / "scan.json"
    proc = _scan(lab, kb_db, out)
    try:
        _wait_for_hosts(proc)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "error: interrupted: the scan stopped" in err and "marked partial" in err
    data = json.loads(out.read_text())
    assert data["partial"] is True
    total = len(lab.devices())
    assert 1 <= len(data["hosts"]) < total
    assert any("partial report: the scan was interrupted" in w for w in data["warnings"])
    assert not list(tmp_path.glob(".scan.json.*"))  # no temporary file left behind


def test_exit_code_130_is_documented() -> None:
    code, out, _ = invoke("scan", "--help")
    assert code == 0 and "130 interrupted" in " ".join(out.split())


@pytest.mark.parametrize(
    "args",
    [
        ("demo", "-o", "/nonexistent-dir/sub/out"),
        ("demo", "-o", "/dev/null"),
        ("scan", "127.45.3.1", "-f", "json", "-o", "/nonexistent-dir/x.json"),
        ("check", "NETGEAR R7000", "-f", "html", "-o", "/nonexistent-dir/x.html"),
        ("audit-config", "/etc/hostname", "-f", "json", "-o", "/nonexistent-dir/x.json"),
    ],
)
def test_unusable_output_is_one_line_before_any_work(args: tuple[str, ...]) -> None:
    started = time.monotonic()
    code, out, err = invoke(*args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "output" in err or "cannot write" in err
    assert time.monotonic() - started < 5  # refused before the lab/scan/KB work


def test_ctrl_c_elsewhere_is_one_line_and_130(tmp_path: Path) -> None:
    """A sync stuck on a server that accepts and never answers (127.45.3.250, this test's own
    listener), interrupted: `error: interrupted`, exit 130 (not Click's "Aborted!", 1)."""
    import socket

    with socket.socket() as server:
        server.bind(("127.45.3.250", 0))
        server.listen()
        port = server.getsockname()[1]
        proc = subprocess.Popen(
            [str(BIN), "kb", "sync", "--source", "kev", "--url",
             f"http://127.45.3.250:{port}/kev.json", "--db", f"sqlite:///{tmp_path / 'k.db'}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        conn, _ = server.accept()  # the request arrived: the sync now waits for an answer
        try:
            time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
        finally:
            conn.close()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "error: interrupted" and "Traceback" not in err
