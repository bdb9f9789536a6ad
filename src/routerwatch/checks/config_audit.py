"""Compromise and exposure indicators read from the owner's configuration export.

``audit_config(path)`` reads a text/XML/JSON export (:mod:`routerwatch.checks.config_parse`),
runs every config rule of ``checks/rules/config.yaml`` and returns the Indicators. Each rule's
``match.config`` names one of the checks below; the rule file holds their data (key patterns,
odd ports, known attacker keys), so the checks here are only the mechanics:

* ``dns``: public DNS servers not allowed (user allow-list, ISP list, well-known resolvers);
* ``ssh_key`` / ``ssh_port`` / ``ssh_backdoor``: SSH keys not in the owner's list, SSH on the
  AyySSHush port, and both together (or the published attacker key);
* ``wan_admin`` / ``telnet`` / ``upnp``: switches that are on;
* ``port_forward`` / ``port_forward_service``: forwards on odd ports, to outside addresses, or
  of remote-login services.

The file is data only: nothing in it is contacted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml

from routerwatch.checks.config_parse import (
    ConfigAuditError,
    ParsedConfig,
    Record,
    Setting,
    parse_text,
    read_config,
)
from routerwatch.checks.engine import (
    Hit,
    IndicatorRule,
    load_indicator_rules,
    resolve,
)
from routerwatch.models import Certainty, Evidence, Indicator

__all__ = [
    "ConfigAudit",
    "ConfigAuditError",
    "PortForward",
    "audit_config",
    "audit_parsed",
    "audit_text",
    "parse_ssh_keys",
    "port_forwards",
    "run_audit",
]

DEFAULT_MAX_BYTES = 16 * 2**20
MAX_FORWARDS = 4096  # routers hold a few dozen; a file with more is checked in part
IpNet = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddr = ipaddress.IPv4Address | ipaddress.IPv6Address

# Addresses that are a local resolver, never a hijack by themselves: RFC 1918, loopback,
# link-local, carrier-grade NAT (RFC 6598, ISP-internal resolvers), unspecified, IPv6 ULA.
_LOCAL_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/8",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)
_TRUTHY = {"1", "true", "yes", "on", "enable", "enabled"}
_SSH_HINT = re.compile(r"ssh-|ecdsa-|sk-")
_SSH_KEY = re.compile(
    r"(ssh-rsa|ssh-ed25519|ssh-dss|ecdsa-sha2-nistp(?:256|384|521)|"
    r"sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+([A-Za-z0-9+/]{16,}={0,3})"
)


@dataclass(frozen=True)
class ConfigAudit:
    """The result of auditing one export."""

    name: str
    format: str
    settings: int
    indicators: tuple[Indicator, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortForward:
    source: str  # the setting or record it came from
    external: tuple[int, int] | None  # port range, inclusive
    internal: tuple[int, int] | None
    destination: str | None
    text: str  # as written, for evidence


@dataclass
class _Context:
    cfg: ParsedConfig
    allow: tuple[IpNet, ...]
    isp: tuple[IpNet, ...]
    known_keys: frozenset[tuple[str, str]]
    known_given: bool
    notes: list[str]
    _forwards: list[PortForward] | None = None
    _ssh: list[tuple[Setting, str, str]] | None = None

    def forwards(self) -> list[PortForward]:
        if self._forwards is None:
            found = port_forwards(self.cfg, limit=MAX_FORWARDS + 1)
            if len(found) > MAX_FORWARDS:
                self.notes.append(
                    f"more than {MAX_FORWARDS} port forwards: only the first "
                    f"{MAX_FORWARDS} were checked"
                )
            self._forwards = found[:MAX_FORWARDS]
        return self._forwards

    def ssh_keys(self) -> list[tuple[Setting, str, str]]:
        """Every (setting, key type, blob) in the export, computed once."""
        if self._ssh is None:
            self._ssh = [
                (s, kt, blob)
                for s in self.cfg.settings
                if _SSH_HINT.search(s.value)
                for kt, blob in parse_ssh_keys([s.value])
            ]
        return self._ssh


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=1)
def _public_resolvers() -> frozenset[IpAddr]:
    text = resources.files("routerwatch.checks").joinpath("data/public_resolvers.yaml")
    data = yaml.safe_load(text.read_text("utf-8"))
    return frozenset(
        ipaddress.ip_address(str(a)) for r in data["resolvers"] for a in r["addresses"]
    )


def _networks(values: Iterable[str], what: str) -> tuple[IpNet, ...]:
    out = []
    for v in values:
        for part in str(v).replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ConfigAuditError(
                    f"{what}: {part!r} is not an IP address or network"
                ) from None
    return tuple(out)


def parse_ssh_keys(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(type, base64 blob) of every SSH public key in the text (options and comments dropped)."""
    return [(m.group(1), m.group(2)) for line in lines for m in _SSH_KEY.finditer(line)]


def _ips(value: str) -> list[IpAddr]:
    out = []
    for token in re.split(r"[\s,;]+", value):
        token = token.strip("[]\"'")
        if not token:
            continue
        try:
            out.append(ipaddress.ip_address(token))
        except ValueError:
            continue
    return out


_NEVER = re.compile(r"(?!)")


@lru_cache(maxsize=256)
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression matching where any of the patterns does (never, for none)."""
    if not patterns:
        return _NEVER
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as e:  # pragma: no cover - shipped rules are tested
        raise ConfigAuditError(f"bad key pattern in a config rule: {e}") from None


def _keys(rule: IndicatorRule, name: str) -> re.Pattern[str]:
    return _any_of(tuple(str(p) for p in rule.match.params.get(name) or ()))


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_key(key: str) -> str:
    """The last two parts of a long XML/JSON key path ("LANHostConfigManagement.DNSServers")."""
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else key


def _ev(rule: IndicatorRule, s: Setting | str, value: str) -> Evidence:
    key = s.key if isinstance(s, Setting) else s
    return Evidence(f"config:{_short_key(key)}", _short(value), rule.id, (("key", key),))


# --------------------------------------------------------------------------- port forwards

_RANGE = re.compile(r"^\s*(\d{1,5})\s*(?:[-:]\s*(\d{1,5}))?\s*$")
_DDWRT_FWD = re.compile(
    r"([^:\s]*):(on|off):(tcp|udp|both):(\d{1,5}(?:-\d{1,5})?)>([0-9a-fA-F.:]+?):(\d{1,5}(?:-\d{1,5})?)(?=\s|$)"
)
_EXT_FIELDS = (
    "externalport",
    "external_port",
    "extport",
    "dst-port",  # MikroTik /ip firewall nat action=dst-nat
    "src_dport",  # OpenWrt firewall redirect
    "ext_port",
    "wanport",
    "wan_port",
    "public_port",
    "externalportstart",
    "port_start",
    "srcport",
)
_INT_FIELDS = (
    "internalport",
    "internal_port",
    "intport",
    "int_port",
    "lanport",
    "lan_port",
    "private_port",
    "internalportstart",
    "to-ports",  # MikroTik
    "dest_port",  # OpenWrt
    "dstport",
)
_IP_FIELDS = (
    "internalclient",
    "internal_client",
    "ip",
    "ipaddr",
    "ip_address",
    "lan_ip",
    "lanip",
    "server_ip",
    "serverip",
    "target",
    "destination",
    "dstip",
    "to-addresses",  # MikroTik
    "dest_ip",  # OpenWrt
)
_ENABLE_FIELDS = ("enable", "enabled", "portmappingenabled", "status")


def _port_range(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    m = _RANGE.match(text)
    if m is None:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if not (0 < lo <= 65535 and 0 < hi <= 65535):
        return None
    return (min(lo, hi), max(lo, hi))


def _asus_rules(s: Setting) -> Iterable[PortForward]:
    # vts_rulelist: "<desc>extport>ip>intport>proto>..." entries, each starting with "<".
    for entry in s.value.split("<"):
        fields = entry.split(">")
        if len(fields) < 3 or not entry.strip():
            continue
        ext = _port_range(fields[1])
        dest = fields[2].strip() or None
        internal = _port_range(fields[3]) if len(fields) > 3 and fields[3].strip() else ext
        if ext is None:
            continue
        yield PortForward(s.key, ext, internal, dest, "<" + entry.rstrip(">") + ">")


def _ddwrt_rules(s: Setting) -> Iterable[PortForward]:
    for m in _DDWRT_FWD.finditer(s.value):
        if m.group(2) == "off":
            continue
        yield PortForward(
            s.key,
            _port_range(m.group(4).replace("-", ":")),
            _port_range(m.group(6).replace("-", ":")),
            m.group(5),
            m.group(0),
        )


def _record_rule(r: Record) -> PortForward | None:
    f = r.fields
    ext = next((f[k] for k in _EXT_FIELDS if f.get(k)), None)
    if ext is None:
        return None
    internal = next((f[k] for k in _INT_FIELDS if f.get(k)), None)
    dest = next((f[k] for k in _IP_FIELDS if f.get(k)), None)
    if internal is None and dest is None:
        return None
    enabled = next((f[k] for k in _ENABLE_FIELDS if k in f), None)
    if enabled is not None and enabled.strip().lower() in {"0", "false", "no", "off", "disabled"}:
        return None
    if f.get("disabled", "").strip().lower() in {"yes", "true", "1"}:  # MikroTik
        return None
    if f.get("action") and f["action"].lower() not in ("dst-nat", "netmap"):  # MikroTik NAT
        return None
    if f.get("target") and f["target"].upper() not in ("DNAT",) and "src_dport" in f:  # OpenWrt
        return None
    ext_range = _port_range(ext)
    if ext_range is None:
        return None
    end = _port_range(f.get("externalportendrange") or f.get("port_end"))
    if end is not None:  # TR-181 / JSON ranges: start + end
        ext_range = (ext_range[0], max(ext_range[0], end[1]))
    text = ", ".join(f"{k}={v}" for k, v in f.items() if v)
    return PortForward(
        r.path or "record", ext_range, _port_range(internal) or ext_range, dest, _short(text)
    )


def port_forwards(cfg: ParsedConfig, limit: int | None = None) -> list[PortForward]:
    """Port forwards found in an export (at most ``limit``): ASUS vts_rulelist, DD-WRT
    forward_*, and records with external/internal port fields (TR-098 PortMapping in XML, JSON
    objects, INI sections)."""
    out: list[PortForward] = []
    for s in cfg.settings:
        if "forward" not in s.lkey and "vts_" not in s.lkey:
            continue
        leaf = s.leaf
        if leaf == "vts_rulelist":
            out.extend(_asus_rules(s))
        elif leaf in ("forward_spec", "forward_port") or re.fullmatch(r"forward_port\d+", leaf):
            out.extend(_ddwrt_rules(s))
    for r in cfg.records:
        if limit is not None and len(out) >= limit:
            break
        fwd = _record_rule(r)
        if fwd is not None:
            out.append(fwd)
    return out[:limit]


def _overlaps(rng: tuple[int, int] | None, port: int) -> bool:
    return rng is not None and rng[0] <= port <= rng[1]


# --------------------------------------------------------------------------- checks


def _check_dns(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    configured = _keys(rule, "configured_keys")
    obtained = _keys(rule, "obtained_keys")
    known = _public_resolvers()
    hits: list[Hit] = []
    seen = 0
    for s in ctx.cfg.settings:
        if "dns" not in s.lkey and "server" not in s.lkey:
            continue  # every DNS key pattern names one of these; skips most of a big file
        if obtained.search(s.lkey):
            kind = "obtained"
        elif configured.search(s.lkey):
            kind = "configured"
        else:
            continue
        for ip in _ips(s.value):
            seen += 1
            if any(ip in n for n in _LOCAL_NETS) or ip in known:
                continue
            if any(ip in n for n in ctx.allow) or any(ip in n for n in ctx.isp):
                continue
            certainty: Certainty = "medium" if kind == "configured" else "low"
            why = "configured" if kind == "configured" else "obtained from the ISP?"
            hits.append(Hit(rule, certainty, [_ev(rule, s, f"{ip} ({why}; not allowed)")]))
    if seen:
        ctx.notes.append(f"{seen} DNS server address(es) read")
    return hits


def _ssh_keys(rule: IndicatorRule, ctx: _Context) -> list[tuple[Setting, str, str]]:
    ignore = _keys(rule, "ignore_keys")
    return [k for k in ctx.ssh_keys() if not ignore.search(k[0].lkey)]


def _unknown_keys(rule: IndicatorRule, ctx: _Context) -> list[tuple[Setting, str, str]]:
    return [(s, kt, b) for s, kt, b in _ssh_keys(rule, ctx) if (kt, b) not in ctx.known_keys]


def _ssh_port_settings(rule: IndicatorRule, ctx: _Context) -> list[Setting]:
    keys = _keys(rule, "port_keys")
    port = str(rule.match.params.get("port", 53282))
    return [
        s
        for s in ctx.cfg.settings
        if port in s.value and s.value.strip() == port and keys.search(s.lkey)
    ]


def _check_ssh_key(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    certainty: Certainty = "medium" if ctx.known_given else "low"
    return [
        Hit(rule, certainty, [_ev(rule, s, f"{kt} {b[:24]}… not in the known-key list")])
        for s, kt, b in _unknown_keys(rule, ctx)
    ]


def _check_ssh_port(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    return [
        Hit(rule, rule.certainty, [_ev(rule, s, s.value)], port=int(s.value))
        for s in _ssh_port_settings(rule, ctx)
    ]


def _check_ssh_backdoor(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    prefixes = [str(x) for x in rule.match.params.get("key_prefixes") or ()]
    ev: list[Evidence] = []
    for s, kt, blob in _ssh_keys(rule, ctx):
        if any(blob.startswith(p) for p in prefixes):
            ev.append(_ev(rule, s, f"{kt} {blob[:40]}… is the published AyySSHush key"))
    if ev:
        return [Hit(rule, "high", ev)]
    ports = _ssh_port_settings(rule, ctx)
    unknown = _unknown_keys(rule, ctx)
    if ports and unknown:
        ev = [_ev(rule, s, f"SSH port {s.value}") for s in ports]
        ev += [_ev(rule, s, f"{kt} {b[:24]}… not in the known-key list") for s, kt, b in unknown]
        return [Hit(rule, rule.certainty, ev, port=int(ports[0].value))]
    return []


def _check_switches(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    specs = [
        (
            _any_of((str(spec["key"]),)),
            {str(v).lower() for v in spec.get("values") or _TRUTHY},
            str(spec.get("what") or rule.title),
        )
        for spec in rule.match.params.get("settings") or ()
    ]
    anykey = _any_of(tuple(rx.pattern for rx, _, _ in specs))
    wanted = set().union(*(values for _, values, _ in specs)) if specs else set()
    longest = max((len(v) for v in wanted), default=0)
    hits = []
    for s in ctx.cfg.settings:
        if len(s.value) > longest + 8:  # cheap: switches hold short values
            continue
        value = s.value.strip().lower()
        if value not in wanted or not anykey.search(s.lkey):
            continue
        for rx, values, what in specs:
            if rx.search(s.lkey) and value in values:
                hits.append(Hit(rule, rule.certainty, [_ev(rule, s, f"{s.value} ({what})")]))
    return hits


def _check_forwards(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    p = rule.match.params
    hits: list[Hit] = []
    odd = [
        (int(o["port"]), cast(Certainty, o.get("certainty", rule.certainty)), str(o.get("why", "")))
        for o in p.get("odd_ports") or ()
    ]
    wide = p.get("wide_range") or {}
    for fwd in ctx.forwards():
        for port, certainty, why in odd:
            if _overlaps(fwd.external, port) or _overlaps(fwd.internal, port):
                hits.append(
                    Hit(
                        rule,
                        certainty,
                        [_ev(rule, fwd.source, f"{fwd.text}: {port} = {why}")],
                        port=port,
                    )
                )
        dest = _ips(fwd.destination or "")
        if p.get("public_destination") and dest and not any(dest[0] in n for n in _LOCAL_NETS):
            hits.append(
                Hit(
                    rule,
                    cast(Certainty, p["public_destination"]),
                    [_ev(rule, fwd.source, f"{fwd.text}: forwards to outside address {dest[0]}")],
                )
            )
        if wide and fwd.external is not None:
            span = fwd.external[1] - fwd.external[0] + 1
            if span >= int(wide.get("ports", 1000)):
                hits.append(
                    Hit(
                        rule,
                        cast(Certainty, wide.get("certainty", "low")),
                        [_ev(rule, fwd.source, f"{fwd.text}: forwards {span} ports")],
                    )
                )
    return hits


def _check_forward_services(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    services = [
        (int(s["port"]), str(s.get("name", s["port"])))
        for s in rule.match.params.get("services") or ()
    ]
    hits = []
    for fwd in ctx.forwards():
        for port, name in services:
            if _overlaps(fwd.internal, port) or (
                fwd.internal is None and _overlaps(fwd.external, port)
            ):
                hits.append(
                    Hit(
                        rule,
                        rule.certainty,
                        [_ev(rule, fwd.source, f"{fwd.text}: {name} (port {port})")],
                        port=port,
                    )
                )
    return hits


def _check_records(rule: IndicatorRule, ctx: _Context) -> list[Hit]:
    """Records whose path matches ``path``, that have every member of ``present``, whose
    members match ``fields`` (a missing member reads as "") and, when given, of which one
    member matches ``any_field``."""
    p = rule.match.params
    path = re.compile(str(p.get("path") or ".*"))
    fields = {str(k).lower(): re.compile(str(v)) for k, v in (p.get("fields") or {}).items()}
    anyf = re.compile(str(p["any_field"])) if p.get("any_field") else None
    present = [str(k).lower() for k in p.get("present") or ()]
    hits = []
    for r in ctx.cfg.records:
        if not path.search(r.path) or not all(k in r.fields for k in present):
            continue
        if not all(rx.search(r.fields.get(k, "")) for k, rx in fields.items()):
            continue
        if anyf is not None and not any(anyf.search(v) for v in r.fields.values()):
            continue
        shown = ", ".join(f"{k}={v}" for k, v in r.fields.items() if v)
        hits.append(Hit(rule, rule.certainty, [_ev(rule, f"{r.path}", _short(shown))]))
    return hits


_CHECKS = {
    "dns": _check_dns,
    "ssh_key": _check_ssh_key,
    "ssh_port": _check_ssh_port,
    "ssh_backdoor": _check_ssh_backdoor,
    "wan_admin": _check_switches,
    "telnet": _check_switches,
    "upnp": _check_switches,
    "port_forward": _check_forwards,
    "port_forward_service": _check_forward_services,
    "record": _check_records,
}


# --------------------------------------------------------------------------- entry points


def audit_parsed(
    cfg: ParsedConfig,
    *,
    dns_allow: Sequence[str] = (),
    isp_dns: Sequence[str] = (),
    known_keys: Sequence[str] = (),
    rules: Sequence[IndicatorRule] | None = None,
) -> ConfigAudit:
    """Run every config rule over an already parsed export."""
    ctx = _Context(
        cfg=cfg,
        allow=_networks(dns_allow, "DNS allow-list"),
        isp=_networks(isp_dns, "ISP DNS list"),
        known_keys=frozenset(parse_ssh_keys(known_keys)),
        known_given=bool(known_keys),
        notes=[],
    )
    active = [
        r for r in (rules if rules is not None else load_indicator_rules()) if r.source == "config"
    ]
    hits: list[Hit] = []
    for rule in active:
        check = rule.match.config
        assert check is not None
        hits.extend(_CHECKS[check](rule, ctx))
    if not known_keys and ctx.ssh_keys():
        ctx.notes.append("no --known-key list given: every SSH key in the export counts as unknown")
    return ConfigAudit(
        name=cfg.name,
        format=cfg.format,
        settings=len(cfg.settings),
        indicators=tuple(resolve(hits)),
        notes=tuple(ctx.notes),
    )


def audit_text(text: str, *, name: str = "<text>", **options: Any) -> ConfigAudit:
    """Audit an export given as text (rule examples, tests)."""
    return audit_parsed(parse_text(text, name), **options)


def run_audit(
    path: Path | str,
    *,
    dns_allow: Sequence[str] = (),
    isp_dns: Sequence[str] = (),
    known_keys: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ConfigAudit:
    """Read and audit one export; failures are one-line ConfigAuditErrors naming the file."""
    cfg = read_config(path, max_bytes=max_bytes)
    return audit_parsed(cfg, dns_allow=dns_allow, isp_dns=isp_dns, known_keys=known_keys)


def audit_config(
    path: Path,
    *,
    dns_allow: Sequence[str] = (),
    known_keys: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    isp_dns: Sequence[str] = (),
) -> list[Indicator]:
    """Indicators from one configuration export (see :func:`run_audit` for the full result)."""
    return list(
        run_audit(
            path, dns_allow=dns_allow, isp_dns=isp_dns, known_keys=known_keys, max_bytes=max_bytes
        ).indicators
    )
