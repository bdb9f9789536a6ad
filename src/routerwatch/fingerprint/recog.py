"""Rapid7 Recog fingerprint databases as routerwatch rules.

Recog (https://github.com/rapid7/recog, BSD-2-Clause) keeps fingerprints as XML: one
``<fingerprint pattern=... flags=...>`` per match, ``<param pos=... name=... value=...>`` for
what it asserts and ``<example>`` elements that test it. routerwatch ships copies of the
databases it uses (``fingerprint/recog/``, see NOTICE.md there) and turns each fingerprint into
a :class:`~routerwatch.fingerprint.rules.Rule` with a lower weight than routerwatch's own rules.

Ruby and Python regular expressions differ; :func:`ruby_to_python` converts what it can
(``^``/``$`` are line anchors in Ruby, Ruby's MULTILINE is Python's DOTALL, ``\\h``, ``\\z``,
``\\Z``, ``(?<name>``, POSIX brackets, inline flags) and refuses the rest; the loader skips a
fingerprint it cannot compile and says why, it never fails on one pattern.

Mapping of Recog params to identity fields (see docs/fingerprints.md):

* vendor   <- ``hw.vendor``; else ``os.vendor`` when the fingerprint names a device class
  (``os.device``/``hw.device``) or the vendor is one the identity registry knows.
* model    <- ``hw.product``, else ``hw.model``.
* hardware <- ``hw.version`` (Netgear ``WNR2000v5`` -> ``5``).
* firmware <- ``os.version`` when ``os.vendor`` is the device's vendor and ``os.product`` is
  not a general-purpose OS (a Linux kernel version is no firmware).
* ``recog_overrides.yaml`` corrects the fingerprints of router vendors where Recog's own
  fields mean something else (e.g. Ubiquiti's ``hw.version`` is the firmware).
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import yaml
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from routerwatch.fingerprint.rules import Example, RecogSpec, Rule, RuleError
from routerwatch.identity.vendors import canonical_vendor

__all__ = [
    "RECOG_DATABASES",
    "RECOG_WEIGHT",
    "RecogPatternError",
    "load_recog",
    "ruby_to_python",
    "shipped_recog",
    "shipped_recog_files",
]

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RECOG_WEIGHT = 0.35  # a Recog hit counts this much (times its certainty); own rules 0.3-0.95
MAX_DB_BYTES = 16 * 1024 * 1024

# Database file -> the input sources its fingerprints read. http_servers.xml also holds
# the SERVER headers of UPnP stacks (ipos, miniupnpd), so it reads upnp.server too.
RECOG_DATABASES: dict[str, tuple[str, ...]] = {
    "http_servers.xml": ("http.server", "upnp.server"),
    "http_wwwauth.xml": ("http.wwwauth",),
    "html_title.xml": ("http.title",),
    "ftp_banners.xml": ("banner.ftp",),
    "ssh_banners.xml": ("banner.ssh",),
    "telnet_banners.xml": ("banner.telnet",),
    "x509_subjects.xml": ("tls.subject",),
    "snmp_sysdescr.xml": ("snmp.sysdescr",),
    "favicons.xml": ("http.favicon",),
    "http_cookies.xml": ("http.cookie",),
}
# The ``matches`` attribute of a database, for files named differently.
_MATCHES = {
    "http_header.server": RECOG_DATABASES["http_servers.xml"],
    "http_header.wwwauth": RECOG_DATABASES["http_wwwauth.xml"],
    "html_title": RECOG_DATABASES["html_title.xml"],
    "ftp.banner": RECOG_DATABASES["ftp_banners.xml"],
    "ssh.banner": RECOG_DATABASES["ssh_banners.xml"],
    "telnet.banner": RECOG_DATABASES["telnet_banners.xml"],
    "x509.subject": RECOG_DATABASES["x509_subjects.xml"],
    "snmp.sys_description": RECOG_DATABASES["snmp_sysdescr.xml"],
    "favicon.md5": RECOG_DATABASES["favicons.xml"],
    "http_header.cookie": RECOG_DATABASES["http_cookies.xml"],
}

# os.product values that are a general-purpose OS: their version is no device firmware.
_GENERIC_OS = frozenset(
    {"linux", "ipos", "vxworks", "windows", "freebsd", "netbsd", "openbsd", "unix", "qnx"}
)


class RecogPatternError(ValueError):
    """A Recog pattern that has no Python equivalent."""


# --------------------------------------------------------------------------- regex

_RUBY_FLAGS = {
    "REG_ICASE": re.IGNORECASE,
    # Recog maps all three to Ruby's Regexp::MULTILINE, which is Python's DOTALL.
    "REG_MULTILINE": re.DOTALL,
    "REG_DOT_NEWLINE": re.DOTALL,
    "REG_LINE_ANY_CRLF": re.DOTALL,
}
_INLINE = {"i": "i", "m": "s", "x": "x"}
_POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "xdigit": "0-9a-fA-F",
    "word": r"\w",
    "blank": r" \t",
    "cntrl": r"\x00-\x1f\x7f",
    "punct": r"!-/:-@\[-`{-~",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_INLINE_FLAGS = re.compile(r"\(\?([imx]*)(?:-([imx]*))?([:)])")
_NAMED_GROUP = re.compile(r"\(\?(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')")
_BACKREF_NAME = re.compile(r"\\k<([A-Za-z_]\w*)>")


def ruby_to_python(pattern: str, flags: str | None = None) -> re.Pattern[str]:
    """Compile a Recog (Ruby/Onigmo) pattern as Python ``re`` with the same meaning.

    Raises RecogPatternError with the reason when the pattern uses something Python's ``re``
    has no equivalent for (``\\p{...}``, ``\\G``, ``\\K``, nested classes, absent operator...).
    """
    py = re.MULTILINE | re.ASCII  # Ruby: ^ and $ always match at line ends; \w \d \s are ASCII
    for flag in (f.strip() for f in (flags or "").split(",")):
        if not flag:
            continue
        if flag not in _RUBY_FLAGS:
            raise RecogPatternError(f"unsupported flag {flag}")
        py |= _RUBY_FLAGS[flag]
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise RecogPatternError("trailing backslash")
            d = pattern[i + 1]
            if d == "h":
                out.append("0-9a-fA-F" if in_class else "[0-9a-fA-F]")
            elif d == "H" and not in_class:
                out.append("[^0-9a-fA-F]")
            elif d == "z" and not in_class:
                out.append(r"\Z")
            elif d == "Z" and not in_class:
                out.append(r"(?=\n?\Z)")
            elif d == "e":
                out.append(r"\x1b")
            elif d == "R" and not in_class:
                out.append(r"(?:\r\n|[\n\v\f\r\x85\u2028\u2029])")
            elif d == "k" and not in_class:
                m = _BACKREF_NAME.match(pattern, i)
                if m is None:
                    raise RecogPatternError("unsupported back-reference \\k")
                out.append(f"(?P={m.group(1)})")
                i = m.end()
                continue
            elif d in "HGKXpPgcOy" or (d == "A" and in_class):
                raise RecogPatternError(f"unsupported escape \\{d}")
            else:
                out.append(c + d)
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end] if end > 0 else ""
                negated = name.startswith("^")
                if end < 0 or negated or name not in _POSIX:
                    raise RecogPatternError(f"unsupported POSIX bracket [:{name}:]")
                out.append(_POSIX[name])
                i = end + 2
                continue
            if c == "[":
                raise RecogPatternError("nested character class")
            if c == "&" and pattern.startswith("&&", i):
                raise RecogPatternError("character class intersection &&")
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append("[")
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):  # a leading ] is a literal
                out.append(r"\]")
                i += 1
            continue
        if pattern.startswith("(?", i):
            m = _NAMED_GROUP.match(pattern, i)
            if m is not None:
                out.append(f"(?P<{m.group(1) or m.group(2)}>")
                i = m.end()
                continue
            m = _INLINE_FLAGS.match(pattern, i)
            if m is not None and (m.group(1) or m.group(2)):
                on = "".join(_INLINE[f] for f in m.group(1))
                off = "".join(_INLINE[f] for f in (m.group(2) or ""))
                if m.group(3) == ")":
                    # Python only takes global flags at the start: apply them to the whole
                    # pattern (Ruby scopes them to the rest of the enclosing group).
                    if off:
                        raise RecogPatternError("inline flag removal (?-...)")
                    for f in on:
                        py |= {"i": re.IGNORECASE, "s": re.DOTALL, "x": re.VERBOSE}[f]
                else:
                    out.append(f"(?{on}-{off}:" if off else f"(?{on}:")
                i = m.end()
                continue
        out.append(c)
        i += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile("".join(out), py)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise RecogPatternError(f"does not compile in Python: {exc}") from None


# --------------------------------------------------------------------------- overrides


@dataclass(frozen=True)
class _Override:
    db: str
    description: str
    fields: tuple[tuple[str, str | None], ...]
    weight: float | None
    reason: str


@cache
def _overrides() -> dict[tuple[str, str], _Override]:
    text = (
        resources.files("routerwatch.fingerprint")
        .joinpath("recog/recog_overrides.yaml")
        .read_text(encoding="utf-8")
    )
    out = {}
    for raw in yaml.load(text, Loader=_YAML_LOADER)["overrides"]:
        o = _Override(
            db=raw["db"],
            description=raw["description"],
            fields=tuple((k, v) for k, v in (raw.get("set") or {}).items()),
            weight=raw.get("weight"),
            reason=raw["reason"],
        )
        out[(o.db, o.description)] = o
    return out


# --------------------------------------------------------------------------- loader


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _field_map(params: list[tuple[str, int, str]]) -> dict[str, str | None]:
    """The default Recog -> identity mapping (see module docstring) as templates."""
    by_name = {name: (pos, value) for name, pos, value in params}

    def static(name: str) -> str | None:
        p = by_name.get(name)
        return p[1] if p is not None and p[0] == 0 else None

    fields: dict[str, str | None] = {}
    hw_vendor = "hw.vendor" in by_name
    os_vendor = static("os.vendor")
    device_class = "os.device" in by_name or "hw.device" in by_name
    if hw_vendor:
        fields["vendor"] = "{hw.vendor}"
    elif "os.vendor" in by_name and (
        device_class or (os_vendor is not None and canonical_vendor(os_vendor) is not None)
    ):
        fields["vendor"] = "{os.vendor}"
    if "hw.product" in by_name:
        fields["model"] = "{hw.product}"
    elif "hw.model" in by_name:
        fields["model"] = "{hw.model}"
    if "hw.version" in by_name:
        fields["hardware"] = "{hw.version}"
    if "os.version" in by_name and os_vendor is not None and "vendor" in fields:
        device_vendor = static("hw.vendor") if hw_vendor else os_vendor
        os_product = (static("os.product") or "").lower()
        same = device_vendor is not None and (
            (canonical_vendor(device_vendor) or device_vendor)
            == (canonical_vendor(os_vendor) or os_vendor)
        )
        if same and os_product not in _GENERIC_OS:
            fields["firmware"] = "{os.version}"
    return fields


def _examples(fp: Element, notes: list[str], where: str) -> Iterator[Example]:
    for ex in fp.findall("example"):
        attrs = dict(ex.attrib)
        if "_filename" in attrs:
            notes.append(f"{where}: example file {attrs['_filename']!r} not shipped, not tested")
            continue
        text = "".join(ex.itertext())
        if attrs.pop("_encoding", None) == "base64":
            try:
                raw = base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError):
                notes.append(f"{where}: example is not valid base64, not tested")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
        yield Example(
            input=text,
            recog_attrs=tuple(sorted(attrs.items())),
            origin=where,
        )


def _sources_for(path: Path, root: Element, source: str | None) -> tuple[str, ...]:
    if source is not None:
        return (source,)
    if path.name in RECOG_DATABASES:
        return RECOG_DATABASES[path.name]
    matches = root.get("matches")
    if matches in _MATCHES:
        return _MATCHES[matches]
    raise RuleError(
        f"{path}: cannot tell which evidence this Recog database matches; pass source= "
        f"(known databases: {', '.join(RECOG_DATABASES)})"
    )


def load_recog(path: Path, source: str | None = None) -> tuple[list[Rule], list[str]]:
    """Rules from one Recog XML database, plus notes on what was skipped and why.

    ``source`` is the input source its patterns read (``http.server``...); by default it comes
    from the file name or the database's ``matches`` attribute. The XML is parsed with
    defusedxml: a DTD, entity declarations or external references make the whole file
    rejected with RuleError. A pattern Python cannot compile skips that fingerprint only.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RuleError(f"{path}: cannot read Recog database: {exc}") from exc
    if len(data) > MAX_DB_BYTES:
        raise RuleError(f"{path}: larger than {MAX_DB_BYTES} bytes, refused")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise RuleError(f"{path}: refused unsafe XML ({type(exc).__name__}: {exc})") from None
    except (ParseError, ValueError) as exc:
        raise RuleError(f"{path}: not well-formed XML: {exc}") from None
    if root.tag != "fingerprints":
        raise RuleError(f"{path}: root element is <{root.tag}>, expected <fingerprints>")
    sources = _sources_for(path, root, source)
    overrides = _overrides()
    rules: list[Rule] = []
    notes: list[str] = []
    stem = path.stem.replace("_", "-").lower()
    for index, fp in enumerate(root.findall("fingerprint"), start=1):
        desc_el = fp.find("description")
        description = " ".join("".join(desc_el.itertext()).split()) if desc_el is not None else ""
        where = f"{path.name} #{index} ({description or 'no description'})"
        pattern = fp.get("pattern")
        if not pattern:
            notes.append(f"{where}: skipped: no pattern")
            continue
        try:
            regex = ruby_to_python(pattern, fp.get("flags"))
        except RecogPatternError as exc:
            notes.append(f"{where}: skipped: {exc}")
            continue
        params: list[tuple[str, int, str]] = []
        bad = False
        for p in fp.findall("param"):
            try:
                pos = int(p.get("pos", "0"))
            except ValueError:
                bad = True
                break
            if pos > regex.groups or pos < 0:
                bad = True
                break
            params.append((p.get("name", ""), pos, p.get("value", "")))
        if bad:
            notes.append(f"{where}: skipped: a param refers to a capture group that is missing")
            continue
        by_name = dict((name, value) for name, _pos, value in params)
        certainty = _float(fp.get("certainty")) or _float(by_name.get("hw.certainty"))
        certainty = certainty or _float(by_name.get("os.certainty")) or 1.0
        weight = RECOG_WEIGHT * max(0.1, min(1.0, certainty))
        fields = _field_map(params)
        override = overrides.get((path.name, description))
        if override is not None:
            for name, tmpl in override.fields:
                fields[name] = tmpl
            if override.weight is not None:
                weight = float(override.weight)
        field_map = tuple((k, v) for k, v in fields.items() if v is not None)
        rules.append(
            Rule(
                id=f"recog.{stem}.{index}",
                sources=sources,
                regex=regex,
                weight=weight,
                description=description,
                references=(f"Recog {path.name} (Rapid7, BSD-2-Clause)",),
                examples=tuple(_examples(fp, notes, where)),
                origin=f"recog:{path.name}",
                recog=RecogSpec(
                    db=path.name,
                    description=description,
                    params=tuple(params),
                    field_map=field_map,
                ),
            )
        )
    return rules, notes


def shipped_recog_files() -> list[Path]:
    """The Recog databases shipped in ``fingerprint/recog/`` that routerwatch loads."""
    folder = resources.files("routerwatch.fingerprint").joinpath("recog")
    return [Path(str(folder.joinpath(name))) for name in RECOG_DATABASES]


@cache
def shipped_recog() -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """All shipped Recog rules and the notes on skipped fingerprints (loaded once)."""
    rules: list[Rule] = []
    notes: list[str] = []
    for path in shipped_recog_files():
        r, n = load_recog(path)
        rules.extend(r)
        notes.extend(n)
    return tuple(rules), tuple(notes)


def override_reasons() -> dict[tuple[str, str], str]:
    """(database, fingerprint description) -> why routerwatch maps it differently."""
    return {k: v.reason for k, v in _overrides().items()}
