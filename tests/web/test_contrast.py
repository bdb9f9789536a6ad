"""The dashboard's colours keep WCAG AA contrast (4.5:1 for text), read from its stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

import routerwatch.server.web

CSS = (Path(routerwatch.server.web.__file__).parent / "static" / "app.css").read_text()


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _ratio(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _var(name: str) -> str:
    m = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS)
    assert m, name
    return m.group(1)


def test_text_colours_meet_aa() -> None:
    badges = re.findall(r"\.risk-\w+ \{ background: (#[0-9a-f]{6}); \}", CSS)
    assert len(badges) == 4  # critical, high, medium, low: white text on each
    pairs = [("#ffffff", b) for b in badges]
    pairs += [(_var("fg"), _var("bg")), (_var("muted"), _var("bg")),
              (_var("accent"), _var("bg")), (_var("bad"), _var("bad-bg")),
              (_var("fg"), _var("warn-bg")), (_var("muted"), "#f3f4f6")]
    low = [(a, b, round(_ratio(a, b), 2)) for a, b in pairs if _ratio(a, b) < 4.5]
    assert not low, low
