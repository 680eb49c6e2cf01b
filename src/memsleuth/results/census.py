"""`census`: the live blocks of one heap dump, aggregated per call site."""

from typing import Literal, TypedDict

from memsleuth.records import BlockVariant
from memsleuth.results.common import ElfMatch, Envelope, InlineFrame

GroupBy = Literal["site", "function", "file"]
SortKey = Literal["bytes", "count", "size", "addr"]


class CensusSnapshot(TypedDict):
    """The dump the census was made of (index 0-based among the log's block dumps)."""

    index: int
    line: int
    end_line: int | None
    variant: BlockVariant
    partial: bool
    partial_reason: str | None
    skipped_lines: int


class CensusTotals(TypedDict):
    used_blocks: int
    used_bytes: int
    free_blocks: int
    free_bytes: int
    largest_free: int
    #: False for dumps of live allocations only (ESP-IDF heap trace, NuttX 'used' memdump)
    free_listed: bool
    sites: int


class CensusRow(TypedDict):
    """One site: ``owner`` is the raw owner most of its blocks have, ``owners`` every raw
    owner in the row, ``site_address`` the address the blame moved to (past wrappers)."""

    key: str
    owner: int
    owners: list[int]
    site_address: int
    function: str | None
    file: str | None
    line: int | None
    inlined: list[InlineFrame]
    object_kind: str | None
    allocator: str | None
    chain: list[str]
    blocks: int
    bytes: int
    share: float
    min_size: int | None
    max_size: int | None
    sample_blocks: list[int]


class BlockInfo(TypedDict):
    """One block of a dump as printed (a corrupted block or its neighbour)."""

    line: int
    addr: int
    used: bool
    size: int | None
    sentinel: bool
    dye: int | None
    corrupted: bool
    owner: int
    site: str | None


class CorruptedBlock(TypedDict):
    block: BlockInfo
    previous: BlockInfo | None
    next: BlockInfo | None


class ObjectKindCount(TypedDict):
    """Live kernel objects of one kind, read off the constructor-owned blocks."""

    kind: str
    blocks: int
    bytes: int
    sites: int
    constructors: list[str]


class Census(TypedDict):
    """What ``analysis.census.census`` returns (also ``analyze``'s and ``report``'s census)."""

    snapshot: CensusSnapshot
    totals: CensusTotals
    by: GroupBy
    sort: SortKey
    rows_total: int
    rows: list[CensusRow]
    corrupted: list[CorruptedBlock]
    objects: list[ObjectKindCount]


class CensusOutput(Envelope, Census):
    """`memsleuth census --json`."""

    log: str
    elf: str | None
    elf_match: ElfMatch | None
    snapshots: int
    notes: list[str]
