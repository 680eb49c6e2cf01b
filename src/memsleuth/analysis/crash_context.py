"""Which heap dump and which allocator warnings belong to a crash: one rule for every verb.

A crash is read with the block dump printed last before it (the heap the fault happened in)
and the allocator warnings printed after the previous crash and before it (a ``malloc
failed`` that led to it). ``analyze``, ``crash``, ``report`` and the monitor all pair
crashes this way, through :class:`CrashCollector` fed as a streaming hook.

A device in a crash loop prints a crash every few minutes for days: what the collector keeps
is bounded whatever the length of the log (the newest crash, or for a listing every crash up
to ``CRASH_LISTING`` then a sample that always holds the first crash, the newest and the
first of every distinct signature; each signature counted, up to ``MAX_SIGNATURES`` of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from memsleuth.analysis.crash import FAILED_KINDS, crash_key, crash_signature, explain_crash
from memsleuth.model import FIRST_KEPT, Sample
from memsleuth.records import (
    AllocWarning,
    BlockDump,
    Boot,
    CrashDump,
    CycleMarker,
    HeapRun,
    LastWord,
    ObjectEventRun,
    Record,
)
from memsleuth.results.common import extend
from memsleuth.results.crash import CrashExplanation, CrashInLog, CrashSignature

#: Crashes a listing (``crash --all``, ``report``) explains one by one: every crash up to
#: this many; past it an evenly spaced sample of them plus the first crash, the newest and
#: the first crash of every distinct signature. ``total`` and each signature's count stay exact.
CRASH_LISTING = 64
#: Distinct signatures told apart (each counted, its first crash explained); past this many
#: (a corrupted PC in every crash), further new signatures are counted together.
MAX_SIGNATURES = 256


@dataclass(slots=True)
class CrashContext:
    """One crash and the evidence printed before it: the newest block dump, the allocator
    warnings since the previous crash (the first FIRST_KEPT and the newest 'malloc failed'
    one; ``failed_total`` counts every 'malloc failed')."""

    crash: CrashDump
    heap_dump: BlockDump | None
    warnings: list[AllocWarning] = field(default_factory=list)
    failed_total: int = 0

    def explain(self, symbolizer: Any | None) -> CrashExplanation:
        return explain_crash(self.crash, symbolizer, self.heap_dump, self.warnings,
                             self.failed_total)


@dataclass(slots=True)
class _Kept:
    """A crash held by a listing: its context until it is explained, then the result only
    (no block dump stays pinned by a crash that is no longer the newest)."""

    seq: int
    context: CrashContext | None
    result: CrashExplanation | None = None


@dataclass(slots=True)
class _Signature:
    key: tuple[Any, ...]
    first_seq: int
    first_line: int
    newest_line: int
    crashes: int = 1
    label: str | None = None
    category: str | None = None


class CrashCollector:
    """Streaming hook (``collector(record)``): the crashes with their context, bounded.

    ``keep=1`` keeps the newest crash only (``analyze``, ``crash``); any other ``keep`` (None:
    CRASH_LISTING) lists every crash up to that many, then a sample (``sampled``) that always
    holds the first crash, the newest and the first of every signature. ``signatures=True``
    also counts the crashes per signature (``signature_table()``), explaining the first crash
    of each as it arrives (with ``symbolizer``: the label names functions, as the fleet's).
    ``total`` counts every crash.
    """

    def __init__(self, keep: int | None = None, *, signatures: bool = False,
                 symbolizer: Any | None = None) -> None:
        self.keep = keep
        self.symbolizer = symbolizer
        self.total = 0
        self.sections = 0                 # records other than cycle markers
        self.contexts: list[CrashContext] = []          # keep=1: the newest
        self._listing: Sample[_Kept] | None = None if keep == 1 else Sample(
            keep or CRASH_LISTING)
        self._newest: _Kept | None = None
        self._track = signatures or self._listing is not None
        self._signatures: dict[tuple[Any, ...], _Signature] = {}
        #: crashes whose signature was new past MAX_SIGNATURES (counted, not told apart)
        self.other_signatures = 0
        self._dump: BlockDump | None = None
        self._warnings: list[AllocWarning] = []
        self._failed = 0
        self._newest_failed: AllocWarning | None = None

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
            self._warning(record)
        elif isinstance(record, CrashDump):
            self._crash(record)
        elif isinstance(record, Boot | LastWord):
            # the device started again: the heap and the warnings before are another
            # boot's, and must not explain the next crash
            self._dump = None
            self._warnings, self._failed, self._newest_failed = [], 0, None

    on_record = __call__

    def _warning(self, record: AllocWarning) -> None:
        failed = record.kind in FAILED_KINDS
        self._failed += failed
        if len(self._warnings) < FIRST_KEPT:
            self._warnings.append(record)
        elif failed:
            self._newest_failed = record      # the reason names the last one's line

    def _crash(self, record: CrashDump) -> None:
        seq = self.total
        self.total += 1
        warnings = self._warnings
        if self._newest_failed is not None:
            warnings.append(self._newest_failed)
        ctx = CrashContext(record, self._dump, warnings, self._failed)
        self._warnings, self._failed, self._newest_failed = [], 0, None
        new_sig = self._count_signature(record, seq) if self._track else None
        if self._listing is None:
            self.contexts = [ctx]
            if new_sig is not None:
                self._label(new_sig, ctx.explain(self.symbolizer))
            return
        kept = _Kept(seq, ctx)
        if new_sig is not None:
            kept.result = ctx.explain(self.symbolizer)
            kept.context = None
            self._label(new_sig, kept.result)
        self._retire_newest()
        listing = self._listing
        listing.append(kept)
        listing.pin("newest", seq, kept)
        if seq == 0:
            listing.pin("first", seq, kept)
        if new_sig is not None:
            listing.pin(f"signature {seq}", seq, kept)
        self._newest = kept

    def _retire_newest(self) -> None:
        """The newest crash is about to be replaced: explain it now if the listing keeps it
        (its block dump is let go either way)."""
        old = self._newest
        if old is None or old.context is None:
            return
        assert self._listing is not None
        if self._listing.holds(old.seq):
            old.result = old.context.explain(self.symbolizer)
        old.context = None

    def _count_signature(self, crash: CrashDump, seq: int) -> _Signature | None:
        """Count the crash under its signature; the new signature when it is the first."""
        key = crash_key(crash)
        sig = self._signatures.get(key)
        if sig is not None:
            sig.crashes += 1
            sig.newest_line = crash.line
            return None
        if len(self._signatures) >= MAX_SIGNATURES:
            self.other_signatures += 1
            return None
        sig = self._signatures[key] = _Signature(key, seq, crash.line, crash.line)
        return sig

    @staticmethod
    def _label(sig: _Signature, result: CrashExplanation) -> None:
        sig.label = crash_signature(result)
        sig.category = result.cause.category

    @property
    def sampled(self) -> bool:
        """True when a listing holds a sample of the crashes, not every one."""
        return self._listing is not None and self.total > len(self._listing.items())

    def signature_table(self) -> list[CrashSignature]:
        """Crashes per signature (those whose keys differ but whose labels agree are one
        row), most frequent first; empty unless signatures were tracked."""
        rows: dict[str, CrashSignature] = {}
        for sig in sorted(self._signatures.values(), key=lambda s: s.first_seq):
            label = sig.label or "unexplained"
            row = rows.get(label)
            if row is None:
                rows[label] = CrashSignature(signature=label, category=sig.category or "unknown",
                                             crashes=sig.crashes, first_line=sig.first_line,
                                             newest_line=sig.newest_line)
            else:
                rows[label] = CrashSignature(
                    signature=label, category=row.category, crashes=row.crashes + sig.crashes,
                    first_line=row.first_line, newest_line=max(row.newest_line,
                                                               sig.newest_line))
        return sorted(rows.values(), key=lambda r: (-r.crashes, r.first_line))

    def explain(self, symbolizer: Any | None, index: int | None = None
                ) -> list[CrashInLog]:
        """The kept crashes explained, in log order (``index``: only that one, negative
        from the end). A listing's crashes were explained with the collector's own
        symbolizer as they were let go; ``symbolizer`` explains the rest."""
        if self._listing is None:
            results = [ctx.explain(symbolizer) for ctx in
                       (self.contexts if index is None else self.contexts[index:][:1])]
        else:
            kept = self._listing.items()
            kept = kept if index is None else kept[index:][:1]
            results = [k.result if k.result is not None else
                       k.context.explain(symbolizer)  # type: ignore[union-attr]
                       for k in kept]
        return [extend(CrashInLog, r, crashes_in_log=self.total) for r in results]


def explain_records(records: Iterable[Record], symbolizer: Any | None, all_crashes: bool = False
                    ) -> list[CrashInLog]:
    """Every crash (or only the last) in a record stream, each with its preceding heap dump."""
    collector = CrashCollector(keep=None if all_crashes else 1, symbolizer=symbolizer)
    for record in records:
        collector(record)
    return collector.explain(symbolizer)
