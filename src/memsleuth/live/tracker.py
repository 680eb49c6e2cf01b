"""Live status and alerts: the offline analyses, fed one record at a time.

The monitor used to keep its own trend points, forecast and object counts, and they drifted
from the offline verbs (issue 10: on a capture holding a noleak run then a leak run, offline
forecast cycle 906, live 1,195; the status showed 13.2 KiB free where ``analyze`` said
10.0 KiB). Now the tracker holds the very accumulators ``analyze`` and ``check`` fold
(``analysis.check.Accumulators``: TrendCollector, ObjectBalance, SiteSeries) and the same
heap-health bookkeeping as ``memsleuth.model``; status, forecast and alerts are
``leak_report`` / ``heap_health`` on what has arrived so far. At the end of a capture the
monitor's status is therefore ``analyze --json`` of that capture, field for field
(tests/monitor/test_monitor_offline_parity.py).

Live only adds *when* to look: the report is recomputed while the series is short on every
point, then each time it has grown by a quarter (bounded cost), and once more at the end;
a leak alert also needs ``min_points`` points and a recent half that declines on its own (a
warm-up drop looks like a leak until the curve flattens).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from memsleuth.analysis.check import Accumulators, Thresholds, leak_report
from memsleuth.analysis.health import heap_health
from memsleuth.analysis.trend import analyze_points
from memsleuth.model import LogModel, Thinned, add_overview
from memsleuth.records import (
    AllocWarning,
    BlockDump,
    CycleMarker,
    HeapOverview,
    ParseStats,
    Record,
)
from memsleuth.results.analyze import HeapHealth
from memsleuth.results.check import LeakReport
from memsleuth.results.monitor import Alert, LiveStatus, StatusVerdict
from memsleuth.results.trend import Exhaustion, Trend, x_unit

#: Alert kinds that make `monitor` exit 1 (like `check`).
FINDING_KINDS = frozenset({"leak", "object_leak", "crash", "malloc_failed"})

#: Judged cycles before an object-leak alert: the object verdict has no sequential error
#: control (a pool filling over its first cycles reads as a leak that early), and an alert,
#: once raised, is never taken back.
OBJECT_ALERT_CYCLES = 32
#: Recompute on every heap point or cycle marker up to this many (~64 cycles), then see GROWTH.
EVERY_POINT_UP_TO = 128
#: Overviews kept for the status (the true count is kept too); the trend has its own bound.
HEALTH_CAPACITY = 64


#: Past that, the report is recomputed when the series has grown by this factor (a report
#: on n points costs O(n log n)..O(n^2): the total stays a few times the last one).
GROWTH = 1.25


def _due(n: int, last: int) -> bool:
    return n <= EVERY_POINT_UP_TO or n >= last * GROWTH


@dataclass(slots=True)
class LiveTracker:
    """Fold records as they stream; answer the status line and raise alerts once."""

    warmup: int = -1             # points ignored at the start of the trend; -1: detect
    min_points: int | None = None  # extra floor before a leak alert (None: the verdict's own)
    thresholds: Thresholds = field(default_factory=Thresholds)
    attributor: Any = None       # names the sites of growth/objects (optional)
    lines: int = 0
    cycle: int | None = None
    acc: Accumulators = field(init=False)
    heap: LogModel = field(init=False)
    #: the latest leak_report and heap_health of what has arrived
    report: LeakReport | None = None
    health: HeapHealth | None = None
    alerts: list[Alert] = field(default_factory=list)
    crashes: int = 0
    malloc_failures: int = 0
    #: the latest allocator warnings: an out-of-memory crash is explained with them
    warnings: list[AllocWarning] = field(default_factory=list)
    _raised: set[str] = field(default_factory=set)
    _new: list[Alert] = field(default_factory=list)
    _last_n: int = -1
    _markers: int = 0

    def __post_init__(self) -> None:
        self.acc = Accumulators.create(self.attributor, grace=self.thresholds.grace)
        self.heap = LogModel(path=None, stats=ParseStats(),
                             overviews=Thinned(HEALTH_CAPACITY))

    # -- feeding -----------------------------------------------------------------------------
    def add(self, record: Record) -> None:
        self.acc.on_record(record)
        if isinstance(record, HeapOverview):
            add_overview(self.heap, record)
            self._maybe_refresh(record.line)
        elif isinstance(record, BlockDump):
            if record.overview is not None:
                add_overview(self.heap, record.overview)
                self._maybe_refresh(record.line)
        elif isinstance(record, CycleMarker):
            self.cycle = self.acc.trend.cycle if self.acc.trend is not None else record.index
            self._markers += 1
            self._maybe_refresh(record.line)   # object balance is judged per cycle
        elif isinstance(record, AllocWarning):
            self.warnings = [*self.warnings[-15:], record]
            if record.kind not in ("malloc_failed", "realloc_failed"):
                return
            self.malloc_failures += 1
            self._raise("malloc_failed", record.line,
                        f"malloc failed at line {record.line}: the heap is exhausted"
                        + (f" (cycle {self.cycle})" if self.cycle is not None else ""))

    def crash(self, line: int, text: str) -> None:
        self.crashes += 1
        self._raise(f"crash:{line}", line, f"crash dump at line {line}: {text}", kind="crash")

    @property
    def points(self) -> int:
        """Heap points the trend holds (the run being analysed)."""
        t = self.acc.trend
        if t is None:
            return 0
        if t.cycles:
            return t.n_cycle_points
        # no overview of its own: the statistics inside the dumps are the curve
        return max(t.n_cycle_points, t.n_overviews or t.n_dump_points)

    # -- analysis ----------------------------------------------------------------------------
    def _maybe_refresh(self, line: int) -> None:
        n = self.points + self._markers      # evidence so far: heap points and cycles
        if n < 2 or n == self._last_n or not _due(n, self._last_n):
            return
        self.refresh(line)

    def refresh_forecast(self) -> None:
        """Recompute everything on what has arrived (the monitor calls it at the end)."""
        self.refresh(self.heap.overviews[-1].line if self.heap.overviews else self.lines)

    def refresh(self, line: int) -> None:
        self._last_n = self.points + self._markers
        trend = None
        t = self.acc.trend
        if t is not None and (t.n_overviews or t.n_cycle_points or t._pending is not None):
            # TrendCollector.result() flushes the cycle in progress into its bins: on the
            # live collector that would add a second point for a cycle whose overviews are
            # still arriving. The report is taken on a copy (bounded: the bins are).
            t = copy.deepcopy(t)
            warm: int | str = "auto" if self.warmup < 0 else self.warmup
            if not self.thresholds.allow_warmup:
                warm = 0
            try:
                trend = t.result(warmup=warm)  # type: ignore[arg-type]
            except ValueError:
                trend = None
        snapshot = Accumulators(self.acc.balance, self.acc.series, t)  # never the live trend
        self.report = leak_report(snapshot, self.attributor, self.thresholds, trend=trend)
        self.health = heap_health(self.heap.overviews, self.heap.lowest_overview,
                                  self.heap.series_first)
        self._alerts_from_report(line)

    def _alerts_from_report(self, line: int) -> None:
        findings = self.report.verdict.findings if self.report is not None else ()
        for f in findings:
            src, kind = f.source, f.kind
            if src == "trend" and "leak" not in self._raised and (
                    self.min_points is None
                    or (self.points >= self.min_points and self._recent_declines())):
                fc = self.forecast()
                unit = self._unit()
                msg = f"LEAK: {f.message}"
                if fc is not None and "runs out at" not in msg:
                    msg += f"; runs out at {unit} ~{fc:.0f}"
                self._raise("leak", line, msg)
            elif src == "growth" and "leak" not in self._raised and (
                    self.min_points is None or self._dumps_seen() >= self.min_points):
                # only dumps: a site that grows at every one is the verdict's leak
                self._raise("leak", line, f"LEAK: {f.message}")
            elif src == "objects" and kind == "imbalance" and \
                    self._object_cycles() >= (self.min_points or OBJECT_ALERT_CYCLES):
                what = f.message
                key = f"object_leak:{what.split(':', 1)[0]}"
                self._raise(key, line, f"OBJECT LEAK: {what}", kind="object_leak")

    def _dumps_seen(self) -> int:
        growth = self.report.growth if self.report is not None else None
        return growth.snapshots if growth is not None else 0

    def _object_cycles(self) -> int:
        objects = self.report.objects if self.report is not None else None
        return objects.cycles.judged if objects is not None and objects.source == "trace" else 0

    def _recent_declines(self) -> bool:
        """The recent half of the points declines on its own (the trend module on it).

        Why: live, the offline verdict on the first N points sees a warm-up drop (caches
        filled once) as a leak until the curve has been flat long enough to tell; the
        recent half of a warm-up-then-plateau run is flat, that of a leak is not.
        """
        t = self.acc.trend
        if t is None:
            return False
        unit = self._unit()
        trend = self.trend
        bins = t.by_cycle if unit == "cycle" else (
            t.by_dump if trend is not None and trend.rows_from == "block_dumps"
            else t.by_overview)
        pts = list(bins.points)
        half = analyze_points(pts[len(pts) // 2:], x_mode=unit, warmup=0)
        if half.leak:
            return True
        ev = half.evidence
        # a half shorter than the trend's own floor for a verdict: its evidence still tells
        return (half.classification == "insufficient" and ev is not None and ev.trending
                and ev.material)

    def forecast(self) -> float | None:
        """x (cycle) at which the heap is exhausted, as ``trend`` says; None: not running out."""
        ex = self.exhaustion
        return float(ex.at) if ex is not None and ex.at is not None else None

    @property
    def trend(self) -> Trend | None:
        """The trend of the last refresh (None before one, or with no heap points)."""
        return self.report.trend if self.report is not None else None

    def _unit(self) -> str:
        return self.trend.x if self.trend is not None else "cycle"

    @property
    def exhaustion(self) -> Exhaustion | None:
        trend = self.trend
        return trend.forecast.exhaustion if trend is not None and trend.forecast else None

    def _raise(self, key: str, line: int, message: str, kind: str | None = None) -> None:
        if key in self._raised:
            return
        self._raised.add(key)
        alert = Alert(kind=kind or key, line=line, message=message,  # type: ignore[arg-type]
                      cycle=self.cycle, raised_after_line=self.lines)
        self.alerts.append(alert)
        self._new.append(alert)

    def take_new_alerts(self) -> list[Alert]:
        new, self._new = self._new, []
        return new

    @property
    def finding(self) -> bool:
        return any(a.kind in FINDING_KINDS for a in self.alerts)

    # -- output ------------------------------------------------------------------------------
    def status(self) -> LiveStatus:
        """The fields ``analyze --json`` has too, under the same meaning (see module doc)."""
        report = self.report
        trend = self.trend
        fit = trend.fit if trend is not None else None
        objects = report.objects if report is not None else None
        verdict = report.verdict if report is not None else None
        # cheap parts are always current (the rest is as of the last refresh)
        health = heap_health(self.heap.overviews, self.heap.lowest_overview,
                             self.heap.series_first)
        balance = self.acc.balance
        if balance.events:
            kinds = balance.alive_by_kind()
        else:
            # no trace: the live blocks of each object kind in the newest dump
            kinds = {k.kind: k.blocks[-1] for k in objects.kinds} \
                if objects is not None and objects.source == "dumps" else {}
        ex = self.exhaustion
        return LiveStatus(
            lines=self.lines,
            cycle=self.cycle,
            free=health.free if health else None,
            total=health.total if health else None,
            min_free=health.min_free if health else None,
            lowest_free=health.lowest_free if health else None,
            points=trend.points if trend is not None else self.points,
            classification=trend.classification if trend is not None else None,
            leak_rate=round(-fit.slope, 1) if fit is not None else None,
            leak_rate_ci=((round(-fit.slope_high, 1), round(-fit.slope_low, 1))
                          if fit is not None else None),
            forecast_exhaustion=round(ex.at, 1) if ex and ex.at is not None else None,
            forecast_level=ex.level if ex else None,
            objects=kinds,
            verdict=StatusVerdict(leak=verdict.leak if verdict else None,
                                  exit_code=verdict.exit_code if verdict else None),
            alerts=len(self.alerts),
        )

    def status_text(self) -> str:
        s = self.status()
        parts: list[str] = []
        parts.append(f"cycle {s.cycle}" if s.cycle is not None else f"lines {s.lines}")
        parts.append(f"free {_size(s.free)}" if s.free is not None else "free ?")
        trend = self.trend
        unit = x_unit(trend.x, trend.rows_from) if trend is not None else "cycle"
        if s.leak_rate is not None:
            parts.append(f"leak {_size(s.leak_rate)}/{unit}")
            if s.forecast_exhaustion is not None:
                parts.append(f"OOM ~{unit} {s.forecast_exhaustion:.0f}")
        elif self.points < 2:
            parts.append("waiting for heap overviews")
        if s.objects:
            parts.append("objs " + " ".join(f"{k} {v:+d}" for k, v in s.objects.items()))
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
