#!/usr/bin/env python3
"""Precision and recall of CVE matching on the labelled corpus (tests/quality/corpus.yaml).

    .venv/bin/python scripts/quality.py              # print figures, exit 1 below the baseline
    .venv/bin/python scripts/quality.py --record     # store the figures as the new baseline
    .venv/bin/python scripts/quality.py --json       # machine-readable result
    .venv/bin/python scripts/quality.py --oracle [--part held-out]   # the oracle-derived corpus

The knowledge base is built from the test fixtures (tests/fixtures/{nvd,cve5,kev,epss}) in a
temporary SQLite database through ``routerwatch.kb.KnowledgeBase`` and its importer; with
``--loader fixtures`` (or when the KB package cannot be used) a small loader here reads the same
files with the same merge semantics (configurations from NVD; ``cve5_affected`` = CNA affected +
ADP affected). Every case's device goes to ``Matcher(records).check(identity)``.

Figures, all "affected-level":

* recall    = must_affect CVEs reported "affected" / all must_affect labels
* precision = those / (those + may_be_possible or must_not_report CVEs reported "affected")
* noise     = must_not_report CVEs reported "possible" (listed, not part of the gate)

Exit status: 0 at or above tests/quality/baseline.json, 1 below it, 2 when the corpus, the
fixtures or the matcher cannot be used.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "tests" / "quality" / "corpus.yaml"
BASELINE = ROOT / "tests" / "quality" / "baseline.json"
LABELS = ("must_affect", "may_be_possible", "must_not_report")
DEVICE_FIELDS = ("vendor", "model", "hardware", "firmware", "region")


class QualityError(Exception):
    """The corpus, the fixtures or the matcher cannot be used; the message says which."""


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Case:
    id: str
    device: dict[str, str | None]
    must_affect: frozenset[str]
    may_be_possible: frozenset[str]
    must_not_report: frozenset[str]
    note: str
    held_out: bool = False  # a fixed part the matcher's authors do not tune on

    def identity(self) -> Any:
        from routerwatch.models import DeviceIdentity, Evidence

        d = self.device
        return DeviceIdentity(
            vendor=d.get("vendor"),
            model=d.get("model"),
            hardware=d.get("hardware"),
            firmware=d.get("firmware"),
            region=d.get("region"),
            confidence=1.0,
            evidence=(Evidence(source="user", value=f"quality case {self.id}"),),
        )


def load_corpus(path: Path = CORPUS) -> list[Case]:
    """Read and validate the corpus; QualityError names the case and field that is wrong."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise QualityError(f"{path}: cannot read the corpus: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise QualityError(f"{path}: expected a mapping with a 'cases' list")
    cases: list[Case] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["cases"], 1):
        where = f"{path.name}: case {n}"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise QualityError(f"{where}: needs an 'id'")
        cid = raw["id"]
        where = f"{path.name}: case {cid!r}"
        if cid in seen:
            raise QualityError(f"{where}: duplicate id")
        seen.add(cid)
        unknown = set(raw) - {"id", "device", "note", "held_out", *LABELS}
        if unknown:
            raise QualityError(f"{where}: unknown field(s) {sorted(unknown)}")
        device = raw.get("device")
        if not isinstance(device, dict) or set(device) - set(DEVICE_FIELDS):
            raise QualityError(f"{where}: 'device' must map {', '.join(DEVICE_FIELDS)}")
        if not device.get("vendor") or not device.get("model"):
            raise QualityError(f"{where}: the device needs a vendor and a model")
        dev = {k: (None if device.get(k) is None else str(device[k])) for k in DEVICE_FIELDS}
        labels: dict[str, frozenset[str]] = {}
        for key in LABELS:
            values = raw.get(key) or []
            if not isinstance(values, list) or not all(
                isinstance(v, str) and v.startswith("CVE-") for v in values
            ):
                raise QualityError(f"{where}: '{key}' must be a list of CVE ids")
            if len(set(values)) != len(values):
                raise QualityError(f"{where}: '{key}' lists a CVE twice")
            labels[key] = frozenset(values)
        for a, b in (
            ("must_affect", "may_be_possible"),
            ("must_affect", "must_not_report"),
            ("may_be_possible", "must_not_report"),
        ):
            both = labels[a] & labels[b]
            if both:
                raise QualityError(f"{where}: {sorted(both)} in both '{a}' and '{b}'")
        if not any(labels.values()):
            raise QualityError(f"{where}: no labels")
        note = raw.get("note")
        if not isinstance(note, str) or not note.strip():
            raise QualityError(f"{where}: needs a 'note' saying why")
        cases.append(
            Case(
                cid,
                dev,
                labels["must_affect"],
                labels["may_be_possible"],
                labels["must_not_report"],
                note.strip(),
                bool(raw.get("held_out", False)),
            )
        )
    return cases


# --------------------------------------------------------------------------- knowledge base


ORACLE = ROOT / "tests" / "quality" / "corpus_oracle.yaml"
ORACLE_CVE5 = ROOT / "tests" / "quality" / "oracle" / "cve5"
ORACLE_BASELINE = ROOT / "tests" / "quality" / "baseline_oracle.json"


def _fixture_files(fixtures: Path, extra: Sequence[Path] = ()) -> list[Path]:
    files = sorted((fixtures / "nvd").glob("*.json"))
    files += sorted((fixtures / "cve5").rglob("*.json"))
    for folder in extra:  # more CVE 5 records (the oracle corpus's)
        files += sorted(folder.rglob("CVE-*.json"))
    files += [
        fixtures / "kev" / "known_exploited_vulnerabilities.json",
        fixtures / "epss" / "epss_kev_nvd.csv",
    ]
    missing = [str(p) for p in files if not p.is_file()]
    if missing or not files:
        raise QualityError(f"fixtures missing under {fixtures}: {missing or 'nvd/, cve5/'}")
    return files


def records_via_kb(fixtures: Path, extra: Sequence[Path] = ()) -> list[Any]:
    """Records as routerwatch.kb stores them: fixtures imported into a temporary SQLite KB."""
    from routerwatch.kb import KBError, KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="rw-quality-") as tmp:
        kb = KnowledgeBase(f"sqlite:///{Path(tmp) / 'kb.sqlite'}")
        try:
            kb.import_paths(_fixture_files(fixtures, extra))
            return list(kb.records())
        except KBError as exc:
            raise QualityError(f"knowledge base import failed: {exc}") from None
        finally:
            kb.close()


def _best_cvss(metrics: dict[str, Any]) -> tuple[float | None, str | None, str | None, str | None]:
    for key, version in (
        ("cvssMetricV40", "4.0"),
        ("cvssMetricV31", "3.1"),
        ("cvssMetricV30", "3.0"),
        ("cvssMetricV2", "2.0"),
    ):
        entries = metrics.get(key) or []
        if not entries:
            continue
        primary = next((m for m in entries if m.get("type") == "Primary"), entries[0])
        data = primary.get("cvssData", {})
        severity = data.get("baseSeverity") or primary.get("baseSeverity")
        return data.get("baseScore"), version, data.get("vectorString"), severity
    return None, None, None, None


def records_from_fixtures(fixtures: Path, extra: Sequence[Path] = ()) -> list[Any]:
    """The same records without the KB: configurations from NVD, cve5_affected = CNA + ADP
    affected lists, KEV and EPSS attached; CVEs only CVE 5 knows are included too, and KEV
    entries neither source has (as the KB's ``records()`` gives them)."""
    from routerwatch.models import CveRecord, KevEntry

    files = _fixture_files(fixtures, extra)
    nvd: dict[str, dict[str, Any]] = {}
    for path in (p for p in files if p.parent.name == "nvd"):
        for item in json.loads(path.read_text(encoding="utf-8"))["vulnerabilities"]:
            cve = item["cve"]
            nvd[cve["id"]] = cve
    cve5: dict[str, dict[str, Any]] = {}
    for path in (p for p in files if "cve5" in p.parts):
        record = json.loads(path.read_text(encoding="utf-8"))
        cve5[record["cveMetadata"]["cveId"]] = record
    kev: dict[str, KevEntry] = {}
    kev_file = fixtures / "kev" / "known_exploited_vulnerabilities.json"
    for v in json.loads(kev_file.read_text(encoding="utf-8"))["vulnerabilities"]:
        kev[v["cveID"]] = KevEntry(
            cve_id=v["cveID"],
            date_added=v["dateAdded"],
            due_date=v.get("dueDate"),
            ransomware=v.get("knownRansomwareCampaignUse"),
            vendor=v.get("vendorProject"),
            product=v.get("product"),
            name=v.get("vulnerabilityName"),
            required_action=v.get("requiredAction"),
        )
    epss: dict[str, tuple[float, float | None]] = {}
    with (fixtures / "epss" / "epss_kev_nvd.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            cid = row.get("cve") or row.get("CVE")
            if cid and row.get("epss"):
                pct = row.get("percentile")
                epss[cid] = (float(row["epss"]), float(pct) if pct else None)

    out: list[Any] = []
    for cid in sorted(set(nvd) | set(cve5)):
        n = nvd.get(cid, {})
        c5 = cve5.get(cid)
        affected: list[Any] = []
        desc5 = ""
        if c5 is not None:
            cna = c5["containers"]["cna"]
            affected.extend(cna.get("affected", []))
            for adp in c5["containers"].get("adp", []):
                affected.extend(adp.get("affected", []))
            desc5 = next(
                (
                    d["value"]
                    for d in cna.get("descriptions", [])
                    if d.get("lang", "").startswith("en")
                ),
                "",
            )
        desc = next((d["value"] for d in n.get("descriptions", []) if d.get("lang") == "en"), "")
        score, version, vector, severity = _best_cvss(n.get("metrics", {}))
        e = epss.get(cid)
        out.append(
            CveRecord(
                cve_id=cid,
                published=n.get("published")
                or (c5 or {}).get("cveMetadata", {}).get("datePublished"),
                last_modified=n.get("lastModified"),
                vuln_status=n.get("vulnStatus"),
                description=desc or desc5,
                cvss_score=score,
                cvss_version=version,
                cvss_vector=vector,
                severity=severity,
                configurations=tuple(n.get("configurations", [])),
                cve5_affected=tuple(affected),
                kev=kev.get(cid),
                nvd_kev_date=n.get("cisaExploitAdd"),
                epss=e[0] if e else None,
                epss_percentile=e[1] if e else None,
                references=tuple(r["url"] for r in n.get("references", []) if "url" in r),
                cwes=tuple(
                    sorted(
                        {
                            d["value"]
                            for w in n.get("weaknesses", [])
                            for d in w.get("description", [])
                            if d.get("value")
                        }
                    )
                ),
            )
        )
    for cid in sorted(set(kev) - set(nvd) - set(cve5)):  # KEV as a source of its own
        k = kev[cid]
        e = epss.get(cid)
        out.append(CveRecord(cve_id=cid, description=k.name or "", kev=k,
                             epss=e[0] if e else None, epss_percentile=e[1] if e else None))
    return out


def load_records(fixtures: Path = FIXTURES, loader: str = "auto",
                 extra: Sequence[Path] = ()) -> tuple[list[Any], str]:
    """(records, name of the loader used). ``auto`` tries the KB and falls back to fixtures."""
    if loader in ("auto", "kb"):
        try:
            return records_via_kb(fixtures, extra), "kb"
        except ImportError as exc:
            if loader == "kb":
                raise QualityError(f"routerwatch.kb cannot be imported: {exc}") from None
        except QualityError:
            if loader == "kb":
                raise
    return records_from_fixtures(fixtures, extra), "fixtures"


# --------------------------------------------------------------------------- evaluation


@dataclass
class CaseResult:
    case: Case
    reported: dict[str, str]  # CVE -> status ("affected"/"possible")
    reasons: dict[str, str]
    missed: list[str] = field(default_factory=list)  # must_affect not reported affected
    overclaimed: list[str] = field(default_factory=list)  # affected but labelled otherwise
    noise: list[str] = field(default_factory=list)  # must_not_report reported possible

    @property
    def ok(self) -> bool:
        return not (self.missed or self.overclaimed or self.noise)


@dataclass
class Result:
    cases: list[CaseResult]
    tp: int
    fp: int
    fn: int
    noise: int
    possible_seen: int  # may_be_possible labels reported "possible"
    possible_total: int
    elapsed: float
    loader: str = ""

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "true_positives": self.tp,
            "false_positives": self.fp,
            "false_negatives": self.fn,
            "noise": self.noise,
            "possible_seen": self.possible_seen,
            "possible_total": self.possible_total,
            "cases": len(self.cases),
            "failing_cases": [
                {
                    "id": r.case.id,
                    "missed": r.missed,
                    "overclaimed": r.overclaimed,
                    "noise": r.noise,
                    "reasons": {
                        c: r.reasons.get(c, "") for c in r.missed + r.overclaimed + r.noise
                    },
                }
                for r in self.cases
                if not r.ok
            ],
            "loader": self.loader,
            "elapsed_s": round(self.elapsed, 3),
        }


CheckFn = Callable[[Any], Iterable[Any]]


def evaluate(check: CheckFn, cases: Sequence[Case]) -> Result:
    """Run ``check(identity) -> findings`` on every case and score it against the labels."""
    t0 = time.perf_counter()
    results: list[CaseResult] = []
    tp = fp = fn = noise = seen = total_possible = 0
    for case in cases:
        reported: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for f in check(case.identity()):
            # the stronger verdict wins if a matcher returns a CVE twice
            if f.status in ("affected", "possible") and reported.get(f.cve) != "affected":
                reported[f.cve] = f.status
                reasons[f.cve] = f"{f.status}: {f.reason}"
        r = CaseResult(case, reported, reasons)
        for cve in sorted(case.must_affect):
            if reported.get(cve) == "affected":
                tp += 1
            else:
                fn += 1
                r.missed.append(cve)
                reasons.setdefault(cve, "not reported")
        for cve in sorted(case.may_be_possible | case.must_not_report):
            if reported.get(cve) == "affected":
                fp += 1
                r.overclaimed.append(cve)
        for cve in sorted(case.must_not_report):
            if reported.get(cve) == "possible":
                noise += 1
                r.noise.append(cve)
        total_possible += len(case.may_be_possible)
        seen += sum(1 for cve in case.may_be_possible if reported.get(cve) == "possible")
        results.append(r)
    return Result(results, tp, fp, fn, noise, seen, total_possible, time.perf_counter() - t0)


def matcher_check(records: Sequence[Any]) -> CheckFn:
    """``Matcher(records).check`` from routerwatch.match.matcher."""
    try:
        from routerwatch.match.matcher import Matcher
    except ImportError as exc:
        raise QualityError(
            f"the matcher cannot be imported (routerwatch.match.matcher): {exc}"
        ) from None
    return Matcher(records).check


def read_baseline(path: Path = BASELINE) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"precision": 0.0, "recall": 0.0}
    except (OSError, ValueError) as exc:
        raise QualityError(f"{path}: cannot read the baseline: {exc}") from None
    return {
        "precision": float(data.get("precision", 0.0)),
        "recall": float(data.get("recall", 0.0)),
        **data,
    }


def below_baseline(result: Result, baseline: dict[str, Any]) -> list[str]:
    """Which figures fell below the recorded ones (rounded to 4 places, as recorded)."""
    out = []
    for name in ("precision", "recall"):
        now = round(getattr(result, name), 4)
        if now < float(baseline.get(name, 0.0)):
            out.append(f"{name} {now:.4f} < baseline {float(baseline[name]):.4f}")
    return out


def write_baseline(result: Result, path: Path = BASELINE) -> None:
    data = {
        "precision": round(result.precision, 4),
        "recall": round(result.recall, 4),
        "true_positives": result.tp,
        "false_positives": result.fp,
        "false_negatives": result.fn,
        "noise": result.noise,
        "cases": len(result.cases),
        "recorded": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def report(result: Result, baseline: dict[str, Any], *, verbose: bool = False) -> str:
    lines = [
        f"quality corpus: {len(result.cases)} cases, "
        f"{result.tp + result.fn} must_affect labels, loader={result.loader}, "
        f"{result.elapsed:.2f}s",
        f"precision {result.precision:.4f}  (affected right {result.tp}, over-claimed "
        f"{result.fp})   baseline {float(baseline.get('precision', 0)):.4f}",
        f"recall    {result.recall:.4f}  ({result.tp} of {result.tp + result.fn} must_affect "
        f"reported affected)   baseline {float(baseline.get('recall', 0)):.4f}",
        f"noise     {result.noise} must_not_report CVE(s) reported possible; "
        f"{result.possible_seen}/{result.possible_total} may_be_possible labels reported "
        "possible",
    ]
    failing = [r for r in result.cases if not r.ok]
    if failing:
        lines.append(f"failing cases ({len(failing)}):")
    for r in failing:
        lines.append(f"  {r.case.id}")
        for kind, cves in (
            ("missed", r.missed),
            ("over-claimed", r.overclaimed),
            ("noise", r.noise),
        ):
            for cve in cves:
                reason = r.reasons.get(cve, "")
                lines.append(f"    {kind:12} {cve}  {reason[:140] if verbose else reason[:90]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--fixtures", type=Path, default=FIXTURES)
    ap.add_argument("--baseline", type=Path, default=BASELINE)
    ap.add_argument("--loader", choices=("auto", "kb", "fixtures"), default="auto")
    ap.add_argument("--record", action="store_true", help="write the figures as the baseline")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--oracle", action="store_true",
                    help="the oracle-derived corpus (corpus_oracle.yaml, its CVE 5 records "
                    "and baseline_oracle.json) instead of the hand-labelled one")
    ap.add_argument("--part", choices=("all", "tuning", "held-out"), default="all",
                    help="only the cases of one part (held-out: the fixed part not tuned on)")
    args = ap.parse_args(argv)
    extra: list[Path] = []
    if args.oracle:
        args.corpus = ORACLE if args.corpus == CORPUS else args.corpus
        args.baseline = ORACLE_BASELINE if args.baseline == BASELINE else args.baseline
        extra.append(ORACLE_CVE5)
    try:
        cases = load_corpus(args.corpus)
        if args.part != "all":
            cases = [c for c in cases if c.held_out == (args.part == "held-out")]
        records, loader = load_records(args.fixtures, args.loader, extra)
        check = matcher_check(records)
        result = evaluate(check, cases)
        result.loader = loader
        baseline = read_baseline(args.baseline)
    except QualityError as exc:
        print(f"quality: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    **result.to_dict(),
                    "baseline": {"precision": baseline["precision"], "recall": baseline["recall"]},
                },
                indent=2,
            )
        )
    else:
        print(report(result, baseline, verbose=args.verbose))
    if args.record:
        write_baseline(result, args.baseline)
        print(f"baseline written to {args.baseline}", file=sys.stderr)
        return 0
    worse = below_baseline(result, baseline)
    if worse:
        print("quality: below the recorded baseline: " + "; ".join(worse), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
