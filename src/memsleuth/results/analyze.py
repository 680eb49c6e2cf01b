"""`analyze`: what the log holds, heap health, the census, the newest crash, the leak."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.records import BlockVariant, OverviewVariant, WarningKind
from memsleuth.results.census import Census
from memsleuth.results.check import LeakReport
from memsleuth.results.common import Document, ElfMatch
from memsleuth.results.crash import CrashInLog


@dataclass(frozen=True, slots=True, kw_only=True)
class DumpEntry:
    """One block dump of the log (index as ``census --snapshot`` counts)."""

    index: int
    line: int
    variant: BlockVariant
    cycle: int | None
    used_blocks: int
    used_bytes: int
    partial: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningEntry:
    line: int
    kind: WarningKind
    need: int | None
    free: int | None
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PartialSection:
    """A section cut short (or, kind ``reading``, the log itself: the user pressed Ctrl-C)."""

    kind: Literal["block dump", "crash dump", "reading"]
    index: int
    line: int
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Contents:
    """What the log holds and what the reader counted (``analysis.summary.log_contents``)."""

    lines: int
    bytes: int
    decode_errors: int
    prefixed_lines: int
    skipped_in_sections: int
    sections: dict[str, int]
    #: one-line records per reader, and which log formats were read: family -> reader -> n
    line_records: dict[str, int]
    families: dict[str, dict[str, int]]
    overviews: int
    cycle_markers: int
    #: every block dump up to model.DUMP_LISTING of them; past that (``block_dumps_sampled``)
    #: an evenly spaced sample with the first, newest, newest complete, peak and first
    #: partial ones; ``block_dumps_total`` is the exact count, ``block_dumps_mmlk`` how many
    #: of them are mmlk listings
    block_dumps: tuple[DumpEntry, ...]
    block_dumps_total: int
    block_dumps_mmlk: int
    block_dumps_sampled: bool
    crashes: int
    object_events: int
    leak_candidates: int
    warnings: tuple[WarningEntry, ...]      # the first 20
    warnings_total: int
    #: partial sections; of the block dumps, the first model.FIRST_KEPT partial and the
    #: first FIRST_KEPT that miss blocks (``partial_total`` counts every one)
    partial: tuple[PartialSection, ...]
    partial_total: int
    impossible_rows: int
    heap_series: int
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolHealth:
    size: int
    free: int
    used: int
    blk_size: int | None
    min_free: int | None
    max_free_block: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HeapHealth:
    """What ``analysis.health.heap_health`` returns: the newest overview and the extremes."""

    samples: int
    line: int
    variant: OverviewVariant
    total: int | None           # None when the printer gives free heap only (FreeRTOS lines)
    free: int
    used: int | None
    used_share: float | None
    min_free: int | None
    peak_used: int | None
    max_free_block: int | None
    fragmentation: float | None
    pool: PoolHealth | None
    first_free: int
    lowest_free: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStack:
    name: str
    state: str
    prio: int
    stack_size: int | None
    min_free: int | None
    free_share: float | None
    status: Literal["ok", "low", "overflow"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStacks:
    """The newest `tasklist` table (``analysis.health.task_stacks``), least headroom first."""

    line: int
    unit: str                   # "words" (AliOS 1.x/2.x) or "bytes" (3.x), as printed
    tasks: tuple[TaskStack, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """What ``analysis.summary.summarize`` returns: the log's contents, heap health, the
    newest crash, the task stacks, the leak, the census of the newest whole dump."""

    contents: Contents
    heap: HeapHealth | None
    crash: CrashInLog | None
    tasks: TaskStacks | None
    leak: LeakReport
    census: Census | None
    elf_match: ElfMatch | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyzeOutput(Analysis, Document):
    """`memsleuth analyze --json`."""

    log: str
    elf: str | None
