"""Terminal rendering of a heap trend (rich only; the numbers come from analysis.trend)."""

from __future__ import annotations

from rich.markup import escape

from memsleuth.report.terminal import console, size, warn
from memsleuth.results.trend import Trend, x_unit

_TITLES = {
    "steady_leak": "[bold red]steady leak[/]",
    "step": "[bold red]step / burst leak[/]",
    "fragmentation": "[bold yellow]fragmentation[/]",
    "warmup_plateau": "[bold green]warm-up, then plateau (no leak)[/]",
    "no_leak": "[bold green]no leak[/]",
    "insufficient": "[yellow]not enough points[/]",
}

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 60) -> str:
    """A one-line picture of the curve (bin means)."""
    if not values:
        return ""
    n = len(values)
    width = min(width, n)
    bins = [values[i * n // width:(i + 1) * n // width] for i in range(width)]
    means = [sum(b) / len(b) for b in bins if b]
    lo, hi = min(means), max(means)
    if hi == lo:
        return SPARK[3] * len(means)
    return "".join(SPARK[int((v - lo) / (hi - lo) * (len(SPARK) - 1))] for v in means)


def render_trend(result: Trend, verbose: bool = False) -> None:
    out = console()
    unit = x_unit(result.x, result.rows_from)
    by = "block dump" if result.rows_from == "block_dumps" else result.x
    out.print(f"[bold]Heap trend[/] — {getattr(result, 'log', '')}: {result.points} point(s) "
              f"by {by}" + (f" (of {result.points_available})"
                            if result.points_available != result.points else ""))
    series = result.series
    if series:
        out.print(f"  free {sparkline([p.free for p in series])}")
        first, last = series[0], series[-1]
        out.print(f"  first x={first.x:g}: free {size(first.free)}; "
                  f"last x={last.x:g}: free {size(last.free)}")
    out.print(f"  verdict: {_TITLES.get(result.classification, result.classification)}")
    if result.reason:
        out.print(f"  why: {result.reason}")
    wu = result.warmup
    if wu is not None and wu.points:
        out.print(f"  warm-up: first {wu.points} point(s) excluded (until x={wu.until_x:g},"
                  f" {wu.drop:.0f} B above the settled line)")
    fit = result.fit
    if fit:
        out.print(f"  slope {fit.slope:+.2f} B/{unit} ({fit.confidence:.0%} sure between "
                  f"{fit.slope_low:+.2f} and {fit.slope_high:+.2f}), noise "
                  f"±{1.4826 * fit.residual_mad:.0f} B")
        if verbose:
            out.print(f"  statistics: Theil–Sen slope, Sen's {fit.confidence:.0%} interval, "
                      f"Mann-Kendall trend test p={fit.mk_p:.2g}, "
                      f"Kendall tau {fit.kendall_tau:.3f}")
    ev = result.evidence
    if ev is not None and ev.fragmentation:
        f = ev.fragmentation
        out.print(f"  largest free block {f.first:.0f} -> {f.last:.0f} B "
                  f"({f.max_free_block_slope:+.1f} B/{unit})")
    if ev is not None and ev.pool:
        out.print(f"  pool free {ev.pool.slope:+.2f} B/{unit}")
    fc = result.forecast
    if fc and fc.exhaustion:
        chosen = fc.exhaustion.level
        for e in fc.levels:
            if e.at is None:
                continue
            late = "never" if e.latest is None else f"{e.latest:.0f}"
            where = (f"t={e.at:.0f} s [{e.earliest:.0f} .. {late}]" if unit == "s"
                     else f"{unit} {e.at:.0f} [{e.earliest:.0f} .. {late}]")
            line = f"  forecast {e.level.replace('_', ' ')} ({e.bytes:.0f} B): {where}"
            if e.time is not None:
                line += f", t≈{e.time:.0f} s"
            if e.level == chosen:
                line = f"[bold]{line}  ← exhaustion[/]"
            out.print(line)
    obs = result.observed_failure
    if obs:
        out.print(f"  observed: {obs.kind} at log line {obs.line}"
                  + (f", cycle {obs.cycle}" if obs.cycle is not None else ""))
        if obs.explanation:
            out.print(f"    {obs.explanation}")
    if fc and fc.basis:
        out.print(f"  forecast basis: {fc.basis}")
    for note in result.notes:
        warn(escape(note))
