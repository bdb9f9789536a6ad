"""Citations carried by data files (indicator rules, campaign CVE lists, policies, EOL lists).

A source is ``{publisher, date, url?, title?, checked?, note?}``. ``checked: primary`` (the
default) means the fact was read in the publisher's own text; ``checked: secondary`` means the
primary could not be read and the fact comes from reporting that quotes it — then ``note`` must
say what was and was not confirmed, so nobody mistakes a summary for the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Source", "parse_sources"]

_KEYS = {"publisher", "date", "url", "title", "checked", "note"}


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: publisher, date, address, and how it was checked."""

    publisher: str
    date: str
    url: str | None = None
    title: str | None = None
    checked: str = "primary"  # "primary" or "secondary"
    note: str = ""

    def cite(self) -> str:
        """As a reference: the URL when there is one, else "Publisher, 'Title' (date)"."""
        if self.url:
            return self.url
        title = f", '{self.title}'" if self.title else ""
        return f"{self.publisher}{title} ({self.date})"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "publisher": self.publisher,
            "title": self.title,
            "date": self.date,
            "url": self.url,
            "checked": self.checked,
            "note": self.note,
        }


def parse_sources(raw: Any) -> tuple[Source, ...]:
    """Sources from YAML (a list of mappings); ValueError names the entry and field at fault."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("sources must be a list")
    out = []
    for i, s in enumerate(raw):
        at = f"sources #{i + 1}"
        if not isinstance(s, dict):
            raise ValueError(f"{at}: expected a mapping")
        unknown = set(s) - _KEYS
        if unknown:
            raise ValueError(f"{at}: unknown key(s) {sorted(map(str, unknown))}")
        if not s.get("publisher") or not s.get("date"):
            raise ValueError(f"{at}: needs publisher and date")
        checked = str(s.get("checked") or "primary")
        if checked not in ("primary", "secondary"):
            raise ValueError(f"{at}: checked must be primary or secondary")
        if checked == "secondary" and not s.get("note"):
            raise ValueError(f"{at}: a secondary source needs a note saying what was not checked")
        out.append(
            Source(
                publisher=" ".join(str(s["publisher"]).split()),
                date=str(s["date"]),
                url=str(s["url"]) if s.get("url") else None,
                title=" ".join(str(s["title"]).split()) if s.get("title") else None,
                checked=checked,
                note=" ".join(str(s.get("note") or "").split()),
            )
        )
    return tuple(out)
