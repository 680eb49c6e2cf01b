"""Memory stays flat however long the log: records stream out, nothing accumulates."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from parse_helpers import fixture_lines

from memsleuth.parse import parse_lines
from memsleuth.records import BlockDump, HeapOverview

_CHUNK = (fixture_lines("h4_crash_heap_info.log") + ["[MSCYCLE] 1", "noise line from app"]
          + fixture_lines("b3_haas_real.log") + ["WARNING, malloc failed!!!!"]
          + fixture_lines("b2_full_1x.log")
          + ["adress:0x20005a10 owner:0x800c1d3 len:3096  type:leak"])


def _generate(repeats: int) -> Iterator[bytes]:
    for i in range(repeats):
        for line in _CHUNK:
            yield f"[{i:8d}.000]<I> {line}\r\n".encode()


def _peak(repeats: int) -> tuple[int, int]:
    tracemalloc.start()
    try:
        log = parse_lines(_generate(repeats))
        dumps = overviews = 0
        for rec in log:   # drop each record as soon as it is seen
            dumps += isinstance(rec, BlockDump)
            overviews += isinstance(rec, HeapOverview)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert dumps == 2 * repeats and overviews == repeats
    assert log.stats.sections["block_dump"] == 2 * repeats
    return peak, log.stats.lines


def test_memory_does_not_grow_with_log_size() -> None:
    small, _ = _peak(20)
    large, lines = _peak(400)
    assert lines == 400 * len(_CHUNK)
    # 20x more input must not cost noticeably more memory (allow small noise)
    assert large < small * 1.5 + 64 * 1024, (small, large)
