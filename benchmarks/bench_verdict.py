"""Early-verdict benchmark: how soon a leak is called, how often a healthy heap is, and
whether the forecast's interval holds the real failure.

    python benchmarks/bench_verdict.py [--count 2000] [--seed 9] [--cycles 100] [--no-real]

Runs the trend analysis (``memsleuth.analysis.trend.analyze_points``, the code every verb
uses) on growing prefixes of generated heap curves with known truth
(``benchmarks/verdict_corpus.py``: warm-ups, steady leaks of whole blocks, kept bursts,
sawtooth churn, noise below one block), as a stress test would see them cycle after cycle.
The first prefix classified ``steady_leak`` is the alarm. Prints, per family and warm-up
shape: series, share alarmed, the delay from the end of the warm-up to the alarm (median,
95th percentile, share within 10 cycles), and for leaks the forecast at the alarm (does its
interval hold the cycle the generating process runs dry; median error); then the false-alarm
rate on the families without a leak with its 95 % upper bound; then the same forecast on
every bundled run whose failure is known (examples/, the FreeRTOS real-kernel fixture), from
the first 10 % of its cycles and from the whole log.

Prefixes are evaluated at every cycle up to 40, then every 4th (the analysis is O(n^2) in
pure Python; this keeps a 2,000-series run to a few minutes on one core).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from verdict_corpus import FAMILIES, TOTAL, Series, corpus  # noqa: E402

from memsleuth.analysis.trend import Point, analyze_points  # noqa: E402

TARGET_DELAY = 10
SHAPES = ("none", "linear", "saturating")


def points(free: list[int]) -> list[Point]:
    return [Point(x=float(i), index=i - 1, cycle=i, ts=None, line=i, free=f, total=TOTAL,
                  min_free=None, max_free_block=None, pool_free=None, nested=False)
            for i, f in enumerate(free, 1)]


def schedule(n: int) -> list[int]:
    return [k for k in range(6, n + 1) if k <= 40 or k % 4 == 0 or k == n]


def first_alarm(s: Series) -> tuple[int | None, Any]:
    """The cycle (prefix length) at which the analysis first says steady_leak, and its
    result."""
    for k in schedule(len(s.free)):
        r = analyze_points(points(s.free[:k]), x_mode="cycle")
        if r.classification == "steady_leak":
            return k, r
    return None, None


def exhaustion(result: Any) -> Any:
    fc = result.forecast if result is not None else None
    return fc.exhaustion if fc else None


def covered(exh: Any, truth: float) -> bool:
    if exh is None or exh.at is None:
        return False
    lo = exh.earliest if exh.earliest is not None else exh.at
    hi = exh.latest if exh.latest is not None else math.inf
    return lo <= truth <= hi


def pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def upper95(k: int, n: int) -> float:
    """One-sided 95 % upper bound of a binomial rate (Clopper–Pearson, by bisection)."""
    if n == 0:
        return 1.0
    if k >= n:
        return 1.0
    lo, hi = k / n, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        cdf = sum(math.comb(n, i) * mid ** i * (1 - mid) ** (n - i) for i in range(k + 1))
        lo, hi = (mid, hi) if cdf > 0.05 else (lo, mid)
    return hi


def run(count: int, seed: int, cycles: int) -> None:
    series = corpus(count, seed, cycles)
    t0 = time.perf_counter()
    rows: dict[tuple[str, str], list[tuple[Series, int | None, Any]]] = {}
    for s in series:
        k, r = first_alarm(s)
        rows.setdefault((s.kind, s.warmup_shape), []).append((s, k, r))
    took = time.perf_counter() - t0
    print(f"{count} series of {cycles} cycles (seed {seed}), {took:.0f} s\n")
    print("| family | warm-up | series | alarmed | delay after warm-up: median | p95 | "
          "within 10 | forecast holds failure | forecast error: median |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    fa = fa_n = 0
    target_ok = target_n = 0
    cov = cov_n = 0
    for fam in FAMILIES:
        for shape in SHAPES:
            items = rows.get((fam, shape), [])
            if not items:
                continue
            alarmed = [(s, a, r) for s, a, r in items if a is not None]
            line = f"| {fam} | {shape} | {len(items)} | {pct(len(alarmed) / len(items))} |"
            if items[0][0].leak:
                delays = sorted(max(0, a - s.warmup_end) for s, a, _ in alarmed)
                within = sum(1 for d in delays if d <= TARGET_DELAY)
                holds = sum(1 for s, _, r in alarmed if covered(exhaustion(r), s.exhaustion))
                errs = [abs(exhaustion(r).at - s.exhaustion) / s.exhaustion
                        for s, _, r in alarmed if exhaustion(r) and exhaustion(r).at]
                if delays:
                    p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
                    line += (f" {median(delays):.0f} | {p95} | {pct(within / len(items))} | "
                             f"{pct(holds / len(alarmed))} | "
                             f"{pct(median(errs)) if errs else '-'} |")
                else:
                    line += " - | - | - | - | - |"
                cov += holds
                cov_n += len(alarmed)
                if fam != "slow_leak":
                    target_ok += within
                    target_n += len(items)
            else:
                line += " - | - | - | - | - |"
                fa += len(alarmed)
                fa_n += len(items)
            print(line)
    print(f"\nleaks >= 1 block/cycle called within {TARGET_DELAY} cycles after the warm-up: "
          f"{pct(target_ok / max(1, target_n))} of {target_n}")
    print(f"false alarms on series without a leak: {pct(fa / max(1, fa_n))} of {fa_n} "
          f"(95 % upper bound {pct(upper95(fa, fa_n))})")
    print(f"forecast interval at the alarm holds the failure: {pct(cov / max(1, cov_n))} "
          f"of {cov_n}")


# -- the bundled runs whose failure cycle is known ---------------------------------------------

def _facts(log: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"\[FACT\] (\w+) (.*)", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def real_runs() -> list[tuple[str, Path, int]]:
    """(name, log, failure cycle) of every bundled run that ran out of memory."""
    runs: list[tuple[str, Path, int]] = []
    wifi = ROOT / "examples" / "wifi_reconnect_leak" / "out"
    for fact in sorted(wifi.glob("*.json")):
        fail = json.loads(fact.read_text()).get("failed_cycle") or 0
        if fail:
            runs.append((f"wifi_reconnect_leak/{fact.stem}", fact.with_suffix(".log"), fail))
    for log in sorted((ROOT / "examples" / "vendor_stress" / "out").glob("*.log")):
        fail = int(_facts(log).get("failed_round", "0") or 0)
        if fail:
            runs.append((f"vendor_stress/{log.stem}", log, fail))
    # the real-kernel runs under QEMU (device/ports/*/qemu): facts.txt per kernel
    for facts_txt in sorted((ROOT / "tests" / "fixtures").glob("*/facts.txt")):
        facts = facts_txt.read_text()
        kernel = facts_txt.parent.name
        for log in sorted(facts_txt.parent.glob(f"{kernel}-*.log*")):
            variant = log.name.split(".")[0].split("-", 1)[1]
            m = re.search(rf"^{variant} \[FACT\] first_failure_round (\d+)", facts, re.M)
            if m:
                runs.append((f"{kernel} QEMU/{variant}", log, int(m.group(1))))
    return [r for r in runs if r[1].exists()]


def trend_of(log: Path, upto: int | None) -> Any:
    from memsleuth.analysis.trend import TrendCollector
    from memsleuth.commands.common import stream_log

    collector = TrendCollector(upto=upto)
    stats = stream_log(log, [collector.on_record])
    collector.cycle_source = stats.cycle_source
    return collector.result()


def run_real() -> None:
    print("\n| run | failure | cycles used | verdict | forecast (earliest–latest) | error | "
          "holds |")
    print("|---|---:|---:|---|---:|---:|---|")
    held = n = within5 = n10 = refused = 0
    for name, log, fail in real_runs():
        for upto in (max(6, round(0.1 * fail)), None):
            r = trend_of(log, upto)
            exh = exhaustion(r)
            used = r.points
            if exh is None or exh.at is None:
                print(f"| {name} | {fail} | {used} | {r.classification} | - | - | "
                      "no forecast |")
                refused += 1
                continue
            err = (exh.at - fail) / fail
            ok = covered(exh, fail)
            held += ok
            n += 1
            if upto is not None:
                n10 += 1
                within5 += abs(err) <= 0.05
            lo = exh.earliest
            hi = exh.latest if exh.latest is not None else "∞"
            print(f"| {name} | {fail} | {used} | {r.classification} | {exh.at:.0f} "
                  f"({lo:.0f}–{hi if isinstance(hi, str) else f'{hi:.0f}'}) | "
                  f"{100 * err:+.1f} % | {'yes' if ok else 'no'} |")
    print(f"\nreal runs: the interval holds the failure in {held} of {n} forecasts ({refused} "
          f"refused: too few points to judge); from the first 10 % within ±5 %: {within5} of "
          f"{n10}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--no-real", action="store_true", help="skip the bundled runs")
    ap.add_argument("--real-only", action="store_true", help="only the bundled runs")
    args = ap.parse_args()
    if not args.real_only:
        run(args.count, args.seed, args.cycles)
    if not args.no_real:
        run_real()
    return 0


if __name__ == "__main__":
    sys.exit(main())
