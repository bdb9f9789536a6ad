"""Startup cost: `routerwatch --help` imports no command module and no SQLAlchemy; the
command list of `--help` agrees with each command's own help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from routerwatch.cli.main import COMMANDS, load_command

PROBE = """
import json, sys
from routerwatch.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')
               or m.startswith('routerwatch.cli.') and m != 'routerwatch.cli.main'
               or m in ('routerwatch.kb.store', 'routerwatch.scan', 'routerwatch.fingerprint'))
print('MODULES=' + json.dumps(heavy), file=sys.stderr)
"""


def _modules(args: list[str], home: Path) -> tuple[str, list[str]]:
    env = {**os.environ, "ROUTERWATCH_HOME": str(home)}
    env.pop("ROUTERWATCH_DB", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, env=env, timeout=300)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    return done.stdout, json.loads(line[len("MODULES="):])


def test_help_imports_no_command_and_no_database_library(tmp_path: Path) -> None:
    out, heavy = _modules(["--help"], tmp_path)
    assert heavy == []
    for name in COMMANDS:
        assert name in out


def test_command_list_agrees_with_each_commands_help() -> None:
    for name, (_module, _attr, summary) in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert " ".join((command.help or "").split()).startswith(" ".join(summary.split())), name
