"""Which heap-overview rows can be trusted, and which heap they belong to.

A flipped bit or a garbled table (``FreeSz > TotalSz``) is a row no heap can print; used in a
fit it turns a leak into a "step" and the verdict into "clean". And one file may hold two
heaps (a 3.3 dump from one board, a 1.x dump from another): a curve across them is two
curves, not a 99 % decline. Both rules live here so the trend, the heap health and the live
monitor apply the same ones.
"""

from __future__ import annotations

from memsleuth.records import HeapOverview

#: Variants that print the heap's size (TotalSz); the others derive it as free + used.
EXPLICIT_TOTAL = frozenset({"H4", "H5a", "H5b", "show_mm"})
#: Two derived totals (free + used) of one heap differ by at most this share (headers move
#: between the columns as blocks come and go).
DERIVED_SLACK = 0.10


def overview_problem(o: HeapOverview) -> str | None:
    """Why this row cannot be a real heap state, or None when it can.

    Impossible: a negative column; free or used above the total; used + free off the total
    by more than the small-block pool (which some printers count apart); a low-water mark or
    a largest free block above the free total (both are bounded by it by definition).
    """
    if o.free < 0 or (o.used is not None and o.used < 0):
        return "a negative column"
    slack = o.pool.size if o.pool is not None else 0
    if o.total is not None and o.variant in EXPLICIT_TOTAL:
        if o.total <= 0:
            return f"TotalSz {o.total}"
        if o.free > o.total:
            return f"FreeSz {o.free} > TotalSz {o.total}"
        if o.used is not None and o.used > o.total:
            return f"UsedSz {o.used} > TotalSz {o.total}"
        if o.used is not None and abs(o.used + o.free - o.total) > slack:
            return f"UsedSz + FreeSz = {o.used + o.free} != TotalSz {o.total}"
    if o.min_free is not None and o.min_free > o.free + slack:
        return f"MinFreeSz {o.min_free} > FreeSz {o.free}"
    if o.max_free_block is not None and o.max_free_block > o.free + slack:
        return f"MaxFreeBlkSz {o.max_free_block} > FreeSz {o.free}"
    return None


class HeapSeries:
    """Tells when a row starts a new heap: a changed TotalSz (a heap never changes size), or
    a derived total (free + used) far from the series' size (another allocator's printer).

    ``starts_new(row)`` is called on every possible row in log order; ``count`` is how many
    series were seen.
    """

    def __init__(self) -> None:
        self.total: int | None = None       # TotalSz of the series, when printed
        self.derived: int | None = None     # free + used of the series' first row
        self.count = 0

    def starts_new(self, o: HeapOverview) -> bool:
        if o.used is None:      # free-only printers (FreeRTOS trend lines): size unknown
            if o.total is None:
                return False if self.count else self._take_free_only()
            size = o.total
        else:
            size = o.used + o.free
        if self.count == 0:
            self._take(o, size)
            return False
        new = False
        if o.variant in EXPLICIT_TOTAL and o.total is not None:
            if self.total is not None:
                new = o.total != self.total
            elif self.derived:
                new = abs(o.total - self.derived) > DERIVED_SLACK * self.derived
        else:
            ref = self.total if self.total is not None else self.derived
            if ref:
                new = abs(size - ref) > DERIVED_SLACK * ref
        if new:
            self._take(o, size)
            return True
        if self.total is None and o.variant in EXPLICIT_TOTAL and o.total is not None:
            self.total = o.total
        return False

    def _take_free_only(self) -> bool:
        self.count += 1
        self.derived = None
        self.total = None
        return False

    def _take(self, o: HeapOverview, size: int) -> None:
        self.count += 1
        self.derived = size
        self.total = o.total if o.variant in EXPLICIT_TOTAL else None
