"""The fleet answers as one offline HTML file (``memsleuth report STORE -o fleet.html``).

The single-log report's styles and script (templates/report.css, report.js) in the same
page frame, so tables sort the same way and the headless self-check works the same; charts are
inline SVG bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import TYPE_CHECKING, Any

from memsleuth import __version__

if TYPE_CHECKING:
    from memsleuth.results.fleet import FleetAnswers


def _template(name: str) -> str:
    return resources.files("memsleuth.report").joinpath("templates", name).read_text("utf-8")


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, tuple):
        return ", ".join(map(str, v))
    return str(v)


def _table(name: str, rows: Sequence[Any], columns: list[tuple[str, str, bool]],
           limit: int = 500) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f'<th class="n">{esc(t)}</th>' if num else f"<th>{esc(t)}</th>"
                   for _, t, num in columns)
    body = []
    for r in rows[:limit]:
        cells = []
        for key, _, num in columns:
            v = getattr(r, key)
            if num:
                cells.append(f'<td class="n" data-v="{"" if v is None else esc(v)}">'
                             f"{esc(_fmt(v))}</td>")
            else:
                cells.append(f"<td>{esc(_fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="muted">{len(rows) - limit:,} more rows: '
            "<code>memsleuth fleet STORE --json</code></p>") if len(rows) > limit else ""
    return (f'<table class="sortable" data-table="{esc(name)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{more}")


def _bars(name: str, items: list[tuple[str, float]], unit: str) -> str:
    """Horizontal bars, one per item (label, value), biggest first as given."""
    items = [(label, v) for label, v in items if v is not None][:15]
    if not items:
        return ""
    top = max(v for _, v in items) or 1.0
    w, label_w, row_h = 900, 380, 22
    h = row_h * len(items) + 10
    out = [f'<svg class="chart" data-chart="{esc(name)}" viewBox="0 0 {w} {h}" '
           f'width="{w}" height="{h}" role="img" aria-label="{esc(name)}">']
    for i, (label, v) in enumerate(items):
        y = 5 + i * row_h
        bw = max(1.0, (w - label_w - 90) * v / top)
        text = label if len(label) <= 60 else label[:57] + "..."
        out.append(f'<text class="tick" x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
                   f"{esc(text)}</text>"
                   f'<rect x="{label_w}" y="{y + 3}" width="{bw:.1f}" height="{row_h - 6}" '
                   f'fill="#0072b2"><title>{esc(label)}: {esc(_fmt(v))} {esc(unit)}</title></rect>'
                   f'<text class="tick" x="{label_w + bw + 6:.1f}" y="{y + 15}">'
                   f"{esc(_fmt(v))} {esc(unit)}</text>")
    out.append("</svg>")
    return f'<figure class="chartbox">{"".join(out)}</figure>'


def _section(sid: str, title: str, body: str, intro: str = "") -> str:
    return (f'<section id="{sid}" data-section="{sid}"><h2>{esc(title)}</h2>'
            + (f'<p class="muted">{esc(intro)}</p>' if intro else "") + body + "</section>")


def render_fleet_html(result: FleetAnswers, store: str) -> str:
    """The page for the fleet answers of ``store``."""
    s = result.summary[0] if result.summary else None
    cards = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(_fmt(v))}</div>'
        "</div>" for k, v in (("logs", s and s.logs), ("devices", s and s.devices),
                              ("builds", s and s.builds), ("ok", s and s.ok),
                              ("partial", s and s.partial), ("failed", s and s.failed),
                              ("MB of log", round((s.bytes if s else 0) / 1e6, 1))))
    sites = result.leak_sites
    sections = [
        f'<section id="summary" data-section="summary"><div class="cards">{cards}</div>'
        "</section>",
        _section("leaks", "Leak sites, by devices affected",
                 _bars("leak-devices", [(r.site_key, r.devices) for r in sites],
                       "devices")
                 + _table("leak_sites", sites, [
                     ("site_key", "site", False), ("devices", "devices", True),
                     ("weak_devices", "+ weak", True),
                     ("logs", "logs", True), ("objects_per_cycle", "objects/cycle", True),
                     ("bytes_per_cycle", "B/cycle", True), ("builds", "builds", False)]),
                 "Sites a log's own verdict carries (object imbalance, or growth that explains "
                 "a fifth or more of the heap decline), ranked by those devices; '+ weak': "
                 "devices where the site only grew weakly. Rates are medians over the leaking "
                 "logs."),
        _section("weak", "Weak evidence only",
                 _table("weak_sites", result.weak_sites, [
                     ("site_key", "site", False), ("devices", "devices", True),
                     ("logs", "logs", True), ("median_share", "share of decline", True),
                     ("dumps", "dumps", True), ("bytes_per_cycle", "B/cycle", True),
                     ("builds", "builds", False)]),
                 "Sites that grew across a few dumps beside another leak (buffers held "
                 "across cycles, a cache filling) but carry no device's leak verdict."),
        _section("builds", "Build to build",
                 _bars("build-rates", [(f"{r.site_key} @ {r.build}",
                                        r.objects_per_cycle if r.objects_per_cycle
                                        is not None else r.bytes_per_cycle)
                                       for r in result.build_comparison
                                       if r.site_key == (sites[0].site_key if sites
                                                         else None)], "per cycle")
                 + _table("build_comparison", result.build_comparison, [
                     ("site_key", "site", False), ("build", "build", False),
                     ("first_date", "first seen", False), ("devices", "devices", True),
                     ("leaking_devices", "leaking", True),
                     ("objects_per_cycle", "objects/cycle", True),
                     ("bytes_per_cycle", "B/cycle", True)]),
                 "Every build where a leaking site runs; a fixed build shows 0."),
        _section("crashes", "Crash signatures",
                 _bars("crash-counts", [(r.signature, r.crashes)
                                        for r in result.crash_signatures], "crashes")
                 + _table("crash_signatures", result.crash_signatures, [
                     ("signature", "signature", False), ("crashes", "crashes", True),
                     ("devices", "devices", True), ("builds", "builds", False),
                     ("distinct_pcs", "distinct PCs", True), ("first_seen", "first", False),
                     ("last_seen", "last", False)]),
                 "Cause + address-free frames: one crash across builds whose addresses "
                 "differ."),
        _section("devices", "Devices by forecast exhaustion",
                 _table("devices_by_exhaustion", result.devices_by_exhaustion, [
                     ("device", "device", False), ("build", "build", False),
                     ("date", "date", False), ("trend_class", "trend", False),
                     ("heap_rate", "B lost/cycle", True), ("free_now", "free now", True),
                     ("remaining", "cycles left", True)]),
                 "The newest log of each device; cycles left until the heap runs out."),
        _section("problems", "Logs not fully answered",
                 _table("problems", result.problems, [
                     ("path", "log", False), ("status", "status", False),
                     ("reason", "reason", False)])),
    ]
    toc = "".join(f'<a href="#{sid}">{esc(t)}</a>' for sid, t in (
        ("leaks", "Leak sites"), ("builds", "Build to build"), ("crashes", "Crashes"),
        ("devices", "Devices"), ("problems", "Problems")))
    body = (f'<header class="top" data-section="header"><h1>memsleuth fleet report</h1>'
            f'<div class="meta"><b>store</b><span>{esc(store)}</span></div>'
            f'</header><nav class="toc">{toc}</nav><main>' + "".join(sections)
            + f"<footer>Generated by memsleuth {esc(__version__)}. Self-contained: no network "
            "access needed.</footer></main>")
    page = _FRAME
    for key, value in (("@@VERSION@@", esc(__version__)),
                       ("@@CSS@@", _template("report.css")), ("@@JS@@", _template("report.js")),
                       ("@@BODY@@", body)):
        page = page.replace(key, value, 1)
    return page


#: The page frame of the single-log report: no fetch allowed, script errors recorded first
#: (the headless check reads them), the report's CSS and script inlined.
_FRAME = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="memsleuth @@VERSION@@">
<title>memsleuth fleet report</title>
<script>
window.__memsleuthErrors = [];
window.addEventListener("error", function (e) {
  window.__memsleuthErrors.push(String(e.message || e));
  if (document.body) {
    document.body.setAttribute("data-errors", window.__memsleuthErrors.join(" | "));
  }
});
</script>
<style>
@@CSS@@
</style>
</head>
<body data-ok="0" data-errors="">
@@BODY@@
<script>
@@JS@@
</script>
</body>
</html>
"""
