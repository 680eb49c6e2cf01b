"""Leak detection over time from the heap overviews of one log.

What the seed-case engineers did by eye ("the free heap goes down by the same amount every
reconnect"), with numbers: one point per cycle, a robust slope with its interval, the warm-up
cut off, a classification with its evidence, and a forecast of the cycle at which the heap
runs out.

Classification (the survey's J and E lessons):
- ``steady_leak``: free heap falls cycle after cycle (Theil–Sen interval below zero, a
  monotone trend by Mann–Kendall, a decline well above the noise);
- ``step``: the decline is made of a few jumps with flat stretches between (bursts that are
  never given back);
- ``fragmentation``: free heap flat while the largest free block shrinks (when printed);
- ``warmup_plateau``: a drop in the first cycles (caches, pools filled once), then flat;
- ``no_leak``: nothing of the above; ``insufficient`` when there are too few points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median
from typing import Any, Literal

from memsleuth.analysis import heap_rows
from memsleuth.analysis.block_tally import tally
from memsleuth.analysis.changepoint import LeakTest, leak_test, t_quantile
from memsleuth.analysis.regression import Fit, crossing, theil_sen
from memsleuth.analysis.series import HeapSeries, overview_problem
from memsleuth.records import (
    AllocWarning,
    BlockDump,
    Boot,
    CrashDump,
    CycleMarker,
    HeapOverview,
    HeapRun,
    ObjectEventRun,
)
from memsleuth.results import trend as rt
from memsleuth.results.common import extend
from memsleuth.results.trend import Curve, Forecast, Trend

XMode = Literal["auto", "cycle", "time", "index"]

#: A decline counts as material when the fitted drop over the analysed span is at least this
#: many noise widths (1.4826·MAD of the residuals) ...
MATERIAL_NOISE = 3.0
#: ... and at least this fraction of the heap size (when known).
MATERIAL_HEAP = 0.002
#: Mann–Kendall p-value below which a monotone trend is accepted.
TREND_P = 0.01
#: Share of the decline that jumps must explain for a step/burst verdict.
STEP_SHARE = 0.7
MIN_POINTS = 6
#: Points the forecast's fit needs after the model's end of the warm-up.
MIN_SEGMENT_FIT = 5
#: The early-verdict model (``leak_settled``, ``analysis/changepoint.py``): a decline is a
#: leak once no warm-up can explain it, a warm-up being a fill (linear or saturating) that
#: ends within WARMUP_SPAN cycles of the first point (overviews, in index or time mode).
#: Measured by benchmarks/bench_verdict.py (README "Early verdict").
WARMUP_SPAN = 20
#: Buffers that pile up (sawtooth churn) are released within this many cycles: a fall
#: shorter than that with no release seen is not yet a leak.
CHURN_SPAN = 15
#: The former fixed floor, kept for the live tracker's own alerts (live/tracker.py).
MIN_LEAK_POINTS = 32
#: Earlier runs (before reboots, other heaps) that leaked, kept for the verdict.
EARLIER_LEAKS_KEPT = 5
#: Which forecast level is "the" exhaustion, best first (see ``forecast``).
EXHAUSTION_ORDER = (
    "largest_block_below_cycle_demand", "largest_block_below_allocation",
    "free_below_cycle_demand", "free_below_allocation", "free_zero",
)


@dataclass(slots=True)
class Point:
    """One point of the heap curve."""

    x: float
    index: int                  # ordinal among the selected points
    cycle: int | None
    ts: float | None
    line: int
    free: int
    total: int | None
    min_free: int | None
    max_free_block: int | None
    pool_free: int | None
    nested: bool

    def view(self) -> rt.TrendPoint:
        return rt.TrendPoint(
            x=self.x, cycle=self.cycle, ts=self.ts, line=self.line, free=self.free,
            min_free=self.min_free, max_free_block=self.max_free_block,
            pool_free=self.pool_free)


#: F statistic a hinge (warm-up) must reach against a straight line. High on purpose: the
#: break point is searched, which inflates F.
WARMUP_F = 20.0


def _solve3(m: list[list[float]], v: list[float]) -> list[float] | None:
    """Solve a 3x3 linear system (Gaussian elimination with partial pivoting)."""
    a = [row[:] + [v[i]] for i, row in enumerate(m)]
    for col in range(3):
        piv = max(range(col, 3), key=lambda r: abs(a[r][col]))
        if abs(a[piv][col]) < 1e-12:
            return None
        a[col], a[piv] = a[piv], a[col]
        for r in range(col + 1, 3):
            f = a[r][col] / a[col][col]
            for c in range(col, 4):
                a[r][c] -= f * a[col][c]
    out = [0.0, 0.0, 0.0]
    for r in (2, 1, 0):
        out[r] = (a[r][3] - sum(a[r][c] * out[c] for c in range(r + 1, 3))) / a[r][r]
    return out


def step_excess(xs: list[float], ys: list[float], slope: float | None = None) -> list[float]:
    """Each step minus what the trend explains over its x distance (uneven x allowed)."""
    dx = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    dy = [b - a for a, b in zip(ys, ys[1:], strict=False)]
    if slope is None:
        rates = [y / x for x, y in zip(dx, dy, strict=True) if x]
        slope = median(rates) if rates else 0.0
    return [y - slope * x for x, y in zip(dx, dy, strict=True)]


def first_jump(xs: list[float], ys: list[float]) -> int | None:
    """Index of the first point after a drop far outside the spread of single steps."""
    diffs = step_excess(xs, ys)
    if len(diffs) < 3:
        return None
    typical = median(diffs)
    spread = 1.4826 * median(abs(d - typical) for d in diffs)
    thresh = max(6 * spread, 1.0)
    big = [d - typical < -thresh for d in diffs]
    i = 0
    while i < len(big):
        if not big[i]:
            i += 1
            continue
        j = i
        while j < len(big) and big[j]:
            j += 1
        # a burst is one or two steps; a longer run of steep steps is a steeper stretch (a
        # warm-up), which the hinge fit is for
        if j - i <= 2:
            return i + 1
        i = j
    return None


def detect_warmup(xs: list[float], ys: list[float]) -> tuple[int, dict[str, Any]]:
    """Points to drop at the start: a steeper fall that stops (caches, pools filled once).

    Least-squares hinge y = a + b·x + c·max(0, x_k − x) against a line, break x_k searched
    over the first 60 % of the points before the first big jump (a burst later in the run
    is a step, not warm-up). Accepted when c > 0 (the early points sit above the later
    line) and the hinge beats the line by an F statistic above ``WARMUP_F``.
    """
    n = len(xs)
    jump = first_jump(xs, ys)
    m = jump if jump is not None else n
    info: dict[str, Any] = {"method": "auto", "searched": m}
    if m < 2 * MIN_POINTS:
        return 0, {**info, "reason": "too few points before the first jump"}
    x0 = sum(xs[:m]) / m
    y0 = sum(ys[:m]) / m
    x = [v - x0 for v in xs[:m]]
    y = [v - y0 for v in ys[:m]]
    sx = sum(x)
    sxx = sum(v * v for v in x)
    sy = sum(y)
    sxy = sum(a * b for a, b in zip(x, y, strict=True))
    syy = sum(v * v for v in y)
    lin = _solve3([[m, sx, 0.0], [sx, sxx, 0.0], [0.0, 0.0, 1.0]], [sy, sxy, 0.0])
    if lin is None:
        return 0, {**info, "reason": "degenerate x"}
    rss0 = max(0.0, syy - lin[0] * sy - lin[1] * sxy)
    best: tuple[float, int, list[float]] | None = None
    px = py = pxx = pxy = 0.0
    for k in range(1, int(0.6 * m) + 1):
        # prefix sums over i < k, where h_i = x_k - x_i > 0
        px += x[k - 1]
        py += y[k - 1]
        pxx += x[k - 1] ** 2
        pxy += x[k - 1] * y[k - 1]
        if k < 2:
            continue
        xk = x[k]
        sh = k * xk - px
        shh = k * xk * xk - 2 * xk * px + pxx
        shx = xk * px - pxx
        shy = xk * py - pxy
        beta = _solve3([[m, sx, sh], [sx, sxx, shx], [sh, shx, shh]], [sy, sxy, shy])
        if beta is None or beta[2] <= 0:
            continue
        rss1 = max(0.0, syy - beta[0] * sy - beta[1] * sxy - beta[2] * shy)
        if best is None or rss1 < best[0]:
            best = (rss1, k, beta)
    if best is None:
        return 0, {**info, "reason": "no earlier, steeper fall"}
    rss1, k, beta = best
    gain = rss0 - rss1
    if gain <= 1e-9 * max(syy, 1.0):
        return 0, {**info, "reason": "a straight line fits as well"}
    f_stat = gain / (rss1 / (m - 3)) if rss1 > 0 else math.inf
    drop = beta[2] * (x[k] - x[0])
    info.update(f=round(f_stat, 1) if math.isfinite(f_stat) else "inf", break_index=k,
                slope_before=round(beta[1] - beta[2], 2), slope_after=round(beta[1], 2),
                drop=round(drop, 1))
    if f_stat < WARMUP_F:
        return 0, {**info, "reason": "break not significant"}
    return k, info


def cycle_demand(points: list[Point]) -> list[int]:
    """Per-cycle transient demand: free at a cycle's start minus the new low-water mark.

    MinFreeSz only moves when a cycle goes deeper than ever before, so each move is a lower
    bound of that cycle's peak demand; the largest one seen is the level at which the next
    such cycle fails to allocate.
    """
    out: list[int] = []
    for a, b in zip(points, points[1:], strict=False):
        if a.min_free is not None and b.min_free is not None and b.min_free < a.min_free:
            out.append(max(0, a.free - b.min_free))
    return out


def _fit_view(fit: Fit | None) -> rt.Fit | None:
    return None if fit is None else rt.Fit(**fit.to_dict())


def _jumps(xs: list[float], ys: list[float], slope: float, noise: float) -> dict[str, Any]:
    """Down-steps well outside the typical step: how much of the decline they explain."""
    diffs = step_excess(xs, ys, slope)
    if not diffs:
        return {"count": 0, "steps": 0, "threshold": 0.0, "typical_step": 0.0, "sizes": [],
                "sizes_all": [], "given_back": 0.0, "spread": 0.0, "rises": 0}
    typical = median(diffs)
    spread = 1.4826 * median(abs(d - typical) for d in diffs)
    # Relative to the spread of the steps themselves: the residual noise around one line is
    # inflated by the very jumps we look for.
    thresh = max(6 * spread, 0.5 * noise, 1.0)
    jumps = [d - typical for d in diffs if d - typical < -thresh]
    # a rise as far outside gives back what a drop took (one damaged row is a spike: up,
    # then down): only the net drop is a burst kept
    rises = [d - typical for d in diffs if d - typical > thresh]
    return {
        "count": len(jumps), "steps": len(diffs), "threshold": round(thresh, 1),
        "typical_step": typical, "sizes": sorted(jumps)[:10], "sizes_all": jumps,
        "given_back": sum(rises), "spread": round(spread, 1), "rises": len(rises),
    }


def analyze_points(
    points: list[Point],
    *,
    x_mode: str,
    warmup: int | Literal["auto"] = "auto",
    allocation_size: int | None = None,
    confidence: float = 0.95,
    rows_from: str = "overviews",
) -> Curve:
    """Fit, classify and forecast a heap curve; see ``TrendCollector.result`` for the keys
    (``rows_from`` names the index's unit in the reasons: overview, or block dump)."""
    total = next((p.total for p in points if p.total), None)
    head: dict[str, Any] = {
        "x": x_mode, "points": len(points), "total": total,
        "first": points[0].view() if points else None,
        "last": points[-1].view() if points else None,
    }
    if len(points) < MIN_POINTS:
        why = f"{len(points)} points, need {MIN_POINTS}"
        return Curve(**head, classification="insufficient", leak=False, warmup=None,
                     fit=None, max_free_block_fit=None, evidence=None, forecast=None,
                     reason=f"too few heap overviews to judge: {why}")
    xs = [p.x for p in points]
    ys = [float(p.free) for p in points]
    if warmup == "auto":
        cut, wdet = detect_warmup(xs, ys)
        if len(points) - cut < MIN_POINTS:
            cut, wdet = 0, {**wdet, "reason": "too few points after the warm-up"}
        more = _curved_start(xs[cut:], ys[cut:])
        if more:
            cut += more
            wdet = {**wdet, "break_index": cut, "curved_start": more}
    else:
        if not 0 <= int(warmup) <= len(points) - MIN_POINTS:
            raise ValueError(f"--warmup {warmup}: the series has {len(points)} points and "
                             f"needs {MIN_POINTS} after the warm-up")
        cut, wdet = int(warmup), {"method": "fixed"}
    tx, ty = xs[cut:], ys[cut:]
    fit = theil_sen(tx, ty, confidence=confidence)
    noise = 1.4826 * fit.residual_mad
    span = tx[-1] - tx[0]
    decline = -fit.slope * span
    material = decline > max(MATERIAL_NOISE * noise, MATERIAL_HEAP * (total or 0), 1.0)
    trending = fit.slope_high < 0 and fit.mk_p < TREND_P and fit.mk_s < 0
    jumps = _jumps(tx, ty, fit.slope, noise)
    step_spread, rises = jumps.pop("spread"), jumps.pop("rises")
    k = max(3, len(ty) // 10)
    level_drop = median(ty[:k]) - median(ty[-k:])
    jumps["level_drop"] = level_drop
    kept = -sum(jumps["sizes_all"]) - jumps.pop("given_back", 0.0)
    jumps["share"] = round(kept / level_drop, 3) if level_drop > 0 else 0.0
    del jumps["sizes_all"]
    heap_floor = max(MATERIAL_NOISE * noise, MATERIAL_HEAP * (total or 0), 1.0)
    warm_drop = (wdet.get("drop") or (ys[0] - fit.predict(xs[0]))) if cut else 0.0
    warm = {
        "points": cut, "until_x": xs[cut - 1] if cut else None,
        **wdet, "drop": round(warm_drop, 1),
    }

    mfb = [(p.x, float(p.max_free_block)) for p in points[cut:] if p.max_free_block is not None]
    mfb_fit = theil_sen([a for a, _ in mfb], [b for _, b in mfb]) if len(mfb) >= MIN_POINTS \
        and len({a for a, _ in mfb}) > 1 else None
    pool = [(p.x, float(p.pool_free)) for p in points[cut:] if p.pool_free is not None]
    pool_fit = theil_sen([a for a, _ in pool], [b for _, b in pool]) if len(pool) >= MIN_POINTS \
        and len({a for a, _ in pool}) > 1 else None

    frag = None
    if mfb_fit is not None:
        mfb_noise = 1.4826 * mfb_fit.residual_mad
        mfb_decline = -mfb_fit.slope * span
        first_mfb = mfb[0][1]
        frag = {
            "max_free_block_slope": round(mfb_fit.slope, 3),
            "max_free_block_decline": round(mfb_decline, 1),
            "first": first_mfb, "last": mfb[-1][1],
            "shrinking": mfb_fit.slope_high < 0 and mfb_fit.mk_p < TREND_P
            and mfb_decline > max(MATERIAL_NOISE * mfb_noise, 0.05 * first_mfb),
            # the largest block falls far faster than the free total: holes, not loss
            "ratio_to_free_decline": round(mfb_decline / decline, 2) if decline > 0 else None,
        }

    unit = rt.x_unit(x_mode, rows_from)
    evidence: dict[str, Any] = {
        "slope": round(fit.slope, 3), "slope_interval": [fit.slope_low, fit.slope_high],
        "confidence": fit.confidence, "unit": f"B/{unit}", "mann_kendall_p": fit.mk_p,
        "kendall_tau": round(fit.kendall_tau, 3),
        "noise": round(noise, 1), "decline_over_span": round(decline, 1), "span": span,
        "material": material, "trending": trending, "jumps": jumps,
    }
    if frag is not None:
        evidence["fragmentation"] = frag
    if pool_fit is not None:
        evidence["pool"] = {"slope": round(pool_fit.slope, 3),
                            "interval": [pool_fit.slope_low, pool_fit.slope_high],
                            "mann_kendall_p": pool_fit.mk_p}

    # A step is judged against the spread of single steps (its own threshold), not against
    # the residuals around one line, which the step itself inflates.
    step_floor = max(MATERIAL_HEAP * (total or 0), jumps["threshold"])
    # "flat otherwise": the typical single step (a median, blind to a few jumps) must not
    # add up to a material decline of its own, or the jumps sit on a leak (or are damaged
    # rows) and the curve is not a burst kept
    rates = [(ty[i + 1] - ty[i]) / (tx[i + 1] - tx[i]) for i in range(len(tx) - 1)
             if tx[i + 1] > tx[i]]
    rate_med = median(rates) if rates else 0.0     # once: it was taken again per rate below
    base_decline = -rate_med * span if rates else 0.0
    jumps["base_decline"] = round(base_decline, 1)
    # "no leak", "then flat" and "flat otherwise" must rule a material fall out. The
    # residual noise around one line also grows with rows out of order (blocks of a falling
    # run moved: a saw), which lifts the floor over the very fall it hides; the spread of
    # single steps does not grow so. Judged against the smaller of the two, a slope
    # interval that still holds a material fall while the typical step falls is not
    # evidence of "no leak".
    step_noise = step_spread / math.sqrt(2)
    saw_floor = max(MATERIAL_NOISE * min(noise, step_noise), MATERIAL_HEAP * (total or 0), 1.0)
    # the typical step falls for sure: its median is 3 standard errors below zero (a flat
    # noisy heap's steps fall and rise alike)
    rate_spread = 1.4826 * median(abs(r - rate_med) for r in rates) if rates else 0.0
    steps_fall = bool(rates) and -rate_med > 3 * 1.2533 * rate_spread / math.sqrt(len(rates))
    stepped = (
        jumps["count"] >= 1 and level_drop > step_floor and jumps["share"] >= STEP_SHARE
        and jumps["count"] <= max(3, 0.1 * jumps["steps"]) and base_decline <= heap_floor
        # the jump itself inflates the residual noise: judged against single steps, a
        # curve whose other steps all fall alike is not flat between its jumps
        and not (steps_fall and base_decline > saw_floor)
    )
    if stepped:
        cls = "step"
    elif trending and material:
        cls = "steady_leak"
    elif frag is not None and frag["shrinking"]:
        cls = "fragmentation"
    elif cut and warm_drop > heap_floor:
        cls = "warmup_plateau"
    else:
        cls = "no_leak"
    reason = _reason(cls, evidence, warm, unit)
    # "fragmentation" says the free heap is flat too: the same evidence is needed for it
    flat_claim = cls in ("no_leak", "fragmentation")
    if cls == "fragmentation" and fit.slope_high < 0 \
            and decline > max(MATERIAL_HEAP * (total or 0), 1.0):
        # the free heap falls for sure (a saw of moved rows kept the rank test from calling
        # it): "flat while the largest block shrinks" read clean on a leaking log
        cls = "insufficient"
        reason = (f"free heap falls {-fit.slope:.1f} B/{unit} (95% sure between "
                  f"{fit.slope_low:+.1f} and {fit.slope_high:+.1f}) over {len(tx)} point(s), "
                  f"{decline:.0f} B against noise of {noise:.0f} B: too irregular to call it "
                  "a steady leak, too steep to call it flat")
    if flat_claim and fit.slope < 0 and decline > max(MATERIAL_NOISE * noise, 1.0) \
            and (material or fit.slope_high < 0):
        # the robust line falls by more than the noise (and the heap's share, or surely),
        # only not yet significant by rank or against a heap size a damaged row set: not
        # evidence of "no leak"
        cls = "insufficient"
        reason = (f"free heap falls {-fit.slope:.1f} B/{unit} over {len(tx)} point(s), "
                  f"{decline:.0f} B against noise of {noise:.0f} B: too little to call it "
                  "a leak or no leak yet")
    if flat_claim and cls != "insufficient" and steps_fall and base_decline > saw_floor \
            and -fit.slope_low * span > saw_floor:
        cls = "insufficient"
        reason = (f"free heap {fit.slope:+.1f} B/{unit} (95% sure between "
                  f"{fit.slope_low:+.1f} and {fit.slope_high:+.1f}); most steps fall alike "
                  f"({base_decline:.0f} B over the span against single-step noise of "
                  f"{step_noise:.0f} B) but {jumps['count'] + rises} step(s) jump far outside: "
                  "cannot rule a leak out")
    if cls == "warmup_plateau" and (fit.slope_high < 0
                                    or -fit.slope_low * (tx[-1] - tx[0]) > saw_floor):
        # "then flat" needs the slope after the warm-up to rule out a material fall: a
        # steady leak 19 cycles past its warm-up read "flat (-47 B/cycle, 95 % sure between
        # -118 and +12)" and check said clean on a leaking log
        lo, hi = fit.slope_low, fit.slope_high
        cls = "insufficient"
        reason = (f"{warm_drop:.0f} B taken in the first {cut} point(s), then "
                  f"{fit.slope:+.1f} B/{unit} (95% sure between {lo:+.1f} and {hi:+.1f}) "
                  f"over {len(tx)} point(s): the fall after the warm-up may still be a "
                  "leak; too little to call it a plateau yet")
    test: LeakTest | None = None
    if cls == "steady_leak":
        word = rt.x_unit(x_mode, rows_from)
        settled, test, why = leak_settled(xs, ys, cut, warmup_span(xs, x_mode), (tx, ty),
                                          word if word == "s" else word + "s")
        evidence["early_verdict"] = {"settled": settled, "why": why, "segment_points": len(tx),
                                     "change_point": cut > 0}
        seg = [i for i, v in enumerate(xs) if test is not None and v >= test.start]
        refit = theil_sen(xs[seg[0]:], ys[seg[0]:], confidence=confidence) \
            if settled and seg and seg[0] > cut and len(seg) >= MIN_SEGMENT_FIT else None
        if refit is not None and refit.slope_high < 0:
            # the model put the end of the warm-up later than the hinge did: the forecast
            # rests on the steady fall only
            cut, fit = seg[0], refit
            tx, ty = xs[cut:], ys[cut:]
            warm["points"], warm["until_x"] = cut, xs[cut - 1]
            noise = 1.4826 * fit.residual_mad
            evidence.update(
                slope=round(fit.slope, 3), slope_interval=[fit.slope_low, fit.slope_high],
                mann_kendall_p=fit.mk_p, kendall_tau=round(fit.kendall_tau, 3),
                noise=round(noise, 1), span=tx[-1] - tx[0],
                decline_over_span=round(-fit.slope * (tx[-1] - tx[0]), 1))
            reason = _reason(cls, evidence, warm, unit)
        if not settled:
            cls = "insufficient"
            reason = f"cannot tell a leak from a warm-up yet: {why}; so far: {reason}"
    ffit = fit
    if cls == "steady_leak" and test is not None and test.leak:
        ffit = _with_model(fit, test, xs, confidence)
    return Curve(
        **head,
        classification=cls,  # type: ignore[arg-type]
        leak=cls == "steady_leak",
        warmup=rt.Warmup(**warm),
        fit=_fit_view(fit),
        max_free_block_fit=_fit_view(mfb_fit),
        evidence=_evidence(evidence),
        reason=reason,
        forecast=forecast(ffit, points, cut, x_mode, allocation_size, mfb_fit)
        if cls in ("steady_leak", "fragmentation") else None,
    )


def _evidence(ev: dict[str, Any]) -> rt.Evidence:
    """The evidence dict ``analyze_points`` builds, as its result type."""
    lo, hi = ev["slope_interval"]
    parts = {
        "jumps": rt.Jumps(**{**ev["jumps"], "sizes": tuple(ev["jumps"]["sizes"])}),
        "slope_interval": (lo, hi),
        "fragmentation": rt.FragmentationEvidence(**ev["fragmentation"])
        if "fragmentation" in ev else None,
        "pool": rt.PoolEvidence(**{**ev["pool"], "interval": tuple(ev["pool"]["interval"])})
        if "pool" in ev else None,
        "early_verdict": rt.EarlyVerdict(**ev["early_verdict"])
        if "early_verdict" in ev else None,
    }
    return rt.Evidence(**{**ev, **parts})


def _with_model(fit: Fit, test: LeakTest, xs: list[float], confidence: float) -> Fit:
    """The line the forecast extrapolates: the model's final line (past its bend, the fill's
    term gone), pivoting at the centre of its steady fall; its slope interval is the hull of
    the model's t interval, the slopes of the shapes the data cannot tell from the best one
    (an uncertain bend or θ) and the robust fit's interval (two estimators that disagree:
    that disagreement is the model's error, not noise). A hull reaching zero is cut at a
    tenth of the slope (the forecast's latest bound then says "much later", not "never")."""
    tail = [v for v in xs if v >= test.start] or xs[-1:]
    xc = sum(tail) / len(tail)
    half = t_quantile((1 - confidence) / 2, max(1, test.nu)) * test.slope_se
    low = min(fit.slope_low, test.slope - half, test.slope_min - half)
    high = max(test.slope + half, test.slope_max + half)
    if fit.slope_high < 0:
        high = max(high, fit.slope_high)
    return Fit(
        slope=test.slope, intercept=test.intercept,
        slope_low=low, slope_high=high if high < 0 else max(fit.slope_high, test.slope / 10),
        confidence=fit.confidence, n=fit.n, x_center=xc,
        y_center=test.intercept + test.slope * xc, residual_mad=fit.residual_mad,
        mk_s=fit.mk_s, mk_z=fit.mk_z, mk_p=fit.mk_p, kendall_tau=fit.kendall_tau,
    )


def leak_settled(xs: list[float], ys: list[float], cut: int, span: float,
                 seg: tuple[list[float], list[float]] | None = None, unit: str = "cycles",
                 ) -> tuple[bool, LeakTest | None, str]:
    """Is the decline of this curve (all its points, warm-up included) a leak rather than a
    warm-up still running? (settled, why): the nested-model test of ``changepoint``, on the
    curve with its kept bursts taken out, plus the churn guards on the segment after the
    ``cut`` warm-up points (``seg``). The second item is the model's test, when it ran."""
    tx, ty = seg if seg is not None else (xs[cut:], ys[cut:])
    ups = _rises(tx, ty)
    if ups and ups < CHURN_RELEASES and len(tx) < CHURN_POINTS:
        return False, None, ("1 release of memory seen (buffers given back: churn); a fall "
                             f"through churn is judged once {CHURN_RELEASES} are seen (a whole "
                             f"tooth of the sawtooth) or over {CHURN_POINTS} points")
    if xs[-1] - xs[0] < CHURN_SPAN * span / WARMUP_SPAN and not _rises(xs, ys):
        return False, None, (f"buffers that pile up are released within "
                             f"{CHURN_SPAN * span / WARMUP_SPAN:.0f} {unit} (churn): a fall "
                             "shorter than that, with no release seen yet, may be one")
    whole = theil_sen(tx, ty)
    # the fall must exceed the whole swing around the line (sawtooth churn: buffers that
    # pile up and are released swing the curve by their amplitude, in either direction)
    resid = [y - whole.predict(x) for x, y in zip(tx, ty, strict=True)]
    swing = max(resid) - min(resid)
    fall = -whole.slope * (tx[-1] - tx[0])
    if fall <= swing:
        return False, None, (f"the fall over the segment ({fall:.0f} B) is not larger than "
                             f"the swing around it ({swing:.0f} B): churn, or too early")
    test = leak_test(xs, _without_bursts(xs, ys), span, unit)
    return test.leak, test, test.why


#: Records kept while a counter restart waits for its evidence (the next marker, a boot
#: banner, the heap back at its boot level); past that many the restart stands.
RESTART_BUFFER = 4096

#: Releases (rises of the free heap) to see before a fall through churn is judged: one
#: whole tooth of the sawtooth, so the fall is measured across it, not along one (the fall
#: must also exceed the swing around the line; measured: 1 false alarm in 382 churn curves,
#: against 48 points before)
CHURN_RELEASES = 2
#: ... or over this many points (one release in a long series: a spike, not a sawtooth)
CHURN_POINTS = 48


def _without_bursts(xs: list[float], ys: list[float]) -> list[float]:
    """The curve with its isolated down-jumps (bursts kept, a step) taken out, so a burst in
    the middle of a leak does not read as a bend."""
    diffs = step_excess(xs, ys)
    if len(diffs) < 3:
        return list(ys)
    typical = median(diffs)
    spread = 1.4826 * median(abs(d - typical) for d in diffs)
    thresh = max(6 * spread, 1.0)
    if any(y1 - y0 > thresh for y0, y1 in zip(ys, ys[1:], strict=False)):
        return list(ys)     # spikes (up then down) or churn: nothing is a kept burst
    out = [ys[0]]
    for i, d in enumerate(diffs):
        step = ys[i + 1] - ys[i]
        if d - typical < -thresh:
            step -= d - typical
        out.append(out[-1] + step)
    return out


def _rises(xs: list[float], ys: list[float]) -> int:
    """Rises of the free heap well above the spread of single steps (3 spreads): memory
    given back, which tells churn from a fall that could be a leak."""
    diffs = step_excess(xs, ys)
    if len(diffs) < 3:
        return 0
    typical = median(diffs)
    spread = 1.4826 * median(abs(d - typical) for d in diffs)
    thresh = max(3 * spread, 1.0)
    # the free heap itself goes up (a bend to a slower fall is no release)
    return sum(1 for d, y0, y1 in zip(diffs, ys, ys[1:], strict=False)
               if d - typical > thresh and y1 > y0)


#: t statistic of the quadratic term above which a decline counts as slowing down ...
CURVATURE_T = 2.5
#: ... when the fitted rate at the end is below this share of the rate at the start
SLOWING_RATIO = 0.5


def warmup_span(xs: list[float], x_mode: str) -> float:
    """WARMUP_SPAN in x units: cycles, else overviews at their median spacing."""
    if x_mode == "cycle" or len(xs) < 2:
        return float(WARMUP_SPAN)
    return WARMUP_SPAN * median(b - a for a, b in zip(xs, xs[1:], strict=False))


def _curved_start(xs: list[float], ys: list[float]) -> int:
    """Points to drop at the start while the rest still curves like a warm-up tail (a fall
    that slows); 0 when the series is straight or no cut within its first 60 % straightens
    it. Catches the gradual warm-ups the hinge misses (no single bend)."""
    jump = first_jump(xs, ys)      # a burst later in the run is a step, not warm-up
    if jump is not None:
        xs, ys = xs[:jump], ys[:jump]
    n = len(xs)
    def curved(a: list[float], b: list[float]) -> bool:
        t, ratio = curvature_t(a, b)
        return t > CURVATURE_T and ratio < SLOWING_RATIO

    if n < 2 * MIN_POINTS or not curved(xs, ys):
        return 0
    for k in range(1, int(0.6 * n)):
        if n - k < MIN_POINTS:
            break
        if not curved(xs[k:], ys[k:]):
            return k
    return 0


def curvature_t(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(t, ratio) of the least-squares fit y = a + b·x + c·x²: t is c's t statistic
    (positive: the fall is slowing, as a warm-up's does; a leak's line has c ≈ 0), ratio the
    fitted rate at the last point over the rate at the first (1 for a straight fall)."""
    n = len(xs)
    if n < 5:
        return 0.0, 1.0
    x0 = sum(xs) / n
    x = [v - x0 for v in xs]
    s1, s2, s3, s4 = (sum(v ** k for v in x) for k in (1, 2, 3, 4))
    sy = sum(ys)
    sxy = sum(a * b for a, b in zip(x, ys, strict=True))
    sxxy = sum(a * a * b for a, b in zip(x, ys, strict=True))
    m = [[n, s1, s2], [s1, s2, s3], [s2, s3, s4]]
    beta = _solve3(m, [sy, sxy, sxxy])
    if beta is None:
        return 0.0, 1.0
    start = beta[1] + 2 * beta[2] * x[0]
    end = beta[1] + 2 * beta[2] * x[-1]
    ratio = end / start if start < 0 else 1.0
    rss = sum((y - beta[0] - beta[1] * v - beta[2] * v * v) ** 2
              for v, y in zip(x, ys, strict=True))
    sigma2 = rss / (n - 3) if n > 3 else 0.0
    # variance of c: sigma² times the (3,3) entry of the inverse normal matrix
    e3 = _solve3(m, [0.0, 0.0, 1.0])
    if e3 is None or e3[2] <= 0:
        return 0.0, ratio
    if sigma2 <= 0:
        return (math.inf if beta[2] > 1e-9 else 0.0), ratio
    return beta[2] / math.sqrt(sigma2 * e3[2]), ratio


def _reason(cls: str, ev: dict[str, Any], warm: dict[str, Any], unit: str) -> str:
    """Plain words for the verdict (the test statistics stay in ``evidence`` and the JSON)."""
    lo, hi = ev["slope_interval"]
    sure = f"{ev.get('confidence') or 0.95:.0%} sure"
    slope = f"{ev['slope']:+.1f} B/{unit} ({sure} between {lo:+.1f} and {hi:+.1f})"
    if cls == "steady_leak":
        return (f"free heap falls {-ev['slope']:.1f} B/{unit} ({sure} between {-hi:.1f} and "
                f"{-lo:.1f}), {ev['decline_over_span']:.0f} B over the span against noise of "
                f"{ev['noise']:.0f} B")
    if cls == "step":
        j = ev["jumps"]
        return (f"free heap drops {j['level_drop']:.0f} B in {j['count']} jump(s) "
                f"({', '.join(f'{v:+.0f}' for v in j['sizes'][:3])} B), flat otherwise: a burst "
                f"kept, not a steady leak ({slope})")
    if cls == "fragmentation":
        f = ev["fragmentation"]
        return (f"free heap flat ({slope}) while the largest free block shrinks "
                f"{f['first']:.0f} -> {f['last']:.0f} B ({f['max_free_block_slope']:+.1f} "
                f"B/{unit})")
    if cls == "warmup_plateau":
        return (f"{warm['drop']:.0f} B taken in the first {warm['points']} point(s), then flat "
                f"({slope})")
    if cls == "no_leak":
        return f"no material downward trend ({slope}, p={ev['mann_kendall_p']:.2g})"
    return cls


def _line_at(fit: Fit, x: float) -> float:
    return fit.y_center + fit.slope * (x - fit.x_center)


def forecast(
    fit: Fit,
    points: list[Point],
    cut: int,
    x_mode: str,
    allocation_size: int | None,
    mfb_fit: Fit | None,
) -> Forecast:
    """When the free heap (or the largest free block) reaches the failure level.

    Levels: 0 B of free heap, and the largest allocation seen (the first request of that size
    fails once less is free; with the largest-free-block column, once the largest block is
    smaller). Intervals pivot the slope interval around the fit's centre.
    """
    levels: list[dict[str, Any]] = []
    targets: list[tuple[str, Fit, float]] = []
    demand = cycle_demand(points)
    peak = float(max(demand)) if demand else None
    if fit.slope_high < 0:
        targets.append(("free_zero", fit, 0.0))
        if allocation_size:
            targets.append(("free_below_allocation", fit, float(allocation_size)))
        if peak:
            targets.append(("free_below_cycle_demand", fit, peak))
    if mfb_fit is not None and mfb_fit.slope_high < 0:
        if allocation_size:
            targets.append(("largest_block_below_allocation", mfb_fit, float(allocation_size)))
        if peak:
            targets.append(("largest_block_below_cycle_demand", mfb_fit, peak))
    time_map = _time_map(points) if x_mode == "cycle" else None
    for name, f, level in targets:
        mid, early, late = crossing(f, level)
        entry: dict[str, Any] = {
            "level": name, "bytes": level,
            "at": _r(mid), "earliest": _r(early), "latest": _r(late),
        }
        if time_map is not None and mid is not None:
            entry["time"] = _r(time_map(mid))
            entry["time_earliest"] = _r(time_map(early)) if early is not None else None
            entry["time_latest"] = _r(time_map(late)) if late is not None else None
        levels.append(entry)
    # A cycle fails to allocate once the largest free block at its start cannot hold what a
    # cycle takes at its worst (the peak demand seen so far), or, without the low-water mark,
    # the largest allocation seen; without the largest-block column the same levels apply to
    # the free total (optimistic: fragmentation makes it fail earlier); zero is the last resort.
    valid = {e["level"]: e for e in levels if e["at"] is not None}
    exh = next((valid[k] for k in EXHAUSTION_ORDER if k in valid), None)
    if exh is not None:
        exh = _widened(exh, list(valid.values()))
    if exh is None:
        basis = None
    elif exh["level"].startswith("largest_block"):
        basis = ("the largest free block (printed): it fails when no block can hold "
                 "the request, whatever the free total")
    else:
        basis = ("free total only (no largest-free-block figure): an upper bound on the "
                 "failure cycle, fragmentation makes it fail earlier")
    return Forecast(
        x=x_mode, allocation_size=allocation_size,  # type: ignore[arg-type]
        levels=tuple(rt.ForecastLevel(**e) for e in levels),
        exhaustion=None if exh is None else rt.Exhaustion(
            **{**exh, "interval_from": tuple(exh["interval_from"])}),
        basis=basis,
        cycle_demand=rt.CycleDemand(max=max(demand), median=median(demand),
                                    samples=len(demand)) if demand else None,
    )


def _widened(exh: dict[str, Any], levels: list[dict[str, Any]]) -> dict[str, Any]:
    """The exhaustion interval widened by the model's own error, not only the fit's noise.

    What a cycle needs at once is not printed: the largest live block and the largest drop
    of the low-water mark bracket it (transient buffers of a cycle may or may not need one
    contiguous block). Every level of the chosen kind (largest block, or free total) is a
    candidate failure point, so the interval spans all of them; measured on the bundled runs
    (README "Forecast intervals"), the fit's interval alone excluded the real failure.
    """
    family = "largest_block" if exh["level"].startswith("largest_block") else "free_below"
    peers = [e for e in levels if e["level"].startswith(family)] or [exh]
    early = [e["earliest"] for e in peers if e["earliest"] is not None]
    # the free-total levels bound the failure from above (what fails first in between
    # depends on the request sizes, which the log does not print ahead of the failure)
    uppers = [e for e in levels if e["level"].startswith("free_below")] \
        if family == "largest_block" else []
    peers += uppers
    late = [e["latest"] if e["latest"] is not None else e["at"] for e in peers]
    out = dict(exh)
    out["fit_earliest"], out["fit_latest"] = exh["earliest"], exh["latest"]
    if early:
        out["earliest"] = min([*early, exh["at"]])
    if exh["latest"] is not None:
        out["latest"] = max([*late, exh["latest"]])
    out["interval_from"] = [e["level"] for e in peers]
    return out


def _r(v: float | None) -> float | None:
    return None if v is None or math.isinf(v) else round(v, 2)


def _time_map(points: list[Point]):  # -> Callable[[float], float] | None
    """cycle -> seconds, fitted (cycles need not be evenly spaced in time)."""
    pts = [(p.x, p.ts) for p in points if p.ts is not None]
    if len(pts) < 2 or len({a for a, _ in pts}) < 2:
        return None
    f = theil_sen([a for a, _ in pts], [float(b) for _, b in pts])  # type: ignore[misc]
    return lambda c: f.predict(c)


#: Point's fields, the columns a ``_Bins`` keeps
_FIELDS = ("x", "index", "cycle", "ts", "line", "free", "total", "min_free", "max_free_block",
           "pool_free", "nested")
#: how a remedian merge picks each column from a run of three (a, b, c): "b" the middle
#: point's value, "c" the latest (the low-water mark is a running minimum), "med" the median
_MERGE = ("b", "b", "b", "b", "b", "med", "b", "c", "med", "med", "b")
_FREE = _FIELDS.index("free")


class _Bins:
    """A bounded series: past ``capacity`` points, runs of three collapse into their median.

    Rousseeuw & Bassett's remedian: a streaming, robust stand-in for bin medians, so a log
    of any length keeps at most ``capacity`` points (the fit thins to fewer anyway). Kept in
    columns (one list per Point field), so a stretch of cycles read in bulk is added with a
    few list extends and a merge is a few slices and one sort, not a Point per value.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(9, capacity)
        self.cols: list[list[Any]] = [[] for _ in _FIELDS]
        #: stretches added in bulk, as given (NumPy columns too), after ``cols`` in order:
        #: made into Python values only when the points are read or merged (a series that is
        #: never read, or a run forgotten at a reboot, never makes them)
        self.chunks: list[list[Any]] = []
        self._chunked = 0
        #: points added one at a time, as rows (after the chunks; moved into ``cols`` when
        #: the columns are read)
        self.rows: list[tuple[Any, ...]] = []
        self.weight = 1                 # raw points per stored point

    def __len__(self) -> int:
        return len(self.cols[0]) + self._chunked + len(self.rows)

    @property
    def points(self) -> list[Point]:
        self._settle()
        return [Point(*row) for row in zip(*self.cols, strict=True)]

    def add(self, p: Point) -> None:
        self.add_row((p.x, p.index, p.cycle, p.ts, p.line, p.free, p.total, p.min_free,
                      p.max_free_block, p.pool_free, p.nested))

    def add_row(self, row: tuple[Any, ...]) -> None:
        """One point as a tuple in ``_FIELDS`` order."""
        self.rows.append(row)
        if len(self) >= self.capacity:
            self._settle()
            self._merge()

    def _settle(self) -> None:
        for columns in self.chunks:
            for col, src in zip(self.cols, columns, strict=True):
                col.extend(_plain(src))
        self.chunks.clear()
        self._chunked = 0
        rows = self.rows
        if rows:
            for col, values in zip(self.cols, zip(*rows, strict=True), strict=True):
                col.extend(values)
            rows.clear()

    def add_many(self, columns: list[Any]) -> None:
        """Points given as columns (in ``_FIELDS`` order; lists, ranges or NumPy arrays of
        their own): the same as adding them one by one."""
        n = len(columns[0])
        if len(self) + n < self.capacity:      # kept as given until read (see ``chunks``)
            if self.rows:
                self.chunks.append(list(zip(*self.rows, strict=True)))
                self._chunked += len(self.rows)
                self.rows.clear()
            self.chunks.append(columns)
            self._chunked += n
            return
        self._settle()
        columns = [_plain(c) for c in columns]
        start = 0
        while start < n:
            take = min(self.capacity - len(self), n - start)
            for col, src in zip(self.cols, columns, strict=True):
                col.extend(src[start:start + take] if start or take < n else src)
            start += take
            if len(self) >= self.capacity:
                self._merge()

    def _merge(self) -> None:
        n = len(self)
        full = n - n % 3
        merged: list[list[Any]] = []
        for how, col in zip(_MERGE, self.cols, strict=True):
            if how == "b":
                out = col[1:full:3]
            elif how == "c":
                out = col[2:full:3]
            else:
                out = _median3_column(col, full)
                if col is self.cols[_FREE] and None in out:
                    out = [v or 0 for v in out]     # a merged point always has a free figure
            out.extend(col[full:])
            merged.append(out)
        self.cols = merged
        self.weight *= 3


def _plain(values: Any) -> Any:
    """Python values of a column given in bulk (a NumPy array's ``tolist``)."""
    return values.tolist() if hasattr(values, "tolist") else values


def _median3_column(col: list[Any], full: int) -> list[Any]:
    """The median of each run of three of ``col[:full]`` (None values left out, as _med)."""
    a, b, c = col[0:full:3], col[1:full:3], col[2:full:3]
    if col.count(None) == len(col):
        return [None] * len(a)
    if None not in col:
        np = heap_rows.numpy()
        if np is not None:
            try:
                arr = np.array((a, b, c), dtype=np.int64)
            except (OverflowError, TypeError, ValueError):
                pass
            else:
                arr.sort(axis=0)
                return arr[1].tolist()
        return [sorted(t)[1] for t in zip(a, b, c, strict=True)]
    return [_med(*t) for t in zip(a, b, c, strict=True)]


def _med(a: int | None, b: int | None, c: int | None) -> int | None:
    vals = sorted(v for v in (a, b, c) if v is not None)
    return vals[len(vals) // 2] if vals else None


def _row(o: HeapOverview, x: float, index: int, cycle: int | None) -> tuple[Any, ...]:
    """The point of an overview, as a ``_Bins`` row (``_FIELDS`` order)."""
    return (x, index, cycle, o.ts, o.line, o.free, o.total, o.min_free, o.max_free_block,
            o.pool.free if o.pool is not None else None, o.nested)


def explain_failure(f: dict[str, Any]) -> tuple[str | None, str | None]:
    """Why an allocation failed, from what the log printed around it: (sentence, cause).

    cause: "fragmentation" (enough free in total, no block large enough), "exhaustion" (less
    free than asked), None when the log does not say (no size, no free figure).
    """
    need, free = f.get("need"), f.get("free")
    if f.get("kind") == "crash" or not need or free is None:
        return None, None
    where = f" at cycle {f['cycle']}" if f.get("cycle") is not None else ""
    total = f.get("total")
    share = f" ({100 * free / total:.0f}% of the heap)" if total else ""
    head = f"malloc of {need} B failed{where} with {free} B free{share}"
    mfb = f.get("largest_free_block")
    if total and need > total:      # neither exhaustion nor fragmentation: no cause named
        return (f"{head}: the request is larger than the whole heap ({total} B), which no "
                "heap state could serve: a wrong size (a negative or uninitialised length?), "
                "not a sign of a leak"), None
    if need > free:
        return f"{head}: the heap is exhausted", "exhaustion"
    if mfb is not None and mfb < need:
        return (f"{head}: largest free block {mfb} B < {need} B, fragmentation (free space "
                "split into blocks too small for the request)"), "fragmentation"
    if mfb is None:
        return (f"{head}: no largest-free-block figure, probably fragmentation "
                "(enough free in total)"), "fragmentation"
    return f"{head}: largest free block {mfb} B", None


def largest_allocation(record: Any, largest: int | None,
                       heap_total: int | None = None) -> int | None:
    """The largest live block or failed request seen so far, updated by one record: the
    allocation the heap must still be able to serve (a forecast level). A request larger
    than the whole heap (``heap_total``, when known) is none: no heap could serve it (a
    size bug, which the failure's explanation names), and as a level it would put the
    forecast's crossing at the start."""
    sizes: list[int] = []
    if isinstance(record, BlockDump):
        # trusted blocks only: a corrupt header's size (824 MB on an 8 KiB heap) is no level
        sizes = [tally(record).largest_used]
    elif isinstance(record, AllocWarning) and record.need and (
            heap_total is None or record.need <= heap_total):
        sizes = [record.need]
    return max([*sizes, largest or 0]) or largest


class TrendCollector:
    """Streaming heap-curve collector (``on_record``): bounded memory whatever the log size.

    Keeps one point per cycle (first standalone overview, else the first nested one) and one
    per standalone overview (for --x time/index), each bounded by ``_Bins``; plus the first
    allocation failure and the largest block size seen. ``upto`` stops collecting after that
    many cycles (overviews when there are no cycle markers; ``trend --upto``).
    """

    def __init__(self, upto: int | None = None, capacity: int = 20_000) -> None:
        self.upto = upto
        self.capacity = capacity
        self.restarts: list[int] = []   # log lines where the cycle counter restarted (reboot)
        self.glitches: list[int] = []   # log lines of out-of-sequence counter values, ignored
        self.new_heaps: list[int] = []  # log lines where another heap's rows began
        #: runs before a restart or another heap that leaked on their own (the first few)
        self.earlier_leaks: list[rt.EarlierLeak] = []
        self.earlier_undecided: list[rt.EarlierUndecided] = []
        #: impossible rows (FreeSz > TotalSz, ...): how many, and the first (line, why)
        self.impossible = 0
        self.impossible_first: tuple[int, str] | None = None
        #: every allocation failure of the whole log (not reset by a restart): count, first
        self.alloc_failures = 0
        self.first_alloc_failure: dict[str, Any] | None = None
        self._heap = HeapSeries()
        #: where the cycle markers come from (``ParseStats.cycle_source``), set by the verb
        self.cycle_source: dict[str, Any] | None = None
        self.markers_total = 0
        #: a counter back at (or below) its first value, not yet confirmed as a reboot:
        #: {marker, old_cycle, boot_free, last_free, buffer (records held meanwhile)}
        self._candidate: dict[str, Any] | None = None
        self._start()

    def _start(self) -> None:
        """Forget the run so far: a restarted cycle counter means a reboot (or another log
        appended), and a heap curve across a reboot is two curves, not one."""
        capacity = self.capacity
        self.by_cycle = _Bins(capacity)
        self.by_overview = _Bins(capacity)
        self.cycles = 0
        self.cycle: int | None = None
        self._first_index: int | None = None    # the counter's first value in this run
        self._prev_cycle: int | None = None     # the cycle before the current one
        self._pending: HeapOverview | None = None
        self.n_cycle_points = 0
        self.n_overviews = 0
        self.all_timestamped = True
        #: one point per block dump, from the heap statistics printed inside it: the curve of
        #: a log of periodic ``dumpsys mm_info`` with neither overviews of its own nor markers
        self.by_dump = _Bins(capacity)
        self.n_dump_points = 0
        self.dumps_timestamped = True
        self.partial = 0
        self.boot = 0
        self.failure: dict[str, Any] | None = None
        self.largest: int | None = None
        self._free: int | None = None           # free heap of the newest possible row
        self._total: int | None = None
        self._mfb: int | None = None            # its largest free block, when printed
        self._explained = False                 # a dump after the failure was read
        self._run_first_free: int | None = None  # free heap of the run's first row

    def on_record(self, record: Any) -> None:
        if type(record) is HeapRun:
            self._heap_run(record)
            return
        cand = self._candidate
        if cand is not None and not isinstance(record, (CycleMarker, Boot)):
            # a counter restart waits for its evidence: the run stays as it was meanwhile
            # (a run of object events counts as its events: they are records one by one)
            cand["buffer"].append(record)
            cand["held"] += len(record) if isinstance(record, ObjectEventRun) else 1
            if cand["held"] >= RESTART_BUFFER or (
                    isinstance(record, HeapOverview) and self._back_at_boot(record)):
                self._resolve(reboot=True)      # the heap is back at its boot level
            return
        if isinstance(record, HeapOverview):
            self._overview(record)
        elif isinstance(record, CycleMarker):
            self._marker(record)
        elif isinstance(record, Boot):
            self._boot(record)
        elif isinstance(record, BlockDump):
            if record.overview is not None:
                self._overview(record.overview)
            t = tally(record)       # (trusted blocks: a corrupt header's size is garbage)
            if t.free_blocks and record.variant != "mmlk":
                self._mfb = t.largest_free
                if self._free is None:
                    self._free = t.free_bytes
                if self.failure is not None and not self._explained:
                    self._explained = True
                    self.failure["largest_free_block"] = self._mfb
            self.largest = largest_allocation(record, self.largest)
        elif isinstance(record, AllocWarning):
            self.largest = largest_allocation(record, self.largest, self._total)
            if record.kind in ("malloc_failed", "realloc_failed"):
                info = {"kind": record.kind, "line": record.line, "cycle": self.cycle,
                        "ts": record.ts, "need": record.need, "free": record.free}
                self.alloc_failures += 1
                if self.first_alloc_failure is None:
                    self.first_alloc_failure = info
                if self.failure is None:
                    info["free"] = record.free if record.free is not None else self._free
                    info["total"] = self._total
                    info["largest_free_block"] = self._mfb
                    self.failure = info
        elif isinstance(record, CrashDump) and self.failure is None:
            self.failure = {"kind": "crash", "line": record.line, "cycle": self.cycle,
                            "ts": record.ts, "need": None, "free": None}

    def _heap_run(self, run: HeapRun) -> None:
        """A stretch of cycle markers and overview tables in columns: the same state as
        ``on_record`` of each of its records, with the regular entries (a marker at or above
        the current cycle, a possible row of the current heap) applied a segment at a time
        and every other entry (a counter going back, an impossible row, another heap, or
        anything while a counter reset waits for evidence) read on its own."""
        n = len(run.seq)
        cols = heap_rows.rows(run) if self.upto is None and not run.nested and n else None
        if cols is None:
            for rec in run.records():
                self.on_record(rec)
            return
        np = heap_rows.numpy()
        seq = np.frombuffer(run.seq, dtype=np.uint8)
        idx = np.frombuffer(run.m_index, dtype=np.int64)
        total, free, low, mfb, bad = cols.total, cols.free, cols.low, cols.mfb, cols.bad
        # (array methods, not the np.* wrappers: a run is often a few dozen entries, and
        # these calls, made a few times per run, weighed more than the arithmetic)
        mpos = (seq == 0).nonzero()[0]
        tpos = (seq == 1).nonzero()[0]
        ppos = (seq == 2).nonzero()[0]
        # entries that are never regular: a marker below the one before it, an impossible row
        back, worse = mpos[1:][idx[1:] < idx[:-1]], tpos[bad]
        stops = np.union1d(back, worse) if len(back) or len(worse) else back
        pos = j = k = 0          # next entry, next marker, next table
        segments = 0
        while pos < n:
            heap = self._heap
            if self._candidate is not None or heap.count == 0 or heap.total is None \
                    or segments > 64:
                stop = pos           # read this entry on its own
            else:
                segments += 1
                s = int(stops.searchsorted(pos))
                stop = int(stops[s]) if s < len(stops) else n
                if j < len(mpos) and mpos[j] < stop and self.cycle is not None \
                        and idx[j] < self.cycle:
                    stop = int(mpos[j])
                k_end = int(tpos.searchsorted(stop))
                other = (total[k:k_end] != heap.total).nonzero()[0]
                if len(other):
                    stop = int(tpos[k + int(other[0])])
            if stop > pos:
                j_end = int(mpos.searchsorted(stop))
                k_end = int(tpos.searchsorted(stop))
                self._bulk(run, seq[pos:stop], idx, j, j_end, k, k_end, free, total, low, mfb)
                pos, j, k = stop, j_end, k_end
            if pos < n:
                kind = seq[pos]
                if kind == 1:
                    self.on_record(run.overview(k))
                    k += 1
                elif kind == 0:
                    self.on_record(run.marker(j))
                    j += 1
                else:       # object events: only counted while a counter reset waits
                    self.on_record(run.packs[int(ppos.searchsorted(pos))])
                pos += 1

    def _bulk(self, run: HeapRun, seq: Any, idx: Any, j0: int, j1: int, k0: int, k1: int,
              free: Any, total: Any, low: Any, mfb: Any) -> None:
        """Apply regular entries (markers j0..j1, tables k0..k1, in the order ``seq``): what
        ``_marker``/``_advance``/``_flush`` and ``_overview`` do to each, by columns."""
        np = heap_rows.numpy()
        nm, nt = j1 - j0, k1 - k0
        cycle0 = self.cycle
        cyc = idx[j0:j1]
        # markers of this segment before each table: its cycle and the table's group
        group = (seq == 0).cumsum()[seq == 1]
        lines = np.frombuffer(run.t_line, dtype=np.int64)[k0:k1]
        t_free, t_total = free[k0:k1], total[k0:k1]
        t_low = low[k0:k1] if low is not None else None
        t_mfb = mfb[k0:k1] if mfb is not None else None
        # group 0: tables before the first marker, in the current cycle
        n0 = int(group.searchsorted(1))
        if n0:
            if self.cycle is None:
                self.boot += n0
            elif self._pending is None or self._pending.nested:
                self._pending = run.overview(k0)
        if nm:
            self._flush()                       # the cycle before the first marker
            # the first table after marker q - 1 is the point of cycle cyc[q - 1]; the first
            # after the last marker is the new cycle's pending row
            # np.diff(group, prepend=0) > 0, without diff's wrapper work
            step = np.empty_like(group)
            if len(group):
                step[0] = group[0]
                np.subtract(group[1:], group[:-1], out=step[1:])
            firsts = (step > 0).nonzero()[0]
            last_pending = None
            if len(firsts) and group[firsts[-1]] == nm:
                last_pending = int(firsts[-1])
                firsts = firsts[:-1]
            if len(firsts):
                c = cyc[group[firsts] - 1]
                start = self.n_cycle_points
                n = len(firsts)
                # (NumPy columns of their own: _Bins makes Python values only when read)
                self.by_cycle.add_many([
                    c.astype(float), range(start, start + n), c,
                    [None] * n, lines[firsts], t_free[firsts], t_total[firsts],
                    t_low[firsts] if t_low is not None else [None] * n,
                    t_mfb[firsts] if t_mfb is not None else [None] * n,
                    [None] * n, [False] * n])
                self.n_cycle_points += n
            self.cycles += nm
            self.markers_total += nm
            self._prev_cycle = int(cyc[-2]) if nm >= 2 else self.cycle
            self.cycle = int(cyc[-1])
            if self._first_index is None:
                self._first_index = int(cyc[0])
            self._pending = run.overview(k0 + last_pending) if last_pending is not None \
                else None
        if nt:
            if nm:
                cycles = cyc[np.maximum(group - 1, 0)].tolist()
                cycles[:n0] = [cycle0] * n0
            else:
                cycles = [cycle0] * nt
            start = self.n_overviews
            self.by_overview.add_many([     # (copies: no view keeps the run's buffers)
                np.arange(start, start + nt, dtype=float), range(start, start + nt),
                cycles, [None] * nt, lines.copy(), t_free.copy(), t_total.copy(),
                t_low.copy() if t_low is not None else [None] * nt,
                t_mfb.copy() if t_mfb is not None else [None] * nt, [None] * nt,
                [False] * nt])
            self.n_overviews += nt
            self.all_timestamped = False
            self._free, self._total = int(t_free[-1]), int(t_total[-1])
            if self._run_first_free is None:
                self._run_first_free = int(t_free[0])
            if t_mfb is not None:
                self._mfb = int(t_mfb[-1])

    def _boot(self, record: Boot) -> None:
        """A boot banner: whatever came before is another run (nothing to cut at the top);
        a counter restart waiting for evidence has it."""
        self._candidate = None      # what came after the counter reset ends with this run
        if self.cycles or self.n_overviews or self.boot:
            self._flush()
            self.restarts.append(record.line)
            self._judge_run(record.line)
            self._start()

    def _back_at_boot(self, o: HeapOverview) -> bool:
        """After a counter restart: free heap regained most of what the run had lost."""
        cand = self._candidate
        if cand is None or o.partial or overview_problem(o) is not None:
            return False
        boot, last = cand["boot_free"], cand["last_free"]
        if boot is None or last is None or boot <= last:
            return False
        return o.free >= last + 0.5 * (boot - last)

    def _resolve(self, reboot: bool) -> None:
        """Settle a pending counter restart: a reboot starts a new run at the reset marker;
        a glitch ignores that marker. Either way the records held meanwhile are read now."""
        cand, self._candidate = self._candidate, None
        if cand is None:
            return
        marker = cand["marker"]
        if reboot:
            self._flush()
            self.restarts.append(marker.line)
            self._judge_run(marker.line)
            self._start()
            self._advance(marker.index)
        else:
            self.glitches.append(marker.line)
        for rec in cand["buffer"]:
            self.on_record(rec)

    def _advance(self, i: int | None) -> None:
        self._flush()
        self.cycles += 1
        self._prev_cycle = self.cycle
        self.cycle = i if i is not None else self.cycles
        if self._first_index is None:
            self._first_index = self.cycle

    def _marker(self, record: CycleMarker) -> None:
        """A cycle marker. A counter that goes back is a reboot only when the log shows one:
        it restarts at (or below) its first value and then counts on from there, or the heap
        comes back to its boot level, or a boot banner follows; any other out-of-sequence
        value is a glitch (a flipped bit, two lines merged) and is ignored, so one bad line
        cannot cut the curve short."""
        cand = self._candidate
        if cand is not None:
            # the next marker decides: counting on from the reset value is a reboot, going
            # on above the old run's last cycle says the reset was one bad line
            i, old = record.index, cand["old_cycle"]
            self._resolve(reboot=not (i is not None and old is not None and i > old
                                      and i != cand["marker"].index + 1))
        i = record.index
        self.markers_total += 1
        if i is not None and self.cycle is not None and i < self.cycle:
            prev = self._prev_cycle
            if prev is not None and i > prev:
                # the current cycle's marker was the glitch (a jump forward): renumber it
                self.glitches.append(record.line)
                self.cycle = i - 1 if i - 1 > prev else prev
            elif self._first_index is not None and i <= self._first_index:
                self._candidate = {"marker": record, "old_cycle": self.cycle,
                                   "boot_free": self._run_first_free,
                                   "last_free": self._free, "buffer": [], "held": 0}
                return
            else:
                self.glitches.append(record.line)
                return
        self._advance(i)

    def _overview(self, o: HeapOverview) -> None:
        if o.partial:
            self.partial += 1
            return
        problem = overview_problem(o)
        if problem is not None:
            self.impossible += 1
            if self.impossible_first is None:
                self.impossible_first = (o.line, problem)
            return
        self._free, self._total = o.free, o.total
        if self._run_first_free is None:
            self._run_first_free = o.free
        if o.max_free_block is not None:
            self._mfb = o.max_free_block
        if self._heap.starts_new(o):
            # another heap (board, allocator): its rows are a curve of their own
            self._flush()
            self.new_heaps.append(o.line)
            cycle, first = self.cycle, self._first_index
            self._judge_run(o.line)
            self._start()
            self.cycle, self._first_index = cycle, first
        if self.cycle is None:
            self.boot += 1
        elif self._pending is None or (self._pending.nested and not o.nested):
            self._pending = o
        if not o.nested:
            if self.upto is None or self.n_overviews < self.upto:
                self.all_timestamped &= o.ts is not None
                self.by_overview.add_row(_row(o, float(self.n_overviews), self.n_overviews,
                                            self.cycle))
                self.n_overviews += 1
        elif self.upto is None or self.n_dump_points < self.upto:
            self.dumps_timestamped &= o.ts is not None
            self.by_dump.add_row(_row(o, float(self.n_dump_points), self.n_dump_points,
                                      self.cycle))
            self.n_dump_points += 1

    @property
    def has_heap_evidence(self) -> bool:
        """Anything for a trend to say: overview rows in the last run, an earlier run judged
        (or found undecided) before a reboot or another heap's rows, or heap records held
        after a backwards cycle marker."""
        held = self._candidate["buffer"] if self._candidate is not None else ()
        return bool(self.n_overviews or self.n_cycle_points or self.n_dump_points
                    or self.earlier_leaks
                    or self.earlier_undecided
                    # records held while a counter reset waits for its evidence (``result``
                    # settles it): overviews, dumps and failures after a backwards marker
                    or any(isinstance(r, (HeapOverview, BlockDump, AllocWarning)) for r in held))

    def _judge_run(self, until_line: int) -> None:
        """Judge the run that ends here on its own before it is forgotten: a leak before a
        reboot (or in another heap's rows) is still a leak, and "clean" on the last run alone
        would hide it."""
        if self.upto is not None or (len(self.earlier_leaks) >= EARLIER_LEAKS_KEPT and
                                     len(self.earlier_undecided) >= EARLIER_LEAKS_KEPT):
            return
        mode = "cycle" if self.n_cycle_points >= MIN_POINTS else "index"
        points = list((self.by_cycle if mode == "cycle" else self.by_overview).points)
        if len(points) < MIN_POINTS:
            return
        r = analyze_points(points, x_mode=mode)
        if r.classification == "insufficient" and len(self.earlier_undecided) < EARLIER_LEAKS_KEPT:
            self.earlier_undecided.append(rt.EarlierUndecided(
                until_line=until_line, x=mode, points=len(points),  # type: ignore[arg-type]
                reason=r.reason or "cannot judge"))
        if r.classification == "steady_leak" and len(self.earlier_leaks) < EARLIER_LEAKS_KEPT:
            self.earlier_leaks.append(rt.EarlierLeak(
                until_line=until_line, x=mode, points=len(points),  # type: ignore[arg-type]
                rate=round(-(r.fit.slope if r.fit is not None else 0.0), 2),
                reason=r.reason or "steady leak"))

    def _flush(self) -> None:
        o = self._pending
        self._pending = None
        if o is None or self.cycle is None:
            return
        if self.upto is not None and self.cycles > self.upto:
            return      # --upto N: the first N cycles, however many overviews they printed
        self.by_cycle.add_row(_row(o, float(self.cycle), self.n_cycle_points, self.cycle))
        self.n_cycle_points += 1

    def failures(self) -> rt.AllocFailures:
        """Every allocation failure of the whole log (not reset by a restart): count, first."""
        return rt.AllocFailures(count=self.alloc_failures,
                                first=_alloc_failure(self.first_alloc_failure))

    def result(self, x: XMode = "auto", warmup: int | Literal["auto"] = "auto",
               confidence: float = 0.95) -> Trend:
        """The heap trend of the log read so far. Keys (``results.trend.Trend``):

        - ``x``: "cycle" | "time" | "index" (the abscissa; slopes are B per that unit)
        - ``points``: number of points analysed; ``points_available`` before ``--upto``
        - ``series``: the points ({x, cycle, ts, line, free, min_free, max_free_block, pool_free})
        - ``classification``: steady_leak | step | fragmentation | warmup_plateau | no_leak |
          insufficient; ``leak``: bool (steady_leak or step); ``reason``: one line
        - ``warmup``: {points cut, until_x, drop (B), method, ...}; ``warmup``, ``fit`` and
          ``evidence`` are null when there are too few points to fit
        - ``fit``: Theil–Sen on free heap after warm-up (slope, slope_low/high, mk_p, ...)
        - ``evidence``: numbers behind the verdict (slope, interval, noise, jumps, fragmentation,
          pool)
        - ``max_free_block_fit``: the same fit on the largest free block (None when not printed)
        - ``total``, ``first``, ``last``: heap size and the first/last point
        - ``forecast``: {x, allocation_size (largest block seen), cycle_demand {max, median,
          samples}, levels: [{level: free_zero | free_below_allocation | free_below_cycle_demand |
          largest_block_below_allocation | largest_block_below_cycle_demand, bytes, at, earliest,
          latest, time, time_earliest, time_latest (cycle mode with timestamps)}], exhaustion
          (the level that fails first, by EXHAUSTION_ORDER)}; None when nothing is running out
        - ``observed_failure``: the first malloc failure / crash of the run ({cycle, line, ...});
          ``alloc_failures``: every malloc failure of the log (count, first)
        - ``notes``: what was ignored and why
        """
        self._resolve(reboot=False)   # a counter reset nothing confirmed by the end: a glitch
        self._flush()
        # no overview of its own and no markers: the statistics printed inside the dumps
        from_dumps = not self.n_overviews and not self.cycles and self.n_dump_points > 0
        mode = x
        if mode == "auto":
            stamped = self.dumps_timestamped if from_dumps else self.all_timestamped
            mode = "cycle" if self.cycles else ("time" if (self.n_overviews or from_dumps)
                                                and stamped else "index")
        if mode == "cycle" and not self.cycles:
            raise ValueError("no cycle markers in the log (try --cycle-pattern or --x index)")
        notes: list[str] = []
        src = self.cycle_source
        if mode == "cycle" and src and src.get("how") in ("detected", "option"):
            how = "detected" if src["how"] == "detected" else "--cycle-pattern"
            notes.append(f"cycles from `{src['template']}` ({how}), {self.markers_total} found")
        if self.restarts:
            notes.append(f"the cycle counter restarted {len(self.restarts)} time(s) (reboot, or "
                         f"logs appended; last at line {self.restarts[-1]}): only the last run "
                         "is analysed")
        if self.glitches:
            notes.append(f"{len(self.glitches)} out-of-sequence cycle marker(s) ignored as "
                         f"counter glitches (first at line {self.glitches[0]}): not a reboot")
        if self.new_heaps:
            notes.append(f"another heap's rows begin at line {self.new_heaps[-1]} (heap size "
                         "or allocator changed): only the last heap is analysed")
        if self.earlier_leaks:
            e = self.earlier_leaks[0]
            notes.append(f"{len(self.earlier_leaks)} earlier run(s) leaked on their own (the "
                         f"first, before line {e.until_line}: {e.rate:.1f} B/{e.x} "
                         f"over {e.points} points)")
        if self.earlier_undecided:
            e = self.earlier_undecided[0]
            notes.append(f"{len(self.earlier_undecided)} earlier run(s) could not be judged on "
                         f"their own (the first, before line {e.until_line}, {e.points} points: "
                         f"{e.reason})")
        if self.impossible:
            line, why = self.impossible_first  # type: ignore[misc]
            notes.append(f"{self.impossible} impossible heap row(s) left out of the fit "
                         f"(line {line}: {why})")
        if mode == "cycle":
            bins = self.by_cycle
            available = self.cycles
            if self.boot:
                notes.append(f"{self.boot} overview(s) before the first cycle marker ignored")
        elif from_dumps:
            bins = self.by_dump
            available = self.n_dump_points
            notes.append(f"no heap overview of its own: one point per block dump "
                         f"({self.n_dump_points}), from the heap statistics printed inside it")
        else:
            bins = self.by_overview
            available = self.n_overviews
        points = list(bins.points)
        if mode == "time":
            points = [p for p in points if p.ts is not None]
            if not points:
                raise ValueError("the log has no timestamps (try --x index)")
            for p in points:
                p.x = float(p.ts)  # type: ignore[arg-type]
        if self.partial:
            notes.append(f"{self.partial} partial overview(s) ignored")
        if bins.weight > 1:
            notes.append(f"long series: every stored point is the remedian of {bins.weight}")
        if self.upto is not None:
            unit = "cycle(s)" if mode == "cycle" else "point(s)"
            notes.append(f"using the first {self.upto} {unit}: {len(points)} point(s) "
                         f"(--upto {self.upto})")
        rows_from = "block_dumps" if from_dumps and mode != "cycle" else "overviews"
        curve = analyze_points(points, x_mode=mode, warmup=warmup,
                               allocation_size=self.largest, confidence=confidence,
                               rows_from=rows_from)
        if self.failure is not None:
            self.failure["explanation"], self.failure["cause"] = explain_failure(self.failure)
        return extend(
            Trend, curve,
            points_available=available,
            series=tuple(p.view() for p in points),
            observed_failure=_alloc_failure(self.failure),
            alloc_failures=self.failures(),
            earlier_leaks=tuple(self.earlier_leaks),
            earlier_undecided=tuple(self.earlier_undecided),
            excluded=rt.Excluded(impossible_rows=self.impossible, first=self.impossible_first,
                                 glitches=len(self.glitches), restarts=len(self.restarts),
                                 heaps=len(self.new_heaps) + 1),
            cycle_source=src if mode == "cycle" else None,  # type: ignore[arg-type]
            rows_from=rows_from,
            notes=tuple(notes),
        )


def _alloc_failure(f: dict[str, Any] | None) -> rt.AllocFailure | None:
    """The collector's record of a failure as its result type (what the log did not say:
    None)."""
    if f is None:
        return None
    return rt.AllocFailure(
        kind=f["kind"], line=f["line"], cycle=f.get("cycle"), ts=f.get("ts"),
        need=f.get("need"), free=f.get("free"), total=f.get("total"),
        largest_free_block=f.get("largest_free_block"), explanation=f.get("explanation"),
        cause=f.get("cause"))
