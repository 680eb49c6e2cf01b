"""`diff`: per-site change between two dumps; growth across many; the decline attributed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.results.common import Document, ElfMatch, InlineFrame, omitted

DiffStatus = Literal["new", "vanished", "grown", "shrunk", "same"]
GrowthPattern = Literal["steady", "spike", "shrinking", "flat", "noisy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotRef:
    """One side of a diff: which dump of which log."""

    log: str | None
    index: int
    line: int
    cycle: int | None
    partial: bool
    used_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteFields:
    """What a row says about its site."""

    key: str
    label: str
    function: str | None
    file: str | None
    line: int | None
    inlined: tuple[InlineFrame, ...]
    object_kind: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffRow(SiteFields):
    blocks_before: int
    blocks_after: int
    blocks_delta: int
    bytes_before: int
    bytes_after: int
    bytes_delta: int
    status: DiffStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffTotals:
    bytes_delta: int
    blocks_delta: int
    new: int
    vanished: int
    grown: int
    shrunk: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDiff:
    """What ``analysis.diff.diff_snapshots`` returns."""

    before: SnapshotRef
    after: SnapshotRef
    rows: tuple[DiffRow, ...]
    totals: DiffTotals


@dataclass(frozen=True, slots=True, kw_only=True)
class GrowthRow(SiteFields):
    """One site across the dumps: per-dump blocks/bytes, slopes, and its growth pattern."""

    blocks: tuple[int, ...]
    bytes: tuple[int, ...]
    bytes_slope: float
    bytes_slope_low: float
    bytes_slope_high: float
    blocks_slope: float
    heap_slope: float
    block_size: int | None
    grow_steps: float
    biggest_step_share: float
    pattern: GrowthPattern


@dataclass(frozen=True, slots=True, kw_only=True)
class Growth:
    """What ``analysis.diff.site_growth`` returns (x None and no rows below three dumps)."""

    x: Literal["cycle", "snapshot"] | None
    snapshots: int
    dumps: tuple[int, ...]      # the full dumps used, numbered as every output numbers them
    #: heap dumps (censuses) in the log; ``sampled``: more than ``analysis.diff.
    #: SNAPSHOT_CAPACITY``, so ``dumps`` (and each row's series) is an evenly spaced sample
    dumps_total: int
    sampled: bool
    #: allocator header bytes per block (median over the dumps); None below three dumps
    block_overhead: float | None
    rows: tuple[GrowthRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributedSite:
    """One site's part of the decline (the optional keys say how it was measured)."""

    key: str
    label: str
    object_kind: str | None
    bytes_per_x: float
    share: float
    payload_per_x: float | None = omitted()   # method "dumps": the payload part of bytes_per_x
    block_size: int | None = omitted()        # "objects", "census": heap bytes per block
    blocks_per_x: int | None = omitted()      # "census": blocks per cycle elapsed
    live_blocks: int | None = omitted()       # "census": the site's blocks in the dump
    cycles_elapsed: int | None = omitted()    # "census": cycles from the curve's first


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    """What ``analysis.diff.attribute_decline`` returns: the decline tied to sites."""

    decline_per_x: float
    x: str
    method: Literal["dumps", "objects", "census"] | None
    sites: tuple[AttributedSite, ...]
    explained: float
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffAnalysis(SnapshotDiff):
    """What ``analysis.dump_choice.diff_within`` / ``diff_between`` return (growth and
    attribution None for two logs)."""

    growth: Growth | None
    attribution: Attribution | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffOutput(DiffAnalysis, Document):
    """`memsleuth diff --json`. ``log`` is the log the verb read first (``before.log``);
    ``after.log`` the second one of a two-log diff."""

    log: str
    elf: str | None
    elf_match: ElfMatch | None
    partial: tuple[str, ...]
