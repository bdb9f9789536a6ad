"""Scan-rule matchers beyond banners and open ports: TLS certificates, HTTP answers, port ranges.

Used by :mod:`routerwatch.checks.engine`; each ``parse_*`` turns a rule's YAML into a frozen
spec (raising ``ValueError`` with the field at fault) and each ``match_*`` returns the evidence
of the first observation that satisfies the spec, or None.

* ``tls``: ``{subject, issuer, subject_regex, issuer_regex, subject_is_issuer, self_signed,
  not_after_year, not_after_year_min}`` — names are compared as sets of attribute=value pairs
  (RFC 4514 order and spacing do not matter, attribute types are case-insensitive, values
  case-sensitive);
* ``http``: ``{schemes, ports, method, path_regex, status, title_regex, body_regex}``;
* ``port_range: [lo, hi]`` with optional ``exclude_ports``: instead of a single ``port``, any
  port in the range (for banner and TLS matches).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from routerwatch.models import HttpObservation, TlsCertificate

__all__ = [
    "HttpSpec",
    "PortSpec",
    "TlsSpec",
    "dn_pairs",
    "match_http",
    "match_tls",
    "parse_http",
    "parse_ports",
    "parse_tls",
]

_TLS_KEYS = {
    "subject",
    "issuer",
    "subject_regex",
    "issuer_regex",
    "subject_is_issuer",
    "self_signed",
    "not_after_year",
    "not_after_year_min",
}
_HTTP_KEYS = {"schemes", "ports", "method", "path_regex", "status", "title_regex", "body_regex"}
T = TypeVar("T")
_RDN_SPLIT = re.compile(r"(?<!\\)[,+]")


def dn_pairs(name: str) -> frozenset[tuple[str, str]]:
    """``"CN=a, O=b"`` → ``{("cn", "a"), ("o", "b")}`` (order and spaces ignored)."""
    out = set()
    for part in _RDN_SPLIT.split(name or ""):
        if "=" not in part:
            continue
        key, value = part.split("=", 1)
        out.add((key.strip().lower(), value.strip()))
    return frozenset(out)


def _regex(value: Any, field: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(str(value))
    except re.error as e:
        raise ValueError(f"bad {field}: {e}") from e


@dataclass(frozen=True)
class PortSpec:
    """Which ports a banner/TLS match looks at: one port, or a range minus exclusions."""

    port: int | None = None
    low: int = 1
    high: int = 65535
    exclude: frozenset[int] = frozenset()

    def covers(self, port: int) -> bool:
        if self.port is not None:
            return port == self.port
        return self.low <= port <= self.high and port not in self.exclude


def _port(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
        raise ValueError(f"{field} must be 1..65535")
    return value


def parse_ports(raw: Mapping[str, Any]) -> PortSpec | None:
    """``port`` or ``port_range`` (+ ``exclude_ports``) of a match; None when neither."""
    if raw.get("port_range") is not None:
        rng = raw["port_range"]
        if not isinstance(rng, list) or len(rng) != 2:
            raise ValueError("port_range must be [low, high]")
        low, high = _port(rng[0], "port_range"), _port(rng[1], "port_range")
        if low > high:
            raise ValueError("port_range low is above high")
        exclude = raw.get("exclude_ports") or []
        if not isinstance(exclude, list):
            raise ValueError("exclude_ports must be a list")
        return PortSpec(
            low=low, high=high, exclude=frozenset(_port(p, "exclude_ports") for p in exclude)
        )
    if raw.get("exclude_ports") is not None:
        raise ValueError("exclude_ports needs port_range")
    if raw.get("port") is not None:
        return PortSpec(port=_port(raw["port"], "port"))
    return None


@dataclass(frozen=True)
class TlsSpec:
    subject: frozenset[tuple[str, str]] | None = None
    issuer: frozenset[tuple[str, str]] | None = None
    subject_regex: re.Pattern[str] | None = None
    issuer_regex: re.Pattern[str] | None = None
    subject_is_issuer: bool | None = None
    self_signed: bool | None = None
    not_after_year: int | None = None
    not_after_year_min: int | None = None


def _mapping(raw: Any, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{what} must be a non-empty mapping")
    unknown = set(raw) - keys
    if unknown:
        raise ValueError(f"unknown {what} key(s) {sorted(map(str, unknown))}")
    return raw


def parse_tls(raw: Any) -> TlsSpec:
    raw = _mapping(raw, _TLS_KEYS, "tls")

    def year(key: str) -> int | None:
        v = raw.get(key)
        if v is None:
            return None
        if not isinstance(v, int) or not 1950 <= v <= 9999:
            raise ValueError(f"tls.{key} must be a year")
        return v

    def flag(key: str) -> bool | None:
        v = raw.get(key)
        if v is not None and not isinstance(v, bool):
            raise ValueError(f"tls.{key} must be true or false")
        return v

    return TlsSpec(
        subject=dn_pairs(str(raw["subject"])) if raw.get("subject") else None,
        issuer=dn_pairs(str(raw["issuer"])) if raw.get("issuer") else None,
        subject_regex=_regex(raw.get("subject_regex"), "tls.subject_regex"),
        issuer_regex=_regex(raw.get("issuer_regex"), "tls.issuer_regex"),
        subject_is_issuer=flag("subject_is_issuer"),
        self_signed=flag("self_signed"),
        not_after_year=year("not_after_year"),
        not_after_year_min=year("not_after_year_min"),
    )


def _year(not_after: str | None) -> int | None:
    m = re.match(r"\s*(\d{4})-", not_after or "")
    return int(m.group(1)) if m else None


def _tls_ok(spec: TlsSpec, cert: TlsCertificate) -> bool:
    subject, issuer = dn_pairs(cert.subject), dn_pairs(cert.issuer)
    if spec.subject is not None and subject != spec.subject:
        return False
    if spec.issuer is not None and issuer != spec.issuer:
        return False
    if spec.subject_regex is not None and not spec.subject_regex.search(cert.subject):
        return False
    if spec.issuer_regex is not None and not spec.issuer_regex.search(cert.issuer):
        return False
    if spec.subject_is_issuer is not None and (subject == issuer) != spec.subject_is_issuer:
        return False
    if spec.self_signed is not None:
        # the scanner's flag, or subject == issuer when a hand-written observation omits it
        signed_by_itself = cert.self_signed or (bool(subject) and subject == issuer)
        if signed_by_itself != spec.self_signed:
            return False
    year = _year(cert.not_after)
    if spec.not_after_year is not None and year != spec.not_after_year:
        return False
    return spec.not_after_year_min is None or (year is not None and year >= spec.not_after_year_min)


def _first(
    items: Iterable[T], ok: Callable[[T], bool], describe: Callable[[T], str]
) -> tuple[T, str] | None:
    for item in items:
        if ok(item):
            return item, describe(item)
    return None


def _describe_cert(cert: TlsCertificate) -> str:
    what = f"subject {cert.subject!r}, issuer {cert.issuer!r}"
    return what + (f", not after {cert.not_after[:10]}" if cert.not_after else "")


def match_tls(
    spec: TlsSpec, ports: PortSpec | None, certs: Iterable[TlsCertificate]
) -> tuple[TlsCertificate, str] | None:
    """The first certificate on a covered port that satisfies the spec, with a description."""
    return _first(
        certs,
        lambda c: (ports is None or ports.covers(c.port)) and _tls_ok(spec, c),
        _describe_cert,
    )


@dataclass(frozen=True)
class HttpSpec:
    schemes: tuple[str, ...] = ("http", "https")
    ports: tuple[int, ...] = ()
    method: str | None = None
    path_regex: re.Pattern[str] | None = None
    status: tuple[int, ...] = ()
    title_regex: re.Pattern[str] | None = None
    body_regex: re.Pattern[str] | None = None


def parse_http(raw: Any) -> HttpSpec:
    raw = _mapping(raw, _HTTP_KEYS, "http")
    schemes = tuple(raw.get("schemes") or ("http", "https"))
    if not set(schemes) <= {"http", "https"}:
        raise ValueError("http schemes must be http/https")
    status = raw.get("status") or []
    if isinstance(status, int):
        status = [status]
    spec = HttpSpec(
        schemes=schemes,
        ports=tuple(_port(p, "http.ports") for p in raw.get("ports") or ()),
        method=str(raw["method"]).upper() if raw.get("method") else None,
        path_regex=_regex(raw.get("path_regex"), "http.path_regex"),
        status=tuple(int(s) for s in status),
        title_regex=_regex(raw.get("title_regex"), "http.title_regex"),
        body_regex=_regex(raw.get("body_regex"), "http.body_regex"),
    )
    if not (spec.path_regex or spec.title_regex or spec.body_regex or spec.status):
        raise ValueError("http match needs a path, status, title or body to look for")
    return spec


def _http_ok(spec: HttpSpec, h: HttpObservation) -> bool:
    if h.scheme not in spec.schemes or (spec.ports and h.port not in spec.ports):
        return False
    if spec.method is not None and h.method.upper() != spec.method:
        return False
    if spec.path_regex is not None and not spec.path_regex.search(h.path):
        return False
    if spec.status and h.status not in spec.status:
        return False
    if spec.title_regex is not None and not spec.title_regex.search(h.title or ""):
        return False
    return spec.body_regex is None or bool(spec.body_regex.search(h.body or ""))


def match_http(
    spec: HttpSpec, answers: Iterable[HttpObservation]
) -> tuple[HttpObservation, str] | None:
    """The first HTTP answer that satisfies the spec, with a description."""
    return _first(
        answers,
        lambda h: _http_ok(spec, h),
        lambda h: (
            f"{h.method} {h.path} -> {h.status}" + (f", title {h.title!r}" if h.title else "")
        ),
    )
