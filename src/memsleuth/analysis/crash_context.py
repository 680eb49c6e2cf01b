"""Which heap dump and which allocator warnings belong to a crash: one rule for every verb.

A crash is read with the block dump printed last before it (the heap the fault happened in)
and the allocator warnings printed after the previous crash and before it (a ``malloc
failed`` that led to it). ``analyze``, ``crash``, ``report`` and the monitor all pair
crashes this way, through :class:`CrashCollector` fed as a streaming hook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from memsleuth.analysis.crash import explain_crash
from memsleuth.records import (
    AllocWarning,
    BlockDump,
    CrashDump,
    CycleMarker,
    HeapRun,
    ObjectEventRun,
    Record,
)
from memsleuth.results.common import extend
from memsleuth.results.crash import CrashInLog


@dataclass(slots=True)
class CrashContext:
    """One crash and the evidence printed before it."""

    crash: CrashDump
    heap_dump: BlockDump | None
    warnings: list[AllocWarning] = field(default_factory=list)


class CrashCollector:
    """Streaming hook (``collector(record)``): every crash with its context.

    ``keep`` bounds memory on logs with many crashes (a reboot loop): only the newest
    ``keep`` contexts are kept (None keeps all); ``total`` still counts every crash.
    """

    def __init__(self, keep: int | None = None) -> None:
        self.keep = keep
        self.contexts: list[CrashContext] = []
        self.total = 0
        self.sections = 0                 # records other than cycle markers
        self._dump: BlockDump | None = None
        self._warnings: list[AllocWarning] = []

    def __call__(self, record: Record) -> None:
        if isinstance(record, ObjectEventRun):
            self.sections += len(record)      # one per event, as the events would count
            return
        if type(record) is HeapRun:           # its tables and events, as they would count
            self.sections += record.tables + record.events
            return
        if not isinstance(record, CycleMarker):
            self.sections += 1
        if isinstance(record, BlockDump):
            self._dump = record
        elif isinstance(record, AllocWarning):
            self._warnings.append(record)
        elif isinstance(record, CrashDump):
            self.total += 1
            self.contexts.append(CrashContext(record, self._dump, self._warnings))
            self._warnings = []
            if self.keep is not None and len(self.contexts) > self.keep:
                del self.contexts[0]

    on_record = __call__

    def explain(self, symbolizer: Any | None, index: int | None = None
                ) -> list[CrashInLog]:
        """The kept crashes explained (``index``: only that one, negative from the end)."""
        contexts = self.contexts if index is None else self.contexts[index:][:1]
        out = []
        for ctx in contexts:
            result = explain_crash(ctx.crash, symbolizer, ctx.heap_dump, ctx.warnings)
            out.append(extend(CrashInLog, result, crashes_in_log=self.total))
        return out


def explain_records(records: Iterable[Record], symbolizer: Any | None, all_crashes: bool = False
                    ) -> list[CrashInLog]:
    """Every crash (or only the last) in a record stream, each with its preceding heap dump."""
    collector = CrashCollector(keep=None if all_crashes else 1)
    for record in records:
        collector(record)
    return collector.explain(symbolizer)
