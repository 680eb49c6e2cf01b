"""The report's pictures: inline SVG line charts and the icicle of live bytes, drawn in Python.

Why inline SVG from Python rather than a JS charting library: the report must open offline
from a mail attachment or CI artefact, stay small (< 2 MB for a long test), and need no
third-party code review. Every string from the log or the ELF is escaped with ``esc`` before
it reaches the markup.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from html import escape

#: Series colours (colour-blind friendly, Okabe–Ito), then repeated.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7f7f7f",
           "#000000", "#f0e442")

#: Above this many points per series, points are thinned (the line keeps its shape).
MAX_POINTS = 600


def esc(value: object) -> str:
    """HTML/SVG-escape any value (quotes included, so it is safe in attributes too)."""
    return escape(str(value), quote=True)


def human_bytes(value: float | int | None) -> str:
    """Bytes for people: 1 234 B, 12.3 KiB."""
    if value is None:
        return "–"
    v = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(v) < 1024 or unit == "GiB":
            return f"{v:,.0f} {unit}" if unit == "B" else f"{v:,.1f} {unit}"
        v /= 1024
    return f"{v:.1f} GiB"  # pragma: no cover - loop always returns


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(low / step) * step
    ticks = []
    v = start
    while v <= high + step * 1e-9:
        if v >= low - step * 1e-9:
            ticks.append(round(v, 10))
        v += step
    return ticks


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _tick_label(v: float, as_bytes: bool) -> str:
    if as_bytes:
        return human_bytes(v)
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


@dataclass(slots=True)
class Series:
    """One line of a chart; ``None`` values leave a gap."""

    name: str
    xs: list[float]
    ys: list[float | None]
    color: str | None = None
    dash: str | None = None
    css: str = "series"
    width: float = 2.0
    points: bool = False


@dataclass(slots=True)
class LineChart:
    """A line chart with axes, ticks, legend and optional overlays (bands, markers)."""

    chart_id: str
    title: str
    x_label: str
    y_bytes: bool = True
    width: int = 1000
    height: int = 330
    series: list[Series] = field(default_factory=list)
    #: (x0, x1, label, css class): shaded vertical bands (warm-up, forecast interval)
    bands: list[tuple[float, float, str, str]] = field(default_factory=list)
    #: (x, y, label, css class): point markers (forecast exhaustion)
    markers: list[tuple[float, float, str, str]] = field(default_factory=list)
    #: (x, label): vertical rules (events such as a crash)
    rules: list[tuple[float, str]] = field(default_factory=list)
    y_min: float | None = None
    margin: tuple[int, int, int, int] = (16, 20, 42, 86)  # top, right, bottom, left

    def _domain(self) -> tuple[float, float, float, float]:
        xs = [x for s in self.series for x in s.xs]
        ys = [y for s in self.series for y in s.ys if y is not None]
        xs += [b[0] for b in self.bands] + [b[1] for b in self.bands]
        xs += [m[0] for m in self.markers] + [r[0] for r in self.rules]
        ys += [m[1] for m in self.markers]
        xs = [x for x in xs if math.isfinite(x)]
        ys = [y for y in ys if math.isfinite(y)]
        x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
        y0, y1 = (min(ys), max(ys)) if ys else (0.0, 1.0)
        if self.y_min is not None:
            y0 = min(y0, self.y_min)
        if x1 == x0:
            x0, x1 = x0 - 0.5, x1 + 0.5
        if y1 == y0:
            y1 = y0 + 1
        pad = (y1 - y0) * 0.05
        return x0, x1, max(y0 - pad, 0) if y0 >= 0 else y0 - pad, y1 + pad

    def render(self) -> str:
        top, right, bottom, left = self.margin
        w, h = self.width, self.height
        pw, ph = w - left - right, h - top - bottom
        x0, x1, y0, y1 = self._domain()

        def sx(x: float) -> float:
            return left + (x - x0) / (x1 - x0) * pw

        def sy(y: float) -> float:
            return top + ph - (y - y0) / (y1 - y0) * ph

        out = [
            f'<svg class="chart" data-chart="{esc(self.chart_id)}" viewBox="0 0 {w} {h}" '
            f'width="100%" role="img" aria-label="{esc(self.title)}" '
            f'xmlns="http://www.w3.org/2000/svg">',
            f"<title>{esc(self.title)}</title>",
        ]
        for bx0, bx1, label, css in self.bands:
            a, b = sorted((sx(bx0), sx(bx1)))
            out.append(
                f'<rect class="{esc(css)}" x="{_num(a)}" y="{top}" width="{_num(max(b - a, 1))}" '
                f'height="{ph}"><title>{esc(label)}</title></rect>'
            )
        # grid and axes
        for t in nice_ticks(y0, y1):
            y = sy(t)
            out.append(f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{_num(y)}" '
                       f'y2="{_num(y)}"/>')
            out.append(f'<text class="tick" x="{left - 6}" y="{_num(y + 4)}" '
                       f'text-anchor="end">{esc(_tick_label(t, self.y_bytes))}</text>')
        for t in nice_ticks(x0, x1, 8):
            x = sx(t)
            out.append(f'<line class="grid" x1="{_num(x)}" x2="{_num(x)}" y1="{top}" '
                       f'y2="{top + ph}"/>')
            out.append(f'<text class="tick" x="{_num(x)}" y="{top + ph + 16}" '
                       f'text-anchor="middle">{esc(_tick_label(t, False))}</text>')
        out.append(f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}"/>')
        out.append(f'<text class="axis" x="{left + pw / 2:.0f}" y="{h - 6}" '
                   f'text-anchor="middle">{esc(self.x_label)}</text>')
        for x, label in self.rules:
            out.append(f'<line class="rule" x1="{_num(sx(x))}" x2="{_num(sx(x))}" y1="{top}" '
                       f'y2="{top + ph}"><title>{esc(label)}</title></line>')
        for i, s in enumerate(self.series):
            color = s.color or PALETTE[i % len(PALETTE)]
            out.extend(self._polylines(s, color, sx, sy))
        for x, y, label, css in self.markers:
            out.append(f'<circle class="{esc(css)}" cx="{_num(sx(x))}" cy="{_num(sy(y))}" r="6">'
                       f"<title>{esc(label)}</title></circle>")
        out.append("</svg>")
        legend = "".join(
            f'<span class="key"><i style="background:{esc(s.color or PALETTE[i % len(PALETTE)])}'
            f'"></i>{esc(s.name)}</span>'
            for i, s in enumerate(self.series)
        )
        return f'<figure class="chartbox">{"".join(out)}<figcaption>{legend}</figcaption></figure>'

    def _polylines(self, s: Series, color: str, sx, sy) -> list[str]:  # noqa: ANN001
        pts = list(zip(s.xs, s.ys, strict=False))
        if len(pts) > MAX_POINTS:
            step = math.ceil(len(pts) / MAX_POINTS)
            pts = pts[::step] + ([pts[-1]] if (len(pts) - 1) % step else [])
        runs: list[list[tuple[float, float]]] = [[]]
        for x, y in pts:
            if y is None or not math.isfinite(y) or not math.isfinite(x):
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((x, y))
        dash = f' stroke-dasharray="{esc(s.dash)}"' if s.dash else ""
        out = []
        for run in runs:
            if not run:
                continue
            coords = " ".join(f"{_num(sx(x))},{_num(sy(y))}" for x, y in run)
            out.append(
                f'<polyline class="{esc(s.css)}" data-series="{esc(s.name)}" fill="none" '
                f'stroke="{esc(color)}" stroke-width="{s.width}"{dash} points="{coords}">'
                f"<title>{esc(s.name)}</title></polyline>"
            )
            if s.points and len(run) <= 120:
                out.extend(
                    f'<circle class="pt" cx="{_num(sx(x))}" cy="{_num(sy(y))}" r="2.5" '
                    f'fill="{esc(color)}"><title>{esc(s.name)}: {esc(_fmt_xy(x, y))}</title>'
                    f"</circle>"
                    for x, y in run
                )
        return out


def _fmt_xy(x: float, y: float) -> str:
    return f"x={x:g}, {human_bytes(y)}"


# --------------------------------------------------------------------------------------------
# Icicle (a top-down flame graph) of weighted stacks


@dataclass(slots=True)
class _Node:
    name: str
    value: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def frame_color(name: str) -> str:
    """A stable warm colour per frame name (same function, same colour everywhere)."""
    h = int.from_bytes(hashlib.blake2s(name.encode("utf-8", "replace"), digest_size=2).digest(),
                       "big")
    return f"hsl({10 + h % 45},{70 + h % 20}%,{58 + (h >> 8) % 14}%)"


def icicle(
    stacks: list[tuple[tuple[str, ...], int]],
    *,
    width: int = 1200,
    row: int = 20,
    max_depth: int = 48,
    min_px: float = 0.5,
) -> str:
    """Icicle SVG: the root (all live bytes) on top, callees below; width ∝ bytes.

    Nodes narrower than ``min_px`` are not drawn (they still count in their parent), which
    bounds the file size whatever the number of distinct stacks.
    """
    root = _Node("all live bytes")
    for stack, weight in stacks:
        root.value += weight
        node = root
        for frame in stack[:max_depth]:
            node = node.children.setdefault(frame, _Node(frame))
            node.value += weight
    if root.value <= 0:
        return '<p class="muted">No live bytes to draw.</p>'
    rects: list[str] = []
    depth_max = 0
    scale = width / root.value

    def walk(node: _Node, x: float, depth: int) -> None:
        nonlocal depth_max
        w = node.value * scale
        if w < min_px:
            return
        depth_max = max(depth_max, depth)
        share = node.value / root.value
        tip = f"{node.name}\n{human_bytes(node.value)} ({share:.1%} of live bytes)"
        chars = int((w - 6) / 6.6)
        label = ""
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[: chars - 1] + "…"
            label = f'<text x="{_num(x + 3)}" y="{depth * row + 14}">{esc(text)}</text>'
        fill = "#c9d3df" if depth == 0 else frame_color(node.name)
        if not label:
            label = f'<text x="{_num(x + 3)}" y="{depth * row + 14}"></text>'
        rects.append(
            f'<g class="frame-node" data-x="{x / width:.6f}" data-w="{w / width:.6f}" '
            f'data-d="{depth}" data-name="{esc(node.name)}"><rect x="{_num(x)}" '
            f'y="{depth * row}" width="{_num(w)}" height="{row - 1}" fill="{fill}"/>{label}'
            f"<title>{esc(tip)}</title></g>"
        )
        cx = x
        for child in sorted(node.children.values(), key=lambda c: (-c.value, c.name)):
            walk(child, cx, depth + 1)
            cx += child.value * scale

    walk(root, 0.0, 0)
    h = (depth_max + 1) * row
    return (
        f'<svg class="chart icicle" data-chart="icicle" data-width="{width}" '
        f'viewBox="0 0 {width} {h}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Live bytes by allocation stack</title>'
        + "".join(rects) + "</svg>"
    )


def bar(share: float) -> str:
    """A tiny inline share bar for table cells."""
    pct = max(0.0, min(1.0, share)) * 100
    return f'<span class="bar"><i style="width:{pct:.1f}%"></i></span>'
