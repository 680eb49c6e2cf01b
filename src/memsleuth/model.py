"""The log read once into one accumulated model that every verb looks at (heaptrack-style).

Streaming: block dumps are reduced to per-owner totals as they arrive; only the dumps a verb
asked to keep whole (by default the last complete one) stay in memory, so memory does not
grow with the length of the log. Object events are folded into an accumulator supplied by
the caller (``on_record``) rather than stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from memsleuth.records import (
    AllocWarning,
    BlockDump,
    CrashDump,
    CycleMarker,
    HeapOverview,
    LastWord,
    LeakCandidate,
    ObjectEvent,
    ParseStats,
    Record,
)


@dataclass(slots=True)
class OwnerTotals:
    """Live (used) blocks of one owner in one dump."""

    blocks: int = 0
    bytes: int = 0
    min_size: int | None = None
    max_size: int | None = None

    def add(self, size: int) -> None:
        self.blocks += 1
        self.bytes += size
        self.min_size = size if self.min_size is None else min(self.min_size, size)
        self.max_size = size if self.max_size is None else max(self.max_size, size)


@dataclass(slots=True)
class DumpSummary:
    """What is kept of every block dump: where it is, whether it is whole, totals per owner."""

    index: int
    line: int
    variant: str
    partial: bool
    partial_reason: str | None
    used_blocks: int
    used_bytes: int
    free_blocks: int
    free_bytes: int
    corrupted: int
    owners: dict[int, OwnerTotals]
    #: cycle number (last cycle marker before the dump), or None
    cycle: int | None = None
    ts: float | None = None


def owner_totals(dump: BlockDump) -> dict[int, OwnerTotals]:
    """Per-owner totals of the used, non-sentinel blocks of a dump."""
    totals: dict[int, OwnerTotals] = {}
    for block in dump.blocks:
        if block.used and not block.sentinel and block.size is not None:
            totals.setdefault(block.owner, OwnerTotals()).add(block.size)
    return totals


def summarize_dump(dump: BlockDump, cycle: int | None = None) -> DumpSummary:
    used = [b for b in dump.blocks if b.used and not b.sentinel and b.size is not None]
    free = [b for b in dump.blocks if not b.used and b.size is not None]
    return DumpSummary(
        index=dump.index,
        line=dump.line,
        variant=dump.variant,
        partial=dump.partial,
        partial_reason=dump.partial_reason,
        used_blocks=len(used),
        used_bytes=sum(b.size or 0 for b in used),
        free_blocks=len(free),
        free_bytes=sum(b.size or 0 for b in free),
        corrupted=sum(1 for b in dump.blocks if b.corrupted or not b.dye_ok),
        owners=owner_totals(dump),
        cycle=cycle,
        ts=dump.ts,
    )


@dataclass(slots=True)
class LogModel:
    """Everything a verb needs from one log, gathered in one pass."""

    path: Path | None
    stats: ParseStats
    overviews: list[HeapOverview] = field(default_factory=list)
    markers: list[CycleMarker] = field(default_factory=list)
    dumps: list[DumpSummary] = field(default_factory=list)
    #: dumps kept whole, by index (see ``keep`` in build_model)
    full_dumps: dict[int, BlockDump] = field(default_factory=dict)
    warnings: list[AllocWarning] = field(default_factory=list)
    leaks: list[LeakCandidate] = field(default_factory=list)
    crashes: list[CrashDump] = field(default_factory=list)
    lastwords: list[LastWord] = field(default_factory=list)
    object_events: int = 0
    #: block dumps inside which the crash sections sit: last full dump before each crash
    dump_before_crash: dict[int, int] = field(default_factory=dict)

    @property
    def last_complete_dump(self) -> DumpSummary | None:
        for summary in reversed(self.dumps):
            if not summary.partial:
                return summary
        return self.dumps[-1] if self.dumps else None

    @property
    def partial_sections(self) -> int:
        return self.stats.partial_sections


def build_model(
    records: Iterable[Record],
    stats: ParseStats,
    *,
    path: Path | None = None,
    keep: Callable[[BlockDump], bool] | None = None,
    on_record: Callable[[Record], None] | None = None,
) -> LogModel:
    """Fold a record stream into a LogModel.

    ``keep(dump)`` decides which dumps stay whole besides the newest complete one and the
    newest one overall (needed by census); ``on_record`` sees every record (for streaming
    accumulators such as the object-balance pairing).
    """
    model = LogModel(path=path, stats=stats)
    cycle: int | None = None
    newest_complete: int | None = None
    newest: int | None = None
    for record in records:
        if on_record is not None:
            on_record(record)
        if isinstance(record, HeapOverview):
            model.overviews.append(record)
        elif isinstance(record, CycleMarker):
            model.markers.append(record)
            cycle = record.index if record.index is not None else len(model.markers)
        elif isinstance(record, BlockDump):
            record.index = len(model.dumps)
            model.dumps.append(summarize_dump(record, cycle))
            if record.overview is not None:
                model.overviews.append(record.overview)
            model.full_dumps[record.index] = record
            newest = record.index
            if not record.partial:
                newest_complete = record.index
            pinned = {newest, newest_complete, *model.dump_before_crash.values()}
            for index in list(model.full_dumps):
                if index not in pinned and not (keep and keep(model.full_dumps[index])):
                    del model.full_dumps[index]
        elif isinstance(record, AllocWarning):
            model.warnings.append(record)
        elif isinstance(record, LeakCandidate):
            model.leaks.append(record)
        elif isinstance(record, CrashDump):
            model.crashes.append(record)
            if newest is not None:
                model.dump_before_crash[len(model.crashes) - 1] = newest
        elif isinstance(record, LastWord):
            model.lastwords.append(record)
        elif isinstance(record, ObjectEvent):
            model.object_events += 1
    return model
