"""The early-verdict model on the benchmark's worst cases (series with known truth).

benchmarks/bench_verdict.py measures the model on thousands of generated curves; these are
the shapes that decide its error rate, asserted prefix by prefix as a stress test sees them.
"""

from __future__ import annotations

import math
import random
import re
import sys
from pathlib import Path

import pytest

from memsleuth.analysis.trend import CHURN_SPAN, WARMUP_SPAN, Point, analyze_points

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from verdict_corpus import corpus  # noqa: E402

BLOCK = 64


def verdict_at(free: list[float], n: int) -> str:
    pts = [Point(x=float(i), index=i - 1, cycle=i, ts=None, line=i, free=int(f), total=131072,
                 min_free=None, max_free_block=None, pool_free=None, nested=False)
           for i, f in enumerate(free[:n], 1)]
    return analyze_points(pts, x_mode="cycle").classification


def first_alarm(free: list[float]) -> int | None:
    return next((n for n in range(6, len(free) + 1) if verdict_at(free, n) == "steady_leak"),
                None)


def test_a_noiseless_fall_is_called_once_it_cannot_be_a_warm_up() -> None:
    """~30 overviews falling by exactly the same amount (the issue's case): a leak, called
    as soon as the fall has outlasted the longest warm-up the model allows, not before (a
    cache filling one entry per cycle is the same curve until it stops)."""
    free = [100_000 - 88 * i for i in range(30)]
    assert verdict_at(free, 30) == "steady_leak"
    alarm = first_alarm(free)
    assert alarm is not None and WARMUP_SPAN < alarm <= WARMUP_SPAN + 3


def test_a_steeper_warm_up_then_a_leak_is_called_soon_after_the_bend() -> None:
    # 16 cycles of a cache filling at 400 B/cycle, then a 128 B/cycle leak (vendor_stress):
    # no single fill bends and goes on falling at a steady lower rate
    free = [130_000 - 400 * min(i, 16) - 128 * max(0, i - 16) for i in range(100)]
    alarm = first_alarm(free)
    assert alarm is not None and alarm <= 17 + 10


def test_the_freertos_shape_is_called_from_its_first_tenth() -> None:
    """The real-kernel run's first 22 rounds (tests/fixtures/freertos): a cache of 12 blocks
    filling for 11 rounds on top of the leak (one 56 B timer per round, one 88 B semaphore
    every 4th), then the leak alone."""
    free, f = [], 19_968.0
    for i in range(1, 23):
        free.append(f)
        f -= 56 + (88 if i % 4 == 0 else 0) + (104 if i <= 11 else 0)
    assert verdict_at(free, 22) == "steady_leak"


@pytest.mark.parametrize("rate", [1, 2, 4])
def test_a_leak_after_a_saturating_warm_up_is_called_within_10_cycles(rate: int) -> None:
    rng = random.Random(rate)
    tau = 3.0
    amount = 20 * BLOCK
    end = next(i for i in range(1, 100) if amount * math.exp(-i / tau) < BLOCK / 2) + 1
    free = [120_000 - amount * (1 - math.exp(-i / tau)) - rate * BLOCK * i
            + rng.uniform(-0.5, 0.5) * BLOCK for i in range(1, 101)]
    alarm = first_alarm(free)
    assert alarm is not None and alarm <= max(end, CHURN_SPAN) + 10


def test_a_sawtooth_tooth_is_not_a_leak_before_it_could_have_been_released() -> None:
    """Buffers piling up for 14 cycles after a warm-up, released at cycle 15: a straight
    fall with no release seen yet is not called."""
    free = [120_000 - 10 * BLOCK * min(1.0, i / 5) - 6 * BLOCK * ((i % 15) / 15)
            for i in range(1, 60)]
    assert first_alarm(free) is None


@pytest.mark.parametrize("tau", [2.0, 4.0, 6.0])
def test_a_warm_up_that_slows_down_is_never_a_leak(tau: float) -> None:
    rng = random.Random(int(tau))
    free = [120_000 - 30 * BLOCK * (1 - math.exp(-i / tau)) + rng.uniform(-0.5, 0.5) * BLOCK
            for i in range(1, 101)]
    assert first_alarm(free) is None


@pytest.mark.parametrize("length", [5, 12, 20])
def test_a_linear_warm_up_then_flat_is_never_a_leak(length: int) -> None:
    rng = random.Random(length)
    free = [120_000 - 25 * BLOCK * min(1.0, i / length) + rng.uniform(-0.5, 0.5) * BLOCK
            for i in range(1, 101)]
    assert first_alarm(free) is None


@pytest.mark.parametrize("period", [4, 9, 15])
def test_sawtooth_churn_is_never_a_leak(period: int) -> None:
    rng = random.Random(period)
    free = [120_000 - 8 * BLOCK * ((i % period) / period) + rng.uniform(-0.5, 0.5) * BLOCK
            for i in range(1, 101)]
    assert first_alarm(free) is None


@pytest.mark.parametrize("rate", [1, 2, 4])
def test_a_noisy_leak_of_whole_blocks_is_called(rate: int) -> None:
    rng = random.Random(rate)
    free = [120_000 - rate * BLOCK * i + rng.uniform(-0.9, 0.9) * BLOCK for i in range(1, 101)]
    # no warm-up: a straight fall is called a few points past the longest warm-up allowed
    # (noise of 0.9 block needs those points to show the fall goes on)
    alarm = first_alarm(free)
    assert alarm is not None and WARMUP_SPAN < alarm <= WARMUP_SPAN + 6


def test_benchmark_sample_error_rates() -> None:
    """A small slice of the benchmark corpus: every leak found, few false alarms."""
    series = corpus(80, seed=21, n=80)
    leaks = [s for s in series if s.leak and s.rate_blocks >= 1]
    healthy = [s for s in series if not s.leak]
    assert leaks and healthy
    assert all(verdict_at(s.free, len(s.free)) == "steady_leak" for s in leaks)
    false = [s for s in healthy
             if any(verdict_at(s.free, n) == "steady_leak" for n in range(8, 81, 4))]
    assert len(false) <= 0.05 * len(healthy)


def _forecast_holds(free: list[float], truth: float) -> bool:
    n = first_alarm(free)
    assert n is not None
    pts = [Point(x=float(i), index=i - 1, cycle=i, ts=None, line=i, free=int(f), total=131072,
                 min_free=None, max_free_block=None, pool_free=None, nested=False)
           for i, f in enumerate(free[:n], 1)]
    exh = analyze_points(pts, x_mode="cycle").forecast.exhaustion
    return exh.earliest <= truth <= (exh.latest or math.inf)


@pytest.mark.parametrize(("tau", "rate"), [(4.5, 1), (5.5, 1), (6.0, 2)])
def test_the_forecast_at_the_alarm_holds_the_failure_after_a_saturating_warm_up(
        tau: float, rate: int) -> None:
    """The benchmark's worst forecast class: a leak called while a slow fill's tail is still
    in the curve. A line through the latest points overstates the leak (forecast early, its
    interval too narrow); the model's final line, with the bend/θ uncertainty, holds it."""
    rng = random.Random(int(tau * 10) + rate)
    amount, start = 25 * BLOCK, 120_000
    free = [start - amount * (1 - math.exp(-i / tau)) - rate * BLOCK * i
            + rng.uniform(-0.5, 0.5) * BLOCK for i in range(1, 101)]
    truth = (start - amount) / (rate * BLOCK)      # the noiseless curve reaches zero
    assert _forecast_holds(free, truth)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(("log", "kernel"), [("freertos/freertos-side2.log", "side2"),
                                             ("threadx/threadx-side2.log.gz", "side2")])
def test_real_kernel_runs_forecast_from_their_first_tenth(log: str, kernel: str) -> None:
    """Issue 15's acceptance: from the first 10 % of the rounds of the real-kernel runs
    (FreeRTOS V11.1, ThreadX, under QEMU) a leak is called and the forecast's interval holds
    the round the firmware really failed at (facts.txt, printed by the firmware)."""
    from memsleuth.analysis.trend import TrendCollector
    from memsleuth.commands.common import stream_log

    path = FIXTURES / log
    facts = (path.parent / "facts.txt").read_text()
    fail = int(re.search(rf"^{kernel} \[FACT\] first_failure_round (\d+)", facts,
                         re.M).group(1))  # type: ignore[union-attr]
    collector = TrendCollector(upto=round(0.1 * fail))
    stream_log(path, [collector.on_record])
    trend = collector.result()
    assert trend.classification == "steady_leak", trend.reason
    exh = trend.forecast.exhaustion
    assert exh.earliest <= fail <= exh.latest, exh


@pytest.mark.parametrize("period", [6, 9, 13])
def test_a_leak_through_churn_is_called_once_a_whole_tooth_is_seen(period: int) -> None:
    """A leak of one block per cycle under a sawtooth (buffers piling up for `period` cycles,
    then given back) after a warm-up: not before the second release (one release could be the
    end of a tooth that a leak-free heap repeats), then called within 30 cycles (formerly 48
    points)."""
    rng = random.Random(period)
    free = [120_000 - 12 * BLOCK * min(1.0, i / 8) - BLOCK * i
            - 6 * BLOCK * ((i % period) / period) + rng.uniform(-0.5, 0.5) * BLOCK
            for i in range(1, 101)]
    alarm = first_alarm(free)
    assert alarm is not None and 2 * period <= alarm <= 30
