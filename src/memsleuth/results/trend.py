"""`trend`: the free-heap curve, its fit, classification and forecast."""

from typing import Literal, TypedDict

from memsleuth.results.common import CycleSource, Envelope

XAxis = Literal["cycle", "time", "index"]
Classification = Literal[
    "steady_leak", "step", "fragmentation", "warmup_plateau", "no_leak", "insufficient",
]
ForecastLevelName = Literal[
    "free_zero", "free_below_allocation", "free_below_cycle_demand",
    "largest_block_below_allocation", "largest_block_below_cycle_demand",
]


class TrendPoint(TypedDict):
    x: float
    cycle: int | None
    ts: float | None
    line: int
    free: int
    min_free: int | None
    max_free_block: int | None
    pool_free: int | None


class Fit(TypedDict):
    """A Theil–Sen line with Sen's slope interval and the Mann–Kendall trend test."""

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


class _WarmupOptional(TypedDict, total=False):
    until_x: float | None
    method: Literal["auto", "fixed"]
    drop: float
    searched: int
    reason: str
    f: float | Literal["inf"]
    break_index: int
    slope_before: float
    slope_after: float


class Warmup(_WarmupOptional):
    """Points cut from the start (0 when none); the detector's numbers when it ran."""

    points: int


class Jumps(TypedDict):
    """Down-steps far outside the typical step, and how much of the decline they explain."""

    count: int
    steps: int
    threshold: float
    typical_step: float
    sizes: list[float]
    level_drop: float
    share: float


class FragmentationEvidence(TypedDict):
    max_free_block_slope: float
    max_free_block_decline: float
    first: float
    last: float
    shrinking: bool
    ratio_to_free_decline: float | None


class PoolEvidence(TypedDict):
    slope: float
    interval: list[float]
    mann_kendall_p: float


class _EvidenceOptional(TypedDict, total=False):
    fragmentation: FragmentationEvidence
    pool: PoolEvidence


class Evidence(_EvidenceOptional):
    """The numbers behind a classification (slope unit: ``unit``)."""

    slope: float
    slope_interval: tuple[float, float]
    unit: str
    mann_kendall_p: float
    kendall_tau: float
    noise: float
    decline_over_span: float
    span: float
    material: bool
    trending: bool
    jumps: Jumps


class EvidenceTooFew(TypedDict):
    """Too few points to fit: why."""

    reason: str


class _ForecastLevelOptional(TypedDict, total=False):
    # x = cycle with timestamps: the same crossing in seconds
    time: float | None
    time_earliest: float | None
    time_latest: float | None


class ForecastLevel(_ForecastLevelOptional):
    """Where the fitted line (and its interval) reaches one failure level."""

    level: ForecastLevelName
    bytes: float
    at: float | None
    earliest: float | None
    latest: float | None


class CycleDemand(TypedDict):
    max: int
    median: float
    samples: int


class _ForecastOptional(TypedDict, total=False):
    cycle_demand: CycleDemand


class Forecast(_ForecastOptional):
    """When the heap runs out; ``exhaustion`` is the level that fails first."""

    x: XAxis
    allocation_size: int | None
    levels: list[ForecastLevel]
    exhaustion: ForecastLevel | None


class AllocFailure(TypedDict):
    """A malloc failure (or, for ``observed_failure``, a crash) seen in the log."""

    kind: Literal["malloc_failed", "realloc_failed", "crash"]
    line: int
    cycle: int | None
    ts: float | None
    need: int | None
    free: int | None


class AllocFailures(TypedDict):
    count: int
    first: AllocFailure | None


class Excluded(TypedDict):
    """What the collector left out of the curve."""

    impossible_rows: int
    first: tuple[int, str] | None
    glitches: int
    restarts: int
    heaps: int


class EarlierLeak(TypedDict):
    """A run before a reboot or before another heap's rows, judged on its own: it leaked."""

    until_line: int         # the line where the next run (or heap) began
    x: str                  # cycle | index
    points: int
    rate: float             # B per x, positive = falling
    reason: str


class _CurveOptional(TypedDict, total=False):
    max_free_block_fit: Fit | None


class Curve(_CurveOptional):
    """What ``analysis.trend.analyze_points`` returns."""

    x: XAxis
    points: int
    total: int | None
    first: TrendPoint | None
    last: TrendPoint | None
    classification: Classification
    leak: bool
    warmup: Warmup
    fit: Fit | None
    evidence: Evidence | EvidenceTooFew
    reason: str
    forecast: Forecast | None


class Trend(Curve):
    """What ``TrendCollector.result`` returns (also ``check``'s and ``analyze``'s trend)."""

    points_available: int
    series: list[TrendPoint]
    observed_failure: AllocFailure | None
    alloc_failures: AllocFailures
    excluded: Excluded
    #: earlier runs of the log (before a reboot, another heap) that leaked on their own
    earlier_leaks: list[EarlierLeak]
    cycle_source: CycleSource | None    # x = cycle only
    notes: list[str]


class TrendOutput(Envelope, Trend):
    """`memsleuth trend --json`."""

    log: str
    partial: list[str]
