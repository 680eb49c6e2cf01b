"""The leak verdict for stress-test pipelines: trend, object balance and site growth combined.

One pass over the log feeds the accumulators (``analyze`` folds them into its LogModel
pass)::

    acc = Accumulators.create(attributor)
    model = load_model(log, hooks=[acc.on_record])
    report = leak_report(acc, attributor, Thresholds())
    report.trend, report.attribution, report.objects, report.verdict

False alarms are as bad as misses: a warm-up (caches filled once) is excluded by default, a
deferred delete inside the grace window is not an imbalance, and a one-off burst or
fragmentation is reported but only fails the check when asked for (``fail_on``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memsleuth.analysis.diff import (
    SiteSeries,
    attribute_decline,
    kind_block_sizes,
    site_growth,
)
from memsleuth.analysis.objects import ObjectBalance, analyze_objects
from memsleuth.analysis.trend import TrendCollector
from memsleuth.records import Record
from memsleuth.results.check import Finding, LeakReport, Verdict, VerdictInputs
from memsleuth.results.diff import Attribution, Growth
from memsleuth.results.objects import Objects
from memsleuth.results.trend import AllocFailures, Trend


@dataclass(slots=True)
class Thresholds:
    """What counts as a finding."""

    max_leak_rate: float = 0.0        # B per trend unit (cycle) tolerated
    max_imbalance: float = 0.0        # objects per cycle tolerated, per create site
    allow_warmup: bool = True         # exclude a detected warm-up from the fit
    fail_on: tuple[str, ...] = ()     # extra trend classes that fail: "step", "fragmentation"
    grace: int = 1                    # cycles a delete may lag its create
    #: a malloc that failed in the log fails the check (the run did run out), unless the
    #: user says the test provokes failures on purpose (``check --allow-alloc-failure``)
    fail_on_alloc_failure: bool = True


@dataclass(slots=True)
class Accumulators:
    """Everything that must see the records during the single pass over the log."""

    balance: ObjectBalance
    series: SiteSeries | None = None
    trend: TrendCollector | None = None
    extra: list[Callable[[Record], None]] = field(default_factory=list)

    @classmethod
    def create(cls, attributor: Any | None, *, grace: int = 1, upto: int | None = None,
               trend: bool = True) -> Accumulators:
        """All leak accumulators for one pass: ``build_model(on_record=acc.on_record)``."""
        return cls(ObjectBalance(grace=grace), SiteSeries(attributor),
                   TrendCollector(upto=upto) if trend else None)

    def record_leaves(self) -> list[Any]:
        """The parts' hooks, for ``commands.common.fan_out`` (what each part acts on)."""
        out: list[Any] = list(self.balance.record_leaves())
        if self.series is not None:
            out += self.series.record_leaves()
        if self.trend is not None:
            out.append(self.trend.on_record)
        return out + list(self.extra)

    def on_record(self, record: Record) -> None:
        self.balance.on_record(record)
        if self.series is not None:
            self.series.on_record(record)
        if self.trend is not None:
            self.trend.on_record(record)
        for hook in self.extra:
            hook(record)


def leak_report(
    acc: Accumulators,
    attributor: Any | None,
    thresholds: Thresholds,
    *,
    x: str = "auto",
    trend: Trend | None = None,
) -> LeakReport:
    """Every leak analysis over one pass (``acc.on_record`` saw the records).

    ``trend`` may be given (a ``TrendCollector.result()`` computed with other options);
    otherwise it comes from ``acc.trend``. Keys: trend (TrendCollector.result's keys, or None when
    the log has no overview), objects (analyze_objects), growth (site_growth or None),
    attribution (attribute_decline or None), notes, verdict (see ``verdict``).
    """
    notes: list[str] = []
    # a run that leaked before a reboot or another heap's rows is judged even when the
    # last run printed no overview (its rows were all before)
    if trend is None and acc.trend is not None and acc.trend.has_heap_evidence:
        try:
            trend = acc.trend.result(x=x,  # type: ignore[arg-type]
                                     warmup="auto" if thresholds.allow_warmup else 0)
        except ValueError as exc:
            notes.append(f"trend: {exc}")
    if acc.series is not None and acc.series.untrusted_blocks:
        notes.append(f"{acc.series.untrusted_blocks} heap block(s) with a corrupt header or "
                     f"an impossible size left out of the block-dump figures (first at line "
                     f"{acc.series.untrusted_first}): heap corruption, see `memsleuth census`")
    objects = analyze_objects(acc.balance, acc.series, attributor)
    growth = (site_growth(acc.series.snapshots, acc.series.info, total=acc.series.count)
              if acc.series else None)
    attribution = None
    if trend is not None and trend.leak:
        last = acc.series.snapshots[-1] if acc.series and acc.series.snapshots else None
        sizes = kind_block_sizes(last, acc.series.info if acc.series else {})
        attribution = attribute_decline(trend, growth, objects, sizes, last,
                                        acc.series.info if acc.series else None)
        if attribution is not None and not attribution.sites and objects.leaks:
            attribution = attribute_decline(trend, None, objects, sizes) or attribution
    failures = None
    if acc.trend is not None and acc.trend.alloc_failures:
        failures = acc.trend.failures()
    return LeakReport(
        trend=trend, objects=objects, growth=growth, attribution=attribution,
        notes=tuple(notes),
        verdict=verdict(trend, objects, growth, thresholds, attribution, failures))


def verdict(
    trend: Trend | None,
    objects: Objects | None,
    growth: Growth | None,
    thresholds: Thresholds | None = None,
    attribution: Attribution | None = None,
    alloc_failures: AllocFailures | None = None,
) -> Verdict:
    """Leak or clean, and why.

    "clean" needs evidence: a heap trend that could not be judged ("insufficient") makes the
    verdict exit 3 even when the object trace balances, and an allocation failure in the log
    (``alloc_failures``: {count, first}) is a finding unless the thresholds allow it.

    exit_code: 0 clean, 1 leak, 3 cannot judge (too little data); observations are
    findings that do not fail the check.
    """
    t = thresholds or Thresholds()
    findings: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    # a curve made of the statistics inside block dumps (no overview of its own): the dumps'
    # blocks are judged as well, and too few dumps to fit a curve leave only them to judge
    # (a curve that was fitted but is undecided still keeps the log from being "clean")
    dump_curve = trend is not None and trend.rows_from == "block_dumps"
    if dump_curve and trend is not None and trend.fit is None and not (
            trend.earlier_leaks or trend.earlier_undecided):
        trend = None
    if trend is not None:
        cls = trend.classification
        fit = trend.fit
        rate = -fit.slope if fit is not None else -0.0
        unit = "B/dump" if dump_curve else f"B/{trend.x}"
        if cls == "steady_leak" and fit is not None and trend.warmup is not None:
            item = {"source": "trend", "kind": cls, "value": round(rate, 2),
                    "threshold": t.max_leak_rate,
                    "message": f"free heap falls {rate:.1f} {unit} "
                               f"({fit.confidence or 0.95:.0%} sure between "
                               f"{-fit.slope_high:.1f} and {-fit.slope_low:.1f}) after "
                               f"{trend.warmup.points} warm-up point(s) "
                               f"(limit {t.max_leak_rate:g})"}
            exh = trend.forecast.exhaustion if trend.forecast is not None else None
            if exh:
                item["message"] += f"; runs out at {trend.x} ~{exh.at:.0f}"
            (findings if rate > t.max_leak_rate else seen).append(item)
        elif cls in ("step", "fragmentation"):
            item = {"source": "trend", "kind": cls, "value": None, "threshold": None,
                    "message": trend.reason or cls}
            (findings if cls in t.fail_on else seen).append(item)
        elif cls == "warmup_plateau" and trend.warmup is not None:
            seen.append({"source": "trend", "kind": cls, "value": trend.warmup.drop,
                         "threshold": None, "message": trend.reason or cls})
        for e in trend.earlier_leaks:
            item = {"source": "trend", "kind": "steady_leak", "value": e.rate,
                    "threshold": t.max_leak_rate,
                    "message": f"an earlier run (before line {e.until_line}, {e.points} "
                               f"points) leaked: {e.reason}"}
            (findings if e.rate > t.max_leak_rate else seen).append(item)
    if objects is not None and objects.source == "trace":
        for site in objects.leaks:
            rate = site.leak_per_cycle or 0.0
            item = {"source": "objects", "kind": "imbalance", "value": round(rate, 3),
                    "threshold": t.max_imbalance,
                    "message": f"{site.kind}: {rate:+.3g} per cycle never deleted, created "
                               f"at {site.label}"}
            (findings if rate > t.max_imbalance else seen).append(item)
    if alloc_failures and alloc_failures.count:
        first = alloc_failures.first
        need = f" of {first.need} B" if first and first.need else ""
        cyc = f", cycle {first.cycle}" if first and first.cycle is not None else ""
        kind = first.kind if first else "malloc_failed"
        item = {"source": "log", "kind": "alloc_failure", "value": alloc_failures.count,
                "threshold": 0,
                "message": f"{alloc_failures.count} allocation failure(s) in the log "
                           f"(first: {kind.replace('_', ' ')}"
                           f"{need} at line {first.line if first else None}{cyc})"}
        (findings if t.fail_on_alloc_failure else seen).append(item)
    traced = objects is not None and objects.source == "trace"
    by_growth = growth is not None and (trend is None or dump_curve) and not traced
    if by_growth:
        # Only dumps: a site that grows at every snapshot is the evidence left.
        for row in growth.rows:
            if row.pattern == "steady" and row.bytes_slope > t.max_leak_rate:
                findings.append({
                    "source": "growth", "kind": "steady_growth", "value": row.bytes_slope,
                    "threshold": t.max_leak_rate,
                    "message": f"{row.label} grows {row.bytes_slope:+.1f} B/"
                               f"{growth.x} at every snapshot"})  # type: ignore[union-attr]
    leak = bool(findings)
    undecided = trend is not None and trend.classification == "insufficient"
    judged = {
        "trend": trend is not None and trend.classification != "insufficient",
        "objects": traced,
        "growth": bool(growth and growth.rows) and by_growth,
    }
    if leak:
        first = findings[0]
        reason = ("FAIL: " if first["kind"] == "alloc_failure" else "LEAK: ") + first["message"]
        if attribution and attribution.sites:
            reason += f" [{attribution.text}]"
        if len(findings) > 1:
            others = "; ".join(f["message"] for f in findings[1:3])
            more = f"; +{len(findings) - 3} more" if len(findings) > 3 else ""
            reason += f" (also: {others}{more})"
    elif undecided or not any(judged.values()):
        dumps = growth.snapshots if growth is not None else 0
        why = trend.reason if trend is not None else (
            f"only {dumps} block dump{'s' if dumps > 1 else ''}, too few to show growth "
            "(3 needed)" if 0 < dumps < 3
            else f"{dumps} block dumps but no live site followed across them" if dumps
            else "no heap overview, object trace or block dumps")
        reason = f"cannot judge: {why}"
        if undecided and trend is not None and trend.earlier_undecided:
            e = trend.earlier_undecided[0]
            reason += (f"; an earlier run (before line {e.until_line}, {e.points} points) "
                       f"could not be judged either: {e.reason}")
        if undecided and judged["objects"]:
            reason += " (object trace balanced, but the heap cannot be judged yet)"
    else:
        parts = []
        if trend is not None:
            parts.append(f"heap: {trend.classification.replace('_', ' ')}")
        if traced:
            parts.append("objects balanced")
        if judged["growth"] and growth is not None:
            parts.append(f"no live site grows at every one of {growth.snapshots} block dumps")
        reason = "clean: " + ", ".join(parts)
        if seen:
            reason += f" ({seen[0]['message']})"
    return Verdict(
        leak=leak, judged=leak or (any(judged.values()) and not undecided),
        exit_code=1 if leak else (0 if any(judged.values()) and not undecided else 3),
        reason=reason,
        findings=tuple(Finding(**f) for f in findings),
        observations=tuple(Finding(**f) for f in seen),
        inputs=VerdictInputs(trend=trend is not None, objects=traced,
                             growth=bool(growth and growth.rows)),
    )
