"""One serialiser for every model: msgspec, driven by the dataclass annotations.

``encode(obj)`` gives compact JSON bytes; ``decode(data, Type)`` validates strictly (types,
``Literal`` choices, the ``Annotated`` bounds of routerwatch.models, required fields) and
builds the frozen dataclasses directly. Unknown fields are ignored: a newer writer of the same
format may have added some (the upgrade rule, docs/schema/README.md). ``to_builtins`` /
``from_builtins`` do the same for data already parsed (YAML, a web framework's JSON).

Chosen over pydantic v2 by measurement (bench/schema_codec.py, bench/RESULTS.md).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Hashable, Iterable
from functools import lru_cache
from typing import Any, TypeVar, cast

import msgspec

from routerwatch.schema.errors import SchemaError

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder(enc_hook=str)
_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def encode(obj: Any) -> bytes:
    """Compact JSON of any model (or document), in field order."""
    return _ENCODER.encode(obj)


@lru_cache(maxsize=64)
def decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    """The cached strict JSON decoder for ``type_`` (a model, document or container of them)."""
    return msgspec.json.Decoder(type_)


_BIG = 1 << 16


def decode(data: bytes | str, type_: type[T]) -> T:
    """Parse and validate JSON as ``type_``; SchemaError names the first bad field."""
    try:
        if len(data) < _BIG:
            result: T = decoder(cast(Hashable, type_)).decode(data)
            return result
        # A large document allocates many containers at once: the cyclic GC would scan them
        # again and again while they are built (measured 1.5x slower), and none is garbage yet.
        enabled = gc.isenabled()
        gc.disable()
        try:
            result = decoder(cast(Hashable, type_)).decode(data)
        finally:
            if enabled:
                gc.enable()
        return result
    except msgspec.ValidationError as exc:
        raise schema_error(exc, data) from None
    except msgspec.DecodeError as exc:
        raise SchemaError(f"not JSON: {exc}") from None
    except RecursionError:
        raise SchemaError("JSON nested too deeply") from None


def encode_lines(objs: Iterable[Any]) -> bytes:
    """JSON Lines: one compact JSON document per model, each ending in a newline."""
    return b"".join(_ENCODER.encode(o) + b"\n" for o in objs)


def decode_lines(data: bytes, type_: type[T]) -> list[T]:
    """Every line of JSON Lines as ``type_`` (blank lines skipped); SchemaError names the line
    and the field (``line 12: open_ports[0]: ...``)."""
    dec = decoder(cast(Hashable, type_))
    out: list[T] = []
    enabled = gc.isenabled()
    gc.disable()  # see decode(): the results are all kept, none is garbage yet
    try:
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(dec.decode(line))
            except msgspec.ValidationError as exc:
                err = schema_error(exc, line)
                raise SchemaError(err.reason, f"line {number}: {err.path}") from None
            except msgspec.DecodeError as exc:
                raise SchemaError(f"not JSON: {exc}", f"line {number}") from None
    finally:
        if enabled:
            gc.enable()
    return out


def to_builtins(obj: Any) -> Any:
    """The model as plain JSON data, dicts/lists/str/numbers: exactly what ``encode`` writes."""
    return msgspec.json.decode(_ENCODER.encode(obj))


def from_builtins(data: Any, type_: type[T]) -> T:
    """Validate already-parsed JSON-like data as ``type_`` (as strictly as ``decode``)."""
    try:
        return msgspec.convert(data, type_, strict=True)
    except msgspec.ValidationError as exc:
        raise schema_error(exc, data) from None
    except RecursionError:
        raise SchemaError("data nested too deeply") from None


def _plain(message: str) -> str:
    """msgspec's sentence as the tail of ours: "Expected `int`" → "expected `int`"."""
    if message[:2].isupper():
        return message
    return message[:1].lower() + message[1:]


def _path(raw: str) -> str:
    return raw[1:] if raw.startswith(".") else raw


def schema_error(exc: msgspec.ValidationError, data: Any = None) -> SchemaError:
    """msgspec's message ("Expected `int`, got `str` - at `$.a[0].b`") as a SchemaError
    whose text starts with the field's path and, where it can be found, shows the value."""
    m = _AT.match(str(exc))
    assert m is not None  # the pattern matches any text
    message, path = m.group("msg"), _path(m.group("path") or "")
    missing = _MISSING.match(message)
    if missing:
        path = f"{path}.{missing.group('field')}" if path else missing.group("field")
        return SchemaError("missing", path)
    message = _plain(message)
    shown = _value_at(data, path)
    if shown is not None:
        message += f" ({shown})"
    return SchemaError(message, path or "document")


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _value_at(data: Any, path: str) -> str | None:
    """A short repr of the value at ``path`` in the input, or None when it can't be found."""
    if not path:
        return None
    if isinstance(data, bytes | str):
        try:
            data = msgspec.json.decode(data)
        except (msgspec.DecodeError, RecursionError):
            return None
    node = data
    for key, index in _STEP.findall("." + path):
        try:
            node = node[int(index)] if index else node[key]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    shown = repr(node)
    return shown if len(shown) <= 60 else shown[:57] + "..."
