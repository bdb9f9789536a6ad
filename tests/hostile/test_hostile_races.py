"""Issue 19 item 10: concurrent commands on a new KB, and two ``lab start`` at once.

Before the fix, commands started together on a new SQLite KB raced on the migration
("table kb_nvd already exists"), and two ``lab start`` shared one log and state file (a
garbled refusal or a 60 s wait).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from routerwatch.lab.daemon import pid_alive, read_state

RACERS = 6
GO = """
import os, sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
from routerwatch.kb import KnowledgeBase
KnowledgeBase(sys.argv[1]).status()
print("ok")
"""


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_first_use_of_a_new_sqlite_kb(attempt: int, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'new' / 'kb.db'}"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", GO, db, str(go)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(RACERS)
    ]
    time.sleep(1.5)  # every racer has imported routerwatch and waits for the go
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0 and out.strip() == "ok", err[-1500:]
        assert "already exists" not in err


def _lab(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ROUTERWATCH_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "routerwatch", "lab", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_lab_starts_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    state_file = home / "lab" / "state.json"
    first = _lab(home, "start", "--base", "127.1.5.0", "--no-hostile")
    second = _lab(home, "start", "--base", "127.1.6.0", "--no-hostile")
    started = time.monotonic()
    try:
        results = {p: p.communicate(timeout=90) for p in (first, second)}
        took = time.monotonic() - started
        codes = sorted(p.returncode for p in (first, second))
        assert codes[0] == 0 and codes[1] != 0, results
        loser = first if first.returncode else second
        err = results[loser][1].strip().splitlines()
        assert len(err) == 1 and ("already running" in err[0] or "starting" in err[0]), err
        assert took < 30, "the refusal must be quick, not a 60 s wait"
        state = read_state(state_file)
        assert state is not None and pid_alive(state["pid"])
        # a third start while the lab runs: refused at once, naming the running lab
        third = _lab(home, "start", "--base", "127.1.7.0", "--no-hostile")
        _, err3 = third.communicate(timeout=30)
        assert third.returncode != 0 and "already running" in err3
        assert len(err3.strip().splitlines()) == 1
    finally:
        stop = _lab(home, "stop")
        stop.communicate(timeout=60)
        state = read_state(state_file)
        if state is not None and pid_alive(state["pid"]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(state["pid"], signal.SIGKILL)
