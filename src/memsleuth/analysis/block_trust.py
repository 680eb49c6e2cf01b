"""Which blocks of a heap dump can be believed, and whether the dump agrees with its heap.

A block whose header was overwritten (the device's ``!``, or a dye that is not the state's)
prints whatever the overflow wrote there: a size of 824,326,688 B on an 8 KiB heap, an owner
that is the overflowing data. Counted, it becomes "100 % of the heap at 0x22323430". So every
figure made of blocks (live totals, sites, shares, growth, the forecast's largest allocation,
the crash's heap map, the ELF check's owners) is made of the trusted blocks only; the others
are listed apart with the reason. A block that passes the dye check is left out too when its
size is impossible beyond doubt: larger than the heap's TotalSz (read from an overview that is
itself possible), or running past the next block's address in a dump whose other blocks do not
overlap (so the overlap is not the printer's convention).
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import islice
from operator import add, attrgetter, gt
from typing import Any

from memsleuth.analysis.series import EXPLICIT_TOTAL, overview_problem

#: Why a block is left out of the figures (``CorruptedBlock.reason`` in census JSON).
BAD_DYE = "bad_dye"               # the device flagged the header ('!', a wrong dye/Chk)
TOO_LARGE = "too_large"           # size above the heap's TotalSz
OVERLAPS_NEXT = "overlaps_next"   # size runs past the next block's address

#: Dump variants printed by AliOS' allocator, whose overview's UsedSz counts every used
#: block with its header: the dump's used payload can never exceed it.
_USED_BOUNDS_PAYLOAD = frozenset({"B1", "B2", "B3", "BY"})


def header_bad(block: Any) -> bool:
    """The device said this block's header is damaged."""
    return block.corrupted or not block.dye_ok


def heap_size(dump: Any) -> int | None:
    """The heap's TotalSz printed with the dump, when that overview is a possible one."""
    o = dump.overview
    if o is None or o.total is None or o.variant not in EXPLICIT_TOTAL or overview_problem(o):
        return None
    return o.total + (o.pool.size if o.pool is not None else 0)


_DYE_OK = attrgetter("dye_ok")
_CORRUPTED = attrgetter("corrupted")
_ADDR = attrgetter("addr")
_SIZE = attrgetter("size")


def untrusted(dump: Any) -> dict[int, str]:
    """Index in ``dump.blocks`` -> why that block's size and owner cannot be believed.

    Empty for a sound dump, found by a screen of C-level passes (this runs on every dump of
    a soak log); the rules proper run only when the screen sees a doubt.
    """
    blocks = dump.blocks
    if not blocks:
        return {}
    memo = _MEMO
    if memo[0] is dump and memo[1] == len(blocks):  # census, model and trend ask in turn
        return memo[2]
    out = _screen(dump, blocks)
    memo[:] = [dump, len(blocks), out]
    return out


#: the newest dump judged: (dump, its block count, the answer); one entry, so bounded
_MEMO: list[Any] = [None, 0, {}]


def _screen(dump: Any, blocks: Any) -> dict[int, str]:
    if all(map(_DYE_OK, blocks)) and not any(map(_CORRUPTED, blocks)):
        sizes = [s or 0 for s in map(_SIZE, blocks)]
        total = heap_size(dump)
        if total is None or max(sizes) <= total:
            addrs = list(map(_ADDR, blocks))
            ends = map(add, addrs, sizes)
            if not any(map(gt, ends, islice(addrs, 1, None))):
                return {}
    return _untrusted(dump, blocks)


def _untrusted(dump: Any, blocks: Any) -> dict[int, str]:
    out: dict[int, str] = {i: BAD_DYE for i, b in enumerate(blocks)
                           if b.corrupted or not b.dye_ok}
    total = heap_size(dump)
    if total is not None:
        for i, b in enumerate(blocks):
            if b.size is not None and b.size > total and i not in out:
                out[i] = TOO_LARGE
    # Overlap: a block whose size reaches past the next block's address. Judged only between
    # ascending neighbours with trusted sizes, and only as the exception: when most such
    # pairs of this dump leave a gap >= 0, an overlap is not how this printer counts.
    overlaps: list[int] = []
    gaps_ok = 0
    for i in range(len(blocks) - 1):
        a, c = blocks[i], blocks[i + 1]
        if a.size is None or i in out or c.addr <= a.addr:
            continue
        if a.addr + a.size > c.addr:
            overlaps.append(i)
        else:
            gaps_ok += 1
    if overlaps and gaps_ok >= 2 and len(overlaps) * 2 <= gaps_ok:
        for i in overlaps:
            out[i] = OVERLAPS_NEXT
    return out


def trusted_split(dump: Any) -> tuple[list[Any], list[Any], dict[int, str]]:
    """(trusted used blocks, trusted free blocks, ``untrusted(dump)``) of one dump.

    Used blocks: live and real (not the region's sentinel), with a size. Free blocks come
    from the block list, else from the free-list section (some 1.x dumps list free blocks
    only there; their headers are judged by the same dye rule).
    """
    bad = untrusted(dump)
    blocks = dump.blocks
    kept = [b for i, b in enumerate(blocks) if i not in bad] if bad else blocks
    used = [b for b in kept if b.used and not b.sentinel and b.size is not None]
    free = [b for b in kept if not b.used and b.size is not None]
    if not free and not any(not b.used and b.size is not None for b in blocks):
        free = [b for b in dump.free_list if b.size is not None and not header_bad(b)]
    return used, free, bad


def overview_used(dump: Any) -> int | None:
    """The UsedSz printed with the dump when it bounds the blocks' payload (AliOS printers,
    headers included, from an overview that is itself possible), else None."""
    if dump.variant not in _USED_BOUNDS_PAYLOAD or heap_size(dump) is None:
        return None
    return dump.overview.used


def used_disagreement(dump: Any, used_bytes: int) -> str | None:
    """Why the trusted blocks cannot be the heap the overview describes, or None.

    AliOS' UsedSz counts each used block with its header, so the blocks' payload above it
    means the dump (or the overview) is wrong somewhere the dye check did not see.
    """
    used = overview_used(dump)
    if used is None:
        return None
    o = dump.overview
    slack = o.pool.size if o.pool is not None else 0
    if used_bytes > used + slack:
        return (f"the dump's trusted blocks add up to {used_bytes:,} B, more than the "
                f"UsedSz {used:,} B printed with it (headers included): the dump or the "
                f"overview is wrong")
    return None


#: Variants whose block list is the allocator's own walk of every block, by header address:
#: there the next listed address bounds a block (``span``), the gap to it is the header.
PHYSICAL_WALK = frozenset({"B1", "B2", "B3"})


def header_gap(dump: Any, bad: dict[int, str]) -> int | None:
    """The bytes between one block's payload end and the next header, as this dump shows it
    (the most common gap between ascending trusted neighbours), or None."""
    blocks = dump.blocks
    counts: dict[int, int] = {}
    for i in range(len(blocks) - 1):
        a, c = blocks[i], blocks[i + 1]
        if a.size is None or i in bad or i + 1 in bad or c.addr <= a.addr:
            continue
        gap = c.addr - a.addr - a.size
        if gap >= 0:
            counts[gap] = counts.get(gap, 0) + 1
    return max(sorted(counts), key=counts.__getitem__) if counts else None


def neighbours(dump: Any, bad: dict[int, str]) -> dict[int, tuple[int | None, bool]]:
    """(span, overrun_by_previous) of every untrusted block ``i`` in ``bad``.

    span: bytes from its address to the next header the dump gives (free list included),
    the most it can occupy with its header (full physical walks only, else None).
    overrun_by_previous: its header is flagged bad right after an intact used block that
    ends where a header begins (the dump's usual gap): a write past that block's end.
    """
    blocks = dump.blocks
    starts: list[int] = []
    if dump.variant in PHYSICAL_WALK and not dump.partial:
        starts = sorted({b.addr for b in blocks} | {b.addr for b in dump.free_list})
    gap: int | None = None
    gap_known = False
    out: dict[int, tuple[int | None, bool]] = {}
    for i in bad:
        block = blocks[i]
        span = None
        if starts:
            k = bisect_right(starts, block.addr)
            span = starts[k] - block.addr if k < len(starts) else None
        prev = blocks[i - 1] if i > 0 else None
        overrun = False
        if (bad[i] == BAD_DYE and prev is not None and prev.used and not prev.sentinel
                and i - 1 not in bad and prev.size is not None and prev.addr < block.addr):
            if not gap_known:
                gap, gap_known = header_gap(dump, bad), True
            end = prev.addr + prev.size
            overrun = block.addr - end == gap if gap is not None \
                else 0 <= block.addr - end <= 64
        out[i] = (span, overrun)
    return out
