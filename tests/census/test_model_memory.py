"""The accumulated model stays bounded however long the log: series are thinned, dumps folded."""

from __future__ import annotations

import itertools
import tracemalloc
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from memsleuth.model import Thinned, build_model
from memsleuth.parse import parse_lines

LOG = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out" / \
    "x86_64-noleak.log"


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=2, max_value=64))
def test_thinned_keeps_first_newest_and_bound(n: int, capacity: int) -> None:
    series: Thinned[int] = Thinned(capacity)
    for i in range(n):
        series.append(i)
    assert series.count == n
    items = list(series)
    assert len(items) <= capacity + 1
    assert items == sorted(items)
    if n:
        assert items[0] == 0 and items[-1] == n - 1 and series[-1] == n - 1
    else:
        assert not series and items == []


def _cycle_lines(repeats: int):
    """The noleak run's cycles (overviews, markers, object events), replayed many times."""
    lines = LOG.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("[MSCYCLE]"))
    body = [line for line in lines[first:first + 3000] if "all memory blocks" not in line]
    return itertools.chain.from_iterable(itertools.repeat(body, repeats))


def _peak(repeats: int) -> tuple[int, int]:
    parsed = parse_lines(_cycle_lines(repeats))
    tracemalloc.start()
    model = build_model(parsed, parsed.stats, series_capacity=500)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, model.overviews.count


def test_model_memory_does_not_grow_with_the_log() -> None:
    small_peak, small_n = _peak(5)
    big_peak, big_n = _peak(40)
    assert big_n >= 8 * small_n > 500      # the big run is thinned, the series kept
    assert big_peak < 1.5 * small_peak
