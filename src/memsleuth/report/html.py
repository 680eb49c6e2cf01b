"""The self-contained HTML report: jinja2 templates, SVG pictures from ``report.svg``, one script.

The page must open offline from a mail attachment or CI artefact: CSS and the one tiny script
are inlined, a Content-Security-Policy forbids any fetch, and the templates autoescape every
value (strings from logs and ELFs are hostile input). The script sorts tables and records its
own errors into ``data-errors`` (and ``data-ok="1"`` when it ran), which the headless-browser
test reads.

This module only renders: ``data`` is the plain dict of ``memsleuth.analysis.report_data``;
the helpers below turn its numbers into words, cards and charts, the templates lay them out.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, Undefined
from markupsafe import Markup

from memsleuth.report.numbering import dump_kind, dumps_phrase, growth_phrase
from memsleuth.report.svg import PALETTE, LineChart, Series, bar, human_bytes, icicle
from memsleuth.results.trend import Exhaustion, Trend, x_unit

#: Sections in page order: (id, table-of-contents title).
TOC = (
    ("summary", "Summary"), ("heap", "Heap over time"), ("growth", "Growth per site"),
    ("census", "Census"), ("flame", "Live bytes by stack"), ("diff", "First → last dump"),
    ("objects", "Object balance"), ("crash", "Crash"),
)


def render_html(data: dict[str, Any]) -> str:
    """The whole report as one self-contained HTML string (CSS and JS inlined, no fetches).

    Every section is drawn only when its data is there, so a log with only overviews still
    gives a useful page.
    """
    log_name = str((data.get("log") or {}).get("path", "log")).rsplit("/", 1)[-1]
    view = {
        "headline": headline(data),
        "verdicts": verdicts(data),
        "cards": summary_cards(data),
        "heap_chart": heap_chart(data),
        "growth_chart": growth_chart(data),
        "objects_chart": objects_chart(data),
        "flame": Markup(icicle(data["stacks"])) if data.get("stacks") else None,
    }
    return _environment().get_template("report.html.j2").render(
        data=data, view=view, toc=TOC, title=f"memsleuth report: {log_name}",
        css=Markup(_static("report.css")), js=Markup(_static("report.js")),
    )


# -- words -------------------------------------------------------------------------------------

def headline(data: dict[str, Any]) -> str | None:
    """One sentence first: what runs out, when, why, where (from what the log proved)."""
    trend = _trend(data)
    failure = trend.observed_failure if trend is not None else None
    ex = _exhaustion(trend)
    decline = data.get("decline")
    census = data.get("census")
    top = census.rows[0] if census and census.rows else None
    unit = x_unit(trend.x, trend.rows_from, second="second") if trend is not None else "point"
    if failure:
        when = f" at {unit} {failure.cycle:,}" if failure.cycle is not None else ""
        kind = failure.kind.replace("_", " ")
        first = f"The heap ran out{when} ({kind} at line {failure.line:,})"
    elif ex is not None and ex.at is not None:
        first = f"At this rate the heap runs out at about {unit} {ex.at:,.0f}"
    elif trend is not None and trend.leak:
        first = "Free heap is falling"
    else:
        crashes = data.get("crashes") or []
        if crashes:
            cause = crashes[-1].cause.summary or "a crash"
            return f"The device crashed: {cause}."
        return None
    if decline:
        return f"{first}. Free heap: {decline.text}."
    if top and top.function:
        where = _where(top)
        return (f"{first}. The largest owner of live memory is {top.function}"
                + (f" ({where})." if where else "."))
    return first + "."


def _trend(data: dict[str, Any]) -> Trend | None:
    return (data.get("trend") or {}).get("trend_raw")


def _exhaustion(trend: Trend | None) -> Exhaustion | None:
    return trend.forecast.exhaustion if trend is not None and trend.forecast else None


def verdicts(data: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    trend = data.get("trend") or {}
    if trend.get("verdict_text"):
        out.append((trend.get("verdict_css", ""), trend["verdict_text"]))
    decline = data.get("decline")
    if decline:
        out.append(("warn", f"Decline explained: {decline.text}"))
    objects = data.get("objects")
    for line in objects.summary[:4] if objects else ():
        out.append(("warn" if objects.leaks else "", f"Objects: {line}"))
    for crash in data.get("crashes") or []:
        cause = crash.cause.summary or crash.kind
        out.append(("bad", f"Crash at line {crash.line}: {cause}"))
    return out


def summary_cards(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, value, tooltip) cards: the failure and the forecast first, then the heap."""
    cards: list[tuple[str, str, str]] = []
    trend = _trend(data)
    failure = trend.observed_failure if trend is not None else None
    if failure:
        where = f"cycle {failure.cycle:,}" if failure.cycle is not None else \
            f"line {failure.line}"
        cards.append(("Allocation failed", where, f"line {failure.line}"))
    ex = _exhaustion(trend)
    if ex is not None and ex.at is not None:
        span = ""
        if ex.earliest is not None and ex.latest is not None:
            span = f" ({ex.earliest:,.0f}–{ex.latest:,.0f})"
        cards.append(("Forecast: heap runs out", f"{ex.at:,.0f}{span}",
                      ex.level.replace("_", " ")))
    heap = data.get("heap")
    if heap:
        cards.append(("Heap free (newest)", human_bytes(heap.free),
                      f"overview at line {heap.line}"))
        cards.append(("Heap used", human_bytes(heap.used)
                      + (f" ({heap.used_share:.0%})" if heap.used_share else ""), ""))
        if heap.min_free is not None:
            cards.append(("Lowest free ever", human_bytes(heap.min_free), ""))
        if heap.max_free_block is not None:
            cards.append(("Largest free block", human_bytes(heap.max_free_block), ""))
        if heap.fragmentation is not None:
            cards.append(("Fragmentation", f"{heap.fragmentation:.0%}",
                          "1 - largest free block / free"))
    census = data.get("census")
    if census:
        t = census.totals
        cards.append(("Live blocks (census)", f"{t.used_blocks:,}", ""))
        cards.append(("Live bytes (census)", human_bytes(t.used_bytes), ""))
        cards.append(("Allocation sites", f"{t.sites:,}", ""))
    log = data.get("log") or {}
    dumps = log.get("block_dumps") or []
    total = log.get("block_dumps_total", len(dumps))
    full = total - log.get("block_dumps_mmlk", sum(1 for d in dumps if d.variant == "mmlk"))
    cards.append(("Block dumps", f"{total:,}" + (f" ({full:,} full)" if full != total
                                                 else ""),
                  dumps_phrase(dumps, total, log.get("block_dumps_mmlk"))))
    cards.append(("Heap overviews", f"{log.get('overviews', 0)}", ""))
    if log.get("cycle_markers"):
        cards.append(("Cycles", f"{log['cycle_markers']}", ""))
    if log.get("warnings_total"):
        cards.append(("Allocator warnings", f"{log['warnings_total']}", ""))
    return cards


# -- charts ------------------------------------------------------------------------------------

def heap_chart(data: dict[str, Any]) -> dict[str, Any] | None:
    """The heap curve with its fit, warm-up band and forecast; None for fewer than 2 points
    (one overview is no curve: the summary cards already show it)."""
    points = data.get("overviews") or []
    if len(points) < 2:
        return None
    x_kind = data.get("overview_x", "sample")
    xs = [float(p["x"]) for p in points]
    chart = LineChart("heap", "Heap over time", x_label=x_kind)
    chart.series.append(Series("free", xs, [p.get("free") for p in points], PALETTE[0],
                               points=True))
    chart.series.append(Series("used", xs, [p.get("used") for p in points], PALETTE[1]))
    optional = (("min_free", "min free (low-water mark)", PALETTE[2], "6 3"),
                ("max_free_block", "largest free block", PALETTE[3], None),
                ("pool_free", "pool free", PALETTE[4], "2 3"))
    for key, label, colour, dash in optional:
        if any(p.get(key) is not None for p in points):
            chart.series.append(Series(label, xs, [p.get(key) for p in points], colour,
                                       dash=dash))
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
    caption = ("x axis: cycle (from the cycle markers in the log)." if x_kind == "cycle"
               else "x axis: heap overview sample, in log order.")
    return {"svg": Markup(chart.render()), "notes": [n for n in notes if n], "caption": caption}


def growth_chart(data: dict[str, Any]) -> Markup | None:
    growth = data.get("growth")
    if not growth or not growth.get("sites"):
        return None
    xs = [float(x) for x in growth["x"]]
    chart = LineChart("growth", "Live bytes per allocation site, per dump",
                      x_label=growth.get("x_kind", "dump"))
    for i, site in enumerate(growth["sites"]):
        chart.series.append(Series(site["label"], xs, site["bytes"], PALETTE[i % len(PALETTE)],
                                   points=True))
    return Markup(chart.render())


def objects_chart(data: dict[str, Any]) -> Markup | None:
    """Live kernel-object blocks per dump, when the balance comes from dumps (no trace)."""
    objects = data.get("objects")
    if objects is None or objects.source != "dumps" or not objects.kinds:
        return None
    kinds = objects.kinds
    xs = [float(x) for x in kinds[0].x]
    chart = LineChart("objects", "Live kernel-object blocks per dump",
                      x_label=kinds[0].x_kind, y_bytes=False)
    for i, k in enumerate(kinds):
        chart.series.append(Series(k.kind, xs, [float(b) for b in k.blocks],
                                   PALETTE[i % len(PALETTE)], points=True))
    return Markup(chart.render())


# -- formatting filters ------------------------------------------------------------------------

def _hex(v: int | None) -> str:
    return "–" if v is None else f"0x{v:08x}"


def _signed_bytes(v: int) -> str:
    return ("+" if v > 0 else "") + (human_bytes(v) if abs(v) >= 1024 else f"{v:,} B")


def _where(d: Any) -> str:
    """``file.c:12`` of a result object or (crash, objects) a result dict."""
    file, line = (d.get("file"), d.get("line")) if isinstance(d, dict) else (d.file, d.line)
    return f"{str(file).rsplit('/', 1)[-1]}:{line}" if file and line else ""


def _number(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:,}"
    return "–" if v is None or isinstance(v, Undefined) else str(v)


def _bar(share: float | None) -> Markup:
    return Markup(bar(share or 0.0))


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("memsleuth.report", "templates"), autoescape=True,
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
                      extensions=["jinja2.ext.do"])
    env.tests["leaking_or_alive"] = lambda site: bool(site.leaked or site.alive)
    env.filters.update(bytes=human_bytes, hex=_hex, signed_bytes=_signed_bytes, where=_where,
                       number=_number, bar=_bar, dumps_phrase=dumps_phrase,
                       growth_phrase=growth_phrase, dump_kind=dump_kind)
    return env


def _static(name: str) -> str:
    return resources.files("memsleuth.report").joinpath("templates", name).read_text("utf-8")
