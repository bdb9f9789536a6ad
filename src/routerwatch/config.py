"""Where routerwatch keeps its data, from the environment (XDG) or the user's options."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "routerwatch"
KB_MAX_AGE_DAYS = 30


def data_dir() -> Path:
    """The user's data directory ($ROUTERWATCH_HOME, else XDG data home)."""
    home = os.environ.get("ROUTERWATCH_HOME")
    path = Path(home) if home else Path(platformdirs.user_data_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_url(explicit: str | None = None) -> str:
    """The database URL: --db, else $ROUTERWATCH_DB, else SQLite in the data directory."""
    if explicit:
        return explicit
    env = os.environ.get("ROUTERWATCH_DB")
    if env:
        return env
    return f"sqlite:///{data_dir() / 'routerwatch.db'}"


def nvd_api_key() -> str | None:
    return os.environ.get("NVD_API_KEY") or None
