"""The lean models: ``heap_status=False`` (census: the dumps as the full model has them,
read by the C scanner in bulk and by the line path) and ``ENDS_ONLY`` (analyze: the same
heap health), on the bundled runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from memsleuth.analysis.health import heap_health
from memsleuth.commands.common import load_model
from memsleuth.model import ENDS_ONLY, SERIES_CAPACITY, build_model
from memsleuth.parse import parse_file

ROOT = Path(__file__).resolve().parents[2]
LOGS = [ROOT / "examples" / d / "out" / f"{f}.log" for d, f in (
    ("wifi_reconnect_leak", "x86_64-leak"), ("vendor_stress", "cortex-m4-frag"),
    ("rtos_formats", "nuttx_cm4"))] + [ROOT / "tests" / "fixtures" / "alios" / "b1_wiki_real.log"]


@pytest.mark.parametrize("heap_runs", [True, False])
@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.stem)
def test_dumps_only_model_has_the_same_dumps(log: Path, heap_runs: bool) -> None:
    """Same dump count, same listing (cycle numbers included), same dumps kept whole; and
    no overview or marker kept (the model says it did not gather them)."""
    def model(heap_status: bool):  # noqa: ANN202
        parsed = parse_file(log, objects=False, heap_runs=heap_runs)
        return build_model(parsed, parsed.stats, keep=lambda d: d.index % 2 == 0,
                           heap_status=heap_status)

    full, dumps_only = model(True), model(False)
    assert full.dumps.count == dumps_only.dumps.count > 0
    assert full.dumps.listed() == dumps_only.dumps.listed()
    assert sorted(full.full_dumps) == sorted(dumps_only.full_dumps)
    assert full.heap_status and not dumps_only.heap_status
    assert not dumps_only.overviews and not dumps_only.markers
    assert full.overviews or full.markers or log.stem == "b1_wiki_real"


def test_a_cycle_pattern_needs_the_heap_status() -> None:
    """Nothing would say whether a user's cycle pattern matched: refused, not ignored."""
    with pytest.raises(ValueError, match="cycle pattern"):
        load_model(LOGS[0], cycle_pattern=r"cycle (\d+)", heap_status=False)


@pytest.mark.parametrize("log", LOGS + [
    ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-burst.log",
    ROOT / "tests" / "fixtures" / "alios" / "b2_21_overview.log"], ids=lambda p: p.stem)
def test_ends_only_model_has_the_same_heap_health(log: Path) -> None:
    """What analyze reads of the series (``ENDS_ONLY``): the newest and first overview, the
    lowest, the counts; the same heap health as with the whole series kept, read in bulk."""
    def model(capacity: int):  # noqa: ANN202
        parsed = parse_file(log, objects="runs", heap_runs=True)
        return build_model(parsed, parsed.stats, series_capacity=capacity)

    full, ends = model(SERIES_CAPACITY), model(ENDS_ONLY)
    assert (full.overviews.count, full.markers.count) == (ends.overviews.count,
                                                          ends.markers.count)
    assert heap_health(full.overviews, full.lowest_overview, full.series_first) == heap_health(
        ends.overviews, ends.lowest_overview, ends.series_first)
    if full.overviews.count > 2:
        assert len(ends.overviews) < len(full.overviews)
