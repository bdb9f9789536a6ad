"""Read a router configuration export (text, XML or JSON) into flat settings and records.

Formats, detected from the content (never from the file name):

* text: ``name=value`` lines (ASUS/DD-WRT/Tomato ``nvram show``, NETGEAR/ASUS text backups),
  INI sections (``[section]`` prefixes the keys below it), MikroTik ``/export`` scripts
  (``/ip dns`` + ``set servers=...``, or terse ``/ip dns set servers=...`` on one line; the item
  a ``set telnet ...`` line names becomes the record's ``name``) and OpenWrt ``uci export``
  (``package``/``config``/``option``/``list`` lines: one record per ``config`` section, path
  ``<package>.<type>``, its name as ``name``). A line that is not ``name=value`` continues the value
  above it (``nvram show`` prints multi-line values that way); the file must start with a
  setting, a section or a comment.
* XML: parsed with defusedxml (entities and external references refused). TP-Link's decrypted
  ``config.xml`` writes attributes without quotes (``<DNSServers val=1.1.1.1 />``); when strict
  parsing fails such attributes are quoted and parsing is retried once.
* JSON: any nesting; keys are joined with dots, list items keep their parent's key.

Vendor formats (:mod:`routerwatch.checks.config_exports`): AVM FRITZ!Box ``.export`` files,
Tomato ``nvram export --set`` text and ``.cfg`` backups (gzip ``TCF1`` and ARM ``HDR2``), and
TP-Link ``config.bin`` (DES-ECB under the published key, MD5-checked).

Every failure is a :class:`ConfigAuditError` whose message names the file and what was wrong,
one line, so the CLI can print it as is. The size limit is checked before reading (and again
while reading, for files whose size the file system does not know).
"""

from __future__ import annotations

import codecs
import gc
import json
import os
import re
import shlex
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from routerwatch import jsontext

__all__ = [
    "ConfigAuditError",
    "ParsedConfig",
    "Record",
    "Setting",
    "parse_text",
    "read_config",
]

Format = Literal["text", "xml", "json"]
MAX_DEPTH = 64
_LEAF = re.compile(r"[.@]")


class ConfigAuditError(Exception):
    """A configuration export cannot be read; the message is one line naming the file."""


@dataclass(slots=True)
class Setting:
    key: str  # as in the file, path parts joined with "."
    value: str
    lkey: str = field(init=False, repr=False, compare=False)  # lower-case key

    def __post_init__(self) -> None:
        self.lkey = self.key.lower()

    @property
    def leaf(self) -> str:
        return _LEAF.split(self.lkey)[-1]


@dataclass(frozen=True)
class Record:
    """The scalar members of one XML element, JSON object or INI section."""

    path: str
    fields: dict[str, str] = field(default_factory=dict)  # lower-case member name -> value


@dataclass(frozen=True)
class ParsedConfig:
    name: str
    format: Format
    settings: tuple[Setting, ...]
    records: tuple[Record, ...] = ()

    def values(self, key_pattern: re.Pattern[str]) -> Iterator[Setting]:
        """Settings whose lower-case full key matches (search) the pattern."""
        for s in self.settings:
            if key_pattern.search(s.lkey):
                yield s


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


def _read_bytes(path: Path, name: str, max_bytes: int) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigAuditError(f"{name}: no such file") from None
    except OSError as e:
        raise ConfigAuditError(f"{name}: cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigAuditError(f"{name}: is a directory, not a configuration export")
    limit = f"the {_size(max_bytes)} limit for a configuration export"
    if st.st_size > max_bytes:
        raise ConfigAuditError(f"{name}: file is {_size(st.st_size)}, over {limit}")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise ConfigAuditError(f"{name}: cannot read: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise ConfigAuditError(f"{name}: more than {limit}")
    return data


_BINARY_HINT = (
    "expected a text, XML or JSON export (decrypt or decompress backups such as TP-Link "
    "config.bin or ASUS Settings_*.CFG first)"
)
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\x1f\x8b"):
        raise ConfigAuditError(f"{name}: gzip-compressed data; {_BINARY_HINT}")
    if data.startswith(b"PK\x03\x04"):
        raise ConfigAuditError(f"{name}: a ZIP archive; {_BINARY_HINT}")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ConfigAuditError(
                f"{name}: starts with a UTF-16 byte-order mark but is not valid UTF-16 "
                f"({e.reason} at byte {e.start})"
            ) from None
    else:
        if b"\x00" in data:
            raise ConfigAuditError(
                f"{name}: binary data (NUL bytes at offset {data.index(0)}); {_BINARY_HINT}"
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ConfigAuditError(
                f"{name}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
                "save the export as UTF-8"
            ) from None
    controls = sum(1 for ch in text if ch < " " and ch not in _ALLOWED_CONTROLS)
    if "\x00" in text or controls > max(8, len(text) // 200):
        raise ConfigAuditError(
            f"{name}: binary data ({controls} control characters); {_BINARY_HINT}"
        )
    return text


# --------------------------------------------------------------------------- text

_KV = re.compile(r"^\s*([A-Za-z0-9_][A-Za-z0-9_.:/\-\[\]@]*)\s*=\s?(.*?)\s*$")
_SECTION = re.compile(r"^\s*\[([^\]\n]{1,200})\]\s*$")
_MIKROTIK_PATH = re.compile(r"^/[a-z0-9 /-]+$", re.I)
_COMMENT = ("#", ";", "//")
_NVRAM_TRAILER = re.compile(r"^size:\s*\d+\s*bytes", re.I)


_FIND = re.compile(r"\[\s*find\b[^\]]*\]")
_TERSE = re.compile(r"^(/[a-z0-9 /-]+?)\s+(set|add)\b(.*)$", re.I)


def _mikrotik(line: str, section: str) -> list[Setting] | None:
    verb, _, rest = line.partition(" ")
    if verb not in ("set", "add") or not section:
        return None
    try:
        tokens = shlex.split(_FIND.sub(" ", rest), posix=True)
    except ValueError:
        return None
    pairs = [t.partition("=") for t in tokens]
    out = [Setting(f"{section}.{k}", v) for k, eq, v in pairs if eq]
    named = [k for k, eq, _ in pairs if not eq and k]
    if named and not any(k == "name" for k, eq, _ in pairs if eq):
        out.insert(0, Setting(f"{section}.name", named[0]))  # "set telnet ..." names the item
    return out or None


_UCI = re.compile(r"^(package|config|option|list)\s+(\S+)(?:\s+(.*))?$")


def _uci_value(text: str | None) -> str:
    try:
        parts = shlex.split(text or "", posix=True)
    except ValueError:
        return (text or "").strip()
    return " ".join(parts)


def _uci(text: str, name: str) -> tuple[list[Setting], list[Record]] | None:
    """OpenWrt ``uci export``; None when the text is not in that format."""
    lines = [ln.strip() for ln in text.splitlines()]
    first = next((ln for ln in lines if ln and not ln.startswith("#")), "")
    if not re.match(r"^(package|config)\s", first):
        return None
    settings: list[Setting] = []
    records: list[Record] = []
    package, path, label = "", "", ""
    fields: dict[str, str] = {}
    for lineno, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            continue
        m = _UCI.match(line)
        if m is None:
            raise ConfigAuditError(
                f"{name}: uci export line {lineno} is not package/config/option/list"
            )
        word, key, rest = m.groups()
        if word in ("package", "config"):
            if path:
                records.append(Record(path, fields))
            if word == "package":
                package, path, fields = _uci_value(key), "", {}
                continue
            kind = _uci_value(key)
            label = _uci_value(rest) if rest else ""
            path = f"{package}.{kind}" if package else kind
            fields = {"name": label} if label else {}
            continue
        if not path:
            raise ConfigAuditError(
                f"{name}: uci export line {lineno}: {word} outside a config section"
            )
        value = _uci_value(rest)
        key = key.lower()
        fields[key] = f"{fields[key]} {value}" if word == "list" and key in fields else value
        settings.append(Setting(f"{path}.{label or 'section'}.{key}", value))
    if path:
        records.append(Record(path, fields))
    if not settings:
        raise ConfigAuditError(f"{name}: uci export without any option")
    return settings, records


def _text(text: str, name: str) -> tuple[list[Setting], list[Record]]:
    settings: list[Setting] = []
    records: list[Record] = []
    section = ""
    section_fields: dict[str, str] = {}
    first = True
    lines = text.replace("\\\r\n", "").replace("\\\n", "").splitlines()
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(_COMMENT) or _NVRAM_TRAILER.match(stripped):
            continue
        terse = _TERSE.match(stripped)
        if terse:  # "/ip socks set enabled=yes": a path and its command on one line
            if section_fields:
                records.append(Record(section, section_fields))
                section_fields = {}
            section = terse.group(1)[1:].strip().replace(" ", ".")
            stripped = f"{terse.group(2)}{terse.group(3)}"
            first = False
        m = None if terse else _SECTION.match(line)
        if m or (not terse and _MIKROTIK_PATH.match(stripped)):
            if section_fields:
                records.append(Record(section, section_fields))
            section = (m.group(1) if m else stripped[1:].replace(" ", ".")).strip()
            section_fields = {}
            first = False
            continue
        kv = _KV.match(line)
        if kv:
            key = f"{section}.{kv.group(1)}" if section else kv.group(1)
            settings.append(Setting(key, kv.group(2)))
            if section:
                section_fields[kv.group(1).lower()] = kv.group(2)
            first = False
            continue
        mk = _mikrotik(stripped, section)
        if mk:
            settings.extend(mk)
            records.append(Record(section, {s.key.rsplit(".", 1)[-1].lower(): s.value for s in mk}))
            first = False
            continue
        if first:
            raise ConfigAuditError(
                f"{name}: unknown format: line {lineno} is not a name=value setting, an INI "
                "section or a comment, and the file is not XML or JSON"
            )
        if settings:  # a continuation of a multi-line value
            prev = settings[-1]
            settings[-1] = Setting(prev.key, prev.value + "\n" + line)
    if section_fields:
        records.append(Record(section, section_fields))
    if not settings:
        raise ConfigAuditError(f"{name}: unknown format: no name=value settings found")
    return settings, records


# --------------------------------------------------------------------------- XML

_UNQUOTED_ATTR = re.compile(r"(<[^<>!?]*?\s[\w:.-]+)=([^\s\"'<>=][^\s<>]*?)(?=\s|/?>)")


def _quote_attrs(text: str) -> str:
    prev = None
    while prev != text:  # one attribute per tag per pass
        prev = text
        text = _UNQUOTED_ATTR.sub(lambda m: f'{m.group(1)}="{_xml_escape(m.group(2))}"', text)
    return text


def _xml_escape(v: str) -> str:
    return v.replace("&", "&amp;").replace('"', "&quot;")


def _local(tag: Any) -> str:
    t = tag if isinstance(tag, str) else str(tag)
    return t.rsplit("}", 1)[-1] if "}" in t else t


def _xml(text: str, name: str) -> tuple[list[Setting], list[Record]]:
    try:
        root = SafeET.fromstring(text)
    except defusedxml.DefusedXmlException as e:
        raise ConfigAuditError(
            f"{name}: XML refused: {type(e).__name__} (entities, DTDs "
            "and external references are not allowed)"
        ) from None
    except ParseError as e:
        fixed = _quote_attrs(text)
        if fixed == text:
            raise ConfigAuditError(f"{name}: truncated or malformed XML: {e}") from None
        try:  # TP-Link style unquoted attributes: report what is wrong after quoting them
            root = SafeET.fromstring(fixed)
        except ParseError as e2:
            raise ConfigAuditError(f"{name}: truncated or malformed XML: {e2}") from None
        except defusedxml.DefusedXmlException as e2:
            raise ConfigAuditError(f"{name}: XML refused: {type(e2).__name__}") from None
    settings: list[Setting] = []
    records: list[Record] = []
    stack: list[tuple[Element, str, int]] = [(root, "", 0)]
    while stack:
        el, parent, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigAuditError(f"{name}: XML nested deeper than {MAX_DEPTH} levels")
        tag = _local(el.tag)
        key = f"{parent}.{tag}" if parent else tag
        attrs = {str(k): str(v) for k, v in el.attrib.items()}
        val = attrs.pop("val", None)
        if val is None:
            val = attrs.pop("value", None)
        text_value = (el.text or "").strip()
        if val is not None:
            settings.append(Setting(key, val))
        if text_value:
            settings.append(Setting(key, text_value))
        for a, v in attrs.items():
            settings.append(Setting(f"{key}@{_local(a)}", v))
        fields = {k.lower(): v for k, v in attrs.items()}
        children = list(el)
        for child in children:
            if len(child) == 0:
                cval = child.attrib.get("val", child.attrib.get("value"))
                fields[_local(child.tag).lower()] = (
                    str(cval) if cval is not None else (child.text or "").strip()
                )
        if fields:
            records.append(Record(key, fields))
        stack.extend((c, key, depth + 1) for c in reversed(children))
    return settings, records


# --------------------------------------------------------------------------- JSON


def _scalar(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


def _json(text: str, name: str) -> tuple[list[Setting], list[Record]]:
    try:
        data = jsontext.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigAuditError(
            f"{name}: truncated or malformed JSON: {e.msg} at line {e.lineno} column {e.colno}"
        ) from None
    except RecursionError:
        raise ConfigAuditError(f"{name}: JSON nested too deeply") from None
    settings: list[Setting] = []
    records: list[Record] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        node, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigAuditError(f"{name}: JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            fields: dict[str, str] = {}
            for k, v in node.items():
                sub = f"{key}.{k}" if key else str(k)
                if isinstance(v, dict | list):
                    if isinstance(v, list) and all(not isinstance(x, dict | list) for x in v):
                        fields[str(k).lower()] = ",".join(_scalar(x) for x in v)
                    stack.append((v, sub, depth + 1))
                else:
                    fields[str(k).lower()] = _scalar(v)
                    settings.append(Setting(sub, _scalar(v)))
            if fields:
                records.append(Record(key, fields))
        elif isinstance(node, list):
            for item in reversed(node):
                stack.append((item, key, depth + 1))
        else:
            settings.append(Setting(key or "value", _scalar(node)))
    if not settings and not records:
        raise ConfigAuditError(f"{name}: JSON holds no settings")
    return settings, records


# --------------------------------------------------------------------------- entry points


def parse_text(text: str, name: str) -> ParsedConfig:
    """Detect the format of an already decoded export and parse it."""
    # Parsing allocates hundreds of thousands of small objects on a big export; the cyclic
    # garbage collector would walk them all again and again (they hold no cycles).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, name)
    finally:
        if collecting:
            gc.enable()


def _parse(text: str, name: str) -> ParsedConfig:
    from routerwatch.checks.config_exports import (
        avm_cfg,
        fritz_export,
        is_avm_cfg,
        is_fritz_export,
        nvram_set_lines,
    )

    head = text.lstrip()
    if not head:
        raise ConfigAuditError(f"{name}: file is empty")
    fmt: Format
    if head.startswith("<"):
        fmt, (settings, records) = "xml", _xml(head, name)
    elif head.startswith(("{", "[")):
        fmt, (settings, records) = "json", _json(head, name)
    elif is_fritz_export(text):  # AVM FRITZ!Box .export (config_exports)
        fmt, (settings, records) = "text", fritz_export(text, name)
    elif is_avm_cfg(text):  # a bare ar7.cfg (Freetz, fb_tools)
        fmt, (settings, records) = "text", avm_cfg(text, name)
    elif (nvram := nvram_set_lines(text)) is not None:  # Tomato `nvram export --set`
        fmt, (settings, records) = "text", (nvram, [])
    else:
        uci = _uci(text, name)
        fmt, (settings, records) = "text", uci if uci is not None else _text(text, name)
    return _config(name, fmt, settings, records)


def _config(name: str, fmt: Format, settings: list[Setting], records: list[Record]
            ) -> ParsedConfig:
    """The parsed export, with nvram ``portforward`` rules (Tomato) read into records."""
    from routerwatch.checks.config_exports import tomato_forwards

    for s in list(settings):
        if s.leaf == "portforward" and "<" in s.value:
            records.extend(tomato_forwards(s.key, s.value))
    return ParsedConfig(name=name, format=fmt, settings=tuple(settings), records=tuple(records))


def read_config(path: Path | str, max_bytes: int = 16 * 2**20) -> ParsedConfig:
    """Read, decode and parse one export; every failure is a one-line ConfigAuditError."""
    p = Path(path)
    name = str(path)
    data = _read_bytes(p, name, max_bytes)
    if not data.strip():
        raise ConfigAuditError(f"{name}: file is empty")
    from routerwatch.checks.config_exports import decode_backup, tplink_settings

    backup = decode_backup(data, name, max_bytes)  # Tomato .cfg, TP-Link config.bin
    if backup is not None:
        kind, content = backup
        if isinstance(content, list):
            return _config(name, "text", content, [])
        if kind == "xml":
            return _config(name, "xml", *_xml(content.lstrip(), name))
        return _config(name, "text", tplink_settings(content), [])
    return parse_text(_decode(data, name), name)
