"""Issue 19 item 6: ``kb import`` worker processes die with their parent.

Before the fix, SIGTERM or SIGKILL of a parallel ``kb import`` left its forked workers
running (blocked on the pool's queue, holding the database file open) until someone killed
them by hand. Here a real import of ~40 MiB of NVD pages is started, its workers are seen in
/proc, the parent gets a real signal, and every worker must be gone within seconds.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "nvd"


def _pages(folder: Path, files: int = 6, target: int = 7 * 1024 * 1024) -> None:
    """``files`` NVD API pages of ~``target`` bytes each: real records under new CVE ids."""
    records = [v["cve"] for p in sorted(FIX.glob("*.json"))
               for v in json.loads(p.read_text())["vulnerabilities"]]
    folder.mkdir()
    number = 0
    for index in range(files):
        items, size = [], 0
        while size < target:
            cve = copy.deepcopy(records[number % len(records)])
            number += 1
            cve["id"] = f"CVE-2099-{number:06d}"
            text = json.dumps({"cve": cve})
            size += len(text)
            items.append(text)
        (folder / f"page-{index}.json").write_text(
            '{"format":"NVD_CVE","version":"2.0","resultsPerPage":' + str(len(items))
            + ',"startIndex":0,"totalResults":' + str(len(items))
            + ',"vulnerabilities":[' + ",".join(items) + "]}"
        )


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.update(int(x) for x in text.split())
    except OSError:
        pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bigimport") / "pages"
    _pages(folder)
    return folder


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the worker pool needs 2 CPUs")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_the_parent(sig: signal.Signals, pages: Path, tmp_path: Path) -> None:
    db = tmp_path / "kb.db"
    parent = subprocess.Popen(
        [sys.executable, "-m", "routerwatch", "kb", "import", str(pages), "--db",
         f"sqlite:///{db}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2 and parent.poll() is None:
            workers |= _children(parent.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the import did not start its worker pool"
        parent.send_signal(sig)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        left = [w for w in workers if _alive(w)]
        assert left == [], f"workers {left} outlived their parent (signal {sig.name})"
    finally:
        for pid in workers | {parent.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        parent.wait(10)
        if parent.stderr:
            parent.stderr.close()
    # nothing holds the database: a new import of one page goes through
    done = subprocess.run(
        [sys.executable, "-m", "routerwatch", "kb", "import", str(pages / "page-0.json"),
         "--db", f"sqlite:///{db}"], capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
