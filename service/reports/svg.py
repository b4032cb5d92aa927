"""A tiny server-side SVG bar chart (no JavaScript, no library): grouped horizontal bars.

Presentation attributes only (no ``style``), so the kiosk's Content-Security-Policy (no inline
styles) lets it render; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE: tuple[str, ...] = ("#1f6f8b", "#e07a1f", "#3c9d4b", "#8e44ad", "#c0392b")


def _num(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}".replace(".", ",") + "%"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def bar_chart(title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
              percent: bool = False, width: int = 760, test_id: str | None = None) -> str:
    """An SVG with one group of bars per category, one bar (and its value) per series, and a legend.

    ``percent``: values are fractions 0..1 drawn on a 0–100 % scale; else the scale is the largest value.
    """
    label_w, bar_h, gap, top, value_w = 290, 14, 10, 48, 56
    group_h = bar_h * max(1, len(series)) + gap
    height = top + group_h * max(1, len(categories)) + 10
    plot_w = width - label_w - value_w - 10
    peak = 1.0 if percent else max([v for _, vals in series for v in vals] + [1.0])
    tid = f' data-testid="{escape(test_id)}"' if test_id else ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}"{tid} aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="16" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>']
    x = 0
    for i, (name, _) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="26" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="37" font-size="12" fill="#222">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    if not categories:
        parts.append(f'<text x="{label_w}" y="{top + 12}" font-size="12" fill="#666">Không có số liệu</text>')
    for j, cat in enumerate(categories):
        y0 = top + j * group_h
        short = cat if len(cat) <= 42 else cat[:41] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y0 + group_h / 2}" font-size="12" text-anchor="end" '
                     f'fill="#222">{escape(short)}</text>')
        for i, (_, vals) in enumerate(series):
            v = float(vals[j]) if j < len(vals) else 0.0
            w = 0.0 if peak <= 0 else max(0.0, min(1.0, v / peak)) * plot_w
            y = y0 + i * bar_h
            parts.append(f'<rect class="chart-bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(_num(v, percent))}</title></rect>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 4}" font-size="11" '
                         f'fill="#222">{escape(_num(v, percent))}</text>')
    parts.append("</svg>")
    return "".join(parts)
