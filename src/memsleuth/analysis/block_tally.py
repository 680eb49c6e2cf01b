"""One walk over a block dump's blocks, shared by the model, the site series and census.

A stress log prints thousands of dumps; the model (``summarize_dump``), the streaming
census (``SiteSeries``, through ``census.site_sizes``) and the header overhead each walked
every dump's blocks again, with their own filters. ``tally`` walks them once and keeps what
all of them need; the answer for the last dump asked about is kept, so the consumers of one
record share it (they see the same dump one after the other).
"""

from __future__ import annotations

from dataclasses import dataclass

from memsleuth.analysis.block_trust import header_bad, heap_size, trusted_split, untrusted
from memsleuth.records import BlockDump

#: (owner, trace): what a census attributes a block by
Pair = tuple[int, tuple[int, ...]]


@dataclass(slots=True)
class Tally:
    """A dump's trusted blocks reduced: live ones by (owner, trace), free ones, payload."""

    #: live, real, trusted blocks (used, not the sentinel, with a size) by (owner, trace), in
    #: order of first appearance, each with its blocks' sizes in dump order
    pairs: dict[Pair, list[int]]
    used_blocks: int
    used_bytes: int
    #: the free blocks a census counts: those of the block list, else (some 1.x dumps list
    #: free blocks only there) those of the free-list section
    free_blocks: int
    free_bytes: int
    largest_free: int
    #: the largest live block's size (0 when none): the forecast's "largest allocation"
    largest_used: int
    #: sum of the sizes of every block with one (sentinel and free blocks included)
    payload: int
    #: blocks left out (``block_trust.untrusted``: index in ``blocks`` -> why)
    bad: dict[int, str]

    @property
    def corrupted(self) -> int:
        """Blocks left out as untrusted (a bad header, an impossible size)."""
        return len(self.bad)


#: the last dump tallied, its block counts then, and its tally (one dump held at most)
_last: tuple[BlockDump | None, int, int, Tally | None] = (None, 0, 0, None)


def tally(dump: BlockDump) -> Tally:
    """The dump's tally (computed once per dump while it is the one asked about)."""
    global _last
    held, n_blocks, n_free, got = _last
    if held is dump and got is not None and n_blocks == len(dump.blocks) \
            and n_free == len(dump.free_list):
        return got
    got = _tally(dump)
    _last = (dump, len(dump.blocks), len(dump.free_list), got)
    return got


def _tally(dump: BlockDump) -> Tally:
    # The walk also screens the dump as ``block_trust.untrusted`` does (a flagged header, a
    # size above TotalSz, a block reaching past the next one's address): a sound dump needs
    # no other pass; on any doubt the trust rules decide.
    pairs: dict[Pair, list[int]] = {}
    get = pairs.get
    free_blocks = free_bytes = largest_free = payload = largest = 0
    doubt = False
    end = -1                # where the previous block ends (its address + size)
    for b in dump.blocks:
        if b.corrupted or not b.dye_ok:
            doubt = True
        addr = b.addr
        if end > addr:
            doubt = True
        size = b.size
        if size is None:
            end = addr
            continue
        end = addr + size
        payload += size
        if size > largest:
            largest = size
        if b.used:
            if b.sentinel:
                continue
            key = (b.owner, b.trace)
            sizes = get(key)
            if sizes is None:
                pairs[key] = [size]
            else:
                sizes.append(size)
        else:
            free_blocks += 1
            free_bytes += size
            if size > largest_free:
                largest_free = size
    if not doubt:
        total = heap_size(dump)
        doubt = total is not None and largest > total
    bad = untrusted(dump) if doubt else {}
    if bad:                 # (rare: the rules decided which blocks count)
        used, free, _ = trusted_split(dump)
        pairs = {}
        for b in used:
            pairs.setdefault((b.owner, b.trace), []).append(b.size)
        sizes = [b.size for b in free]
        return _made(pairs, len(sizes), sum(sizes), max(sizes, default=0), payload, bad)
    if not free_blocks:
        free = [b.size for b in dump.free_list if b.size is not None and not header_bad(b)]
        free_blocks, free_bytes, largest_free = len(free), sum(free), max(free, default=0)
    return _made(pairs, free_blocks, free_bytes, largest_free, payload, bad)


def _made(pairs: dict[Pair, list[int]], free_blocks: int, free_bytes: int, largest_free: int,
          payload: int, bad: dict[int, str]) -> Tally:
    return Tally(
        pairs=pairs, used_blocks=sum(map(len, pairs.values())),
        used_bytes=sum(map(sum, pairs.values())), free_blocks=free_blocks,
        largest_used=max(map(max, pairs.values()), default=0),
        free_bytes=free_bytes, largest_free=largest_free, payload=payload, bad=bad)
