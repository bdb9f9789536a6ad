"""Where every ``-o/--output`` file goes: checked first, written atomically, never through a link.

:func:`destination` turns what the user gave into the file to write (an existing directory gets
the default name) and refuses, with one :class:`OutputError` line, anything that is not a
regular file or a new name in an existing directory: symlinks (even to regular files),
FIFOs, device nodes (``/dev/null`` as root would be replaced), sockets, directories given
where a file is needed, a missing parent directory. Commands call it before their work starts,
so a long scan does not end in "cannot write".

:func:`atomic_writer` / :func:`write_text` / :func:`write_bytes` write through a temporary
file created (``O_EXCL``) in the same directory, fsync it, check the destination again and
``os.replace`` it into place: the file appears complete or not at all, and a link or node
planted there in the meantime is refused, not replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["OutputError", "atomic_writer", "destination", "write_bytes", "write_text"]


class OutputError(OSError):
    """The output path cannot be used; the message names it and says why."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "cannot write the output"


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def _refuse_special(path: Path) -> None:
    """OutputError unless ``path`` is missing or a regular file (links are not followed)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot use {path}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        return
    for test, what in _KINDS:
        if test(mode):
            raise OutputError(f"refusing to write {path}: it is {what}, not a regular file")
    raise OutputError(f"refusing to write {path}: not a regular file")


def destination(output: str | os.PathLike[str], default_name: str | None = None) -> Path:
    """The file to write for ``output``; OutputError when it cannot or must not be written.

    An existing directory (or a link to one) gets ``default_name`` inside it.
    """
    path = Path(output).expanduser()
    if default_name is not None and path.is_dir():
        path = path / default_name
    _refuse_special(path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"directory {parent} is not writable")
    return path


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file object whose content replaces ``path`` when the block ends without error."""
    final = destination(path)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        _refuse_special(final)  # planted since the first check? refuse, do not replace
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; the path written."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; the path written."""
    with atomic_writer(path) as handle:
        handle.write(data)
    return Path(path)
