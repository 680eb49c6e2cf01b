"""`census`: the live blocks of one heap dump, aggregated per call site."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.records import BlockVariant
from memsleuth.results.common import Document, ElfMatch, InlineFrame

GroupBy = Literal["site", "function", "file"]
SortKey = Literal["bytes", "count", "size", "addr"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CensusSnapshot:
    """The dump the census was made of (index 0-based among the log's block dumps)."""

    index: int
    line: int
    end_line: int | None
    variant: BlockVariant
    partial: bool
    partial_reason: str | None
    skipped_lines: int
    #: live blocks on the device this dump cannot list (the agent's side table missed
    #: them; docs/object-trace.md section 6): the census counts are then lower bounds
    untracked: int = 0
    untracked_reason: str | None = None
    #: the dump's trusted blocks cannot be the heap its own overview describes (their
    #: payload exceeds the UsedSz printed with it): the figures are not to be relied on
    untrusted_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CensusTotals:
    """The dump's figures, made of its trusted blocks only: a block whose header is corrupt
    or whose size is impossible is in no figure (``untrusted_blocks`` counts them, listed in
    ``corrupted``); ``printed_used_bytes`` is the used sum as printed, those included."""

    used_blocks: int
    used_bytes: int
    free_blocks: int
    free_bytes: int
    largest_free: int
    #: False for dumps of live allocations only (ESP-IDF heap trace, NuttX 'used' memdump)
    free_listed: bool
    sites: int
    untrusted_blocks: int = 0
    printed_used_bytes: int = 0
    #: UsedSz printed with the dump (headers included), null without one
    overview_used: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CensusRow:
    """One site: ``owner`` is the raw owner most of its blocks have, ``owners`` every raw
    owner in the row, ``site_address`` the address the blame moved to (past wrappers)."""

    key: str
    owner: int
    owners: tuple[int, ...]
    site_address: int
    function: str | None
    file: str | None
    line: int | None
    inlined: tuple[InlineFrame, ...]
    label: str
    object_kind: str | None
    allocator: str | None
    chain: tuple[str, ...]
    blocks: int
    bytes: int
    share: float
    min_size: int | None
    max_size: int | None
    sample_blocks: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockInfo:
    """One block of a dump as printed (a corrupted block or its neighbour); ``trusted``
    false: its size and owner are left out of every figure (``site`` is then null)."""

    line: int
    addr: int
    used: bool
    size: int | None
    sentinel: bool
    dye: int | None
    corrupted: bool
    owner: int
    site: str | None
    trusted: bool = True


#: ``bad_dye``: the device flagged the header ('!', a wrong dye or Chk); ``too_large``: the
#: size is above the heap's TotalSz; ``overlaps_next``: the size runs past the next block
UntrustedReason = Literal["bad_dye", "too_large", "overlaps_next"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CorruptedBlock:
    """A block left out of the census figures, as printed, with its neighbours.

    ``span``: bytes from its address to the next block the dump lists (free list included),
    the most it can really occupy with its header; ``overrun_by_previous``: its header is bad
    right after an intact used block, the usual trace of a write past that block's end.
    """

    block: BlockInfo
    previous: BlockInfo | None
    next: BlockInfo | None
    reason: UntrustedReason = "bad_dye"
    span: int | None = None
    overrun_by_previous: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectKindCount:
    """Live kernel objects of one kind, read off the constructor-owned blocks."""

    kind: str
    blocks: int
    bytes: int
    sites: int
    constructors: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapperCount:
    """A wrapper learned from the traces: its blocks, and how many caller rows they split into."""

    function: str
    kind: str | None
    blocks: int
    bytes: int
    callers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Census:
    """What ``analysis.census.census`` returns (also ``analyze``'s and ``report``'s census)."""

    snapshot: CensusSnapshot
    totals: CensusTotals
    by: GroupBy
    sort: SortKey
    rows_total: int
    rows: tuple[CensusRow, ...]
    corrupted: tuple[CorruptedBlock, ...]
    objects: tuple[ObjectKindCount, ...]
    wrappers: tuple[WrapperCount, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CensusOutput(Census, Document):
    """`memsleuth census --json`."""

    log: str
    elf: str | None
    elf_match: ElfMatch | None
    snapshots: int
    notes: tuple[str, ...]
