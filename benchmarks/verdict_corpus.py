"""Generated heap curves with known truth, for the early-verdict benchmark and its tests.

Each series is the free heap at the start of cycles 1..n of a stress test, built from the
parts a real run has: a warm-up (a cache that fills linearly then stops, or fills fast then
slower), a steady leak of whole blocks per cycle (or none), one-off bursts that are kept
(steps), sawtooth churn (buffers that pile up and are released), and noise below one block.
The truth is what was put in: ``leak`` (a steady leak exists) and ``warmup_end`` (the first
cycle after the warm-up).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

TOTAL = 128 * 1024
START = 120 * 1024


@dataclass(slots=True)
class Series:
    kind: str                    # family name (see ``FAMILIES``)
    leak: bool                   # truth: a steady leak exists
    rate_blocks: float           # leak in blocks per cycle (0 without a leak)
    block: int                   # block size in bytes (header included)
    noise_blocks: float          # noise amplitude in blocks
    warmup_end: int              # first cycle after the warm-up (1 = none)
    free: list[int] = field(default_factory=list)   # free heap at cycles 1..n
    warmup_shape: str = "none"   # none | linear | saturating
    #: truth for the forecast: the first cycle at which the noiseless free heap (churn at its
    #: deepest) reaches zero, None without a leak
    exhaustion: int | None = None


def _warmup(rng: random.Random, block: int) -> tuple[list[float], int, str]:
    """A warm-up curve (bytes taken by cycle i), the cycle it ends and its shape."""
    shape = rng.choice(["none", "linear", "exponential"])
    if shape == "none":
        return [], 1, "none"
    amount = rng.randint(5, 30) * block
    if shape == "linear":
        length = rng.randint(5, 20)
        return [amount * min(1.0, i / length) for i in range(1, 200)], length + 1, "linear"
    tau = rng.uniform(1.5, 6.0)
    curve = [amount * (1 - math.exp(-i / tau)) for i in range(1, 200)]
    end = next(i for i, v in enumerate(curve, 1) if amount - v < block / 2)
    return curve, end + 1, "saturating"


def make(rng: random.Random, family: str, n: int = 100) -> Series:
    block = rng.choice([48, 64, 96, 128, 256])
    noise = rng.uniform(0.0, 0.9)
    if family in ("leak", "leak_step", "leak_churn"):
        rate = rng.choice([1, 1, 2, 4])
    elif family == "slow_leak":
        rate = rng.choice([0.25, 0.5])
    else:
        rate = 0.0
    warm, warm_end, shape = _warmup(rng, block)
    step_at = rng.randint(10, n - 10) if family in ("step", "leak_step") else None
    step = rng.randint(10, 40) * block
    period = rng.randint(4, 15)
    churn = rng.randint(2, 8) * block if family in ("churn", "leak_churn") else 0

    def taken(i: int) -> float:
        out = (warm[min(i, len(warm)) - 1] if warm else 0.0) + rate * block * i
        if step_at is not None and i >= step_at:
            out += step
        if churn:
            out += churn * ((i % period) / period)
        return out

    free = [int(START - taken(i) - rng.uniform(-noise, noise) * block) for i in range(1, n + 1)]
    exhaustion = None
    if rate > 0:
        # past the warm-up and the step the curve is a line plus the sawtooth: jump close to
        # the crossing of its deepest level, then walk
        i = max(n, int((START - (warm[-1] if warm else 0.0) - step - churn) / (rate * block)) - 20)
        while START - taken(i) > 0:
            i += 1
        exhaustion = i
    return Series(family, rate > 0, rate, block, noise, warm_end, free, shape, exhaustion)


#: family -> share of the corpus
FAMILIES = {
    "leak": 0.25, "leak_step": 0.08, "leak_churn": 0.07, "slow_leak": 0.05,
    "flat": 0.2, "step": 0.15, "churn": 0.2,
}


def corpus(count: int, seed: int = 9, n: int = 100) -> list[Series]:
    """``count`` series, families in the FAMILIES shares, reproducible from ``seed``."""
    rng = random.Random(seed)
    names = list(FAMILIES)
    weights = [FAMILIES[k] for k in names]
    return [make(rng, rng.choices(names, weights)[0], n) for _ in range(count)]
