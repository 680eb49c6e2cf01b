"""Everything the HTML report shows, gathered in one pass: the report's view of a log.

The analyses are the ones the other verbs run (census, trend, growth, diff, objects, crash);
this module only runs them together and shapes their results into the chart-ready data
``memsleuth.report.html.render_html`` draws. A view whose analysis refuses the data
(``MemsleuthError``, or the ``ValueError`` of too little data) is left out and listed under
"partial or skipped" in the report's header, and the report is partial (exit 4); any other
exception is a bug.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import fields
from typing import Any

from memsleuth import __version__
from memsleuth.analysis.census import Attributor, census, live_owners
from memsleuth.analysis.crash_context import CrashCollector
from memsleuth.analysis.diff import (
    SiteSeries,
    attribute_decline,
    diff_snapshots,
    kind_block_sizes,
    site_growth,
)
from memsleuth.analysis.elf_fit import elf_match
from memsleuth.analysis.health import heap_health
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.analysis.objects import ObjectBalance, analyze_objects
from memsleuth.analysis.stacks import stacks_from_dump
from memsleuth.analysis.summary import log_contents
from memsleuth.analysis.trend import TrendCollector
from memsleuth.errors import MemsleuthError
from memsleuth.results.common import to_json
from memsleuth.results.trend import x_unit

#: Census rows in the HTML table (the flame graph and --folded keep every site).
TABLE_ROWS = 300
#: Sites drawn in the per-site growth chart.
GROWTH_SITES = 8
#: Rows of the first→last diff table.
DIFF_ROWS = 60
#: Crashes explained in the report: every one up to this many, past it (a reboot loop can
#: print thousands) the first, the newest, the first of every signature and a sample.
MAX_CRASHES = 50


class ReportHooks:
    """The streaming accumulators the report needs, fed by the one pass over the log."""

    def __init__(self, attributor: Attributor, grace: int = 1) -> None:
        self.attributor = attributor
        self.trend = TrendCollector()
        self.balance = ObjectBalance(grace=grace)
        self.series = SiteSeries(attributor)
        self.crashes = CrashCollector(keep=MAX_CRASHES, symbolizer=attributor.symbolizer)
        self.identity = IdentityCollector()

    def __call__(self, record: Any) -> None:
        self.trend.on_record(record)
        self.balance.on_record(record)
        self.series.on_record(record)
        self.crashes(record)
        self.identity.on_record(record)


def build_report(model: Any, hooks: ReportHooks, *, log: str, elf: str | None
                 ) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], int]]]:
    """Every analysis the report shows, from the model and the hooks of the same pass.

    Returns the report data (plain, JSON-able) and the weighted stacks for ``--folded``.
    """
    attributor, symbolizer = hooks.attributor, hooks.attributor.symbolizer
    trend, balance, series = hooks.trend, hooks.balance, hooks.series
    trend.cycle_source = model.stats.cycle_source
    contents = log_contents(model)
    notes: list[str] = [
        f"{p.kind} #{p.index} at line {p.line} is partial: {p.reason}"
        for p in contents.partial
    ]
    if contents.decode_errors:
        notes.append(f"{contents.decode_errors} line(s) were not valid UTF-8 "
                     "(decoded with replacement characters)")
    if contents.skipped_in_sections:
        notes.append(f"{contents.skipped_in_sections} foreign line(s) inside sections "
                     "were skipped")
    data: dict[str, Any] = {
        "version": __version__,
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        # the header reads the contents' fields beside the path
        "log": {"path": log, **{f.name: getattr(contents, f.name) for f in fields(contents)}},
        "elf": _elf_info(elf, symbolizer),
        "notes": notes,
        "heap": heap_health(model.overviews, model.lowest_overview, model.series_first),
    }
    stacks: list[tuple[tuple[str, ...], int]] = []
    last = model.last_complete_dump
    if last is not None:
        dump = model.full_dumps[last.index]
        data["census"] = census(dump, attributor, top=TABLE_ROWS)
        stacks = stacks_from_dump(dump, attributor)
        data["stacks"] = stacks
        data["stacks_traced"] = any(b.trace for b in dump.blocks if b.used)
        if data["elf"] is not None:
            match = data["elf"]["match"] = elf_match(symbolizer, live_owners(dump),
                                                     hooks.identity)
            if match is not None and match.verdict == "mismatch":
                notes.append(f"the ELF does not match the log: {match.reason}")
    elif model.dumps:
        notes.append("no block dump is kept whole: census and flame graph skipped")
    skipped: list[str] = []
    _guard(data, skipped, "heap trend", _trend, model, trend)
    data.setdefault("overviews", None)
    if data["overviews"] is None:
        data["overviews"], data["overview_x"] = _plain_overviews(model)
    _guard(data, skipped, "per-site growth", _growth, series)
    _guard(data, skipped, "first→last diff", _diff, series)
    _guard(data, skipped, "object balance", _objects, balance, series, attributor)
    _guard(data, skipped, "decline attribution", _decline, data, series)
    _guard(data, skipped, "crash explanation", _crashes, hooks.crashes, symbolizer)
    notes.extend(skipped)
    if symbolizer is None:
        notes.append("no ELF given: addresses are not symbolized")
    # Same rule as `analyze`: a cut-short section or a mismatching ELF makes the result
    # partial; so does a view the report had to skip.
    match = (data["elf"] or {}).get("match")
    data["partial"] = bool(contents.partial) or bool(skipped) or (
        match is not None and match.verdict == "mismatch")
    return data, stacks


def _guard(data: dict[str, Any], skipped: list[str], what: str, fn: Any, *args: Any) -> None:
    """Run one view; when its analysis refuses the data, note it and leave the view out.

    Only the refusals are caught: ``MemsleuthError`` and the ``ValueError`` the analyses raise
    for data they cannot use (no cycle markers or timestamps for the trend, fewer than two
    distinct x values for a fit). Any other exception is a bug and reaches ``guarded``.
    """
    try:
        data.update(fn(*args))
    except (MemsleuthError, ValueError) as exc:
        skipped.append(f"{what}: skipped ({exc})")


def _elf_info(elf: str | None, symbolizer: Any) -> dict[str, Any] | None:
    if elf is None:
        return None
    return {"path": elf, "build_id": symbolizer.build_id,
            "sha256": symbolizer.content_hash, "arch": symbolizer.arch}


def _plain_overviews(model: Any) -> tuple[list[dict[str, Any]], str]:
    """Overview points without the trend analysis: x is the sample order."""
    points = []
    for i, o in enumerate(o for o in model.overviews if not o.partial):
        points.append({
            "x": i, "line": o.line, "free": o.free, "used": o.used, "min_free": o.min_free,
            "max_free_block": o.max_free_block,
            "pool_free": o.pool.free if o.pool is not None else None,
        })
    return points, "sample"


def _trend(model: Any, collector: TrendCollector) -> dict[str, Any]:
    """Heap curve from the trend analysis (per-cycle points) plus its overlays."""
    if not model.overviews:
        return {}
    trend = collector.result()
    if trend.rows_from == "block_dumps" and trend.fit is None:
        return {}       # too few dumps for a curve (as in check's verdict)
    series = trend.series
    if not series:
        return {"trend_raw": trend}
    x_kind = x_unit(trend.x, trend.rows_from, second="seconds")
    totals = {o.line: o for o in model.overviews}
    points = []
    for p in series:
        o = totals.get(p.line)
        used = o.used if o is not None else (trend.total - p.free if trend.total else None)
        points.append({**to_json(p), "used": used})
    view: dict[str, Any] = {"trend_raw": trend}
    cls = trend.classification
    css = {"steady_leak": "bad", "step": "bad", "fragmentation": "warn",
           "warmup_plateau": "ok", "no_leak": "ok"}.get(cls, "")
    view["verdict_text"] = f"Heap trend: {cls.replace('_', ' ')}" + (
        f" — {trend.reason}" if trend.reason else "")
    view["verdict_css"] = css
    warm = trend.warmup
    xs = [p.x for p in series]
    cut = warm.points if warm is not None else 0
    if cut:
        view["warmup"] = (xs[0], xs[cut - 1] if cut < len(xs) else xs[-1])
    elif warm is not None and warm.reason:
        view["warmup_text"] = f"No warm-up cut: {warm.reason}."
    fit = trend.fit
    ex = trend.forecast.exhaustion if trend.forecast is not None else None
    if fit:
        x_start = xs[cut] if cut < len(xs) else xs[0]
        x_end = xs[-1]
        if ex and ex.at is not None and ex.at <= xs[-1] + 4 * (xs[-1] - xs[0] or 1):
            x_end = max(x_end, ex.at)

        def at(x: float) -> float:
            return fit.y_center + fit.slope * (x - fit.x_center)

        view["fit_line"] = ((x_start, at(x_start)), (x_end, at(x_end)))
        unit = x_unit(trend.x, trend.rows_from)
        interval = (f" ({fit.confidence or 0.95:.0%} sure between {fit.slope_low:+,.1f} and "
                    f"{fit.slope_high:+,.1f})")
        view["slope_text"] = (f"Fitted free-heap slope after warm-up: {fit.slope:+,.1f} "
                              f"B/{unit}{interval} (a fit robust to outliers, dashed red line).")
    if ex and ex.at is not None:
        level = ex.bytes or 0.0
        span = xs[-1] - xs[0] or 1
        text = f"Forecast: {ex.level.replace('_', ' ')} at {x_kind} {ex.at:,.0f}"
        if ex.earliest is not None and ex.latest is not None:
            text += f" (interval {ex.earliest:,.0f}–{ex.latest:,.0f})"
        if ex.at <= xs[-1] + 4 * span:
            view["exhaustion"] = {"x": ex.at, "y": level, "text": text + " (red dot).",
                                  "low": _clip(ex.earliest, xs[-1] + 4 * span),
                                  "high": _clip(ex.latest, xs[-1] + 4 * span)}
        else:
            view["exhaustion"] = None
            view["slope_text"] = (view.get("slope_text", "") + " " + text
                                  + " (beyond the chart).")
    failure = trend.observed_failure
    rules = []
    if failure and failure.cycle is not None and trend.x == "cycle":
        rules.append((float(failure.cycle), f"{failure.kind} at line {failure.line}"))
    return {"trend": view, "overviews": points, "overview_x": x_kind, "overview_rules": rules}


def _clip(v: float | None, limit: float) -> float | None:
    return None if v is None else min(v, limit)


def _growth(series: SiteSeries) -> dict[str, Any]:
    """Per-site live bytes across the dumps, top sites by growth slope.

    The per-dump census's growth (``analysis.diff.site_growth``, traces honoured); it needs
    three or more snapshots, so fewer give no growth view.
    """
    growth = site_growth(series.snapshots, series.info, total=series.count)
    if not growth.rows:
        return {}
    # the snapshots site_growth used (complete ones, unless none is), for their x values
    snaps = [s for s in series.snapshots if not s.partial] or series.snapshots
    by_cycle = growth.x == "cycle"
    xs = [float(s.cycle if by_cycle else s.index) for s in snaps]  # type: ignore[arg-type]
    sites = [{"label": r.label + (f" [{r.object_kind}]" if r.object_kind else ""),
              "bytes": r.bytes, "delta": r.bytes[-1] - r.bytes[0],
              "slope": r.bytes_slope, "pattern": r.pattern}
             for r in growth.rows[:GROWTH_SITES]]
    return {"growth": {"x": xs, "x_kind": "cycle" if by_cycle else "block dump",
                       "sites": sites}, "growth_raw": growth}


def _diff(series: SiteSeries) -> dict[str, Any]:
    """Per-site deltas between the first and the last complete block dump
    (``analysis.diff.diff_snapshots``), only the changed sites, at most DIFF_ROWS of them."""
    snaps = [s for s in series.snapshots if not s.partial] or series.snapshots
    if len(snaps) < 2:
        return {}
    first, last = snaps[0], snaps[-1]
    diff = diff_snapshots(first, last, series.info)
    changed = [r for r in diff.rows if r.status != "same"]
    return {"diff": {
        "before": diff.before, "after": diff.after, "totals": diff.totals,
        "rows": changed[:DIFF_ROWS], "rows_total": len(changed),
        "blocks_before": sum(v[0] for v in first.sites.values()),
        "blocks_after": sum(v[0] for v in last.sites.values()),
    }}


def _decline(data: dict[str, Any], series: SiteSeries) -> dict[str, Any]:
    """One line tying the free-heap decline to the sites (or objects) that explain it."""
    trend = (data.get("trend") or {}).get("trend_raw")
    if trend is None or not trend.leak:
        return {}
    snaps = series.snapshots
    sizes = kind_block_sizes(snaps[-1] if snaps else None, series.info)
    result = attribute_decline(trend, data.get("growth_raw"), data.get("objects"), sizes)
    if not result or not result.sites:
        return {}
    return {"decline": result}


def _objects(balance: ObjectBalance, series: SiteSeries,
             attributor: Attributor) -> dict[str, Any]:
    result = analyze_objects(balance, series, attributor)
    if result.source == "none" or not (result.kinds or getattr(result, "sites", ())):
        return {}
    return {"objects": result}


def _crashes(crashes: CrashCollector, symbolizer: Any) -> dict[str, Any]:
    """Every kept crash, each explained as `analyze` explains the newest one."""
    if not crashes.total:
        return {}
    return {"crashes": crashes.explain(symbolizer)}
