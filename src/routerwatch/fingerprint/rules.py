"""Fingerprint rules: the data model, the YAML rule-file loader and what one rule extracts.

A rule reads one kind of evidence (its *source*, e.g. ``http.realm``), matches a regular
expression against it and yields identity fields: fixed ones (``vendor: TP-Link``) and those
captured by named groups ``model``, ``hardware``, ``firmware``, ``region`` (and ``vendor``).
Every rule carries examples (input + the identity it must yield) and may carry negative
examples (inputs it must not read anything from); one parametrised test checks them all.
The file format is described in ``docs/fingerprints.md``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from routerwatch.identity.hardware import normalize_hardware
from routerwatch.identity.vendors import canonical_vendor, model_family

__all__ = [
    "IDENTITY_FIELDS",
    "INPUT_SOURCES",
    "TRANSFORMS",
    "Example",
    "RecogSpec",
    "Rule",
    "RuleError",
    "finish_fields",
    "load_rules",
    "shipped_rule_files",
]

IDENTITY_FIELDS = ("vendor", "model", "hardware", "firmware", "region")
UPNP_FIELDS = ("manufacturer", "model_name", "model_number", "model_description", "friendly_name")

# Input sources a rule may read. The names are the evidence sources of the probe plan (BRIEF);
# ``upnp.<field>`` reads one field of the UPnP description, ``upnp`` all of them as
# ``field=value`` lines, and ``http.wwwauth`` the whole WWW-Authenticate value (what Recog's
# http_wwwauth.xml matches) where ``http.realm`` is only the realm between the quotes.
INPUT_SOURCES = frozenset(
    {
        "http.server",
        "http.realm",
        "http.wwwauth",
        "http.title",
        "http.body",
        "http.luci",
        "http.currentsetting",
        "http.favicon",
        "http.favicon.mmh3",
        "http.cookie",
        "upnp",
        "upnp.server",
        *(f"upnp.{f}" for f in UPNP_FIELDS),
        "banner.ftp",
        "banner.ssh",
        "banner.telnet",
        "tls.subject",
        "snmp.sysdescr",
        "mac",
    }
)

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # same safety, C speed
_FLAGS = {"ignorecase": re.IGNORECASE, "multiline": re.MULTILINE, "dotall": re.DOTALL}
_TEMPLATE = re.compile(r"\{([A-Za-z_][\w.]*)\}")
_SPACES = re.compile(r"\s+")


class RuleError(ValueError):
    """A rule file (or Recog database) that cannot be used, naming the file and the rule."""


# --------------------------------------------------------------------------- transforms


def _known_vendor(value: str) -> str | None:
    return canonical_vendor(value)


TRANSFORMS: dict[str, Any] = {
    "upper": str.upper,
    "lower": str.lower,
    "nospace": lambda v: _SPACES.sub("", v),
    "known_vendor": _known_vendor,  # vendor only when the registry knows it, else dropped
    "model_display": str.strip,  # "archer c80" -> "Archer C80" (needs the vendor, see below)
}


def finish_fields(
    values: Mapping[str, str | None],
    model_prefix: str | None = None,
    transforms: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """Clean extracted values: named transforms, then the conventions of the BRIEF.

    Vendors become display names (``TP-LINK`` -> ``TP-Link``; unknown vendors keep their own
    spelling), models lose surrounding blanks and get ``model_prefix`` when it is missing
    (``WR841N`` -> ``TL-WR841N``), hardware goes through ``normalize_hardware`` (``8.0`` ->
    ``8``; a value that is no revision is dropped), empty values are dropped.
    """
    out: dict[str, str] = {}
    for name in IDENTITY_FIELDS:
        raw = values.get(name)
        if raw is None:
            continue
        value: str | None = _SPACES.sub(" ", str(raw)).strip()
        if not value:
            continue
        out[name] = value
    display_model = False
    for name, transform in transforms:
        if name in out:
            display_model = display_model or transform == "model_display"
            result = TRANSFORMS[transform](out[name])
            if result:
                out[name] = result
            else:
                del out[name]
    if "vendor" in out:
        out["vendor"] = canonical_vendor(out["vendor"]) or out["vendor"]
    if display_model and "model" in out:
        family = model_family(out.get("vendor"), out["model"])
        if family is not None:
            out["model"] = family.display(out["model"])
    model = out.get("model")
    if model and model_prefix and not model.upper().startswith(model_prefix.upper()):
        out["model"] = model_prefix + model
    if "hardware" in out:
        hw = normalize_hardware(out["hardware"])
        if hw is None:
            del out["hardware"]
        else:
            out["hardware"] = hw
    return out


def render(template: str, values: Mapping[str, str | None]) -> str | None:
    """``"Vigor{hw.model}"`` with the values filled in; None when one of them is missing."""
    missing = False

    def fill(m: re.Match[str]) -> str:
        nonlocal missing
        v = values.get(m.group(1))
        if not v:
            missing = True
            return ""
        return v

    text = _TEMPLATE.sub(fill, template)
    return None if missing else text


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Example:
    """One example of a rule: an input and the identity fields it must yield.

    ``negative`` examples must yield nothing. ``context`` holds other inputs of the same
    observation (``{"upnp.manufacturer": "TP-Link"}``) for rules with a ``require`` clause.
    Recog examples keep the attributes Recog itself checks (``hw.product="WR841N"``) in
    ``recog_attrs``.
    """

    input: str
    expect: tuple[tuple[str, str | None], ...] = ()
    negative: bool = False
    context: tuple[tuple[str, str], ...] = ()
    origin: str = ""
    recog_attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RecogSpec:
    """What a rule loaded from a Recog database needs besides its regex."""

    db: str  # file name, e.g. "http_servers.xml"
    description: str
    params: tuple[tuple[str, int, str], ...]  # (name, pos, value) as in the XML
    field_map: tuple[tuple[str, str], ...]  # identity field -> template over Recog params


@dataclass(frozen=True)
class Rule:
    """One fingerprint: read ``sources``, match ``regex``, yield identity fields."""

    id: str
    sources: tuple[str, ...]
    regex: re.Pattern[str]
    weight: float
    fixed: tuple[tuple[str, str], ...] = ()  # identity field -> value or {group} template
    description: str = ""
    references: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    model_prefix: str | None = None
    transforms: tuple[tuple[str, str], ...] = ()
    require: tuple[tuple[str, re.Pattern[str]], ...] = ()
    path: re.Pattern[str] | None = None
    origin: str = "routerwatch"
    recog: RecogSpec | None = field(default=None, compare=False)

    # ----------------------------------------------------------------- matching

    def recog_params(self, text: str) -> dict[str, str] | None:
        """Recog's own result for ``text`` (param name -> value), None when it does not match.

        Follows Recog's Fingerprint#match: ``pos`` 0 is a fixed value (``{name}``
        interpolated from the other params), any other ``pos`` the capture group's text.
        """
        if self.recog is None:
            raise ValueError(f"rule {self.id} is not a Recog rule")
        m = self.regex.search(text)
        return None if m is None else _recog_result(self.recog, m)

    def extract(self, text: str) -> dict[str, str] | None:
        """Identity fields this rule reads from ``text``; None when it reads nothing."""
        m = self.regex.search(text)
        if m is None:
            return None
        if self.recog is not None:
            params = _recog_result(self.recog, m)
            values: dict[str, str | None] = {
                name: render(tmpl, params) for name, tmpl in self.recog.field_map
            }
        else:
            groups = {k: v for k, v in m.groupdict().items() if v}
            values = {k: v for k, v in groups.items() if k in IDENTITY_FIELDS}
            for name, tmpl in self.fixed:
                values[name] = render(tmpl, groups)
        fields = finish_fields(values, self.model_prefix, self.transforms)
        return fields or None

    def requirements_met(self, inputs: Mapping[str, Sequence[str]]) -> bool:
        """True when every ``require`` source has an input its pattern matches."""
        return all(
            any(pattern.search(text) for text in inputs.get(source, ()))
            for source, pattern in self.require
        )

    def check_examples(self) -> list[str]:
        """Every way the rule's own examples fail (empty when all hold)."""
        problems = []
        for ex in self.examples:
            context: dict[str, list[str]] = {}
            for source, text in ex.context:
                context.setdefault(source, []).append(text)
            got = self.extract(ex.input) if self.requirements_met(context) else None
            if ex.negative:
                if got:
                    problems.append(f"{self.id}: negative example {ex.input!r} yielded {got}")
                continue
            if got is None:
                problems.append(f"{self.id}: example {ex.input!r} did not match")
                continue
            for name, want in ex.expect:
                if got.get(name) != want:
                    problems.append(
                        f"{self.id}: example {ex.input!r}: {name} is {got.get(name)!r}, "
                        f"expected {want!r}"
                    )
        return problems


def _recog_result(spec: RecogSpec, m: re.Match[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    fixed: list[tuple[str, str]] = []
    for name, pos, value in spec.params:
        if pos == 0:
            fixed.append((name, value))
        else:
            try:
                captured = m.group(pos)
            except IndexError:
                captured = None
            if captured is not None:
                result[name] = captured
    for name, value in fixed:
        result[name] = value
    for name, value in fixed:
        if "{" not in value:
            continue
        filled = _TEMPLATE.sub(lambda t: result.get(t.group(1), "\0"), value)
        if "\0" in filled:
            # Recog writes "-" for a missing version inside a CPE and refuses anything else.
            if name.endswith(".cpe23"):
                result[name] = _TEMPLATE.sub(lambda t: result.get(t.group(1), "-"), value)
            else:
                result.pop(name, None)
        else:
            result[name] = filled
    return result


# --------------------------------------------------------------------------- YAML loader

_RULE_KEYS = frozenset(
    {
        "id",
        "source",
        "pattern",
        "flags",
        "vendor",
        "model",
        "hardware",
        "firmware",
        "region",
        "model_prefix",
        "transforms",
        "weight",
        "description",
        "references",
        "examples",
        "negative",
        "require",
        "path",
    }
)


def shipped_rule_files() -> list[Path]:
    """The rule files shipped with routerwatch (``fingerprint/rules/*.yaml``), sorted."""
    folder = resources.files("routerwatch.fingerprint").joinpath("rules")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def load_rules(paths: Sequence[Path] | None = None) -> list[Rule]:
    """Load and validate rule files (YAML). ``None`` loads the shipped rules.

    A path may be a file or a folder of ``*.yaml`` files. Raises RuleError naming the file
    and the rule for anything invalid: unknown keys or sources, a regex that does not compile,
    named groups other than the identity fields, duplicate ids, a rule without examples.
    Examples are not run here (tests do that); see ``Rule.check_examples``.
    """
    if paths is None:
        return list(_shipped_rules())
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml")))
        else:
            files.append(p)
    return _load_files(files)


@cache
def _shipped_rules() -> tuple[Rule, ...]:
    return tuple(_load_files(shipped_rule_files()))


def _load_files(files: Sequence[Path]) -> list[Rule]:
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for path in files:
        for rule in _load_file(path):
            if rule.id in seen:
                raise RuleError(f"{path}: rule {rule.id}: id already used in {seen[rule.id]}")
            seen[rule.id] = path
            rules.append(rule)
    return rules


def _load_file(path: Path) -> list[Rule]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RuleError(f"{path}: expected a mapping with a 'rules' list")
    default_vendor = data.get("vendor")
    if default_vendor is not None and not isinstance(default_vendor, str):
        raise RuleError(f"{path}: 'vendor' must be a string")
    rules = []
    for i, raw in enumerate(data["rules"]):
        rid = raw.get("id") if isinstance(raw, dict) else None
        where = f"{path}: rule {rid or f'#{i + 1}'}"
        try:
            rules.append(_parse_rule(raw, default_vendor, path.name))
        except RuleError as exc:
            raise RuleError(f"{where}: {exc}") from None
    return rules


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise RuleError(f"'{what}' must be a string or a list of strings")


def _compile(pattern: Any, flags: int, what: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(f"'{what}' must be a non-empty string")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return re.compile(pattern, flags)
    except (re.error, FutureWarning, DeprecationWarning) as exc:
        raise RuleError(f"'{what}' does not compile: {exc}") from None


def _parse_rule(raw: Any, default_vendor: str | None, filename: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError("a rule must be a mapping")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RuleError(f"unknown keys {sorted(unknown)}")
    rid = raw.get("id")
    if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", rid):
        raise RuleError("'id' must be lower-case letters, digits, '-' and '.'")
    sources = tuple(_strings(raw.get("source"), "source"))
    if not sources:
        raise RuleError("'source' is missing")
    for s in sources:
        if s not in INPUT_SOURCES:
            raise RuleError(f"unknown source {s!r} (known: {', '.join(sorted(INPUT_SOURCES))})")
    flags = 0
    for f in _strings(raw.get("flags"), "flags"):
        if f not in _FLAGS:
            raise RuleError(f"unknown flag {f!r} (known: {', '.join(_FLAGS)})")
        flags |= _FLAGS[f]
    regex = _compile(raw.get("pattern"), flags, "pattern")
    bad_groups = set(regex.groupindex) - set(IDENTITY_FIELDS)
    if bad_groups:
        raise RuleError(f"named groups {sorted(bad_groups)} are not identity fields")
    fixed: list[tuple[str, str]] = []
    vendor = raw.get("vendor", default_vendor)
    for name in IDENTITY_FIELDS:
        value = vendor if name == "vendor" else raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RuleError(f"'{name}' must be a string")
        for ref in _TEMPLATE.findall(value):
            if ref not in regex.groupindex:
                raise RuleError(f"'{name}' uses {{{ref}}} but the pattern has no such group")
        fixed.append((name, value))
    if not fixed and not regex.groupindex:
        raise RuleError("the rule yields no field (no vendor/model/... and no named group)")
    weight = raw.get("weight")
    if not isinstance(weight, int | float) or not 0 < float(weight) <= 1:
        raise RuleError("'weight' must be a number in (0, 1]")
    transforms = raw.get("transforms") or {}
    if not isinstance(transforms, dict):
        raise RuleError("'transforms' must map an identity field to a transform name")
    for name, t in transforms.items():
        if name not in IDENTITY_FIELDS or t not in TRANSFORMS:
            raise RuleError(
                f"transform {name}: {t} unknown (fields: {', '.join(IDENTITY_FIELDS)}; "
                f"transforms: {', '.join(TRANSFORMS)})"
            )
    require_raw = raw.get("require") or {}
    if not isinstance(require_raw, dict):
        raise RuleError("'require' must map a source to a pattern")
    require = []
    for source, pattern in require_raw.items():
        if source not in INPUT_SOURCES:
            raise RuleError(f"'require' names unknown source {source!r}")
        require.append((source, _compile(pattern, re.IGNORECASE, f"require {source}")))
    path = raw.get("path")
    path_re = _compile(path, 0, "path") if path is not None else None
    if path_re is not None and sources != ("http.body",):
        raise RuleError("'path' only applies to http.body rules")
    model_prefix = raw.get("model_prefix")
    if model_prefix is not None and not isinstance(model_prefix, str):
        raise RuleError("'model_prefix' must be a string")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise RuleError("'description' is missing")
    references = _strings(raw.get("references"), "references")
    if not references:
        raise RuleError("'references' is missing (where the strings come from)")
    examples = [_parse_example(e, negative=False) for e in raw.get("examples") or []]
    if not examples:
        raise RuleError("a rule needs at least one example")
    negatives = [_parse_example(e, negative=True) for e in raw.get("negative") or []]
    if require:  # a negative example tests the regex: give it the context of the first example
        negatives = [
            n if n.context else dataclasses.replace(n, context=examples[0].context)
            for n in negatives
        ]
    examples += negatives
    return Rule(
        id=rid,
        sources=sources,
        regex=regex,
        weight=float(weight),
        fixed=tuple(fixed),
        description=" ".join(description.split()),
        references=tuple(references),
        examples=tuple(examples),
        model_prefix=model_prefix,
        transforms=tuple(sorted(transforms.items())),
        require=tuple(require),
        path=path_re,
        origin=filename,
    )


def _parse_example(raw: Any, negative: bool) -> Example:
    if negative and isinstance(raw, str):
        return Example(input=raw, negative=True)
    if not isinstance(raw, dict) or not isinstance(raw.get("input"), str):
        raise RuleError("an example needs an 'input' string")
    unknown = set(raw) - {"input", "expect", "context", "origin"}
    if unknown:
        raise RuleError(f"example {raw['input']!r}: unknown keys {sorted(unknown)}")
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict) or set(expect) - set(IDENTITY_FIELDS):
        raise RuleError(f"example {raw['input']!r}: 'expect' may only name identity fields")
    if not negative and not expect:
        raise RuleError(f"example {raw['input']!r}: 'expect' is missing")
    context = raw.get("context") or {}
    if not isinstance(context, dict) or set(context) - INPUT_SOURCES:
        raise RuleError(f"example {raw['input']!r}: 'context' must map known sources to inputs")
    return Example(
        input=raw["input"],
        expect=tuple((k, None if v is None else str(v)) for k, v in expect.items()),
        negative=negative,
        context=tuple((k, str(v)) for k, v in context.items()),
        origin=str(raw.get("origin", "")),
    )
