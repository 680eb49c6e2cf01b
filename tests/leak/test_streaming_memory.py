"""The leak verbs' accumulators keep memory flat however long the log (tracemalloc peak)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from memsleuth.analysis.objects import ObjectBalance
from memsleuth.analysis.trend import TrendCollector
from memsleuth.commands.common import stream_log

HEAP = (
    "[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |\n"
    "      | 0x00015000 | 0x{free:08X} | 0x{used:08X} | 0x00010000 | 0x{free:08X}    |\n"
    "---------------------------------------------------------------------------\n"
)


def write_log(path: Path, cycles: int) -> None:
    """Balanced churn: 5 timers created and deleted per cycle, handles recycled."""
    seq = 0
    with path.open("w") as out:
        for c in range(1, cycles + 1):
            out.write(f"[MSCYCLE] {c}\n")
            free = 0x12000 + (c * 37) % 512
            out.write(HEAP.format(free=free, used=0x15000 - free))
            for op in ("create", "delete"):
                for i in range(5):
                    seq += 1
                    handle = 0x20001000 + 0x40 * ((c * 5 + i) % 64)
                    out.write(f"[MSOBJ] {op} timer 0x{handle:08x} caller 0x{0x0800a000 + i:08x} "
                              f"seq {seq}\n")


def peak_of(path: Path) -> int:
    collector = TrendCollector(capacity=300)
    balance = ObjectBalance()
    tracemalloc.start()
    try:
        stream_log(path, [collector.on_record, balance.on_record])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert balance.result().kinds[0].per_cycle.net == 0
    assert len(collector.by_cycle.points) < 300
    return peak


def test_peak_memory_is_flat(tmp_path: Path) -> None:
    short, long = tmp_path / "short.log", tmp_path / "long.log"
    write_log(short, 800)
    write_log(long, 3200)
    peak_of(short)                 # first run pays for imports and regex caches
    small, big = peak_of(short), peak_of(long)
    # four times the log, (almost) the same memory: nothing grows with the line count
    assert big < small * 1.3 + 64 * 1024, (small, big)
