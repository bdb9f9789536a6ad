"""Rules from nuclei-templates' passive matchers (title, header, body words/regex, favicon hash).

nuclei-templates (https://github.com/projectdiscovery/nuclei-templates, MIT) describe how to
*detect* a product: requests to send and matchers over the answers. routerwatch never sends
their requests: this loader keeps only matchers that can be checked against what the scanner
already fetched (``GET /`` and the favicon of every web port) and turns each template into one
fingerprint rule, loaded like the Recog databases:

* ``word`` / ``regex`` matchers on ``body`` (incl. ``<title>`` words) -> ``http.body``; on
  ``header`` with a ``Server:`` word -> ``http.server``;
* ``dsl`` ``contains(body, "...")`` / ``contains(tolower(body), "...")`` -> ``http.body``;
* favicon hashes: ``mmh3(base64_py(body)) == "N"`` in a dsl, or ``http.favicon.hash:N`` in the
  template's ``shodan-query`` -> ``http.favicon.mmh3``;
* ``status`` matchers are dropped (the rule reads any answer below 400); anything else
  (``binary``, ``xpath``, ``json``, ``extractors``-only, multi-step, raw requests, matchers on
  other parts) leaves the template out, with a note.

The vendor comes from ``info.metadata.vendor`` (or ``classification.cpe``) through the vendor
registry; templates of vendors routerwatch does not know are left out. Each rule keeps the
template id (``nuclei.<id>``, origin ``nuclei:<path>``) as its provenance; matched words
become the rule's examples. Point routerwatch at your own checkout with the environment
variable ``ROUTERWATCH_NUCLEI_TEMPLATES`` (a folder; ``http/exposed-panels`` and
``http/technologies`` are read) or call :func:`load_nuclei`. A small curated set of router-panel
templates is shipped (``nuclei_templates/``, SOURCES.md there) and always loaded; a checkout's
template with the same id replaces nothing (the shipped copy stays). Attribution:
NUCLEI-NOTICE.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from routerwatch.fingerprint.rules import Example, Rule, RuleError
from routerwatch.identity.vendors import canonical_vendor

__all__ = [
    "ENV_VAR",
    "NUCLEI_WEIGHT",
    "SHIPPED",
    "check_env",
    "convert_template",
    "env_stamp",
    "load_nuclei",
    "nuclei_from_env",
    "shipped_nuclei",
]

ENV_VAR = "ROUTERWATCH_NUCLEI_TEMPLATES"
NUCLEI_WEIGHT = 0.4  # below own rules and Recog: a vendor-only hint from a detection template
FOLDERS = ("http/exposed-panels", "http/technologies")
MAX_TEMPLATE = 65536
SHIPPED = Path(__file__).parent / "nuclei_templates"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONTAINS = re.compile(r"""contains\((?:tolower\()?(body|header|title)\)?,\s*["'](.+?)["']\)""")
_MMH3 = re.compile(r"""mmh3\(base64_py\(body\)\)\s*==\s*["']?(-?\d+)|["'](-?\d+)["']\s*==\s*mmh3""")
_SHODAN_FAVICON = re.compile(r"http\.favicon\.hash:\s*\"?(-?\d+)")
_CPE_VENDOR = re.compile(r"^cpe:2\.3:[aho]:([^:]+):")


def _vendor(info: dict[str, Any]) -> str | None:
    meta = info.get("metadata") or {}
    for candidate in (meta.get("vendor"),):
        if isinstance(candidate, str) and canonical_vendor(candidate):
            return canonical_vendor(candidate)
    cls = info.get("classification") or {}
    cpe = cls.get("cpe") if isinstance(cls, dict) else None
    if isinstance(cpe, str):
        m = _CPE_VENDOR.match(cpe)
        if m and canonical_vendor(m.group(1)):
            return canonical_vendor(m.group(1))
    # Many panel templates carry the maker only as a tag ("panel,tenda,router"): taken when the
    # tags name exactly one vendor of the registry.
    tags = info.get("tags")
    words = tags.split(",") if isinstance(tags, str) else tags if isinstance(tags, list) else []
    named = {canonical_vendor(str(w).strip()) for w in words} - {None}
    return named.pop() if len(named) == 1 else None


def _words_pattern(words: list[str], condition: str, insensitive: bool) -> str:
    escaped = [re.escape(w) for w in words]
    flags = "(?i)" if insensitive else ""
    if condition == "and" and len(escaped) > 1:
        # One greedy lookahead per word, anchored at the start: each word is looked for once
        # (linear). Unanchored or lazy ([\s\S]*?) lookaheads are retried at every offset of a
        # 64 KB page when a word is missing: quadratic, up to 10 ms per template.
        return "(?s" + flags[2:3] + ")\\A" + "".join(f"(?=.*{w})" for w in escaped)
    return flags + "(?:" + "|".join(escaped) + ")"


def _matcher_parts(m: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(source, pattern, example inputs) of one matcher; nothing when it is not passive."""
    kind = m.get("type")
    part = m.get("part", "body")
    insensitive = bool(m.get("case-insensitive"))
    if kind == "word" and part in ("body", "title") and m.get("words"):
        words = [str(w) for w in m["words"]]
        condition = m.get("condition", "or")
        if condition != "and" and not insensitive:
            # One literal rule per word: a literal is found by the regex engine's fast search
            # (~0.04 ms on a 64 KB page), an alternation is tried at every offset (~0.5 ms).
            for w in words:
                yield "http.body", re.escape(w), [w]
            return
        yield (
            "http.body",
            _words_pattern(words, condition, insensitive),
            [" ".join(words)],
        )
    elif kind == "word" and part == "header" and m.get("words"):
        for w in m["words"]:
            text = str(w)
            if text.lower().startswith("server:"):
                value = text.split(":", 1)[1].strip()
                yield "http.server", re.escape(value), [value]
    elif kind == "regex" and part in ("body", "title") and m.get("regex"):
        for r in m["regex"]:
            try:
                re.compile(str(r))
            except re.error:
                continue
            yield "http.body", str(r), []
    elif kind == "dsl":
        for expr in m.get("dsl") or []:
            for src, word in _CONTAINS.findall(str(expr)):
                if src in ("body", "title"):
                    flags = "(?i)" if "tolower" in str(expr) else ""
                    yield "http.body", flags + re.escape(word), [word]
            for a, b in _MMH3.findall(str(expr)):
                yield "http.favicon.mmh3", f"^{re.escape(a or b)}$", [a or b]


def convert_template(data: Any, path: str) -> tuple[list[Rule], str | None]:
    """(rules, None) for a template with passive matchers of a known vendor - one rule per
    matcher, the template id kept in each - else ([], why)."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return [], f"{path}: not a template"
    tid = data["id"]
    info = data.get("info") or {}
    vendor = _vendor(info)
    if vendor is None:
        return [], f"{path}: vendor not in the registry"
    found: list[tuple[str, str, list[str]]] = []
    meta = info.get("metadata") or {}
    queries = meta.get("shodan-query") or []
    for query in queries if isinstance(queries, list) else [queries]:
        for h in _SHODAN_FAVICON.findall(str(query)):
            found.append(("http.favicon.mmh3", f"^{re.escape(h)}$", [h]))
    requests = data.get("http") or data.get("requests") or []
    if not isinstance(requests, list):
        return [], f"{path}: unexpected http section"
    for req in requests:
        if not isinstance(req, dict) or req.get("raw"):
            continue
        for m in req.get("matchers") or []:
            if isinstance(m, dict) and m.get("type") != "status" and not m.get("negative"):
                found.extend(_matcher_parts(m))
    if not found:
        return [], f"{path}: no passive matcher"
    rules: list[Rule] = []
    seen: set[tuple[str, str]] = set()
    for source, pattern, examples in found:
        if (source, pattern) in seen:
            continue
        seen.add((source, pattern))
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            return [], f"{path}: pattern does not compile ({exc})"
        n = len(rules) + 1
        rules.append(
            Rule(
                id=f"nuclei.{tid}".lower() + ("" if n == 1 else f".{n}"),
                sources=(source,),
                regex=regex,
                weight=NUCLEI_WEIGHT,
                fixed=(("vendor", vendor),),
                description=str(info.get("name") or tid),
                references=(f"nuclei-templates {path} (template id {tid}, MIT)",),
                examples=tuple(
                    Example(input=e, expect=(("vendor", vendor),), origin=f"nuclei:{tid}")
                    for e in examples
                ),
                origin=f"nuclei:{path}",
            )
        )
    return rules, None


def _files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    folders = [root / f for f in FOLDERS if (root / f).is_dir()] or [root]
    for folder in folders:
        yield from sorted(folder.rglob("*.yaml"))


def load_nuclei(root: Path) -> tuple[list[Rule], list[str]]:
    """Rules from a nuclei-templates checkout (or one template file), and notes on what was
    left out. A file that is no readable YAML is a note, never an error."""
    rules: list[Rule] = []
    notes: list[str] = []
    seen: set[str] = set()
    for path in _files(Path(root)):
        rel = str(path.relative_to(root)) if path != root else path.name
        try:
            if path.stat().st_size > MAX_TEMPLATE:
                notes.append(f"{rel}: larger than {MAX_TEMPLATE} bytes")
                continue
            data = yaml.load(path.read_text("utf-8"), Loader=_YAML_LOADER)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            notes.append(f"{rel}: unreadable ({type(exc).__name__})")
            continue
        converted, why = convert_template(data, rel)
        if not converted:
            notes.append(why or rel)
        for rule in converted:
            if rule.id in seen:
                notes.append(f"{rel}: duplicate id {rule.id}")
            else:
                seen.add(rule.id)
                rules.append(rule)
    return rules, notes


def shipped_nuclei() -> list[Rule]:
    """Rules of the curated templates shipped with routerwatch (nuclei_templates/)."""
    return load_nuclei(SHIPPED)[0]


def check_env() -> Path | None:
    """The folder or template file ROUTERWATCH_NUCLEI_TEMPLATES names (None when unset);
    RuleError with one line naming the variable when it is no readable folder or .yaml file."""
    root = os.environ.get(ENV_VAR)
    if not root:
        return None
    path = Path(root)
    try:
        if path.is_dir():
            os.listdir(path)
            return path
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            path.open("rb").close()
            return path
    except OSError as exc:
        raise RuleError(f"{ENV_VAR}={root!r}: cannot read it ({exc.strerror or exc})") from None
    if not path.exists():
        raise RuleError(f"{ENV_VAR}={root!r}: no such file or folder")
    raise RuleError(f"{ENV_VAR}={root!r}: neither a folder nor a .yaml template")


def env_stamp() -> str:
    """What the rule cache must know of the checkout: its path, how many templates it holds and
    the newest modification time (editing, adding or removing a template changes it)."""
    root = check_env()
    if root is None:
        return ""
    count, newest = 0, 0
    for path in _files(root):
        try:
            newest = max(newest, path.stat().st_mtime_ns)
        except OSError:
            continue
        count += 1
    return f"{root.resolve()}:{count}:{newest}"


def nuclei_from_env(skip: Iterable[str] = ()) -> list[Rule]:
    """Rules of the checkout named by ROUTERWATCH_NUCLEI_TEMPLATES (none when unset), without
    the rule ids in ``skip`` (the shipped templates' rules)."""
    root = check_env()
    if root is None:
        return []
    known = set(skip)
    return [r for r in load_nuclei(root)[0] if r.id not in known]
