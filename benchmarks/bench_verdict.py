"""Early-verdict benchmark: how soon a leak is called, and how often a healthy heap is.

    python benchmarks/bench_verdict.py [--count 2000] [--seed 9] [--cycles 100]

Runs the trend analysis (``memsleuth.analysis.trend.analyze_points``, the code every verb
uses) on growing prefixes of generated heap curves with known truth
(``benchmarks/verdict_corpus.py``: warm-ups, steady leaks of whole blocks, kept bursts,
sawtooth churn, noise below one block), as a stress test would see them cycle after cycle.
The first prefix classified ``steady_leak`` is the alarm. Prints, per family: series, share
alarmed, the delay from the end of the warm-up to the alarm (median, 95th percentile, share
within 10 cycles), and the false-alarm rate on the families without a leak.

Prefixes are evaluated at every cycle up to 40, then every 4th (the analysis is O(n^2) in
pure Python; this keeps a 2,000-series run to a few minutes on one core).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from verdict_corpus import FAMILIES, TOTAL, Series, corpus  # noqa: E402

from memsleuth.analysis.trend import Point, analyze_points  # noqa: E402

TARGET_DELAY = 10


def points(free: list[int]) -> list[Point]:
    return [Point(x=float(i), index=i - 1, cycle=i, ts=None, line=i, free=f, total=TOTAL,
                  min_free=None, max_free_block=None, pool_free=None, nested=False)
            for i, f in enumerate(free, 1)]


def schedule(n: int) -> list[int]:
    return [k for k in range(6, n + 1) if k <= 40 or k % 4 == 0 or k == n]


def first_alarm(s: Series) -> int | None:
    """The cycle (prefix length) at which the analysis first says steady_leak."""
    for k in schedule(len(s.free)):
        if analyze_points(points(s.free[:k]), x_mode="cycle")["classification"] == "steady_leak":
            return k
    return None


def pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def run(count: int, seed: int, cycles: int) -> int:
    series = corpus(count, seed, cycles)
    t0 = time.perf_counter()
    rows: dict[str, list[tuple[Series, int | None]]] = {k: [] for k in FAMILIES}
    for s in series:
        rows[s.kind].append((s, first_alarm(s)))
    took = time.perf_counter() - t0
    print(f"{count} series of {cycles} cycles (seed {seed}), {took:.0f} s\n")
    print("| family | series | alarmed | delay after warm-up: median | p95 | within 10 |")
    print("|---|---:|---:|---:|---:|---:|")
    fa = fa_n = 0
    target_ok = target_n = 0
    for fam, items in rows.items():
        if not items:
            continue
        alarmed = [(s, a) for s, a in items if a is not None]
        line = f"| {fam} | {len(items)} | {pct(len(alarmed) / len(items))} |"
        if items[0][0].leak:
            delays = sorted(max(0, a - s.warmup_end) for s, a in alarmed)
            within = sum(1 for d in delays if d <= TARGET_DELAY)
            if delays:
                p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
                line += f" {median(delays):.0f} | {p95} | {pct(within / len(items))} |"
            else:
                line += " - | - | - |"
            if fam != "slow_leak":
                target_ok += within
                target_n += len(items)
        else:
            line += " - | - | - |"
            fa += len(alarmed)
            fa_n += len(items)
        print(line)
    print(f"\nleaks >= 1 block/cycle called within {TARGET_DELAY} cycles after the warm-up: "
          f"{pct(target_ok / max(1, target_n))} of {target_n}")
    print(f"false alarms on series without a leak: {pct(fa / max(1, fa_n))} of {fa_n}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--cycles", type=int, default=100)
    args = ap.parse_args()
    return run(args.count, args.seed, args.cycles)


if __name__ == "__main__":
    sys.exit(main())
