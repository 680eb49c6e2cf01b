"""`memsleuth report`: one self-contained HTML file with every view of a log, and folded stacks.

The verb only gathers plain data (reusing the analyses the other verbs run) into one dict and
hands it to ``memsleuth.report.html.render_html``; an analysis that fails or is missing is
listed under "partial or skipped" in the report's header instead of failing the whole report.
"""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path
from typing import Any

import click

from memsleuth import __version__
from memsleuth.analysis.census import Attributor, census, live_owners
from memsleuth.analysis.health import heap_health
from memsleuth.analysis.trend import TrendCollector
from memsleuth.commands.analyze import log_contents
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_match,
    elf_option,
    emit,
    guarded,
    json_option,
    load_model,
    log_argument,
    open_symbolizer,
)
from memsleuth.errors import EXIT_PARTIAL, InputError, UsageError
from memsleuth.report.folded import stacks_from_dump, write_folded
from memsleuth.report.html import render_html

#: Census rows in the HTML table (the flame graph and --folded keep every site).
TABLE_ROWS = 300
#: Sites drawn in the per-site growth chart.
GROWTH_SITES = 8
#: Rows of the first→last diff table.
DIFF_ROWS = 60


def build_report(
    log: Path, elf: Path | None, *, cycle_pattern: str | None = None
) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], int]]]:
    """Read the log once and run every analysis the report shows.

    Returns the report data (plain, JSON-able) and the weighted stacks for ``--folded``.
    """
    symbolizer = open_symbolizer(elf)
    attributor = Attributor(symbolizer)
    balance = _object_balance()
    series = _site_series(attributor)
    trend = TrendCollector()
    late_notes: list[str] = []

    def on_record(record: Any) -> None:
        nonlocal series
        trend.on_record(record)
        if balance is not None:
            balance.on_record(record)
        if series is not None:
            try:
                series.on_record(record)
            except Exception as exc:  # noqa: BLE001 - growth/diff are optional views
                late_notes.append(f"per-dump census: stopped ({type(exc).__name__}: {exc})")
                series = None

    model = load_model(log, cycle_pattern=cycle_pattern, on_record=on_record)
    if not (model.dumps or model.overviews or model.crashes or model.warnings
            or model.object_events or model.leaks):
        raise InputError(
            f"{log}: no AliOS heap, block-dump, crash or object-trace section found in "
            f"{model.stats.lines:,} lines (is this the device log?)"
        )
    contents = log_contents(model)
    notes: list[str] = [
        f"{p['kind']} #{p['index']} at line {p['line']} is partial: {p['reason']}"
        for p in contents["partial"]
    ]
    if contents["decode_errors"]:
        notes.append(f"{contents['decode_errors']} line(s) were not valid UTF-8 "
                     "(decoded with replacement characters)")
    if contents["skipped_in_sections"]:
        notes.append(f"{contents['skipped_in_sections']} foreign line(s) inside sections "
                     "were skipped")
    notes.extend(late_notes)
    data: dict[str, Any] = {
        "version": __version__,
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "log": {"path": str(log), **contents},
        "elf": _elf_info(elf, symbolizer),
        "notes": notes,
        "heap": heap_health(model.overviews, model.lowest_overview),
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
            data["elf"]["match"] = elf_match(symbolizer, live_owners(dump))
            if (data["elf"]["match"] or {}).get("verdict") == "mismatch":
                notes.append("the ELF does not match the log: "
                             + str(data["elf"]["match"].get("reason", "")))
    elif model.dumps:
        notes.append("no block dump is kept whole: census and flame graph skipped")
    _guard(data, notes, "heap trend", _trend, model, trend)
    data.setdefault("overviews", None)
    if data["overviews"] is None:
        data["overviews"], data["overview_x"] = _plain_overviews(model)
    _guard(data, notes, "per-site growth", _growth, model, attributor, series)
    _guard(data, notes, "first→last diff", _diff, model, attributor, series)
    _guard(data, notes, "object balance", _objects, model, balance, attributor)
    _guard(data, notes, "decline attribution", _decline, data, series)
    _guard(data, notes, "crash explanation", _crashes, model, symbolizer)
    if symbolizer is None:
        notes.append("no ELF given: addresses are not symbolized")
    # Same rule as `analyze`: a cut-short section or a mismatching ELF makes the result partial.
    data["partial"] = bool(contents["partial"]) or (
        ((data["elf"] or {}).get("match") or {}).get("verdict") == "mismatch")
    return data, stacks


def _guard(data: dict[str, Any], notes: list[str], what: str, fn: Any, *args: Any) -> None:
    """Run one analysis; a failure is a note in the report, not a lost report."""
    try:
        data.update(fn(*args))
    except ImportError:
        notes.append(f"{what}: not available in this memsleuth build (skipped)")
    except Exception as exc:  # noqa: BLE001 - one broken view must not cost the others
        notes.append(f"{what}: skipped ({type(exc).__name__}: {exc})")


def _object_balance() -> Any:
    try:
        from memsleuth.analysis.objects import ObjectBalance
    except ImportError:  # pragma: no cover - the analysis ships with the package
        return None
    return ObjectBalance()


def _site_series(attributor: Attributor) -> Any:
    try:
        from memsleuth.analysis.diff import SiteSeries
    except ImportError:  # pragma: no cover - the analysis ships with the package
        return None
    return SiteSeries(attributor)


def _elf_info(elf: Path | None, symbolizer: Any) -> dict[str, Any] | None:
    if elf is None:
        return None
    info: dict[str, Any] = {"path": str(elf), "build_id": None, "sha256": None, "arch": None}
    for key, attr in (("build_id", "build_id"), ("sha256", "content_hash"), ("arch", "arch")):
        try:
            info[key] = getattr(symbolizer, attr, None)
        except Exception:  # noqa: BLE001 - identity is informative only
            info[key] = None
    return info


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
    series = trend.get("series") or []
    if not series:
        return {"trend_raw": trend}
    x_kind = {"cycle": "cycle", "time": "seconds", "index": "overview"}.get(trend["x"], "x")
    totals = {o.line: o for o in model.overviews}
    points = []
    for p in series:
        o = totals.get(p["line"])
        used = o.used if o is not None else (
            trend["total"] - p["free"] if trend.get("total") else None)
        points.append({**p, "used": used})
    view: dict[str, Any] = {"trend_raw": _jsonable_trend(trend)}
    cls = trend.get("classification", "")
    css = {"steady_leak": "bad", "step": "bad", "fragmentation": "warn",
           "warmup_plateau": "ok", "no_leak": "ok"}.get(cls, "")
    if cls:
        view["verdict_text"] = f"Heap trend: {cls.replace('_', ' ')}" + (
            f" — {trend['reason']}" if trend.get("reason") else "")
        view["verdict_css"] = css
    warm = trend.get("warmup") or {}
    xs = [p["x"] for p in series]
    cut = int(warm.get("points") or 0)
    if cut:
        view["warmup"] = (xs[0], xs[cut - 1] if cut < len(xs) else xs[-1])
    elif warm.get("reason"):
        view["warmup_text"] = f"No warm-up cut: {warm['reason']}."
    fit = trend.get("fit")
    forecast = trend.get("forecast") or {}
    ex = forecast.get("exhaustion")
    if fit and trend.get("leak") is not None:
        x_start = xs[cut] if cut < len(xs) else xs[0]
        x_end = xs[-1]
        if ex and ex.get("at") is not None and ex["at"] <= xs[-1] + 4 * (xs[-1] - xs[0] or 1):
            x_end = max(x_end, ex["at"])

        def at(x: float) -> float:
            return fit["y_center"] + fit["slope"] * (x - fit["x_center"])

        view["fit_line"] = ((x_start, at(x_start)), (x_end, at(x_end)))
        lo, hi = fit.get("slope_low"), fit.get("slope_high")
        unit = {"cycle": "cycle", "time": "s", "index": "overview"}.get(trend["x"], "x")
        interval = f" [{lo:+,.1f}, {hi:+,.1f}]" if lo is not None and hi is not None else ""
        view["slope_text"] = (f"Fitted free-heap slope after warm-up: {fit['slope']:+,.1f} "
                              f"B/{unit}{interval} (Theil–Sen, dashed red line).")
    if ex and ex.get("at") is not None:
        level = ex.get("bytes") or 0.0
        span = xs[-1] - xs[0] or 1
        text = (f"Forecast: {str(ex.get('level', '')).replace('_', ' ')} at {x_kind} "
                f"{ex['at']:,.0f}")
        if ex.get("earliest") is not None and ex.get("latest") is not None:
            text += f" (interval {ex['earliest']:,.0f}–{ex['latest']:,.0f})"
        if ex["at"] <= xs[-1] + 4 * span:
            view["exhaustion"] = {"x": ex["at"], "y": level, "text": text + " (red dot).",
                                  "low": _clip(ex.get("earliest"), xs[-1] + 4 * span),
                                  "high": _clip(ex.get("latest"), xs[-1] + 4 * span)}
        else:
            view["exhaustion"] = None
            view["slope_text"] = (view.get("slope_text", "") + " " + text
                                  + " (beyond the chart).")
    failure = trend.get("observed_failure")
    rules = []
    if failure and failure.get("cycle") is not None and trend["x"] == "cycle":
        rules.append((float(failure["cycle"]), f"{failure['kind']} at line {failure['line']}"))
    return {"trend": view, "overviews": points, "overview_x": x_kind, "overview_rules": rules}


def _clip(v: float | None, limit: float) -> float | None:
    return None if v is None else min(v, limit)


def _jsonable_trend(trend: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in trend.items() if k != "series"}


def _site_label(attributor: Attributor, owner: int) -> str:
    site = attributor.site(owner)
    kind = f" [{site.object_kind}]" if site.object_kind else ""
    return ("unknown owner" if site.key == "unknown" else site.label) + kind


def _dumps_for_growth(model: Any) -> list[Any]:
    return [d for d in model.dumps if not d.partial] or list(model.dumps)


def _growth(model: Any, attributor: Attributor, series: Any) -> dict[str, Any]:
    """Per-site live bytes across the dumps, top sites by growth slope.

    From the per-dump census (``analysis.diff.site_growth``, traces honoured) when there are
    three or more snapshots; otherwise from the per-dump owner totals of the model.
    """
    if series is not None:
        from memsleuth.analysis.diff import site_growth

        growth = site_growth(series.snapshots, series.info)
        if growth.get("rows"):
            snaps = [s for s in series.snapshots if not s.partial] or series.snapshots
            by_cycle = growth["x"] == "cycle"
            xs = [float(s.cycle if by_cycle else s.index) for s in snaps]
            sites = [{"label": r["label"] + (f" [{r['object_kind']}]" if r["object_kind"]
                                             else ""),
                      "bytes": r["bytes"], "delta": r["bytes"][-1] - r["bytes"][0],
                      "slope": r["bytes_slope"], "pattern": r["pattern"]}
                     for r in growth["rows"][:GROWTH_SITES]]
            return {"growth": {"x": xs, "x_kind": "cycle" if by_cycle else "block dump",
                               "sites": sites}, "growth_raw": growth}
    dumps = _dumps_for_growth(model)
    if len(dumps) < 2:
        return {}
    attributor.prepare({o for d in dumps for o in d.owners})
    per_site: dict[str, list[int]] = {}
    for i, d in enumerate(dumps):
        for owner, tot in d.owners.items():
            label = _site_label(attributor, owner)
            per_site.setdefault(label, [0] * len(dumps))[i] += tot.bytes
    cycles = [d.cycle for d in dumps]
    by_cycle = all(c is not None for c in cycles) and len(set(cycles)) == len(cycles)
    xs = [float(c) for c in cycles] if by_cycle else [float(d.index) for d in dumps]
    ranked = sorted(per_site.items(), key=lambda kv: (-(kv[1][-1] - kv[1][0]), -kv[1][-1], kv[0]))
    sites = [{"label": label, "bytes": values, "delta": values[-1] - values[0], "slope": None}
             for label, values in ranked[:GROWTH_SITES]]
    return {"growth": {"x": xs, "x_kind": "cycle" if by_cycle else "block dump",
                       "sites": sites}}


def _diff(model: Any, attributor: Attributor, series: Any) -> dict[str, Any]:
    """Per-site deltas between the first and the last (complete) block dump.

    Same schema as ``analysis.diff.diff_snapshots`` (which is used when available).
    """
    if series is not None:
        from memsleuth.analysis.diff import diff_snapshots

        snaps = [s for s in series.snapshots if not s.partial] or series.snapshots
        if len(snaps) < 2:
            return {}
        diff = diff_snapshots(snaps[0], snaps[-1], series.info)
        changed = [r for r in diff["rows"] if r["status"] != "same"]
        blocks = {s.index: sum(v[0] for v in s.sites.values()) for s in (snaps[0], snaps[-1])}
        diff["before"]["used_blocks"] = blocks[snaps[0].index]
        diff["after"]["used_blocks"] = blocks[snaps[-1].index]
        diff["rows_total"] = len(changed)
        diff["rows"] = changed[:DIFF_ROWS]
        return {"diff": diff}
    dumps = _dumps_for_growth(model)
    if len(dumps) < 2:
        return {}
    first, last = dumps[0], dumps[-1]

    def per_site(d: Any) -> dict[str, list[int]]:
        acc: dict[str, list[int]] = {}
        for owner, tot in d.owners.items():
            row = acc.setdefault(_site_label(attributor, owner), [0, 0])
            row[0] += tot.blocks
            row[1] += tot.bytes
        return acc

    a, b = per_site(first), per_site(last)
    rows = []
    for label in set(a) | set(b):
        fa, fb = a.get(label, [0, 0]), b.get(label, [0, 0])
        status = ("new" if label not in a else "vanished" if label not in b
                  else "grown" if fb[1] > fa[1] or fb[0] > fa[0]
                  else "shrunk" if fb != fa else "same")
        rows.append({"label": label, "blocks_before": fa[0], "blocks_after": fb[0],
                     "blocks_delta": fb[0] - fa[0], "bytes_before": fa[1], "bytes_after": fb[1],
                     "bytes_delta": fb[1] - fa[1], "status": status})
    changed = [r for r in rows if r["status"] != "same"]
    changed.sort(key=lambda r: (-r["bytes_delta"], -r["blocks_delta"], r["label"]))

    def ref(d: Any) -> dict[str, Any]:
        return {"index": d.index, "line": d.line, "cycle": d.cycle, "partial": d.partial,
                "used_bytes": d.used_bytes, "used_blocks": d.used_blocks}

    return {"diff": {"before": ref(first), "after": ref(last), "rows": changed[:DIFF_ROWS],
                     "rows_total": len(changed)}}


def _decline(data: dict[str, Any], series: Any) -> dict[str, Any]:
    """One line tying the free-heap decline to the sites (or objects) that explain it."""
    trend = (data.get("trend") or {}).get("trend_raw")
    if not trend or not trend.get("leak"):
        return {}
    from memsleuth.analysis.diff import attribute_decline, kind_block_sizes

    snaps = series.snapshots if series is not None else []
    sizes = kind_block_sizes(snaps[-1] if snaps else None, series.info if series else {})
    result = attribute_decline(trend, data.get("growth_raw"), data.get("objects"), sizes)
    if not result or not result.get("sites"):
        return {}
    return {"decline": result}


def _objects(model: Any, balance: Any, attributor: Attributor) -> dict[str, Any]:
    from memsleuth.analysis.objects import analyze_objects

    result = analyze_objects(balance, model, attributor)
    if result.get("source") == "none" or not (result.get("kinds") or result.get("sites")):
        return {}
    return {"objects": result}


def _crashes(model: Any, symbolizer: Any) -> dict[str, Any]:
    if not model.crashes:
        return {}
    from memsleuth.analysis.crash import explain_crash

    out = []
    previous_line = 0
    for i, crash in enumerate(model.crashes):
        index = model.dump_before_crash.get(i)
        heap_dump = model.full_dumps.get(index) if index is not None else None
        warnings = [w for w in model.warnings if previous_line <= w.line < crash.line]
        out.append(explain_crash(crash, symbolizer, heap_dump, warnings))
        previous_line = crash.line
    return {"crashes": out}


@click.command("report")
@log_argument
@elf_option
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("report.html"), show_default=True, help="HTML file to write.")
@click.option("--folded", "folded", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write folded stacks (flamegraph.pl / speedscope).")
@cycle_pattern_option
@json_option
@guarded
def command(log: Path, elf: Path | None, output: Path, folded: Path | None,
            cycle_pattern: str | None, as_json: bool) -> None:
    """One self-contained HTML report (works offline): heap over time, census, flame graph,
    diff, object balance, crash."""
    data, stacks = build_report(log, elf, cycle_pattern=cycle_pattern)
    html_text = render_html(data)
    try:
        output.write_text(html_text, encoding="utf-8")
        n_stacks = write_folded(folded, stacks) if folded is not None else None
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc}") from None
    size = len(html_text.encode("utf-8"))
    if as_json:
        emit("report", {
            "log": str(log), "elf": str(elf) if elf else None, "output": str(output),
            "bytes": size, "folded": str(folded) if folded else None, "stacks": n_stacks,
            "partial": data["partial"], "notes": data["notes"],
        }, True, lambda _: None)
    else:
        click.echo(f"wrote {output} ({size:,} bytes)", err=True)
        if folded is not None:
            click.echo(f"wrote {folded} ({n_stacks} stacks)", err=True)
    if data["partial"]:
        sys.exit(EXIT_PARTIAL)
