"""The enrolled credential and local settings of an agent or sensor, on disk.

``agent.json`` / ``sensor.json`` live in ``$ROUTERWATCH_HOME`` when set, else the user's config
directory (platformdirs: ``~/.config/routerwatch``, ``~/Library/Application Support/routerwatch``,
``%LOCALAPPDATA%\\routerwatch``). They hold a secret, so they are written atomically with
user-only permissions (0600) and refused when group or others can read them (as ssh does).
State (the outbox, the last round) goes to ``state_dir(kind)`` in the data directory.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from routerwatch import config as rwconfig


class ConfigError(Exception):
    """The credential file is missing, unreadable, malformed or too open; one line."""


@dataclass
class Credential:
    """What ``agent enroll`` / ``sensor enroll`` got from the server, and local settings."""

    kind: str  # agent / sensor
    url: str
    token: str
    agent_id: int
    site: str
    org: str
    name: str
    ca_cert: str | None = None  # a CA bundle or the pinned server certificate (PEM)
    scope: list[str] = field(default_factory=list)  # sensor: the local allowance
    allow_public: bool = False  # sensor: may the local scope hold public addresses
    max_queue: int = 1000  # results kept on disk while the server is unreachable

    def public(self) -> dict[str, Any]:
        """Everything but the secret."""
        out = asdict(self)
        out["token"] = "_".join(self.token.split("_")[:2]) + "_…"  # the id, not the secret
        return out


def config_dir() -> Path:
    home = os.environ.get("ROUTERWATCH_HOME")
    path = Path(home) if home else Path(platformdirs.user_config_dir(rwconfig.APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path(kind: str) -> Path:
    return config_dir() / f"{kind}.json"


def state_dir(kind: str) -> Path:
    path = rwconfig.data_dir() / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(cred: Credential, path: Path | None = None) -> Path:
    """Write the credential atomically, readable by this user only."""
    path = path or config_path(cred.kind)
    tmp = path.with_name(path.name + ".tmp")
    data = json.dumps(asdict(cred), indent=2).encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)  # O_CREAT's mode is ignored when the file already existed
    os.replace(tmp, path)
    return path


def load(kind: str, path: Path | None = None) -> Credential:
    path = path or config_path(kind)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"not enrolled: no {path} (run `routerwatch {kind} enroll URL "
                          "TOKEN` first)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if sys.platform != "win32" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); "
                          f"it holds a credential: chmod 600 {path}")
    try:
        data = json.loads(text)
        cred = Credential(**data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid {kind} credential: {exc}") from None
    if cred.kind != kind:
        raise ConfigError(f"{path} holds a {cred.kind} credential, not a {kind} one")
    return cred
