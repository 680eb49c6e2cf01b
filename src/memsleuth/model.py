"""The log read once into one accumulated model that every verb looks at (heaptrack-style).

Streaming: block dumps are reduced to per-owner totals as they arrive; only the dumps a verb
asked to keep whole (by default the last complete one) stay in memory, so memory does not
grow with the length of the log. Object events are folded into an accumulator supplied by
the caller (``on_record``) rather than stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from memsleuth.analysis import heap_rows
from memsleuth.analysis.block_tally import tally
from memsleuth.analysis.series import HeapSeries, overview_problem
from memsleuth.records import (
    AgentNotice,
    AllocWarning,
    BlockDump,
    CrashDump,
    CycleMarker,
    HeapOverview,
    HeapRun,
    LastWord,
    LeakCandidate,
    ObjectEvent,
    ObjectEventRun,
    ParseStats,
    Record,
    TaskList,
)

T = TypeVar("T")

#: Points kept of a series (overviews, cycle markers) before it is thinned.
SERIES_CAPACITY = 20_000
#: ``series_capacity`` for a caller that reads only the ends of the series and their counts
#: (analyze: the newest overview, the first, how many): the thinned lists then build a
#: record for a handful of the millions of tables and markers of a stress log.
ENDS_ONLY = 2
#: Block dumps listed by name (``analyze``'s ``contents.block_dumps``): every one up to this
#: many (a day's soak test prints hundreds); past it an evenly spaced sample of between half
#: and all of this many, plus the dumps named in ``DumpLog.pins``. ``count`` stays exact.
DUMP_LISTING = 1024
#: Partial dumps, dumps that miss blocks and allocator warnings kept by name (the rest are
#: counted): each is listed in ``analyze``'s contents, and 50 say what a thousand would.
FIRST_KEPT = 50


class Thinned(Generic[T]):
    """A list that keeps every item until ``capacity``, then every 2nd, 4th, ... item.

    Overviews arrive once per cycle for days; charts and health need their shape, not all of
    them. The first and the newest item are always kept; ``count`` is how many arrived.
    """

    def __init__(self, capacity: int = SERIES_CAPACITY) -> None:
        self.capacity = capacity
        self.count = 0
        self._items: list[T] = []
        self._stride = 1
        self._newest: T | None = None

    def append(self, item: T) -> None:
        if self.count % self._stride == 0:
            self._items.append(item)
            if len(self._items) > self.capacity:
                self._items = self._items[::2]
                self._stride *= 2
        self.count += 1
        self._newest = item

    def extend_lazy(self, n: int, item_at: Callable[[int], T]) -> None:
        """``append(item_at(i))`` for i in 0..n-1, calling ``item_at`` only for the items
        kept (and the newest): a stretch of a stress log read in bulk builds no record for
        the thousands this list would drop."""
        if n <= 0:
            return
        i = (-self.count) % self._stride
        last: T | None = None
        while i < n:
            item = item_at(i)
            self._items.append(item)
            if len(self._items) > self.capacity:
                self._items = self._items[::2]
                self._stride *= 2
            if i == n - 1:
                last = item          # the newest is this very object (``_view`` tests identity)
            i += 1
            i += (-(self.count + i)) % self._stride
        self.count += n
        self._newest = last if last is not None else item_at(n - 1)

    def _view(self) -> list[T]:
        items = self._items
        if self._newest is not None and (not items or items[-1] is not self._newest):
            return [*items, self._newest]
        return items

    def __iter__(self) -> Iterator[T]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())

    def __getitem__(self, index: int) -> T:
        return self._view()[index]

    def __bool__(self) -> bool:
        return self.count > 0


class Sample(Generic[T]):
    """A bounded, evenly spaced sample of a stream, plus items pinned by name.

    Every item is kept until ``capacity``, then every 2nd, 4th, ... by arrival number, so the
    kept ones stay evenly spaced over the whole stream (the first is always among them);
    pinned items (the newest, the peak, the one a finding rests on) are kept whatever the
    stride, and unpinned when a pin moves on. ``count`` is how many arrived; ``items()`` the
    kept ones in arrival order. A stream of any length holds at most capacity + pins items.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(2, capacity)
        self.count = 0
        self._items: list[tuple[int, T]] = []
        self._stride = 1
        self._pins: dict[str, tuple[int, T]] = {}
        self._view: list[T] | None = None

    def append(self, item: T) -> int:
        """Add the next item; returns its arrival number (for ``pin``)."""
        seq = self.count
        if seq % self._stride == 0:
            self._items.append((seq, item))
            if len(self._items) > self.capacity:
                self._items = self._items[::2]
                self._stride *= 2
        self.count += 1
        self._view = None
        return seq

    def pin(self, name: str, seq: int, item: T) -> None:
        self._pins[name] = (seq, item)
        self._view = None

    def unpin(self, name: str) -> None:
        if self._pins.pop(name, None) is not None:
            self._view = None

    def holds(self, seq: int) -> bool:
        """Whether the item with arrival number ``seq`` is kept (sampled or pinned)."""
        if seq % self._stride == 0 and any(k == seq for k, _ in self._items):
            return True
        return any(k == seq for k, _ in self._pins.values())

    def pinned(self, name: str) -> T | None:
        held = self._pins.get(name)
        return held[1] if held is not None else None

    @property
    def thinned(self) -> bool:
        """True once some item was let go (``items()`` is then a sample)."""
        return self._stride > 1

    def items(self) -> list[T]:
        if self._view is None:
            merged = dict(self._items)
            merged.update(self._pins.values())
            self._view = [merged[k] for k in sorted(merged)]
        return self._view


class FirstKept(Generic[T]):
    """The first ``capacity`` items of a stream, the newest one, and how many arrived.

    For what a crash-looping or reboot-looping device prints once per boot (crash dumps, the
    lastword header, ``mm_leak`` candidates): thousands of them over a few days, of which a
    verb names the first few and the newest and counts the rest. Memory is bounded whatever
    the length of the log.
    """

    def __init__(self, capacity: int = FIRST_KEPT) -> None:
        self.capacity = capacity
        self.count = 0
        self.first: list[T] = []
        self.newest: T | None = None

    def append(self, item: T) -> None:
        self.count += 1
        if len(self.first) < self.capacity:
            self.first.append(item)
        self.newest = item

    def items(self) -> list[T]:
        """The kept items in arrival order: the first ``capacity`` and the newest."""
        if self.newest is None or (self.first and self.first[-1] is self.newest):
            return list(self.first)
        return [*self.first, self.newest]

    @property
    def sampled(self) -> bool:
        """True when some items were let go (``items()`` does not hold every one)."""
        return self.count > len(self.items())

    def __bool__(self) -> bool:
        return self.count > 0


class CrashLog:
    """What the model keeps of the crash dumps: their count, the first and the newest, and
    the first FIRST_KEPT partial ones (each is named in ``analyze``'s contents) with their
    count. The crashes themselves are explained by ``CrashCollector`` (its own bound)."""

    def __init__(self) -> None:
        self.kept: FirstKept[CrashDump] = FirstKept(1)
        #: (arrival index, crash) of the first FIRST_KEPT partial crash dumps
        self.partial: list[tuple[int, CrashDump]] = []
        self.partial_count = 0

    @property
    def count(self) -> int:
        return self.kept.count

    @property
    def first(self) -> CrashDump | None:
        return self.kept.first[0] if self.kept.first else None

    @property
    def newest(self) -> CrashDump | None:
        return self.kept.newest

    def append(self, crash: CrashDump) -> None:
        if crash.partial:
            self.partial_count += 1
            if len(self.partial) < FIRST_KEPT:
                self.partial.append((self.kept.count, crash))
        self.kept.append(crash)

    def __bool__(self) -> bool:
        return self.kept.count > 0


@dataclass(slots=True)
class DumpSummary:
    """What is kept of every block dump: where it is, whether it is whole, its totals.

    A few numbers per dump, never per-owner tables: a log of thousands of dumps must not
    grow the model (per-owner figures come from the dump kept by the verb that needs them)."""

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
    #: cycle number (last cycle marker before the dump), or None
    cycle: int | None = None
    ts: float | None = None
    #: live blocks the dump cannot list (the agent's side table missed them), and why
    untracked: int = 0
    untracked_reason: str | None = None


def summarize_dump(dump: BlockDump, cycle: int | None = None) -> DumpSummary:
    # trusted blocks only: a corrupt header's size is garbage (it made a dump the "peak");
    # (the walk the site series made of this very dump, when it did)
    t = tally(dump)
    return DumpSummary(
        index=dump.index,
        line=dump.line,
        variant=dump.variant,
        partial=dump.partial,
        partial_reason=dump.partial_reason,
        used_blocks=t.used_blocks,
        used_bytes=t.used_bytes,
        free_blocks=t.free_blocks,
        free_bytes=t.free_bytes,
        corrupted=t.corrupted,
        cycle=cycle,
        ts=dump.ts,
        untracked=dump.untracked,
        untracked_reason=dump.untracked_reason,
    )


class DumpLog:
    """What is kept of the block dumps: their exact count, and a bounded listing.

    The listing (``listed()``) is every dump up to DUMP_LISTING of them, then an evenly
    spaced sample, always with the first, the newest, the newest complete one (the census's),
    the complete full dump with the most live bytes (the peak) and the first FIRST_KEPT
    partial and untracked ones (each is reported by name); the rest are counted. Memory is
    bounded whatever the length of the log.
    """

    def __init__(self, capacity: int | None = None) -> None:
        self._sample: Sample[DumpSummary] = Sample(capacity or DUMP_LISTING)
        self.newest: DumpSummary | None = None
        #: the newest dump that is not cut short (None before the first)
        self.newest_complete: DumpSummary | None = None
        #: the first FIRST_KEPT partial dumps, and how many there were
        self.partial: list[DumpSummary] = []
        self.partial_count = 0
        #: the first FIRST_KEPT whole dumps that miss live blocks (``untracked``), and how many
        self.untracked: list[DumpSummary] = []
        self.untracked_count = 0
        #: how many were ``mmlk`` listings (one tag's blocks, not the heap)
        self.mmlk = 0
        self._peak = -1

    @property
    def count(self) -> int:
        return self._sample.count

    def __bool__(self) -> bool:
        return self._sample.count > 0

    def append(self, summary: DumpSummary) -> None:
        sample = self._sample
        seq = sample.append(summary)
        self.newest = summary
        sample.pin("newest", seq, summary)
        if summary.variant == "mmlk":
            self.mmlk += 1
        if summary.partial:
            self.partial_count += 1
            if len(self.partial) < FIRST_KEPT:
                self.partial.append(summary)
                sample.pin(f"partial {seq}", seq, summary)
            return
        # (the device's list of blocks with a bad header is no census of the heap: a dump
        # before it stays the one a census shows)
        if summary.variant != "error_blocks" or self.newest_complete is None \
                or self.newest_complete.variant == "error_blocks":
            self.newest_complete = summary
            sample.pin("newest complete", seq, summary)
        if summary.untracked:
            self.untracked_count += 1
            if len(self.untracked) < FIRST_KEPT:
                self.untracked.append(summary)
                sample.pin(f"untracked {seq}", seq, summary)
        if summary.variant != "mmlk" and summary.used_bytes > self._peak:
            self._peak = summary.used_bytes
            sample.pin("peak", seq, summary)

    def listed(self) -> list[DumpSummary]:
        """The dumps listed by name, in log order (all of them when ``sampled`` is False)."""
        return self._sample.items()

    @property
    def sampled(self) -> bool:
        """True when ``listed()`` is a sample: some dumps are counted, not listed."""
        return self._sample.thinned


@dataclass(slots=True)
class LogModel:
    """Everything a verb needs from one log, gathered in one pass."""

    path: Path | None
    stats: ParseStats
    #: bounded: thinned past SERIES_CAPACITY (``overviews.count`` is the true number)
    overviews: Thinned[HeapOverview] = field(default_factory=Thinned)
    markers: Thinned[CycleMarker] = field(default_factory=Thinned)
    #: the overview with the least free heap of the last heap series (kept when thinned)
    lowest_overview: HeapOverview | None = None
    #: the first overview of the last heap series (a file may hold two boards' heaps)
    series_first: HeapOverview | None = None
    #: heap series seen (a changed TotalSz or allocator starts one; analysis/series.py)
    heap_series: HeapSeries = field(default_factory=HeapSeries)
    #: rows no heap can print (FreeSz > TotalSz ...): left out of ``overviews``; how many,
    #: and the first as (line, why)
    impossible_rows: int = 0
    impossible_first: tuple[int, str] | None = None
    #: bounded: the count, the dumps that matter and an evenly spaced sample (DumpLog)
    dumps: DumpLog = field(default_factory=DumpLog)
    #: dumps kept whole, by index (see ``keep`` in build_model)
    full_dumps: dict[int, BlockDump] = field(default_factory=dict)
    #: the first FIRST_KEPT allocator warnings, and how many there were
    warnings: list[AllocWarning] = field(default_factory=list)
    warnings_count: int = 0
    #: bounded: the first FIRST_KEPT ``mm_leak`` candidates and the newest (``.count`` all)
    leaks: FirstKept[LeakCandidate] = field(default_factory=FirstKept)
    #: bounded: count, first, newest and the first partial crash dumps (CrashLog)
    crashes: CrashLog = field(default_factory=CrashLog)
    #: bounded: the first FIRST_KEPT lastword headers (one per boot) and the newest
    lastwords: FirstKept[LastWord] = field(default_factory=FirstKept)
    #: the newest `tasklist` table, and how many were printed
    last_tasklist: TaskList | None = None
    tasklists: int = 0
    object_events: int = 0
    #: the agent's ``[MSAGENT]`` notices (bounded: the first of each kind) and their count
    agent_notices: list[AgentNotice] = field(default_factory=list)
    agent_notice_count: int = 0
    #: False: the heap status was not gathered (``build_model(heap_status=False)``): the
    #: overviews, cycle markers and heap series above are empty whatever the log holds
    heap_status: bool = True

    @property
    def last_complete_dump(self) -> DumpSummary | None:
        """The newest dump not cut short, else the newest one (None without a dump)."""
        return self.dumps.newest_complete or self.dumps.newest


def build_model(
    records: Iterable[Record],
    stats: ParseStats,
    *,
    path: Path | None = None,
    keep: Callable[[BlockDump], bool] | None = None,
    on_record: Callable[[Record], None] | None = None,
    series_capacity: int = SERIES_CAPACITY,
    heap_status: bool = True,
) -> LogModel:
    """Fold a record stream into a LogModel.

    ``keep(dump)`` decides which dumps stay whole besides the newest complete one and the
    newest one overall (needed by census); ``on_record`` sees every record (for streaming
    accumulators such as the object-balance pairing). ``heap_status=False``: the caller
    looks at the block dumps only (census): overview tables and cycle markers are not kept
    (a stress log has millions), the dumps still get their cycle numbers.
    """
    model = LogModel(path=path, stats=stats, overviews=Thinned(series_capacity),
                     markers=Thinned(series_capacity), heap_status=heap_status)
    cycle: int | None = None
    coverage = DumpCoverage()
    for record in records:
        if on_record is not None:
            on_record(record)
        if isinstance(record, HeapOverview):
            if heap_status:
                _add_overview(model, record)
        elif isinstance(record, CycleMarker):
            if heap_status:
                model.markers.append(record)
            cycle = record.index if record.index is not None else model.markers.count
        elif isinstance(record, BlockDump):
            coverage.apply(record)
            record.index = model.dumps.count
            model.dumps.append(summarize_dump(record, cycle))
            if record.overview is not None and heap_status:
                _add_overview(model, record.overview)
            model.full_dumps[record.index] = record
            # (kept whole: the newest, and the one a census shows, ``last_complete_dump``)
            pinned = {record.index, model.last_complete_dump.index}
            for index in list(model.full_dumps):
                if index not in pinned and not (keep and keep(model.full_dumps[index])):
                    del model.full_dumps[index]
        elif isinstance(record, AllocWarning):
            model.warnings_count += 1
            if len(model.warnings) < FIRST_KEPT:
                model.warnings.append(record)
        elif isinstance(record, LeakCandidate):
            model.leaks.append(record)
        elif isinstance(record, CrashDump):
            model.crashes.append(record)
        elif isinstance(record, TaskList):
            model.last_tasklist = record
            model.tasklists += 1
        elif isinstance(record, LastWord):
            model.lastwords.append(record)
        elif isinstance(record, ObjectEvent):
            model.object_events += 1
        elif isinstance(record, ObjectEventRun):
            model.object_events += len(record)
        elif type(record) is HeapRun:
            if record.markers:
                if heap_status:
                    model.markers.extend_lazy(record.markers, record.marker)
                cycle = record.m_index[-1]
            model.object_events += record.events
            if heap_status:
                _add_overviews(model, record)
        elif isinstance(record, AgentNotice):
            coverage.note(record)
            model.agent_notice_count += 1
            if all(n.kind != record.kind for n in model.agent_notices):
                model.agent_notices.append(record)
    return model


class DumpCoverage:
    """How much of the heap the next dump can list, from the agent's ``[MSAGENT]`` lines.

    The agent beside another allocator prints ``side table N/M entries ... untracked: P
    before init, F table full, U unknown frees`` right before each dump: the dump then lists
    live blocks only, and up to P + F allocations are missing from it. A ``side table full``
    warning without that line still means the dumps after it miss blocks. A dump that misses
    blocks must never pass for the whole heap (docs/object-trace.md, section 6).
    """

    def __init__(self) -> None:
        self.status: AgentNotice | None = None     # the status line before the next dump
        self.full: AgentNotice | None = None       # a 'table full' warning seen so far

    def note(self, notice: AgentNotice) -> None:
        if notice.kind == "table-status":
            self.status = notice
        elif notice.kind == "table-full" and self.full is None:
            self.full = notice

    def apply(self, dump: BlockDump) -> None:
        status, self.status = self.status, None
        if status is not None:
            dump.live_only = True
            if status.missed:
                # frees the table could not match are frees of the blocks it missed
                live = max(status.missed - status.unknown_frees, 1)
                dump.untracked = live
                dump.untracked_reason = (
                    f"the agent's side table missed {status.missed:,} allocation(s) and "
                    f"saw {status.unknown_frees:,} free(s) of blocks it did not hold (line "
                    f"{status.line}): about {live:,} live blocks are not in this dump, so "
                    f"its counts are lower bounds")
        elif self.full is not None:
            dump.untracked = 1        # at least one: the agent did not say how many
            dump.untracked_reason = (
                f"the agent's side table was full from line {self.full.line} on: an "
                f"unknown number of live blocks is missing from this dump")


def _add_overviews(model: LogModel, run: HeapRun) -> None:
    """``_add_overview`` of every table of a run, in bulk when every row is of the series'
    heap (TotalSz known and equal): the impossible ones counted, the rest appended without
    a record for those the thinned list drops."""
    n = run.tables
    if not n:
        return
    series = model.heap_series
    cols = heap_rows.rows(run) if series.count and series.total is not None \
        and model.series_first is not None else None
    if cols is None or bool((cols.total != series.total).any()):
        for k in range(n):      # another heap, or rows read one by one: the records decide
            _add_overview(model, run.overview(k))
        return
    np = heap_rows.numpy()
    free, bad = cols.free, cols.bad
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        model.impossible_rows += int(bad.sum())
        if model.impossible_first is None:
            o = run.overview(first)
            model.impossible_first = (o.line, overview_problem(o) or "")
        good = np.flatnonzero(~bad)
    else:
        good = None
    keep = good.tolist() if good is not None else None
    count = len(keep) if keep is not None else n
    if not count:
        return
    if keep is None:
        model.overviews.extend_lazy(n, run.overview)
        low = int(np.argmin(free))
    else:
        model.overviews.extend_lazy(count, lambda i: run.overview(keep[i]))
        low = keep[int(np.argmin(free[good]))]
    lowest = model.lowest_overview
    if lowest is None or int(free[low]) < lowest.free:
        model.lowest_overview = run.overview(low)


def _add_overview(model: LogModel, overview: HeapOverview) -> None:
    if not overview.partial:
        problem = overview_problem(overview)
        if problem is not None:
            model.impossible_rows += 1
            if model.impossible_first is None:
                model.impossible_first = (overview.line, problem)
            return
        if model.heap_series.starts_new(overview) or model.series_first is None:
            model.series_first = overview
            model.lowest_overview = None
    model.overviews.append(overview)
    lowest = model.lowest_overview
    if lowest is None or overview.free < lowest.free:
        model.lowest_overview = overview


#: One rule for the heap status, offline and live (``memsleuth.live.tracker`` folds it too).
add_overview = _add_overview
