"""Properties of the robust fit: noise, outliers, transforms."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth.analysis.regression import crossing, mann_kendall, theil_sen

slopes = st.floats(min_value=-500, max_value=500, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(slope=slopes, icpt=st.floats(-1e6, 1e6), noise=st.floats(0, 50),
       n=st.integers(20, 120), seed=st.integers(0, 2**32 - 1))
def test_noisy_line_slope_within_bounds(slope, icpt, noise, n, seed):
    rng = random.Random(seed)
    xs = list(range(n))
    ys = [icpt + slope * x + rng.uniform(-noise, noise) for x in xs]
    fit = theil_sen(xs, ys)
    # Uniform noise of half-width `noise`: the pairwise slopes cannot stray by more than
    # 2*noise over the shortest run that carries the median; n/4 is a safe span.
    assert abs(fit.slope - slope) <= 2 * noise / (n / 4) + 1e-6
    assert fit.slope_low <= fit.slope <= fit.slope_high


@settings(max_examples=60, deadline=None)
@given(slope=slopes, n=st.integers(30, 100), seed=st.integers(0, 2**32 - 1),
       share=st.floats(0, 0.2))
def test_invariant_to_outliers(slope, n, seed, share):
    rng = random.Random(seed)
    xs = list(range(n))
    ys = [1000.0 + slope * x for x in xs]
    for i in rng.sample(range(n), int(share * n)):
        ys[i] += rng.choice([-1, 1]) * rng.uniform(1e4, 1e7)
    fit = theil_sen(xs, ys)
    assert fit.slope == pytest.approx(slope, abs=1e-6 + abs(slope) * 1e-6)


@settings(max_examples=40, deadline=None)
@given(ys=st.lists(st.integers(-10**6, 10**6), min_size=5, max_size=60))
def test_mann_kendall_invariant_under_monotone_transform(ys):
    xs = list(range(len(ys)))
    s, z, p, tau = mann_kendall(xs, ys)
    transformed = [y ** 3 + 7 * y + 11 for y in ys]        # strictly increasing
    assert mann_kendall(xs, transformed) == (s, z, p, tau)
    # each pairwise slope keeps its sign, so when a strict majority of them agree, the
    # Theil-Sen median has that sign before and after the transform
    pairs = len(ys) * (len(ys) - 1) // 2
    pos = sum(1 for i in range(len(ys)) for j in range(i + 1, len(ys)) if ys[j] > ys[i])
    neg = sum(1 for i in range(len(ys)) for j in range(i + 1, len(ys)) if ys[j] < ys[i])
    a, b = theil_sen(xs, ys), theil_sen(xs, transformed)
    if 2 * pos > pairs:
        assert a.slope > 0 and b.slope > 0
    if 2 * neg > pairs:
        assert a.slope < 0 and b.slope < 0


@settings(max_examples=40, deadline=None)
@given(ys=st.lists(st.integers(-1000, 1000), min_size=5, max_size=40),
       a=st.integers(1, 50), b=st.integers(-100, 100), c=st.integers(-10**5, 10**5))
def test_affine_equivariance(ys, a, b, c):
    xs = list(range(len(ys)))
    base = theil_sen(xs, ys)
    moved = theil_sen(xs, [a * y + b * x + c for x, y in zip(xs, ys, strict=True)])
    assert moved.slope == pytest.approx(a * base.slope + b, abs=1e-6)


def test_flat_noise_is_not_significant():
    rng = random.Random(3)
    xs = list(range(200))
    ys = [50_000 + rng.randint(-300, 300) for _ in xs]
    fit = theil_sen(xs, ys)
    assert not fit.significant
    assert fit.mk_p > 0.01


def test_crossing_interval_brackets_the_point():
    xs = list(range(50))
    rng = random.Random(1)
    ys = [10_000 - 72 * x + rng.randint(-40, 40) for x in xs]
    fit = theil_sen(xs, ys)
    mid, early, late = crossing(fit, 0)
    assert early is not None and late is not None and mid is not None
    assert early <= mid <= late
    assert mid == pytest.approx(10_000 / 72, rel=0.03)


def test_long_series_is_thinned():
    xs = list(range(20_000))
    ys = [5.0 - 0.5 * x for x in xs]
    fit = theil_sen(xs, ys)
    assert fit.n <= 1000
    assert fit.slope == pytest.approx(-0.5)


def _both_paths(fn, *args):
    """fn(*args) on the NumPy path and on the pure-Python loops."""
    from memsleuth.analysis import regression

    pytest.importorskip("numpy")
    saved = regression._numpy
    try:
        regression._numpy = None
        fast = fn(*args)
        regression._numpy = False
        slow = fn(*args)
    finally:
        regression._numpy = saved
    return fast, slow


_values = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e9, 1e9, allow_nan=False),
                    st.sampled_from([0, 1, 0.0, -0.0, 2**60]))


@settings(max_examples=80, deadline=None)
@given(n=st.integers(32, 160), seed=st.integers(0, 2**32 - 1), ties=st.booleans(),
       data=st.data())
def test_vector_path_identical_to_loops(n, seed, ties, data):
    """The NumPy path is an implementation detail: the Fit and the Mann-Kendall figures are
    the same numbers, bit for bit (ints, floats, repeated x, repeated y, a huge int)."""
    rng = random.Random(seed)
    xs = sorted(rng.choice(range(n // 3)) for _ in range(n)) if ties else list(range(n))
    ys = [data.draw(_values) if rng.random() < 0.1 else rng.choice([0, 5, 5.5]) if ties
          else 1000.0 - 3.25 * x + rng.uniform(-50, 50) for x in xs]
    if len(set(xs)) < 2:
        return
    fast, slow = _both_paths(theil_sen, xs, ys)
    assert fast == slow and str(fast.slope) == str(slow.slope)
    assert _both_paths(mann_kendall, xs, ys)[0] == _both_paths(mann_kendall, xs, ys)[1]


def _mk_by_definition(xs, ys):
    """S and tied pairs straight from the definition, written apart from regression.py."""
    s = tx = ty = 0
    for j in range(len(xs)):
        for i in range(j):
            s += ((xs[j] > xs[i]) - (xs[j] < xs[i])) * ((ys[j] > ys[i]) - (ys[j] < ys[i]))
            tx += xs[i] == xs[j]
            ty += ys[i] == ys[j]
    return s, tx, ty


@settings(max_examples=12, deadline=None)
@given(n=st.integers(32, 1200), seed=st.integers(0, 2**32 - 1),
       levels=st.sampled_from([3, 40, 10**6]))
def test_blocked_pairs_on_long_unsorted_series(n, seed, levels):
    """Series past several row blocks, x out of order with repeats, y with many ties: the
    NumPy blocks give the loops' Fit bit for bit, and S, tau from the definition."""
    from memsleuth.analysis import regression

    pytest.importorskip("numpy")
    rng = random.Random(seed)
    xs = [rng.randrange(max(2, n // 2)) for _ in range(n)]
    ys = [float(rng.randrange(levels)) - 0.5 * x for x in xs]
    fast, slow = _both_paths(theil_sen, xs, ys)
    assert fast == slow and str(fast.slope_low) == str(slow.slope_low)
    s, tx, ty = _mk_by_definition(xs, ys)
    assert regression._mk_counts(*regression._vectors(n, xs, ys)) == (s, tx, ty)
    pairs = n * (n - 1) // 2
    tau = s / ((pairs - tx) * (pairs - ty)) ** 0.5 if pairs > max(tx, ty) else 0.0
    assert mann_kendall(xs, ys)[0] == s
    assert mann_kendall(xs, ys)[3] == pytest.approx(tau, rel=1e-12, abs=1e-15)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 1100), seed=st.integers(0, 2**32 - 1), sorted_x=st.booleans())
def test_sen_slopes_are_theil_sens(n, seed, sorted_x):
    """Many series on one abscissa (site_growth): each (slope, low, high) is theil_sen's, bit
    for bit: short series (the loops), long ones (thinned past 1000 points), repeated x, tied
    and constant y, a value too big for the vector path."""
    from memsleuth.analysis.regression import sen_slopes

    rng = random.Random(seed)
    xs = [float(rng.randrange(max(2, n // 3))) for _ in range(n)]
    if sorted_x:
        xs.sort()
    if len(set(xs)) < 2:
        xs[0], xs[-1] = 0.0, 1.0
    series = [[float(rng.randrange(3)) for _ in xs], [7.0] * n,
              [1e4 - 2.5 * x + rng.uniform(-30, 30) for x in xs],
              [float(rng.randrange(10**6)) for _ in xs]]
    if n <= 300:    # the loops: quadratic in pure Python
        series.append(series[2][:-1] + [float(2**60)])
    got = sen_slopes(xs, series)
    want = [theil_sen(xs, ys) for ys in series]
    assert [tuple(map(str, g)) for g in got] == [
        (str(f.slope), str(f.slope_low), str(f.slope_high)) for f in want]


@settings(max_examples=30, deadline=None)
@given(size=st.integers(20_001, 120_000), seed=st.integers(0, 2**32 - 1),
       shape=st.sampled_from(["normal", "ties", "equal", "tails", "zeros"]),
       where=st.floats(0.0, 1.0), width=st.floats(0.0, 0.2))
def test_order_stats_band_is_a_full_sort(size, seed, shape, where, width):
    """The sampled band gives the k-th smallest slopes a full sort gives, wherever the ranks
    sit (both ends included, where the band cannot hold them), on every shape of data and
    however the values come in chunks."""
    np = pytest.importorskip("numpy")
    from memsleuth.analysis import regression

    regression._vectors(40, [0.0] * 40)         # loads NumPy into the module
    rng = np.random.default_rng(seed)
    arr = {"normal": lambda: rng.normal(0, 1, size),
           "ties": lambda: rng.integers(0, 5, size).astype(float),
           "equal": lambda: np.full(size, 3.5),
           "tails": lambda: rng.standard_cauchy(size),
           "zeros": lambda: rng.choice([-0.0, 0.0, 1.0], size)}[shape]()
    lo = int(where * (size - 1))
    ks = {lo, min(size - 1, lo + int(width * size)), size // 2}
    want = np.sort(arr)
    cuts = sorted(rng.integers(0, size, int(rng.integers(0, 12))).tolist())
    work = arr.copy()
    chunks = np.split(work, cuts)        # as the pair blocks hand over slopes, some empty
    got = regression._order_stats(size, arr[::size // 8192], lambda: iter(chunks), ks)
    assert got == {k: float(want[k]) for k in ks}
