"""Vendor backup and export formats, turned into the flat settings and records that
:mod:`routerwatch.checks.config_parse` gives every check.

* **AVM FRITZ!Box** ``.export`` files (*System > Backup*): a ``**** FRITZ!Box ... CONFIGURATION
  EXPORT`` header, ``Name=value`` lines, then ``**** CFGFILE:ar7.cfg`` sections in AVM's own
  C-like syntax (``ar7cfg { dns1 = 1.2.3.4; forwardrules = "tcp 0.0.0.0:443 0.0.0.0:22 0 #
  name", ...; brinterfaces { ... } }``), ``BINFILE``/``B64FILE``/``CRYPTEDBINFILE`` sections
  (skipped: binary or encrypted) and ``**** END OF EXPORT``. Keys are the block path
  (``ar7cfg.dns1``); ``forwardrules`` entries (``<proto> <ext addr>:<port>[+n] <dest>:<port>
  ...``) become port-forward records.
* **Tomato / FreshTomato** backups: ``nvram export --set`` text (``nvram set key="value"``
  lines, shell-quoted); the web UI's ``.cfg`` of MIPS builds (gzip of ``TCF1`` + 4 bytes, then
  NUL-separated ``key=value`` pairs ending in two NULs) and of ARM builds (``HDR2``, a 3-byte
  big-endian length, one random byte r, then each byte b stored as ``0xff - b + r`` and each
  NUL as a byte of 0xfd-0xff). ``portforward`` rules (``on<proto<src<ext ports<int port<dest
  <description>``) become port-forward records.
* **TP-Link** ``config.bin``: DES in ECB mode under the publicly documented key
  ``478DA50BF9E3D2CF``, decrypted with the ``cryptography`` library; the plaintext is an MD5 of
  the rest (16 bytes) followed by ``name value`` lines (TL-WR841N v8-v11 era), XML, or a zlib
  stream of those. Newer firmware compresses with TP-Link's own LZ scheme, which is not read:
  one clear error says so.

Format sources (descriptions only; no code taken): doublerebel/nvram-cfg-parser README and
``src/nvram-parser.iced`` / ``src/nvram-arm-parser.iced`` (MIT) for both Tomato ``.cfg``
layouts; Tomato's ``defaults.c`` / ``tomato.c`` (GPL; Jackysi/advancedtomato) for the nvram
names and the ``portforward`` layout; Freetz ``make/avm-rules/README.md`` and public ar7.cfg
excerpts for the FRITZ!Box syntax; sta-c0000/tpconf_bin_xml README (GPL-3.0) and the 2014 post
"TP-Link configuration file decrypt" for the TP-Link key and layout. See docs/checks.md.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import shlex
import zlib
from collections.abc import Iterator

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from routerwatch.checks.config_parse import ConfigAuditError, Record, Setting

__all__ = [
    "TPLINK_DES_KEY",
    "avm_cfg",
    "decode_backup",
    "fritz_export",
    "is_avm_cfg",
    "is_fritz_export",
    "nvram_set_lines",
    "tomato_forwards",
]

# Publicly documented since 2013/2014 (see the module docstring); the same 8 bytes on every
# TP-Link router of that generation, so this is not a secret of anyone's.
TPLINK_DES_KEY = bytes.fromhex("478DA50BF9E3D2CF")

_FRITZ_HEAD = re.compile(r"^\*{4} .*CONFIGURATION EXPORT\s*$", re.M)
_SECTION = re.compile(r"^\*{4} ([A-Z0-9]+):(.*?)\s*$")
_TOKEN = re.compile(
    r'\s*(?:(?P<comment>/\*.*?\*/|//[^\n]*)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<punct>[{};=,])'
    r'|(?P<word>[^\s{};=,"]+))', re.S)
_BARE_AVM = re.compile(r"\A\s*(?:/\*.*?\*/\s*)?(?:meta|ar7cfg|[a-z0-9_]+cfg)\s*\{", re.S)
_FORWARD = re.compile(
    r"^\s*(?P<proto>tcp|udp|gre|esp|icmp|both)\s+(?P<src>[0-9a-fA-F.:]+?):(?P<port>\d{1,5})"
    r"(?:\+(?P<count>\d{1,5}))?\s+(?P<dest>[0-9a-fA-F.:]+?)(?::(?P<dport>\d{1,5}))?"
    r"(?:\s+\d+)?\s*(?:#\s*(?P<desc>.*))?$", re.I)


# --------------------------------------------------------------------------- FRITZ!Box


def is_fritz_export(text: str) -> bool:
    return _FRITZ_HEAD.search(text[:4096]) is not None


def is_avm_cfg(text: str) -> bool:
    """A bare AVM config file (``ar7.cfg`` as Freetz or fb_tools extract it)."""
    return _BARE_AVM.match(text[:4096]) is not None


def avm_cfg(text: str, name: str) -> tuple[list[Setting], list[Record]]:
    """Settings and records of a bare AVM config file."""
    settings, records = _avm_cfg(text, "ar7.cfg", name)
    if not settings and not records:
        raise ConfigAuditError(f"{name}: an AVM config file without settings")
    return settings, records


def _fritz_forward(key: str, value: str) -> Record | None:
    m = _FORWARD.match(value)
    if m is None:
        return None
    port = int(m.group("port"))
    ext = f"{port}-{port + int(m.group('count')) - 1}" if m.group("count") else str(port)
    fields = {"protocol": m.group("proto").lower(), "externalport": ext,
              "internalport": m.group("dport") or str(port),
              "internalclient": m.group("dest"), "description": (m.group("desc") or "").strip()}
    return Record(key, fields)


def _avm_cfg(text: str, file: str, name: str) -> tuple[list[Setting], list[Record]]:
    """One CFGFILE body in AVM's syntax: blocks, ``name = value[, value...];``."""
    settings: list[Setting] = []
    records: list[Record] = []
    stack: list[tuple[str, dict[str, str]]] = []
    pending: list[str] = []  # words before "{" or "="
    key: str | None = None
    values: list[str] = []
    block_list: str | None = None  # "name = { ... }, { ... };": each block is a "name" record
    for m in _TOKEN.finditer(text):
        if m.group("comment"):
            continue
        punct, word, string = m.group("punct"), m.group("word"), m.group("str")
        if key is not None and punct == "{" and not values:
            stack.append((key, {}))  # the first block of a list of blocks
            block_list, key = key, None
            continue
        if key is not None:  # inside "name = ...;"
            if punct == ";":
                path = ".".join([p for p, _ in stack] + [key])
                for v in values:
                    settings.append(Setting(path, v))
                    # tr069_forwardrules: the ISP's own management port on the box (TR-069),
                    # present on every ISP-provisioned box: not an owner's forward
                    if key.endswith("forwardrules") and not key.startswith("tr069"):
                        fwd = _fritz_forward(path, v)
                        if fwd is not None:
                            records.append(fwd)
                if stack:
                    stack[-1][1][key.lower()] = ", ".join(values)
                key, values = None, []
            elif string is not None:
                values.append(string[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
            elif word is not None:
                values.append(word)
            continue
        if word is not None or string is not None:
            pending.append(word if word is not None else string[1:-1])
        elif punct == "{" and not pending and block_list is not None:
            stack.append((block_list, {}))  # "}, {": the next block of the list
        elif punct in (",", ";"):
            if punct == ";":
                block_list = None
            pending = []
        elif punct == "=":
            if not pending:
                raise ConfigAuditError(f"{name}: {file}: '=' without a name")
            key, pending = pending[-1], []
        elif punct == "{":
            stack.append((pending[-1] if pending else "block", {}))
            pending = []
        elif punct == "}":
            if not stack:
                raise ConfigAuditError(f"{name}: {file}: '}}' without a block")
            block, fields = stack.pop()
            path = ".".join([p for p, _ in stack] + [block])
            records.append(Record(path, fields))
            for field_name, value in fields.items():  # list-of-blocks members as settings too
                if block == block_list:
                    settings.append(Setting(f"{path}.{field_name}", value))
            pending = []
    if stack or key is not None:
        raise ConfigAuditError(f"{name}: {file}: the file ends inside a block or a setting")
    return settings, records


def fritz_export(text: str, name: str) -> tuple[list[Setting], list[Record]]:
    """Settings and records of a FRITZ!Box ``.export`` file."""
    settings: list[Setting] = []
    records: list[Record] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        sec = _SECTION.match(line)
        if sec is None:
            kv = line.split("=", 1)
            if len(kv) == 2 and not line.startswith("****") and kv[0].strip().isidentifier():
                settings.append(Setting(f"export.{kv[0].strip()}", kv[1].strip()))
            i += 1
            continue
        kind, file = sec.group(1), sec.group(2)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("**** "):
            j += 1
        if kind == "CFGFILE":
            s, r = _avm_cfg("\n".join(lines[i + 1:j]), file, name)
            settings.extend(s)
            records.extend(r)
        i = j
    if not settings:
        raise ConfigAuditError(f"{name}: a FRITZ!Box export header but no settings")
    return settings, records


# --------------------------------------------------------------------------- Tomato


def nvram_set_lines(text: str) -> list[Setting] | None:
    """``nvram export --set`` output: ``nvram set key="value"`` lines (values shell-quoted,
    possibly spanning lines). None when the text is not that."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].lstrip().startswith("nvram set "):
        return None
    out: list[Setting] = []
    buf = ""
    for line in text.splitlines():
        buf = f"{buf}\n{line}" if buf else line
        if not buf.strip():
            buf = ""
            continue
        try:
            words = shlex.split(buf, posix=True)
        except ValueError:  # an open quote: the value goes on
            continue
        buf = ""
        if len(words) < 3 or words[:2] != ["nvram", "set"] or "=" not in words[2]:
            return None
        key, _, value = " ".join(words[2:]).partition("=")
        out.append(Setting(key, value))
    if buf:
        raise ConfigAuditError("an nvram export ends inside a quoted value")
    return out


def _pairs(body: bytes, name: str) -> list[Setting]:
    out: list[Setting] = []
    for raw in body.split(b"\0"):
        if not raw:
            continue
        text = raw.decode("utf-8", "replace")
        key, sep, value = text.partition("=")
        if sep and key:
            out.append(Setting(key, value))
    if not out:
        raise ConfigAuditError(f"{name}: an nvram backup without key=value pairs")
    return out


def _hdr2(data: bytes, name: str) -> list[Setting]:
    length = int.from_bytes(data[4:7], "big")
    rand = data[7]
    body = data[8:8 + length]
    if len(body) < length:
        raise ConfigAuditError(f"{name}: HDR2 nvram backup is truncated ({len(body)} of "
                               f"{length} bytes)")
    plain = bytes(0 if b >= 0xFD else (0xFF + rand - b) & 0xFF for b in body)
    return _pairs(plain, name)


def tomato_forwards(key: str, value: str) -> Iterator[Record]:
    """Tomato ``portforward`` rules as port-forward records (one per external port part)."""
    for rule in value.split(">"):
        f = rule.split("<")
        if len(f) < 6 or not f[3].strip():
            continue
        on, proto, src, ext, internal, dest = (p.strip() for p in f[:6])
        desc = f[6].strip() if len(f) > 6 else ""
        for part in ext.split(","):
            part = part.strip()
            if part:
                yield Record(key, {"enabled": on, "protocol": proto, "source": src,
                                   "externalport": part, "internalport": internal or part,
                                   "internalclient": dest, "description": desc})


# --------------------------------------------------------------------------- TP-Link


def _des_ecb_decrypt(data: bytes) -> bytes:
    # cryptography's TripleDES with K1 = K2 = K3 is single DES (its documented way to do
    # DES; 8-byte keys are deprecated there)
    d = Cipher(TripleDES(TPLINK_DES_KEY * 3), modes.ECB()).decryptor()
    return d.update(data) + d.finalize()


def _md5_payload(plain: bytes) -> bytes | None:
    """The payload after a 16-byte MD5 of it (the last DES block may be zero-padded)."""
    digest, rest = plain[:16], plain[16:]
    for cut in range(0, 9):
        body = rest[:len(rest) - cut] if cut else rest
        if hashlib.md5(body, usedforsecurity=False).digest() == digest:
            return body
    return None


def _tplink(data: bytes, name: str) -> tuple[str, str]:
    """("text" | "xml", the decrypted export) of a TP-Link config.bin."""
    plain = _des_ecb_decrypt(data)
    payload = _md5_payload(plain)
    if payload is None:
        try:
            inflated = zlib.decompressobj().decompress(plain, 16 * 2**20)
        except zlib.error:
            inflated = b""
        payload = _md5_payload(inflated) if inflated else None
    if payload is None:
        raise ConfigAuditError(
            f"{name}: binary data that is not a TP-Link config.bin either (DES with TP-Link's "
            "published key gives no valid MD5); expected a text, XML or JSON export")
    if payload[:2] in (b"\x78\x9c", b"\x78\xda", b"\x78\x01"):
        try:
            payload = zlib.decompressobj().decompress(payload, 16 * 2**20)
        except zlib.error as e:
            raise ConfigAuditError(f"{name}: TP-Link config.bin: bad zlib data ({e})") from None
    text = payload.rstrip(b"\0").decode("utf-8", "replace")
    if text.lstrip().startswith("<"):
        return "xml", text
    if not re.match(r"\s*[A-Za-z0-9_]+[ \t]", text):
        raise ConfigAuditError(
            f"{name}: TP-Link config.bin decrypted (MD5 valid) but compressed with TP-Link's own "
            "LZ scheme (newer firmware), which routerwatch does not read; convert it to XML "
            "with a tool such as tpconf_bin_xml and audit the XML")
    return "text", text


def tplink_settings(text: str) -> list[Setting]:
    """``name value`` lines of an older TP-Link backup as settings."""
    out: list[Setting] = []
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            out.append(Setting(key, value.strip()))
    return out


# --------------------------------------------------------------------------- entry point


def decode_backup(data: bytes, name: str, max_bytes: int
                  ) -> tuple[str, list[Setting] | str] | None:
    """A binary backup routerwatch can read: ("nvram", settings) for Tomato ``.cfg``,
    ("xml" | "tplink", text) for a TP-Link config.bin; None when the data is none of them
    (the caller's text decoding then decides)."""
    if data.startswith(b"\x1f\x8b"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
                inner = g.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise ConfigAuditError(f"{name}: gzip-compressed data that cannot be read ({e})"
                                   ) from None
        if len(inner) > max_bytes:
            raise ConfigAuditError(f"{name}: gzip data expands beyond the size limit")
        if inner.startswith(b"TCF1"):
            return "nvram", _pairs(inner[8:], name)
        return None
    if data.startswith(b"HDR2") and len(data) >= 8:
        return "nvram", _hdr2(data, name)
    if len(data) >= 24 and len(data) % 8 == 0 and (b"\0" in data or _mostly_binary(data)):
        kind, text = _tplink(data, name)
        return ("xml", text) if kind == "xml" else ("tplink", text)
    return None


def _mostly_binary(data: bytes) -> bool:
    head = data[:512]
    return sum(1 for b in head if b < 9 or 13 < b < 32 or b > 126) > len(head) // 4
