"""Indicator rules as data, and the engine that runs them over a scan observation.

Rules live in ``checks/rules/*.yaml`` (see docs/checks.md for every field). A rule has a
``match`` of one of these shapes:

* banner: ``port`` plus ``banner_prefix`` / ``banner_regex`` / ``raw_hex`` / ``protocol``: a
  banner the scanner read on that port must satisfy all that are given;
* ``port_open: true`` with ``port``: the port is in ``Observation.open_ports``;
* ``http_login: {schemes, ports}``: an HTTP(S) answer that shows a login;
* ``upnp: true`` / ``snmp: true``: the device answered UPnP / SNMP;
* ``tls: {...}``: a certificate the scanner read (subject, issuer, self-signed, expiry year);
* ``http: {...}``: an HTTP(S) answer (method, path, status, title, body);
* ``port_range: [lo, hi]`` (+ ``exclude_ports``) instead of ``port`` for banner and TLS
  matches (see :mod:`routerwatch.checks.scan_match`);
* ``config: <check>``: read from a configuration export by :mod:`routerwatch.checks.config_audit`,
  never from a scan.

Certainty starts at the rule's ``certainty`` and may be raised, never lowered: to
``certainty_with_vendor`` when the identified vendor equals ``vendor_hint``, and to
``certainty_corroborated`` when any rule of ``corroborated_by`` fired too. A rule does not fire
when any rule of ``suppressed_by`` fired (e.g. "53282 open without SSH banner" yields to "SSH
greeting on 53282").

Banners: before a prefix is compared, leading telnet negotiation (IAC sequences), NUL and other
control characters, U+FFFD replacement characters and whitespace are skipped. The scanner's
``raw_hex`` bytes are used when present, its lenient ``text`` otherwise (IAC bytes there may
appear as ``\\xff`` escapes, as U+FFFD or as Latin-1 ``ÿ``); the rule fires when either form
matches. The prefix itself is compared case-sensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from routerwatch.cache import load_yaml
from routerwatch.checks.scan_match import (
    HttpSpec,
    PortSpec,
    TlsSpec,
    match_http,
    match_tls,
    parse_http,
    parse_ports,
    parse_tls,
)
from routerwatch.checks.sources import Source, parse_sources
from routerwatch.models import (
    Banner,
    Certainty,
    DeviceIdentity,
    Evidence,
    HttpObservation,
    Indicator,
    Observation,
    Remediation,
)
from routerwatch.telnet import banner_texts, lstrip_controls

__all__ = [
    "CERTAINTIES",
    "CONFIG_CHECKS",
    "Hit",
    "IndicatorRule",
    "MatchSpec",
    "RuleError",
    "RuleExample",
    "Source",
    "banner_forms",
    "evaluate",
    "identity_from_dict",
    "load_indicator_rules",
    "load_rules_file",
    "observation_from_dict",
    "raise_certainty",
    "resolve",
]

CERTAINTIES: tuple[Certainty, ...] = ("low", "medium", "high")
_RANK = {c: i for i, c in enumerate(CERTAINTIES)}
KINDS = ("compromise", "exposure")
#: Checks that config_audit implements; a config rule names one of them.
CONFIG_CHECKS = (
    "dns",
    "ssh_key",
    "ssh_port",
    "ssh_backdoor",
    "wan_admin",
    "port_forward",
    "port_forward_service",
    "telnet",
    "upnp",
    "record",
)
_EVIDENCE_MAX = 160


class RuleError(Exception):
    """A rule file is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class HttpLoginSpec:
    schemes: tuple[str, ...] = ("http", "https")
    ports: tuple[int, ...] = ()  # empty: any port


@dataclass(frozen=True)
class MatchSpec:
    port: int | None = None
    protocol: str | None = None
    banner_prefix: str | None = None
    banner_regex: re.Pattern[str] | None = None
    raw_hex: str | None = None
    port_open: bool = False
    upnp: bool = False
    snmp: bool = False
    http_login: HttpLoginSpec | None = None
    config: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)  # config-check parameters
    ports: PortSpec | None = None  # port or port_range (+ exclude_ports)
    tls: TlsSpec | None = None
    http: HttpSpec | None = None

    @cached_property  # read for every rule and host: worked out once per rule
    def needs_banner(self) -> bool:
        return any(
            x is not None
            for x in (self.protocol, self.banner_prefix, self.banner_regex, self.raw_hex)
        )


@dataclass(frozen=True)
class RuleExample:
    name: str
    expect: Certainty | Literal["none"]
    observation: Mapping[str, Any] | None = None
    identity: Mapping[str, Any] | None = None
    config: str | None = None  # a configuration export (config rules)
    args: Mapping[str, Any] = field(default_factory=dict)  # audit options (config rules)


@dataclass(frozen=True)
class IndicatorRule:
    id: str
    kind: Literal["compromise", "exposure"]
    title: str
    certainty: Certainty
    match: MatchSpec
    campaign: str | None = None
    description: str = ""
    references: tuple[str, ...] = ()
    vendor_hint: str | None = None
    certainty_with_vendor: Certainty | None = None
    corroborated_by: tuple[str, ...] = ()
    certainty_corroborated: Certainty | None = None
    suppressed_by: tuple[str, ...] = ()
    remediation: tuple[str, str] | None = None  # (action kind, text)
    risk_weight: float = 0.0
    examples: tuple[RuleExample, ...] = ()
    origin: str = ""  # file the rule came from
    sources: tuple[Source, ...] = ()

    @property
    def source(self) -> Literal["scan", "config"]:
        return "config" if self.match.config else "scan"


@dataclass
class Hit:
    """A rule that matched, before vendor hints, corroboration and suppression."""

    rule: IndicatorRule
    certainty: Certainty
    evidence: list[Evidence]
    port: int | None = None


# --------------------------------------------------------------------------- loading

_RULE_KEYS = {
    "id",
    "kind",
    "campaign",
    "title",
    "description",
    "certainty",
    "references",
    "match",
    "vendor_hint",
    "certainty_with_vendor",
    "corroborated_by",
    "certainty_corroborated",
    "suppressed_by",
    "remediation",
    "risk_weight",
    "examples",
    "sources",
}
_MATCH_KEYS = {
    "port",
    "protocol",
    "banner_prefix",
    "banner_regex",
    "raw_hex",
    "port_open",
    "upnp",
    "snmp",
    "http_login",
    "config",
    "port_range",
    "exclude_ports",
    "tls",
    "http",
}
_EXAMPLE_KEYS = {"name", "expect", "observation", "identity", "config", "args"}
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")


def _certainty(value: Any, where: str) -> Certainty:
    if value not in _RANK:
        raise RuleError(f"{where}: certainty must be one of high, medium, low (got {value!r})")
    return cast(Certainty, value)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{where}: expected a list of strings")
    return tuple(value)


def _match(raw: Any, where: str) -> MatchSpec:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: match must be a mapping")
    if raw.get("config") is not None:
        check = raw["config"]
        if check not in CONFIG_CHECKS:
            raise RuleError(f"{where}: unknown config check {check!r}")
        params = {k: v for k, v in raw.items() if k != "config"}
        return MatchSpec(config=check, params=params)
    unknown = set(raw) - _MATCH_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown match key(s) {sorted(unknown)}")
    try:
        ports = parse_ports(raw)
        tls = parse_tls(raw["tls"]) if raw.get("tls") is not None else None
        http = parse_http(raw["http"]) if raw.get("http") is not None else None
    except ValueError as e:
        raise RuleError(f"{where}: {e}") from e
    port = ports.port if ports is not None else None
    regex = None
    if raw.get("banner_regex") is not None:
        try:
            regex = re.compile(str(raw["banner_regex"]))
        except re.error as e:
            raise RuleError(f"{where}: bad banner_regex: {e}") from e
    raw_hex = raw.get("raw_hex")
    if raw_hex is not None:
        raw_hex = str(raw_hex).lower()
        if not _HEX.fullmatch(raw_hex):
            raise RuleError(f"{where}: raw_hex must be an even number of hex digits")
    login = None
    if raw.get("http_login") is not None:
        hl = raw["http_login"]
        if not isinstance(hl, dict):
            raise RuleError(f"{where}: http_login must be a mapping")
        schemes = tuple(hl.get("schemes") or ("http", "https"))
        if not set(schemes) <= {"http", "https"}:
            raise RuleError(f"{where}: http_login schemes must be http/https")
        login_ports = tuple(int(p) for p in hl.get("ports") or ())
        login = HttpLoginSpec(schemes=schemes, ports=login_ports)
    spec = MatchSpec(
        port=port,
        protocol=raw.get("protocol"),
        banner_prefix=raw.get("banner_prefix"),
        banner_regex=regex,
        raw_hex=raw_hex,
        port_open=bool(raw.get("port_open", False)),
        upnp=bool(raw.get("upnp", False)),
        snmp=bool(raw.get("snmp", False)),
        http_login=login,
        ports=ports,
        tls=tls,
        http=http,
    )
    if spec.needs_banner and ports is None:
        raise RuleError(f"{where}: a banner match needs a port or port_range")
    if spec.port_open and spec.port is None:
        raise RuleError(f"{where}: port_open needs a port")
    if not (
        spec.needs_banner
        or spec.port_open
        or spec.upnp
        or spec.snmp
        or spec.http_login
        or spec.tls
        or spec.http
    ):
        raise RuleError(f"{where}: match says nothing to look for")
    return spec


def _example(raw: Any, where: str, config: bool) -> RuleExample:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: an example must be a mapping")
    unknown = set(raw) - _EXAMPLE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown example key(s) {sorted(unknown)}")
    expect = raw.get("expect")
    if expect != "none" and expect not in _RANK:
        raise RuleError(f"{where}: expect must be high, medium, low or none")
    if config and not isinstance(raw.get("config"), str):
        raise RuleError(f"{where}: a config rule's example needs a config text")
    if not config and not isinstance(raw.get("observation"), dict):
        raise RuleError(f"{where}: a scan rule's example needs an observation")
    return RuleExample(
        name=str(raw.get("name") or where),
        expect=cast(Any, expect),
        observation=raw.get("observation"),
        identity=raw.get("identity"),
        config=raw.get("config"),
        args=raw.get("args") or {},
    )


def _rule(raw: Any, origin: str, index: int) -> IndicatorRule:
    where = f"{origin}: rule #{index + 1}"
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a rule must be a mapping")
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID.fullmatch(rid):
        raise RuleError(f"{where}: id must be lower-case letters, digits and dashes")
    where = f"{origin}: rule {rid}"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {sorted(unknown)}")
    if raw.get("kind") not in KINDS:
        raise RuleError(f"{where}: kind must be compromise or exposure")
    if not isinstance(raw.get("title"), str) or not raw["title"]:
        raise RuleError(f"{where}: title missing")
    spec = _match(raw.get("match"), where)
    try:
        sources = parse_sources(raw.get("sources"))
    except ValueError as e:
        raise RuleError(f"{where}: {e}") from e
    refs = _str_list(raw.get("references"), f"{where}: references")
    if not refs:
        refs = tuple(s.cite() for s in sources)
    if raw["kind"] == "compromise" and not refs:
        raise RuleError(f"{where}: a compromise rule needs references")
    remediation = None
    if raw.get("remediation") is not None:
        rem = raw["remediation"]
        if not isinstance(rem, dict) or not rem.get("text"):
            raise RuleError(f"{where}: remediation needs kind and text")
        remediation = (str(rem.get("kind") or "disable"), str(rem["text"]))
    raw_examples = raw.get("examples")
    if not isinstance(raw_examples, list):
        raise RuleError(f"{where}: examples missing")
    examples = tuple(
        _example(e, f"{where}: example #{i + 1}", spec.config is not None)
        for i, e in enumerate(raw_examples)
    )
    if not any(e.expect != "none" for e in examples) or not any(
        e.expect == "none" for e in examples
    ):
        raise RuleError(f"{where}: needs at least one hit and one near-miss example")
    opt = raw.get
    return IndicatorRule(
        id=rid,
        kind=raw["kind"],
        title=raw["title"].strip(),
        certainty=_certainty(opt("certainty"), where),
        match=spec,
        campaign=opt("campaign"),
        description=" ".join(str(opt("description") or "").split()),
        references=refs,
        vendor_hint=opt("vendor_hint"),
        certainty_with_vendor=(
            _certainty(opt("certainty_with_vendor"), where)
            if opt("certainty_with_vendor") is not None
            else None
        ),
        corroborated_by=_str_list(opt("corroborated_by"), f"{where}: corroborated_by"),
        certainty_corroborated=(
            _certainty(opt("certainty_corroborated"), where)
            if opt("certainty_corroborated") is not None
            else None
        ),
        suppressed_by=_str_list(opt("suppressed_by"), f"{where}: suppressed_by"),
        remediation=remediation,
        risk_weight=float(opt("risk_weight") or 0.0),
        examples=examples,
        origin=origin,
        sources=sources,
    )


def load_rules_file(path: Path | str, text: str | None = None) -> list[IndicatorRule]:
    """Parse one rule file (``text`` may be given instead of reading ``path``)."""
    name = str(path)
    try:
        data = load_yaml(text if text is not None else Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise RuleError(f"{name}: cannot read: {e}") from e
    except yaml.YAMLError as e:
        raise RuleError(f"{name}: not valid YAML: {e}") from e
    except ValueError as e:  # e.g. an impossible date
        raise RuleError(f"{name}: not valid YAML: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RuleError(f"{name}: expected a mapping with a 'rules' list")
    return [_rule(r, name, i) for i, r in enumerate(data["rules"])]


def _check_references(rules: Sequence[IndicatorRule]) -> None:
    ids = [r.id for r in rules]
    seen: set[str] = set()
    for rid in ids:
        if rid in seen:
            raise RuleError(f"duplicate rule id {rid!r}")
        seen.add(rid)
    for r in rules:
        for other in (*r.corroborated_by, *r.suppressed_by):
            if other not in seen:
                raise RuleError(f"{r.origin}: rule {r.id} refers to unknown rule {other!r}")


@lru_cache(maxsize=1)
def _shipped_rules() -> tuple[IndicatorRule, ...]:
    folder = resources.files("routerwatch.checks").joinpath("rules")
    rules: list[IndicatorRule] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith((".yaml", ".yml")):
            rules.extend(load_rules_file(f"rules/{entry.name}", entry.read_text("utf-8")))
    _check_references(rules)
    return tuple(rules)


def load_indicator_rules() -> list[IndicatorRule]:
    """Every shipped indicator rule (scan and config rules), in file order."""
    return list(_shipped_rules())


# --------------------------------------------------------------------------- banners

def banner_forms(banner: Banner) -> list[str]:
    """The banner as compared by rules: from raw bytes (when given) and from text, Telnet
    negotiation removed (routerwatch.telnet) and leading controls and whitespace skipped."""
    return [lstrip_controls(text) for text in banner_texts(banner)]


def _printable(text: str, limit: int = _EVIDENCE_MAX) -> str:
    out = "".join(ch if ch.isprintable() else f"\\x{ord(ch) & 0xFF:02x}" for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


# --------------------------------------------------------------------------- matching

_PASSWORD_INPUT = re.compile(r"<input[^>]*type\s*=\s*[\"']?password", re.I)
_LOGIN_WORD = re.compile(r"\b(log\s?-?in|sign\s?in|authenticat\w*|password)\b", re.I)


def _login_evidence(h: HttpObservation) -> str | None:
    if h.status >= 500 or h.status == 404 or h.path.endswith("favicon.ico"):
        return None
    realm = h.header("www-authenticate")
    if realm:
        return f"WWW-Authenticate: {realm}"
    if _PASSWORD_INPUT.search(h.body or ""):
        return "password field in the page"
    if h.title and _LOGIN_WORD.search(h.title):
        return f"title {h.title!r}"
    location = h.header("location") or ""
    if 300 <= h.status < 400 and "login" in location.lower():
        return f"redirect to {location}"
    return None


def _match_scan(rule: IndicatorRule, obs: Observation) -> Hit | None:
    m = rule.match
    ev: list[Evidence] = []
    port = m.port
    if m.needs_banner:
        for b in obs.banners:
            if m.ports is None or not m.ports.covers(b.port):
                continue
            if m.protocol is not None and b.protocol != m.protocol:
                continue
            if m.raw_hex is not None and not b.raw_hex.strip().lower().startswith(m.raw_hex):
                continue
            forms = banner_forms(b)
            if m.banner_prefix is not None and not any(
                f.startswith(m.banner_prefix) for f in forms
            ):
                continue
            if m.banner_regex is not None and not any(m.banner_regex.search(f) for f in forms):
                continue
            shown = b.text or (f"bytes {b.raw_hex}" if b.raw_hex else "")
            if b.raw_hex and m.raw_hex is not None:
                shown = f"replied {b.raw_hex}"
            ev.append(
                Evidence(
                    f"banner:{b.port}", _printable(shown), rule.id, (("protocol", b.protocol),)
                )
            )
            port = b.port
            break
        if not ev:
            return None
    if m.port_open:
        if m.port not in obs.open_ports:
            return None
        if not ev:
            ev.append(Evidence(f"tcp:{m.port}", "open", rule.id))
    if m.upnp:
        if obs.upnp is None:
            return None
        u = obs.upnp
        what = " ".join(x for x in (u.manufacturer, u.model_name, u.server) if x) or "answered"
        ev.append(Evidence("upnp", _printable(what), rule.id))
    if m.snmp:
        if not obs.snmp_sysdescr:
            return None
        ev.append(Evidence("snmp.sysdescr", _printable(obs.snmp_sysdescr), rule.id))
    if m.tls is not None:
        cert = match_tls(m.tls, m.ports, obs.tls)
        if cert is None:
            return None
        port = cert[0].port
        ev.append(Evidence(f"tls:{port}", _printable(cert[1]), rule.id))
    if m.http is not None:
        answer = match_http(m.http, obs.http)
        if answer is None:
            return None
        h = answer[0]
        port = h.port
        ev.append(Evidence(f"{h.scheme}:{h.port}{h.path}", _printable(answer[1]), rule.id))
    if m.http_login is not None:
        found = None
        for h in obs.http:
            if h.scheme not in m.http_login.schemes:
                continue
            if m.http_login.ports and h.port not in m.http_login.ports:
                continue
            why = _login_evidence(h)
            if why:
                found = (h, why)
                break
        if found is None:
            return None
        h, why = found
        port = h.port
        ev.append(Evidence(f"{h.scheme}:{h.port}{h.path}", _printable(why), rule.id))
    return Hit(rule=rule, certainty=rule.certainty, evidence=ev, port=port)


def raise_certainty(a: Certainty, b: Certainty | None) -> Certainty:
    """The higher of two certainties (``b`` None leaves ``a``)."""
    if b is None:
        return a
    return a if _RANK[a] >= _RANK[b] else b


def _same_vendor(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        from routerwatch.identity.vendors import canonical_vendor
    except ImportError:  # pragma: no cover - identity package missing
        return a.casefold() == b.casefold()
    return (canonical_vendor(a) or a).casefold() == (canonical_vendor(b) or b).casefold()


def resolve(hits: Iterable[Hit], vendor: str | None = None) -> list[Indicator]:
    """Apply vendor hints, corroboration and suppression; one Indicator per rule."""
    by_rule: dict[str, Hit] = {}
    seen: dict[str, set[Evidence]] = {}  # per rule: evidence already kept (O(1) de-duplication)
    for h in hits:
        prior = by_rule.get(h.rule.id)
        if prior is None:
            kept = list(h.evidence)
            by_rule[h.rule.id] = Hit(h.rule, h.certainty, kept, h.port)
            seen[h.rule.id] = set(kept)
        else:
            prior.certainty = raise_certainty(prior.certainty, h.certainty)
            known = seen[h.rule.id]
            for e in h.evidence:
                if e not in known:
                    known.add(e)
                    prior.evidence.append(e)
    fired = set(by_rule)
    out: list[Indicator] = []
    for h in by_rule.values():
        r = h.rule
        if any(s in fired for s in r.suppressed_by):
            continue
        certainty = h.certainty
        evidence = list(h.evidence)
        if r.vendor_hint and _same_vendor(vendor, r.vendor_hint):
            certainty = raise_certainty(certainty, r.certainty_with_vendor)
            if r.certainty_with_vendor:
                evidence.append(Evidence("identity.vendor", str(vendor), r.id))
        together = [c for c in r.corroborated_by if c in fired]
        if together:
            certainty = raise_certainty(certainty, r.certainty_corroborated)
            evidence.append(Evidence("corroborated", ", ".join(together), r.id))
        out.append(
            Indicator(
                rule=r.id,
                kind=r.kind,
                title=r.title,
                certainty=certainty,
                evidence=tuple(evidence),
                campaign=r.campaign,
                references=r.references,
                port=h.port,
                risk_weight=r.risk_weight if r.kind == "exposure" else None,
                remediation=Remediation(*r.remediation) if r.remediation else None,
            )
        )
    return out


def evaluate(
    obs: Observation,
    identity: DeviceIdentity | None = None,
    *,
    rules: Sequence[IndicatorRule] | None = None,
) -> list[Indicator]:
    """Compromise and exposure indicators of one scanned host, in rule-file order."""
    active = [r for r in (rules if rules is not None else _shipped_rules()) if r.source == "scan"]
    hits = [h for h in (_match_scan(r, obs) for r in active) if h is not None]
    return resolve(hits, identity.vendor if identity is not None else None)


# --------------------------------------------------------------------------- examples


def _tuple_pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple((str(k).lower(), str(v)) for k, v in value.items())
    return tuple((str(k).lower(), str(v)) for k, v in (value or ()))


_SNIPPET_DEFAULTS: dict[str, dict[str, Any]] = {
    "http": {"scheme": "http", "method": "GET", "path": "/", "status": 200},
    "banners": {"protocol": "tcp", "text": ""},
    "tls": {"subject": "", "issuer": ""},
}


def observation_from_dict(d: Mapping[str, Any], address: str = "192.0.2.1") -> Observation:
    """An Observation from a rule example's plain-data snippet (used by tests and docs).

    Snippets may leave out what examples rarely need (HTTP scheme/method/path/status, banner
    protocol, certificate names, the address) and give HTTP headers as a mapping; the rest is
    the Observation's own JSON shape, read by routerwatch.schema (SchemaError names a bad field).
    """
    from routerwatch.schema import from_builtins

    data: dict[str, Any] = {"address": address, **d}
    for key, defaults in _SNIPPET_DEFAULTS.items():
        data[key] = [{**defaults, **item} for item in d.get(key) or ()]
    for h in data["http"]:
        h["headers"] = [list(p) for p in _tuple_pairs(h.get("headers"))]
    for t in data["tls"]:
        if t.get("not_after") is not None:
            t["not_after"] = str(t["not_after"])  # YAML reads a bare date as a date
    return from_builtins(data, Observation)


def identity_from_dict(d: Mapping[str, Any] | None) -> DeviceIdentity | None:
    if not d:
        return None
    return DeviceIdentity(
        vendor=d.get("vendor"),
        model=d.get("model"),
        hardware=None if d.get("hardware") is None else str(d["hardware"]),
        firmware=d.get("firmware"),
    )
