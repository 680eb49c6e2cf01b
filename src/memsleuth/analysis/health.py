"""Heap health from the overview tables: how full the heap is now and at its worst."""

from __future__ import annotations

from collections.abc import Sequence

from memsleuth.records import HeapOverview, TaskList
from memsleuth.results.analyze import HeapHealth, PoolHealth, TaskStack, TaskStacks


def heap_health(
    overviews: Sequence[HeapOverview], lowest: HeapOverview | None = None,
    first: HeapOverview | None = None,
) -> HeapHealth | None:
    """Summary of the newest overview, plus the series extremes.

    ``lowest`` is the overview with the least free heap when the caller tracked it (a long
    series may be thinned); otherwise it is searched in ``overviews``. ``first`` is the first
    overview of the newest heap series (``LogModel.series_first``): "free went from A to B"
    must not compare two boards' heaps.

    fragmentation is 1 - largest free block / free.
    """
    if not overviews:
        return None
    last = overviews[-1]
    total = last.total
    if total is None and last.used is not None:
        total = last.free + last.used     # free-only printers (FreeRTOS) leave it unknown
    frag = None
    if last.max_free_block is not None and last.free:
        frag = max(0.0, 1.0 - last.max_free_block / last.free)
    pool = None
    if last.pool is not None:
        p = last.pool
        pool = PoolHealth(size=p.size, free=p.free, used=p.used, blk_size=p.blk_size,
                          min_free=p.min_free, max_free_block=p.max_free_block)
    return HeapHealth(
        samples=getattr(overviews, "count", len(overviews)),
        line=last.line,
        variant=last.variant,
        total=total,
        free=last.free,
        used=last.used,
        used_share=(last.used / total) if total and last.used is not None else None,
        min_free=last.min_free,
        peak_used=(total - last.min_free) if (total and last.min_free is not None
                                              and last.min_free <= total) else None,
        max_free_block=last.max_free_block,
        fragmentation=frag,
        pool=pool,
        first_free=(first or overviews[0]).free,
        lowest_free=(lowest.free if lowest is not None else min(o.free for o in overviews)),
    )


#: A task that never had more than this share of its stack free is short of stack.
STACK_LOW_SHARE = 0.10


def task_stacks(tasklist: TaskList | None) -> TaskStacks | None:
    """Stack headroom per task from a `tasklist` table (sizes as printed: words or bytes;
    the share free at worst needs no unit). Lowest headroom first."""
    if tasklist is None:
        return None
    rows = []
    for t in tasklist.tasks:
        share = (t.min_free / t.stack_size) if t.stack_size and t.min_free is not None else None
        rows.append(TaskStack(
            name=t.name, state=t.state, prio=t.prio, stack_size=t.stack_size,
            min_free=t.min_free, free_share=share,
            status="ok" if share is None or share >= STACK_LOW_SHARE else
            ("overflow" if t.min_free == 0 else "low")))
    rows.sort(key=lambda r: (r.free_share is None, r.free_share or 0.0))
    return TaskStacks(line=tasklist.line, unit=tasklist.unit, tasks=tuple(rows))
