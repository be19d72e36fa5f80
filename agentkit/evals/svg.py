"""Small inline SVG charts for the HTML report (no JavaScript, no external files).

Every label is HTML-escaped: category names and the like come from data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 420, 220
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 28, 40
BAR = "#4c78a8"


def _fmt(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 10_000:
        return f"{value:.3g}"
    return f"{value:.2e}"


def bins_of(values: Sequence[float], count: int = 20) -> tuple[list[float], list[int]]:
    """Bin edges (``count + 1``) and counts of ``values``."""
    low, high = min(values), max(values)
    if high == low:
        high = low + (abs(low) or 1.0) * 1e-6 + 1e-9
    width = (high - low) / count
    counts = [0] * count
    for v in values:
        counts[min(int((v - low) / width), count - 1)] += 1
    return [low + i * width for i in range(count + 1)], counts


def histogram(values: Sequence[float], title: str, xlabel: str = "", count: int = 20) -> str:
    """A histogram of ``values`` as an ``<svg>`` element."""
    finite = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not finite:
        return ""
    edges, counts = bins_of(finite, count)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max(counts) or 1
    bar_w = plot_w / len(counts)
    parts = [_open(title)]
    for i, c in enumerate(counts):
        h = plot_h * c / peak
        x, y = LEFT + i * bar_w, TOP + plot_h - h
        tip = f"{_fmt(edges[i])} to {_fmt(edges[i + 1])}: {c}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
            f'fill="{BAR}"><title>{escape(tip)}</title></rect>'
        )
    parts += _axes(plot_w, plot_h, peak)
    parts.append(_text(LEFT, HEIGHT - 22, _fmt(edges[0]), "start"))
    parts.append(_text(WIDTH - RIGHT, HEIGHT - 22, _fmt(edges[-1]), "end"))
    parts.append(_text(LEFT + plot_w / 2, HEIGHT - 6, xlabel or title, "middle"))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str) -> str:
    """Horizontal bars, one per label, as an ``<svg>`` element."""
    if not labels:
        return ""
    row = 18
    label_w = 150
    height = TOP + row * len(labels) + 16
    plot_w = WIDTH - label_w - RIGHT - 40
    peak = max((abs(v) for v in values), default=1.0) or 1.0
    parts = [_open(title, height)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * row
        w = plot_w * abs(value) / peak
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(_text(label_w - 6, y + 13, short, "end", full=label))
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 5}" fill="{BAR}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
        )
        parts.append(_text(label_w + w + 4, y + 13, _fmt(value), "start"))
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="bold">{escape(title)}</text>'
    )


def _axes(plot_w: float, plot_h: float, peak: int) -> list[str]:
    base = TOP + plot_h
    return [
        f'<line x1="{LEFT}" y1="{base}" x2="{LEFT + plot_w}" y2="{base}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#333"/>',
        _text(LEFT - 4, TOP + 10, str(peak), "end"),
        _text(LEFT - 4, base, "0", "end"),
    ]


def _text(x: float, y: float, text: str, anchor: str, full: str | None = None) -> str:
    tip = f"<title>{escape(full)}</title>" if full and full != text else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11">'
        f"{tip}{escape(text)}</text>"
    )
