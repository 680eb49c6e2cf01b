"""Is a falling heap a leak, or a warm-up still running? A nested-model test, sequentially.

A cache filling one entry per cycle is, until it stops, the same curve as a leak of one block
per cycle; no statistic on the points alone tells them apart before the fill could have
ended. So the model states what a warm-up is, and calls a leak only once the curve can no
longer be one:

- H0, warm-up: the curve ends flat. A fall that stops (linear then flat, the bend searched
  up to ``span`` after the first point: a fill lasts at most that long), a saturating fill
  (a + A·exp(-x/θ) with θ ≤ span/3: 95 % of it done within ``span``), or flat.
- H1, leak: each of those plus a constant slope at the end (a line; a hinge with its bend
  anywhere, so a steeper warm-up followed by a lower steady fall; a saturating fill on a line).

H0 lies inside H1, so H1 always fits at least as well; the leak is called when it fits
better by an F statistic above the critical value of a one-sided t test at the level spent
on this look, α_n = α / (c·n²) with c = Σ_{n≥6} 1/n² (a stress test is looked at cycle after
cycle; the spent levels add up to α whatever the number of looks), and the final slope is a
fall. The bend and θ are searched, which makes the nominal α optimistic: the error rate that
counts is the one measured by benchmarks/bench_verdict.py (README "Early verdict").

Consequences, stated: a straight fall from the first point is never a leak before ``span``
(any fill could still be running); a bend followed by a steady fall at a lower rate is a leak
as soon as the fall after the bend is clear of the noise, since no single fill does that; a
fall that slows down is a saturating fill until it keeps going at a constant rate. A warm-up
made of two fills at different rates, the slower one running on after the first ends, is
outside H0 and would be called a leak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from operator import mul

#: Family-wise false-alarm level over all the looks at one curve (before the search inflation
#: the benchmark measures).
ALPHA = 0.01
#: Looks start at this many points; c = Σ_{n≥FIRST_LOOK} 1/n².
FIRST_LOOK = 6
_C = math.pi ** 2 / 6 - sum(1 / k ** 2 for k in range(1, FIRST_LOOK))
#: Points the last segment of a hinge must have (a bend at the very end is one outlier).
MIN_SEGMENT = 4
#: Saturating fills: θ grid, as fractions of ``span`` (θ ≤ span/3).
_THETAS = tuple(f / 3 for f in (0.04, 0.06, 0.09, 0.13, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0))


@dataclass(frozen=True, slots=True)
class LeakTest:
    """The outcome of one look: is the curve's end a steady fall no warm-up can explain?"""

    leak: bool
    f: float              # F statistic of H1 against H0
    f_crit: float         # critical value at this look's spent level
    alpha_look: float     # the level spent on this look
    slope: float          # H1's final slope (B per x unit)
    h0: str               # the best warm-up shape ("fill ends at x=..", "saturating θ=..")
    h1: str               # the best leak shape
    why: str
    start: float = 0.0    # x where H1's steady fall begins (its bend; 3θ into a fill)
    slope_se: float = 0.0     # standard error of ``slope`` (least squares, σ from H1)
    nu: int = 0               # H1's residual degrees of freedom
    intercept: float = 0.0    # H1's final line: y = intercept + slope·x
    slope_min: float = 0.0    # final slopes of the shapes as good as the best (profile)
    slope_max: float = 0.0


def _dot(a: list[float], b: list[float]) -> float:
    return sum(map(mul, a, b))


def _solve(m: list[list[float]], v: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting (k ≤ 3)."""
    k = len(v)
    a = [row[:] + [v[i]] for i, row in enumerate(m)]
    for col in range(k):
        piv = max(range(col, k), key=lambda r: abs(a[r][col]))
        if abs(a[piv][col]) < 1e-12 * max(1.0, abs(a[col][col])):
            return None
        a[col], a[piv] = a[piv], a[col]
        for r in range(col + 1, k):
            f = a[r][col] / a[col][col]
            for c in range(col, k + 1):
                a[r][c] -= f * a[col][c]
    out = [0.0] * k
    for r in range(k - 1, -1, -1):
        out[r] = (a[r][k] - sum(a[r][c] * out[c] for c in range(r + 1, k))) / a[r][r]
    return out


def _rss(cols: list[list[float]], ys: list[float], yy: float) -> tuple[float, list[float]]:
    """Least squares of ys on the columns: (residual sum of squares, coefficients)."""
    gram = [[_dot(ci, cj) for cj in cols] for ci in cols]
    v = [_dot(c, ys) for c in cols]
    beta = _solve(gram, v)
    if beta is None:
        return math.inf, []
    return max(0.0, yy - _dot(beta, v)), beta


def _hinges(xs: list[float], x: list[float], y: list[float], yy: float, taus: list[float],
            slope: bool) -> list[tuple[float, float, list[float]]]:
    """Least squares of y on [1, (x,) h] with h = max(0, tau - xs), for every tau (ascending):
    [(tau, rss, coefficients)], as ``_rss`` gives them, in O(n log n + len(taus)) instead of
    O(n · len(taus)): a stress log of 20,000 points has ~20,000 bends to try.

    The sums over the points left of tau are carried from one tau to the next: moving tau
    by d adds d to every term of Σh (count times d) and 2d·Σh + count·d² to Σh² (terms of
    one sign: no cancellation), d·Σx to Σh·x and d·Σy to Σh·y; points passed are added with
    their own h. The Gram matrix is then the one ``_rss`` builds, to rounding (bends with
    fewer than MIN_SEGMENT points after them, ill-conditioned, are fitted directly)."""
    if any(t1 < t0 for t0, t1 in zip(taus, taus[1:], strict=False)):   # x not sorted
        done = {t: (t, r, beta) for t, r, beta in _hinges(xs, x, y, yy, sorted(set(taus)),
                                                          slope)}
        return [done[t] for t in taus]
    n = len(xs)
    order = sorted(range(n), key=xs.__getitem__)
    sx, sy = sum(x), sum(y)
    xx, xy = _dot(x, x), _dot(x, y)
    out: list[tuple[float, float, list[float]]] = []
    k = c = 0
    a = b = p = q = cx = cy = 0.0      # Σh, Σh², Σh·x, Σh·y, Σx, Σy left of tau
    prev = None
    for tau in taus:
        if prev is not None and c:
            d = tau - prev
            b += 2.0 * d * a + c * d * d
            a += c * d
            p += d * cx
            q += d * cy
        prev = tau
        while k < n and xs[order[k]] < tau:
            i = order[k]
            h = tau - xs[i]
            a += h
            b += h * h
            p += h * x[i]
            q += h * y[i]
            cx += x[i]
            cy += y[i]
            c += 1
            k += 1
        if n - k < MIN_SEGMENT:
            # a bend among the last points: h is then nearly a line in x (ill-conditioned);
            # these few are fitted from their columns, exactly as _rss always did
            h = [max(0.0, tau - v) for v in xs]
            r, beta = _rss([[1.0] * n, x, h] if slope else [[1.0] * n, h], y, yy)
            out.append((tau, r, beta))
            continue
        if slope:
            gram = [[float(n), sx, a], [sx, xx, p], [a, p, b]]
            v = [sy, xy, q]
        else:
            gram = [[float(n), a], [a, b]]
            v = [sy, q]
        beta = _solve(gram, v)
        if beta is None:
            out.append((tau, math.inf, []))
        else:
            out.append((tau, max(0.0, yy - _dot(beta, v)), beta))
    return out


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta (Lentz; Numerical Recipes)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def t_sf(t: float, nu: int) -> float:
    """P(T > t) for Student's t with nu degrees of freedom (t ≥ 0)."""
    x = nu / (nu + t * t)
    a, b = nu / 2.0, 0.5
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log1p(-x)) if 0 < x < 1 else 0.0
    if x <= 0:
        return 0.0
    if x < (a + 1) / (a + b + 2):
        ibeta = front * _betacf(a, b, x) / a
    else:
        ibeta = 1.0 - front * _betacf(b, a, 1.0 - x) / b
    return 0.5 * ibeta


@lru_cache(maxsize=4096)
def t_quantile(p: float, nu: int) -> float:
    """t such that P(T > t) = p (bisection on ``t_sf``)."""
    lo, hi = 0.0, 1.0
    while t_sf(hi, nu) > p:
        hi *= 2.0
        if hi > 1e8:
            return hi
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_sf(mid, nu) > p else (lo, mid)
    return hi


def alpha_at(n: int) -> float:
    """The level spent on a look at n points: α/(c·n²) for the looks, divided by n for the
    bend searched among the n points (Bonferroni)."""
    return ALPHA / (_C * n * n * n)


def _best_theta(rss, span: float) -> tuple[float, float]:  # noqa: ANN001
    """The θ ≤ span/3 that minimises ``rss(θ)``: the grid, then golden-section search on
    log θ between the best point's neighbours (a coarse θ leaves a misfit that a slope
    would absorb: a false leak)."""
    grid = [f * span for f in _THETAS]
    vals = [rss(t) for t in grid]
    i = min(range(len(grid)), key=vals.__getitem__)
    lo = math.log(grid[max(0, i - 1)])
    hi = math.log(grid[min(len(grid) - 1, i + 1)])
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = rss(math.exp(a)), rss(math.exp(b))
    for _ in range(14):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = rss(math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = rss(math.exp(b))
    best = min([(vals[i], grid[i]), (fa, math.exp(a)), (fb, math.exp(b))])
    return best[1], best[0]


def leak_test(xs: list[float], ys: list[float], span: float, unit: str = "cycles") -> LeakTest:
    """Test H0 (a warm-up: the curve ends flat, a fill lasts at most ``span``) against H1
    (the curve ends in a steady fall) on these points; see the module docstring."""
    n = len(xs)
    nu = n - 4
    if nu < 2:
        return LeakTest(False, 0.0, math.inf, 0.0, 0.0, "-", "-", f"{n} points, need 6")
    x0 = xs[0]
    mx = sum(xs) / n
    my = sum(ys) / n
    x = [v - mx for v in xs]
    y = [v - my for v in ys]
    yy = _dot(y, y)
    one = [1.0] * n
    end = x0 + span
    # H0: flat; a fall that stops at tau <= x0 + span; a saturating fill
    best0, h0 = yy, "flat"
    taus = [xv for xv in xs[1:] if xv <= end]
    if xs[-1] > end > xs[0]:
        taus.append(end)
    for tau, r, _ in _hinges(xs, x, y, yy, taus, slope=False):
        if r < best0:
            best0, h0 = r, (f"a fill ending at {tau:g}" if tau < xs[-1]
                            else "a fill still running")
    # the products of [1, x] and y, the same for every θ tried (``_rss`` took them each time)
    d11, d1x, dxx, d1y, dxy = _dot(one, one), _dot(one, x), _dot(x, x), _dot(one, y), _dot(x, y)
    fills: dict[tuple[float, bool], tuple[list[float], float, list[float]]] = {}

    def sat(theta: float, line: bool) -> tuple[float, list[float]]:
        """``_rss([1, x, e] if line else [1, e], y, yy)`` with e the fill's exp(-(x−x0)/θ),
        from the products above: the same Gram matrix, so the same numbers (remembered:
        H1 asks again for the θ the search tried)."""
        held = fills.get((theta, line))
        if held is None:
            e = [math.exp(-(v - x0) / theta) for v in xs]
            d1e, dee, dey = _dot(one, e), _dot(e, e), _dot(e, y)
            if line:
                dxe = _dot(x, e)
                gram = [[d11, d1x, d1e], [d1x, dxx, dxe], [d1e, dxe, dee]]
                v = [d1y, dxy, dey]
            else:
                gram = [[d11, d1e], [d1e, dee]]
                v = [d1y, dey]
            beta = _solve(gram, v)
            held = fills[(theta, line)] = (
                e, *((math.inf, []) if beta is None else (max(0.0, yy - _dot(beta, v)), beta)))
        return held[1], held[2]

    theta0, r = _best_theta(lambda t: sat(t, False)[0], span)
    if r < best0:
        best0, h0 = r, f"a saturating fill (θ={theta0:.1f})"
    # H1: each shape plus a final slope
    best1, h1, start, cols1, beta1 = math.inf, "-", x0, [one, x], []
    cands: list[tuple[float, float]] = []      # (rss, final slope) of every H1 shape tried
    r, beta = _rss([one, x], y, yy)
    cands.append((r, beta[1] if beta else 0.0))
    if r < best1:
        best1, h1, beta1 = r, "a straight fall", beta
    bends = {xv for xv in xs[1:n - MIN_SEGMENT + 1]} | set(taus)
    bend = None
    for tau, r, beta in _hinges(xs, x, y, yy, sorted(bends), slope=True):
        if beta:
            cands.append((r, beta[1]))
        if r < best1 and beta:
            best1, bend, beta1 = r, tau, beta
    if bend is not None:
        h1, start = f"a bend at {bend:g}, then a steady fall", bend
        cols1 = [one, x, [max(0.0, bend - v) for v in xs]]
    theta1, _ = _best_theta(lambda t: sat(t, True)[0], span)
    for theta in (theta1, *(f * span for f in _THETAS)):
        r, beta = sat(theta, True)
        e1 = fills[(theta, True)][0]
        if beta:
            cands.append((r, beta[1]))
        if r < best1 and beta:
            best1, h1 = r, f"a saturating fill (θ={theta:.1f}) on a fall"
            start, cols1, beta1 = x0 + 3 * theta, [one, x, e1], beta
    slope = beta1[1] if beta1 else 0.0
    # integers printed by the firmware: the noise is at least their rounding
    sigma2 = max(best1 / nu, 1.0 / 12.0)
    f_stat = max(0.0, best0 - best1) / sigma2
    a_n = alpha_at(n)
    f_crit = t_quantile(a_n, nu) ** 2
    leak = slope < 0 and f_stat > f_crit
    if leak:
        why = (f"{h1} fits better than any warm-up ({h0}) by F={f_stat:.3g} > {f_crit:.3g} "
               f"(level {a_n:.1e} on this look)")
    elif slope >= 0:
        why = f"the curve does not end in a fall ({h1})"
    else:
        why = (f"a warm-up still explains the curve ({h0}: F={f_stat:.3g} <= {f_crit:.3g}; "
               f"a fill may last up to {span:g} {unit})")
    # the final line (the fill's term gone, past the bend) and its slope's standard error
    gram = [[_dot(ci, cj) for cj in cols1] for ci in cols1]
    inv_b = _solve(gram, [1.0 if i == 1 else 0.0 for i in range(len(cols1))])
    se = math.sqrt(sigma2 * inv_b[1]) if inv_b and inv_b[1] > 0 else 0.0
    level = my + (beta1[0] - slope * mx if beta1 else 0.0)
    # the shapes the data cannot tell from the best one (profile: RSS within the F bound at
    # 95 %): where the bend or the fill's θ is uncertain, so is the final slope
    q = t_quantile(0.025, nu)
    near = [b for r, b in cands if r <= best1 + q * q * sigma2]
    return LeakTest(leak, f_stat, f_crit, a_n, slope, h0, h1, why, start, se, nu, level,
                    min(near, default=slope), max(near, default=slope))
