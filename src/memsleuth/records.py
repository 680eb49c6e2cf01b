"""Typed records: the contract between parsing and analysis.

Parsers (``memsleuth.parse``) turn log lines into these records and know nothing of ELF
files; analyses (``memsleuth.analysis``) consume them. Every record carries ``line``, the
1-based line number in the source log where it starts, so reports can quote evidence, and
``ts``, the timestamp (seconds) taken from the line prefix when the log had one.

Addresses are plain ``int``. Sizes are bytes. Nothing here imports from other memsleuth
modules, so it can be read on its own.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Literal

# --------------------------------------------------------------------------------------------
# Heap overview (alios-formats.md §1): krhino_mm_overview / debug_mm_overview / show_mm ...

OverviewVariant = Literal[
    "H4", "H5a", "H5b", "show_mm", "show_mm2", "heap_prt", "stat",
    # other RTOS printers (parse/espidf.py, zephyr.py, nuttx.py, freertos.py)
    "heap_caps", "multi_heap_info", "sys_heap", "kernel_heap", "nuttx_meminfo",
    "freertos_heapstats", "freertos_free",
]


@dataclass(slots=True)
class PoolStats:
    """The [POOL] row: the fixed small-block pool, part of the heap."""

    size: int
    free: int
    used: int
    blk_size: int | None = None        # H4/H5a "BlkSz"
    min_free: int | None = None        # H5b "MinFreeSz"
    max_free_block: int | None = None  # H5a/H5b "MaxFreeBlkSz"


@dataclass(slots=True)
class HeapOverview:
    """One heap overview table: a point on the free-heap curve."""

    line: int
    variant: OverviewVariant
    total: int | None
    free: int
    used: int | None                    # None when the printer gives free heap only
    min_free: int | None = None         # low-water mark of free heap
    max_free_block: int | None = None   # largest free block (H5a/H5b only)
    pool: PoolStats | None = None
    ts: float | None = None
    partial: bool = False
    partial_reason: str | None = None
    #: True when printed inside a crash dump or block dump rather than on its own
    nested: bool = False


# --------------------------------------------------------------------------------------------
# Heap block dump (alios-formats.md §2)

BlockVariant = Literal[
    "B1", "B2", "B3", "BY", "mmlk", "error_blocks", "agent",
    # other RTOS printers: ESP-IDF heap_trace_dump, Zephyr chunk dump, NuttX /proc/memdump
    "heap_trace", "sys_heap", "nuttx_memdump",
]


@dataclass(slots=True)
class HeapBlock:
    """One line of a block dump: a heap block, its state and its owner."""

    line: int
    addr: int                     # header address (B1/B2/B3), user pointer (B-Y)
    used: bool
    size: int | None              # payload bytes; None for the region's sentinel block
    owner: int                    # return address of the allocating call; 0 = unknown
    sentinel: bool = False
    corrupted: bool = False       # '!' before the state: dye mismatch printed by the device
    dye: int | None = None        # raw dye when printed (B1/B2, or B3 when not OK)
    dye_ok: bool = True           # False when the dye is not the one expected for the state
    trace: tuple[int, ...] = ()   # multi-frame trace (t0 <- t1 <- ...), innermost first
    prev_free: int | None = None  # 'pre-free [addr];' B1/B2
    free_links: tuple[int, int] | None = None  # 'free[prev,next]' B1/B2
    pid: int | None = None        # allocating task (NuttX memdump)
    seq: int | None = None        # allocation sequence number (NuttX memdump)


@dataclass(slots=True)
class TaskAlloc:
    """A row of the 3.x 'task allocation statistic' table."""

    task: str
    prio: int
    stack_size: int
    heap_alloc: int


@dataclass(slots=True)
class BlockDump:
    """A full block dump: one snapshot of every heap block at one moment.

    ``blocks`` holds the "all memory blocks" list in physical order; ``free_list`` the
    blocks of the free-list section (which repeats free blocks already in ``blocks``).
    """

    line: int
    variant: BlockVariant
    index: int = 0                        # 0-based order of block dumps in the log
    end_line: int | None = None
    kmm_head: int | None = None
    blocks: list[HeapBlock] = field(default_factory=list)
    free_list: list[HeapBlock] = field(default_factory=list)
    alloc_size_stats: dict[int, int] = field(default_factory=dict)  # 2^N bucket -> count
    task_alloc: list[TaskAlloc] = field(default_factory=list)
    isr_alloc: int | None = None
    deleted_task_alloc: int | None = None
    overview: HeapOverview | None = None  # statistic section or nested heap table
    ts: float | None = None
    partial: bool = False
    partial_reason: str | None = None
    skipped_lines: int = 0                # foreign lines interleaved inside the section
    tag: int | None = None                # mmlk: the tag whose blocks are listed
    #: totals the device printed with the dump (e.g. heap_trace_dump's "'leaked' bytes",
    #: "total allocations"), by name: what the rows must add up to
    totals: dict[str, int] = field(default_factory=dict)
    #: blocks live on the device that this dump cannot list, and why: set by
    #: ``build_model`` from the agent's ``[MSAGENT]`` lines before the dump
    untracked: int = 0
    untracked_reason: str | None = None
    #: the dump lists live blocks only (the agent beside another allocator): 0 free blocks
    #: in it is not an empty free list
    live_only: bool = False


# --------------------------------------------------------------------------------------------
# Leak check, allocator warnings, user cycle markers


@dataclass(slots=True)
class LeakCandidate:
    """dump_mmleak: a used block no pointer refers to (addr is the user pointer)."""

    line: int
    addr: int
    owner: int
    size: int
    ts: float | None = None


WarningKind = Literal[
    "malloc_failed", "realloc_failed", "malloc_size_zero", "double_free",
    "corrupt", "overwritten", "nnext_overwritten",
]


@dataclass(slots=True)
class AllocWarning:
    """`WARNING, malloc failed!!!!` and the other allocator warnings."""

    line: int
    kind: WarningKind
    need: int | None = None          # requested size, when printed (3.x)
    free: int | None = None          # free size at the failure, when printed (3.x)
    addrs: tuple[int, ...] = ()      # block header addresses printed by 3.x warnings
    text: str = ""
    ts: float | None = None


@dataclass(slots=True)
class CycleMarker:
    """A user marker that starts a new test cycle (e.g. `reconnect 12`)."""

    line: int
    index: int | None
    text: str
    ts: float | None = None


# --------------------------------------------------------------------------------------------
# Kernel-object lifecycle trace (the device agent's format, docs/object-trace.md)


@dataclass(slots=True)
class ObjectEvent:
    """A kernel object was created or deleted."""

    line: int
    op: Literal["create", "delete"]
    kind: str                 # "timer", "sem", "queue", "task", "mutex", ...
    handle: int
    caller: int = 0           # return address of the create/delete call
    seq: int | None = None    # device sequence number, when printed
    name: str | None = None
    ts: float | None = None


#: the layout of one row of ``ObjectEventRun.packed`` (memsleuth/_scan.c, PackedEvent):
#: line, handle, caller, seq, kind id (an index into ``names``), 1 for create
PACKED_EVENT = struct.Struct("=qQQQII")


@dataclass(slots=True)
class ObjectEventRun:
    """Consecutive ``[MSOBJ]`` events in bulk (one record per stretch instead of one per
    event); only for callers that ask for them (``parse_file(objects="runs")``).
    ``events()`` gives the ObjectEvents they stand for.

    Two forms: the C scanner's ``packed`` rows (``PACKED_EVENT``, kinds by index into
    ``names``: paired in C without a Python object per event), or the pure-Python scanner's
    ``rows``, the regex's (op, kind, handle hex, caller hex, seq digits), on ``lines``."""

    lines: list[int] | None = None
    rows: list[tuple[str, str, str, str, str]] | None = None
    packed: bytes | None = None
    names: list[str] | None = None

    def __len__(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return len(self.packed or b"") // PACKED_EVENT.size

    def events(self) -> list[ObjectEvent]:
        if self.rows is not None:
            return [ObjectEvent(line, op, kind,  # type: ignore[arg-type]
                                int(handle, 16), int(caller, 16), int(seq), None, None)
                    for line, (op, kind, handle, caller, seq)
                    in zip(self.lines or (), self.rows, strict=True)]
        names = self.names or []
        return [ObjectEvent(line, "create" if create else "delete",  # type: ignore[arg-type]
                            names[kind], handle, caller, seq, None, None)
                for line, handle, caller, seq, kind, create
                in PACKED_EVENT.iter_unpack(self.packed or b"")]



@dataclass(slots=True)
class HeapRun:
    """Consecutive ``[MSCYCLE]`` markers and whole overview tables in columns, as the C
    scanner reads a stress log's idle stretches (one record per stretch instead of two per
    cycle); only for callers that ask for them (``parse_file(heap_runs=True)``).
    ``records()`` gives the CycleMarker, HeapOverview and ObjectEventRun records they stand
    for, in order.

    ``seq`` holds 0 per marker, 1 per table and 2 per run of object events (``packs``: when
    the caller takes ``ObjectEventRun`` records too, the events between the cycles) in log
    order; markers have ``m_line`` and
    ``m_index`` (their text is ``text[m_start[i]:m_end[i]]``); table k has ``t_line[k]`` and
    the row ``values[k * width:(k + 1) * width]``; ``cols`` says which value is total, free,
    used, low-water mark and largest free block (None: not printed); all tables of a run
    share the header, so one ``variant`` and ``nested``. The sequences are int64 views."""

    seq: bytes
    m_line: memoryview
    m_index: memoryview
    m_start: memoryview
    m_end: memoryview
    t_line: memoryview
    values: memoryview
    width: int
    cols: tuple[int | None, int, int, int | None, int | None]
    variant: OverviewVariant
    nested: bool
    text: str
    #: the C loop's (2, packed, names) items, one per run of events (``packs`` as records)
    raw_packs: list[tuple[int, bytes, list[str]]] = field(default_factory=list)
    _packs: list[ObjectEventRun] | None = field(default=None, repr=False, compare=False)
    _events: int | None = field(default=None, repr=False, compare=False)

    @property
    def packs(self) -> list[ObjectEventRun]:
        """The runs of object events as records, made on first use (the object ledger in C
        walks ``raw_packs`` and never needs them)."""
        if self._packs is None:
            self._packs = [ObjectEventRun(None, None, p[1], p[2])  # (positional: cheaper)
                           for p in self.raw_packs]
        return self._packs

    @property
    def markers(self) -> int:
        return len(self.m_line)

    @property
    def tables(self) -> int:
        return len(self.t_line)

    def overview(self, k: int) -> HeapOverview:
        """Table k as the record the line path gives."""
        row = self.values[k * self.width:(k + 1) * self.width]
        t, f, u, m, b = self.cols
        return HeapOverview(self.t_line[k], self.variant, None if t is None else row[t], row[f],
                            row[u], None if m is None else row[m], None if b is None else row[b],
                            None, None, False, None, self.nested)

    def marker(self, j: int) -> CycleMarker:
        return CycleMarker(self.m_line[j], self.m_index[j],
                           self.text[self.m_start[j]:self.m_end[j]], None)

    @property
    def events(self) -> int:
        """Object events in the run's packs."""
        if self._events is None:
            self._events = sum(len(p[1]) for p in self.raw_packs) // PACKED_EVENT.size
        return self._events

    def records(self) -> list[HeapOverview | CycleMarker | ObjectEventRun]:
        out: list[HeapOverview | CycleMarker | ObjectEventRun] = []
        j = k = e = 0
        packs = self.packs if self.raw_packs else []
        for kind in self.seq:
            if kind == 1:
                out.append(self.overview(k))
                k += 1
            elif kind == 0:
                out.append(self.marker(j))
                j += 1
            else:
                out.append(packs[e])
                e += 1
        return out

# --------------------------------------------------------------------------------------------
# Crash dumps (alios-formats.md §4)


@dataclass(slots=True)
class BacktraceEntry:
    """One `backtrace :` line; ``addr`` is already a call site (or the faulting PC first)."""

    line: int
    addr: int | None
    marker: str | None = None   # "task entry", "interrupt", "invalid pc", "fail"
    sp: int | None = None       # the frame's SP when printed (ESP-IDF 'PC:SP' pairs)
    #: how ``addr`` was obtained: "callsite" (already the call, e.g. ESP-IDF's ret-3),
    #: "return" (a return address: the call is before it), "pc" (exact)
    kind: str = "callsite"


@dataclass(slots=True)
class StackRow:
    """A stack-dump row: address and the words printed from it."""

    addr: int
    words: tuple[int, ...]


@dataclass(slots=True)
class TaskRow:
    """A row of the Task Info table (sizes in bytes) or a `tasklist` row."""

    name: str
    state: str
    prio: int
    stack_base: int | None
    stack_size: int | None
    min_free: int | None


@dataclass(slots=True)
class KobjRow:
    """A row of the Queue / Buf Queue / Sem / Mutex / Event tables."""

    table: str                  # "queue", "buf_queue", "sem", "sem_waiting", "mutex", "event"
    addr: int
    values: tuple[int, ...]
    waiting: tuple[str, ...] = ()
    owner: str | None = None    # mutex owner task


CrashKind = Literal["exception", "fatal_error", "stopped", "fiq", "abort", "assert", "excerpt"]


@dataclass(slots=True)
class CrashDump:
    """An exception or fatal-error dump, from the banner to `dump end` (or where it stops)."""

    line: int
    kind: CrashKind
    end_line: int | None = None
    crash_time: str | None = None
    current_task: str | None = None
    exception_type: str | None = None          # ARMv7-A "Exception Type:"
    registers: dict[str, int] = field(default_factory=dict)   # in printed order
    fault_registers: dict[str, int] = field(default_factory=dict)  # ARMv7-A Fault info
    stack: list[StackRow] = field(default_factory=list)
    backtrace: list[BacktraceEntry] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    kobjs: list[KobjRow] = field(default_factory=list)
    kobj_totals: dict[str, int] = field(default_factory=dict)   # 'Total: 0x..' per table
    heap: HeapOverview | None = None
    error_blocks: list[HeapBlock] = field(default_factory=list)
    errno: int | None = None
    file: str | None = None
    file_line: int | None = None
    stack_overflow_task: str | None = None     # "Task : %s  Stack Overflow!"
    reentered: bool = False                    # "......" re-entry marker seen
    sections: list[str] = field(default_factory=list)  # section names in printed order
    ts: float | None = None
    partial: bool = False
    partial_reason: str | None = None
    skipped_lines: int = 0
    #: the printer's own words for the cause (ESP-IDF "LoadProhibited", Zephyr "***** MPU
    #: FAULT *****" and its detail lines, an assertion message), in printed order
    reason: list[str] = field(default_factory=list)
    #: the log family that printed the dump ("alios", "esp-idf", "zephyr", "nuttx")
    family: str = "alios"
    #: the architecture the printer's format implies when no register names tell it
    #: (ESP-IDF's 'PC:SP' backtrace pairs are Xtensa's); None = decide from the registers
    arch: str | None = None


@dataclass(slots=True)
class LastWord:
    """The 3.x boot-time 'lastword' panic header."""

    line: int
    values: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Which build printed the log: compared with the ELF given to the PC side

BuildIdKind = Literal["gnu-build-id", "elf-sha256"]


@dataclass(slots=True)
class BuildId:
    """The firmware's identity as printed by the device.

    ``gnu-build-id``: the agent's ``[MSBUILD] <hex>`` line (the ELF's GNU build-id note,
    the whole descriptor in lowercase hex). ``elf-sha256``: ESP-IDF's boot line
    ``ELF file SHA256:  <hex>`` (a prefix of the SHA-256 of the ELF file).
    """

    line: int
    kind: BuildIdKind
    value: str            # lowercase hex, as printed (may be a prefix)
    ts: float | None = None


@dataclass(slots=True)
class Boot:
    """A boot banner (ESP ROM ``rst:0x..``, ESP-IDF's bootloader, ``*** Booting Zephyr OS``,
    ``NuttShell (NSH)``): the device started again here, so a heap curve across this line
    is two curves."""

    line: int
    text: str
    ts: float | None = None


# --------------------------------------------------------------------------------------------
# A task table printed on its own (AliOS `tasklist`), not inside a crash dump


@dataclass(slots=True)
class TaskList:
    """The `tasklist` command's table: every task's stack size and its low-water mark.

    ``unit`` is what the sizes count as printed: "words" (1.x/2.x print cpu_stack_t counts)
    or "bytes" (3.x); the headroom share needs no unit."""

    line: int
    tasks: list[TaskRow] = field(default_factory=list)
    unit: str = "words"
    end_line: int | None = None
    ts: float | None = None


# --------------------------------------------------------------------------------------------
# What the device agent says it could not record (docs/object-trace.md, section 6)

AgentNoticeKind = Literal["before-init", "table-full", "table-status", "bad-free", "set-full"]


@dataclass(slots=True)
class AgentNotice:
    """An ``[MSAGENT]`` line: the agent's own word that its record is incomplete.

    ``missed``: allocations it could not record (``before-init``: the count printed;
    ``table-status``: before init + table full, since init; else 0). ``tracked``: for
    ``table-status``, the live entries of the side table. ``side_table``: the agent runs
    beside another allocator (its dumps list live blocks only, no free blocks).
    """

    line: int
    kind: AgentNoticeKind
    text: str                       # the line after the tag, as printed
    missed: int = 0
    tracked: int | None = None
    unknown_frees: int = 0          # table-status: frees of blocks the table did not hold
    caller: int | None = None
    side_table: bool = False
    ts: float | None = None


Record = (
    HeapOverview | BlockDump | LeakCandidate | AllocWarning | CycleMarker | ObjectEvent
    | ObjectEventRun | HeapRun | CrashDump | LastWord | BuildId | TaskList | AgentNotice | Boot
)


# --------------------------------------------------------------------------------------------
# What the reader saw, beyond the records


@dataclass(slots=True)
class ParseStats:
    """Counters a parser fills while streaming; reports show them as the log's health."""

    lines: int = 0
    bytes: int = 0
    decode_errors: int = 0           # lines that were not valid UTF-8 (decoded with replacement)
    prefixed_lines: int = 0          # lines whose timestamp/tag prefix was stripped
    skipped_in_sections: int = 0     # foreign lines interleaved inside a section
    partial_sections: int = 0
    sections: dict[str, int] = field(default_factory=dict)  # section kind -> count
    line_records: dict[str, int] = field(default_factory=dict)  # line reader -> records
    #: which log formats were read: family -> reader -> count (filled when the parse ends)
    families: dict[str, dict[str, int]] = field(default_factory=dict)
    reader_errors: int = 0           # reader bugs caught by the driver (line dropped)
    #: lines that carried an object-trace tag but did not parse, per reader (e.g. two tasks'
    #: output on one line): filled when the parse ends
    damaged_lines: dict[str, int] = field(default_factory=dict)
    #: where cycles come from: {how: "detected"|"option"|"default", template, pattern, count}
    cycle_source: dict[str, object] | None = None
    #: object-trace line shapes learned without configuration ("timer create %p caller %p"
    #: -> lines read): filled when the parse ends
    object_shapes: dict[str, int] = field(default_factory=dict)
    #: byte offset where the user stopped reading (Ctrl-C): everything after it is unread
    interrupted_at: int | None = None
