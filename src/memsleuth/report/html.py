"""The self-contained HTML report: inline SVG charts drawn in Python, one tiny script.

Why inline SVG from Python rather than a JS charting library: the report must open offline
from a mail attachment or CI artefact, stay small (< 2 MB for a long test), and need no
third-party code review. The only JavaScript sorts tables and records its own errors into
``data-errors`` (and ``data-ok="1"`` when it ran), which the headless-browser test reads.

Every string from the log or the ELF is escaped with ``esc`` before it reaches the markup;
a Content-Security-Policy forbids any fetch, so even a missed escape could not load anything.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from typing import Any

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


# ============================================================================================
# The report page


def _template(name: str) -> str:
    return resources.files("memsleuth.report").joinpath("templates", name).read_text("utf-8")


def _hex(v: int | None) -> str:
    return "–" if v is None else f"0x{v:08x}"


def _card(key: str, value: str, title: str = "") -> str:
    t = f' title="{esc(title)}"' if title else ""
    return (f'<div class="card"{t}><div class="k">{esc(key)}</div>'
            f'<div class="v">{esc(value)}</div></div>')


def _section(sid: str, title: str, body: str) -> str:
    return (f'<section id="{esc(sid)}" data-section="{esc(sid)}">'
            f"<h2>{esc(title)}</h2>{body}</section>")


def _th(label: str, numeric: bool = False) -> str:
    return f'<th class="n">{esc(label)}</th>' if numeric else f"<th>{esc(label)}</th>"


def _td_num(v: float | int | None, text: str | None = None, css: str = "n") -> str:
    if v is None:
        return f'<td class="{css}" data-v="">–</td>'
    shown = text if text is not None else (f"{v:,}" if isinstance(v, (int, float)) else str(v))
    return f'<td class="{css}" data-v="{esc(v)}">{esc(shown)}</td>'


def _td_delta(v: int, text: str) -> str:
    return _td_num(v, text, "n pos" if v > 0 else "n neg")


def _bad_tag(text: str) -> str:
    return f'<span class="tag bad">{esc(text)}</span>'


def _signed_bytes(v: int) -> str:
    return ("+" if v > 0 else "") + (human_bytes(v) if abs(v) >= 1024 else f"{v:,} B")


def _where(d: dict[str, Any]) -> str:
    if d.get("file") and d.get("line"):
        return f"{str(d['file']).rsplit('/', 1)[-1]}:{d['line']}"
    return ""


def render_html(data: dict[str, Any]) -> str:
    """The whole report as one self-contained HTML string (CSS and JS inlined, no fetches).

    ``data`` is the plain dict built by ``memsleuth.commands.report.build_report``; every
    section is drawn only when its data is there, so a log with only overviews still gives a
    useful page.
    """
    parts = [
        _summary(data),
        _heap_section(data),
        _growth_section(data),
        _census_section(data),
        _diff_section(data),
        _objects_section(data),
        _crash_section(data),
    ]
    body_sections = [p for p in parts if p]
    toc = "".join(
        f'<a href="#{sid}">{esc(title)}</a>' for sid, title in _TOC if f'id="{sid}"' in
        "".join(body_sections)
    )
    body = (
        _header(data)
        + f'<nav class="toc">{toc}</nav><main>'
        + "".join(body_sections)
        + f'<footer>Generated by memsleuth {esc(data.get("version", ""))}'
        + (f' on {esc(data["generated"])}' if data.get("generated") else "")
        + ". Self-contained: no network access needed.</footer></main>"
    )
    log_name = str((data.get("log") or {}).get("path", "log")).rsplit("/", 1)[-1]
    page = _template("report.html")
    # Body last: it is the only part that carries log-derived text, and it is escaped.
    for marker, value in (
        ("@@VERSION@@", esc(data.get("version", ""))),
        ("@@TITLE@@", esc(f"memsleuth report: {log_name}")),
        ("@@CSS@@", _template("report.css")),
        ("@@JS@@", _template("report.js")),
        ("@@BODY@@", body),
    ):
        page = page.replace(marker, value, 1)
    return page


_TOC = (
    ("summary", "Summary"), ("heap", "Heap over time"), ("growth", "Growth per site"),
    ("census", "Census"), ("flame", "Live bytes by stack"), ("diff", "First → last dump"),
    ("objects", "Object balance"), ("crash", "Crash"),
)


def _header(data: dict[str, Any]) -> str:
    log = data.get("log") or {}
    elf = data.get("elf")
    rows = [("Log", f"{log.get('path', '?')}  ({log.get('lines', 0):,} lines, "
                    f"{human_bytes(log.get('bytes'))})")]
    if elf:
        ident = []
        if elf.get("build_id"):
            ident.append(f"build-id {elf['build_id']}")
        if elf.get("sha256"):
            ident.append(f"sha256 {elf['sha256'][:16]}…")
        rows.append(("ELF", f"{elf.get('path')}" + (f"  ({', '.join(ident)})" if ident else "")))
        match = elf.get("match") or {}
        if match.get("verdict"):
            rows.append(("ELF match", f"{match['verdict']}"
                         + (f": {match['reason']}" if match.get("reason") else "")))
    else:
        rows.append(("ELF", "none given: addresses are shown raw"))
    sections = (log.get("sections") or {})
    if sections:
        rows.append(("Sections", ", ".join(f"{n} {k}" for k, n in sorted(sections.items()))))
    meta = "".join(f"<b>{esc(k)}</b><span class=\"mono\">{esc(v)}</span>" for k, v in rows)
    notes = data.get("notes") or []
    note_html = ""
    if notes:
        note_html = ('<details open><summary>Partial or skipped ('
                     f'{len(notes)})</summary><ul class="notes">'
                     + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul></details>")
    return (f'<header class="top" data-section="header"><h1>memsleuth report</h1>'
            f'<div class="meta">{meta}</div></header>'
            + (f'<div class="notesbox" data-section="notes">{note_html}</div>'
               if note_html else ""))


def _summary(data: dict[str, Any]) -> str:
    verdicts: list[tuple[str, str]] = []
    trend = data.get("trend") or {}
    if trend.get("verdict_text"):
        verdicts.append((trend.get("verdict_css", ""), trend["verdict_text"]))
    decline = data.get("decline") or {}
    if decline.get("text"):
        verdicts.append(("warn", f"Decline explained: {decline['text']}"))
    objects = data.get("objects") or {}
    for line in (objects.get("summary") or [])[:4]:
        verdicts.append(("warn" if objects.get("leaks") else "", f"Objects: {line}"))
    for crash in data.get("crashes") or []:
        cause = (crash.get("cause") or {}).get("summary") or crash.get("kind", "crash")
        verdicts.append(("bad", f"Crash at line {crash.get('line')}: {cause}"))
    cards = []
    heap = data.get("heap")
    if heap:
        cards.append(_card("Heap free (newest)", human_bytes(heap.get("free")),
                           f"overview at line {heap.get('line')}"))
        cards.append(_card("Heap used", human_bytes(heap.get("used"))
                           + (f" ({heap['used_share']:.0%})" if heap.get("used_share") else "")))
        if heap.get("min_free") is not None:
            cards.append(_card("Lowest free ever", human_bytes(heap["min_free"])))
        if heap.get("max_free_block") is not None:
            cards.append(_card("Largest free block", human_bytes(heap["max_free_block"])))
        if heap.get("fragmentation") is not None:
            cards.append(_card("Fragmentation", f"{heap['fragmentation']:.0%}",
                               "1 - largest free block / free"))
    census = data.get("census")
    if census:
        t = census["totals"]
        cards.append(_card("Live blocks (census)", f"{t['used_blocks']:,}"))
        cards.append(_card("Live bytes (census)", human_bytes(t["used_bytes"])))
        cards.append(_card("Allocation sites", f"{t['sites']:,}"))
    log = data.get("log") or {}
    cards.append(_card("Block dumps", f"{len(log.get('block_dumps') or [])}"))
    cards.append(_card("Heap overviews", f"{log.get('overviews', 0)}"))
    if log.get("cycle_markers"):
        cards.append(_card("Cycles", f"{log['cycle_markers']}"))
    if log.get("warnings_total"):
        cards.append(_card("Allocator warnings", f"{log['warnings_total']}"))
    body = "".join(f'<div class="verdict {esc(css)}">{esc(text)}</div>' for css, text in verdicts)
    body += f'<div class="cards">{"".join(cards)}</div>'
    return _section("summary", "Summary", body)


def _heap_section(data: dict[str, Any]) -> str:
    points = data.get("overviews") or []
    if len(points) < 2:     # one overview is no curve: the summary cards already show it
        return ""
    x_kind = data.get("overview_x", "sample")
    xs = [float(p["x"]) for p in points]
    chart = LineChart("heap", "Heap over time", x_label=x_kind)
    chart.series.append(Series("free", xs, [p.get("free") for p in points], PALETTE[0],
                               points=True))
    chart.series.append(Series("used", xs, [p.get("used") for p in points], PALETTE[1]))
    if any(p.get("min_free") is not None for p in points):
        chart.series.append(Series("min free (low-water mark)", xs,
                                   [p.get("min_free") for p in points], PALETTE[2], dash="6 3"))
    if any(p.get("max_free_block") is not None for p in points):
        chart.series.append(Series("largest free block", xs,
                                   [p.get("max_free_block") for p in points], PALETTE[3]))
    if any(p.get("pool_free") is not None for p in points):
        chart.series.append(Series("pool free", xs, [p.get("pool_free") for p in points],
                                   PALETTE[4], dash="2 3"))
    notes: list[str] = []
    trend = data.get("trend") or {}
    fit = trend.get("fit_line")
    if fit:
        chart.series.append(Series("fitted leak line (free)", [fit[0][0], fit[1][0]],
                                   [fit[0][1], fit[1][1]], "#b42318", dash="8 4", width=2.5,
                                   css="fit"))
        if trend.get("slope_text"):
            notes.append(trend["slope_text"])
    warm = trend.get("warmup")
    if warm:
        chart.bands.append((warm[0], warm[1], f"warm-up (excluded from the fit): {x_kind} "
                            f"{warm[0]:g}–{warm[1]:g}", "warmup"))
        notes.append(f"Grey band: warm-up, {x_kind} {warm[0]:g}–{warm[1]:g}, "
                     "excluded from the fit.")
    if trend.get("warmup_text"):
        notes.append(trend["warmup_text"])
    ex = trend.get("exhaustion")
    if ex:
        if ex.get("low") is not None and ex.get("high") is not None:
            chart.bands.append((ex["low"], ex["high"], "forecast interval", "forecast-band"))
        chart.markers.append((ex["x"], ex.get("y", 0.0), ex.get("text", "exhaustion"), "exhaust"))
        notes.append(ex.get("text", ""))
    for x, label in data.get("overview_rules") or []:
        chart.rules.append((x, label))
    if x_kind == "cycle":
        caption = "x axis: cycle (from the cycle markers in the log)."
    else:
        caption = "x axis: heap overview sample, in log order."
    body = chart.render() + "".join(f"<p>{esc(n)}</p>" for n in notes if n)
    body += f'<p class="muted">{esc(caption)}</p>'
    return _section("heap", "Heap over time", body)


def _growth_section(data: dict[str, Any]) -> str:
    growth = data.get("growth")
    if not growth or not growth.get("sites"):
        return ""
    xs = [float(x) for x in growth["x"]]
    chart = LineChart("growth", "Live bytes per allocation site, per dump",
                      x_label=growth.get("x_kind", "dump"))
    for i, site in enumerate(growth["sites"]):
        chart.series.append(Series(site["label"], xs, site["bytes"], PALETTE[i % len(PALETTE)],
                                   points=True))
    rows = "".join(
        f"<tr><td>{esc(s['label'])}</td>{_td_num(s['bytes'][0], human_bytes(s['bytes'][0]))}"
        f"{_td_num(s['bytes'][-1], human_bytes(s['bytes'][-1]))}"
        f"{_td_delta(s['delta'], _signed_bytes(s['delta']))}"
        + (_td_num(s.get("slope"), f"{s['slope']:+,.1f} B") if s.get("slope") is not None
           else '<td class="n" data-v="">–</td>')
        + f"<td>{esc(s.get('pattern') or '')}</td></tr>"
        for s in growth["sites"]
    )
    table = (
        '<table class="sortable" data-table="growth"><thead><tr>'
        + _th("site") + _th("first dump", True) + _th("last dump", True) + _th("Δ bytes", True)
        + _th(f"slope per {growth.get('x_kind', 'dump')}", True) + _th("pattern")
        + f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    note = (f'<p class="muted">Top {len(growth["sites"])} sites by growth over '
            f'{len(xs)} block dumps.</p>')
    return _section("growth", "Growth per allocation site", chart.render() + note + table)


def _census_section(data: dict[str, Any]) -> str:
    census = data.get("census")
    if not census:
        return ""
    snap = census["snapshot"]
    t = census["totals"]
    head = (f'<p>Block dump #{snap["index"]} at line {snap["line"]} ({esc(snap["variant"])})'
            + (_bad_tag("partial: " + (snap.get("partial_reason") or ""))
               if snap.get("partial") else "")
            + f": {t['used_blocks']:,} live blocks, {esc(human_bytes(t['used_bytes']))} in "
            f"{t['sites']:,} sites; "
            + (f"{t['free_blocks']:,} free blocks, {esc(human_bytes(t['free_bytes']))} "
               f"(largest {esc(human_bytes(t['largest_free']))})"
               if t.get("free_listed", True) else "free blocks not listed by this dump")
            + ".</p>")
    rows_html = []
    for r in census["rows"]:
        site = r.get("function") or (f"0x{r['owner']:x}" if r.get("owner") else r["key"])
        where = _where(r)
        extra = ""
        if r.get("chain") and len(r["chain"]) > 1:
            extra = '<div class="chain">' + " ← ".join(esc(c) for c in r["chain"]) + "</div>"
        kind = f'<span class="tag">{esc(r["object_kind"])}</span>' if r.get("object_kind") else ""
        share = r.get("share") or 0.0
        owners = ", ".join(f"0x{o:x}" for o in r.get("owners", [])[:3])
        rows_html.append(
            f"<tr><td>{esc(site)} {kind}{extra}</td><td class=\"mono\">{esc(where)}</td>"
            f"{_td_num(r['blocks'])}"
            f"<td class=\"n\" data-v=\"{r['bytes']}\">{esc(human_bytes(r['bytes']))}"
            f"{bar(share)}</td>"
            + _td_num(round(share * 100, 2), f"{share:.1%}")
            + f"{_td_num(r.get('min_size'))}{_td_num(r.get('max_size'))}"
            + f'<td class="mono">{esc(owners)}</td></tr>'
        )
    more = ""
    if census.get("rows_total", 0) > len(census["rows"]):
        more = (f'<p class="muted">Showing the top {len(census["rows"])} of '
                f'{census["rows_total"]} sites (the rest are in the flame graph and --folded).</p>')
    table = (
        '<table class="sortable" data-table="census"><thead><tr>'
        + _th("site") + _th("file:line") + _th("blocks", True) + _th("bytes", True)
        + _th("share %", True) + _th("min size", True) + _th("max size", True)
        + _th("owner addresses")
        + f'</tr></thead><tbody>{"".join(rows_html)}</tbody></table>'
    )
    corrupted = census.get("corrupted") or []
    corr = ""
    if corrupted:
        items = "".join(
            f"<li>line {c['block']['line']}: block {_hex(c['block']['addr'])} "
            f"({esc(c['block'].get('site') or '?')}), previous "
            f"{esc((c.get('previous') or {}).get('site') or '–')}</li>"
            for c in corrupted[:50]
        )
        corr = f'<h3>Corrupted blocks ({len(corrupted)})</h3><ul class="notes">{items}</ul>'
    out = _section("census", "Census: live blocks per allocation site", head + more + table + corr)
    stacks = data.get("stacks") or []
    if stacks:
        how = ("multi-frame allocation traces (outermost caller on top)"
               if data.get("stacks_traced")
               else "file → function → call site (the log has single owner addresses)")
        flame = (f'<p class="muted">Icicle of live bytes by {esc(how)}. Hover a frame for its '
                 "bytes, click it to zoom in (click the top bar to zoom out); width is "
                 "proportional to live bytes.</p>" + icicle(stacks))
        out += _section("flame", "Live bytes by allocation stack", flame)
    return out


def _diff_section(data: dict[str, Any]) -> str:
    diff = data.get("diff")
    if not diff or not diff.get("rows"):
        return ""
    first, last = diff["before"], diff["after"]

    def where(d: dict[str, Any]) -> str:
        cyc = f", cycle {d['cycle']}" if d.get("cycle") is not None else ""
        return f"#{d['index']} (line {d['line']}{cyc})"

    blocks = ""
    if first.get("used_blocks") is not None and last.get("used_blocks") is not None:
        blocks = f", blocks {first['used_blocks']:,} → {last['used_blocks']:,}"
    head = (f"<p>Block dump {esc(where(first))} → {esc(where(last))}: live bytes "
            f"{esc(human_bytes(first['used_bytes']))} → {esc(human_bytes(last['used_bytes']))} "
            f"(<b>{esc(_signed_bytes(last['used_bytes'] - first['used_bytes']))}</b>)"
            f"{esc(blocks)}.</p>")
    rows = "".join(
        f"<tr><td>{esc(r['label'])}</td><td>{esc(r.get('status', ''))}</td>"
        f"{_td_num(r['blocks_before'])}{_td_num(r['blocks_after'])}"
        + _td_delta(r["blocks_delta"], f"{r['blocks_delta']:+,}")
        + f"{_td_num(r['bytes_before'], human_bytes(r['bytes_before']))}"
        f"{_td_num(r['bytes_after'], human_bytes(r['bytes_after']))}"
        f"{_td_delta(r['bytes_delta'], _signed_bytes(r['bytes_delta']))}"
        "</tr>"
        for r in diff["rows"]
    )
    table = (
        '<table class="sortable" data-table="diff"><thead><tr>' + _th("site") + _th("status")
        + _th("blocks first", True) + _th("blocks last", True) + _th("Δ blocks", True)
        + _th("bytes first", True) + _th("bytes last", True) + _th("Δ bytes", True)
        + f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    more = ""
    if diff.get("rows_total", 0) > len(diff["rows"]):
        more = (f'<p class="muted">{diff["rows_total"] - len(diff["rows"])} more changed '
                "sites not shown.</p>")
    return _section("diff", "Diff: first → last block dump", head + table + more)


def _objects_section(data: dict[str, Any]) -> str:
    objects = data.get("objects")
    if not objects:
        return ""
    body = ""
    if objects.get("source") == "dumps":
        kinds = objects.get("kinds") or []
        if not kinds:
            return ""
        xs = [float(x) for x in kinds[0]["x"]]
        chart = LineChart("objects", "Live kernel-object blocks per dump",
                          x_label=kinds[0].get("x_kind", "snapshot"), y_bytes=False)
        for i, k in enumerate(kinds):
            chart.series.append(Series(k["kind"], xs, [float(b) for b in k["blocks"]],
                                       PALETTE[i % len(PALETTE)], points=True))
        body += chart.render()
        rows = "".join(
            f"<tr><td>{esc(k['kind'])}</td>{_td_num(k['blocks'][0])}{_td_num(k['blocks'][-1])}"
            + (_td_num(round(k["slope_per_cycle"], 3), f"{k['slope_per_cycle']:+.2f}")
               if k.get("slope_per_cycle") is not None else '<td class="n" data-v="">–</td>')
            + "</tr>" for k in kinds
        )
        body += ('<table class="sortable" data-table="objects"><thead><tr>' + _th("kind")
                 + _th("first", True) + _th("last", True)
                 + _th(f"slope per {kinds[0].get('x_kind', 'snapshot')}", True)
                 + f"</tr></thead><tbody>{rows}</tbody></table>"
                 '<p class="muted">No object trace in the log: live blocks of each kernel-object '
                 "kind counted from the block dumps.</p>")
    else:
        kinds = objects.get("kinds") or []
        if not kinds and not objects.get("sites"):
            return ""
        rows = []
        for k in kinds:
            pc = k.get("per_cycle") or {}
            net = pc.get("net")
            rows.append(
                f"<tr><td>{esc(k['kind'])}</td>{_td_num(k['created'])}{_td_num(k['deleted'])}"
                f"{_td_num(k['alive'])}{_td_num(pc.get('created'))}{_td_num(pc.get('deleted'))}"
                + (_td_num(net, f"{net:+d}", "n " + ("pos" if net > 0 else "neg"))
                   if net is not None else '<td class="n" data-v="">–</td>')
                + _td_num(k.get("leaked")) + "</tr>"
            )
        body += ('<table class="sortable" data-table="objects"><thead><tr>' + _th("kind")
                 + _th("created", True) + _th("deleted", True) + _th("alive", True)
                 + _th("created / cycle", True) + _th("deleted / cycle", True)
                 + _th("net / cycle", True) + _th("leaked", True)
                 + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
        sites = [s for s in objects.get("sites") or [] if s.get("leaked") or s.get("alive")][:30]
        if sites:
            srows = "".join(
                f"<tr><td>{esc(s.get('function') or s.get('key') or '?')} "
                f"<span class=\"tag\">{esc(s['kind'])}</span></td>"
                f"<td class=\"mono\">{esc(_where(s))}</td>"
                f"{_td_num(s['created'])}{_td_num(s['deleted'])}{_td_num(s['alive'])}"
                f"{_td_num(s['leaked'])}"
                + (_td_num(round(s["leak_per_cycle"], 3), f"{s['leak_per_cycle']:.2f}")
                   if s.get("leak_per_cycle") is not None else '<td class="n" data-v="">–</td>')
                + "</tr>"
                for s in sites
            )
            body += ('<h3>Per create site</h3><table class="sortable" data-table="object-sites">'
                     "<thead><tr>" + _th("create site") + _th("file:line") + _th("created", True)
                     + _th("deleted", True) + _th("alive", True) + _th("leaked", True)
                     + _th("leaked / cycle", True)
                     + f"</tr></thead><tbody>{srows}</tbody></table>")
        cyc = objects.get("cycles") or {}
        body += (f'<p class="muted">{objects.get("events", 0):,} object events, '
                 f'{cyc.get("complete", 0)} complete cycles, grace {objects.get("grace", 0)} '
                 f'cycle(s) before a live object counts as leaked.</p>')
    summary = "".join(f"<li>{esc(s)}</li>" for s in objects.get("summary") or [])
    if summary:
        body = f"<ul>{summary}</ul>" + body
    return _section("objects", "Kernel-object balance per cycle", body)


def _crash_section(data: dict[str, Any]) -> str:
    crashes = data.get("crashes") or []
    if not crashes:
        return ""
    return _section("crash", "Crash", "".join(_crash_panel(c) for c in crashes))


def _crash_panel(c: dict[str, Any]) -> str:
    cause = c.get("cause") or {}
    out = [f'<div class="verdict bad"><b>{esc(cause.get("category", c.get("kind", "crash")))}'
           f"</b>: {esc(cause.get('summary') or '')}</div>"]
    facts = [("Line", f"{c.get('line')}–{c.get('end_line') or '?'}"), ("Kind", c.get("kind")),
             ("Arch", c.get("arch"))]
    ctx = c.get("context") or {}
    task = ctx.get("task") or c.get("current_task")
    if task:
        facts.append(("Task", task + (" (in interrupt)" if ctx.get("in_interrupt") else "")))
    if c.get("crash_time"):
        facts.append(("Time", c["crash_time"]))
    if cause.get("fault_address") is not None:
        facts.append(("Fault address", _hex(cause["fault_address"])
                      + (f" ({cause['fault_address_source']})"
                         if cause.get("fault_address_source") else "")))
    if c.get("faulting_function"):
        facts.append(("Faulting", f"{c['faulting_function']} {c.get('faulting_where') or ''}"))
    if c.get("partial"):
        facts.append(("Partial", c.get("partial_reason") or "yes"))
    out.append('<div class="cards">' + "".join(_card(k, str(v)) for k, v in facts if v) + "</div>")
    details = cause.get("details") or []
    if details:
        out.append("<ul>" + "".join(f"<li>{esc(d)}</li>" for d in details) + "</ul>")
    frames = (c.get("call_stack") or {}).get("frames") or []
    if frames:
        rows = "".join(
            f"<tr><td class=\"n\">#{i}</td><td class=\"mono\">{_hex(f.get('address'))}</td>"
            f"<td>{esc(f.get('function') or '??')}"
            + ("".join(f'<div class="chain">inlined: {esc(x.get("function"))} '
                       f"({esc(_where(x))})</div>" for x in (f.get("inlined") or [])[:-1]))
            + f'</td><td class="mono">{esc(_where(f))}</td>'
            + f"<td>{esc(f.get('source', ''))}</td></tr>"
            for i, f in enumerate(frames[:64])
        )
        out.append("<h3>Call stack</h3><table data-table=\"crash-stack\"><thead><tr>"
                   '<th class="n">#</th>'
                   "<th>address</th><th>function</th><th>file:line</th><th>from</th></tr></thead>"
                   f"<tbody>{rows}</tbody></table>")
    heap = c.get("heap") or {}
    hits = heap.get("hits") or []
    if hits:
        items = []
        for h in hits:
            neigh = []
            for label in ("prev", "block", "next"):
                b = h.get(label)
                if b:
                    neigh.append(
                        f"<tr><td>{esc(label)}</td><td class=\"mono\">{_hex(b.get('addr'))}</td>"
                        f"{_td_num(b.get('size'))}<td>{'used' if b.get('used') else 'free'}"
                        + (_bad_tag("corrupt") if b.get("corrupted") else "") +
                        f"</td><td>{esc(b.get('owner_function') or _hex(b.get('owner')))} "
                        f"<span class=\"mono\">{esc(b.get('owner_where') or '')}</span></td></tr>")
            items.append(f"<p>{esc(h.get('text', ''))}</p><table data-table=\"crash-heap\">"
                         "<thead><tr><th></th><th>block</th><th class=\"n\">size</th><th>state</th>"
                         "<th>allocated by</th></tr></thead>"
                         f"<tbody>{''.join(neigh)}</tbody></table>")
        out.append(f"<h3>Heap neighbours ({esc(heap.get('source', ''))})</h3>" + "".join(items))
    tasks = c.get("tasks") or []
    if tasks:
        trs = "".join(
            f"<tr><td>{esc(t.get('name'))}"
            + (_bad_tag("crashed") if t.get("crashed") else "") +
            f"</td><td>{esc(t.get('state') or '')}</td>{_td_num(t.get('prio'))}"
            f"{_td_num(t.get('stack_size'))}{_td_num(t.get('min_free'))}"
            f"<td>{esc(t.get('status') or '')}</td></tr>"
            for t in tasks[:64]
        )
        out.append("<details><summary>Tasks</summary>"
                   '<table class="sortable" data-table="tasks">'
                   "<thead><tr>" + _th("task") + _th("state") + _th("prio", True)
                   + _th("stack size", True) + _th("min free", True) + _th("status")
                   + f"</tr></thead><tbody>{trs}</tbody></table></details>")
    regs = c.get("registers") or {}
    if regs:
        out.append("<details><summary>Registers</summary><p class=\"mono\">"
                   + " ".join(f"{esc(k)}={_hex(v)}" for k, v in regs.items()) + "</p></details>")
    for n in c.get("notes") or []:
        out.append(f'<p class="muted">{esc(n)}</p>')
    return '<div class="crash" data-crash="1">' + "".join(out) + "</div>"
