"""`diff`: per-site change between two dumps; growth across many; the decline attributed."""

from typing import Literal, TypedDict

from memsleuth.results.common import ElfMatch, Envelope

DiffStatus = Literal["new", "vanished", "grown", "shrunk", "same"]
GrowthPattern = Literal["steady", "spike", "shrinking", "flat", "noisy"]


class SnapshotRef(TypedDict):
    """One side of a diff: which dump of which log."""

    log: str | None
    index: int
    line: int
    cycle: int | None
    partial: bool
    used_bytes: int


class SiteFields(TypedDict):
    """What a row says about its site."""

    key: str
    label: str
    function: str | None
    file: str | None
    line: int | None
    object_kind: str | None


class DiffRow(SiteFields):
    blocks_before: int
    blocks_after: int
    blocks_delta: int
    bytes_before: int
    bytes_after: int
    bytes_delta: int
    status: DiffStatus


class DiffTotals(TypedDict):
    bytes_delta: int
    blocks_delta: int
    new: int
    vanished: int
    grown: int
    shrunk: int


class SnapshotDiff(TypedDict):
    """What ``analysis.diff.diff_snapshots`` returns."""

    before: SnapshotRef
    after: SnapshotRef
    rows: list[DiffRow]
    totals: DiffTotals


class GrowthRow(SiteFields):
    """One site across the dumps: per-dump blocks/bytes, slopes, and its growth pattern."""

    blocks: list[int]
    bytes: list[int]
    bytes_slope: float
    bytes_slope_low: float
    bytes_slope_high: float
    blocks_slope: float
    heap_slope: float
    block_size: int | None
    grow_steps: float
    biggest_step_share: float
    pattern: GrowthPattern


class _GrowthOptional(TypedDict, total=False):
    block_overhead: float


class Growth(_GrowthOptional):
    """What ``analysis.diff.site_growth`` returns (x is None below three dumps)."""

    x: Literal["cycle", "snapshot"] | None
    snapshots: int
    dumps: list[int]            # the full dumps used, numbered as every output numbers them
    rows: list[GrowthRow]


class _AttributedSiteOptional(TypedDict, total=False):
    payload_per_x: float        # method "dumps": the payload part of bytes_per_x
    block_size: int             # method "objects": heap bytes per object block


class AttributedSite(_AttributedSiteOptional):
    key: str
    label: str
    object_kind: str | None
    bytes_per_x: float
    share: float


class Attribution(TypedDict):
    """What ``analysis.diff.attribute_decline`` returns: the decline tied to sites."""

    decline_per_x: float
    x: str
    method: Literal["dumps", "objects"] | None
    sites: list[AttributedSite]
    explained: float
    text: str


class DiffOutput(Envelope, SnapshotDiff):
    """`memsleuth diff --json` (growth and attribution null for two logs)."""

    elf: str | None
    growth: Growth | None
    attribution: Attribution | None
    elf_match: ElfMatch | None
    partial: list[str]
