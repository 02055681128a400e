"""Tiny inline-SVG charts for the HTML report (no plotting library needed).

Two shapes cover every plot: horizontal bars with optional interval whiskers and a
baseline tick (:func:`hbars`), and vertical columns for counts and histograms
(:func:`columns`). Output is a self-contained ``<svg>`` string; every label is
escaped. This module knows nothing about metrics or reports.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

log = logging.getLogger(__name__)

BLUE, RED, GREEN, AMBER = "#3b6fb6", "#c0392b", "#2e8b57", "#d68910"
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: value, optional interval and baseline value."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    baseline: float | None = None
    color: str = BLUE
    text: str = ""


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" {_FONT}>'
    )
    background = '<rect width="100%" height="100%" fill="#fff"/>'  # readable on dark pages
    caption = f'<text x="4" y="16" font-weight="bold">{escape(title)}</text>'
    parts = [head, f"<title>{escape(title)}</title>", background, caption, *body, "</svg>"]
    return "\n".join(parts)


def hbars(bars: Sequence[Bar], title: str, max_value: float = 1.0, width: int = 540) -> str:
    """Horizontal bars scaled to *max_value*; whiskers for [low, high]; a tick for baseline."""
    label_w = 12 + 7 * max((len(bar.label) for bar in bars), default=10)
    row_h, top, right = 24, 28, 50
    plot_w = width - label_w - right
    height = top + row_h * len(bars) + 24
    scale = plot_w / max_value if max_value > 0 else 0.0
    body = _grid(label_w, top, plot_w, row_h * len(bars), max_value)
    for i, bar in enumerate(bars):
        body += _hbar(bar, label_w, top + i * row_h, row_h, scale)
    return _svg(width, height, body, title)


def _grid(x0: int, top: int, plot_w: int, plot_h: int, max_value: float) -> list[str]:
    lines = []
    for step in range(5):
        x = x0 + plot_w * step / 4
        value = max_value * step / 4
        label = f"{value:g}" if max_value <= 1 else f"{value:.0f}"
        lines.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#e3e7eb"/>'
        )
        lines.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#555">'
            f"{label}</text>"
        )
    return lines


def _hbar(bar: Bar, x0: int, y: int, row_h: int, scale: float) -> list[str]:
    mid, width = y + row_h / 2, max(bar.value, 0.0) * scale
    parts = [
        f'<text x="{x0 - 6}" y="{mid + 4:.1f}" text-anchor="end">{escape(bar.label)}</text>',
        f'<rect x="{x0}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}" '
        f'fill="{bar.color}" rx="2"/>',
    ]
    if bar.low is not None and bar.high is not None:
        lo, hi = x0 + bar.low * scale, x0 + bar.high * scale
        parts.append(
            f'<path d="M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 5:.1f}V{mid + 5:.1f}'
            f'M{hi:.1f} {mid - 5:.1f}V{mid + 5:.1f}" stroke="#222" stroke-width="1.2"/>'
        )
    if bar.baseline is not None:
        bx = x0 + bar.baseline * scale
        parts.append(
            f'<path d="M{bx:.1f} {y + 1}V{y + row_h - 1}" stroke="{AMBER}" stroke-width="3"/>'
        )
    text = bar.text or f"{bar.value:.2f}"
    right = x0 + max(width, (bar.high or 0) * scale) + 6
    parts.append(f'<text x="{right:.1f}" y="{mid + 4:.1f}">{escape(text)}</text>')
    return parts


def columns(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    *,
    colors: Sequence[str] | None = None,
    width: int = 540,
    height: int = 220,
) -> str:
    """Vertical columns with their value on top (counts, histograms)."""
    top, bottom, left = 44, 40, 36
    plot_h, plot_w = height - top - bottom, width - left - 10
    peak = max(values, default=0) or 1
    slot = plot_w / max(len(values), 1)
    axis_y = top + plot_h
    body = [f'<line x1="{left}" y1="{axis_y}" x2="{width - 10}" y2="{axis_y}" stroke="#888"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / peak
        x = left + i * slot + slot * 0.15
        color = colors[i] if colors else BLUE
        body += [
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{color}" rx="2"/>',
            f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h - h - 4:.1f}" '
            f'text-anchor="middle">{value:g}</text>',
            f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{escape(label)}</text>',
        ]
    return _svg(width, height, body, title)
