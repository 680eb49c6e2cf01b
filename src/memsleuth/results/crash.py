"""`crash`: a crash dump explained: cause, call stack, task, stack health, heap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.records import CrashKind
from memsleuth.results.common import (
    BuildIdentity,
    CrashElfMatch,
    Document,
    InlineFrame,
    omitted,
)

CrashArch = Literal["cortex-m", "armv7-a", "xtensa", "riscv", "arm", "unknown"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """An address as plain data: outer function, innermost file:line, the inline chain;
    ``after_call``: the address follows a call instruction (null: not known, or no ELF)."""

    address: int
    kind: Literal["pc", "return", "callsite"]
    function: str | None
    file: str | None
    line: int | None
    symbol: str | None
    offset: int | None
    inlined: tuple[InlineFrame, ...]
    after_call: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFrame(Location):
    """One frame: ``log_line`` the line that printed it (source "backtrace"), ``sp`` the
    frame's SP when the device printed it (ESP-IDF PC:SP)."""

    source: Literal["backtrace", "pc", "lr", "heuristic"]
    log_line: int | None = omitted()
    sp: int | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStack:
    frames: tuple[CallFrame, ...]
    source: Literal["device", "registers", "heuristic", "none", "device+heuristic"]
    end: str | None             # the device backtrace's end marker (task entry, interrupt, ...)
    invalid_pc: tuple[int | None, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    category: str
    summary: str
    details: tuple[str, ...]
    fault_address: int | None
    fault_address_source: str | None
    null_offset: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultBit:
    register: str
    name: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExcReturn:
    value: int
    thread_mode: bool
    stack: Literal["PSP", "MSP"]
    fpu_frame: bool
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultStatus:
    """ARMv7-A DFSR/IFSR decoded."""

    value: int
    status: int
    format: Literal["short", "long"]
    text: str
    write: bool
    external: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ExcCause:
    value: int
    name: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MCause:
    value: int
    interrupt: bool
    code: int
    text: str | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class CortexMFault:
    """Cortex-M CFSR/HFSR/EXC_RETURN decoded."""

    arch: Literal["cortex-m"]
    bits: tuple[FaultBit, ...]
    fault_address: int | None
    fault_address_source: str | None
    profile: str
    exc_num: int | None = omitted()
    exc_name: str | None = omitted()
    exc_return: ExcReturn | None = omitted()
    bit_names: tuple[str, ...]
    category: str
    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmV7AFault:
    """ARMv7-A exception type, DFSR/IFSR and CPSR decoded."""

    arch: Literal["armv7-a"]
    exception_type: str
    bits: tuple[FaultBit, ...]
    fault_address: int | None
    fault_address_source: str | None
    dfsr: FaultStatus | None = omitted()
    ifsr: FaultStatus | None = omitted()
    category: str
    summary: str
    cpsr_mode: str | None = omitted()
    thumb: bool | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class XtensaFault:
    """Xtensa EXCCAUSE/EXCVADDR decoded."""

    arch: Literal["xtensa"]
    bits: tuple[FaultBit, ...]
    fault_address: int | None
    fault_address_source: str | None
    exccause: ExcCause | None = omitted()
    category: str
    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RiscvFault:
    """RISC-V mcause/mtval decoded."""

    arch: Literal["riscv"]
    bits: tuple[FaultBit, ...]
    fault_address: int | None
    fault_address_source: str | None
    mcause: MCause | None = omitted()
    category: str
    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherFault:
    """A dump without fault registers of a known architecture."""

    arch: str
    bits: tuple[FaultBit, ...]
    fault_address: int | None
    fault_address_source: str | None
    category: str
    summary: str


#: The architecture's decoding of the fault registers.
Fault = CortexMFault | ArmV7AFault | XtensaFault | RiscvFault | OtherFault


@dataclass(frozen=True, slots=True, kw_only=True)
class Errno:
    value: int
    name: str
    text: str
    category: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashContext:
    """The crashed task (SP inside its stack) or 'in interrupt', and how that was told
    (``current_task_line``: the dump's 'current task' when it names another task)."""

    sp: int | None
    sp_register: str
    in_interrupt: bool
    task: str | None
    how: str | None
    sp_outside_stack: bool
    current_task_line: str | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskHealth:
    name: str
    state: str
    prio: int
    stack_base: int | None
    stack_size: int | None
    min_free: int | None
    peak_used: int | None
    status: Literal["ok", "low", "critical", "overflow"]
    crashed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashHeapBlock:
    addr: int
    payload: int
    size: int | None
    used: bool
    owner: int
    corrupted: bool
    line: int
    owner_function: str | None = omitted()
    owner_where: str | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class HeapHit:
    """A register or the fault address pointing into a heap block, and what that means."""

    via: str
    address: int
    part: Literal["header", "payload"]
    block: CrashHeapBlock
    offset: int
    prev: CrashHeapBlock | None = omitted()
    next: CrashHeapBlock | None = omitted()
    diagnosis: Literal["overflow", "use_after_free", "corrupted_block", "in_block"]
    text: str
    culprit: CrashHeapBlock | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashHeap:
    source: str
    variant: str
    header_size: int
    hits: tuple[HeapHit, ...]
    corrupted_blocks: tuple[CrashHeapBlock, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Poison:
    register: str
    value: int
    pattern: int
    text: str
    category: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TopOwner:
    owner: int
    count: int
    total: int
    function: str | None
    where: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutOfMemory:
    """``failed_sizes``: the sizes the kept 'malloc failed' warnings asked for (the first 50
    and the newest since the previous crash); ``failed_total``: how many there were."""

    reason: str
    top_owners: tuple[TopOwner, ...]
    failed_sizes: tuple[int, ...]
    failed_total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashHeapOverview:
    total: int | None
    free: int
    used: int
    min_free: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashExplanation:
    """What ``analysis.crash.explain_crash`` returns."""

    line: int
    end_line: int | None
    kind: CrashKind
    arch: CrashArch
    #: the log family that printed it (alios, esp-idf, zephyr, nuttx) and the printer's own
    #: words for the cause ('LoadProhibited', '***** MPU FAULT *****' lines, an assertion)
    family: str
    reason: tuple[str, ...]
    partial: bool
    partial_reason: str | None
    crash_time: str | None
    current_task: str | None
    reentered: bool
    sections: tuple[str, ...]
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
    tasks: tuple[TaskHealth, ...]
    stack_warnings: tuple[str, ...]
    heap: CrashHeap | None
    poison: tuple[Poison, ...]
    oom: OutOfMemory | None
    heap_overview: CrashHeapOverview | None
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashInLog(CrashExplanation):
    """A crash as ``analyze`` and ``report`` explain it (with how many the log holds)."""

    crashes_in_log: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ExplainedCrash(CrashInLog):
    """One crash of `memsleuth crash`, with the ELF's fit to it."""

    elf_match: CrashElfMatch | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashSignature:
    """Crashes of one signature (the cause's category and the first frames without their
    addresses, as `fleet` groups them): how many, the first and the newest one's line."""

    signature: str
    category: str
    crashes: int
    first_line: int
    newest_line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashOutput(Document):
    """`memsleuth crash --json`: the newest crash (``--all``: every one up to 64, past that
    a sample: ``sampled``) explained, and the crashes per signature."""

    log: str
    elf: str | None
    total: int
    crashes: tuple[ExplainedCrash, ...]
    elf_identity: BuildIdentity | None     # the printed build id's word (null without --elf)
    #: ``--all`` on a log of more than 64 crashes: ``crashes`` is the first, the newest, the
    #: first of every signature and an evenly spaced sample (``total`` counts all)
    sampled: bool
    #: every distinct signature (up to 256; ``signatures_other`` counts the crashes of
    #: further ones), most frequent first; each one's first crash is in ``crashes`` (--all)
    signatures: tuple[CrashSignature, ...]
    signatures_other: int
