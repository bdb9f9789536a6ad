"""Background lab process: ``python -m routerwatch.lab.daemon --base 127.0.10.0 --state FILE``.

Starts a :class:`~routerwatch.lab.runner.Lab`, writes the state file (pid, base, devices)
once every socket listens, and runs until SIGTERM/SIGINT, then stops the lab and removes the
state file. ``routerwatch lab start|stop|status`` drives it; the helpers below are shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "is_lab_process",
    "lock_lab",
    "lock_path",
    "log_path",
    "main",
    "pid_alive",
    "read_state",
    "state_path",
]

DAEMON_MODULE = "routerwatch.lab.daemon"


def state_path() -> Path:
    """Where the running lab records itself (in the data directory)."""
    from routerwatch.config import data_dir

    folder = data_dir() / "lab"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "state.json"


def log_path() -> Path:
    return state_path().with_name("daemon.log")


def lock_path() -> Path:
    """The lock a starting or running lab holds (flock): one lab per data directory."""
    return state_path().with_name("lab.lock")


def lock_lab(path: Path | None = None) -> int | None:
    """An open descriptor holding the exclusive lab lock, or None when another holds it.

    The lock belongs to the open file description: a daemon that inherits the descriptor
    keeps the lock for its whole life, and the kernel drops it when the daemon ends.
    """
    import fcntl

    fd = os.open(path or lock_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    """The state file's content, or None when there is none (or it is unreadable)."""
    path = path or state_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie (reaps it if it is our child)."""
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def is_lab_process(pid: int) -> bool:
    """True when ``pid`` runs this daemon (guards against a recycled pid before killing)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid_alive(pid)  # no /proc: the state file is all we have
    return DAEMON_MODULE.encode() in cmdline


def _write_state(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=f"python -m {DAEMON_MODULE}", description=__doc__)
    ap.add_argument("--base", default="127.0.10.0")
    ap.add_argument("--count", type=int, default=None)
    ap.add_argument("--no-hostile", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--state", type=Path, default=None, help="state file (default: data dir)")
    ap.add_argument("--lock-fd", type=int, default=None,
                    help="descriptor of the lab lock, taken by `lab start` (else taken here)")
    args = ap.parse_args(argv)
    if args.lock_fd is None:
        path_for_lock = (args.state or state_path()).with_name("lab.lock")
        held = lock_lab(path_for_lock)
        if held is None:
            print(f"error: another lab holds {path_for_lock}", file=sys.stderr, flush=True)
            return 2

    from routerwatch.lab.runner import Lab

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    path = args.state or state_path()
    try:
        lab = Lab(
            base=args.base, count=args.count, include_hostile=not args.no_hostile, seed=args.seed
        )
        lab.start()
    except (OSError, ValueError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        _write_state(
            path,
            {
                "pid": os.getpid(),
                "base": args.base,
                "count": len(lab.devices()),
                "include_hostile": not args.no_hostile,
                "seed": args.seed,
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "startup_seconds": round(lab.startup_seconds or 0.0, 3),
                **lab.status_json(),
            },
        )
        print(f"ready: {len(lab.devices())} devices from {args.base}", file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        lab.stop()
        current = read_state(path)
        if current is not None and current.get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                path.unlink()
        print(f"stopped at {time.strftime('%H:%M:%S')}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
