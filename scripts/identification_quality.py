"""Identification quality on real captures: precision, recall and wrong answers per field.

Reads ``tests/captures/index.yaml`` (responses captured from real devices by others, each with
a truth label and its provenance), turns every device's captures into the Observation the
scanner would have built - through the scanner's own parsers (SSDP reply, UPnP description,
HTTP exchange, certificate) - identifies it with the shipped Fingerprinter and compares
vendor, model, hardware, firmware and firmware OS with the truth.

The held-out split is fixed: a device is held out when ``sha256(id)`` read as a number is
divisible by 3 (about a third). Rule authors work on the other part ("dev"); this script only
prints counts for held-out devices unless ``--show-heldout`` is given.

    .venv/bin/python scripts/identification_quality.py            # figures + dev misses
    .venv/bin/python scripts/identification_quality.py --json     # machine-readable figures
    .venv/bin/python scripts/identification_quality.py --record   # write a new baseline

Exit status 1 when a figure falls below tests/identification/baseline.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from routerwatch.fingerprint.engine import Fingerprinter
from routerwatch.identity.hardware import model_key, normalize_hardware
from routerwatch.identity.vendors import canonical_vendor
from routerwatch.models import Banner, DeviceIdentity, Observation, TlsCertificate
from routerwatch.scan.probes.http import RawResponse, build_http_observation, favicon_hashes
from routerwatch.scan.probes.upnp import parse_description, parse_ssdp_response

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "tests" / "captures"
BASELINE = ROOT / "tests" / "identification" / "baseline.json"
FIELDS = ("vendor", "model", "hardware", "firmware", "os")
SPLITS = ("all", "dev", "heldout", "not_recog", "heldout_not_recog")


def held_out(device_id: str) -> bool:
    """The fixed held-out rule: sha256 of the capture id, as a number, divisible by 3."""
    return int(hashlib.sha256(device_id.encode("utf-8")).hexdigest(), 16) % 3 == 0


@dataclass(frozen=True)
class Case:
    id: str
    truth: dict[str, str]
    recog: bool
    observation: Observation
    source: dict[str, str] = field(default_factory=dict)

    @property
    def heldout(self) -> bool:
        return held_out(self.id)


# --------------------------------------------------------------------------- captures → Observation


def _http(cap: dict[str, Any], folder: Path) -> Any:
    port = int(cap.get("port", 80))
    scheme = "https" if cap.get("scheme") == "https" or port == 443 else "http"
    path = str(cap.get("path", "/"))
    if "title" in cap and "body" not in cap:
        # A title alone (Recog's html_title examples): no page around it is invented.
        obs = build_http_observation(
            port, scheme, "GET", path, RawResponse(int(cap["status"]), (), b"")
        )
        from routerwatch.models import replace

        return replace(obs, title=str(cap["title"]))
    headers = tuple(
        (str(k).lower().encode("latin-1"), str(v).encode("latin-1", "replace"))
        for k, v in (cap.get("headers") or {}).items()
    )
    body = (folder / cap["body"]).read_bytes() if cap.get("body") else b""
    if body and not any(k == b"content-type" for k, _ in headers):
        headers += ((b"content-type", b"text/html"),)
    raw = RawResponse(int(cap.get("status", 200)), headers, body)
    return build_http_observation(port, scheme, "GET", path, raw)


def _snmp(cap: dict[str, Any], folder: Path) -> tuple[str | None, str | None]:
    descr = cap.get("sysdescr")
    oid = cap.get("sysobjectid")
    if cap.get("file"):
        for line in (folder / cap["file"]).read_text("utf-8").splitlines():
            name, tag, value = line.split("|", 2)
            if tag.endswith("x"):
                value = bytes.fromhex(value).decode("utf-8", errors="replace")
            if name == "1.3.6.1.2.1.1.1.0" and descr is None:
                descr = value
            elif name == "1.3.6.1.2.1.1.2.0" and oid is None:
                oid = value
    return descr, oid


def observation(captures: Sequence[dict[str, Any]], folder: Path = CAPTURES) -> Observation:
    """The Observation the scanner builds from these responses (its own parsers)."""
    http: list[Any] = []
    banners: list[Banner] = []
    tls: list[TlsCertificate] = []
    upnp: list[Any] = []
    server: str | None = None
    location: str | None = None
    sysdescr = sysobjectid = None
    for cap in captures:
        kind = cap["kind"]
        if kind == "ssdp":
            headers = parse_ssdp_response((folder / cap["file"]).read_bytes()) or {}
            server = headers.get("server") or server
            location = headers.get("location") or location
        elif kind == "upnp":
            upnp.append(
                parse_description(
                    (folder / cap["file"]).read_bytes(),
                    location=cap.get("location") or location,
                    server=server,
                )
            )
        elif kind == "http":
            http.append(_http(cap, folder))
        elif kind == "favicon":
            port = int(cap.get("port", 80))
            obs = build_http_observation(
                port, "http", "GET", "/favicon.ico", RawResponse(200, (), b"")
            )
            from routerwatch.models import replace

            if cap.get("file"):
                md5, mm = favicon_hashes((folder / cap["file"]).read_bytes())
                http.append(replace(obs, favicon_md5=md5, favicon_mmh3=mm))
            else:
                http.append(replace(obs, favicon_md5=cap.get("md5"), favicon_mmh3=cap.get("mmh3")))
        elif kind == "banner":
            banners.append(Banner(int(cap["port"]), str(cap["protocol"]), str(cap["text"])))
        elif kind == "tls":
            tls.append(
                TlsCertificate(
                    int(cap.get("port", 443)),
                    str(cap.get("subject", "")),
                    str(cap.get("issuer", "")),
                )
            )
        elif kind == "snmp":
            sysdescr, sysobjectid = _snmp(cap, folder)
        else:
            raise ValueError(f"unknown capture kind {kind!r}")
    first = upnp[0] if upnp else None
    if first is not None and server and not first.server:
        from routerwatch.models import replace

        first = replace(first, server=server)
    if first is None and server:
        from routerwatch.models import UpnpDescription

        first = UpnpDescription(location=location, server=server)
    return Observation(
        address="capture",
        http=tuple(http),
        banners=tuple(banners),
        tls=tuple(tls),
        upnp=first,
        upnp_more=tuple(upnp[1:]),
        snmp_sysdescr=sysdescr,
        snmp_sysobjectid=sysobjectid,
    )


def _requested_paths() -> frozenset[str]:
    """The HTTP paths the scanner's own request plan fetches (GET /, the favicon, ...)."""
    from routerwatch.scan.probes.http import PLAN

    return frozenset(step.path for step in PLAN)


def load_corpus(index: Path = CAPTURES / "index.yaml", *, reachable: bool = False) -> list[Case]:
    """Every device of the corpus; ``reachable``: only the web pages the scanner itself would
    request (a status page at another path is left out of that device's observation)."""
    data = yaml.safe_load(index.read_text("utf-8"))
    paths = _requested_paths()

    def keep(cap: dict[str, Any]) -> bool:
        return not reachable or cap["kind"] != "http" or str(cap.get("path", "/")) in paths

    return [
        Case(
            id=d["id"],
            truth={k: str(v) for k, v in d["truth"].items() if v is not None},
            recog=bool(d.get("recog")),
            observation=observation([c for c in d["captures"] if keep(c)], index.parent),
            source=d.get("source", {}),
        )
        for d in data["devices"]
    ]


# --------------------------------------------------------------------------- comparison


def _same_vendor(got: str, want: str) -> bool:
    a = canonical_vendor(got) or got
    b = canonical_vendor(want) or want
    return a.casefold() == b.casefold()


def _same_model(got: str, want: str) -> bool:
    a, b = model_key(got) or got.casefold(), model_key(want) or want.casefold()
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and (long_.endswith(short) or long_.startswith(short))


def _same_firmware(got: str, want: str) -> bool:
    def norm(v: str) -> str:
        return v.strip().lower().removeprefix("v").replace(" ", "")

    return norm(got) == norm(want)


def agrees(name: str, got: str, want: str) -> bool:
    if name in ("vendor", "os"):
        return _same_vendor(got, want)
    if name == "model":
        return _same_model(got, want)
    if name == "hardware":
        return (normalize_hardware(got) or got) == (normalize_hardware(want) or want)
    return _same_firmware(got, want)


@dataclass
class FieldScore:
    labelled: int = 0
    correct: int = 0
    wrong: int = 0
    missing: int = 0

    def as_dict(self) -> dict[str, Any]:
        answered = self.correct + self.wrong
        return {
            "labelled": self.labelled,
            "correct": self.correct,
            "wrong": self.wrong,
            "missing": self.missing,
            "recall": round(self.correct / self.labelled, 4) if self.labelled else None,
            "precision": round(self.correct / answered, 4) if answered else None,
            "wrong_rate": round(self.wrong / self.labelled, 4) if self.labelled else None,
        }


@dataclass
class Result:
    case: Case
    identity: DeviceIdentity
    verdicts: dict[str, str]  # field -> correct / wrong / missing (labelled fields only)


def judge(case: Case, identity: DeviceIdentity) -> Result:
    verdicts = {}
    for name in FIELDS:
        want = case.truth.get(name)
        if want is None:
            continue
        got = getattr(identity, name)
        if got is None:
            verdicts[name] = "missing"
        else:
            verdicts[name] = "correct" if agrees(name, got, want) else "wrong"
    return Result(case, identity, verdicts)


def in_split(case: Case, split: str) -> bool:
    return {
        "all": True,
        "dev": not case.heldout,
        "heldout": case.heldout,
        "not_recog": not case.recog,
        "heldout_not_recog": case.heldout and not case.recog,
    }[split]


def score(results: Iterable[Result], split: str) -> dict[str, Any]:
    fields = {name: FieldScore() for name in FIELDS}
    devices = 0
    vendors: set[str] = set()
    for r in results:
        if not in_split(r.case, split):
            continue
        devices += 1
        vendors.add(r.case.truth["vendor"])
        for name, verdict in r.verdicts.items():
            s = fields[name]
            s.labelled += 1
            setattr(s, verdict, getattr(s, verdict) + 1)
    return {
        "devices": devices,
        "vendors": len(vendors),
        "fields": {name: s.as_dict() for name, s in fields.items()},
    }


def evaluate(
    cases: Sequence[Case], fp: Fingerprinter | None = None
) -> tuple[list[Result], dict[str, Any]]:
    fp = fp or Fingerprinter()
    results = [judge(c, fp.identify(c.observation)) for c in cases]
    figures = {split: score(results, split) for split in SPLITS}
    return results, figures


# --------------------------------------------------------------------------- baseline gate


def regressions(figures: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Every figure worse than the baseline: lower recall or precision, more wrong answers."""
    out = []
    for split, base in baseline.get("splits", {}).items():
        now = figures.get(split, {}).get("fields", {})
        for name, b in base.get("fields", {}).items():
            n = now.get(name, {})
            for key in ("recall", "precision"):
                if b.get(key) is not None and (n.get(key) or 0.0) + 1e-9 < b[key]:
                    out.append(f"{split} {name} {key} {n.get(key)} < baseline {b[key]}")
            if (
                b.get("wrong_rate") is not None
                and (n.get("wrong_rate") or 0.0) > b["wrong_rate"] + 1e-9
            ):
                out.append(
                    f"{split} {name} wrong_rate {n.get('wrong_rate')} > baseline {b['wrong_rate']}"
                )
    return out


def _table(figures: dict[str, Any]) -> str:
    lines = [
        f"{'split':<18} {'field':<9} {'labelled':>8} {'correct':>7} {'wrong':>5} {'missing':>7} "
        f"{'recall':>7} {'precision':>9}"
    ]
    for split, f in figures.items():
        for name, s in f["fields"].items():
            if not s["labelled"]:
                continue
            rec = "-" if s["recall"] is None else f"{100 * s['recall']:.1f}%"
            pre = "-" if s["precision"] is None else f"{100 * s['precision']:.1f}%"
            lines.append(
                f"{split:<18} {name:<9} {s['labelled']:>8} {s['correct']:>7} {s['wrong']:>5} "
                f"{s['missing']:>7} {rec:>7} {pre:>9}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Identification quality on tests/captures.")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--record", action="store_true", help="write the figures as the new baseline")
    ap.add_argument("--show-heldout", action="store_true", help="also list held-out misses")
    args = ap.parse_args(argv)
    try:
        cases = load_corpus()
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:
        print(f"error: cannot read the captures corpus: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results, figures = evaluate(cases)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({"splits": figures, "seconds": round(elapsed, 3)}, indent=2))
    else:
        print(_table(figures))
        print(f"\n{len(cases)} devices identified in {elapsed:.2f} s")
        for r in results:
            if r.case.heldout and not args.show_heldout:
                continue
            bad = {k: v for k, v in r.verdicts.items() if v != "correct"}
            if bad:
                got = {k: getattr(r.identity, k) for k in bad}
                want = {k: r.case.truth.get(k) for k in bad}
                tag = "WRONG" if "wrong" in bad.values() else "miss "
                print(f"{tag} {r.case.id}: got {got} want {want}")
    if args.record:
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        BASELINE.write_text(json.dumps({"recorded": stamp, "splits": figures}, indent=2) + "\n")
        return 0
    if BASELINE.exists():
        problems = regressions(figures, json.loads(BASELINE.read_text()))
        for p in problems:
            print(f"regression: {p}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
