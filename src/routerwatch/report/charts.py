"""Inline SVG bar charts drawn in Python (no JavaScript, nothing fetched).

Every label is escaped here: vendor names and action texts come from devices and rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from routerwatch.report.text import printable, shorten

FONT = 'font-family="inherit" font-size="13"'


@dataclass(frozen=True)
class Segment:
    value: int
    color: str
    name: str


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


def bar_chart(
    bars: list[Bar],
    *,
    title: str,
    legend: list[tuple[str, str]] | None = None,
    width: int = 520,
    label_width: int = 150,
    empty: str = "Nothing to show.",
) -> Markup:
    """A horizontal (optionally stacked) bar chart as an ``<svg>`` element."""
    if not bars or all(b.total == 0 for b in bars):
        return Markup('<p class="empty">{}</p>').format(empty)
    row_h, bar_h, top = 30, 18, 8
    legend_h = 26 if legend else 0
    height = top + legend_h + row_h * len(bars) + 6
    plot_w = width - label_width - 48
    peak = max(b.total for b in bars) or 1
    out: list[str] = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if legend:
        lx = label_width
        for name, color in legend:
            out.append(
                f'<rect x="{lx}" y="{top}" width="12" height="12" rx="2" fill="{escape(color)}"/>'
                f'<text x="{lx + 17}" y="{top + 11}" {FONT} fill="#374151">{escape(name)}</text>'
            )
            lx += 24 + 8 * len(name)
    y0 = top + legend_h
    for i, bar in enumerate(bars):
        y = y0 + i * row_h
        label = escape(shorten(printable(bar.label), 22))
        full = escape(printable(bar.label))
        out.append(
            f'<text x="{label_width - 8}" y="{y + bar_h - 4}" {FONT} text-anchor="end" '
            f'fill="#111827"><title>{full}</title>{label}</text>'
        )
        out.append(
            f'<rect x="{label_width}" y="{y}" width="{plot_w}" height="{bar_h}" rx="3" '
            'fill="#f3f4f6"/>'
        )
        x = float(label_width)
        for seg in bar.segments:
            if seg.value <= 0:
                continue
            w = max(plot_w * seg.value / peak, 2.0)
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{escape(seg.color)}"><title>{escape(seg.name)}: {seg.value}</title></rect>'
            )
            x += w
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + bar_h - 4}" {FONT} font-weight="600" '
            f'fill="#111827">{bar.total}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))
