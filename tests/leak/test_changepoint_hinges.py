"""The change-point model's hinge scan (every bend in one pass of running sums) must give
the least-squares fit of each bend, as an independent solver (numpy's lstsq) finds it."""

import math
import random

import numpy as np
import pytest

from memsleuth.analysis.changepoint import MIN_SEGMENT, _hinges, leak_test


def _series(seed: int, n: int, monotonic: bool) -> tuple[list[float], list[float]]:
    rnd = random.Random(seed)
    if monotonic:
        xs = [float(i + 1) for i in range(n)]
    else:   # timestamps with a clock step back: x is not sorted
        xs = [1.7e9 + 13.7 * i + rnd.random() for i in range(n)]
        xs[n // 3] -= 40.0
    ys = [float(round(50_000 - 30 * min(i, 15) - 4 * max(0, i - 15) + rnd.gauss(0, 6)))
          for i in range(n)]
    return xs, ys


@pytest.mark.parametrize("monotonic", [True, False])
@pytest.mark.parametrize("slope", [True, False])
def test_every_bend_is_its_least_squares_fit(monotonic: bool, slope: bool) -> None:
    xs, ys = _series(7, 120, monotonic)
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    x = [v - mx for v in xs]
    y = [v - my for v in ys]
    yy = sum(v * v for v in y)
    taus = sorted(set(xs[1:]))
    if not monotonic:
        taus = taus[::-1][:40] + taus[:40]      # any order: answered in the order asked
    got = _hinges(xs, x, y, yy, taus, slope)
    assert [t for t, _, _ in got] == taus
    for tau, rss, beta in got:
        h = np.maximum(0.0, tau - np.array(xs))
        cols = [np.ones(n), np.array(x), h] if slope else [np.ones(n), h]
        a = np.column_stack(cols)
        coef, *_ = np.linalg.lstsq(a, np.array(y), rcond=None)
        want = float(np.sum((np.array(y) - a @ coef) ** 2))
        if not h.any():                         # no point left of the bend: no fit
            assert rss == math.inf and beta == []
            continue
        if sum(v >= tau for v in xs) < MIN_SEGMENT:
            continue    # a bend among the last points: h is almost a line (ill-conditioned)
        assert rss == pytest.approx(want, rel=1e-7, abs=1e-6)
        assert beta == pytest.approx(list(coef), rel=1e-6, abs=1e-6)


def test_long_series_is_not_quadratic() -> None:
    """20,000 points (a stress log's stored series) are judged in seconds, not minutes:
    the bend is found where the generating curve has it."""
    rnd = random.Random(3)
    n = 20_000
    xs = [float(i + 1) for i in range(n)]
    ys = [50_000.0 - 40 * min(i, 30) - 2 * max(0, i - 30) + round(rnd.gauss(0, 20))
          for i in range(n)]
    test = leak_test(xs, ys, 20.0)
    assert test.leak
    assert test.slope == pytest.approx(-2.0, abs=0.01)
    assert abs(test.start - 31) <= 3
