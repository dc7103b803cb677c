"""Tiny inline-SVG charts for the HTML report: horizontal bar charts and histograms.

Plain SVG markup with every label escaped, so a report needs neither JavaScript nor a plotting library.
Each bar carries a `<title>` with its exact label and value (a browser shows it on hover).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BAR_COLOUR = "#4c78a8"
AXIS_COLOUR = "#555"
FONT = 'font-family="sans-serif" font-size="11"'


@dataclass(frozen=True)
class Bin:
    low: float
    high: float  # exclusive, except for the last bin of a histogram
    count: int
    single: bool = False  # the bin holds one integer value, `low`

    def describe(self) -> str:
        return format_number(self.low) if self.single else f"{format_number(self.low)} to {format_number(self.high)}"


def format_number(value: float) -> str:
    """Integers with thousands separators, other numbers with three significant digits."""
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def histogram_bins(values: Sequence[float], max_bins: int = 20) -> list[Bin]:
    """Equal-width bins over [min, max]; integers spanning at most `max_bins` values get one bin each."""
    if not values:
        return []
    low, high = min(values), max(values)
    single = all(float(v).is_integer() for v in values) and high - low < max_bins
    if single:
        count, width = int(high - low) + 1, 1.0
    else:
        count = max_bins if high > low else 1
        width = (high - low) / count or 1.0
    counts = [0] * count
    for value in values:
        counts[min(int((value - low) / width), count - 1)] += 1
    return [Bin(low + i * width, low + (i + 1) * width, counts[i], single) for i in range(count)]


def bar_chart(bars: Sequence[tuple[str, float]], title: str, label_width: int = 300, bar_width: int = 360) -> str:
    """Horizontal bars in the given order, each with its label on the left and its value at its end."""
    row, top = 22, 24
    height = top + row * max(len(bars), 1) + 8
    width = label_width + bar_width + 80
    parts = [_svg_open(width, height, title, "bar-chart"), _title_text(title)]
    if not bars:
        parts.append(_no_data(label_width, top + 14))
    largest = max((value for _, value in bars), default=0) or 1
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        length = max(bar_width * value / largest, 1 if value else 0)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" {FONT}>{escape(_shorten(label, 48))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{BAR_COLOUR}">'
            f"<title>{escape(label)}: {format_number(value)}</title></rect>"
            f'<text x="{label_width + length + 4:.1f}" y="{y + 14}" {FONT}>{format_number(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float], title: str, x_label: str, max_bins: int = 20) -> str:
    """Vertical columns of counts per bin, bin edges (or single values) under the x axis, the largest count on y."""
    bins = histogram_bins(values, max_bins)
    left, top, plot_width, plot_height = 48, 24, 420, 150
    width, height = left + plot_width + 24, top + plot_height + 44
    parts = [_svg_open(width, height, title, "histogram"), _title_text(title)]
    if not bins:
        parts.append(_no_data(left, top + plot_height // 2))
    tallest = max((b.count for b in bins), default=0) or 1
    column = plot_width / max(len(bins), 1)
    for i, b in enumerate(bins):
        column_height = plot_height * b.count / tallest
        x, y = left + i * column, top + plot_height - column_height
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(column - 2, 1):.1f}" height="{column_height:.1f}" '
            f'fill="{BAR_COLOUR}"><title>{b.describe()}: {b.count:,}</title></rect>'
        )
    axis_y = top + plot_height
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_width}" y2="{axis_y}" stroke="{AXIS_COLOUR}"/>'
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" {FONT}>{tallest if bins else 0:,}</text>'
        f'<text x="{left - 4}" y="{axis_y}" text-anchor="end" {FONT}>0</text>'
    )
    parts.extend(_edge_labels(bins, left, column, axis_y + 14))
    parts.append(
        f'<text x="{left + plot_width / 2}" y="{height - 6}" text-anchor="middle" {FONT}>{escape(x_label)}</text></svg>'
    )
    return "".join(parts)


def _edge_labels(bins: list[Bin], left: float, column: float, y: float) -> list[str]:
    """About five evenly spaced labels: the values under single-value bins, else bin edges, first and last."""
    if not bins:
        return []
    step = max(1, math.ceil(len(bins) / 5))
    if bins[0].single:
        places = [(left + (i + 0.5) * column, bins[i].low) for i in range(0, len(bins), step)]
    else:
        edges = [b.low for b in bins] + [bins[-1].high]
        places = [(left + i * column, edges[i]) for i in sorted({*range(0, len(bins) + 1, step), len(bins)})]
    return [
        f'<text x="{x:.1f}" y="{y}" text-anchor="middle" {FONT}>{format_number(value)}</text>' for x, value in places
    ]


def _svg_open(width: int, height: int, title: str, kind: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    )


def _title_text(title: str) -> str:
    return f'<text x="4" y="14" font-family="sans-serif" font-size="13" font-weight="bold">{escape(title)}</text>'


def _no_data(x: float, y: float) -> str:
    return f'<text x="{x}" y="{y}" {FONT} fill="{AXIS_COLOUR}">no data</text>'


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
