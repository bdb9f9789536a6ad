"""An on-disk cache of derived data (the compiled fingerprint rule set), keyed by a digest of
everything it is derived from, and a fast YAML loader.

Loading the shipped fingerprint rules and Recog databases (XML parsing, Ruby-to-Python regex
conversion, ~3,000 regex compilations) costs seconds; the result only changes when a rule
file or the loader code does. :func:`load_or_build` keeps it in
``$ROUTERWATCH_CACHE`` (else ``$ROUTERWATCH_HOME/cache``, else the user's cache directory)
as a pickle named by the SHA-256 of its inputs, so a changed input is a different file and
a stale one is never read. Regexes are stored as their pattern text and compiled on first
use (:class:`LazyPattern`): a check of one device compiles only the rules it tries.

The cache directory is the user's own; a file that cannot be read or written is rebuilt or
skipped, never an error.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["LazyPattern", "cache_dir", "digest", "load_or_build", "load_yaml"]

T = TypeVar("T")
FORMAT = 1  # bump when the stored shape changes


def cache_dir() -> Path:
    """Where cached files live (created on demand)."""
    explicit = os.environ.get("ROUTERWATCH_CACHE")
    if explicit:
        return Path(explicit)
    home = os.environ.get("ROUTERWATCH_HOME")
    if home:
        return Path(home) / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("routerwatch"))


def digest(files: Iterable[Any], extra: str = "") -> str:
    """SHA-256 over the names and bytes of ``files`` (paths or importlib Traversables), the
    Python version and ``extra``."""
    h = hashlib.sha256(f"{FORMAT} {sys.version} {extra}".encode())
    for item in files:
        h.update(str(getattr(item, "name", item)).encode() + b"\0")
        h.update(item.read_bytes())
    return h.hexdigest()


class LazyPattern:
    """A regex compiled on first use; ``pattern`` and ``flags`` are known without compiling,
    everything else is the compiled pattern's."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)

    def search(self, text: str, *args: Any) -> re.Match[str] | None:
        return self.compiled().search(text, *args)

    def match(self, text: str, *args: Any) -> re.Match[str] | None:
        return self.compiled().match(text, *args)

    def fullmatch(self, text: str, *args: Any) -> re.Match[str] | None:
        return self.compiled().fullmatch(text, *args)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyPattern, (self.pattern, self.flags))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyPattern | re.Pattern):
            return (self.pattern, self.flags) == (other.pattern, other.flags)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags})"


class _Pickler(pickle.Pickler):
    """Stores compiled regexes as LazyPattern (pattern text + flags)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, re.Pattern):
            return (LazyPattern, (obj.pattern, obj.flags))
        return NotImplemented


def load_or_build(name: str, key: str, build: Callable[[], T]) -> T:
    """The cached value of ``name`` for inputs digest ``key``, else ``build()`` (stored for
    the next run; older files of the same name are removed)."""
    folder = cache_dir()
    path = folder / f"{name}.{key[:32]}.pickle"
    try:
        with path.open("rb") as fh:
            value: T = pickle.load(fh)
        return value
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
            IndexError, TypeError, ValueError):
        pass
    value = build()
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(buffer.getvalue())
        os.replace(tmp, path)
        for old in folder.glob(f"{name}.*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass  # an unwritable cache only costs the next run the build
    return value


def load_yaml(text: str) -> Any:
    """YAML with the safe loader, in C (libyaml) when PyYAML has it."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
