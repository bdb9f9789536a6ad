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
    desc: str = "",
) -> Markup:
    """A horizontal (optionally stacked) bar chart as an ``<svg>`` element (``desc``: its
    ``<desc>``, read by screen readers after the title)."""
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
    if desc:
        out.append(f"<desc>{escape(desc)}</desc>")
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


def line_chart(
    labels: list[str],
    series: list[tuple[str, str, list[int] | list[float | None] | list[int | None]]],
    *,
    title: str,
    desc: str = "",
    unit: str = "",
    width: int = 640,
    height: int = 220,
    empty: str = "Nothing to show.",
) -> Markup:
    """A line chart (one ``(name, color, values)`` per line; None leaves a gap) as ``<svg>``.

    The x axis shows the first, middle and last label; each point has a ``<title>`` tooltip.
    """
    values = [v for _n, _c, vs in series for v in vs if v is not None]
    if not labels or not values:
        return Markup('<p class="empty">{}</p>').format(empty)
    left, right, top, bottom = 48, 12, 30, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(values) or 1
    step = plot_w / max(len(labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - plot_h * v / peak

    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if desc:
        out.append(f"<desc>{escape(desc)}</desc>")
    lx = left
    for name, color, _vs in series:
        out.append(f'<rect x="{lx}" y="6" width="12" height="12" rx="2" fill="{escape(color)}"/>'
                   f'<text x="{lx + 17}" y="17" {FONT} fill="#374151">{escape(name)}</text>')
        lx += 30 + 8 * len(name)
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h - plot_h * frac
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   'stroke="#d1d5db" stroke-width="1"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" {FONT} text-anchor="end" '
                   f'fill="#374151">{_num(peak * frac)}{escape(unit)}</text>')
    for i in sorted({0, len(labels) // 2, len(labels) - 1}):
        x, _y = xy(i, 0)
        anchor = "start" if i == 0 else "end" if i == len(labels) - 1 else "middle"
        out.append(f'<text x="{x:.1f}" y="{height - 8}" {FONT} text-anchor="{anchor}" '
                   f'fill="#374151">{escape(printable(labels[i]))}</text>')
    for name, color, vs in series:
        path: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                path.append("")
                continue
            x, y = xy(i, float(v))
            path.append(f"{x:.1f},{y:.1f}")
        for run in " ".join(path).split("  "):
            if run.strip():
                out.append(f'<polyline points="{run.strip()}" fill="none" '
                           f'stroke="{escape(color)}" stroke-width="2.5"/>')
        for i, v in enumerate(vs):
            if v is None:
                continue
            x, y = xy(i, float(v))
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{escape(color)}">'
                       f"<title>{escape(printable(labels[i]))}: {escape(name)} "
                       f"{_num(float(v))}{escape(unit)}</title></circle>")
    out.append("</svg>")
    return Markup("".join(out))


def _num(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
