"""`trend`: the free-heap curve, its fit, classification and forecast.

One shape per field: what does not apply is null (``warmup`` and ``evidence`` of a curve with
too few points to fit), never a placeholder object; keys marked ``omitted`` appear only where
they apply (the warm-up detector's numbers, the fragmentation and pool evidence, a level's
times when the cycles have timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.results.common import CycleSource, Document, omitted

XAxis = Literal["cycle", "time", "index"]


def x_unit(x: str, rows_from: str = "overviews", *, second: str = "s") -> str:
    """The word for one step along ``x``: "cycle", ``second``, and for the index the thing
    counted ("overview", or "dump" when the points are the statistics inside block dumps)."""
    if x == "index":
        return "dump" if rows_from == "block_dumps" else "overview"
    return second if x == "time" else ("cycle" if x == "cycle" else "x")
Classification = Literal[
    "steady_leak", "step", "fragmentation", "warmup_plateau", "no_leak", "insufficient",
]
ForecastLevelName = Literal[
    "free_zero", "free_below_allocation", "free_below_cycle_demand",
    "largest_block_below_allocation", "largest_block_below_cycle_demand",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendPoint:
    """One point of the curve (``x`` in the curve's unit; ``line`` its overview's line)."""

    x: float
    cycle: int | None
    ts: float | None
    line: int
    free: int
    min_free: int | None
    max_free_block: int | None
    pool_free: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fit:
    """A Theil–Sen line with Sen's slope interval and the Mann–Kendall trend test (floats
    rounded to 6 places, ``mk_p`` as computed)."""

    slope: float
    intercept: float
    slope_low: float
    slope_high: float
    confidence: float
    n: int
    x_center: float
    y_center: float
    residual_mad: float
    mk_s: int
    mk_z: float
    mk_p: float
    kendall_tau: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Warmup:
    """Points cut from the start (0 when none) and the fall they held (``drop``, B); the
    detector's numbers when it ran (``method`` auto), ``reason`` when it cut nothing."""

    points: int
    until_x: float | None
    method: Literal["auto", "fixed"]
    searched: int | None = omitted()
    reason: str | None = omitted()
    f: float | Literal["inf"] | None = omitted()
    break_index: int | None = omitted()
    slope_before: float | None = omitted()
    slope_after: float | None = omitted()
    drop: float
    curved_start: int | None = omitted()    # points cut while the start still curved


@dataclass(frozen=True, slots=True, kw_only=True)
class Jumps:
    """Down-steps far outside the typical step, and how much of the decline they explain
    (``share``; ``base_decline``: what the typical step alone adds up to over the span)."""

    count: int
    steps: int
    threshold: float
    typical_step: float
    sizes: tuple[float, ...]
    level_drop: float
    share: float
    base_decline: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FragmentationEvidence:
    max_free_block_slope: float
    max_free_block_decline: float
    first: float
    last: float
    shrinking: bool
    ratio_to_free_decline: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolEvidence:
    slope: float
    interval: tuple[float, float]
    mann_kendall_p: float


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlyVerdict:
    """The change-point model's word on a steady fall (``analysis.changepoint``): is it a
    leak yet, or could a warm-up still explain it?"""

    settled: bool
    why: str
    segment_points: int
    change_point: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """The numbers behind a classification (slope unit: ``unit``)."""

    slope: float
    slope_interval: tuple[float, float]
    confidence: float
    unit: str
    mann_kendall_p: float
    kendall_tau: float
    noise: float
    decline_over_span: float
    span: float
    material: bool
    trending: bool
    jumps: Jumps
    fragmentation: FragmentationEvidence | None = omitted()
    pool: PoolEvidence | None = omitted()
    early_verdict: EarlyVerdict | None = omitted()   # steady_leak only


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastLevel:
    """Where the fitted line (and its interval) reaches one failure level; ``time*``: the
    same crossing in seconds (x = cycle, when the cycles have timestamps)."""

    level: ForecastLevelName
    bytes: float
    at: float | None
    earliest: float | None
    latest: float | None
    time: float | None = omitted()
    time_earliest: float | None = omitted()
    time_latest: float | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class Exhaustion(ForecastLevel):
    """The level that fails first, its interval widened over every level of its kind
    (``interval_from``); ``fit_earliest``/``fit_latest``: the fit's own interval."""

    fit_earliest: float | None
    fit_latest: float | None
    interval_from: tuple[ForecastLevelName, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleDemand:
    max: int
    median: float
    samples: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    """When the heap runs out; ``exhaustion`` is the level that fails first, ``basis`` what
    it rests on (null without one)."""

    x: XAxis
    allocation_size: int | None
    levels: tuple[ForecastLevel, ...]
    cycle_demand: CycleDemand | None = omitted()
    exhaustion: Exhaustion | None
    basis: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocFailure:
    """A malloc failure (or, for ``observed_failure``, a crash) seen in the log; the heap
    state at that moment (``total``, ``largest_free_block``) and why it failed
    (``explanation``, ``cause``) where the log says, else null."""

    kind: Literal["malloc_failed", "realloc_failed", "crash"]
    line: int
    cycle: int | None
    ts: float | None
    need: int | None
    free: int | None
    total: int | None
    largest_free_block: int | None
    explanation: str | None
    cause: Literal["exhaustion", "fragmentation"] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocFailures:
    count: int
    first: AllocFailure | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Excluded:
    """What the collector left out of the curve (``first``: the first impossible row's line
    and why)."""

    impossible_rows: int
    first: tuple[int, str] | None
    glitches: int
    restarts: int
    heaps: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlierLeak:
    """A run before a reboot or before another heap's rows, judged on its own: it leaked."""

    until_line: int         # the line where the next run (or heap) began
    x: XAxis
    points: int
    rate: float             # B per x, positive = falling
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlierUndecided:
    """A run before a reboot or before another heap's rows whose fall could not be told from
    a warm-up: with no judged run after it, the log cannot be called clean."""

    until_line: int         # the line where the next run (or heap) began
    x: XAxis
    points: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Curve:
    """What ``analysis.trend.analyze_points`` returns. ``warmup``, ``fit`` and ``evidence``
    are null when there are too few points to fit (``reason`` says so)."""

    x: XAxis
    points: int
    total: int | None
    first: TrendPoint | None
    last: TrendPoint | None
    classification: Classification
    leak: bool
    warmup: Warmup | None
    fit: Fit | None
    max_free_block_fit: Fit | None
    evidence: Evidence | None
    reason: str
    forecast: Forecast | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Trend(Curve):
    """What ``TrendCollector.result`` returns (also ``check``'s and ``analyze``'s trend)."""

    points_available: int
    series: tuple[TrendPoint, ...]
    observed_failure: AllocFailure | None
    alloc_failures: AllocFailures
    #: earlier runs of the log (before a reboot, another heap) that leaked on their own
    earlier_leaks: tuple[EarlierLeak, ...]
    #: earlier runs that could not be judged ("insufficient": a fall or a warm-up?)
    earlier_undecided: tuple[EarlierUndecided, ...]
    excluded: Excluded
    cycle_source: CycleSource | None    # x = cycle only
    #: where the points come from: overview tables (standalone, or the first of each cycle),
    #: or, in a log with neither of its own nor markers, the statistics inside each block dump
    rows_from: Literal["overviews", "block_dumps"]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendOutput(Trend, Document):
    """`memsleuth trend --json`."""

    log: str
    partial: tuple[str, ...]
