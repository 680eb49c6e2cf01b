"""Live status and alerts: free heap, leak rate, forecast, object imbalance.

Why so careful before saying "leak": the first cycles of a stress test fill caches and pools
that are never freed by design (field-survey §5 E), and live, a warm-up drop looks exactly
like a leak until the curve flattens. So the leak alert needs enough points (32 by default),
the trend classifier (``memsleuth.analysis.trend``: warm-up cut, Theil–Sen interval below
zero, Mann–Kendall trend, a decline above the noise) to say ``steady_leak`` on the whole
series, *and* the recent half to decline on its own. On the example firmware this alerts
at cycle 33 (host) / 54 (Cortex-M) of a leak that runs out of memory at cycle 913, and never on the
no-leak, burst or fragmentation runs. The object-leak alert applies a robust slope to the
creates−deletes balance sampled at each cycle start.

The exhaustion forecast is the trend module's (``analyze_points(...)["forecast"]``), on the
same points ``memsleuth trend`` selects (the first standalone overview of each cycle), with
the largest allocation seen and the per-cycle demand from the low-water mark: live and
offline give the same cycle. It runs on the whole series, so it is refreshed only when the
series has grown by a quarter (bounded cost), and once more when the session ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from memsleuth.analysis.regression import Fit, theil_sen
from memsleuth.analysis.trend import Point, analyze_points, largest_allocation
from memsleuth.records import (
    AllocWarning,
    BlockDump,
    CycleMarker,
    HeapOverview,
    ObjectEvent,
    Record,
)


@dataclass(slots=True)
class Alert:
    """Something the user must look at now; ``line`` is where the evidence is in the capture."""

    kind: str          # "leak", "object_leak", "crash", "malloc_failed"
    line: int
    message: str
    cycle: int | None = None
    #: lines received when the alert was raised (line numbers are capture line numbers)
    raised_after_line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Alert kinds that make `monitor` exit 1 (like `check`).
FINDING_KINDS = frozenset({"leak", "object_leak", "crash", "malloc_failed"})


#: Points needed before a leak can be declared (warm-up and plateau must be told apart).
MIN_LEAK_POINTS = 32
#: The status rate is fitted over the recent half, but never fewer points than this.
MIN_RECENT = 8
#: The leak verdict thins long series to this many points (bounded cost per check).
TREND_POINTS = 160

#: Series longer than this are thinned to evenly spaced points before fitting (~1 ms a fit).
FIT_POINTS = 64


#: A days-long session keeps at most this many points per series (older ones decimated).
POINTS_CAP = 10_000
#: The forecast (a fit on the whole series) is refreshed when the series grew by this factor.
FORECAST_GROWTH = 1.25


def _decimate(series: dict[Any, Any]) -> dict[Any, Any]:
    """Keep every other point of the older half: memory stays bounded, recent detail stays."""
    items = sorted(series.items())
    half = len(items) // 2
    return dict(items[:half:2] + items[half:])


def _thin(items: list[Point], limit: int) -> list[Point]:
    """Evenly spaced picks (first and last kept) so long sessions cost the same per check."""
    if len(items) <= limit:
        return items
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def _declines(result: dict[str, Any]) -> bool:
    """A steady leak, or one the trend holds back only for having under 32 points.

    The recent half of a short series has fewer points than the trend's own floor for a
    verdict; its evidence (a trend that is significant and material) still tells whether it
    declines on its own, which is all the half is asked.
    """
    if result.get("leak"):
        return True
    ev = result.get("evidence") or {}
    return (result.get("classification") == "insufficient" and bool(ev.get("trending"))
            and bool(ev.get("material")))


def _due(n: int) -> bool:
    """Refit on every point while short, then every ~3 % of the series (bounded total cost)."""
    return n <= FIT_POINTS or n % max(1, n // 32) == 0


def robust_fit(xs: Sequence[float], ys: Sequence[float]) -> Fit | None:
    """Theil–Sen with Sen's interval (memsleuth.analysis.regression), on at most FIT_POINTS."""
    if len(set(xs)) < 2:
        return None
    return theil_sen(xs, ys, confidence=0.95, max_points=FIT_POINTS)


@dataclass(slots=True)
class LiveTracker:
    """Fold records as they stream; answer the status line and raise alerts once."""

    warmup: int = -1             # points (cycles) ignored at the start; -1: detect
    min_points: int = MIN_LEAK_POINTS  # points needed before a leak can be declared
    max_p: float = 0.05          # Mann–Kendall p-value needed (object balance)
    cycle: int | None = None
    lines: int = 0
    last: HeapOverview | None = None
    #: x (cycle or ordinal) -> the heap point (the first standalone overview of a cycle)
    points: dict[float, Point] = field(default_factory=dict)
    #: the largest allocation seen (used block of a dump, failed request): a forecast level
    largest: int | None = None
    #: the trend module's exhaustion forecast ({level, bytes, at, earliest, latest}) or None
    exhaustion: dict[str, Any] | None = None
    creates: dict[str, int] = field(default_factory=dict)
    deletes: dict[str, int] = field(default_factory=dict)
    balance_series: dict[str, dict[int, int]] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    fit: Fit | None = None
    crashes: int = 0
    malloc_failures: int = 0
    #: the latest allocator warnings: an out-of-memory crash is explained with them
    warnings: list[AllocWarning] = field(default_factory=list)
    _raised: set[str] = field(default_factory=set)
    _new: list[Alert] = field(default_factory=list)
    _ordinal: int = 0
    _forecast_n: int = 0

    # -- feeding -----------------------------------------------------------------------------
    def add(self, record: Record) -> None:
        if isinstance(record, HeapOverview):
            self._overview(record)
        elif isinstance(record, ObjectEvent):
            table = self.creates if record.op == "create" else self.deletes
            table[record.kind] = table.get(record.kind, 0) + 1
        elif isinstance(record, CycleMarker):
            self._cycle(record)
        elif isinstance(record, BlockDump):
            if record.overview is not None:
                self._overview(record.overview)
            self.largest = largest_allocation(record, self.largest)
        elif isinstance(record, AllocWarning):
            self.largest = largest_allocation(record, self.largest)
            self.warnings = [*self.warnings[-15:], record]
            if record.kind != "malloc_failed":
                return
            self.malloc_failures += 1
            self._raise("malloc_failed", record.line,
                        f"malloc failed at line {record.line}: the heap is exhausted"
                        + (f" (cycle {self.cycle})" if self.cycle is not None else ""))

    def crash(self, line: int, text: str) -> None:
        self.crashes += 1
        self._raise(f"crash:{line}", line, f"crash dump at line {line}: {text}", kind="crash")

    def _overview(self, ov: HeapOverview) -> None:
        if ov.nested or ov.partial:
            return
        self.last = ov
        if self.cycle is not None:
            x: float = self.cycle
            if x in self.points:
                return  # the first overview of a cycle is its point (as `memsleuth trend`)
        else:
            self._ordinal += 1
            x = self._ordinal
        self.points[x] = Point(
            x=x, index=0, cycle=self.cycle, ts=ov.ts, line=ov.line, free=ov.free,
            total=ov.total, min_free=ov.min_free, max_free_block=ov.max_free_block,
            pool_free=ov.pool.free if ov.pool is not None else None, nested=False)
        if len(self.points) > POINTS_CAP:
            self.points = _decimate(self.points)
        self._check_leak(ov.line)

    def _cycle(self, marker: CycleMarker) -> None:
        index = marker.index if marker.index is not None else (self.cycle or 0) + 1
        # the balance at the start of a cycle = what the previous cycles left behind
        for kind in set(self.creates) | set(self.deletes):
            series = self.balance_series.setdefault(kind, {})
            series[index] = self.imbalance(kind)
            if len(series) > POINTS_CAP:
                self.balance_series[kind] = _decimate(series)
        if self.cycle is None and self.points:
            # overviews before the first cycle marker are boot, not cycles (as offline)
            self.points.clear()
            self._forecast_n = 0
        self.cycle = index
        self._check_objects(marker.line)

    # -- analysis ----------------------------------------------------------------------------
    def imbalance(self, kind: str) -> int:
        return self.creates.get(kind, 0) - self.deletes.get(kind, 0)

    def _window(self, series: dict[float, int] | dict[int, int]) -> tuple[list[float], list[float]]:
        items = sorted(series.items())[max(self.warmup, 0):]
        return [float(k) for k, _ in items], [float(v) for _, v in items]

    def _check_leak(self, line: int) -> None:
        n = len(self.points)
        if n < 2 or not _due(n):
            return
        items = [self.points[x] for x in sorted(self.points)]
        recent = items[n // 2:] if n >= 2 * MIN_RECENT else items[max(0, n - MIN_RECENT):]
        # the status shows the current rate: the recent half, past any warm-up
        self.fit = robust_fit([p.x for p in recent], [float(p.free) for p in recent])
        if self._forecast_n == 0 or n >= self._forecast_n * FORECAST_GROWTH:
            self.refresh_forecast()
        if "leak" in self._raised or n < self.min_points:
            return
        verdict = self._leak_verdict(items)
        if verdict is None:
            return
        if self._forecast_n != n:
            self.refresh_forecast()  # the alert quotes the forecast on every point so far
        unit = "cycle" if self.cycle is not None else "overview"
        msg = f"LEAK: {verdict}; now {items[-1].free:,} B free"
        fc = self.forecast()
        if fc is not None:
            msg += f"; exhaustion forecast at {unit} ~{fc:.0f}"
        self._raise("leak", line, msg)

    def _mode_warmup(self, n: int) -> tuple[str, int | str]:
        mode = "cycle" if self.cycle is not None else "index"
        return mode, "auto" if self.warmup < 0 else min(self.warmup, max(0, n - 6))

    def refresh_forecast(self) -> None:
        """The trend module's exhaustion forecast on every point so far (``memsleuth trend``)."""
        pts = [self.points[x] for x in sorted(self.points)]
        self._forecast_n = len(pts)
        if len(pts) < 2:
            self.exhaustion = None
            return
        mode, warm = self._mode_warmup(len(pts))
        result = analyze_points(pts, x_mode=mode, warmup=warm,  # type: ignore[arg-type]
                                allocation_size=self.largest)
        self.exhaustion = (result.get("forecast") or {}).get("exhaustion")

    def _leak_verdict(self, items: list[Point]) -> str | None:
        """A steady leak over the whole series (warm-up cut) *and* over its recent half.

        Why both: a warm-up drop (caches filled once) looks like a leak until the curve
        flattens; requiring the recent half to decline on its own rejects it.
        """
        unit = "cycle" if self.cycle is not None else "overview"
        pts = _thin(items, TREND_POINTS)
        mode, warm = self._mode_warmup(len(pts))
        whole = analyze_points(pts, x_mode=mode, warmup=warm)  # type: ignore[arg-type]
        if not whole.get("leak"):
            return None
        half = analyze_points(pts[len(pts) // 2:], x_mode=mode, warmup=0)
        if not _declines(half):
            return None
        ev = whole["evidence"]
        lo, hi = ev["slope_interval"]
        cut = whole.get("warmup", {}).get("points", 0)
        return (f"free heap falls {-ev['slope']:,.0f} B/{unit} (95% CI {-hi:,.0f}..{-lo:,.0f}) "
                f"over {len(pts) - cut} points after {cut} warm-up, and still falls in the "
                f"recent half ({-half['evidence']['slope']:,.0f} B/{unit})")

    def _check_objects(self, line: int) -> None:
        for kind, series in self.balance_series.items():
            key = f"object_leak:{kind}"
            if key in self._raised:
                continue
            if len(series) < self.min_points or not _due(len(series)):
                continue
            xs, ys = self._window(series)
            fit = robust_fit(xs, ys)
            if fit is None or fit.slope_low <= 0 or fit.mk_p > self.max_p:
                continue
            self._raise(key, line,
                        f"OBJECT LEAK: {kind} objects grow by {fit.slope:.2f}/cycle "
                        f"({self.imbalance(kind):+d} created but not deleted so far)",
                        kind="object_leak")

    def forecast(self) -> float | None:
        """x (cycle) at which the heap is exhausted, by the trend module; None: not running out."""
        ex = self.exhaustion
        return float(ex["at"]) if ex is not None and ex.get("at") is not None else None

    def _raise(self, key: str, line: int, message: str, kind: str | None = None) -> None:
        if key in self._raised:
            return
        self._raised.add(key)
        alert = Alert(kind or key, line, message, self.cycle, self.lines)
        self.alerts.append(alert)
        self._new.append(alert)

    def take_new_alerts(self) -> list[Alert]:
        new, self._new = self._new, []
        return new

    @property
    def finding(self) -> bool:
        return any(a.kind in FINDING_KINDS for a in self.alerts)

    # -- output ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        fit = self.fit
        objects = {k: self.imbalance(k) for k in sorted(set(self.creates) | set(self.deletes))}
        return {
            "lines": self.lines,
            "cycle": self.cycle,
            "free": self.last.free if self.last else None,
            "total": self.last.total if self.last else None,
            "min_free": self.last.min_free if self.last else None,
            "points": len(self.points),
            "leak_rate": round(-fit.slope, 1) if fit is not None else None,
            "leak_rate_ci": [round(-fit.slope_high, 1), round(-fit.slope_low, 1)] if fit else None,
            "forecast_exhaustion": round(fc, 1) if (fc := self.forecast()) is not None else None,
            "forecast_level": self.exhaustion["level"] if self.exhaustion else None,
            "objects": objects,
            "alerts": len(self.alerts),
        }

    def status_text(self) -> str:
        s = self.status()
        parts: list[str] = []
        parts.append(f"cycle {s['cycle']}" if s["cycle"] is not None else f"lines {s['lines']}")
        parts.append(f"free {_size(s['free'])}" if s["free"] is not None else "free ?")
        if s["leak_rate"] is not None and self.fit is not None:
            unit = "cycle" if self.cycle is not None else "ovw"
            parts.append(f"leak {_size(s['leak_rate'])}/{unit}")
            if s["forecast_exhaustion"] is not None:
                parts.append(f"OOM ~{unit} {s['forecast_exhaustion']:.0f}")
        elif len(self.points) < 2:
            parts.append("waiting for heap overviews")
        if s["objects"]:
            parts.append("objs " + " ".join(f"{k} {v:+d}" for k, v in s["objects"].items()))
        if self.alerts:
            parts.append(f"ALERTS {len(self.alerts)}")
        return " | ".join(parts)


def _size(value: float | None) -> str:
    if value is None:
        return "?"
    v = float(value)
    if abs(v) >= 10 * 1024:
        return f"{v / 1024:,.1f} KiB"
    return f"{v:,.0f} B"
