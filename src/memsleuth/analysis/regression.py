"""Robust line fitting for heap curves: Theil–Sen slope with Sen's rank-based interval.

Why not least squares: a heap curve from a stress test has outliers (a dump printed while a
transfer buffer was held, a burst of churn) and least squares lets one of them swing the
slope. Theil–Sen takes the median of all pairwise slopes, so up to ~29 % of the points can
be wild before the slope moves, and its confidence interval comes from ranks (Sen 1968), so
no normality is assumed. The Mann–Kendall statistic tells whether there is a monotone trend at
all; it depends only on ranks, so any increasing transform of the values gives the same answer.

O(n²) in the number of points; long series are first reduced to at most ``max_points`` bin
medians (robust, and keeps the fit fast on logs with thousands of overviews). The pairwise
work runs vectorised in NumPy when it is installed and the values are exact in float64 (the
same IEEE divisions and the same order statistics: identical results), else in pure Python:
a fleet ingest fits four curves of ~600 points per log, ~0.4 s each log in the loops.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

#: Fewer points than this: the loops (NumPy's per-call cost would dominate).
VECTOR_MIN = 32
#: More points than this: the loops (the pairs' masks grow with the square of the points).
VECTOR_MAX = 1200
#: Rows per block of the pairwise NumPy work (memory ~ BLOCK x n per array, not n²).
BLOCK = 64
_EXACT = float(2**52)        # |value| up to this: differences are exact in float64
_numpy: Any = None


def _pad_heap_top() -> None:
    """Ask glibc to keep 4 MiB spare at the heap's top when it grows or shrinks.

    Why: a block of pairs' temporaries is ~300 KB (BLOCK x 600 float64), and every fit frees
    them at the heap's top; glibc gave that top back to the OS and took it again thousands of
    times: ~180,000 page faults and ~0.45 s of system time for ``trend`` on a 1 GB log (0.17
    s with the pad). Untouched spare pages are not resident, so peak RSS does not move. Any
    other C library, or no ctypes: nothing done."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-2, 4 << 20)     # M_TOP_PAD (glibc's malloc.h)
    except (ImportError, OSError, AttributeError):
        pass


def _vectors(n: int, *series: Sequence[float]) -> tuple[Any, ...] | None:
    """The series as float64 arrays when the vector path applies (NumPy installed, size in
    range, every value a finite int/float whose float64 differences are exact), else None."""
    global _numpy
    if not VECTOR_MIN <= n <= VECTOR_MAX or _numpy is False:
        return None
    if _numpy is None:
        try:
            import numpy
        except ImportError:
            _numpy = False
            return None
        _numpy = numpy
        _pad_heap_top()
    np = _numpy
    out = []
    for values in series:
        if not all(type(v) is float or type(v) is int for v in values):
            return None
        arr = np.asarray(values, dtype=np.float64)
        if not (np.isfinite(arr).all() and np.abs(arr).max() <= _EXACT):
            return None
        out.append(arr)
    return tuple(out)


def _mk_counts(vx: Any, vy: Any) -> tuple[int, int, int]:
    """(S, tied x pairs, tied y pairs) from float64 arrays, a block of rows at a time.

    The signs of pairwise differences are the signs of differences of dense ranks, so the
    work is on int16 ranks; every row against every column counts each pair twice (both
    sign matrices are antisymmetric, their product symmetric, the diagonal zero), so S is
    half the sum and no triangle mask is needed. Ties are pairs within groups of equal
    values. All integer arithmetic: the same S and counts as the loops.
    """
    np = _numpy
    n = len(vx)
    _, rx, cx = np.unique(vx, return_inverse=True, return_counts=True)
    _, ry, cy = np.unique(vy, return_inverse=True, return_counts=True)
    rx = rx.reshape(-1).astype(np.int16)    # n <= VECTOR_MAX < 2**15
    ry = ry.reshape(-1).astype(np.int16)
    twice = 0
    for a in range(0, n, BLOCK):
        prod = np.sign(rx - rx[a:a + BLOCK, None])
        prod *= np.sign(ry - ry[a:a + BLOCK, None])
        twice += int(prod.sum(dtype=np.int64))
    cx = cx.astype(np.int64)
    cy = cy.astype(np.int64)
    return (twice // 2, int((cx * (cx - 1) // 2).sum()), int((cy * (cy - 1) // 2).sum()))


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
    vec = _vectors(n, xs, ys)
    if vec is not None:
        return _mk_stats(n, ys, *_mk_counts(*vec))
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
    return _mk_stats(n, ys, s, ties_x, ties_y)


def _mk_stats(n: int, ys: Sequence[float], s: int, ties_x: int,
              ties_y: int) -> tuple[int, float, float, float]:
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
    big_n, rank = _slope_ranks(px, py)
    if big_n == 0:
        raise ValueError("need at least two points with distinct x")
    slope, slope_low, slope_high = _sen(n, big_n, rank, confidence)
    intercept = median(y - slope * x for x, y in zip(px, py, strict=True))
    s, z, p, tau = mann_kendall(px, py)
    residuals = [abs(y - (intercept + slope * x)) for x, y in zip(px, py, strict=True)]
    x_center = median(px)
    return Fit(
        slope=slope,
        intercept=intercept,
        slope_low=slope_low,
        slope_high=slope_high,
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


def _sen(n: int, big_n: int, rank: Any, confidence: float) -> tuple[float, float, float]:
    """(slope, slope_low, slope_high): the median of the ``big_n`` pairwise slopes of ``n``
    points and Sen's interval, from ``rank`` (see ``_slope_ranks``)."""
    half = big_n // 2
    wanted = {half} if big_n % 2 else {half - 1, half}
    zq = _Z.get(confidence) or _Z[0.95]
    var_s = n * (n - 1) * (2 * n + 5) / 18.0
    c = zq * math.sqrt(var_s)
    lo_rank = max(0, min(big_n - 1, int(math.floor((big_n - c) / 2.0))))
    hi_rank = max(0, min(big_n - 1, int(math.ceil((big_n + c) / 2.0))))
    at = rank(wanted | {lo_rank, hi_rank})
    # statistics.median of the sorted slopes; + 0.0: a zero slope is +0.0 whichever of the
    # equal zeros the order statistic picked
    slope = (at[half] if big_n % 2 else (at[half - 1] + at[half]) / 2) + 0.0
    return slope, at[lo_rank] + 0.0, at[hi_rank] + 0.0


def sen_slopes(
    xs: Sequence[float], series: Iterable[Sequence[float]], *, confidence: float = 0.95,
    max_points: int = 1000,
) -> list[tuple[float, float, float]]:
    """``(fit.slope, fit.slope_low, fit.slope_high)`` of ``theil_sen(xs, ys)`` for each ys.

    Why: many series on one abscissa (every site's bytes over the same dumps) need only the
    slope and its interval. The pairs of distinct x, their x differences and their row order
    are found once; each series then costs one gather, the same IEEE divisions and the same
    order statistics (identical numbers). Falls back to ``theil_sen`` where the vector path
    does not apply.
    """
    out: list[tuple[float, float, float]] = []
    plan: _Pairs | None = None
    for ys in series:
        if len(xs) != len(ys):
            raise ValueError("xs and ys differ in length")
        px, py = thin(xs, ys, max_points)
        n = len(px)
        vec = _vectors(n, px, py)
        if vec is None:
            fit = theil_sen(xs, ys, confidence=confidence, max_points=max_points)
            out.append((fit.slope, fit.slope_low, fit.slope_high))
            continue
        vx, vy = vec
        if plan is None:
            plan = _Pairs(vx)
        if plan.size == 0:
            raise ValueError("need at least two points with distinct x")
        out.append(_sen(n, plan.size, functools.partial(plan.order_stats, vy), confidence))
    return out


class _Pairs:
    """The pairs i < j with x_j ≠ x_i of one abscissa, by blocks of BLOCK rows, for the
    order statistics of the slopes of any series on it (``order_stats``).

    Why blocks and not every slope in one array: 1,000 points have 499,500 pairs; their
    index and x-difference arrays, one series' slopes and the temporaries that made them
    were ~20 MB at their peak (the censuses of a crash-looping device's log grew ``check``'s
    peak RSS with the log). A block's slopes are made, screened and dropped; what is kept
    is a sample's pair indices and, when some x repeat, a mask per block (a byte per pair).
    The slopes are the loops' IEEE divisions (in another order, which order statistics do
    not see); when every x differs, most of a block is a plain rectangle of them.
    """

    def __init__(self, vx: Any) -> None:
        np = _numpy
        n = len(vx)
        idx = np.arange(n)
        self.vx = vx
        #: (first row, end row, mask of the pairs kept among those rows x the columns after
        #: the first row; None when every x differs: then every pair of the rows with a later
        #: column is kept, and the columns past the rows need no mask)
        self.blocks: list[tuple[int, int, Any]] = []
        distinct = np.unique(vx).size == n
        self.size = n * (n - 1) // 2 if distinct else 0
        for a in range(0, n - 1, BLOCK):
            b = min(a + BLOCK, n - 1)
            if distinct:
                self.blocks.append((a, b, None))
                continue
            dx = vx[a + 1:] - vx[a:b, None]
            keep = (idx[a + 1:] > idx[a:b, None]) & (dx != 0)
            self.blocks.append((a, b, keep))
            self.size += int(np.count_nonzero(keep))
        #: pairs (i, j) drawn pseudo-randomly (splitmix64 of 0, 1, 2...: every run the same;
        #: not numpy.random, whose import costs ~3 MiB), whose slopes ``order_stats``
        #: brackets the band with: a uniform sample's quantiles are within the margin there
        #: (a strided one can alias with the rows and miss); which pairs never changes the
        #: answer, only how often the band misses
        self.sample: tuple[Any, Any] | None = None
        if self.size > BAND_MIN:
            z = np.arange(1, 4 * SAMPLE + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            z ^= z >> np.uint64(30)
            z *= np.uint64(0xBF58476D1CE4E5B9)
            z ^= z >> np.uint64(27)
            z *= np.uint64(0x94D049BB133111EB)
            z ^= z >> np.uint64(31)
            i = ((z & np.uint64(0xFFFFFFFF)) % np.uint64(n)).astype(np.intp)
            j = ((z >> np.uint64(32)) % np.uint64(n)).astype(np.intp)
            ok = (i < j) & (vx[i] != vx[j])
            self.sample = (i[ok][:SAMPLE], j[ok][:SAMPLE])

    def slopes(self, vy: Any) -> Iterator[Any]:
        """The slopes, a block of rows at a time (an array, or two when every x differs:
        the rows against the columns among them, and a 2-D one against the columns after)."""
        np = _numpy
        vx = self.vx
        for a, b, keep in self.blocks:
            if keep is not None:
                yield (vy[a + 1:] - vy[a:b, None])[keep] / (vx[a + 1:] - vx[a:b, None])[keep]
                continue
            idx = np.arange(a, b + 1)
            head = idx[1:] > idx[:-1, None]
            yield (vy[a + 1:b + 1] - vy[a:b, None])[head] / (vx[a + 1:b + 1] - vx[a:b, None])[head]
            if b + 1 < len(vx):
                yield (vy[b + 1:] - vy[a:b, None]) / (vx[b + 1:] - vx[a:b, None])

    def order_stats(self, vy: Any, ks: set[int]) -> dict[int, float]:
        """``_order_stats`` of the slopes of ``vy``, a block of them at a time."""
        sample = None
        if self.sample is not None:
            first, second = self.sample
            vx = self.vx
            sample = (vy[second] - vy[first]) / (vx[second] - vx[first])
        return _order_stats(self.size, sample, lambda: self.slopes(vy), ks)


#: Slopes past this many: order statistics from the band a sample brackets (``_order_stats``).
BAND_MIN = 20_000
#: Slopes in that sample (``_Pairs``).
SAMPLE = 8192


def _order_stats(size: int, sample: Any | None, chunks: Callable[[], Iterable[Any]],
                 ks: set[int]) -> dict[int, float]:
    """{k: the k-th smallest of ``size`` values} (0-based), the values being the arrays
    ``chunks()`` gives (the same each call; called once, twice on a miss), ``sample`` every
    step-th of them when ``size`` > BAND_MIN (else None). A chunk may be reordered in place.

    Why not a partition of every value: the ranks asked (Sen's interval and the median)
    sit in a band of ~10 % of the slopes. A sorted sample of every step-th slope brackets
    that band with a margin of 2·sqrt(m) sample ranks (~4 standard deviations of a sample
    quantile); with ``below`` slopes under the band's low value, the k-th smallest of all is
    the (k − below)-th of the band whenever the band holds every rank asked, which is
    checked, exactly: the same values as a full partition. A miss partitions them all.
    Which values the sample holds never changes the answer, only how often a miss happens.
    """
    np = _numpy
    order = sorted(ks)
    if sample is not None:
        sample = np.sort(sample)
        m = sample.size
        margin = int(2.0 * math.sqrt(m)) + 8
        i_lo, i_hi = order[0] * m // size - margin, order[-1] * m // size + margin
        if i_lo >= 0 and i_hi < m:
            low, high = sample[i_lo], sample[i_hi]
            # the band as the values strictly inside it and how many equal either end: a
            # series of tied slopes (a site's block count, flat for hundreds of censuses)
            # would put most of them in the band itself
            below = at_low = at_high = 0
            inside = []
            for got in chunks():
                below += int(np.count_nonzero(got < low))
                band = got[(got >= low) & (got <= high)]
                if band.size:
                    at_low += int(np.count_nonzero(band == low))
                    if high != low:
                        at_high += int(np.count_nonzero(band == high))
                        inside.append(band[(band > low) & (band < high)])
            mid = np.concatenate(inside) if inside else np.empty(0)
            if below <= order[0] and below + at_low + mid.size + at_high > order[-1]:
                # ranks among the ends are the ends' values (equal floats; a zero's sign
                # aside, which ``_sen`` drops)
                ranks = [k - below - at_low for k in order]
                held = [r for r in ranks if 0 <= r < mid.size]
                if held:
                    mid.partition(held)
                return {k: float(low) if r < 0 else float(mid[r]) if r < mid.size
                        else float(high) for k, r in zip(order, ranks, strict=True)}
    parts = [got.ravel() for got in chunks()]
    arr = parts[0] if len(parts) == 1 else np.concatenate(parts)
    arr.partition(order)        # in place: a copy would double the peak
    return {k: float(arr[k]) for k in order}


def _slope_ranks(px: Sequence[float], py: Sequence[float]) -> tuple[int, Any]:
    """(N, rank): the number of pairwise slopes (pairs of distinct x) and a function giving
    the slopes of the asked ranks in sorted order, as {rank: slope}."""
    n = len(px)
    vec = _vectors(n, px, py)
    if vec is not None:
        vx, vy = vec
        pairs = _Pairs(vx)
        return pairs.size, lambda ks: pairs.order_stats(vy, ks)
    slopes: list[float] = []
    for i in range(n):
        xi, yi = px[i], py[i]
        for j in range(i + 1, n):
            dx = px[j] - xi
            if dx != 0:
                slopes.append((py[j] - yi) / dx)
    slopes.sort()
    return len(slopes), lambda ks: {k: slopes[k] for k in ks}


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
