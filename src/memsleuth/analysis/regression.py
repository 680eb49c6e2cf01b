"""Robust line fitting for heap curves: Theil–Sen slope with Sen's rank-based interval.

Why not least squares: a heap curve from a stress test has outliers (a dump printed while a
transfer buffer was held, a burst of churn) and least squares lets one of them swing the
slope. Theil–Sen takes the median of all pairwise slopes, so up to ~29 % of the points can
be wild before the slope moves, and its confidence interval comes from ranks (Sen 1968), so
no normality is assumed. The Mann–Kendall statistic tells whether there is a monotone trend at
all; it depends only on ranks, so any increasing transform of the values gives the same answer.

Pure Python, O(n²) in the number of points; long series are first reduced to at most
``max_points`` bin medians (robust, and keeps the fit fast on logs with thousands of
overviews).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

#: Two-sided normal quantiles for the confidence levels we offer.
_Z = {0.80: 1.2816, 0.90: 1.6449, 0.95: 1.9600, 0.99: 2.5758}


@dataclass(frozen=True, slots=True)
class Fit:
    """A robust line y = intercept + slope * x, with Sen's interval and the trend test."""

    slope: float
    intercept: float
    slope_low: float          # Sen's rank-based CI on the slope
    slope_high: float
    confidence: float
    n: int                    # points used for the fit (after thinning)
    x_center: float           # median x: the pivot used for forecasts
    y_center: float           # fitted y at x_center
    residual_mad: float       # median |residual|: the noise around the line
    mk_s: int                 # Mann–Kendall S (concordant minus discordant pairs)
    mk_z: float               # normal score of S (tie-corrected)
    mk_p: float               # two-sided p-value of "no monotone trend"
    kendall_tau: float

    @property
    def significant(self) -> bool:
        """The interval excludes zero: the series does trend."""
        return self.slope_low > 0 or self.slope_high < 0

    def predict(self, x: float) -> float:
        return self.intercept + self.slope * x

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (round(v, 6) if isinstance(v, float) and k != "mk_p" else v)
            for k, v in asdict(self).items()
        }


def thin(
    xs: Sequence[float], ys: Sequence[float], max_points: int
) -> tuple[list[float], list[float]]:
    """Reduce a long series to ``max_points`` bin medians (x and y medians per bin)."""
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    for b in range(max_points):
        lo = b * n // max_points
        hi = (b + 1) * n // max_points
        if hi > lo:
            out_x.append(median(xs[lo:hi]))
            out_y.append(median(ys[lo:hi]))
    return out_x, out_y


def _normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def mann_kendall(xs: Sequence[float], ys: Sequence[float]) -> tuple[int, float, float, float]:
    """Mann–Kendall S, its z score, two-sided p and Kendall's tau-b, ordering by x."""
    n = len(xs)
    s = 0
    ties_x = 0
    ties_y = 0
    for i in range(n):
        xi, yi = xs[i], ys[i]
        for j in range(i + 1, n):
            dx = xs[j] - xi
            dy = ys[j] - yi
            if dx == 0:
                ties_x += 1
            if dy == 0:
                ties_y += 1
            prod = (dx > 0) - (dx < 0)
            prod *= (dy > 0) - (dy < 0)
            s += prod
    pairs = n * (n - 1) // 2
    # Tie-corrected variance of S (ties in y grouped by value).
    counts: dict[float, int] = {}
    for y in ys:
        counts[y] = counts.get(y, 0) + 1
    var = n * (n - 1) * (2 * n + 5)
    for t in counts.values():
        if t > 1:
            var -= t * (t - 1) * (2 * t + 5)
    var /= 18.0
    if var <= 0:
        z = 0.0
    elif s > 0:
        z = (s - 1) / math.sqrt(var)
    elif s < 0:
        z = (s + 1) / math.sqrt(var)
    else:
        z = 0.0
    p = min(1.0, 2.0 * _normal_sf(abs(z)))
    denom = math.sqrt(max(pairs - ties_x, 0) * max(pairs - ties_y, 0))
    tau = s / denom if denom else 0.0
    return s, z, p, tau


def theil_sen(
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    confidence: float = 0.95,
    max_points: int = 1000,
) -> Fit:
    """Fit a robust line; needs at least two distinct x values.

    The interval is Sen's: with N pairwise slopes sorted and C = z·sqrt(Var S), the bounds
    are the slopes of rank (N − C)/2 and (N + C)/2 + 1.
    """
    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    px, py = thin(xs, ys, max_points)
    n = len(px)
    slopes: list[float] = []
    for i in range(n):
        xi, yi = px[i], py[i]
        for j in range(i + 1, n):
            dx = px[j] - xi
            if dx != 0:
                slopes.append((py[j] - yi) / dx)
    if not slopes:
        raise ValueError("need at least two points with distinct x")
    slopes.sort()
    slope = median(slopes)
    intercept = median(y - slope * x for x, y in zip(px, py, strict=True))
    s, z, p, tau = mann_kendall(px, py)
    zq = _Z.get(confidence) or _Z[0.95]
    big_n = len(slopes)
    var_s = n * (n - 1) * (2 * n + 5) / 18.0
    c = zq * math.sqrt(var_s)
    lo_rank = max(0, min(big_n - 1, int(math.floor((big_n - c) / 2.0))))
    hi_rank = max(0, min(big_n - 1, int(math.ceil((big_n + c) / 2.0))))
    residuals = [abs(y - (intercept + slope * x)) for x, y in zip(px, py, strict=True)]
    x_center = median(px)
    return Fit(
        slope=slope,
        intercept=intercept,
        slope_low=slopes[lo_rank],
        slope_high=slopes[hi_rank],
        confidence=confidence if confidence in _Z else 0.95,
        n=n,
        x_center=x_center,
        y_center=intercept + slope * x_center,
        residual_mad=median(residuals),
        mk_s=s,
        mk_z=z,
        mk_p=p,
        kendall_tau=tau,
    )


def crossing(fit: Fit, level: float) -> tuple[float | None, float | None, float | None]:
    """Where the fitted line (and its slope interval, pivoting at the centre) reaches ``level``.

    Returns (x at the slope, earliest x, latest x); None where the line never gets there
    (slope of the wrong sign or zero).
    """

    def at(slope: float) -> float | None:
        if slope == 0:
            return None
        x = fit.x_center + (level - fit.y_center) / slope
        if (level < fit.y_center and slope > 0) or (level > fit.y_center and slope < 0):
            return None
        return x

    mid = at(fit.slope)
    a = at(fit.slope_low)
    b = at(fit.slope_high)
    cands = [v for v in (a, b) if v is not None]
    if mid is None:
        return None, None, None
    early = min(cands + [mid])
    late = max(cands + [mid]) if len(cands) == 2 else None  # one bound never gets there
    return mid, early, late
