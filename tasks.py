#!/usr/bin/env python3
"""Set up and run routerwatch with nothing but Python 3.11+.

    python3 tasks.py demo    # set up, then run the main job (the lab demo) on built-in defaults
    python3 tasks.py test    # set up, then run ruff, mypy and the whole test suite
    python3 tasks.py bench   # set up, then run every benchmark under bench/

Setup creates .venv, installs the project with its dev extras (again only when pyproject.toml
changed) and, for tests, makes sure the services the suite talks to are running: PostgreSQL on
127.0.0.1:5432 (database `test`) and headless Chromium for the HTML report check. Missing ones are
installed from Debian's packages when running as root (as CI does).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def sh(*cmd: str | Path, check: bool = True, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    rc = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    if check and rc != 0:
        sys.exit(rc)
    return rc


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before the venv exists
        sys.exit("routerwatch needs Python 3.11 or newer")
    if not PY.exists():
        sh(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".routerwatch-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        sh(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
        sh(PY, "-m", "pip", "install", "-q", "-e", ".[dev]")
        stamp.write_text(digest)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"note: cannot install {' '.join(packages)} (not root or no apt-get)")
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sh("apt-get", "update", "-qq", check=False, env=env)
    sh("apt-get", "install", "-y", "-qq", *packages, check=False, env=env)


def ensure_postgres() -> None:
    if port_open(5432):
        return
    if not shutil.which("pg_ctlcluster"):
        apt_install("postgresql")
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    for v in versions:
        sh("pg_ctlcluster", "--skip-systemctl-redirect", v.name, "main", "start", check=False)
    for _ in range(30):
        if port_open(5432):
            break
        time.sleep(1)
    else:
        print("note: PostgreSQL is not reachable on 127.0.0.1:5432")
        return
    # trust auth and a `test` database, as on the project's machines
    sh("su", "postgres", "-c", "createdb test 2>/dev/null || true", check=False)


def ensure_chromium() -> None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        apt_install("chromium")


def test(args: list[str]) -> None:
    setup()
    ensure_postgres()
    ensure_chromium()
    lint = [p for p in ("src", "tests", "bench", "scripts", "tasks.py") if (ROOT / p).exists()]
    sh(BIN / "ruff", "check", *lint)
    sh(BIN / "mypy")
    rc = sh(PY, "-m", "pytest", *args, check=False)
    sys.exit(rc)


def demo(args: list[str]) -> None:
    setup()
    sh(BIN / "routerwatch", "demo", *args)


def bench(args: list[str]) -> None:
    setup()
    if not shutil.which("nmap"):  # the scan benchmark compares with nmap -sV
        apt_install("nmap")
    sh(PY, "bench/run.py", *args)


def main() -> None:
    cmds = {"test": test, "demo": demo, "bench": bench, "setup": lambda _a: setup()}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
