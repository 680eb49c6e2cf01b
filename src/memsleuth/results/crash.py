"""`crash`: a crash dump explained: cause, call stack, task, stack health, heap."""

from typing import Literal, TypedDict

from memsleuth.records import CrashKind
from memsleuth.results.common import BuildIdentity, CrashElfMatch, Envelope, InlineFrame

CrashArch = Literal["cortex-m", "armv7-a", "xtensa", "riscv", "arm", "unknown"]


class _LocationOptional(TypedDict, total=False):
    after_call: bool | None     # when symbolized: the address follows a call instruction


class Location(_LocationOptional):
    """An address as plain data: outer function, innermost file:line, the inline chain."""

    address: int
    kind: Literal["pc", "return", "callsite"]
    function: str | None
    file: str | None
    line: int | None
    symbol: str | None
    offset: int | None
    inlined: list[InlineFrame]


class _CallFrameOptional(TypedDict, total=False):
    log_line: int               # source "backtrace": the log line that printed it
    sp: int                     # the frame's SP, when the device printed it (ESP-IDF PC:SP)


class CallFrame(Location, _CallFrameOptional):
    source: Literal["backtrace", "pc", "lr", "heuristic"]


class CallStack(TypedDict):
    frames: list[CallFrame]
    source: Literal["device", "registers", "heuristic", "none", "device+heuristic"]
    end: str | None             # the device backtrace's end marker (task entry, interrupt, ...)
    invalid_pc: list[int | None]


class Cause(TypedDict):
    category: str
    summary: str
    details: list[str]
    fault_address: int | None
    fault_address_source: str | None
    null_offset: int | None


class FaultBit(TypedDict):
    register: str
    name: str
    text: str


class ExcReturn(TypedDict):
    value: int
    thread_mode: bool
    stack: Literal["PSP", "MSP"]
    fpu_frame: bool
    text: str


class FaultStatus(TypedDict):
    """ARMv7-A DFSR/IFSR decoded."""

    value: int
    status: int
    format: Literal["short", "long"]
    text: str
    write: bool
    external: bool


class ExcCause(TypedDict):
    value: int
    name: str
    text: str


class _MCauseOptional(TypedDict, total=False):
    text: str


class MCause(_MCauseOptional):
    value: int
    interrupt: bool
    code: int


class _FaultOptional(TypedDict, total=False):
    # cortex-m
    profile: str
    exc_num: int
    exc_name: str
    exc_return: ExcReturn
    bit_names: list[str]
    # armv7-a
    exception_type: str
    dfsr: FaultStatus
    ifsr: FaultStatus
    cpsr_mode: str
    thumb: bool
    # xtensa, riscv
    exccause: ExcCause
    mcause: MCause


class Fault(_FaultOptional):
    """The architecture's decoding of the fault registers."""

    arch: str
    bits: list[FaultBit]
    fault_address: int | None
    fault_address_source: str | None
    category: str
    summary: str


class Errno(TypedDict):
    value: int
    name: str
    text: str
    category: str


class _ContextOptional(TypedDict, total=False):
    current_task_line: str      # the dump's 'current task' when it names another task


class CrashContext(_ContextOptional):
    """The crashed task (SP inside its stack) or 'in interrupt', and how that was told."""

    sp: int | None
    sp_register: str
    in_interrupt: bool
    task: str | None
    how: str | None
    sp_outside_stack: bool


class TaskHealth(TypedDict):
    name: str
    state: str
    prio: int
    stack_base: int | None
    stack_size: int | None
    min_free: int | None
    peak_used: int | None
    status: Literal["ok", "low", "critical", "overflow"]
    crashed: bool


class _HeapBlockOptional(TypedDict, total=False):
    owner_function: str | None
    owner_where: str | None


class CrashHeapBlock(_HeapBlockOptional):
    addr: int
    payload: int
    size: int | None
    used: bool
    owner: int
    corrupted: bool
    line: int


class _HeapHitOptional(TypedDict, total=False):
    prev: CrashHeapBlock
    next: CrashHeapBlock
    culprit: CrashHeapBlock


class HeapHit(_HeapHitOptional):
    """A register or the fault address pointing into a heap block, and what that means."""

    via: str
    address: int
    part: Literal["header", "payload"]
    block: CrashHeapBlock
    offset: int
    diagnosis: Literal["overflow", "use_after_free", "corrupted_block", "in_block"]
    text: str


class CrashHeap(TypedDict):
    source: str
    variant: str
    header_size: int
    hits: list[HeapHit]
    corrupted_blocks: list[CrashHeapBlock]


class Poison(TypedDict):
    register: str
    value: int
    pattern: int
    text: str
    category: str


class TopOwner(TypedDict):
    owner: int
    count: int
    total: int
    function: str | None
    where: str | None


class OutOfMemory(TypedDict):
    reason: str
    top_owners: list[TopOwner]
    failed_sizes: list[int]


class CrashHeapOverview(TypedDict):
    total: int | None
    free: int
    used: int
    min_free: int | None


class CrashExplanation(TypedDict):
    """What ``analysis.crash.explain_crash`` returns."""

    line: int
    end_line: int | None
    kind: CrashKind
    arch: CrashArch
    #: the log family that printed it (alios, esp-idf, zephyr, nuttx) and the printer's own
    #: words for the cause ('LoadProhibited', '***** MPU FAULT *****' lines, an assertion)
    family: str
    reason: list[str]
    partial: bool
    partial_reason: str | None
    crash_time: str | None
    current_task: str | None
    reentered: bool
    sections: list[str]
    cause: Cause
    fault: Fault
    errno: Errno | None
    file: str | None
    file_line: int | None
    registers: dict[str, int]
    fault_registers: dict[str, int]
    faulting: CallFrame | None
    faulting_note: str | None
    faulting_function: str | None
    faulting_where: str | None
    call_stack: CallStack
    context: CrashContext
    tasks: list[TaskHealth]
    stack_warnings: list[str]
    heap: CrashHeap | None
    poison: list[Poison]
    oom: OutOfMemory | None
    heap_overview: CrashHeapOverview | None
    notes: list[str]


class ExplainedCrash(CrashExplanation):
    """One crash of `memsleuth crash`, with the ELF's fit to it."""

    elf_match: CrashElfMatch | None


class CrashInLog(CrashExplanation):
    """A crash as ``analyze`` and ``report`` explain it (with how many the log holds)."""

    crashes_in_log: int


class CrashOutput(Envelope):
    """`memsleuth crash --json`: the newest crash (``--all``: every one) explained."""

    log: str
    elf: str | None
    total: int
    crashes: list[ExplainedCrash]
    elf_identity: BuildIdentity | None     # the printed build id's word (null without --elf)
